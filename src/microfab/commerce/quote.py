"""A localized quote: the customer's price in their currency and tax, and what each candidate site would cost.

`quote` is pure: a function of the network (sites, lanes, modules, rates, trade data), the
product and configuration, the market, the moment, and the three independent choices of the
buyer: ``locale`` (language and formatting), ``currency`` (ISO 4217) and ``tax_jurisdiction``
(``US-OH``, ``MX``, ``DE`` …). The list price is converted once at a locked FX rate, rounded to
the currency's minor unit, multiplied by the quantity, and only then taxed — with the
jurisdiction's rounding rule and the rate in force on the day for the product's tax category.
The chosen site is the eligible one with the lowest landed cost (then the earliest delivery).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from microfab.commerce.fx import FxLock, lock_rate
from microfab.commerce.locale import ChosenLocale, choose_locale
from microfab.commerce.offers import OfferInputs, SiteOffer, ineligible_offer, site_offer
from microfab.commerce.tax import TaxLine, tax_line
from microfab.domain.costing import site_options
from microfab.domain.errors import NoEligibleSiteError
from microfab.domain.network import Market, Network
from microfab.domain.products import Configuration, ProductTemplate
from microfab.domain.quantities import Money, check_currency
from microfab.domain.trade import PriceDisplay, TaxJurisdiction


@dataclass(frozen=True, slots=True)
class Quote:
    """A priced, localized offer for *quantity* units, valid until ``valid_until``.

    ``net`` is the line's net amount (unit price x quantity), ``tax`` the tax line on it,
    ``shown`` the amount the buyer sees as the price (tax-inclusive where the law wants
    consumer prices that way), ``offers`` one `SiteOffer` per site with ``chosen`` among them.
    """

    product: str
    product_version: str
    config: dict[str, str | int | bool]
    quantity: int
    market: str
    locale: ChosenLocale
    currency: str
    tax_jurisdiction: str
    b2b: bool
    at: datetime
    valid_until: datetime
    fx: FxLock
    unit_net: Money
    tax: TaxLine
    display: PriceDisplay
    offers: tuple[SiteOffer, ...]
    chosen: SiteOffer
    tax_name: str = ""
    buyer_zone: str = "UTC"

    @property
    def net(self) -> Money:
        """Net amount of the line."""
        return self.tax.net

    @property
    def gross(self) -> Money:
        """Net plus tax."""
        return self.tax.gross

    @property
    def shown(self) -> Money:
        """The price as the buyer's law wants it shown: gross when tax-inclusive, else net."""
        return self.gross if self.display == PriceDisplay.INCLUSIVE else self.net

    @property
    def unit_price(self) -> Money:
        """Net price of one unit (what orders record)."""
        return self.unit_net

    @property
    def total(self) -> Money:
        """Net amount of the line (what orders record)."""
        return self.net

    @property
    def fx_rate(self) -> Decimal:
        """The locked rate from the list currency to the quote currency."""
        return self.fx.rate

    @property
    def warnings(self) -> tuple[str, ...]:
        """What the buyer asked for that could not be honoured (an unknown locale)."""
        return (self.locale.warning,) if self.locale.warning else ()

    @property
    def margin(self) -> Money | None:
        """Net revenue minus the chosen site's landed cost."""
        landed = self.chosen.landed_cost
        return None if landed is None else self.net - landed


def quote(  # noqa: PLR0913 - the order, then the buyer's independent choices, all by keyword
    product: ProductTemplate,
    config: Configuration,
    quantity: int,
    market: Market,
    *,
    network: Network,
    at: datetime,
    locale: str | None = None,
    currency: str | None = None,
    tax_jurisdiction: str | None = None,
    b2b: bool = False,
    buyer_zone: str | None = None,
) -> Quote:
    """Quote *quantity* units of *product* configured as *config* to a buyer in *market* at time *at*.

    Parameters
    ----------
    locale, currency, tax_jurisdiction
        The buyer's choices; each defaults to the market's. An unknown locale falls back to
        the market's with a warning (`Quote.warnings`); an unknown currency raises.
    b2b
        A business buyer: prices shown per the jurisdiction's ``b2b`` display rule.
    buyer_zone
        IANA zone for the delivery date (default: the market's).

    Raises
    ------
    ValueError
        A quantity below 1, an unknown currency, a naive *at*.
    InvalidConfigurationError
        An option or value the product does not offer (rules are the configurator's:
        `microfab.control.orders` checks them before quoting).
    NoFxRateError
        No rate converts the list currency to the quote currency on that day.
    NoTaxRateError
        The jurisdiction is not declared or has no rate in force for the product's category.
    NoEligibleSiteError
        No site has every capability and an open lane to the market.
    """
    if quantity < 1:
        raise ValueError(f"quantity: expected >= 1, got {quantity}")
    if at.tzinfo is None:
        raise ValueError("at: expected a timezone-aware time")
    target = check_currency((currency or market.currency).upper())
    full = product.configure(config)
    fx = lock_rate(
        network.fx, product.currency, target, at=at, validity=timedelta(seconds=network.quote_validity.seconds)
    )
    unit_net = fx.convert(product.unit_price(full))
    jurisdiction = _jurisdiction(network, tax_jurisdiction or market.tax_jurisdiction)
    taxed = _tax(jurisdiction, unit_net * quantity, product.tax_category, at)
    inputs = OfferInputs(
        network=network,
        product=product,
        config=full,
        quantity=quantity,
        at=at,
        currency=target,
        destination=jurisdiction,
        market_country=market.country,
        buyer_zone=buyer_zone or market.timezone,
        net=taxed.net,
        bom=product.bom_for(full),
        steps=product.routing_for(full),
    )
    offers = _offers(inputs, market)
    return Quote(
        product=product.name,
        product_version=product.version,
        config=full,
        quantity=quantity,
        market=market.name,
        locale=choose_locale(locale, market.locale),
        currency=target,
        tax_jurisdiction=jurisdiction.code if jurisdiction else (tax_jurisdiction or market.tax_jurisdiction),
        b2b=b2b,
        at=at,
        valid_until=fx.valid_until,
        fx=fx,
        unit_net=unit_net,
        tax=taxed,
        display=jurisdiction.display(b2b) if jurisdiction else PriceDisplay.EXCLUSIVE,
        offers=offers,
        chosen=_choose(offers, product.name, market.name),
        tax_name=jurisdiction.tax_name if jurisdiction else "",
        buyer_zone=buyer_zone or market.timezone,
    )


def _jurisdiction(network: Network, code: str) -> TaxJurisdiction | None:
    """The declared jurisdiction; None only when the network declares no tax data at all."""
    if not network.trade.tax.jurisdictions:
        return None
    return network.trade.tax.resolve(code)


def _tax(jurisdiction: TaxJurisdiction | None, net: Money, category: str, at: datetime) -> TaxLine:
    if jurisdiction is None:
        return TaxLine.untaxed(category, net)
    return tax_line(net, jurisdiction, category, at.date())


def _offers(inputs: OfferInputs, market: Market) -> tuple[SiteOffer, ...]:
    network = inputs.network
    options = site_options(network, inputs.product.name, inputs.config, inputs.quantity, market.name)
    return tuple(site_offer(inputs, o) if o.eligible else ineligible_offer(network, o) for o in options)


def _choose(offers: tuple[SiteOffer, ...], product: str, market: str) -> SiteOffer:
    eligible = [o for o in offers if o.eligible]
    if not eligible:
        reasons = "; ".join(f"{o.site}: {o.reason}" for o in offers) or "the network has no sites"
        raise NoEligibleSiteError(f"no site can serve market {market!r} with {product!r}: {reasons}")

    def key(offer: SiteOffer) -> tuple[Decimal, datetime, str]:
        assert offer.landed_cost is not None and offer.lead_time is not None
        return (offer.landed_cost.amount, offer.lead_time.delivery, offer.site)

    return min(eligible, key=key)

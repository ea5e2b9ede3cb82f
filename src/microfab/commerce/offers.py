"""What each candidate site would cost to serve a quote: landed cost, lead time, origin and claims.

Landed cost = materials + production (machine time) + freight + duties the site pays on its
imported components + duty on the finished good entering the market + import VAT where we
are the importer (cross-border deliveries are delivered duty paid). Internal figures are in the
network's base currency; each is converted once into the quote currency at the rate table's
rate of the day. Duties are assessed in the importing territory's currency on its customs
value basis (US: FOB; EU and JP: CIF).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from microfab.commerce.claims import Claim, determine_claims
from microfab.commerce.leadtime import LeadTime, lead_time, production_days_for
from microfab.commerce.origin import OriginResult, determine_origin
from microfab.commerce.origin_case import Good, Material, OriginCase, ProcessStep
from microfab.commerce.tariffs import DutyAssessment, assess_duty, component_duties, customs_value, import_vat
from microfab.domain.costing import SiteOption
from microfab.domain.network import Network, RateTable, Site
from microfab.domain.products import BomItem, Operation, ProductTemplate
from microfab.domain.quantities import Money
from microfab.domain.trade import TaxJurisdiction, TradeAgreement


@dataclass(frozen=True, slots=True)
class SiteOffer:
    """One candidate site: what it costs us to deliver the quote from there, when, and with which origin.

    Every money field is in the quote currency. ``reason`` is set (and the figures are None)
    when the site cannot serve the order at all.
    """

    site: str
    country: str
    lane: str | None
    reason: str | None = None
    materials: Money | None = None
    production: Money | None = None
    freight: Money | None = None
    component_duty: DutyAssessment | None = None
    import_duty: DutyAssessment | None = None
    import_vat: Money | None = None
    lead_time: LeadTime | None = None
    origin: OriginResult | None = None  # None when the product declares no HS code
    agreement: str | None = None
    claims: tuple[Claim, ...] = ()

    @property
    def eligible(self) -> bool:
        """Whether the site can make and ship the order."""
        return self.reason is None

    @property
    def duty(self) -> Money | None:
        """Component duties plus the duty on the finished good, in the quote currency."""
        if self.component_duty is None or self.import_duty is None or self.materials is None:
            return None
        currency = self.materials.currency
        return _in(self.component_duty.total, currency) + _in(self.import_duty.total, currency)

    @property
    def landed_cost(self) -> Money | None:
        """Materials + production + freight + duties + import VAT."""
        parts = (self.materials, self.production, self.freight, self.duty, self.import_vat)
        if any(p is None for p in parts):
            return None
        total = parts[0]
        for part in parts[1:]:
            total = total + part  # type: ignore[operator]
        return total

    @property
    def label_country(self) -> str | None:
        """The country a "Made in …" label may name: the non-preferential origin (indication, human review)."""
        return self.origin.non_preferential_origin if self.origin else None


def _in(money: Money, currency: str) -> Money:
    if money.currency != currency:  # pragma: no cover - offers convert duties before storing them
        raise ValueError(f"duty in {money.currency}, expected {currency}")
    return money


@dataclass(frozen=True, slots=True)
class OfferInputs:
    """What every site's offer shares: the order, the day, and the rates to convert with."""

    network: Network
    product: ProductTemplate
    config: dict[str, str | int | bool]
    quantity: int
    at: datetime
    currency: str
    destination: TaxJurisdiction | None
    market_country: str
    buyer_zone: str
    net: Money  # the customer's net price in the quote currency (the transaction value)
    bom: tuple[BomItem, ...]
    steps: tuple[Operation, ...]

    @property
    def day(self) -> date:
        """The quote's calendar day (UTC), for rates in force."""
        return self.at.date()

    def convert(self, money: Money, currency: str) -> Money:
        """Convert once at the day's table rate, rounded half-up to the target's minor unit."""
        return convert(self.network.fx, money, currency, self.day)


def convert(fx: RateTable, money: Money, currency: str, day: date) -> Money:
    """*money* in *currency* at the rate in force on *day*, rounded half-up to the minor unit."""
    if money.currency == currency:
        return money
    return Money(money.amount * fx.rate(money.currency, currency, on=day), currency).quantize("ROUND_HALF_UP")


def site_offer(inputs: OfferInputs, option: SiteOption) -> SiteOffer:
    """The full offer of one eligible site (*option* from `microfab.domain.costing.site_options`)."""
    network = inputs.network
    site = network.site(option.site)
    assert option.production_cost and option.freight_cost and option.work and option.lead_time and option.lane
    materials_base = _sum((item.cost for item in inputs.bom), inputs.product.currency) * inputs.quantity
    case = _origin_case(inputs, site, option) if inputs.product.hs_code else None
    origin, agreement = _origin(inputs, site, case) if case is not None else (None, None)
    originating = (agreement,) if origin is not None and origin.originating and agreement else ()
    freight = inputs.convert(option.freight_cost, inputs.currency)
    components = _component_duties(inputs, site)
    duty, vat = _import(inputs, site, freight, originating)
    days = production_days_for(option.work)
    timing = lead_time(
        inputs.at,
        site_country=site.country,
        site_subdivision=site.subdivision,
        site_zone=site.timezone,
        production_days=days,
        transit=option.lead_time,
        buyer_zone=inputs.buyer_zone,
    )
    return SiteOffer(
        site=site.name,
        country=site.country,
        lane=option.lane,
        materials=inputs.convert(materials_base, inputs.currency),
        production=inputs.convert(option.production_cost, inputs.currency),
        freight=freight,
        component_duty=components,
        import_duty=duty,
        import_vat=vat,
        lead_time=timing,
        origin=origin,
        agreement=agreement,
        claims=determine_claims(case, network.trade.claims) if case is not None else (),
    )


def ineligible_offer(network: Network, option: SiteOption) -> SiteOffer:
    """An offer that only says why the site cannot serve the order."""
    site = network.site(option.site)
    return SiteOffer(site.name, site.country, option.lane, option.reason or "not eligible")


def _sum(amounts: Iterable[Money], currency: str) -> Money:
    total = Money.zero(currency)
    for item in amounts:
        total = total + item
    return total.quantize()


def _origin_case(inputs: OfferInputs, site: Site, option: SiteOption) -> OriginCase:
    """The origin input for one unit made at *site*, in the network's base currency."""
    base = inputs.network.base_currency
    materials = tuple(
        Material(
            item=i.item,
            value=inputs.convert(i.cost, base).amount,
            origin=i.origin or None,
            hs=i.hs_code,
            indirect=i.flags.indirect,
            essential=i.flags.essential,
            unavailable_domestically=i.flags.unavailable_domestically,
        )
        for i in inputs.bom
    )
    steps = tuple(
        ProcessStep(s.name, site.country, s.origin.confers_origin, s.origin.significant, s.origin.essential)
        for s in inputs.steps
    )
    assert option.production_cost is not None
    unit_tv = inputs.convert(inputs.net, base).amount / inputs.quantity
    conversion = option.production_cost.amount / inputs.quantity
    net_cost = sum((m.value for m in materials), Decimal(0)) + conversion
    good = Good(inputs.product.hs_code, unit_tv, net_cost, base)
    return OriginCase(good, materials, steps, inputs.market_country)


def _origin(inputs: OfferInputs, site: Site, case: OriginCase) -> tuple[OriginResult, str | None]:
    """Origin under the first agreement between the site's and the market's country that confers it."""
    agreements: Sequence[TradeAgreement] = inputs.network.trade.agreements_between(
        site.country, inputs.market_country, inputs.day
    )
    result = determine_origin(case, None)
    for agreement in agreements:
        result = determine_origin(case, agreement)
        if result.originating:
            return result, agreement.name
    return result, agreements[0].name if agreements else None


def _component_duties(inputs: OfferInputs, site: Site) -> DutyAssessment:
    """Duties the site pays importing its BOM components, in the quote currency."""
    trade = inputs.network.trade
    schedule = trade.tariff_for(site.country)
    currency = schedule.currency if schedule else inputs.currency
    materials = [
        (i.item, i.hs_code, i.origin or None, inputs.convert(i.cost * inputs.quantity, currency), i.flags.preferential)
        for i in inputs.bom
    ]
    assessed = component_duties(schedule, materials, site.country, inputs.day, trade.agreements, currency=currency)
    return assessed.converted(lambda m: inputs.convert(m, inputs.currency))


def _import(
    inputs: OfferInputs, site: Site, freight: Money, originating: tuple[str, ...]
) -> tuple[DutyAssessment, Money]:
    """Duty and import VAT on the finished good entering the market (nothing when made in the market)."""
    zero = Money.zero(inputs.currency).quantize()
    trade = inputs.network.trade
    schedule = trade.tariff_for(inputs.market_country)
    if site.country == inputs.market_country or schedule is None:
        return DutyAssessment((), zero), zero
    value = customs_value(
        inputs.convert(inputs.net, schedule.currency), inputs.convert(freight, schedule.currency), schedule.basis
    )
    duty = assess_duty(
        schedule,
        inputs.product.hs_code,
        site.country,
        value,
        inputs.day,
        originating_under=originating,
        agreements=trade.agreements,
    )
    vat = zero
    if inputs.destination is not None and inputs.destination.import_vat:
        line = import_vat(value, duty.total, inputs.destination, inputs.product.tax_category, inputs.day)
        vat = inputs.convert(line.tax, inputs.currency)
    return duty.converted(lambda m: inputs.convert(m, inputs.currency)), vat

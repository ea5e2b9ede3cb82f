"""A quote as the buyer reads it: every label translated, every figure formatted for the buyer's locale.

`quote_view` turns a `~microfab.commerce.Quote` into plain strings (a `QuoteView`) that the CLI
prints as tables and the web pages render; nothing here computes a price.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from microfab.commerce import Quote, SiteOffer
from microfab.domain.entities import Brand
from microfab.domain.quantities import Money
from microfab.domain.trade import PriceDisplay
from microfab.l10n import format as fmt
from microfab.l10n.languages import translations

_Gettext = Callable[[str], str]


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark for extraction only"
    """Mark *message* for the catalogs without translating it here."""
    return message


CLAIM_LABELS = {
    ("ftc-made-in-usa", "unqualified_candidate"): N_("Made in USA: unqualified claim possible"),
    ("ftc-made-in-usa", "qualified_only"): N_("Made in USA: qualified claim only"),
    ("ftc-made-in-usa", "not_allowed"): N_("Made in USA: no claim"),
    ("california-made-in-usa", "allowed"): N_("Made in USA (California): allowed"),
    ("california-made-in-usa", "not_allowed"): N_("Made in USA (California): not allowed"),
    ("made-in-germany", "allowed"): N_("Made in Germany: allowed"),
    ("made-in-germany", "not_allowed"): N_("Made in Germany: not allowed"),
}
"""A claim's name and status → its label (other claims show their raw name and status)."""

LABELS = {
    ("ftc-made-in-usa", "unqualified_candidate"): N_("Made in USA"),
    ("ftc-made-in-usa", "qualified_only"): N_("Made in USA with imported materials"),
    ("made-in-germany", "allowed"): N_("Made in Germany"),
}
"""The claims whose status lets the portal print a "Made in …" label, and the label."""

NEGATIVE = frozenset({"not_allowed"})


@dataclass(frozen=True, slots=True)
class OfferRow:
    """One candidate site, formatted."""

    site: str
    made_in: str
    production: str
    freight: str
    duty: str
    import_vat: str
    landed_cost: str
    delivery: str
    origin: str
    claims: str
    chosen: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class QuoteView:
    """Every string a quote shows, in the buyer's language and formats."""

    language: str
    locale: str
    title: str
    lines: tuple[tuple[str, str], ...]
    price_label: str
    price: str
    tax_note: str
    delivery: str
    label: str | None
    notices: tuple[str, ...]
    headers: tuple[str, ...]
    offers: tuple[OfferRow, ...]
    brand: Brand | None = None


def quote_view(quote: Quote, *, product_label: str | None = None, brand: Brand | None = None) -> QuoteView:
    """Translate and format *quote* for its locale, from the market's *brand* (see `brand_for`)."""
    tag = quote.locale.tag
    t = translations(quote.locale.language)
    _ = t.gettext
    chosen = quote.chosen
    assert chosen.lead_time is not None
    days = chosen.lead_time.production_days
    delivery = _("Delivery by %(date)s") % {"date": fmt.day(chosen.lead_time.delivery_date, tag)}
    delivery += " · " + t.ngettext(
        "%(num)d business day of production", "%(num)d business days of production", days
    ) % {"num": days}
    notices = [_("Origin and claims are indications computed from our data; a person signs them off.")]
    if quote.warnings:
        notices.insert(
            0,
            _("The language you asked for is not available; this quote is in %(language)s.")
            % {"language": fmt.language_name(tag)},
        )
    return QuoteView(
        language=quote.locale.language,
        locale=tag,
        title=_("Quote for %(product)s") % {"product": product_label or quote.product},
        lines=_lines(quote, _),
        price_label=_price_label(quote, _),
        price=fmt.money(quote.shown, tag),
        tax_note=_tax_note(quote, _),
        delivery=delivery,
        label=_made_in(chosen, tag, _),
        notices=tuple(notices),
        headers=(
            _("Site"),
            _("Made in"),
            _("Production"),
            _("Freight"),
            _("Duty"),
            _("Import VAT"),
            _("Landed cost"),
            _("Delivery"),
            _("Origin"),
            _("Claims"),
        ),
        offers=tuple(_row(o, o is chosen, tag, _) for o in quote.offers),
        brand=brand,
    )


def brand_for(brands: Mapping[str, Brand], language: str, default_locale: str) -> Brand | None:
    """The market's brand for *language* (``de`` matches ``de-DE``), else its default locale's, else none."""
    for tag, brand in brands.items():
        if tag.split("-")[0] == language:
            return brand
    return brands.get(default_locale)


def _lines(quote: Quote, _: _Gettext) -> tuple[tuple[str, str], ...]:
    tag = quote.locale.tag
    rate = quote.fx
    lines = [
        (_("Quantity"), fmt.number(quote.quantity, tag)),
        (_("Unit price (net)"), fmt.money(quote.unit_net, tag)),
        (_("Net amount"), fmt.money(quote.net, tag)),
        (
            _("%(tax)s (%(rate)s)")
            % {"tax": quote.tax_name or _("Tax"), "rate": fmt.percent(quote.tax.rate.rate, tag)},
            fmt.money(quote.tax.tax, tag),
        ),
        (_("Total"), fmt.money(quote.gross, tag)),
        (_("Valid until"), fmt.day(_local_date(quote.valid_until, quote), tag)),
    ]
    if rate.base != rate.quote:
        lines.append(
            (
                _("Exchange rate"),
                _("1 %(base)s = %(rate)s %(quote)s (%(source)s, %(date)s)")
                % {
                    "base": rate.base,
                    "rate": fmt.number(rate.rate, tag),
                    "quote": rate.quote,
                    "source": rate.source,
                    "date": fmt.day(rate.as_of, tag, "short"),
                },
            )
        )
    return tuple(lines)


def _local_date(moment: datetime, quote: Quote) -> date:
    return moment.astimezone(ZoneInfo(quote.buyer_zone)).date()


def _price_label(quote: Quote, _: _Gettext) -> str:
    if quote.display == PriceDisplay.INCLUSIVE:
        return _("Price incl. %(tax)s") % {"tax": quote.tax_name or _("Tax")}
    return _("Price excl. %(tax)s") % {"tax": quote.tax_name or _("Tax")}


def _tax_note(quote: Quote, _: _Gettext) -> str:
    tag = quote.locale.tag
    values = {"tax": quote.tax_name or _("Tax"), "rate": fmt.percent(quote.tax.rate.rate, tag)}
    if quote.display == PriceDisplay.INCLUSIVE:
        return _("includes %(rate)s %(tax)s: %(amount)s") % {**values, "amount": fmt.money(quote.tax.tax, tag)}
    return _("plus %(rate)s %(tax)s: %(amount)s") % {**values, "amount": fmt.money(quote.tax.tax, tag)}


def _made_in(offer: SiteOffer, tag: str, _: _Gettext) -> str | None:
    """A "Made in …" label only where a claim for that country holds, or the marking indication elsewhere."""
    for claim in offer.claims:
        label = LABELS.get((claim.name, claim.status))
        if label is not None:
            return _(label)
    if offer.country in ("US", "DE"):
        return None  # a claim for the US or Germany needs the claim, not only the marking
    origin = offer.label_country
    return _("Made in %(country)s") % {"country": fmt.country(origin, tag)} if origin else None


def _row(offer: SiteOffer, chosen: bool, tag: str, _: _Gettext) -> OfferRow:
    made_in = fmt.country(offer.country, tag)
    if not offer.eligible:
        dash = "–"
        return OfferRow(offer.site, made_in, dash, dash, dash, dash, dash, dash, dash, dash, False, offer.reason or "")
    assert offer.lead_time is not None and offer.landed_cost is not None
    return OfferRow(
        site=offer.site,
        made_in=made_in,
        production=_m(offer.production, tag),
        freight=_m(offer.freight, tag),
        duty=_m(offer.duty, tag),
        import_vat=_m(offer.import_vat, tag),
        landed_cost=_m(offer.landed_cost, tag),
        delivery=fmt.day(offer.lead_time.delivery_date, tag, "medium"),
        origin=_origin(offer, _),
        claims=_claims(offer, _),
        chosen=chosen,
    )


def _claims(offer: SiteOffer, _: _Gettext) -> str:
    """The claims that hold, plus the FTC status of a site in the US (whatever it is)."""
    shown = [
        _(CLAIM_LABELS.get((c.name, c.status), f"{c.name}: {c.status}"))
        for c in offer.claims
        if c.status not in NEGATIVE or (c.name == "ftc-made-in-usa" and offer.country == "US")
    ]
    return "; ".join(shown) or "–"


def _origin(offer: SiteOffer, _: _Gettext) -> str:
    if offer.origin is None or offer.agreement is None:
        return _("domestic") if offer.import_duty is not None and not offer.import_duty.lines else _("no agreement")
    if offer.origin.originating:
        return _("originating under %(agreement)s") % {"agreement": offer.agreement}
    return _("not originating under %(agreement)s") % {"agreement": offer.agreement}


def _m(value: Money | None, tag: str) -> str:
    return "–" if value is None else fmt.money(value, tag)

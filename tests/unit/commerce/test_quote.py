"""The localized quote: convert once, round, then tax; per-site landed cost, lead time, origin; five markets."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from microfab.commerce import quote
from microfab.domain.errors import InvalidConfigurationError, NoEligibleSiteError, NoFxRateError
from microfab.domain.network import Network
from microfab.domain.quantities import Money
from microfab.domain.trade import NoTaxRateError, PriceDisplay
from microfab.l10n.quote_view import quote_view
from microfab.manifests import load_network
from tests.support.network import tiny_network

EXAMPLES = Path(__file__).parents[3] / "examples" / "network"
AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday; Thanksgiving is the next day


@cache
def demo() -> Network:
    return load_network(EXAMPLES)


def _quote(market: str, quantity: int = 1, product: str = "laptop-stand", **choices: object):  # type: ignore[no-untyped-def]
    net = demo()
    return quote(net.product(product), {}, quantity, net.market(market), network=net, at=AT, **choices)  # type: ignore[arg-type]


def test_without_trade_data_the_quote_is_untaxed_and_converted_once() -> None:
    net = tiny_network()
    q = quote(net.product("stand"), {"finish": "anodized"}, 3, net.market("de"), network=net, at=AT)
    # (89 + 12) USD x 0.92 = 92.92 EUR a unit; the line is the rounded unit price x 3.
    assert q.unit_price == Money(Decimal("92.92"), "EUR")
    assert q.total == Money(Decimal("278.76"), "EUR")
    assert q.tax.tax == Money(Decimal("0.00"), "EUR")
    assert q.fx_rate == Decimal("0.92")
    assert q.config == {"finish": "anodized"}


def test_germany_converts_rounds_then_taxes_and_shows_consumers_the_gross() -> None:
    q = _quote("de", 2)
    # 89 USD x 0.92 = 81.88 EUR; x 2 = 163.76; USt 19 % = 31.1144 -> 31.11 (half up); gross 194.87.
    assert q.unit_net == Money(Decimal("81.88"), "EUR")
    assert q.net == Money(Decimal("163.76"), "EUR")
    assert q.tax.tax == Money(Decimal("31.11"), "EUR")
    assert q.gross == Money(Decimal("194.87"), "EUR")
    assert q.display == PriceDisplay.INCLUSIVE
    assert q.shown == q.gross
    assert q.chosen.site == "bavaria"


def test_a_german_business_sees_net_prices() -> None:
    q = _quote("de", b2b=True)
    assert q.display == PriceDisplay.EXCLUSIVE
    assert q.shown == q.net


def test_japan_rounds_yen_half_up_then_cuts_tax_fractions() -> None:
    q = _quote("jp", 3)
    # 89 x 149.20 = 13,278.8 -> 13,279 JPY (no minor unit); x 3 = 39,837; 10 % = 3,983.7 -> 3,983 (rounding: down).
    assert q.unit_net == Money(Decimal("13279"), "JPY")
    assert q.tax.tax == Money(Decimal("3983"), "JPY")
    assert q.gross == Money(Decimal("43820"), "JPY")


def test_vietnam_taxes_metal_products_at_10_percent_and_other_goods_at_the_temporary_8() -> None:
    stand = _quote("vn")
    # 89 x 25,480 = 2,267,720 VND; metal products keep 10 %: 226,772.
    assert stand.tax.tax == Money(Decimal("226772"), "VND")
    shelf = _quote("vn", product="shelving-unit")
    assert shelf.tax.rate.rate == Decimal("0.08")
    # The temporary rate ends on 31 Dec 2026: on 4 Jan 2027 the same shelf pays 10 %.
    net = demo()
    later = quote(
        net.product("shelving-unit"), {}, 1, net.market("vn"), network=net, at=datetime(2027, 1, 4, 3, tzinfo=UTC)
    )
    assert later.tax.rate.rate == Decimal("0.10")


def test_us_sales_tax_is_by_destination_and_shown_as_its_own_line() -> None:
    columbus = _quote("us")
    assert columbus.tax_jurisdiction == "US-OH-FRANKLIN"
    assert columbus.tax.tax == Money(Decimal("7.12"), "USD")  # 89.00 x 8 %
    assert columbus.display == PriceDisplay.EXCLUSIVE
    nyc = _quote("us", tax_jurisdiction="US-NY-NYC")
    assert nyc.tax.tax == Money(Decimal("7.90"), "USD")  # 89.00 x 8.875 % = 7.89875 -> 7.90
    # A county without its own row falls back to its state: Delaware County, Ohio pays 5.75 %.
    delaware = _quote("us", tax_jurisdiction="US-OH-DELAWARE")
    assert delaware.tax.tax == Money(Decimal("5.12"), "USD")  # 5.1175 -> 5.12
    with pytest.raises(NoTaxRateError, match="US-WA"):
        _quote("us", tax_jurisdiction="US-WA")


def test_locale_currency_and_jurisdiction_are_independent() -> None:
    q = _quote("us", currency="EUR", locale="de-DE")
    assert q.currency == "EUR"
    assert q.unit_net == Money(Decimal("81.88"), "EUR")
    assert q.tax_jurisdiction == "US-OH-FRANKLIN"  # still taxed where the goods go
    assert q.locale.tag == "de-DE"
    assert not q.warnings
    assert quote_view(q).price == "81,88\xa0€"


def test_an_unknown_locale_falls_back_to_the_market_with_a_warning() -> None:
    q = _quote("mx", locale="xx-NOPE")
    assert q.locale.tag == "es-MX"
    assert q.warnings
    assert "xx-NOPE" in q.warnings[0]


def test_an_unknown_currency_or_a_missing_rate_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        _quote("de", currency="XYZ")
    with pytest.raises(NoFxRateError, match="GBP"):
        _quote("de", currency="GBP")


def test_the_fx_rate_is_locked_with_its_source_and_a_validity_window() -> None:
    q = _quote("jp")
    assert (q.fx.base, q.fx.quote, q.fx.rate, q.fx.source) == ("USD", "JPY", Decimal("149.20"), "BoJ reference")
    assert q.valid_until == AT + timedelta(hours=72)


def test_every_site_is_costed_and_the_cheapest_landed_one_is_chosen() -> None:
    q = _quote("us")
    offers = {o.site: o for o in q.offers}
    assert q.chosen.site == "ohio"
    eligible = [o for o in q.offers if o.eligible]
    assert all(o.landed_cost is not None for o in eligible)
    assert q.chosen.landed_cost == min(o.landed_cost for o in eligible)  # type: ignore[type-var]
    for offer in eligible:
        assert offer.landed_cost == (
            offer.materials + offer.production + offer.freight + offer.duty + offer.import_vat  # type: ignore[operator]
        )
    # Monterrey's stand originates under USMCA, so the IEEPA duty on Mexican goods is exempt,
    # but Section 232 on aluminium derivatives is not.
    monterrey = offers["monterrey"]
    assert monterrey.agreement == "USMCA"
    assert monterrey.origin is not None
    assert monterrey.origin.originating
    assert monterrey.import_duty is not None
    names = {d.name: d for d in monterrey.import_duty.lines}
    assert names["IEEPA (Mexico)"].exempt
    assert not names["Section 232 (aluminium derivatives)"].exempt
    # Made at home: no import duty, no import VAT.
    assert offers["ohio"].import_duty is not None
    assert offers["ohio"].import_duty.lines == ()


def test_a_cross_border_offer_into_a_vat_country_pays_import_vat() -> None:
    q = _quote("jp")
    vietnam = next(o for o in q.offers if o.site == "vietnam")
    assert vietnam.import_vat is not None
    assert vietnam.import_vat.amount > 0
    assert vietnam.agreement == "CPTPP"


def test_ohio_earns_a_qualified_made_in_usa_claim_only() -> None:
    q = _quote("us")
    claims = {c.name: c.status for c in q.chosen.claims}
    # Canadian aluminium and Chinese hardware are more than the 2 % policy share of the cost.
    assert claims["ftc-made-in-usa"] == "qualified_only"
    assert quote_view(q).label == "Made in USA with imported materials"


def test_lead_time_skips_thanksgiving_at_the_ohio_site() -> None:
    q = _quote("us")
    timing = q.chosen.lead_time
    assert timing is not None
    # Wed 25 Nov 05:00 in Ohio (before the cutoff) is day 1; Thanksgiving (26th) is skipped; day 2 is
    # Fri 27th, shipped at 17:00; the lane takes 2 days: Sun 29 Nov 17:00 in New York.
    assert timing.ship_date.isoformat() == "2026-11-27"
    assert timing.delivery.isoformat() == "2026-11-29T17:00:00-05:00"
    assert any(name.startswith("Thanksgiving") for _, name in timing.holidays_skipped)


def test_five_markets_render_with_their_own_symbols_separators_decimals_and_tax_display() -> None:
    shown = {m: quote_view(_quote(m)) for m in ("us", "mx", "de", "jp", "vn")}
    assert shown["us"].price == "$89.00"  # ex tax ...
    assert "Sales tax" in shown["us"].tax_note  # ... with the tax as its own line
    assert shown["mx"].price == "$1,904.78"  # 1,642.05 MXN + 16 % IVA, inclusive
    assert shown["de"].price == "97,44\xa0€"
    assert shown["jp"].price == "￥14,606"  # 13,279 + 1,327 (10 %, cut)
    assert shown["vn"].price == "2.494.492\xa0₫"
    assert (shown["de"].language, shown["jp"].language) == ("de", "ja")


def test_bad_input_raises_before_anything_is_computed() -> None:
    net = demo()
    with pytest.raises(ValueError, match="quantity"):
        quote(net.product("laptop-stand"), {}, 0, net.market("de"), network=net, at=AT)
    with pytest.raises(ValueError, match="timezone-aware"):
        quote(net.product("laptop-stand"), {}, 1, net.market("de"), network=net, at=datetime(2026, 11, 25))
    with pytest.raises(InvalidConfigurationError, match="raw, anodized"):
        quote(net.product("laptop-stand"), {"finish": "gold"}, 1, net.market("de"), network=net, at=AT)


def test_no_eligible_site_says_why_for_each() -> None:
    tiny = tiny_network()
    net = replace(tiny, lanes={name: lane for name, lane in tiny.lanes.items() if lane.market != "de"})
    with pytest.raises(NoEligibleSiteError, match="bavaria: no open lane to market de; ohio: no open lane"):
        quote(net.product("stand"), {}, 1, net.market("de"), network=net, at=AT)

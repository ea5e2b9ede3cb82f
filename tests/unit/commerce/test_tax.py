"""Consumption tax as data: rates by category and date, rounding per jurisdiction, legal price display.

Every jurisdiction is built here from data, as a manifest would declare it; the expected
amounts are worked by hand in the comments.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from microfab.commerce.fx import lock_rate
from microfab.commerce.tax import (
    PriceView,
    TaxLine,
    displayed_price,
    percent,
    price_view,
    tax_document,
    tax_line,
    tax_line_from_gross,
)
from microfab.domain.errors import CurrencyMismatchError
from microfab.domain.network import FxRate, RateTable
from microfab.domain.quantities import Money
from microfab.domain.trade import (
    ANY,
    NoTaxRateError,
    Period,
    PriceDisplay,
    Rounding,
    RoundingLevel,
    TaxJurisdiction,
    TaxRate,
    TaxTable,
)

D = Decimal
DAY = date(2026, 11, 25)
INCL, EXCL = PriceDisplay.INCLUSIVE, PriceDisplay.EXCLUSIVE


def money(amount: str, currency: str) -> Money:
    return Money(D(amount), currency)


MX = TaxJurisdiction("MX", "IVA", (TaxRate(ANY, D("0.16")),), display_b2c=INCL)
MX_BORDER = TaxJurisdiction("MX-BORDER", "IVA", (TaxRate(ANY, D("0.08"), label="border zone"),), display_b2c=INCL)
DE = TaxJurisdiction("DE", "USt", (TaxRate(ANY, D("0.19")), TaxRate("reduced", D("0.07"))), display_b2c=INCL)
JP = TaxJurisdiction(
    "JP",
    "consumption tax",
    (TaxRate(ANY, D("0.10")), TaxRate("reduced", D("0.08"))),
    display_b2c=INCL,
    rounding=Rounding.DOWN,
    rounding_level=RoundingLevel.DOCUMENT,
)
VN = TaxJurisdiction(
    "VN",
    "VAT",
    (
        TaxRate(ANY, D("0.10"), Period(date(2014, 1, 1), date(2025, 6, 30))),
        TaxRate(ANY, D("0.08"), Period(date(2025, 7, 1), date(2026, 12, 31)), note="temporary cut"),
        TaxRate(ANY, D("0.10"), Period(date(2027, 1, 1))),
        TaxRate("metal-products", D("0.10"), label="excluded from the 8 % cut"),
    ),
)
US = TaxTable(
    {
        "US-OH": TaxJurisdiction("US-OH", "sales tax", (TaxRate(ANY, D("0.0575")),)),
        "US-OH-FRANKLIN": TaxJurisdiction("US-OH-FRANKLIN", "sales tax", (TaxRate(ANY, D("0.08")),)),
        "US-OR": TaxJurisdiction("US-OR", "sales tax", (TaxRate(ANY, D(0)),)),
    }
)


# --------------------------------------------------------------------------------------- one line


def test_mexico_standard_and_border_zone() -> None:
    # 1,000.00 MXN x 16 % = 160.00; in the border zone x 8 % = 80.00.
    line = tax_line(money("1000.00", "MXN"), MX, "general", DAY)
    assert (line.tax, line.gross) == (money("160.00", "MXN"), money("1160.00", "MXN"))
    assert tax_line(money("1000.00", "MXN"), MX_BORDER, "general", DAY).tax == money("80.00", "MXN")


def test_germany_standard_and_reduced_half_up() -> None:
    # 92.92 EUR x 19 % = 17.6548 -> 17.65; gross 110.57.  10.05 EUR x 7 % = 0.7035 -> 0.70.
    line = tax_line(money("92.92", "EUR"), DE, "general", DAY)
    assert (line.rate.rate, line.tax, line.gross) == (D("0.19"), money("17.65", "EUR"), money("110.57", "EUR"))
    assert tax_line(money("10.05", "EUR"), DE, "reduced", DAY).tax == money("0.70", "EUR")
    # 1.50 EUR x 7 % = 0.105 -> half-up 0.11 (half-even would give 0.10).
    assert tax_line(money("1.50", "EUR"), DE, "reduced", DAY).tax == money("0.11", "EUR")


@pytest.mark.parametrize(
    ("rounding", "net", "tax"),
    [
        (Rounding.HALF_UP, "1.25", "0.13"),  # 1.25 x 10 % = 0.125
        (Rounding.HALF_EVEN, "1.25", "0.12"),
        (Rounding.DOWN, "1.29", "0.12"),  # 0.129
        (Rounding.UP, "1.21", "0.13"),  # 0.121
    ],
)
def test_the_rounding_mode_is_the_jurisdictions(rounding: Rounding, net: str, tax: str) -> None:
    place = TaxJurisdiction("XK", "VAT", (TaxRate(ANY, D("0.10")),), rounding=rounding)
    assert tax_line(money(net, "EUR"), place, "general", DAY).tax == money(tax, "EUR")


def test_vietnam_category_is_per_product_and_the_cut_ends() -> None:
    net = money("1000000", "VND")
    # 25 Nov 2026: the temporary 8 % for general goods, but metal products are excluded: 10 %.
    assert tax_line(net, VN, "metal-products", DAY).tax == money("100000", "VND")
    assert tax_line(net, VN, "general", DAY).tax == money("80000", "VND")
    # 1 Jan 2027: the cut has ended, both pay 10 %.
    assert tax_line(net, VN, "metal-products", date(2027, 1, 1)).tax == money("100000", "VND")
    assert tax_line(net, VN, "general", date(2027, 1, 1)).tax == money("100000", "VND")
    # 30 Jun 2025: before the cut.
    assert tax_line(net, VN, "general", date(2025, 6, 30)).rate.rate == D("0.10")


def test_us_sales_tax_by_destination_state_and_locality() -> None:
    net = money("49.99", "USD")
    # Franklin County, OH (Columbus): 8.0 % combined -> 3.9992 -> 4.00.
    assert tax_line(net, US.resolve("US-OH-FRANKLIN"), "general", DAY).tax == money("4.00", "USD")
    # A county without its own row falls back to the state: 5.75 % -> 2.874425 -> 2.87.
    assert tax_line(net, US.resolve("US-OH-DELAWARE"), "general", DAY).tax == money("2.87", "USD")
    # Oregon has no sales tax.
    oregon = tax_line(net, US.resolve("US-OR"), "general", DAY)
    assert (oregon.tax, oregon.gross) == (money("0.00", "USD"), net)


def test_tax_needs_an_amount_in_minor_units_and_a_rate() -> None:
    with pytest.raises(ValueError, match=r"net: 100\.5 JPY has more than 0 decimals"):
        tax_line(money("100.5", "JPY"), JP, "general", DAY)
    with pytest.raises(ValueError, match=r"net: 9\.999 EUR has more than 2 decimals"):
        tax_line(money("9.999", "EUR"), DE, "general", DAY)
    with pytest.raises(NoTaxRateError, match="VN: no VAT rate for category 'general' on 2013-12-31"):
        tax_line(money("1", "VND"), VN, "general", date(2013, 12, 31))


def test_convert_once_round_then_tax() -> None:
    table = RateTable((FxRate("USD", "JPY", D("149.20"), date(2026, 11, 2), "BoJ reference"),))
    lock = lock_rate(table, "USD", "JPY", at=datetime(2026, 11, 25, tzinfo=UTC), validity=timedelta(hours=72))
    # 38.50 USD x 149.20 = 5,744.2 -> 5,744 JPY; 10 % = 574.4 -> 574 (JP rounds down); gross 6,318.
    line = tax_line(lock.convert(money("38.50", "USD")), JP, "general", DAY)
    assert (line.net, line.tax, line.gross) == (money("5744", "JPY"), money("574", "JPY"), money("6318", "JPY"))


def test_a_tax_inclusive_shelf_price_splits_into_net_and_tax() -> None:
    # 9.99 EUR incl. 19 %: tax = 9.99 x 0.19 / 1.19 = 1.59504... -> 1.60; net 8.39.
    # (Taxing 8.39 forward gives 1.59 and 9.98: the gross is kept, the net absorbs the cent.)
    line = tax_line_from_gross(money("9.99", "EUR"), DE, "general", DAY)
    assert (line.net, line.tax, line.gross) == (money("8.39", "EUR"), money("1.60", "EUR"), money("9.99", "EUR"))
    # 1,100 JPY incl. 10 %: tax = 100 exactly; 1,080 JPY incl. 8 %: tax = 80.
    assert tax_line_from_gross(money("1100", "JPY"), JP, "general", DAY).tax == money("100", "JPY")
    assert tax_line_from_gross(money("1080", "JPY"), JP, "reduced", DAY).net == money("1000", "JPY")


# -------------------------------------------------------------------------------------- documents


def jp_lines() -> list[tuple[str, Money]]:
    return [("reduced", money("105", "JPY"))] * 3 + [("general", money("1980", "JPY"))]


def test_japan_rounds_once_per_rate_on_a_qualified_invoice() -> None:
    # 8 %: 3 x 105 = 315 JPY; 315 x 0.08 = 25.2 -> 25 (round down once).
    # 10 %: 1,980 x 0.10 = 198.
    summary = tax_document(jp_lines(), JP, DAY)
    assert summary.level == RoundingLevel.DOCUMENT
    assert [(t.rate, t.categories, t.net, t.tax) for t in summary.by_rate] == [
        (D("0.10"), ("general",), money("1980", "JPY"), money("198", "JPY")),
        (D("0.08"), ("reduced",), money("315", "JPY"), money("25", "JPY")),
    ]
    assert (summary.net, summary.tax, summary.gross) == (
        money("2295", "JPY"),
        money("223", "JPY"),
        money("2518", "JPY"),
    )
    # The 25 JPY are allocated back to the lines by largest remainder (8.4 each: 8 + 8 + 8, one more yen to the
    # first), so the lines still add up to the per-rate total.
    assert [line.tax.amount for line in summary.lines] == [9, 8, 8, 198]


def test_line_rounding_of_the_same_invoice_is_one_yen_less() -> None:
    # Each 105 JPY line: 8.4 -> 8, so 3 x 8 = 24 JPY instead of 25.
    summary = tax_document(jp_lines(), replace(JP, rounding_level=RoundingLevel.LINE), DAY)
    assert summary.by_rate[1].tax == money("24", "JPY")
    assert summary.tax == money("222", "JPY")
    assert [line.tax.amount for line in summary.lines] == [8, 8, 8, 198]


def test_document_rounding_allocates_several_units() -> None:
    # 7 x 13 JPY at 10 % half-up: 91 x 0.10 = 9.1 -> 9 JPY; lines 1.3 each -> 1 each (7), 2 more yen to the
    # first two lines (all remainders tie at 0.3, so the earlier lines win).
    place = replace(JP, rounding=Rounding.HALF_UP)
    summary = tax_document([("general", money("13", "JPY"))] * 7, place, DAY)
    assert summary.tax == money("9", "JPY")
    assert [line.tax.amount for line in summary.lines] == [2, 2, 1, 1, 1, 1, 1]


def test_document_rounding_of_a_credit_note() -> None:
    # -315 JPY at 8 % = -25.2 -> -25 (down = toward zero); lines -8.4 -> -8 each, one more -1 to the first.
    lines = [("reduced", money("-105", "JPY"))] * 3
    summary = tax_document(lines, JP, DAY)
    assert summary.tax == money("-25", "JPY")
    assert [line.tax.amount for line in summary.lines] == [-9, -8, -8]


def test_a_vietnamese_invoice_splits_by_rate() -> None:
    lines = [("metal-products", money("2000000", "VND")), ("general", money("500000", "VND"))]
    summary = tax_document(lines, VN, DAY)
    # Metal: 2,000,000 x 10 % = 200,000; general: 500,000 x 8 % = 40,000.
    assert [(t.rate, t.tax.amount) for t in summary.by_rate] == [(D("0.10"), 200000), (D("0.08"), 40000)]
    assert summary.gross == money("2740000", "VND")


def test_a_document_needs_lines_in_one_currency() -> None:
    with pytest.raises(CurrencyMismatchError, match="cannot combine EUR with USD"):
        tax_document([("general", money("1", "EUR")), ("general", money("1", "USD"))], DE, DAY)
    with pytest.raises(ValueError, match="lines: expected at least one line"):
        tax_document([], DE, DAY)


def test_two_categories_at_one_rate_share_a_rate_total() -> None:
    place = TaxJurisdiction(
        "DE", "USt", (TaxRate(ANY, D("0.19")), TaxRate("books", D("0.07")), TaxRate("food", D("0.07")))
    )
    summary = tax_document([("food", money("10.00", "EUR")), ("books", money("20.00", "EUR"))], place, DAY)
    assert [(t.categories, t.tax) for t in summary.by_rate] == [(("books", "food"), money("2.10", "EUR"))]


# ---------------------------------------------------------------------------------------- display


def de_line() -> TaxLine:
    return tax_line(money("92.92", "EUR"), DE, "general", DAY)


def test_displayed_price_follows_the_display_rule() -> None:
    assert displayed_price(de_line(), INCL) == money("110.57", "EUR")
    assert displayed_price(de_line(), EXCL) == money("92.92", "EUR")


def test_german_consumers_see_tax_included_businesses_see_it_apart() -> None:
    consumer = price_view(de_line(), DE, b2b=False)
    assert consumer == PriceView(money("110.57", "EUR"), True, False, money("17.65", "EUR"), "USt", D(19))
    business = price_view(de_line(), DE, b2b=True)
    assert (business.shown, business.tax_included, business.separate_tax_line) == (money("92.92", "EUR"), False, True)


def test_japanese_consumers_see_the_total_price() -> None:
    view = price_view(tax_line(money("1000", "JPY"), JP, "reduced", DAY), JP, b2b=False)
    assert (view.shown, view.tax_included, view.rate_percent) == (money("1080", "JPY"), True, D(8))


def test_us_prices_are_shown_ex_tax_with_tax_as_its_own_line() -> None:
    franklin = US.resolve("US-OH-FRANKLIN")
    view = price_view(tax_line(money("49.99", "USD"), franklin, "general", DAY), franklin, b2b=False)
    assert view == PriceView(money("49.99", "USD"), False, True, money("4.00", "USD"), "sales tax", D(8))


def test_percent_reads_like_a_label() -> None:
    assert [str(percent(D(s))) for s in ("0.19", "0.10", "0.0575", "0", "0.085")] == ["19", "10", "5.75", "0", "8.5"]


def test_an_untaxed_line() -> None:
    line = TaxLine.untaxed("general", money("10.00", "USD"))
    assert (line.rate.rate, line.rate.label, line.tax, line.gross) == (D(0), "untaxed", money("0", "USD"), line.net)

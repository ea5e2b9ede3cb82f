"""Trade data: periods, tax rates with effective dates, tariff lines, extra duties, agreements."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal

import pytest

from microfab.domain.trade import (
    ALWAYS,
    ANY,
    Combine,
    CustomsBasis,
    ExtraDuty,
    NoTaxRateError,
    OriginRule,
    Period,
    PriceDisplay,
    Rounding,
    ShiftLevel,
    TariffLine,
    TariffSchedule,
    TaxJurisdiction,
    TaxRate,
    TaxTable,
    TradeAgreement,
    TradeRules,
    ValueMethod,
    check_no_overlap,
    hs_digits,
    jurisdiction_country,
)

D = Decimal


# --------------------------------------------------------------------------------------- periods


def test_period_contains_is_inclusive_and_open_ended() -> None:
    vn_cut = Period(date(2025, 7, 1), date(2026, 12, 31))
    assert vn_cut.contains(date(2025, 7, 1))
    assert vn_cut.contains(date(2026, 12, 31))
    assert not vn_cut.contains(date(2025, 6, 30))
    assert not vn_cut.contains(date(2027, 1, 1))
    assert Period(date(2027, 1, 1)).contains(date(2999, 1, 1))
    assert ALWAYS.contains(date(1900, 1, 1))
    assert str(vn_cut) == "2025-07-01..2026-12-31"
    assert str(Period(date(2027, 1, 1))) == "2027-01-01.."


def test_a_period_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="until: 2025-01-01 is before from 2025-02-01"):
        Period(date(2025, 2, 1), date(2025, 1, 1))
    assert Period(date(2025, 2, 1), date(2025, 2, 1)).contains(date(2025, 2, 1))  # one day


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        (Period(date(2025, 1, 1), date(2025, 6, 30)), Period(date(2025, 7, 1)), False),  # back to back
        (Period(date(2025, 1, 1), date(2025, 7, 1)), Period(date(2025, 7, 1)), True),  # one shared day
        (Period(date(2025, 1, 1)), Period(date(2030, 1, 1)), True),  # open-ended swallows the later one
        (Period(date(2030, 1, 1)), Period(date(2025, 1, 1), date(2029, 12, 31)), False),
        (Period(date(2025, 3, 1), date(2025, 3, 31)), Period(date(2025, 1, 1), date(2025, 12, 31)), True),
    ],
)
def test_overlaps_is_symmetric(a: Period, b: Period, overlap: bool) -> None:
    assert a.overlaps(b) is overlap
    assert b.overlaps(a) is overlap


def test_check_no_overlap_compares_only_the_same_key() -> None:
    first, second = Period(date(2025, 1, 1), date(2025, 12, 31)), Period(date(2025, 6, 1))
    check_no_overlap("rates", [("*", first), ("reduced", second)])
    with pytest.raises(ValueError, match=r"rates: '\*' has overlapping effective dates 2025-01-01..2025-12-31"):
        check_no_overlap("rates", [("*", first), ("*", second)])


# ------------------------------------------------------------------------------------------- tax


def vietnam() -> TaxJurisdiction:
    """VAT 10 %, cut to 8 % from 1 Jul 2025 to 31 Dec 2026 except for listed sectors (metal products)."""
    return TaxJurisdiction(
        "VN",
        "VAT",
        (
            TaxRate(ANY, D("0.10"), Period(date(2014, 1, 1), date(2025, 6, 30))),
            TaxRate(ANY, D("0.08"), Period(date(2025, 7, 1), date(2026, 12, 31)), note="temporary cut"),
            TaxRate(ANY, D("0.10"), Period(date(2027, 1, 1))),
            TaxRate("metal-products", D("0.10"), label="excluded from the cut"),
        ),
    )


@pytest.mark.parametrize(
    ("category", "day", "rate"),
    [
        ("general", date(2025, 6, 30), "0.10"),
        ("general", date(2025, 7, 1), "0.08"),
        ("general", date(2026, 11, 25), "0.08"),
        ("metal-products", date(2026, 11, 25), "0.10"),  # the category's own row wins over '*'
        ("general", date(2026, 12, 31), "0.08"),
        ("general", date(2027, 1, 1), "0.10"),
        ("metal-products", date(2027, 1, 1), "0.10"),
    ],
)
def test_rate_for_uses_the_category_then_the_wildcard_by_date(category: str, day: date, rate: str) -> None:
    assert vietnam().rate_for(category, day).rate == D(rate)


def test_a_category_row_out_of_force_falls_back_to_the_wildcard() -> None:
    de = TaxJurisdiction(
        "DE",
        "USt",
        (TaxRate(ANY, D("0.19")), TaxRate("reduced", D("0.05"), Period(date(2020, 7, 1), date(2020, 12, 31)))),
    )
    assert de.rate_for("reduced", date(2020, 8, 1)).rate == D("0.05")
    assert de.rate_for("reduced", date(2021, 1, 1)).rate == D("0.19")


def test_no_rate_in_force_names_jurisdiction_category_and_day() -> None:
    jp = TaxJurisdiction("JP", "consumption tax", (TaxRate("reduced", D("0.08"), Period(date(2019, 10, 1))),))
    with pytest.raises(NoTaxRateError, match="JP: no consumption tax rate for category 'standard' on 2026-11-02"):
        jp.rate_for("standard", date(2026, 11, 2))
    with pytest.raises(LookupError):
        jp.rate_for("reduced", date(2019, 9, 30))


def test_jurisdiction_rejects_overlapping_rates_and_bad_codes() -> None:
    with pytest.raises(ValueError, match="rates: '\\*' has overlapping"):
        TaxJurisdiction("MX", "IVA", (TaxRate(ANY, D("0.16")), TaxRate(ANY, D("0.15"), Period(date(2010, 1, 1)))))
    with pytest.raises(ValueError, match="code"):
        TaxJurisdiction("1X", "IVA", ())
    with pytest.raises(ValueError, match="rate: expected a share"):
        TaxRate(ANY, D(16))


def test_jurisdiction_country_display_and_rounding_defaults() -> None:
    oh = TaxJurisdiction("US-OH-FRANKLIN", "sales tax", (TaxRate(ANY, D("0.08")),))
    assert oh.country == "US"
    assert jurisdiction_country("US-OH-FRANKLIN") == "US"
    assert oh.display(b2b=False) == oh.display(b2b=True) == PriceDisplay.EXCLUSIVE
    de = TaxJurisdiction("DE", "USt", (TaxRate(ANY, D("0.19")),), display_b2c=PriceDisplay.INCLUSIVE)
    assert de.display(b2b=False) == PriceDisplay.INCLUSIVE
    assert de.display(b2b=True) == PriceDisplay.EXCLUSIVE
    modes = [r.decimal_mode for r in Rounding]
    assert modes == [ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_DOWN, ROUND_UP]


def test_tax_table_falls_back_to_the_nearest_parent() -> None:
    oh = TaxJurisdiction("US-OH", "sales tax", (TaxRate(ANY, D("0.0575")),))
    franklin = TaxJurisdiction("US-OH-FRANKLIN", "sales tax", (TaxRate(ANY, D("0.08")),))
    table = TaxTable({"US-OH": oh, "US-OH-FRANKLIN": franklin})
    assert table.resolve("US-OH-FRANKLIN") is franklin
    assert table.resolve("us-oh-franklin") is franklin
    assert table.resolve("US-OH-DELAWARE") is oh  # no locality row: the state's rate
    with pytest.raises(
        NoTaxRateError, match="no tax jurisdiction 'US-CA' is declared \\(declared: US-OH, US-OH-FRANKLIN\\)"
    ):
        table.resolve("US-CA")
    with pytest.raises(NoTaxRateError, match="declared: none"):
        TaxTable().resolve("DE")


def test_tax_table_keys_match_whatever_their_case() -> None:
    # Manifests key jurisdictions by their lowercase resource name ("us-oh"); codes are uppercase.
    oh = TaxJurisdiction("US-OH", "sales tax", (TaxRate(ANY, D("0.0575")),))
    table = TaxTable({"us-oh": oh})
    assert table.resolve("US-OH-FRANKLIN") is oh
    assert table.resolve("us-oh") is oh


# --------------------------------------------------------------------------------------- tariffs


def us_schedule() -> TariffSchedule:
    return TariffSchedule(
        "US HTS",
        ("US",),
        CustomsBasis.FOB,
        (
            TariffLine(ANY, D("0.05")),
            TariffLine("76", D("0.03")),
            TariffLine("7606.12", D("0.03")),
            TariffLine("7616.99", D("0.025"), Period(date(2020, 1, 1), date(2026, 12, 31))),
            TariffLine("7616.99", D("0.02"), Period(date(2027, 1, 1))),
        ),
    )


@pytest.mark.parametrize(
    ("hs", "day", "prefix", "mfn"),
    [
        ("7616.99.5190", date(2026, 11, 2), "7616.99", "0.025"),  # longest prefix
        ("7616.99.5190", date(2027, 1, 1), "7616.99", "0.02"),  # the line in force that day
        ("7610.90", date(2026, 11, 2), "76", "0.03"),  # the chapter line
        ("9403.20", date(2026, 11, 2), ANY, "0.05"),  # the catch-all
    ],
)
def test_mfn_line_takes_the_longest_prefix_in_force(hs: str, day: date, prefix: str, mfn: str) -> None:
    line = us_schedule().mfn_line(hs, day)
    assert line is not None
    assert (line.hs, line.mfn) == (prefix, D(mfn))


def test_mfn_line_is_none_without_a_match_and_lines_must_not_overlap() -> None:
    schedule = TariffSchedule("JP", ("JP",), CustomsBasis.CIF, (TariffLine("7616", D(0)),), currency="JPY")
    assert schedule.mfn_line("9403.20", date(2026, 1, 1)) is None
    with pytest.raises(ValueError, match="lines: '7616' has overlapping"):
        TariffSchedule("JP", ("JP",), CustomsBasis.CIF, (TariffLine("7616", D(0)), TariffLine("76.16", D("0.01"))))


def test_hs_digits() -> None:
    assert hs_digits("7606.12") == "760612"
    assert hs_digits(ANY) == ANY


def test_extra_duty_applies_by_prefix_origin_and_period() -> None:
    s232 = ExtraDuty("Section 232 aluminum", D("0.25"), hs=("7601", "7616.99"), period=Period(date(2025, 3, 12)))
    day = date(2026, 11, 2)
    assert s232.applies("7616.99.5190", "MX", day)
    assert s232.applies("7601.10", "CN", day)
    assert not s232.applies("7610.90", "MX", day)  # not a listed prefix
    assert not s232.applies("7616.99.5190", "MX", date(2025, 3, 11))  # before it started
    s301 = ExtraDuty("Section 301", D("0.25"), origins=("CN",))
    assert s301.applies("9403.20", "CN", day)
    assert not s301.applies("9403.20", "VN", day)


# ------------------------------------------------------------------------------------ agreements


def usmca() -> TradeAgreement:
    return TradeAgreement(
        "USMCA",
        ("US", "MX", "CA"),
        (
            OriginRule("76", Combine.SHIFT, shift=ShiftLevel.HEADING),
            OriginRule("7616.99", Combine.SHIFT_OR_VALUE, ShiftLevel.SUBHEADING, values={ValueMethod.NET_COST: D(50)}),
        ),
        period=Period(date(2020, 7, 1)),
    )


def test_agreement_covers_members_in_force_and_not_domestic() -> None:
    agreement = usmca()
    assert agreement.covers("MX", "US", date(2026, 11, 2))
    assert not agreement.covers("MX", "US", date(2020, 6, 30))  # NAFTA then, not USMCA
    assert not agreement.covers("CN", "US", date(2026, 11, 2))
    assert not agreement.covers("US", "DE", date(2026, 11, 2))
    assert not agreement.covers("US", "US", date(2026, 11, 2))


def test_rule_for_takes_the_longest_prefix() -> None:
    agreement = usmca()
    rule = agreement.rule_for("7616.99.5190")
    assert rule is not None
    assert rule.hs == "7616.99"
    chapter = agreement.rule_for("7610.90")
    assert chapter is not None
    assert chapter.hs == "76"
    assert agreement.rule_for("9403.20") is None


def test_origin_rule_needs_what_it_combines() -> None:
    with pytest.raises(ValueError, match="shift: rule for 76"):
        OriginRule("76", Combine.SHIFT)
    with pytest.raises(ValueError, match="values: rule for 76"):
        OriginRule("76", Combine.SHIFT_AND_VALUE, ShiftLevel.HEADING)
    assert ShiftLevel.SUBHEADING.digits == 6


def test_trade_rules_lookups() -> None:
    eu_jp = TradeAgreement("EU-Japan EPA", ("DE", "JP"), ())
    rules = TradeRules(tariffs=(us_schedule(),), agreements=(usmca(), eu_jp))
    assert rules.tariff_for("US") is not None
    assert rules.tariff_for("DE") is None
    assert [a.name for a in rules.agreements_between("MX", "US", date(2026, 11, 2))] == ["USMCA"]
    assert rules.agreements_between("JP", "US", date(2026, 11, 2)) == []

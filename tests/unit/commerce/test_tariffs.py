"""Tariff exposure: customs value bases, stacked duties, preferences, exemptions, import VAT, BOM duties.

Rates are illustrative, not legal advice; the amounts are worked by hand in the comments.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from microfab.commerce.tariffs import (
    Component,
    DutyLine,
    assess_duty,
    component_duties,
    customs_value,
    import_vat,
)
from microfab.domain.errors import CurrencyMismatchError
from microfab.domain.quantities import Money
from microfab.domain.trade import (
    ANY,
    CustomsBasis,
    ExtraDuty,
    Period,
    TariffLine,
    TariffSchedule,
    TaxJurisdiction,
    TaxRate,
    TradeAgreement,
)

D = Decimal
DAY = date(2026, 11, 25)
STAND = "7616.99.5190"  # other articles of aluminium


def usd(amount: str) -> Money:
    return Money(D(amount), "USD")


def eur(amount: str) -> Money:
    return Money(D(amount), "EUR")


US = TariffSchedule(
    "US HTS",
    ("US",),
    CustomsBasis.FOB,
    (
        TariffLine("7616.99", D("0.025")),
        TariffLine("7604", D("0.05")),
        TariffLine("7318", D("0.057")),
        TariffLine("8537", D("0.027")),
    ),
    extra=(
        ExtraDuty("Section 232 aluminum", D("0.25"), hs=("7601", "7604", "7616.99"), exempt_under=("USMCA",)),
        ExtraDuty("Section 301", D("0.25"), origins=("CN",), period=Period(date(2018, 7, 6))),
    ),
    currency="USD",
)
EU = TariffSchedule("EU CN", ("DE", "FR", "NL"), CustomsBasis.CIF, (TariffLine("7616.99", D("0.06")),), currency="EUR")
USMCA = TradeAgreement("USMCA", ("US", "MX", "CA"), (), period=Period(date(2020, 7, 1)))
EU_JP = TradeAgreement("EU-Japan EPA", ("DE", "FR", "NL", "JP"), (), period=Period(date(2019, 2, 1)))
DE_VAT = TaxJurisdiction("DE", "USt", (TaxRate(ANY, D("0.19")),))


# --------------------------------------------------------------------------------- customs value


def test_fob_leaves_freight_out_cif_puts_it_in() -> None:
    assert customs_value(usd("1000.00"), usd("80.00"), CustomsBasis.FOB) == usd("1000.00")
    assert customs_value(eur("1000.00"), eur("120.00"), CustomsBasis.CIF) == eur("1120.00")
    # CIF with insurance at 0.5 % of cost and freight: 1,120.00 x 1.005 = 1,125.60.
    assert customs_value(eur("1000.00"), eur("120.00"), CustomsBasis.CIF, insurance_share=D("0.005")) == eur("1125.60")
    # Rounded half-up to the minor unit: 100.10 x 1.05 = 105.105 -> 105.11 (half-even would give 105.10).
    assert customs_value(eur("100.10"), eur("0.00"), CustomsBasis.CIF, insurance_share=D("0.05")) == eur("105.11")
    with pytest.raises(ValueError, match="insurance_share: expected >= 0"):
        customs_value(eur("1"), eur("1"), CustomsBasis.CIF, insurance_share=D("-0.01"))
    with pytest.raises(CurrencyMismatchError):
        customs_value(eur("1"), usd("1"), CustomsBasis.CIF)


# ------------------------------------------------------------------------------------------ duty


def test_a_non_originating_good_pays_mfn_and_the_stacked_extra_duty() -> None:
    # FOB 1,000.00 USD from Mexico without an origin claim:
    # MFN 2.5 % = 25.00 + Section 232 25 % = 250.00 -> 275.00, i.e. 27.5 % of the FOB value.
    assessed = assess_duty(US, STAND, "MX", usd("1000.00"), DAY, agreements=(USMCA,))
    assert [(line.name, line.rate, line.amount, line.exempt) for line in assessed.lines] == [
        ("MFN", D("0.025"), usd("25.00"), False),
        ("Section 232 aluminum", D("0.25"), usd("250.00"), False),
    ]
    assert assessed.total == usd("275.00")
    assert assessed.lines[0].reason == f"MFN 2.5 % from tariff line 7616.99 for HS {STAND}"
    assert "Section 232 aluminum 25 %" in assessed.lines[1].reason
    assert "stacked on the customs value" in assessed.lines[1].reason


def test_the_same_good_originating_under_usmca_pays_nothing() -> None:
    assessed = assess_duty(US, STAND, "MX", usd("1000.00"), DAY, originating_under=("USMCA",), agreements=(USMCA,))
    preferential, s232 = assessed.lines
    assert (preferential.name, preferential.rate, preferential.amount) == ("USMCA preferential", D(0), usd("0.00"))
    assert preferential.reason.startswith("originates under USMCA (MX into US HTS): 0 % replaces MFN 2.5 %")
    assert (s232.exempt, s232.amount, s232.rate) == (True, usd("0"), D("0.25"))
    assert s232.reason == "waived: the good originates under USMCA, which Section 232 aluminum exempts"
    assert assessed.total == usd("0")


def test_a_claim_that_does_not_cover_the_route_is_ignored_and_said_so() -> None:
    # Chinese aluminium claiming USMCA: MFN 25.00 + 232 250.00 + 301 250.00 = 525.00.
    assessed = assess_duty(US, STAND, "CN", usd("1000.00"), DAY, originating_under=("USMCA",), agreements=(USMCA,))
    assert assessed.total == usd("525.00")
    assert (
        "origin claim under USMCA ignored: it does not cover CN into US HTS on 2026-11-25" in assessed.lines[0].reason
    )
    assert not any(line.exempt for line in assessed.lines)
    # A claim under an agreement nobody passed is ignored too.
    unknown = assess_duty(US, STAND, "MX", usd("1000.00"), DAY, originating_under=("CPTPP",))
    assert unknown.total == usd("275.00")
    assert "origin claim under CPTPP ignored: agreement not given" in unknown.lines[0].reason


def test_before_the_agreement_entered_into_force_mfn_applies() -> None:
    assessed = assess_duty(
        US, STAND, "MX", usd("1000.00"), date(2020, 6, 30), originating_under=("USMCA",), agreements=(USMCA,)
    )
    assert assessed.total == usd("275.00")


def test_a_preferential_rate_that_is_not_lower_keeps_mfn() -> None:
    odd = TradeAgreement("ODD", ("US", "MX"), (), preferential_rate=D("0.03"))
    assessed = assess_duty(US, STAND, "MX", usd("1000.00"), DAY, originating_under=("ODD",), agreements=(odd,))
    assert assessed.lines[0].name == "MFN"
    assert "ODD preferential rate 3 % is not lower" in assessed.lines[0].reason


def test_no_tariff_line_means_zero_flagged_for_checking() -> None:
    assessed = assess_duty(US, "9403.20", "MX", usd("1000.00"), DAY)
    (line,) = assessed.lines
    assert (line.rate, line.amount) == (D(0), usd("0.00"))
    assert line.reason == "no tariff line for HS 9403.20 in US HTS on 2026-11-25, assumed free — check"


def test_duty_amounts_round_half_up() -> None:
    # 10.10 USD x 2.5 % = 0.2525 -> 0.25; 10.30 x 2.5 % = 0.2575 -> 0.26; 232: 10.10 x 25 % = 2.525 -> 2.53.
    assessed = assess_duty(US, STAND, "MX", usd("10.10"), DAY)
    assert [line.amount for line in assessed.lines] == [usd("0.25"), usd("2.53")]
    assert assess_duty(US, STAND, "MX", usd("10.30"), DAY).lines[0].amount == usd("0.26")


def test_cif_duty_and_german_import_vat() -> None:
    # A Japanese-made stand into Germany without an origin claim, CIF:
    # 1,000.00 EUR + 120.00 freight, insurance 0.5 % -> customs value 1,125.60 EUR;
    # MFN 6 % = 67.536 -> 67.54; import VAT 19 % on 1,125.60 + 67.54 = 1,193.14 -> 226.6966 -> 226.70.
    value = customs_value(eur("1000.00"), eur("120.00"), EU.basis, insurance_share=D("0.005"))
    assessed = assess_duty(EU, STAND, "JP", value, DAY, agreements=(EU_JP,))
    assert assessed.total == eur("67.54")
    vat = import_vat(value, assessed.total, DE_VAT, "general", DAY)
    assert (vat.net, vat.tax, vat.gross) == (eur("1193.14"), eur("226.70"), eur("1419.84"))
    # Originating under the EU-Japan EPA: no duty; import VAT on 1,125.60 = 213.864 -> 213.86.
    preferred = assess_duty(EU, STAND, "JP", value, DAY, originating_under=("EU-Japan EPA",), agreements=(EU_JP,))
    assert preferred.total == eur("0.00")
    assert import_vat(value, preferred.total, DE_VAT, "general", DAY).tax == eur("213.86")


def test_fob_basis_in_the_us_has_no_import_vat() -> None:
    value = customs_value(usd("1000.00"), usd("80.00"), US.basis)
    vat = import_vat(value, usd("275.00"), None, "general", DAY)
    assert (vat.net, vat.tax, vat.gross) == (usd("1275.00"), usd("0"), usd("1275.00"))
    assert (vat.rate.rate, vat.rate.label) == (D(0), "no import VAT")


def test_inside_the_customs_territory_is_not_an_import() -> None:
    assessed = assess_duty(EU, STAND, "FR", eur("1000.00"), DAY)
    assert assessed.total == eur("0")
    assert assessed.lines[0].reason == "origin FR is inside the EU CN customs territory: not an import"


def test_the_customs_value_must_be_in_the_schedules_currency() -> None:
    with pytest.raises(CurrencyMismatchError, match="cannot combine USD with EUR"):
        assess_duty(EU, STAND, "JP", usd("1000.00"), DAY)


# ------------------------------------------------------------------------------- BOM components


def bom() -> list[Component]:
    return [
        Component("extrusion A", "7604.29", "CA", usd("200.00"), preferential=True),
        Component("extrusion B", "7604.29", "CA", usd("200.00")),
        Component("fasteners", "7318.15", "CN", usd("100.00")),
        Component("controller", "8537.10", None, usd("300.00")),
        Component("carton", "4819.10", "US", usd("50.00")),
    ]


def by_name(lines: tuple[DutyLine, ...]) -> dict[str, Money]:
    return {line.name: line.amount for line in lines}


def test_component_duties_of_an_ohio_site() -> None:
    # extrusion A: Canadian, supplier proof of USMCA origin -> 0 % and 232 waived: 0.00
    # extrusion B: Canadian, no proof -> MFN 5 % = 10.00 + 232 25 % = 50.00 -> 60.00
    # fasteners: Chinese -> MFN 5.7 % = 5.70 + 301 25 % = 25.00 -> 30.70
    # controller: origin unknown -> MFN 2.7 % = 8.10 (origin-specific 301 not assessable)
    # carton: made in the US -> 0.00
    # total 98.80 USD
    assessed = component_duties(US, bom(), "US", DAY, (USMCA,))
    assert by_name(assessed.lines) == {
        "extrusion A: USMCA preferential": usd("0.00"),
        "extrusion A: Section 232 aluminum": usd("0"),
        "extrusion B: MFN": usd("10.00"),
        "extrusion B: Section 232 aluminum": usd("50.00"),
        "fasteners: MFN": usd("5.70"),
        "fasteners: Section 301": usd("25.00"),
        "controller: MFN": usd("8.10"),
        "carton: no import duty": usd("0"),
    }
    assert assessed.total == usd("98.80")
    reasons = {line.name: line.reason for line in assessed.lines}
    assert reasons["extrusion B: MFN"].endswith("no supplier proof of USMCA origin: MFN applies")
    assert "origin unknown: MFN applies" in reasons["controller: MFN"]
    assert reasons["carton: no import duty"] == "origin US is inside the US HTS customs territory: not an import"


def test_a_preferential_flag_without_a_covering_agreement_is_noted() -> None:
    part = Component("bracket", "7616.99", "JP", usd("100.00"), preferential=True)
    assessed = component_duties(US, [part], "US", DAY, (USMCA,))
    assert assessed.total == usd("27.50")  # 2.50 MFN + 25.00 Section 232
    assert "flagged preferential, but no agreement given covers JP into US on 2026-11-25" in assessed.lines[0].reason


def test_component_duties_need_the_sites_own_schedule() -> None:
    with pytest.raises(ValueError, match="site_country: MX is not in the US HTS customs territory"):
        component_duties(US, bom(), "MX", DAY)
    assert component_duties(US, [], "US", DAY).total == usd("0")


def test_components_may_be_plain_tuples() -> None:
    rows = [("bracket", "7616.99", "MX", usd("100.00")), ("bracket", "7616.99", "MX", usd("100.00"), True)]
    assessed = component_duties(US, rows, "US", DAY, (USMCA,))
    # Without proof: 2.50 + 25.00; with proof under USMCA: nothing.
    assert assessed.total == usd("27.50")


def test_without_a_schedule_component_duties_are_flagged_not_assessed() -> None:
    parts = [Component("bracket", "7616.99", "CN", usd("100.00")), Component("carton", "4819.10", "MX", usd("5.00"))]
    assessed = component_duties(None, parts, "MX", DAY)
    assert by_name(assessed.lines) == {"bracket: not assessed": usd("0.00"), "carton: no import duty": usd("0.00")}
    assert assessed.lines[0].reason == "no tariff schedule is declared for MX: duty not assessed — check"
    assert component_duties(None, [], "MX", DAY, currency="MXN").total == Money(D(0), "MXN")
    with pytest.raises(ValueError, match="currency: needed when there is no tariff schedule and no component"):
        component_duties(None, [], "MX", DAY)


def test_a_tax_without_import_vat_gives_a_zero_line() -> None:
    sales_tax = TaxJurisdiction("US-OH", "sales tax", (TaxRate(ANY, D("0.0575")),), import_vat=False)
    vat = import_vat(usd("1000.00"), usd("25.00"), sales_tax, "general", DAY)
    assert (vat.tax, vat.gross, vat.rate.label) == (usd("0.00"), usd("1025.00"), "no import VAT")


def test_converted_assessment_converts_each_line_and_the_total_once() -> None:
    # 275.00 USD owed; at 0.92: lines 25.00 -> 23.00 and 250.00 -> 230.00, total 253.00 EUR.
    assessed = assess_duty(US, STAND, "MX", usd("1000.00"), DAY)

    def to_eur(m: Money) -> Money:
        return Money(m.amount * D("0.92"), "EUR").quantize()

    converted = assessed.converted(to_eur)
    assert [line.amount for line in converted.lines] == [eur("23.00"), eur("230.00")]
    assert converted.lines[0].base == eur("920.00")
    assert converted.total == eur("253.00")
    assert converted.lines[0].reason == assessed.lines[0].reason

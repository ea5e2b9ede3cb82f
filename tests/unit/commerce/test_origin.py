"""Origin engine: worked examples computed by hand (the arithmetic is in the comments), and properties.

Rules are test data written here, not the reference data shipped for the CLI.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microfab.commerce.origin import (
    REVIEW_NOTE,
    Good,
    Material,
    OriginCase,
    OriginResult,
    ProcessStep,
    determine_origin,
    non_preferential_origin,
    override_thresholds,
)
from microfab.domain.trade import Combine, OriginRule, ShiftLevel, TradeAgreement, ValueBase, ValueMethod

D = Decimal
TV, NC, BD, BU, MAXNOM = (
    ValueMethod.TRANSACTION_VALUE,
    ValueMethod.NET_COST,
    ValueMethod.BUILD_DOWN,
    ValueMethod.BUILD_UP,
    ValueMethod.MAXNOM,
)


def usmca(*rules: OriginRule) -> TradeAgreement:
    default = OriginRule("7610", Combine.VALUE, values={TV: D(60), NC: D(50)})
    return TradeAgreement("USMCA", ("US", "MX", "CA"), rules or (default,))


def cptpp(rule: OriginRule) -> TradeAgreement:
    return TradeAgreement("CPTPP", ("JP", "VN", "MX", "CA", "AU"), (rule,))


def eu_jp(rule: OriginRule) -> TradeAgreement:
    members = ("JP", "DE", "FR", "PL")
    return TradeAgreement("EU-JP", members, (rule,), de_minimis_base=ValueBase.EX_WORKS)


def made_in(country: str = "MX") -> tuple[ProcessStep, ...]:
    return (
        ProcessStep("cut", country, significant=True),
        ProcessStep("weld", country, confers_origin=True, significant=True, essential=True),
        ProcessStep("pack", country),
    )


def case(
    *materials: Material,
    tv: str = "100",
    nc: str = "90",
    hs: str = "7610.90",
    ops: tuple[ProcessStep, ...] | None = None,
    destination: str = "US",
    ex_works: str | None = None,
) -> OriginCase:
    exw = D(ex_works) if ex_works is not None else None
    good = Good(hs, D(tv), D(nc), "USD", ex_works=exw)
    return OriginCase(good, materials, ops or made_in(), destination)


def mat(item: str, value: str, origin: str | None, hs: str = "7606.12", **flags: bool) -> Material:
    return Material(item, D(value), origin, hs, **flags)


def trail_of(result: OriginResult) -> dict[str, tuple[str, str]]:
    return {e.figure: (e.value, e.basis) for e in result.trail}


# ------------------------------------------------------------------------------- USMCA: RVC both ways


def test_rvc_by_transaction_value_and_by_net_cost() -> None:
    # TV 100, NC 90; non-originating: sheet 35 (CN) -> VNM 35.
    # RVC_TV = (100 - 35) / 100 x 100 = 65.00 %   (>= 60: passes)
    # RVC_NC = (90 - 35) / 90 x 100 = 55 / 90 x 100 = 61.111... -> 61.11 %   (>= 50: passes)
    result = determine_origin(case(mat("sheet", "35", "CN"), mat("bolts", "10", "US")), usmca())
    assert result.rvc_tv == D("65.00")
    assert result.rvc_nc == D("61.11")
    assert result.vnm == D(35)
    assert result.vom == D(10)
    assert result.originating is True
    assert result.test_passed == "rvc-transaction-value"
    assert result.tariff_shift is None  # a value-only rule
    assert result.de_minimis is None
    trail = trail_of(result)
    assert trail["VNM"][0] == "35 USD"
    assert "(100 − 35) / 100" in trail["rvc-transaction-value"][1]
    assert trail["rvc-net-cost"][0] == "61.111111… % (shown 61.11)"
    assert result.review_note == REVIEW_NOTE


def test_net_cost_passes_when_transaction_value_fails() -> None:
    # TV 100, NC 90, VNM 42.
    # RVC_TV = (100 - 42) / 100 x 100 = 58.00 %  (< 60: fails)
    # RVC_NC = (90 - 42) / 90 x 100 = 48 / 90 x 100 = 53.333... -> 53.33 %  (>= 50: passes)
    result = determine_origin(case(mat("sheet", "42", "CN")), usmca())
    assert (result.rvc_tv, result.rvc_nc) == (D("58.00"), D("53.33"))
    assert result.originating is True
    assert result.test_passed == "rvc-net-cost"


def test_both_rvc_methods_fail() -> None:
    # TV 100, NC 80, VNM 45: RVC_TV = 55 / 100 = 55.00 % (< 60); RVC_NC = 35 / 80 = 43.75 % (< 50).
    result = determine_origin(case(mat("sheet", "45", "CN"), nc="80"), usmca())
    assert (result.rvc_tv, result.rvc_nc) == (D("55.00"), D("43.75"))
    assert result.originating is False
    assert result.test_passed is None
    assert trail_of(result)["outcome"][0] == "not originating"


def test_thresholds_are_compared_exactly_not_after_rounding() -> None:
    # VNM 40.004: RVC_TV = (100 - 40.004) / 100 x 100 = 59.996 %, shown 60.00 but below 60.
    rule = OriginRule("7610", Combine.VALUE, values={TV: D(60)})
    result = determine_origin(case(mat("sheet", "40.004", "CN")), usmca(rule))
    assert result.rvc_tv == D("60.00")
    assert result.originating is False
    assert trail_of(result)["rvc-transaction-value"][0] == "59.996 % (shown 60.00)"


def test_undetermined_origin_counts_in_vnm_and_the_trail_says_so() -> None:
    # Coating 20 of unknown origin + sheet 20 (CN): VNM = 40.
    # RVC_TV = (100 - 40) / 100 = 60.00 % (>= 60 passes); RVC_NC = (90 - 40) / 90 = 55.555... -> 55.56 %.
    result = determine_origin(case(mat("coating", "20", None, hs="3208.20"), mat("sheet", "20", "CN")), usmca())
    assert result.vnm == D(40)
    assert (result.rvc_tv, result.rvc_nc) == (D("60.00"), D("55.56"))
    status, basis = trail_of(result)["material coating"]
    assert status == "undetermined"
    assert "undetermined origin: counted as non-originating" in basis


def test_indirect_materials_count_as_originating() -> None:
    # Sheet 30 (CN) non-originating; cutting oil 15 (CN) is indirect, so originating.
    # VNM = 30, VOM = 15; RVC_TV = (100 - 30) / 100 = 70.00 %; RVC_NC = (90 - 30) / 90 = 66.666... -> 66.67 %.
    oil = mat("cutting oil", "15", "CN", hs="2710.19", indirect=True)
    result = determine_origin(case(mat("sheet", "30", "CN"), oil), usmca())
    assert (result.vnm, result.vom) == (D(30), D(15))
    assert (result.rvc_tv, result.rvc_nc) == (D("70.00"), D("66.67"))
    assert trail_of(result)["material cutting oil"][0] == "originating"


def test_materials_from_any_party_are_originating_cumulation() -> None:
    # Sheet from CA, bolts from US, good made in MX: nothing is non-originating, VNM 0 -> RVC 100.00 %.
    result = determine_origin(case(mat("sheet", "40", "CA"), mat("bolts", "10", "US")), usmca())
    assert result.vnm == D(0)
    assert result.rvc_tv == D("100.00")
    assert result.test_passed == "originating-materials-only"


# ----------------------------------------------------------------------------- tariff shift, de minimis

SHIFT_HEADING = OriginRule("7610", Combine.SHIFT, ShiftLevel.HEADING)


def test_tariff_shift_met_at_heading_level() -> None:
    # Sheet 7606.12 -> structure 7610.90: heading 7606 != 7610, so the shift is met.
    result = determine_origin(case(mat("sheet", "60", "CN", hs="7606.12")), usmca(SHIFT_HEADING))
    assert result.tariff_shift is True
    assert result.de_minimis is None
    assert result.test_passed == "tariff-shift"
    assert result.rvc_tv is None  # the rule names no value test


def test_tariff_shift_failure_rescued_by_de_minimis_at_exactly_ten_percent() -> None:
    # Bracket 7610.10 is in the good's heading 7610: no shift. Its value 10 / TV 100 x 100 = 10.00 %,
    # within the 10 % de minimis (USMCA Art. 4.12): the shift is deemed met.
    bracket = mat("bracket", "10", "CN", hs="7610.10")
    result = determine_origin(case(mat("sheet", "30", "CN", hs="7606.12"), bracket), usmca(SHIFT_HEADING))
    assert result.tariff_shift is False
    assert result.de_minimis is True
    assert result.originating is True
    assert result.test_passed == "tariff-shift with de minimis"
    value, basis = trail_of(result)["de minimis"]
    assert value == "10.00 %"
    assert "10 / 100 (transaction value)" in basis


def test_de_minimis_does_not_rescue_ten_point_zero_one_percent() -> None:
    # Bracket 10.01 / TV 100 x 100 = 10.01 % > 10 %: not rescued, not originating.
    bracket = mat("bracket", "10.01", "CN", hs="7610.10")
    result = determine_origin(case(mat("sheet", "30", "CN", hs="7606.12"), bracket), usmca(SHIFT_HEADING))
    assert (result.tariff_shift, result.de_minimis, result.originating) == (False, False, False)
    assert trail_of(result)["de minimis"][0] == "10.01 %"


def test_shift_levels_chapter_and_subheading() -> None:
    # Sheet 7606.12 -> 7610.90: same chapter 76 (chapter shift fails), different subheading (passes).
    sheet = mat("sheet", "60", "CN", hs="7606.12")
    chapter = determine_origin(case(sheet), usmca(OriginRule("7610", Combine.SHIFT, ShiftLevel.CHAPTER)))
    subheading = determine_origin(case(sheet), usmca(OriginRule("7610", Combine.SHIFT, ShiftLevel.SUBHEADING)))
    assert chapter.tariff_shift is False
    assert chapter.de_minimis is False  # 60 % of TV is far above 10 %
    assert subheading.tariff_shift is True


def test_shift_except_prefix_blocks_the_shift() -> None:
    # "Change of heading, except from 76.04": profile 7604.29 changes heading but is excluded.
    rule = OriginRule("7610", Combine.SHIFT, ShiftLevel.HEADING, shift_except=("76.04",))
    result = determine_origin(case(mat("profile", "40", "CN", hs="7604.29")), usmca(rule))
    assert result.tariff_shift is False
    assert "except from 76.04" in trail_of(result)["shift profile"][1]


def test_undetermined_material_must_shift_too_and_short_hs_fails() -> None:
    # Coating of unknown origin with HS "32" (2 digits) cannot show a heading change.
    result = determine_origin(case(mat("coating", "20", None, hs="32")), usmca(SHIFT_HEADING))
    assert result.tariff_shift is False
    assert "too few digits" in trail_of(result)["shift coating"][1]


def test_shift_and_value_needs_both() -> None:
    # Shift met (7606 -> 7610); RVC_TV = (100 - 45) / 100 = 55.00 % < 60: the good fails.
    rule = OriginRule("7610", Combine.SHIFT_AND_VALUE, ShiftLevel.HEADING, values={TV: D(60)})
    failed = determine_origin(case(mat("sheet", "45", "CN")), usmca(rule))
    assert (failed.tariff_shift, failed.rvc_tv, failed.originating) == (True, D("55.00"), False)
    # VNM 35: RVC_TV = 65.00 % >= 60 and the shift is met.
    passed = determine_origin(case(mat("sheet", "35", "CN")), usmca(rule))
    assert passed.test_passed == "tariff-shift and rvc-transaction-value"


def test_shift_or_value_prefers_naming_the_shift() -> None:
    rule = OriginRule("7610", Combine.SHIFT_OR_VALUE, ShiftLevel.HEADING, values={TV: D(60)})
    result = determine_origin(case(mat("sheet", "35", "CN")), usmca(rule))
    assert result.test_passed == "tariff-shift"
    assert result.rvc_tv == D("65.00")  # still computed for the trail


# ------------------------------------------------------------------------------------ CPTPP, EU-JP


def test_cptpp_build_down_passes_build_up_fails() -> None:
    # AV = TV = 200. Frame 50 (VN, originating), motor 90 (CN), fixture oil 10 (CN, indirect: originating).
    # VNM = 90, VOM = 50 + 10 = 60.
    # Build-down = (200 - 90) / 200 x 100 = 55.00 % (>= 45: passes); build-up = 60 / 200 x 100 = 30.00 % (< 35).
    rule = OriginRule("8479", Combine.VALUE, values={BD: D(45), BU: D(35)})
    materials = (
        mat("frame", "50", "VN", hs="7308.90"),
        mat("motor", "90", "CN", hs="8501.52"),
        mat("fixture oil", "10", "CN", hs="2710.19", indirect=True),
    )
    result = determine_origin(case(*materials, tv="200", nc="180", hs="8479.89", ops=made_in("JP")), cptpp(rule))
    assert (result.build_down, result.build_up) == (D("55.00"), D("30.00"))
    assert (result.rvc_tv, result.rvc_nc, result.maxnom) == (None, None, None)
    assert result.test_passed == "build-down"


def test_cptpp_build_up_passes_build_down_fails() -> None:
    # AV 100, VNM 60 (CN), VOM 36 (VN): build-down = 40 / 100 = 40.00 % (< 45); build-up = 36 / 100 = 36.00 % (>= 35).
    rule = OriginRule("8479", Combine.VALUE, values={BD: D(45), BU: D(35)})
    materials = (mat("motor", "60", "CN", hs="8501.52"), mat("frame", "36", "VN", hs="7308.90"))
    result = determine_origin(case(*materials, hs="8479.89", ops=made_in("JP"), destination="VN"), cptpp(rule))
    assert (result.build_down, result.build_up) == (D("40.00"), D("36.00"))
    assert result.test_passed == "build-up"
    assert trail_of(result)["preference"][0] == "claimable"


EUJP_RULE = OriginRule("8479", Combine.SHIFT_OR_VALUE, ShiftLevel.HEADING, values={MAXNOM: D(50)})


def test_eu_jp_tolerance_is_ten_percent_of_the_ex_works_price() -> None:
    # EXW 200 (TV 220). Housing 8479.90 (CN) 18 is in the good's heading 8479: no shift.
    # Tolerance (Art. 3.6): 18 / 200 x 100 = 9.00 % <= 10 %: the shift is deemed met.
    # MaxNOM = VNM / EXW = (18 + 100) / 200 x 100 = 59.00 % (> 50: fails), so the shift decides.
    materials = (mat("housing", "18", "CN", hs="8479.90"), mat("cable", "100", "CN", hs="8544.42"))
    result = determine_origin(
        case(*materials, tv="220", nc="190", hs="8479.89", ops=made_in("DE"), destination="JP", ex_works="200"),
        eu_jp(EUJP_RULE),
    )
    assert result.maxnom == D("59.00")
    assert (result.tariff_shift, result.de_minimis) == (False, True)
    assert result.test_passed == "tariff-shift with de minimis"


def test_eu_jp_tolerance_base_is_ex_works_not_transaction_value() -> None:
    # Housing 21: 21 / EXW 200 = 10.50 % > 10 % (it would be 21 / 220 = 9.55 % of TV): not rescued.
    # MaxNOM = (21 + 100) / 200 = 60.50 % > 50: not originating.
    materials = (mat("housing", "21", "CN", hs="8479.90"), mat("cable", "100", "CN", hs="8544.42"))
    result = determine_origin(
        case(*materials, tv="220", nc="190", hs="8479.89", ops=made_in("DE"), destination="JP", ex_works="200"),
        eu_jp(EUJP_RULE),
    )
    assert (result.de_minimis, result.maxnom, result.originating) == (False, D("60.50"), False)
    assert "ex-works price" in trail_of(result)["de minimis"][1]


def test_eu_jp_maxnom_passes_when_the_shift_fails() -> None:
    # Housing 30 (15 % of EXW: beyond tolerance), cable 60: MaxNOM = 90 / 200 x 100 = 45.00 % <= 50.
    materials = (mat("housing", "30", "CN", hs="8479.90"), mat("cable", "60", "CN", hs="8544.42"))
    result = determine_origin(
        case(*materials, tv="220", nc="190", hs="8479.89", ops=made_in("DE"), destination="JP", ex_works="200"),
        eu_jp(EUJP_RULE),
    )
    assert (result.tariff_shift, result.de_minimis, result.maxnom) == (False, False, D("45.00"))
    assert result.test_passed == "maxnom"


def test_maxnom_without_ex_works_uses_the_transaction_value() -> None:
    # VNM 45 / TV 100 = 45.00 %.
    rule = OriginRule("8479", Combine.VALUE, values={MAXNOM: D(50)})
    result = determine_origin(case(mat("motor", "45", "CN"), hs="8479.89", ops=made_in("DE")), eu_jp(rule))
    assert result.maxnom == D("45.00")
    assert "no ex-works price: TV used" in trail_of(result)["maxnom"][1]


# ------------------------------------------------------------------ producer, territory, rule, marking


def test_producer_outside_the_agreement_is_not_originating() -> None:
    # Made in CN with US sheet: RVC 100 % would pass, but the producer is not a party.
    result = determine_origin(case(mat("sheet", "40", "US"), ops=made_in("CN")), usmca())
    assert result.producer_country == "CN"
    assert result.originating is False
    assert result.test_passed is None
    assert "CN is not a party to USMCA" in trail_of(result)["producer country"][1]


def test_an_operation_outside_the_parties_breaks_territoriality() -> None:
    ops = (ProcessStep("anodize", "CN"), ProcessStep("assemble", "MX", confers_origin=True))
    result = determine_origin(case(mat("sheet", "10", "CN"), ops=ops), usmca())
    assert result.producer_country == "MX"
    assert result.originating is False
    assert "anodize in CN" in trail_of(result)["territoriality"][1]


def test_no_product_specific_rule_is_not_originating() -> None:
    result = determine_origin(case(mat("sheet", "10", "CN"), hs="9403.20"), usmca())
    assert result.originating is False
    assert "no product-specific rule for HS 9403.20" in trail_of(result)["rule"][1]


def test_non_preferential_origin_is_the_last_operation_conferring_origin() -> None:
    ops = (
        ProcessStep("machine", "CN", confers_origin=True),
        ProcessStep("assemble", "DE", confers_origin=True),
        ProcessStep("pack", "PL"),
    )
    result = determine_origin(case(mat("sheet", "10", "CN"), ops=ops), None)
    assert result.non_preferential_origin == "DE"
    assert result.agreement is None
    assert (result.rvc_tv, result.tariff_shift, result.originating) == (None, None, False)
    value, basis = trail_of(result)["non-preferential origin"]
    assert value == "DE"
    assert "indication, human review" in basis


def test_no_operation_conferring_origin_leaves_marking_to_a_person() -> None:
    ops = (ProcessStep("pack", "PL"),)
    result = determine_origin(case(mat("sheet", "10", "CN"), ops=ops), None)
    assert result.non_preferential_origin is None
    assert non_preferential_origin(case(ops=ops)) is None
    assert result.producer_country == "PL"  # the fallback for the preferential producer


def test_destination_outside_the_agreement_has_no_preference() -> None:
    result = determine_origin(case(mat("sheet", "35", "CN"), destination="DE"), usmca())
    assert result.originating is True
    assert trail_of(result)["preference"][0] == "not available"


# ------------------------------------------------------------------------------------ overrides


def test_override_thresholds_changes_the_rule_and_says_so() -> None:
    # RVC_TV 65.00 % passes 60 but not an override of 70; RVC_NC 61.11 % passes 50 but not 62.
    agreement, notes = override_thresholds(usmca(), "7610.90", {"rvc_tv": D(70), "rvc_nc": D(62)})
    result = determine_origin(case(mat("sheet", "35", "CN")), agreement)
    assert result.originating is False
    assert [n.figure for n in notes] == ["override rvc_tv", "override rvc_nc"]
    assert notes[0].basis == "set by the input (rule data: 60 %)"


def test_override_de_minimis_rescues_a_larger_failure() -> None:
    # Bracket 12 / TV 100 = 12.00 %: above 10 %, within an override of 15 %.
    agreement, _ = override_thresholds(usmca(SHIFT_HEADING), "7610.90", {"de_minimis": D(15)})
    assert agreement.de_minimis == D("0.15")
    result = determine_origin(case(mat("bracket", "12", "CN", hs="7610.10")), agreement)
    assert result.de_minimis is True


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"rvc": D(60)}, r"thresholds\.rvc: unknown threshold"),
        ({"rvc_tv": D(120)}, r"thresholds\.rvc_tv: expected a percent in \[0, 100\]"),
        ({"maxnom": D(50)}, r"thresholds\.maxnom: the rule for HS 7610 has no maxnom test"),
    ],
)
def test_override_thresholds_rejects_bad_keys_and_values(overrides: dict[str, Decimal], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        override_thresholds(usmca(), "7610.90", overrides)


def test_bad_case_data_names_the_field() -> None:
    with pytest.raises(ValueError, match="value: expected a finite amount >= 0"):
        Material("sheet", D(-1), "CN", "7606")
    with pytest.raises(ValueError, match="hs: expected an HS code of at least 6 digits"):
        Good("7610", D(100), D(90), "USD")
    with pytest.raises(ValueError, match="net_cost: expected a finite amount > 0"):
        Good("7610.90", D(100), D(0), "USD")
    with pytest.raises(ValueError, match="operations: expected at least one"):
        OriginCase(Good("7610.90", D(100), D(90), "USD"), (), (), "US")


# ------------------------------------------------------------------------------------ properties

amounts = st.decimals(min_value=D("0.01"), max_value=D(1000), places=2)


@settings(max_examples=60, deadline=None)
@given(tv=amounts, nc=amounts, vnm=amounts)
def test_rvc_tv_at_least_rvc_nc_iff_tv_at_least_nc(tv: Decimal, nc: Decimal, vnm: Decimal) -> None:
    # (TV - VNM)/TV - (NC - VNM)/NC = VNM (1/NC - 1/TV): >= 0 exactly when TV >= NC (VNM > 0).
    # Rounding to 0.01 is monotone, so the shown figures keep the order (ties allowed).
    result = determine_origin(case(mat("sheet", str(vnm), "CN"), tv=str(tv), nc=str(nc)), usmca())
    assert result.rvc_tv is not None
    assert result.rvc_nc is not None
    if tv >= nc:
        assert result.rvc_tv >= result.rvc_nc
    else:
        assert result.rvc_tv <= result.rvc_nc


@settings(max_examples=60, deadline=None)
@given(base=amounts, extra=amounts, same_heading=st.booleans())
def test_adding_non_originating_value_never_helps(base: Decimal, extra: Decimal, same_heading: bool) -> None:
    rule = OriginRule("7610", Combine.SHIFT_OR_VALUE, ShiftLevel.HEADING, values={TV: D(60), NC: D(50)})
    before = case(mat("sheet", str(base), "CN", hs="7610.10"), tv="1000", nc="900")
    added = mat("extra", str(extra), "CN", hs="7610.20" if same_heading else "7606.12")
    after = OriginCase(before.good, (*before.materials, added), before.operations, before.destination)
    first, second = determine_origin(before, usmca(rule)), determine_origin(after, usmca(rule))
    assert first.rvc_tv is not None
    assert second.rvc_tv is not None
    assert second.rvc_tv <= first.rvc_tv
    assert not (second.originating and not first.originating)

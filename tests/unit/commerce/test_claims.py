"""Claims: FTC and California "Made in USA", "Made in Germany"; worked examples computed by hand in the comments."""

from __future__ import annotations

from decimal import Decimal

from microfab.commerce.claims import (
    Claim,
    ClaimStatus,
    california_made_in_usa,
    determine_claims,
    ftc_made_in_usa,
    made_in_germany,
)
from microfab.commerce.origin import REVIEW_NOTE, Good, Material, OriginCase, ProcessStep
from microfab.domain.trade import ClaimPolicy

D = Decimal
POLICY = ClaimPolicy()  # FTC 2 % of net cost; California 5 % / 10 % of the wholesale value


def us_routing(final: str = "US", transform: str = "US", significant: str = "US") -> tuple[ProcessStep, ...]:
    return (
        ProcessStep("machine", significant, significant=True),
        ProcessStep("assemble", transform, confers_origin=True, significant=True, essential=True),
        ProcessStep("pack", final),
    )


def case(
    *materials: Material,
    nc: str = "100",
    tv: str = "120",
    wholesale: str | None = "200",
    ops: tuple[ProcessStep, ...] | None = None,
) -> OriginCase:
    good = Good("9403.20", D(tv), D(nc), "USD", wholesale_value=D(wholesale) if wholesale else None)
    return OriginCase(good, materials, ops or us_routing(), "US")


def mat(item: str, value: str, origin: str | None, **flags: bool) -> Material:
    return Material(item, D(value), origin, "7326.90", **flags)


def trail_of(claim: Claim) -> dict[str, tuple[str, str]]:
    return {e.figure: (e.value, e.basis) for e in claim.trail}


# ---------------------------------------------------------------------------------------------- FTC


def test_ftc_unqualified_candidate() -> None:
    # Everything in the US; foreign: hinge 1.50 (CN) / net cost 100 x 100 = 1.50 % <= 2 %; not essential.
    claim = ftc_made_in_usa(case(mat("steel", "60", "US"), mat("hinge", "1.50", "CN")), POLICY)
    assert claim.status is ClaimStatus.UNQUALIFIED_CANDIDATE
    assert claim.name == "ftc-made-in-usa"
    value, basis = trail_of(claim)["foreign share"]
    assert value == "1.50 %"
    assert "undetermined counted as foreign" in basis
    assert "net cost 100" in basis
    assert claim.review_note == REVIEW_NOTE


def test_ftc_qualified_only_when_foreign_share_is_too_high() -> None:
    # Foreign: motor 10 (CN) / 100 = 10.00 % > 2 %; the last substantial transformation is in the US.
    claim = ftc_made_in_usa(case(mat("steel", "60", "US"), mat("motor", "10", "CN")), POLICY)
    assert claim.status is ClaimStatus.QUALIFIED_ONLY
    assert claim.reasons[0] == "foreign share 10.00 % > 2 % of the net cost"
    assert "qualified claim" in claim.reasons[-1]


def test_ftc_qualified_only_for_an_essential_foreign_component() -> None:
    # Foreign share 1 / 100 = 1.00 % is small, but the controller (CN) is essential.
    controller = mat("controller", "1", "CN", essential=True)
    claim = ftc_made_in_usa(case(mat("steel", "60", "US"), controller), POLICY)
    assert claim.status is ClaimStatus.QUALIFIED_ONLY
    assert "essential foreign components: controller (CN)" in claim.reasons


def test_ftc_counts_undetermined_origin_as_foreign() -> None:
    # Paint 3 of unknown origin: 3 / 100 = 3.00 % > 2 %.
    claim = ftc_made_in_usa(case(mat("steel", "60", "US"), mat("paint", "3", None)), POLICY)
    assert claim.status is ClaimStatus.QUALIFIED_ONLY
    assert trail_of(claim)["foreign share"][0] == "3.00 %"


def test_ftc_qualified_only_when_significant_processing_or_final_step_is_abroad() -> None:
    significant_abroad = ftc_made_in_usa(case(mat("steel", "60", "US"), ops=us_routing(significant="MX")), POLICY)
    assert significant_abroad.status is ClaimStatus.QUALIFIED_ONLY
    assert "significant processing outside the US: machine in MX" in significant_abroad.reasons
    packed_abroad = ftc_made_in_usa(case(mat("steel", "60", "US"), ops=us_routing(final="MX")), POLICY)
    assert packed_abroad.status is ClaimStatus.QUALIFIED_ONLY


def test_ftc_not_allowed_when_the_last_substantial_transformation_is_abroad() -> None:
    claim = ftc_made_in_usa(case(mat("steel", "60", "US"), ops=us_routing(transform="MX")), POLICY)
    assert claim.status is ClaimStatus.NOT_ALLOWED
    assert claim.reasons[0].startswith("the last substantial transformation is not in the US")


def test_ftc_not_allowed_without_an_operation_conferring_origin() -> None:
    claim = ftc_made_in_usa(case(mat("steel", "60", "US"), ops=(ProcessStep("assemble", "US"),)), POLICY)
    assert claim.status is ClaimStatus.NOT_ALLOWED
    assert trail_of(claim)["last substantial transformation"][0] == "unknown"


def test_ftc_threshold_is_policy() -> None:
    # 3.00 % foreign: over the default 2 %, within a 5 % policy.
    materials = (mat("steel", "60", "US"), mat("hinge", "3", "CN"))
    assert ftc_made_in_usa(case(*materials), ClaimPolicy(ftc_foreign_share_max=D("0.05"))).status is (
        ClaimStatus.UNQUALIFIED_CANDIDATE
    )


# --------------------------------------------------------------------------------------- California


def test_california_allows_five_percent_of_the_wholesale_value() -> None:
    # Foreign: hinge 10 (CN) / wholesale 200 x 100 = 5.00 % <= 5 %.
    claim = california_made_in_usa(case(mat("steel", "60", "US"), mat("hinge", "10", "CN")), POLICY)
    assert claim.status is ClaimStatus.ALLOWED
    assert trail_of(claim)["foreign share"][0] == "5.00 %"


def test_california_seven_percent_with_unavailability_is_allowed() -> None:
    # Foreign 14 / 200 = 7.00 % <= 10 %; hinge 8 (4.00 %) obtainable in the US, bearing 6 (3.00 %) is not:
    # what is obtainable stays <= 5 %, so the unavailable parts cover the excess.
    materials = (mat("hinge", "8", "CN"), mat("bearing", "6", "JP", unavailable_domestically=True))
    claim = california_made_in_usa(case(mat("steel", "60", "US"), *materials), POLICY)
    assert claim.status is ClaimStatus.ALLOWED
    assert trail_of(claim)["foreign share"][0] == "7.00 %"
    assert trail_of(claim)["foreign share (obtainable in the US)"][0] == "4.00 %"
    assert "unavailable in the US" in claim.reasons[0]


def test_california_seven_percent_without_unavailability_is_not_allowed() -> None:
    # Foreign 14 / 200 = 7.00 % > 5 %, and none of it is flagged unavailable.
    claim = california_made_in_usa(case(mat("steel", "60", "US"), mat("hinge", "14", "CN")), POLICY)
    assert claim.status is ClaimStatus.NOT_ALLOWED
    assert "no unavailability showing covers the excess" in claim.reasons[0]


def test_california_unavailability_must_cover_everything_above_five_percent() -> None:
    # Hinge 12 (6.00 %, obtainable) + bearing 2 (1.00 %, unavailable) = 7.00 %: 6 % obtainable > 5 %.
    materials = (mat("hinge", "12", "CN"), mat("bearing", "2", "JP", unavailable_domestically=True))
    assert california_made_in_usa(case(*materials), POLICY).status is ClaimStatus.NOT_ALLOWED


def test_california_above_ten_percent_is_not_allowed_even_if_unavailable() -> None:
    # Bearing 22 / 200 = 11.00 % > 10 %.
    bearing = mat("bearing", "22", "JP", unavailable_domestically=True)
    claim = california_made_in_usa(case(bearing), POLICY)
    assert claim.status is ClaimStatus.NOT_ALLOWED
    assert claim.reasons[0].startswith("foreign parts 11.00 % > 10 %")


def test_california_uses_the_transaction_value_without_a_wholesale_value() -> None:
    # Hinge 6 / TV 120 x 100 = 5.00 %.
    claim = california_made_in_usa(case(mat("hinge", "6", "CN"), wholesale=None), POLICY)
    assert claim.status is ClaimStatus.ALLOWED
    assert "no wholesale value given" in trail_of(claim)["foreign share"][1]


def test_california_needs_us_manufacture() -> None:
    claim = california_made_in_usa(case(mat("steel", "60", "US"), ops=us_routing(transform="MX")), POLICY)
    assert claim.status is ClaimStatus.NOT_ALLOWED
    assert "not manufactured in the US" in claim.reasons[0]


# ---------------------------------------------------------------------------------- Made in Germany


def de_routing(essential_in: str = "DE", transform_in: str = "DE") -> tuple[ProcessStep, ...]:
    return (
        ProcessStep("cast", "CZ"),
        ProcessStep("machine", essential_in, essential=True),
        ProcessStep("assemble", transform_in, confers_origin=True, essential=True),
    )


def test_made_in_germany_allowed_by_its_essential_steps() -> None:
    # Casting in CZ is not essential; machining and assembly (essential) are in DE.
    claim = made_in_germany(case(mat("casting", "40", "CZ"), ops=de_routing()))
    assert claim.status is ClaimStatus.ALLOWED
    assert trail_of(claim)["essential operations"] == ("2", "machine (DE), assemble (DE)")


def test_made_in_germany_not_allowed_with_an_essential_step_abroad() -> None:
    claim = made_in_germany(case(ops=de_routing(essential_in="CZ")))
    assert claim.status is ClaimStatus.NOT_ALLOWED
    assert claim.reasons == ("essential operations outside Germany: machine in CZ",)


def test_made_in_germany_not_allowed_without_essential_steps_or_with_transformation_abroad() -> None:
    none_flagged = made_in_germany(case(ops=(ProcessStep("assemble", "DE", confers_origin=True),)))
    assert none_flagged.status is ClaimStatus.NOT_ALLOWED
    assert "no operation is flagged essential" in none_flagged.reasons[0]
    abroad = made_in_germany(case(ops=de_routing(transform_in="AT")))
    assert abroad.status is ClaimStatus.NOT_ALLOWED
    assert "the last substantial transformation is not in Germany" in abroad.reasons


def test_determine_claims_returns_the_three_claims_in_order_each_for_sign_off() -> None:
    claims = determine_claims(case(mat("steel", "60", "US")), POLICY)
    assert [c.name for c in claims] == ["ftc-made-in-usa", "california-made-in-usa", "made-in-germany"]
    assert [c.status for c in claims] == [
        ClaimStatus.UNQUALIFIED_CANDIDATE,
        ClaimStatus.ALLOWED,
        ClaimStatus.NOT_ALLOWED,
    ]
    assert all(c.review_note == REVIEW_NOTE and c.trail[-1].figure == "status" for c in claims)

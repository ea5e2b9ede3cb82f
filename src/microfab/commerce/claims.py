"""Origin marketing claims: "Made in USA" (FTC, California) and "Made in Germany", as indications with a trail.

The platform computes an indication from the derived BOM and the routing; a person (trade
compliance, legal) signs off before a label or an advert says anything. Thresholds are policy
data (`~microfab.domain.trade.ClaimPolicy`), not law.

- FTC (16 CFR Part 323, the Made in USA Labeling Rule, and the FTC's "all or virtually all"
  standard): an unqualified claim needs the final assembly and all significant processing in the
  US and a negligible foreign content, with no essential foreign component; a qualified claim
  ("Made in USA of U.S. and imported parts") still needs the last substantial transformation in
  the US.
- California (Cal. Bus. & Prof. Code §17533.7): foreign parts at most 5 % of the final wholesale
  value, or at most 10 % when the parts over 5 % cannot be obtained from a US source (shown).
- Germany ("Made in Germany", §127 MarkenG / §5 UWG as applied by the courts): the essential
  manufacturing steps, and the last substantial transformation, take place in Germany.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from microfab.commerce.origin_case import (
    HUNDRED,
    REVIEW_NOTE,
    Material,
    OriginCase,
    Trail,
    TrailEntry,
    last_origin_step,
    percent,
    plain,
    show_exact,
)
from microfab.domain.trade import ClaimPolicy

__all__ = [
    "Claim",
    "ClaimStatus",
    "california_made_in_usa",
    "determine_claims",
    "ftc_made_in_usa",
    "made_in_germany",
]


class ClaimStatus(StrEnum):
    """What a claim indication allows (a person signs off either way)."""

    UNQUALIFIED_CANDIDATE = "unqualified_candidate"
    QUALIFIED_ONLY = "qualified_only"
    ALLOWED = "allowed"
    NOT_ALLOWED = "not_allowed"


@dataclass(frozen=True, slots=True)
class Claim:
    """One claim indication: its status, the reasons for it and the trail of its figures."""

    name: str
    status: ClaimStatus
    reasons: tuple[str, ...]
    trail: tuple[TrailEntry, ...]
    review_note: str = REVIEW_NOTE


def determine_claims(case: OriginCase, policy: ClaimPolicy) -> tuple[Claim, ...]:
    """The FTC and California "Made in USA" and the "Made in Germany" indications of *case*.

    Parameters
    ----------
    case
        The good, its materials (origin, essential, unavailable domestically) and its operations.
    policy
        The foreign-content thresholds (shares) of the claims.

    Returns
    -------
    tuple[Claim, ...]
        ``ftc-made-in-usa``, ``california-made-in-usa``, ``made-in-germany``, in that order.
    """
    return ftc_made_in_usa(case, policy), california_made_in_usa(case, policy), made_in_germany(case)


def ftc_made_in_usa(case: OriginCase, policy: ClaimPolicy) -> Claim:
    """FTC "Made in USA" (16 CFR Part 323): ``unqualified_candidate``, ``qualified_only`` or ``not_allowed``.

    Unqualified needs all four: the final operation in the US; every significant operation in the
    US; the foreign share (materials not of US origin, undetermined counted as foreign, over the
    net cost) at most ``policy.ftc_foreign_share_max``; no essential component of foreign or
    undetermined origin. Failing any, a qualified claim remains when the last substantial
    transformation (the last operation that confers origin) is in the US; otherwise none.
    """
    trail = Trail()
    transformed = _transformed_in(case, "US", trail)
    final = case.operations[-1]
    checks: list[tuple[bool, str]] = [
        (final.country == "US", f"final operation ({final.name}) in {final.country}"),
        _significant_in_us(case, trail),
        _foreign_share(case, policy, trail),
        _no_essential_foreign(case.materials, trail),
    ]
    failed = tuple(why for ok, why in checks if not ok)
    if not transformed:
        status = ClaimStatus.NOT_ALLOWED
        reasons = ("the last substantial transformation is not in the US: no Made in USA claim", *failed)
    elif not failed:
        status, reasons = ClaimStatus.UNQUALIFIED_CANDIDATE, tuple(why for _, why in checks)
    else:
        qualified = "a qualified claim (e.g. 'Made in USA of U.S. and imported parts') may be considered"
        status, reasons = (
            ClaimStatus.QUALIFIED_ONLY,
            (*failed, f"last substantial transformation in the US: {qualified}"),
        )
    trail.add("status", status, "; ".join(reasons))
    return Claim("ftc-made-in-usa", status, reasons, trail.entries())


def california_made_in_usa(case: OriginCase, policy: ClaimPolicy) -> Claim:
    """California "Made in USA" (Cal. Bus. & Prof. Code §17533.7): ``allowed`` or ``not_allowed``.

    Needs manufacture in the US (the last substantial transformation and the final operation) and
    foreign parts (undetermined counted as foreign) of at most 5 % of the final wholesale value
    (the transaction value when none is given), or at most 10 % when the foreign parts flagged
    ``unavailable_domestically`` cover everything above 5 %.
    """
    trail = Trail()
    made_here = _transformed_in(case, "US", trail) and case.operations[-1].country == "US"
    wholesale = case.good.wholesale_value or case.good.transaction_value
    which = "final wholesale value" if case.good.wholesale_value else "transaction value (no wholesale value given)"
    foreign = _foreign(case.materials, "US")
    available = [m for m in foreign if not m.unavailable_domestically]
    share, share_available = _share(foreign, wholesale), _share(available, wholesale)
    trail.add("foreign share", show_exact(share), f"{_sum_text(foreign)} / {wholesale} ({which}) × 100")
    basis = f"{_sum_text(available)} / {wholesale} × 100; the rest is flagged unavailable from US sources"
    trail.add("foreign share (obtainable in the US)", show_exact(share_available), basis)
    low, high = policy.california_foreign_share_max * HUNDRED, policy.california_unavailable_share_max * HUNDRED
    if not made_here:
        status, why = ClaimStatus.NOT_ALLOWED, "not manufactured in the US (last transformation or final operation)"
    elif share <= low:
        status, why = ClaimStatus.ALLOWED, f"foreign parts {show_exact(share)} ≤ {plain(low)} % of the {which}"
    elif share <= high and share_available <= low:
        why = f"foreign parts {show_exact(share)} ≤ {plain(high)} %, those over {plain(low)} % unavailable in the US"
        status, why = ClaimStatus.ALLOWED, f"{why} (keep the documentation of that showing)"
    else:
        status, why = ClaimStatus.NOT_ALLOWED, _california_refusal(share, share_available, low, high)
    trail.add("status", status, f"{why} (§17533.7)")
    return Claim("california-made-in-usa", status, (why,), trail.entries())


def made_in_germany(case: OriginCase) -> Claim:
    """Made in Germany: ``allowed`` when every essential operation and the last origin-conferring one are in DE.

    German case law (§127 MarkenG, §5 UWG) asks that the manufacturing steps giving the product its
    valued properties take place in Germany. Conservatively, a routing with no operation flagged
    essential is ``not_allowed``: the essential steps cannot be shown.
    """
    trail = Trail()
    transformed = _transformed_in(case, "DE", trail)
    essential = [op for op in case.operations if op.essential]
    abroad = [f"{op.name} in {op.country}" for op in essential if op.country != "DE"]
    listed = ", ".join(f"{op.name} ({op.country})" for op in essential) or "none flagged"
    trail.add("essential operations", len(essential), listed)
    reasons = []
    if not essential:
        reasons.append("no operation is flagged essential: the essential steps cannot be shown to be in Germany")
    if abroad:
        reasons.append(f"essential operations outside Germany: {', '.join(abroad)}")
    if not transformed:
        reasons.append("the last substantial transformation is not in Germany")
    status = ClaimStatus.NOT_ALLOWED if reasons else ClaimStatus.ALLOWED
    if not reasons:
        reasons.append("every essential operation and the last substantial transformation are in Germany")
    trail.add("status", status, "; ".join(reasons))
    return Claim("made-in-germany", status, tuple(reasons), trail.entries())


def _transformed_in(case: OriginCase, country: str, trail: Trail) -> bool:
    """Whether the last operation that confers origin is in *country* (none flagged: no)."""
    step = last_origin_step(case.operations)
    if step is None:
        trail.add("last substantial transformation", "unknown", "no operation is flagged as conferring origin")
        return False
    trail.add("last substantial transformation", step.country, f"{step.name}: the last operation conferring origin")
    return step.country == country


def _significant_in_us(case: OriginCase, trail: Trail) -> tuple[bool, str]:
    abroad = [f"{op.name} in {op.country}" for op in case.operations if op.significant and op.country != "US"]
    why = (
        f"significant processing outside the US: {', '.join(abroad)}"
        if abroad
        else "all significant processing in the US"
    )
    trail.add("significant processing", "outside the US" if abroad else "in the US", why)
    return not abroad, why


def _foreign_share(case: OriginCase, policy: ClaimPolicy, trail: Trail) -> tuple[bool, str]:
    foreign = _foreign(case.materials, "US")
    share = _share(foreign, case.good.net_cost)
    limit = policy.ftc_foreign_share_max * HUNDRED
    ok = share <= limit
    basis = (
        f"materials not of US origin (undetermined counted as foreign, indirect included): {_sum_text(foreign)} "
        f"/ net cost {case.good.net_cost} × 100; policy threshold ≤ {plain(limit)} %"
    )
    trail.add("foreign share", show_exact(share), basis)
    return ok, f"foreign share {show_exact(share)} {'≤' if ok else '>'} {plain(limit)} % of the net cost"


def _no_essential_foreign(materials: tuple[Material, ...], trail: Trail) -> tuple[bool, str]:
    foreign = [m for m in _foreign(materials, "US") if m.essential]
    names = ", ".join(f"{m.item} ({m.origin or 'undetermined'})" for m in foreign)
    why = f"essential foreign components: {names}" if foreign else "no essential foreign component"
    trail.add("essential components", "foreign" if foreign else "none foreign", why)
    return not foreign, why


def _foreign(materials: tuple[Material, ...], country: str) -> list[Material]:
    """Materials not of *country* origin; undetermined origin counts as foreign."""
    return [m for m in materials if m.origin != country]


def _share(materials: list[Material], whole: Decimal) -> Decimal:
    return percent(sum((m.value for m in materials), Decimal(0)), whole)


def _sum_text(materials: list[Material]) -> str:
    terms = " + ".join(f"{m.item} {m.value} ({m.origin or 'undetermined'})" for m in materials)
    return f"({terms})" if materials else "0"


def _california_refusal(share: Decimal, available: Decimal, low: Decimal, high: Decimal) -> str:
    if share > high:
        return f"foreign parts {show_exact(share)} > {plain(high)} % of the wholesale value"
    return (
        f"foreign parts {show_exact(share)} > {plain(low)} % and those obtainable in the US "
        f"({show_exact(available)}) exceed {plain(low)} %: no unavailability showing covers the excess"
    )

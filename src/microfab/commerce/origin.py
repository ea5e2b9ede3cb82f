"""Preferential and non-preferential origin of a good: an indication with an audit trail of every figure.

One engine serves every agreement; what differs is data (`~microfab.domain.trade.TradeAgreement`:
members, product-specific rules, de minimis tolerance and its base):

- USMCA: regional value content by transaction value ``(TV − VNM) / TV`` and by net cost
  ``(NC − VNM) / NC`` (Art. 4.5), tariff shift per the product-specific rules (Annex 4-B),
  10 % de minimis of the transaction value (Art. 4.12).
- CPTPP: build-down ``(AV − VNM) / AV`` and build-up ``VOM / AV`` with AV the value of the good
  (Art. 3.5), tariff shift (Annex 3-D), de minimis (Art. 3.11).
- EU–Japan EPA: MaxNOM ``VNM / EXW`` (Annex 3-B) and the 10 % tolerance of the ex-works price
  (Art. 3.6).

VNM counts non-originating *and* undetermined-origin materials; indirect materials count as
originating (CPTPP Art. 3.16; USMCA likewise). A material from a member country counts as
originating (cumulation), relying on its supplier's origin certification. Non-preferential origin
(marking) is the country of the last operation that confers origin. Everything is an indication:
a person signs off.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from microfab.commerce.origin_case import (
    REVIEW_NOTE,
    Good,
    Material,
    OriginCase,
    ProcessStep,
    Trail,
    TrailEntry,
    last_origin_step,
    shown,
)
from microfab.commerce.origin_rules import (
    THRESHOLD_KEYS,
    ShiftOutcome,
    decide,
    find_rule,
    override_thresholds,
    shift_test,
    value_tests,
)
from microfab.domain.trade import OriginRule, TradeAgreement, ValueMethod

__all__ = [
    "REVIEW_NOTE",
    "THRESHOLD_KEYS",
    "Good",
    "Material",
    "MaterialStatus",
    "OriginCase",
    "OriginResult",
    "ProcessStep",
    "TrailEntry",
    "determine_origin",
    "non_preferential_origin",
    "override_thresholds",
]


class MaterialStatus(StrEnum):
    """How a material counts under an agreement."""

    ORIGINATING = "originating"
    NON_ORIGINATING = "non-originating"
    UNDETERMINED = "undetermined"


@dataclass(frozen=True, slots=True)
class OriginResult:
    """The origin indication of a good under one agreement (or none), with the trail of every figure.

    Percent figures are quantized to 0.01 (half up) for display; the tests compare exact values.
    A figure is None when the rule names no such test (or no agreement is given); ``tariff_shift``
    is None when the rule has no shift; ``de_minimis`` is None unless a failed shift needed it.
    """

    agreement: str | None
    producer_country: str
    vnm: Decimal | None
    vom: Decimal | None
    rvc_tv: Decimal | None
    rvc_nc: Decimal | None
    build_down: Decimal | None
    build_up: Decimal | None
    maxnom: Decimal | None
    tariff_shift: bool | None
    de_minimis: bool | None
    originating: bool
    test_passed: str | None
    non_preferential_origin: str | None
    trail: tuple[TrailEntry, ...]
    review_note: str = REVIEW_NOTE


@dataclass(frozen=True, slots=True)
class _Line:
    material: Material
    status: MaterialStatus


def determine_origin(case: OriginCase, agreement: TradeAgreement | None) -> OriginResult:
    """Whether *case*'s good originates under *agreement*, which test passed, and the non-preferential origin.

    Parameters
    ----------
    case
        The good, its materials, its operations in routing order and its destination.
    agreement
        The agreement with its members and product-specific rules (USMCA Annex 4-B, CPTPP
        Annex 3-D, EU–Japan Annex 3-B, as data); None computes the non-preferential origin only.

    Returns
    -------
    OriginResult
        The figures, the outcome and the trail, an indication for a person to sign off.
    """
    trail = Trail()
    marking = non_preferential_origin(case, trail)
    step = last_origin_step(case.operations) or case.operations[-1]
    if agreement is None:
        trail.add("agreement", "none", "no preferential agreement given: only the non-preferential origin is indicated")
        return _marking_only(step.country, marking, trail)
    territorial = _territoriality(case, agreement, trail)
    lines = _classify(case, agreement, trail)
    vnm, vom = _totals(case, lines, trail)
    rule = find_rule(case, agreement, trail)
    non_originating = [line.material for line in lines if line.status is not MaterialStatus.ORIGINATING]
    values = value_tests(case, rule, vnm, vom, trail) if rule else {}
    shift = shift_test(case, agreement, rule, non_originating, trail) if rule else ShiftOutcome(None, None)
    passed = decide(rule, shift, values, only_originating=not non_originating)
    originating = territorial and passed is not None
    _outcome(rule, passed, territorial=territorial, trail=trail)
    _preference(case, agreement, originating, trail)
    figure = {method: shown(exact) for method, (exact, _) in values.items()}
    return OriginResult(
        agreement=agreement.name,
        producer_country=step.country,
        vnm=vnm,
        vom=vom,
        rvc_tv=figure.get(ValueMethod.TRANSACTION_VALUE),
        rvc_nc=figure.get(ValueMethod.NET_COST),
        build_down=figure.get(ValueMethod.BUILD_DOWN),
        build_up=figure.get(ValueMethod.BUILD_UP),
        maxnom=figure.get(ValueMethod.MAXNOM),
        tariff_shift=shift.passed,
        de_minimis=shift.de_minimis,
        originating=originating,
        test_passed=passed if originating else None,
        non_preferential_origin=marking,
        trail=trail.entries(),
    )


def non_preferential_origin(case: OriginCase, trail: Trail | None = None) -> str | None:
    """The country of the last operation that confers origin (last substantial transformation), for marking.

    None when no operation is flagged as conferring origin: origin then follows the materials and a
    person decides. Either way an indication for human review.
    """
    step = last_origin_step(case.operations)
    if trail is not None:
        if step is None:
            basis = "no operation confers origin: the origin follows the materials; indication, human review"
            trail.add("non-preferential origin", "undetermined", basis)
        else:
            basis = f"country of the last operation that confers origin ({step.name}); indication, human review"
            trail.add("non-preferential origin", step.country, basis)
    return None if step is None else step.country


def _territoriality(case: OriginCase, agreement: TradeAgreement, trail: Trail) -> bool:
    """The producer (last origin-conferring operation) and every other operation must be in member countries."""
    step = last_origin_step(case.operations)
    if step is None:
        step = case.operations[-1]
        how = f"no operation confers origin: the last operation ({step.name}) is taken"
    else:
        how = f"the last operation that confers origin ({step.name})"
    member = step.country in agreement.members
    side = "a party" if member else "not a party"
    trail.add("producer country", step.country, f"{how}; {step.country} is {side} to {agreement.name}")
    outside = [f"{op.name} in {op.country}" for op in case.operations if op.country not in agreement.members]
    if outside:
        basis = f"production must take place entirely in the parties; outside {agreement.name}: {', '.join(outside)}"
        trail.add("territoriality", "not met", basis)
    else:
        trail.add("territoriality", "met", f"every operation is in a {agreement.name} party")
    return member and not outside


def _classify(case: OriginCase, agreement: TradeAgreement, trail: Trail) -> tuple[_Line, ...]:
    """Each material as originating, non-originating or undetermined, with why."""
    lines = []
    for m in case.materials:
        amount = case.amount(m.value)
        if m.indirect:
            line, why = _Line(m, MaterialStatus.ORIGINATING), "indirect material: counted as originating wherever made"
        elif not m.origin:
            line, why = _Line(m, MaterialStatus.UNDETERMINED), "undetermined origin: counted as non-originating"
        elif m.origin in agreement.members:
            line = _Line(m, MaterialStatus.ORIGINATING)
            why = f"origin {m.origin} is a {agreement.name} party (relies on the supplier's origin certification)"
        else:
            line, why = _Line(m, MaterialStatus.NON_ORIGINATING), f"origin {m.origin} is not a {agreement.name} party"
        trail.add(f"material {m.item}", line.status, f"{amount}, HS {m.hs or '?'}; {why}")
        lines.append(line)
    return tuple(lines)


def _totals(case: OriginCase, lines: tuple[_Line, ...], trail: Trail) -> tuple[Decimal, Decimal]:
    """VNM (non-originating and undetermined) and VOM (originating, indirect included)."""
    non = [line.material for line in lines if line.status is not MaterialStatus.ORIGINATING]
    orig = [line.material for line in lines if line.status is MaterialStatus.ORIGINATING]
    vnm = sum((m.value for m in non), Decimal(0))
    vom = sum((m.value for m in orig), Decimal(0))
    trail.add("VNM", case.amount(vnm), f"non-originating and undetermined-origin materials: {_items(non)}")
    trail.add("VOM", case.amount(vom), f"originating materials (indirect included): {_items(orig)}")
    return vnm, vom


def _items(materials: list[Material]) -> str:
    return " + ".join(f"{m.item} {m.value}" for m in materials) or "none"


def _outcome(rule: OriginRule | None, passed: str | None, *, territorial: bool, trail: Trail) -> None:
    """The outcome and the reason for it."""
    if not territorial:
        trail.add("outcome", "not originating", "production is not entirely in the parties (see producer country)")
    elif passed == "originating-materials-only":
        trail.add("outcome", "originating", "produced in the parties exclusively from originating materials")
    elif passed is not None:
        trail.add("outcome", "originating", f"{passed} passed")
    elif rule is None:
        trail.add("outcome", "not originating", "no product-specific rule applies and VNM is not zero")
    else:
        trail.add("outcome", "not originating", f"the rule ({rule.combine}) is not met: see the tests above")


def _preference(case: OriginCase, agreement: TradeAgreement, originating: bool, trail: Trail) -> None:
    """Whether a preference can be claimed at the destination."""
    dest, producer = case.destination, (last_origin_step(case.operations) or case.operations[-1]).country
    if dest == producer:
        trail.add("preference", "not needed", f"the destination {dest} is the producer's own country")
    elif dest not in agreement.members:
        trail.add("preference", "not available", f"the destination {dest} is not a {agreement.name} party")
    else:
        state = "claimable" if originating else "not claimable"
        trail.add("preference", state, f"{dest} is a {agreement.name} party; indication, a person signs off")


def _marking_only(producer: str, marking: str | None, trail: Trail) -> OriginResult:
    """The result without an agreement: the non-preferential origin and nothing preferential."""
    return OriginResult(
        agreement=None,
        producer_country=producer,
        vnm=None,
        vom=None,
        rvc_tv=None,
        rvc_nc=None,
        build_down=None,
        build_up=None,
        maxnom=None,
        tariff_shift=None,
        de_minimis=None,
        originating=False,
        test_passed=None,
        non_preferential_origin=marking,
        trail=trail.entries(),
    )

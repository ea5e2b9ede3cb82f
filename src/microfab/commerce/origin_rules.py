"""Applying a product-specific rule of origin: value tests, tariff shift, de minimis, and threshold overrides.

The rule is data (`~microfab.domain.trade.OriginRule`, from USMCA Annex 4-B, CPTPP Annex 3-D or
EU–Japan Annex 3-B); this module only evaluates it and writes each figure to the trail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Final

from microfab.commerce.origin_case import (
    HUNDRED,
    Good,
    Material,
    OriginCase,
    Trail,
    TrailEntry,
    percent,
    plain,
    show_exact,
)
from microfab.domain.trade import Combine, OriginRule, TradeAgreement, ValueBase, ValueMethod, hs_digits

THRESHOLD_KEYS: Final[Mapping[str, ValueMethod]] = {
    "rvc_tv": ValueMethod.TRANSACTION_VALUE,
    "rvc_nc": ValueMethod.NET_COST,
    "build_down": ValueMethod.BUILD_DOWN,
    "build_up": ValueMethod.BUILD_UP,
    "maxnom": ValueMethod.MAXNOM,
}
"""Threshold override keys (the names of the output figures) → the value test they set; plus ``de_minimis``."""

_TEST_NAMES: Final = {
    ValueMethod.TRANSACTION_VALUE: "rvc-transaction-value",
    ValueMethod.NET_COST: "rvc-net-cost",
    ValueMethod.BUILD_DOWN: "build-down",
    ValueMethod.BUILD_UP: "build-up",
    ValueMethod.MAXNOM: "maxnom",
}
_DE_MINIMIS_ARTICLES: Final = {"USMCA": "USMCA Art. 4.12", "CPTPP": "CPTPP Art. 3.11", "EU-JP": "EU–Japan EPA Art. 3.6"}


@dataclass(frozen=True, slots=True)
class ShiftOutcome:
    """The tariff shift (None: the rule has none) and the de minimis rescue (None: not needed)."""

    passed: bool | None
    de_minimis: bool | None

    @property
    def satisfied(self) -> bool:
        """Whether the shift is met outright or deemed met by de minimis."""
        return bool(self.passed or self.de_minimis)

    @property
    def label(self) -> str:
        """The test's name for `decide`."""
        return "tariff-shift" if self.passed else "tariff-shift with de minimis"


def override_thresholds(
    agreement: TradeAgreement, hs: str, overrides: Mapping[str, Decimal]
) -> tuple[TradeAgreement, tuple[TrailEntry, ...]]:
    """The agreement with the value thresholds of *hs*'s rule and the de minimis replaced, and trail entries.

    *overrides* maps `THRESHOLD_KEYS` (``rvc_tv``, ``rvc_nc``, ``build_down``, ``build_up``,
    ``maxnom``) and ``de_minimis`` to percents in [0, 100]. Only tests the rule names can be
    overridden; a rule's tests are changed by giving a whole rule instead. Errors name the key.
    """
    trail = Trail()
    for key, value in overrides.items():
        if key != "de_minimis" and key not in THRESHOLD_KEYS:
            known = ", ".join(sorted([*THRESHOLD_KEYS, "de_minimis"]))
            raise ValueError(f"thresholds.{key}: unknown threshold; expected one of {known}")
        if not isinstance(value, Decimal) or not value.is_finite() or not 0 <= value <= HUNDRED:
            raise ValueError(f"thresholds.{key}: expected a percent in [0, 100], got {value}")
    if "de_minimis" in overrides:
        new = overrides["de_minimis"] / HUNDRED
        old = plain(agreement.de_minimis * HUNDRED)
        trail.add("override de_minimis", f"{plain(overrides['de_minimis'])} %", f"set by the input (data: {old} %)")
        agreement = replace(agreement, de_minimis=new)
    methods = {THRESHOLD_KEYS[k]: v for k, v in overrides.items() if k in THRESHOLD_KEYS}
    if not methods:
        return agreement, trail.entries()
    rule = agreement.rule_for(hs)
    if rule is None:
        raise ValueError(f"thresholds: {agreement.name} has no product-specific rule for HS {hs} to override")
    for method, value in methods.items():
        key = next(k for k, m in THRESHOLD_KEYS.items() if m is method)
        if method not in rule.values:
            named = ", ".join(rule.values) or "no value test"
            raise ValueError(f"thresholds.{key}: the rule for HS {rule.hs} has no {method} test ({named}); give a rule")
        trail.add(
            f"override {key}", f"{plain(value)} %", f"set by the input (rule data: {plain(rule.values[method])} %)"
        )
    updated = replace(rule, values={**rule.values, **methods})
    return replace(agreement, rules=tuple(updated if r is rule else r for r in agreement.rules)), trail.entries()


def find_rule(case: OriginCase, agreement: TradeAgreement, trail: Trail) -> OriginRule | None:
    """The agreement's product-specific rule for the good's HS code (longest prefix), stated in the trail."""
    rule = agreement.rule_for(case.good.hs)
    if rule is None:
        trail.add("rule", "none", f"no product-specific rule for HS {case.good.hs} in the {agreement.name} data")
        return None
    parts = [f"change of {rule.shift}" if rule.shift else ""]
    parts += [f"except from {', '.join(rule.shift_except)}" if rule.shift_except else ""]
    parts += [", ".join(f"{m} {'≤' if m is ValueMethod.MAXNOM else '≥'} {plain(v)} %" for m, v in rule.values.items())]
    text = "; ".join(p for p in parts if p)
    trail.add("rule", f"HS {rule.hs}: {rule.combine}", f"product-specific rule ({text}) for HS {case.good.hs}")
    return rule


def value_tests(
    case: OriginCase, rule: OriginRule, vnm: Decimal, vom: Decimal, trail: Trail
) -> dict[ValueMethod, tuple[Decimal, bool]]:
    """Each value test the rule names: the exact percent and whether it meets its threshold."""
    good = case.good
    results: dict[ValueMethod, tuple[Decimal, bool]] = {}
    for method in ValueMethod:
        if method not in rule.values:
            continue
        threshold = rule.values[method]
        exact, formula = _value_figure(method, good, vnm, vom)
        ok = exact <= threshold if method is ValueMethod.MAXNOM else exact >= threshold
        sign = "≤" if method is ValueMethod.MAXNOM else "≥"
        verdict = "passes" if ok else "fails"
        trail.add(
            _TEST_NAMES[method], show_exact(exact), f"{formula}; threshold {sign} {plain(threshold)} %: {verdict}"
        )
        results[method] = (exact, ok)
    return results


def _value_figure(method: ValueMethod, good: Good, vnm: Decimal, vom: Decimal) -> tuple[Decimal, str]:
    tv, nc = good.transaction_value, good.net_cost
    if method is ValueMethod.TRANSACTION_VALUE:
        return percent(tv - vnm, tv), f"(TV − VNM) / TV × 100 = ({tv} − {vnm}) / {tv} × 100 (USMCA Art. 4.5)"
    if method is ValueMethod.NET_COST:
        return percent(nc - vnm, nc), f"(NC − VNM) / NC × 100 = ({nc} − {vnm}) / {nc} × 100 (USMCA Art. 4.5)"
    if method is ValueMethod.BUILD_DOWN:
        return percent(tv - vnm, tv), f"(AV − VNM) / AV × 100 = ({tv} − {vnm}) / {tv} × 100, AV = TV (CPTPP Art. 3.5)"
    if method is ValueMethod.BUILD_UP:
        return percent(vom, tv), f"VOM / AV × 100 = {vom} / {tv} × 100, AV = TV (CPTPP Art. 3.5)"
    exw, which = (good.ex_works, "ex-works price") if good.ex_works else (tv, "no ex-works price: TV used")
    return percent(vnm, exw), f"VNM / EXW × 100 = {vnm} / {exw} × 100, {which} (EU–Japan EPA Annex 3-B)"


def shift_test(
    case: OriginCase, agreement: TradeAgreement, rule: OriginRule, non_originating: list[Material], trail: Trail
) -> ShiftOutcome:
    """Every non-originating (or undetermined) material must change classification at the rule's level.

    A material fails when its HS code is in the good's chapter, heading or subheading (the rule's
    level), starts with one of the rule's ``shift_except`` prefixes, or has too few digits to tell.
    When some fail, de minimis may deem the shift met (USMCA Art. 4.12, CPTPP Art. 3.11, EU–Japan
    Art. 3.6); their value stays in VNM for the value tests.
    """
    if rule.shift is None:
        return ShiftOutcome(None, None)
    failing = []
    for m in non_originating:
        why = _shift_failure(case.good.hs, m.hs, rule)
        trail.add(f"shift {m.item}", "no" if why else "yes", why or f"HS {m.hs} → {case.good.hs}: changes {rule.shift}")
        if why:
            failing.append(m)
    if not failing:
        trail.add("tariff shift", "met", f"every non-originating material changes {rule.shift}")
        return ShiftOutcome(True, None)
    trail.add("tariff shift", "not met", f"materials without the change of {rule.shift}: {_items(failing)}")
    return ShiftOutcome(False, _de_minimis(case, agreement, failing, trail))


def _shift_failure(good_hs: str, material_hs: str, rule: OriginRule) -> str | None:
    """Why a non-originating material does not satisfy the shift, or None when it does."""
    assert rule.shift is not None
    level, good, mat = rule.shift.digits, hs_digits(good_hs), hs_digits(material_hs)
    if len(mat) < level:
        return f"HS {material_hs or '?'} has too few digits to show a change of {rule.shift}"
    excluded = next((p for p in rule.shift_except if mat.startswith(hs_digits(p))), None)
    if excluded is not None:
        return f"HS {material_hs} is excluded as a source by the rule (except from {excluded})"
    if mat[:level] == good[:level]:
        return f"HS {material_hs} is in the same {rule.shift} ({good[:level]}) as the good"
    return None


def _de_minimis(case: OriginCase, agreement: TradeAgreement, failing: list[Material], trail: Trail) -> bool:
    """The failing materials' value against the tolerance (a share of TV, or of the ex-works price for EU–JP)."""
    good = case.good
    if agreement.de_minimis_base is ValueBase.EX_WORKS and good.ex_works is not None:
        base, which = good.ex_works, "ex-works price"
    elif agreement.de_minimis_base is ValueBase.EX_WORKS:
        base, which = good.transaction_value, "transaction value (no ex-works price given)"
    else:
        base, which = good.transaction_value, "transaction value"
    value = sum((m.value for m in failing), Decimal(0))
    share = percent(value, base)
    ok = value <= agreement.de_minimis * base
    article = _DE_MINIMIS_ARTICLES.get(agreement.name, f"{agreement.name} de minimis")
    limit = plain(agreement.de_minimis * HUNDRED)
    verdict = "the shift is deemed met (the value stays in VNM)" if ok else "not rescued"
    basis = f"{value} / {base} ({which}) × 100; tolerance ≤ {limit} % ({article}): {verdict}"
    trail.add("de minimis", show_exact(share), basis)
    return ok


def decide(
    rule: OriginRule | None,
    shift: ShiftOutcome,
    values: dict[ValueMethod, tuple[Decimal, bool]],
    *,
    only_originating: bool,
) -> str | None:
    """The test that makes the good originating under the rule, or None."""
    if only_originating:
        return "originating-materials-only"
    if rule is None:
        return None
    value = next((_TEST_NAMES[m] for m, (_, ok) in values.items() if ok), None)
    shift_label = shift.label if shift.satisfied else None
    if rule.combine is Combine.SHIFT:
        return shift_label
    if rule.combine is Combine.VALUE:
        return value
    if rule.combine is Combine.SHIFT_OR_VALUE:
        return shift_label or value
    return f"{shift_label} and {value}" if shift_label and value else None


def _items(materials: list[Material]) -> str:
    return " + ".join(f"{m.item} {m.value}" for m in materials) or "none"

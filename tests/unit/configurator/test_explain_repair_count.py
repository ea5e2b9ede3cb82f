"""explain (minimal conflicts), repair, count and check_product."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings

from microfab import configurator
from microfab.configurator import brute, search
from microfab.domain.formula import parse
from microfab.domain.products import ConfigValue, LinearRule, ProductTemplate
from tests.unit.configurator.conftest import example
from tests.unit.configurator.test_valid_values import STAND, partials


def feasible(product: ProductTemplate, choices: dict[str, ConfigValue], rules: set[str]) -> bool:
    """Whether *choices* extend to a configuration obeying only *rules* (brute force)."""
    subset = replace(product, rules=tuple(r for r in product.rules if r.id in rules))
    return next(brute.solutions(subset, choices), None) is not None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(partials(STAND, at_least=2))
def test_explain_returns_a_minimal_conflict(partial: dict[str, ConfigValue]) -> None:
    conflict = configurator.explain(STAND, partial)
    if conflict is None:
        assert next(brute.solutions(STAND, partial), None) is not None
        return
    rules = {r.rule_id for r in conflict.rules}
    assert set(conflict.choices.items()) <= set(partial.items())
    assert not feasible(STAND, conflict.choices, rules)
    for name in conflict.choices:
        rest = {k: v for k, v in conflict.choices.items() if k != name}
        assert feasible(STAND, rest, rules), f"dropping choice {name} should make it feasible"
    for rule in rules:
        assert feasible(STAND, conflict.choices, rules - {rule}), f"dropping rule {rule} should make it feasible"


def test_explain_renders_the_rule_messages(stand: ProductTemplate) -> None:
    conflict = configurator.explain(stand, {"material": "walnut", "usb_hub": True, "finish": "oiled"})
    assert conflict is not None
    assert conflict.choices == {"material": "walnut", "usb_hub": True}
    assert [(v.rule_id, v.message) for v in conflict.rules] == [
        ("usb-hub-needs-aluminium", "a USB hub needs the aluminium body, not walnut")
    ]
    assert configurator.explain(stand, {"material": "walnut"}) is None


def test_repair_changes_as_little_as_possible(stand: ProductTemplate) -> None:
    fixed = configurator.repair(stand, {"material": "walnut", "usb_hub": True, "width": 300, "finish": "oiled"})
    assert fixed.changed == ("usb_hub",)
    assert configurator.validate(stand, fixed.config) == []
    shortened = configurator.repair(stand, {"width": 250, "engraving": "ABCDEFGHIJKLMNOPQRST"})
    assert configurator.validate(stand, shortened.config) == []
    assert len(shortened.changed) == 1


def test_repair_cheapest_prefers_the_lower_price(stand: ProductTemplate) -> None:
    cheap = configurator.repair(stand, {"usb_hub": True, "material": "walnut"}, "cheapest")
    default = configurator.repair(stand, {"usb_hub": True, "material": "walnut"})
    assert len(cheap.changed) == len(default.changed) == 1
    assert stand.unit_price(cheap.config) <= stand.unit_price(default.config)
    assert cheap.config["width"] == 250
    with pytest.raises(ValueError, match="objective"):
        configurator.repair(stand, {}, "fastest")  # type: ignore[arg-type]


def test_count_brute_dp_and_cpsat_agree(stand: ProductTemplate, planter: ProductTemplate) -> None:
    for product in (stand, planter, example("monitor-riser")):
        expected = configurator.count(product, method="brute")
        assert configurator.count(product, method="dp") == expected
        assert configurator.count(product, method="cpsat") == expected
        assert configurator.count(product, method="table") == expected
    assert configurator.count(stand) == 2756


def test_count_large_product(shelving: ProductTemplate) -> None:
    assert configurator.raw_space(shelving) >= 10**8
    assert configurator.count(shelving) == 3_110_286
    assert search.components(shelving)[-1] in (["back_panel", "lighting"], ["lighting", "back_panel"])


def test_check_product_reports_rules_that_admit_nothing(stand: ProductTemplate) -> None:
    assert configurator.check_product(stand) is None
    broken = replace(stand, rules=(*stand.rules, LinearRule("too-wide", "at least {width}", parse("width >= 500"))))
    problem = configurator.check_product(broken)
    assert problem is not None
    assert "admit no configuration" in problem
    assert "too-wide" in problem
    nonlinear = replace(stand, rules=(LinearRule("sq", "m", parse("width * width <= 90000")),))
    assert "not linear" in (configurator.check_product(nonlinear) or "")

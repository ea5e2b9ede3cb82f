"""Capacity expansion: hand-checkable instances, the validator, the greedy baseline and the generator."""

from __future__ import annotations

from dataclasses import replace

import pytest

from microfab.planning.expand import expand_milp
from microfab.planning.expand_generator import generate
from microfab.planning.expand_greedy import expand_greedy
from microfab.planning.expand_problem import (
    Change,
    Demand,
    ExpansionPlan,
    ExpansionProblem,
    ExpansionSite,
    ExpansionStatus,
    Family,
    ModuleOption,
    Period,
    Route,
)
from microfab.planning.expand_validate import validate

HOURS = 100.0  # calendar hours per period: one module of rate 1 gives 100 standard hours


def problem(
    demand: tuple[float, ...],
    *,
    existing: int = 1,
    slots: int = 10,
    lead: int = 0,
    capex: float = 10.0,
    deploy_cost: float = 50.0,
    retire_cost: float = 5.0,
    penalty: float = 100.0,
    retire: bool = True,
    option: ModuleOption | None = None,
    family: Family | None = None,
) -> ExpansionProblem:
    """One site, one market, one family needing 1 h of capability ``c`` a unit; one module type."""
    kind = option or ModuleOption(
        "cell", frozenset({"c"}), rate=1.0, capex=capex, deploy_cost=deploy_cost, retire_cost=retire_cost, lead=lead
    )
    return ExpansionProblem(
        periods=tuple(Period(f"P{p}", HOURS, 1.0) for p in range(len(demand))),
        families=(family or Family("f", {"c": 1.0}),),
        types=(kind,),
        sites=(ExpansionSite("s", slots, {kind.name: existing} if existing else {}),),
        demands=(Demand("m", (family.name if family else "f"), demand, penalty),),
        routes=(Route("s", "m", family.name if family else "f", production=1.0),),
        currency="USD",
        retire=retire,
    )


def solve(p: ExpansionProblem) -> ExpansionPlan:
    plan = expand_milp(p, time_limit=10, gap=1e-9)
    assert validate(p, plan) == []
    return plan


def test_a_module_is_deployed_exactly_when_demand_outgrows_capacity() -> None:
    plan = solve(problem((80, 80, 80, 150, 150, 150), lead=2))
    assert plan.deployments == (Change("s", "cell", 3, 1),)
    assert plan.retirements == ()
    assert plan.lost == ()
    assert plan.fleet[("s", "cell")] == (1, 1, 1, 2, 2, 2)
    assert plan.status is ExpansionStatus.OPTIMAL
    # capex 6 x 10 + 3 x 10, deploy 50, production 1 a unit.
    assert plan.objective == pytest.approx(90 + 50 + 690)


def test_the_lead_time_delays_the_deployment_and_the_shortfall_before_is_lost() -> None:
    plan = solve(problem((150, 150, 150, 150), lead=2))
    assert plan.deployments == (Change("s", "cell", 2, 1),)
    assert [(x.period, x.units) for x in plan.lost] == [(0, pytest.approx(50)), (1, pytest.approx(50))]


def test_slots_cap_the_fleet_and_the_rest_is_lost() -> None:
    plan = solve(problem((300, 300), slots=2))
    assert plan.deployments == (Change("s", "cell", 0, 1),)
    assert [x.units for x in plan.lost] == [pytest.approx(100), pytest.approx(100)]


def test_a_type_taking_two_slots_does_not_fit_one_free_slot() -> None:
    wide = ModuleOption("line", frozenset({"c"}), rate=1.0, slots=2, capex=10, deploy_cost=50)
    p = problem((100, 200), existing=1, slots=2, option=wide)
    plan = solve(p)
    assert plan.deployments == ()
    assert [x.units for x in plan.lost] == [pytest.approx(100)]


def test_modules_are_retired_when_demand_falls() -> None:
    plan = solve(problem((250, 250, 250, 50, 50, 50), existing=3))
    assert plan.retirements == (Change("s", "cell", 3, 2),)
    assert plan.fleet[("s", "cell")] == (3, 3, 3, 1, 1, 1)


def test_nothing_is_retired_when_retiring_is_off() -> None:
    plan = solve(problem((250, 250, 250, 50, 50, 50), existing=3, retire=False))
    assert plan.retirements == ()
    assert plan.fleet[("s", "cell")] == (3,) * 6


def test_demand_is_lost_when_capex_exceeds_the_margin() -> None:
    # Margin: 4 a unit (penalty 5 - production 1); 10 units a period cannot pay 1,000 a month.
    plan = solve(problem((10, 10, 10), existing=0, capex=1000.0, penalty=5.0))
    assert plan.deployments == ()
    assert sum(x.units for x in plan.lost) == pytest.approx(30)
    assert plan.objective == pytest.approx(150)


def test_a_module_shares_its_hours_over_its_capabilities() -> None:
    both = ModuleOption("combo", frozenset({"a", "b"}), rate=1.0, capex=0.0, deploy_cost=1e9)
    p = problem((100,), option=both, family=Family("f", {"a": 1.0, "b": 1.0}))
    plan = solve(p)
    served = sum(f.units for f in plan.flows)
    assert served == pytest.approx(50)  # 100 h for 2 h a unit, not 100 h per capability
    hours = {u.capability: u.hours for u in plan.usage}
    assert hours == {"a": pytest.approx(50), "b": pytest.approx(50)}


def test_a_route_with_a_reason_serves_nothing() -> None:
    p = problem((50,))
    closed = replace(p, routes=(Route("s", "m", "f", reason="no open lane"),))
    plan = solve(closed)
    assert plan.flows == ()
    assert plan.lost[0].units == pytest.approx(50)


def test_the_validator_catches_a_deployment_before_its_lead_time() -> None:
    p = problem((80, 150), lead=1)
    plan = solve(p)
    early = replace(plan, deployments=(Change("s", "cell", 0, 1),))
    issues = validate(p, early)
    assert any("before its lead time" in i for i in issues)
    assert any("fleet s/cell" in i for i in issues)


def test_the_validator_catches_overloaded_capacity_and_wrong_costs() -> None:
    p = problem((80, 80))
    plan = solve(p)
    heavy = replace(plan, flows=tuple(replace(f, units=f.units * 2) for f in plan.flows))
    issues = validate(p, heavy)
    assert any("load" in i and "capacity" in i for i in issues)
    assert any("served of" in i for i in issues)
    assert any("objective" in i for i in issues)


def test_the_problem_rejects_existing_modules_beyond_the_slots() -> None:
    with pytest.raises(ValueError, match="take 3 slots, the site has 2"):
        problem((10,), existing=3, slots=2)


def test_greedy_and_milp_are_valid_and_the_milp_is_no_worse() -> None:
    p = generate(4, 5, 8, 6, 3, seed=2)
    greedy = expand_greedy(p)
    plan = expand_milp(p, time_limit=10, gap=1e-3)
    assert validate(p, greedy) == []
    assert validate(p, plan) == []
    assert greedy.status is ExpansionStatus.HEURISTIC
    assert greedy.retirements == ()
    assert plan.lower_bound is not None
    assert plan.lower_bound <= greedy.objective
    assert plan.objective <= greedy.objective * (1 + 1e-6)


def test_greedy_adds_the_module_that_pays() -> None:
    plan = expand_greedy(problem((80, 80, 80, 150, 150, 150), lead=2))
    assert plan.deployments == (Change("s", "cell", 3, 1),)


def test_the_generator_is_seeded() -> None:
    assert generate(3, 4, 6, 5, 2, seed=7) == generate(3, 4, 6, 5, 2, seed=7)
    assert generate(3, 4, 6, 5, 2, seed=7) != generate(3, 4, 6, 5, 2, seed=8)

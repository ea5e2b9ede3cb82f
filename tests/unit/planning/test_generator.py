"""The seeded generator of allocation problems: reproducible, the documented shape, solvable."""

from __future__ import annotations

from collections import Counter

import pytest

from microfab.planning.generator import generate, small
from microfab.planning.greedy import allocate_greedy
from microfab.planning.problem import AllocationProblem
from microfab.planning.validate import validate


@pytest.fixture(scope="module")
def large() -> AllocationProblem:
    return generate(seed=3)


def test_the_same_seed_gives_the_same_problem_and_another_seed_another() -> None:
    assert small(4) == small(4)
    assert small(4) != small(5)


def test_the_default_instance_is_a_thousand_orders_on_ten_sites_over_thirty_days(large: AllocationProblem) -> None:
    assert (len(large.orders), len(large.sites), len(large.buckets)) == (1000, 10, 30)
    assert [(b.start, b.end) for b in large.buckets[:2]] == [(0, 24), (24, 48)]
    capabilities = {c for s in large.sites for c in s.capacity}
    assert 5 <= len(capabilities) <= 8
    assert len(large.pairs) == 1000 * 10
    assert large.currency == "EUR"


def test_some_lanes_are_closed_and_some_sites_lack_capabilities(large: AllocationProblem) -> None:
    reasons = Counter((p.reason or "").split(" ")[0] for p in large.pairs)
    assert reasons["lane"] > 0
    assert reasons["no"] > 0
    capabilities = {c for s in large.sites for c in s.capacity}
    assert any(set(s.capacity) < capabilities for s in large.sites)
    assert sum(bool(large.eligible(o.id)) for o in large.orders) > 900


def test_capacity_is_95_to_110_percent_of_the_demand_per_capability(large: AllocationProblem) -> None:
    for capability in {c for s in large.sites for c in s.capacity}:
        demand = sum(o.work.get(capability, 0.0) for o in large.orders)
        supply = sum(sum(s.capacity.get(capability, ())) for s in large.sites)
        assert 0.94 <= supply / demand <= 1.11


def test_due_dates_spread_over_the_horizon_with_splittable_orders_and_fixed_costs(large: AllocationProblem) -> None:
    dues = sorted(o.due for o in large.orders)
    horizon = large.buckets[-1].end
    assert dues[0] < 0.2 * horizon + 48
    assert dues[-1] > 0.9 * horizon
    assert 100 < sum(o.splittable for o in large.orders) < 400
    assert sum(float(s.fixed_cost) > 0 for s in large.sites) == 3
    assert all(2 <= len(o.work) <= 4 and 1 <= o.quantity <= 40 for o in large.orders)
    assert all(float(o.reject_penalty) > 0 and float(o.weight) > 0 for o in large.orders)


def test_the_greedy_plan_of_the_large_instance_is_valid_and_leaves_demand_out(large: AllocationProblem) -> None:
    plan = allocate_greedy(large)
    assert validate(large, plan) == []
    assert 0.5 < len(plan.assignments) / len(large.orders) < 0.95

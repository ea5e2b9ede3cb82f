"""The allocation MILP on hand-computed instances, the greedy baseline, the validator and ``microfab plan``."""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from microfab.cli.plan import app
from microfab.control import operations
from microfab.control.bootstrap import bootstrap
from microfab.control.plan_backlog import backlog_problem
from microfab.domain.commands import PlaceOrder
from microfab.manifests import load_resources
from microfab.planning.generator import generate, small
from microfab.planning.greedy import allocate_greedy
from microfab.planning.milp import allocate_milp
from microfab.planning.problem import (
    AllocationPlan,
    AllocationProblem,
    Bucket,
    PairCost,
    PlanOrder,
    PlanSite,
    PlanStatus,
    Rejection,
    Share,
    evaluate,
)
from microfab.planning.validate import _capacity, validate
from microfab.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "network"
DAY = (Bucket(0, 24, "d1"),)
TWO_DAYS = (Bucket(0, 24, "d1"), Bucket(24, 48, "d2"))


def order(name: str, hours: float = 10.0, *, due: float = 1000.0, penalty: float = 1000.0, **kw: object) -> PlanOrder:
    return PlanOrder(name, {"cut": hours}, due, penalty, **kw)  # type: ignore[arg-type]


def site(name: str, *hours: float, fixed: float = 0.0) -> PlanSite:
    return PlanSite(name, {"cut": hours}, fixed)


def solve(problem: AllocationProblem) -> AllocationPlan:
    plan = allocate_milp(problem, time_limit=5.0)
    assert validate(problem, plan) == []
    return plan


def where(plan: AllocationPlan, order_id: str) -> list[tuple[str, int, float]]:
    return [(s.site, s.bucket, round(s.fraction, 6)) for s in plan.assignments.get(order_id, ())]


def test_capacity_sends_the_second_order_to_the_second_cheapest_site() -> None:
    # a holds one order of 10 h, b both; a costs 100 an order, b 150: 100 + 150 = 250
    problem = AllocationProblem(
        (order("o1"), order("o2")),
        (site("a", 10.0), site("b", 20.0)),
        DAY,
        tuple(PairCost(o, s, production=cost) for o in ("o1", "o2") for s, cost in (("a", 100), ("b", 150))),
    )
    plan = solve(problem)
    assert sorted(where(plan, "o1") + where(plan, "o2")) == [("a", 0, 1.0), ("b", 0, 1.0)]
    assert plan.objective == pytest.approx(250.0)
    assert plan.status is PlanStatus.OPTIMAL
    assert plan.gap == pytest.approx(0.0, abs=1e-6)
    assert plan.costs.production.amount == Decimal("250.00")


def test_a_closed_lane_is_never_used_and_an_order_with_no_open_lane_is_rejected_with_the_reason() -> None:
    problem = AllocationProblem(
        (order("o1"), order("o2", penalty=400.0)),
        (site("a", 100.0), site("b", 100.0)),
        DAY,
        (
            PairCost("o1", "a", production=50, reason="lane a->us is closed"),
            PairCost("o1", "b", production=80, freight=Decimal("5.50")),
            PairCost("o2", "a", production=50, reason="lane a->de is closed"),
            PairCost("o2", "b", production=50, reason="lane b->de is closed"),
        ),
    )
    plan = solve(problem)
    assert where(plan, "o1") == [("b", 0, 1.0)]
    assert plan.objective == pytest.approx(85.5 + 400.0)
    (rejected,) = plan.rejections
    assert rejected.order == "o2"
    assert "no eligible site" in rejected.reason
    assert "lane b->de is closed" in rejected.reason


def test_an_order_that_fits_nowhere_is_rejected_at_its_penalty() -> None:
    # 30 h of work; each site has 24 h over the whole horizon
    problem = AllocationProblem(
        (order("big", 30.0, penalty=700.0),),
        (site("a", 12.0, 12.0), site("b", 20.0, 4.0)),
        TWO_DAYS,
        (PairCost("big", "a", production=100), PairCost("big", "b", production=100)),
    )
    plan = solve(problem)
    assert plan.assignments == {}
    assert plan.objective == pytest.approx(700.0)
    assert "does not fit" in plan.rejections[0].reason
    assert plan.costs.rejection.amount == Decimal("700.00")


@pytest.mark.parametrize(("weight", "chosen", "objective"), [(1.0, "far", 124.0), (2.0, "near", 130.0)])
def test_tardiness_against_a_dearer_site_on_time(weight: float, chosen: str, objective: float) -> None:
    # due at 24 h; far costs 100 and ships in 24 h: done by the end of day 1 (24 h) + 24 h = 24 h late,
    # 100 + 24 x weight; near costs 130 and ships at once: on time. Weight 1: 124 < 130; weight 2: 148 > 130.
    problem = AllocationProblem(
        (order("o", due=24.0, weight=weight),),
        (site("far", 24.0, 24.0), site("near", 24.0, 24.0)),
        TWO_DAYS,
        (PairCost("o", "far", production=100, lead=24.0), PairCost("o", "near", production=130, lead=0.0)),
    )
    plan = solve(problem)
    assert where(plan, "o")[0][0] == chosen
    assert plan.objective == pytest.approx(objective)
    assert plan.assignments["o"][0].tardiness == (24.0 if chosen == "far" else 0.0)


def test_a_late_order_completes_in_its_earliest_bucket_with_room() -> None:
    # day 1 holds 10 of the 20 h needed by the first order due at 0: it completes on day 2, 24 h late
    problem = AllocationProblem(
        (order("late", 20.0, due=24.0, weight=1.0, penalty=500.0),),
        (site("a", 10.0, 10.0),),
        TWO_DAYS,
        (PairCost("late", "a", production=100),),
    )
    plan = solve(problem)
    assert where(plan, "late") == [("a", 1, 1.0)]
    assert plan.objective == pytest.approx(100 + 24.0)


def test_a_splittable_order_is_split_over_two_sites_and_a_whole_one_is_not() -> None:
    # 20 h of work, 10 h at each site: half at a (cost 100 whole) and half at b (120 whole) = 110
    sites = (site("a", 10.0), site("b", 10.0))
    pairs = (PairCost("o", "a", production=100), PairCost("o", "b", production=120))
    split = solve(AllocationProblem((order("o", 20.0, quantity=10, splittable=True),), sites, DAY, pairs))
    assert sorted(where(split, "o")) == [("a", 0, 0.5), ("b", 0, 0.5)]
    assert [s.units for s in split.assignments["o"]] == pytest.approx([5.0, 5.0])
    assert split.objective == pytest.approx(110.0)
    whole = solve(AllocationProblem((order("o", 20.0, quantity=10),), sites, DAY, pairs))
    assert whole.assignments == {}
    assert whole.objective == pytest.approx(1000.0)


@pytest.mark.parametrize(("fixed", "chosen", "objective"), [(50.0, "a", 100.0), (30.0, "b", 90.0)])
def test_a_fixed_cost_opens_a_site_only_when_it_pays(fixed: float, chosen: str, objective: float) -> None:
    # a: 100, no fixed cost; b: 60 + its fixed cost (50 -> 110, not worth it; 30 -> 90, worth it)
    problem = AllocationProblem(
        (order("o"),),
        (site("a", 24.0), site("b", 24.0, fixed=fixed)),
        DAY,
        (PairCost("o", "a", production=100), PairCost("o", "b", production=60)),
    )
    plan = solve(problem)
    assert where(plan, "o") == [(chosen, 0, 1.0)]
    assert plan.objective == pytest.approx(objective)
    assert plan.costs.fixed.amount == Decimal(f"{fixed if chosen == 'b' else 0:.2f}")


def test_a_fixed_cost_shared_by_two_orders_opens_the_site() -> None:
    # b costs 60 an order + 50 once: both at b = 170 < a + b = 100 + 60 + 50 (a holds one order)
    problem = AllocationProblem(
        (order("o1"), order("o2")),
        (site("a", 10.0), site("b", 20.0, fixed=50.0)),
        DAY,
        tuple(PairCost(o, s, production=c) for o in ("o1", "o2") for s, c in (("a", 100), ("b", 60))),
    )
    plan = solve(problem)
    assert plan.open_sites == ("b",)
    assert plan.objective == pytest.approx(170.0)


def test_the_validator_catches_broken_plans() -> None:
    problem = AllocationProblem(
        (order("o1"), order("o2")),
        (site("a", 10.0), site("b", 20.0)),
        DAY,
        (*(PairCost(o, "a", production=100) for o in ("o1", "o2")), PairCost("o1", "b", production=150)),
    )
    plan = solve(problem)
    overfull = replace(plan, assignments={o: (Share("a", 0, 1.0, 1.0, 0.0),) for o in ("o1", "o2")}, rejections=())
    assert any("available" in issue for issue in validate(problem, overfull))
    ineligible = replace(plan, assignments={"o2": (Share("b", 0, 1.0, 1.0, 0.0),), "o1": plan.assignments["o1"]})
    assert any("not an eligible pair" in issue for issue in validate(problem, ineligible))
    assert any("objective" in issue for issue in validate(problem, replace(plan, objective=plan.objective + 1)))
    both = replace(plan, rejections=(Rejection("o1", "no"),))
    assert any("either assigned or rejected" in issue for issue in validate(problem, both))
    twice = replace(plan, assignments={"o2": plan.assignments["o2"]}, rejections=(Rejection("o1", "no"),) * 2)
    assert any("rejected twice" in issue for issue in validate(problem, twice))
    missing = replace(plan, assignments={}, rejections=())
    assert any("either assigned or rejected" in issue for issue in validate(problem, missing))
    late = replace(plan, assignments={o: (replace(s[0], tardiness=5.0),) for o, s in plan.assignments.items()})
    assert any("tardiness" in issue for issue in validate(problem, late))


def test_the_problem_refuses_inconsistent_data() -> None:
    with pytest.raises(ValueError, match="unique"):
        AllocationProblem((order("o"), order("o")), (site("a", 1.0),), DAY, ())
    with pytest.raises(ValueError, match="one capacity per bucket"):
        AllocationProblem((order("o"),), (site("a", 1.0),), TWO_DAYS, ())
    with pytest.raises(ValueError, match="unknown"):
        AllocationProblem((order("o"),), (site("a", 1.0),), DAY, (PairCost("o", "z"),))
    with pytest.raises(ValueError, match="increasing"):
        AllocationProblem((), (), (Bucket(0, 24), Bucket(0, 12)), ())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_on_small_generated_instances_the_milp_is_valid_and_never_worse_than_greedy(seed: int) -> None:
    problem = small(seed)
    plan, greedy = solve(problem), allocate_greedy(problem)
    assert validate(problem, greedy) == []
    assert greedy.status is PlanStatus.HEURISTIC
    assert greedy.lower_bound is None
    assert plan.lower_bound is not None
    assert plan.lower_bound <= plan.objective + 1e-6
    assert plan.objective <= greedy.objective + 1e-6


def test_a_medium_instance_is_solved_to_a_one_percent_gap_in_seconds() -> None:
    problem = generate(150, 3, 7, seed=0)
    plan = allocate_milp(problem, time_limit=10.0, gap=0.01, threads=2)
    assert validate(problem, plan) == []
    assert plan.status is PlanStatus.OPTIMAL
    assert plan.gap is not None
    assert plan.gap <= 0.01
    assert plan.runtime < 6.0


def test_the_cli_prints_each_order_and_the_totals_as_json() -> None:
    result = CliRunner().invoke(app, ["allocate", "--generate", "30", "--sites", "3", "--buckets", "5", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] in {"optimal", "feasible"}
    assert data["served"] + data["rejected"] == 30
    assert {o["order"] for o in data["orders"]} == {f"O{n:05d}" for n in range(1, 31)}
    served = next(o for o in data["orders"] if "shares" in o)
    assert {"site", "bucket", "fraction", "tardiness_h"} <= set(served["shares"][0])
    assert Decimal(data["costs"]["total"]) == pytest.approx(Decimal(str(data["objective"])), abs=Decimal("0.05"))


def test_the_cli_needs_one_source_of_orders() -> None:
    result = CliRunner().invoke(app, ["allocate"])
    assert result.exit_code == 1
    assert "--generate" in result.output


def test_the_backlog_of_the_example_network_is_planned() -> None:
    services = bootstrap(Settings(db="memory://", seed=1))
    try:
        operations.apply_plan(services, operations.plan_apply(services, load_resources(EXAMPLE)))
        for market, product, quantity in (
            ("us", "laptop-stand", 3),
            ("de", "planter-box", 5),
            ("jp", "laptop-stand", 2),
        ):
            operations.place(services, PlaceOrder("acme", product, {}, quantity, market))
        problem = backlog_problem(services.state, at=services.now(), bucket_hours=8.0, buckets=21)
    finally:
        services.close()
    assert len(problem.orders) == 3
    assert len(problem.buckets) == 21
    assert problem.currency == "USD"
    assert {s.name for s in problem.sites} == {"bavaria", "japan", "monterrey", "ohio", "vietnam"}
    assert all(o.work and float(o.reject_penalty) > 0 for o in problem.orders)
    assert all(0 < h < 8.0 * 4 for s in problem.sites for caps in s.capacity.values() for h in caps)
    assert any(p.reason for p in problem.pairs)
    assert any(float(p.duty) > 0 for p in problem.pairs)
    plan = solve(problem)
    assert len(plan.assignments) == 3
    assert plan.status is PlanStatus.OPTIMAL


# ------------------------------------------------------------------------------------- release dates

THREE_DAYS = (Bucket(0, 24, "d1"), Bucket(24, 48, "d2"), Bucket(48, 72, "d3"))


def test_an_order_released_later_cannot_use_the_capacity_before_it_arrives() -> None:
    # a (cheap) has 10 h on day 1 only, b (dear) 10 h on day 2: released at 24 h, the order can only go to b
    pairs = (PairCost("o", "a", production=100), PairCost("o", "b", production=150))
    sites = (site("a", 10.0, 0.0), site("b", 0.0, 10.0))
    there = solve(AllocationProblem((order("o"),), sites, TWO_DAYS, pairs))
    assert where(there, "o") == [("a", 0, 1.0)]
    later = AllocationProblem((order("o", release=24.0),), sites, TWO_DAYS, pairs)
    assert later.release_bucket(later.orders[0]) == 1
    assert later.candidates(later.orders[0], pairs[0]) == []  # a has no hours from day 2 on
    plan = solve(later)
    assert where(plan, "o") == [("b", 1, 1.0)]
    assert plan.objective == pytest.approx(150.0)
    assert where(allocate_greedy(later), "o") == [("b", 1, 1.0)]


def test_a_window_from_a_release_bucket_holds_only_its_hours() -> None:
    # a (cheap) has 10 h a day, b (dear) 30 h. o1 (5 h) is there from the start, o2 (15 h) arrives on day 2, both
    # due by the end of day 3: o2 has days 2-3 at a (20 h), o1 day 1. With 25 h, o2 no longer fits in days 2-3
    # at a, though a's three days (30 h) would hold both orders if o2 were there from the start.
    sites = (site("a", 10.0, 10.0, 10.0), site("b", 30.0, 30.0, 30.0))
    orders = (order("o1", 5.0, due=72.0), order("o2", 15.0, due=72.0, release=30.0))
    pairs = tuple(PairCost(o, s, production=c) for o in ("o1", "o2") for s, c in (("a", 100), ("b", 200)))
    fits = solve(AllocationProblem(orders, sites, THREE_DAYS, pairs))
    assert [where(fits, o)[0][0] for o in ("o1", "o2")] == ["a", "a"]
    assert where(fits, "o2")[0][1] >= 1
    bigger = (orders[0], order("o2", 25.0, due=72.0, release=30.0))
    plan = solve(AllocationProblem(bigger, sites, THREE_DAYS, pairs))
    assert where(plan, "o1") == [("a", 0, 1.0)]
    assert where(plan, "o2") == [("b", 1, 1.0)]  # b's day 2 holds its 25 h
    # Without its release o2 would fit at a: 30 h over three days holds 5 + 25 h.
    at_start = solve(AllocationProblem((orders[0], order("o2", 25.0, due=72.0)), sites, THREE_DAYS, pairs))
    assert [where(at_start, o)[0][0] for o in ("o1", "o2")] == ["a", "a"]


def test_the_validator_checks_every_window_and_nothing_before_its_release() -> None:
    sites = (site("a", 10.0, 10.0, 10.0),)
    orders = (order("o1", 10.0), order("o2", 15.0, release=24.0))
    problem = AllocationProblem(orders, sites, THREE_DAYS, tuple(PairCost(o, "a", production=1) for o in ("o1", "o2")))
    plan = solve(problem)
    shares = {"o1": (Share("a", 2, 1.0, 1.0, 0.0),), "o2": (Share("a", 2, 1.0, 1.0, 0.0),)}
    parts = replace(plan, assignments=shares, rejections=())
    # Both by day 3: 25 h in 30 h, and o2's 15 h in days 2-3 (20 h). Released on day 2 too, o1 would make
    # 25 h in those 20 h.
    assert not any("available" in issue for issue in validate(problem, parts))
    late = AllocationProblem((order("o1", 10.0, release=24.0), orders[1]), sites, THREE_DAYS, problem.pairs)
    assert any("released from bucket 1" in issue for issue in validate(late, parts))
    early = {"o1": plan.assignments["o1"], "o2": (Share("a", 0, 1.0, 1.0, 0.0),)}
    assert any("released in 1" in issue for issue in validate(problem, replace(plan, assignments=early)))


def test_an_order_released_after_the_horizon_is_rejected_and_names_why() -> None:
    problem = AllocationProblem(
        (order("o", release=100.0),), (site("a", 24.0, 24.0),), TWO_DAYS, (PairCost("o", "a", production=1),)
    )
    plan = solve(problem)
    assert plan.assignments == {}
    assert "released after the horizon" in plan.rejections[0].reason
    with pytest.raises(ValueError, match="release"):
        order("bad", release=float("nan"))


def _brute_force(problem: AllocationProblem) -> float:
    """The cheapest valid plan of whole orders by enumeration (each order at a site and bucket, or rejected)."""
    choices: list[list[tuple[str, int] | None]] = []
    for o in problem.orders:
        mine: list[tuple[str, int] | None] = [None]
        mine += [(p.site, b) for p in problem.eligible(o.id) for b in range(len(problem.buckets))]
        choices.append(mine)
    best = float("inf")
    for picked in itertools.product(*choices):
        assignments = {
            o.id: (Share(c[0], c[1], 1.0, float(o.quantity), 0.0),)
            for o, c in zip(problem.orders, picked, strict=True)
            if c is not None
        }
        issues = _capacity(problem, assignments)
        if not issues:
            best = min(best, sum(evaluate(problem, _with_tardiness(problem, assignments)).values()))
    return best


def _with_tardiness(
    problem: AllocationProblem, assignments: dict[str, tuple[Share, ...]]
) -> dict[str, tuple[Share, ...]]:
    out = {}
    for order_id, shares in assignments.items():
        o = problem.order(order_id)
        out[order_id] = tuple(
            replace(s, tardiness=problem.tardiness(o, problem.pair(order_id, s.site), s.bucket))  # type: ignore[arg-type]
            for s in shares
        )
    return out


@pytest.mark.parametrize("seed", range(12))
def test_with_releases_the_milp_finds_the_optimum_of_a_brute_force_search(seed: int) -> None:
    rng = random.Random(seed)
    sites = tuple(site(name, *(rng.choice((0.0, 5.0, 10.0, 15.0)) for _ in range(3))) for name in ("a", "b"))
    orders = tuple(
        order(
            f"o{i}",
            rng.choice((4.0, 6.0, 9.0, 12.0)),
            due=rng.choice((24.0, 48.0, 72.0)),
            penalty=rng.choice((150.0, 300.0)),
            weight=1.0,
            release=rng.choice((0.0, 0.0, 24.0, 30.0, 48.0)),
        )
        for i in range(5)
    )
    pairs = tuple(PairCost(o.id, s.name, production=rng.randint(50, 120), lead=0.0) for o in orders for s in sites)
    problem = AllocationProblem(orders, sites, THREE_DAYS, pairs)
    plan = allocate_milp(problem, time_limit=5.0, gap=0.0)
    assert validate(problem, plan) == []
    assert plan.objective == pytest.approx(_brute_force(problem), abs=1e-6)
    greedy = allocate_greedy(problem)
    assert validate(problem, greedy) == []
    assert greedy.objective >= plan.objective - 1e-6


def test_generated_instances_release_a_share_of_orders_later_and_the_plans_respect_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    problem = generate(80, 4, 14, seed=2)
    later = [o for o in problem.orders if o.release > 0]
    assert 3 <= len(later) <= 30
    assert all(o.release % 24 == 0 and o.due - o.release >= 168 for o in later)
    same = generate(80, 4, 14, seed=2, released=0.0)
    assert [replace(o, release=0.0) for o in problem.orders] == list(same.orders)  # nothing else changes
    assert problem.sites == same.sites
    # Column and row generation (as on large instances): the chains enter as the LP breaks them.
    monkeypatch.setattr("microfab.planning.milp.ALL_COLUMNS", 100)
    plan = allocate_milp(problem, time_limit=5.0, gap=0.01)
    assert validate(problem, plan) == []
    assert plan.lower_bound is not None
    for o in later:
        assert all(s.bucket >= problem.release_bucket(o) for s in plan.assignments.get(o.id, ()))

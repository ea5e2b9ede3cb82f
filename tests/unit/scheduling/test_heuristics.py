"""Dispatching rules: always a complete, valid schedule, whatever the constraints."""

from __future__ import annotations

import random

import pytest

from microfab.scheduling import (
    Pin,
    Placement,
    Rule,
    SchedulingProblem,
    Setup,
    Task,
    dispatch,
    greedy_schedule,
    validate,
)
from microfab.scheduling.evaluate import cost, makespan

from .rich_instances import rich_problem


@pytest.mark.parametrize("rule", list(Rule))
@pytest.mark.parametrize("seed", range(25))
def test_every_rule_gives_a_valid_schedule(rule: Rule, seed: int) -> None:
    problem = rich_problem(seed)
    assert validate(problem, dispatch(problem, rule)) == []


@pytest.mark.parametrize("seed", range(5))
def test_randomised_rules_stay_valid(seed: int) -> None:
    problem = rich_problem(seed)
    placements = dispatch(problem, Rule.MOST_WORK_REMAINING, noise=0.5, rng=random.Random(seed))
    assert validate(problem, placements) == []


def test_greedy_keeps_the_best_rule_and_a_budget_never_hurts() -> None:
    problem = rich_problem(3)
    quick = greedy_schedule(problem)
    longer = greedy_schedule(problem, budget=0.05)
    assert validate(problem, longer) == []
    assert cost(problem, longer) <= cost(problem, quick) <= cost(problem, dispatch(problem, Rule.MOST_WORK_REMAINING))


def test_a_task_fits_in_a_gap_before_a_fixed_task_only_with_its_setup() -> None:
    tasks = (Task("fixed", "F", {"M": 2}, family="b", fixed=Pin("M", 6)), Task("x", "J", {"M": 3}, family="a"))
    tight = SchedulingProblem(tasks, ("M",), setups={"M": Setup(4)})
    placed = {p.task: p for p in dispatch(tight, Rule.EARLIEST_START)}
    assert placed["x"].start == 8 + 4  # 0 + 3 + 4 > 6: it goes after, with the setup from b
    loose = SchedulingProblem(tasks, ("M",), setups={"M": Setup(2)})
    placed = {p.task: p for p in dispatch(loose, Rule.EARLIEST_START)}
    assert placed["x"].start == 0


def test_reference_rule_replays_the_previous_order() -> None:
    tasks = (Task("a", "J1", {"M": 2}), Task("b", "J2", {"M": 2}))
    problem = SchedulingProblem(
        tasks, ("M",), reference={"a": Placement("a", "M", 2, 4), "b": Placement("b", "M", 0, 2)}
    )
    placed = {p.task: p for p in dispatch(problem, Rule.REFERENCE)}
    assert placed["b"].start == 0
    assert placed["a"].start == 2
    assert makespan(placed.values()) == 4

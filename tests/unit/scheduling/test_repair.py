"""Repair mode: started tasks never move, the rest is re-optimised from now, stays valid and close."""

from __future__ import annotations

import dataclasses

import pytest

from microfab.scheduling import Objective, Placement, SchedulingProblem, Status, Task, repair, solve, validate
from microfab.scheduling.evaluate import stability
from microfab.scheduling.repair import repair_problem

from .rich_instances import rich_problem

LIMIT = 1.0


def line() -> SchedulingProblem:
    tasks = (
        Task("a", "J1", {"M": 3, "N": 3}),
        Task("b", "J1", {"M": 3, "N": 3}, ("a",)),
        Task("c", "J2", {"M": 3, "N": 3}),
        Task("d", "J2", {"M": 3, "N": 3}, ("c",)),
    )
    return SchedulingProblem(tasks, ("M", "N"), objective=Objective.makespan())


@pytest.mark.parametrize("seed", range(10))
def test_started_tasks_never_move_and_the_rest_stays_valid(seed: int) -> None:
    problem = rich_problem(seed)
    first = solve(problem, time_limit=LIMIT)
    now = 4
    result = repair(problem, first.schedule, now=now, time_limit=LIMIT)
    assert result.has_schedule
    repaired = repair_problem(problem, first.schedule, now=now)
    assert validate(repaired, result.schedule) == []
    started = {p for p in first.schedule if p.start < now}
    assert started <= set(result.schedule)
    for placement in set(result.schedule) - started:
        assert placement.start >= now


def test_nothing_changed_means_nothing_moves() -> None:
    problem = line()
    first = solve(problem, time_limit=LIMIT)
    result = repair(problem, first.schedule, now=0, started=(), time_limit=LIMIT)
    assert set(result.schedule) == set(first.schedule)


def test_a_module_going_down_moves_its_work_and_only_that() -> None:
    problem = line()
    first = solve(problem, time_limit=LIMIT)
    on_m = {p.task for p in first.schedule if p.module == "M"}
    down = dataclasses.replace(problem, unavailable={"M": ((1, 100),)})
    result = repair(down, first.schedule, now=1, time_limit=LIMIT)
    assert validate(repair_problem(down, first.schedule, now=1), result.schedule) == []
    placed = {p.task: p for p in result.schedule}
    started_on_m = {t for t in on_m if next(p for p in first.schedule if p.task == t).start < 1}
    for task in on_m - started_on_m:
        assert placed[task].module == "N"
    for task in started_on_m:
        assert placed[task].module == "M"


def test_a_new_order_is_folded_in_without_moving_started_work() -> None:
    problem = line()
    first = solve(problem, time_limit=LIMIT)
    grown = dataclasses.replace(problem, tasks=(*problem.tasks, Task("e", "J3", {"M": 2, "N": 2})))
    result = repair(grown, first.schedule, now=2, time_limit=LIMIT)
    placed = {p.task: p for p in result.schedule}
    assert placed["e"].start >= 2
    for before in first.schedule:
        if before.start < 2:
            assert placed[before.task] == before


def test_stability_term_keeps_the_old_schedule_among_equal_ones() -> None:
    problem = line()
    previous = (
        Placement("c", "M", 0, 3),
        Placement("d", "M", 3, 6),
        Placement("a", "N", 0, 3),
        Placement("b", "N", 3, 6),
    )
    result = repair(problem, previous, now=0, started=(), time_limit=LIMIT)
    assert set(result.schedule) == set(previous)
    assert stability(repair_problem(problem, previous, now=0, started=()), result.schedule) == 0
    assert result.status is Status.OPTIMAL


def test_started_defaults_to_what_began_before_now_and_pulls_in_predecessors() -> None:
    problem = line()
    previous = (
        Placement("a", "M", 0, 3),
        Placement("b", "M", 3, 6),
        Placement("c", "N", 0, 3),
        Placement("d", "N", 3, 6),
    )
    repaired = repair_problem(problem, previous, now=1)
    fixed = {t.id for t in repaired.tasks if t.fixed is not None}
    assert fixed == {"a", "c"}
    explicit = repair_problem(problem, previous, now=4, started=("b",))
    assert {t.id for t in explicit.tasks if t.fixed is not None} == {"a", "b"}


def test_a_started_task_missing_from_the_previous_schedule_is_an_error() -> None:
    with pytest.raises(ValueError, match="task 'a' has no placement"):
        repair_problem(line(), (), now=0, started=("a",))

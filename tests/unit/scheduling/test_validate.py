"""The independent validator catches every kind of violation and accepts valid schedules."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microfab.scheduling.problem import Placement, SchedulingProblem, Task
from microfab.scheduling.solve import greedy_schedule
from microfab.scheduling.validate import makespan, total_completion, validate

from .conftest import random_problem


@pytest.fixture(name="problem")
def fixture_problem() -> SchedulingProblem:
    tasks = (
        Task("a", "J1", {"M1": 3, "M2": 5}),
        Task("b", "J1", {"M2": 2}, ("a",)),
        Task("c", "J2", {"M1": 4}, release=2),
    )
    return SchedulingProblem(tasks, ("M1", "M2"), horizon=20, module_release={"M2": 1})


@pytest.fixture(name="good")
def fixture_good() -> list[Placement]:
    return [Placement("a", "M1", 0, 3), Placement("b", "M2", 3, 5), Placement("c", "M1", 3, 7)]


def test_valid_schedule_has_no_violations(problem: SchedulingProblem, good: list[Placement]) -> None:
    assert validate(problem, good) == []
    assert makespan(good) == 7
    assert total_completion(problem, good) == 5 + 7
    assert makespan([]) == 0


def replace(good: list[Placement], task: str, **changes: object) -> list[Placement]:
    return [dataclasses.replace(p, **changes) if p.task == task else p for p in good]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda g: [*g, Placement("zzz", "M1", 10, 11)], "task 'zzz' is not in the problem"),
        (lambda g: [*g, Placement("c", "M1", 10, 14)], "task 'c' is placed 2 times, expected once"),
        (lambda g: g[:2], "task 'c' is not placed"),
        (lambda g: replace(g, "c", module="M2", start=7, end=11), "module is not eligible (eligible: M1)"),
        (lambda g: replace(g, "c", module="M9", start=7, end=11), "module is not eligible"),
        (lambda g: replace(g, "c", end=8), "lasts 5 s, expected 4 s"),
        (lambda g: replace(g, "c", start=1, end=5), "starts before its release 2"),
        (lambda g: replace(g, "a", module="M2", start=0, end=5), "starts before the module is free at 1"),
        (lambda g: replace(g, "c", start=17, end=21), "ends after the horizon 20"),
        (lambda g: replace(g, "b", start=2, end=4), "starts at 2, before its predecessor 'a' ends at 3"),
        (lambda g: replace(g, "c", start=2, end=6), "module 'M1': task 'c' [2, 6) overlaps task 'a' [0, 3)"),
    ],
)
def test_each_violation_is_reported(
    problem: SchedulingProblem, good: list[Placement], mutate: object, expected: str
) -> None:
    assert callable(mutate)
    errors = validate(problem, mutate(good))
    assert any(expected in e for e in errors), errors


def test_overlap_with_an_earlier_long_placement_is_found() -> None:
    tasks = tuple(Task(t, t, {"M1": d}) for t, d in (("long", 10), ("x", 1), ("y", 1)))
    problem = SchedulingProblem(tasks, ("M1",))
    placements = [Placement("long", "M1", 0, 10), Placement("x", "M1", 2, 3), Placement("y", "M1", 5, 6)]
    errors = validate(problem, placements)
    assert len(errors) == 2
    assert all("overlaps task 'long'" in e for e in errors)


def test_touching_placements_do_not_overlap() -> None:
    problem = SchedulingProblem((Task("x", "J", {"M1": 2}), Task("y", "K", {"M1": 2})), ("M1",))
    assert validate(problem, [Placement("x", "M1", 0, 2), Placement("y", "M1", 2, 4)]) == []


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), victim=st.integers(0, 100), shift=st.integers(1, 5))
def test_greedy_schedules_validate_and_shifting_a_task_early_is_caught(seed: int, victim: int, shift: int) -> None:
    problem = random_problem(seed)
    placements = list(greedy_schedule(problem))
    assert validate(problem, placements) == []
    index = victim % len(placements)
    moved = placements[index]
    task = problem.task(moved.task)
    placements[index] = dataclasses.replace(moved, start=moved.start - shift, end=moved.end - shift)
    errors = validate(problem, placements)
    # Moving a task earlier breaks its release, a predecessor or a neighbour unless it had slack.
    must_fail = moved.start - shift < task.release or any(
        p.task in task.predecessors and p.end > moved.start - shift for p in placements
    )
    if must_fail:
        assert errors

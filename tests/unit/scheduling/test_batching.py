"""Batching: identical operations share a run on a module that batches, within its capacity."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from microfab.scheduling import (
    Pin,
    Placement,
    SchedulingProblem,
    Setup,
    Status,
    Task,
    greedy_schedule,
    lower_bound,
    solve,
    validate,
)


def oven_problem(units: int, capacity: int, *, keys: str = "k") -> SchedulingProblem:
    """*units* one-step jobs of 10 s on an oven of *capacity*; task i has key ``keys[i % len(keys)]``."""
    tasks = tuple(
        Task(f"t{i}", f"J{i}", {"oven": 10}, batch=keys[i % len(keys)], family=keys[i % len(keys)])
        for i in range(units)
    )
    return SchedulingProblem(tasks, ("oven",), batch_capacity={"oven": capacity})


@pytest.mark.parametrize(("units", "capacity", "keys", "best"), [(4, 2, "k", 20), (4, 3, "k", 20), (4, 2, "ab", 20)])
def test_solve_batches_up_to_the_capacity(units: int, capacity: int, keys: str, best: int) -> None:
    problem = oven_problem(units, capacity, keys=keys)
    result = solve(problem, time_limit=5)
    assert validate(problem, result.schedule) == []
    assert (result.status, result.objective) == (Status.OPTIMAL, best)
    runs = Counter(p.start for p in result.schedule)
    assert max(runs.values()) <= capacity
    key = {t.id: t.batch for t in problem.tasks}
    for start in runs:
        assert len({key[p.task] for p in result.schedule if p.start == start}) == 1  # never mixed


def test_without_capacity_nothing_is_batched() -> None:
    problem = oven_problem(3, 1)
    result = solve(problem, time_limit=5)
    assert validate(problem, result.schedule) == []
    assert result.objective == 30


def test_the_dispatching_rules_batch_too() -> None:
    problem = oven_problem(4, 2)
    schedule = greedy_schedule(problem)
    assert validate(problem, schedule) == []
    assert max(p.end for p in schedule) == 20


def test_batches_respect_precedence_and_setups() -> None:
    """Two 2-step units; both first steps batch on the oven, then the second steps follow."""
    tasks = (
        Task("a0", "A", {"oven": 10}, batch="bake", family="f"),
        Task("a1", "A", {"cell": 5}, ("a0",), family="f"),
        Task("b0", "B", {"oven": 10}, batch="bake", family="f"),
        Task("b1", "B", {"cell": 5}, ("b0",), family="f"),
        Task("c0", "C", {"oven": 10}, batch="dry", family="g"),
    )
    problem = SchedulingProblem(
        tasks, ("oven", "cell"), batch_capacity={"oven": 2}, setups={"oven": Setup(3)}, initial_family={"oven": "f"}
    )
    result = solve(problem, time_limit=5)
    assert validate(problem, result.schedule) == []
    # bake a0 + b0 together [0, 10) in the oven's family, then c0 after the 3 s setup [13, 23)
    assert (result.status, result.objective) == (Status.OPTIMAL, 23)
    placed = {p.task: p for p in result.schedule}
    assert placed["a0"].start == placed["b0"].start == 0


def test_lower_bound_counts_a_full_batch() -> None:
    problem = oven_problem(4, 2)
    assert lower_bound(problem) <= 20


def test_fixed_tasks_may_share_a_batch_within_capacity() -> None:
    tasks = (
        Task("x", "X", {"oven": 10}, batch="k", fixed=Pin("oven", 0)),
        Task("y", "Y", {"oven": 10}, batch="k", fixed=Pin("oven", 0)),
        Task("z", "Z", {"oven": 10}, batch="k"),
    )
    problem = SchedulingProblem(tasks, ("oven",), batch_capacity={"oven": 2})
    result = solve(problem, time_limit=5)
    assert validate(problem, result.schedule) == []
    assert result.objective == 20
    with pytest.raises(ValueError, match="above its capacity 2"):
        SchedulingProblem(
            (*tasks[:2], Task("w", "W", {"oven": 10}, batch="k", fixed=Pin("oven", 0))),
            ("oven",),
            batch_capacity={"oven": 2},
        )
    with pytest.raises(ValueError, match="overlap on module 'oven'"):
        SchedulingProblem(tasks[:2], ("oven",))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"batch_capacity": {"kiln": 2}}, "batch_capacity: unknown module 'kiln'"),
        ({"batch_capacity": {"oven": 0}}, "expected an int >= 1"),
    ],
)
def test_bad_capacity_is_named(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SchedulingProblem((Task("t", "J", {"oven": 1}),), ("oven",), **change)  # type: ignore[arg-type]


def test_a_batch_key_means_identical_operations() -> None:
    with pytest.raises(ValueError, match=r"share batch key 'k' but not their family"):
        SchedulingProblem(
            (Task("a", "A", {"oven": 5}, batch="k", family="f"), Task("b", "B", {"oven": 5}, batch="k", family="g")),
            ("oven",),
        )
    with pytest.raises(ValueError, match=r"last 5 s and 6 s on module 'oven', which batches"):
        SchedulingProblem(
            (Task("a", "A", {"oven": 5}, batch="k"), Task("b", "B", {"oven": 6}, batch="k")),
            ("oven",),
            batch_capacity={"oven": 2},
        )


BATCHED = oven_problem(4, 2, keys="ab")  # t0, t2 key a; t1, t3 key b
GOOD = (
    Placement("t0", "oven", 0, 10),
    Placement("t2", "oven", 0, 10),
    Placement("t1", "oven", 10, 20),
    Placement("t3", "oven", 10, 20),
)


@pytest.mark.parametrize(
    ("placements", "message"),
    [
        (GOOD, None),
        ((*GOOD[:2], Placement("t1", "oven", 0, 10), GOOD[3]), "batch keys 'a' and 'b' differ"),
        ((*GOOD[:3], Placement("t3", "oven", 12, 22)), "one batch must share its start and end"),
    ],
)
def test_the_validator_names_batch_violations(placements: tuple[Placement, ...], message: str | None) -> None:
    errors = validate(BATCHED, placements)
    if message is None:
        assert errors == []
    else:
        assert any(message in e for e in errors), errors


def test_the_validator_names_an_over_capacity_batch() -> None:
    problem = oven_problem(3, 2)
    errors = validate(problem, tuple(Placement(f"t{i}", "oven", 0, 10) for i in range(3)))
    assert any("batch at 0 of 3 tasks ('t0', 't1', 't2') exceeds its capacity 2" in e for e in errors), errors


def test_no_batching_on_a_module_without_capacity() -> None:
    problem = oven_problem(2, 1)
    errors = validate(problem, (Placement("t0", "oven", 0, 10), Placement("t1", "oven", 0, 10)))
    assert any("overlaps task" in e for e in errors), errors


def random_batch_problem(seed: int) -> SchedulingProblem:
    """Small orders of 1-3 units whose identical steps may batch on two ovens; setups, releases."""
    rng = random.Random(seed)
    tasks: list[Task] = []
    for order in range(rng.randint(2, 5)):
        family = f"f{rng.randrange(2)}"
        steps = [rng.randint(2, 9) for _ in range(rng.randint(1, 3))]
        release = rng.choice([0, rng.randint(0, 15)])
        for unit in range(rng.randint(1, 3)):
            job, previous = f"O{order}U{unit}", None
            for s, duration in enumerate(steps):
                task_id = f"{job}.{s}"
                durations = {"oven1": duration, "oven2": duration + 1, "cell": duration + 2}
                tasks.append(
                    Task(
                        task_id,
                        job,
                        durations,
                        (previous,) if previous else (),
                        release=release if s == 0 else 0,
                        family=family,
                        batch=f"O{order}.{s}",
                    )
                )
                previous = task_id
    return SchedulingProblem(
        tuple(tasks),
        ("oven1", "oven2", "cell"),
        batch_capacity={"oven1": 3, "oven2": 2},
        setups={"oven1": Setup(2), "cell": Setup(1)},
    )


@pytest.mark.parametrize("seed", range(12))
def test_random_batch_problems_are_solved_validly(seed: int) -> None:
    problem = random_batch_problem(seed)
    schedule = greedy_schedule(problem)
    assert validate(problem, schedule) == []
    result = solve(problem, time_limit=1)
    assert result.has_schedule
    assert validate(problem, result.schedule) == []
    assert result.objective is not None
    assert result.objective <= max(p.end for p in schedule)
    assert result.lower_bound is not None
    assert result.lower_bound <= result.objective

"""Tiny scheduling instances shared by the tests."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence

import pytest

from microfab.scheduling.problem import SchedulingProblem, Task

RandomProblem = Callable[[int], SchedulingProblem]


def chain(job: str, steps: Sequence[Mapping[str, int]], *, release: int = 0) -> list[Task]:
    """Tasks ``job.0``, ``job.1``… each after the previous one; the first released at *release*."""
    tasks: list[Task] = []
    for i, durations in enumerate(steps):
        predecessors = (tasks[-1].id,) if tasks else ()
        tasks.append(Task(f"{job}.{i}", job, dict(durations), predecessors, release=release if i == 0 else 0))
    return tasks


def random_problem(seed: int) -> SchedulingProblem:
    """5–30 tasks in job chains on 2–5 modules, random eligibility, durations 1–10, some releases."""
    rng = random.Random(seed)
    modules = tuple(f"M{i}" for i in range(rng.randint(2, 5)))
    size = rng.randint(5, 30)
    tasks: list[Task] = []
    job = 0
    while len(tasks) < size:
        job += 1
        length = min(rng.randint(1, 5), size - len(tasks))
        steps = [
            {m: rng.randint(1, 10) for m in rng.sample(modules, rng.randint(1, len(modules)))} for _ in range(length)
        ]
        tasks += chain(f"J{job}", steps, release=rng.choice([0, 0, rng.randint(0, 20)]))
    return SchedulingProblem(tuple(tasks), modules)


@pytest.fixture(name="flow_shop")
def fixture_flow_shop() -> SchedulingProblem:
    """Two jobs × two machines (Johnson's rule): J1 first gives the optimum 8, J2 first gives 10."""
    return SchedulingProblem(
        (*chain("J2", [{"M1": 4}, {"M2": 2}]), *chain("J1", [{"M1": 2}, {"M2": 4}])),
        ("M1", "M2"),
    )


@pytest.fixture(name="make_random_problem")
def fixture_make_random_problem() -> RandomProblem:
    return random_problem

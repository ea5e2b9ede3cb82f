"""Random tiny problems with every constraint kind: families and setups, windows, fixed tasks, due dates."""

from __future__ import annotations

import random

from microfab.scheduling import Objective, Pin, SchedulingProblem, Setup, Task
from microfab.scheduling.problem import Criterion


def rich_problem(seed: int, *, objective: Objective | None = None) -> SchedulingProblem:
    """4-20 tasks in chains (some joined: assembly) on 2-4 modules with setups, windows and a fixed task."""
    rng = random.Random(seed)
    modules = tuple(f"M{i}" for i in range(rng.randint(2, 4)))
    families = ("a", "b", "c")
    tasks: list[Task] = []
    job = 0
    size = rng.randint(4, 20)
    while len(tasks) < size:
        job += 1
        previous: str | None = None
        for step in range(rng.randint(1, 4)):
            eligible = rng.sample(modules, rng.randint(1, len(modules)))
            predecessors = (previous,) if previous else ()
            if step == 0 and tasks and rng.random() < 0.2:
                predecessors = (tasks[rng.randrange(len(tasks))].id,)  # assembly: after another job's task
            task_id = f"J{job}.{step}"
            tasks.append(
                Task(
                    task_id,
                    f"J{job}",
                    {m: rng.randint(1, 9) for m in eligible},
                    predecessors,
                    release=rng.choice([0, 0, rng.randint(0, 15)]),
                    due=rng.choice([None, rng.randint(5, 60)]),
                    weight=rng.randint(1, 3),
                    family=rng.choice(families),
                )
            )
            previous = task_id
    first = tasks[0]
    if not first.predecessors and rng.random() < 0.5:  # a started task, fixed where it runs
        module = next(iter(first.durations))
        tasks[0] = Task(first.id, first.job, first.durations, family=first.family, fixed=Pin(module, -2))
    setups = {m: Setup(rng.randint(0, 4), {("a", "b"): rng.randint(0, 6)}) for m in modules if rng.random() < 0.7}
    windows = {m: ((a := rng.randint(0, 30), a + rng.randint(1, 10)),) for m in modules[1:] if rng.random() < 0.5}
    return SchedulingProblem(
        tuple(tasks),
        modules,
        setups=setups,
        initial_family={modules[0]: "a"},
        unavailable=windows,
        objective=objective or Objective.lexicographic(Criterion.WEIGHTED_TARDINESS, Criterion.MAKESPAN),
    )

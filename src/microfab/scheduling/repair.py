"""Repair mode: keep what has started, re-optimise the rest from now, and move as little as needed."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence

from microfab.scheduling.problem import Criterion, Objective, Pin, SchedulingProblem, Task
from microfab.scheduling.result import Placement, Result
from microfab.scheduling.solve import solve

__all__ = ["repair", "repair_problem"]


def repair_problem(
    problem: SchedulingProblem,
    previous: Sequence[Placement],
    *,
    now: int,
    started: Collection[str] | None = None,
    stability: int = 1,
) -> SchedulingProblem:
    """The problem that *repair* solves: started tasks fixed, the others released at *now*, a stability term.

    Parameters
    ----------
    problem
        The problem as it stands now (modules down, new tasks, new windows included).
    previous
        The schedule in force; placements of tasks no longer in *problem* are ignored.
    now
        The current second: nothing that has not started may start before it.
    started
        Ids of tasks that have started (or finished) and so stay where *previous* has them;
        by default every task of *previous* that starts before *now*. A started task's
        predecessors are fixed too. Tasks already fixed in *problem* stay as they are.
    stability
        Weight of the distance to *previous* in the objective's first stage (0: none).

    Returns
    -------
    SchedulingProblem
        With fixed tasks, releases, the reference schedule and the stability term.
    """
    tasks = {t.id: t for t in problem.tasks}
    before = {p.task: p for p in previous if p.task in tasks}
    pinned = set(started) if started is not None else {t for t, p in before.items() if p.start < now}
    pinned -= {t.id for t in problem.tasks if t.fixed is not None}
    unknown = sorted(pinned - before.keys())
    if unknown:
        raise ValueError(f"started: task {unknown[0]!r} has no placement in the previous schedule")
    pinned = {t for t in _with_predecessors(pinned, tasks) if tasks[t].fixed is None}
    missing = sorted(pinned - before.keys())
    if missing:
        raise ValueError(f"started: predecessor {missing[0]!r} of a started task is not in the previous schedule")
    new_tasks = tuple(_repaired(t, before.get(t.id), pinned, now) for t in problem.tasks)
    reference = {t: p for t, p in before.items() if t not in pinned and tasks[t].fixed is None}
    objective = problem.objective
    if stability > 0:
        first = dict(objective.stages[0])
        first[Criterion.STABILITY] = first.get(Criterion.STABILITY, 0) + stability
        objective = Objective((first, *objective.stages[1:]))
    return dataclasses.replace(problem, tasks=new_tasks, reference=reference, objective=objective)


def repair(
    problem: SchedulingProblem,
    previous: Sequence[Placement],
    *,
    now: int,
    time_limit: float,
    workers: int = 2,
    seed: int = 0,
    started: Collection[str] | None = None,
    stability: int = 1,
) -> Result:
    """Re-optimise *previous* for *problem* from *now*: started tasks never move, the rest stays valid.

    The warm start is *previous* re-dispatched in its own order (`Rule.REFERENCE`), so a
    valid schedule close to the old one exists before CP-SAT starts. See `repair_problem`
    for the parameters; ``time_limit``, ``workers`` and ``seed`` are `solve`'s.
    """
    repaired = repair_problem(problem, previous, now=now, started=started, stability=stability)
    return solve(repaired, time_limit=time_limit, workers=workers, seed=seed)


def _with_predecessors(pinned: set[str], tasks: dict[str, Task]) -> set[str]:
    closed, stack = set(), list(pinned)
    while stack:
        task_id = stack.pop()
        if task_id in closed or task_id not in tasks:
            continue
        closed.add(task_id)
        stack.extend(tasks[task_id].predecessors)
    return closed


def _repaired(task: Task, before: Placement | None, pinned: set[str], now: int) -> Task:
    if task.id in pinned and before is not None:
        if before.module not in task.durations:
            raise ValueError(f"started: task {task.id!r} ran on {before.module!r}, which is not eligible")
        return dataclasses.replace(task, fixed=Pin(before.module, before.start))
    if task.fixed is not None:
        return task
    return dataclasses.replace(task, release=max(task.release, now))

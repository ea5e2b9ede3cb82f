"""The independent schedule validator: checks placements against a problem without any solver.

Every schedule the engine returns, and every test of it, goes through `validate`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from microfab.scheduling.problem import Placement, SchedulingProblem, Task


def validate(problem: SchedulingProblem, placements: Sequence[Placement]) -> list[str]:
    """Return every way *placements* break *problem*, as human-readable sentences.

    Checks that each task is placed exactly once, on an eligible module, for exactly its
    processing time there, not before its release or its module's release, not after the
    horizon, after its predecessors end, and that no two placements overlap on a module
    (touching ends are fine); placements of unknown tasks are reported too.

    Parameters
    ----------
    problem
        The problem the placements claim to solve.
    placements
        The schedule to check.

    Returns
    -------
    list[str]
        The violations; empty means the schedule is valid.
    """
    tasks = {t.id: t for t in problem.tasks}
    counts = Counter(p.task for p in placements)
    errors = [f"task {t!r} is not in the problem" for t in counts if t not in tasks]
    errors += [f"task {t!r} is placed {n} times, expected once" for t, n in counts.items() if t in tasks and n > 1]
    errors += [f"task {t!r} is not placed" for t in tasks if t not in counts]
    for placement in placements:
        task = tasks.get(placement.task)
        if task is not None:
            errors += _check_placement(problem, task, placement)
    once = {p.task: p for p in placements if counts[p.task] == 1 and p.task in tasks}
    errors += _check_precedence(problem.tasks, once)
    errors += _check_overlaps(placements)
    return errors


def _check_placement(problem: SchedulingProblem, task: Task, placement: Placement) -> list[str]:
    where = f"task {task.id!r} on {placement.module!r} [{placement.start}, {placement.end})"
    errors = []
    duration = task.durations.get(placement.module)
    if duration is None:
        eligible = ", ".join(task.durations)
        errors.append(f"{where}: module is not eligible (eligible: {eligible})")
    elif placement.end - placement.start != duration:
        errors.append(f"{where}: lasts {placement.end - placement.start} s, expected {duration} s")
    if placement.start < task.release:
        errors.append(f"{where}: starts before its release {task.release}")
    module_release = problem.module_release.get(placement.module, 0)
    if placement.start < module_release:
        errors.append(f"{where}: starts before the module is free at {module_release}")
    if problem.horizon is not None and placement.end > problem.horizon:
        errors.append(f"{where}: ends after the horizon {problem.horizon}")
    return errors


def _check_precedence(tasks: Iterable[Task], placed: dict[str, Placement]) -> list[str]:
    errors = []
    for task in tasks:
        after = placed.get(task.id)
        if after is None:
            continue
        for pred in task.predecessors:
            before = placed.get(pred)
            if before is not None and before.end > after.start:
                errors.append(
                    f"task {task.id!r} starts at {after.start}, before its predecessor {pred!r} ends at {before.end}"
                )
    return errors


def _check_overlaps(placements: Iterable[Placement]) -> list[str]:
    by_module: defaultdict[str, list[Placement]] = defaultdict(list)
    for placement in placements:
        by_module[placement.module].append(placement)
    errors = []
    for module, items in by_module.items():
        items.sort(key=lambda p: (p.start, p.end, p.task))
        latest: Placement | None = None  # the placement seen so far that ends last
        for placement in items:
            if latest is not None and placement.start < latest.end:
                errors.append(
                    f"module {module!r}: task {placement.task!r} [{placement.start}, {placement.end}) overlaps "
                    f"task {latest.task!r} [{latest.start}, {latest.end})"
                )
            if latest is None or placement.end > latest.end:
                latest = placement
    return errors


def makespan(placements: Iterable[Placement]) -> int:
    """When the last placement ends (0 for none)."""
    return max((p.end for p in placements), default=0)


def total_completion(problem: SchedulingProblem, placements: Iterable[Placement]) -> int:
    """Sum over the problem's jobs of the end of each job's last placed task."""
    job_of = {t.id: t.job for t in problem.tasks}
    completion: dict[str, int] = {}
    for placement in placements:
        job = job_of.get(placement.task)
        if job is not None:
            completion[job] = max(completion.get(job, 0), placement.end)
    return sum(completion.values())

"""The independent schedule validator: checks placements against a problem without any solver.

Every schedule the engine returns, and every test of it, goes through `validate`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from microfab.scheduling.evaluate import makespan, total_completion
from microfab.scheduling.problem import SchedulingProblem, Task
from microfab.scheduling.result import Placement

__all__ = ["makespan", "total_completion", "validate"]


def validate(problem: SchedulingProblem, placements: Sequence[Placement]) -> list[str]:
    """Return every way *placements* break *problem*, as human-readable sentences.

    Checks that each task is placed exactly once, on an eligible module, for exactly its
    processing time there; a fixed task exactly where it is fixed; any other task not before
    its release or its module's release, not inside a window where its module is
    unavailable; no task after the horizon, none before its predecessors end; no two
    placements overlapping on a module (touching ends are fine) and, between consecutive
    placements on a module (and from the module's initial family, counted from its
    release), at least the setup time
    their families need. On a module with a batch capacity, tasks of one batch key may share
    a run (same start and same end), at most that many at a time; a run that overlaps another
    is named with both batch keys. Placements of unknown tasks are reported too.

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
    errors += _check_modules(problem, [p for p in placements if p.task in tasks])
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
    if problem.horizon is not None and placement.end > problem.horizon:
        errors.append(f"{where}: ends after the horizon {problem.horizon}")
    if task.fixed is not None:
        if (placement.module, placement.start) != (task.fixed.module, task.fixed.start):
            errors.append(f"{where}: moved from where it is fixed ({task.fixed.module!r} at {task.fixed.start})")
        return errors
    if placement.start < task.release:
        errors.append(f"{where}: starts before its release {task.release}")
    module_release = problem.module_release.get(placement.module, 0)
    if placement.start < module_release:
        errors.append(f"{where}: starts before the module is free at {module_release}")
    for start, end in problem.unavailable.get(placement.module, ()):
        if placement.start < end and start < placement.end:
            errors.append(f"{where}: overlaps the module's unavailable window [{start}, {end})")
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


def _check_modules(problem: SchedulingProblem, placements: Iterable[Placement]) -> list[str]:
    by_module: defaultdict[str, list[Placement]] = defaultdict(list)
    for placement in placements:
        by_module[placement.module].append(placement)
    errors: list[str] = []
    for module, items in by_module.items():
        errors += _check_module(problem, module, _batches(problem, module, items, errors))
    return errors


def _batches(
    problem: SchedulingProblem, module: str, items: list[Placement], errors: list[str]
) -> list[list[Placement]]:
    """The module's runs: placements grouped into batches (same key, start and end) where it batches."""
    if not problem.batches(module):
        return [[p] for p in items]
    key = {t.id: t.batch for t in problem.tasks}
    groups: defaultdict[tuple[object, ...], list[Placement]] = defaultdict(list)
    for placement in items:
        batch = key[placement.task]
        tag = (placement.start, placement.end, batch) if batch is not None else (placement.task,)
        groups[tag].append(placement)
    capacity = problem.batch_capacity[module]
    for group in groups.values():
        if len(group) > capacity:
            names = ", ".join(repr(p.task) for p in sorted(group, key=lambda p: p.task))
            errors.append(
                f"module {module!r}: batch at {group[0].start} of {len(group)} tasks ({names}) "
                f"exceeds its capacity {capacity}"
            )
    return list(groups.values())


def _check_module(problem: SchedulingProblem, module: str, runs: list[list[Placement]]) -> list[str]:
    """No two runs overlap; between consecutive runs (and from the initial family), the setup."""
    tasks = {t.id: t for t in problem.tasks}
    runs.sort(key=lambda run: (run[0].start, run[0].end, min(p.task for p in run)))
    errors = []
    latest: Placement | None = None  # the placement seen so far that ends last
    previous_family = problem.initial_family.get(module)
    for run in runs:
        placement = min(run, key=lambda p: p.task)
        task = tasks[placement.task]
        if latest is not None and placement.start < latest.end:
            errors.append(
                _overlap(module, placement, task, latest, tasks[latest.task], batches=problem.batches(module))
            )
        ready = problem.module_release.get(module, 0) if latest is None else latest.end
        setup = problem.setup(module, previous_family, task.family)
        if setup and placement.start < ready + setup and all(tasks[p.task].fixed is None for p in run):
            after = "the module's initial family" if latest is None else f"task {latest.task!r}"
            errors.append(
                f"module {module!r}: task {placement.task!r} starts at {placement.start}, "
                f"less than the {setup} s setup after {after} (ready at {ready})"
            )
        if latest is None or placement.end > latest.end:
            latest = placement
        previous_family = task.family
    return errors


def _overlap(module: str, placement: Placement, task: Task, latest: Placement, other: Task, *, batches: bool) -> str:
    text = (
        f"module {module!r}: task {placement.task!r} [{placement.start}, {placement.end}) overlaps "
        f"task {latest.task!r} [{latest.start}, {latest.end})"
    )
    if batches and task.batch is not None and task.batch == other.batch:
        return f"{text}: one batch must share its start and end"
    if batches and (task.batch is not None or other.batch is not None):
        return f"{text}: batch keys {other.batch!r} and {task.batch!r} differ, only identical operations share a batch"
    return text

"""The criteria of an objective, computed from placements without any solver."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from microfab.scheduling.problem import Criterion, SchedulingProblem
from microfab.scheduling.result import Placement


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


def weighted_tardiness(problem: SchedulingProblem, placements: Iterable[Placement]) -> int:
    """Sum over placed tasks with a due time of ``weight * max(0, end - due)``."""
    tasks = {t.id: t for t in problem.tasks}
    total = 0
    for placement in placements:
        task = tasks.get(placement.task)
        if task is not None and task.due is not None:
            total += task.weight * max(0, placement.end - task.due)
    return total


def stability(problem: SchedulingProblem, placements: Iterable[Placement]) -> int:
    """Distance to the problem's reference: seconds moved, plus the duration of each task that changes module."""
    total = 0
    for placement in placements:
        before = problem.reference.get(placement.task)
        if before is None:
            continue
        total += abs(placement.start - before.start)
        if placement.module != before.module:
            total += before.end - before.start
    return total


def criterion(problem: SchedulingProblem, placements: Iterable[Placement], which: Criterion) -> int:
    """The value of one criterion."""
    placements = tuple(placements)
    if which is Criterion.MAKESPAN:
        return makespan(placements)
    if which is Criterion.WEIGHTED_TARDINESS:
        return weighted_tardiness(problem, placements)
    if which is Criterion.TOTAL_COMPLETION:
        return total_completion(problem, placements)
    return stability(problem, placements)


def cost(problem: SchedulingProblem, placements: Iterable[Placement]) -> tuple[int, ...]:
    """The objective's value stage by stage (compare tuples: smaller is better)."""
    placements = tuple(placements)
    values = {c: criterion(problem, placements, c) for c in problem.objective.criteria}
    return tuple(_weighted(stage, values) for stage in problem.objective.stages)


def _weighted(stage: Mapping[Criterion, int], values: Mapping[Criterion, int]) -> int:
    return sum(w * values[c] for c, w in stage.items())

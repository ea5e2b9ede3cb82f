"""Solve a `SchedulingProblem` with OR-Tools CP-SAT, warm-started by dispatching rules.

The model (`microfab.scheduling.cpsat`) is a flexible job shop: one interval per task, one
optional interval per eligible module with exactly one present, a NoOverlap per module that
also holds its unavailable windows, ``end(pred) <= start(succ)``, releases, sequence-dependent
setups (a circuit per module, or a conservative padding on large modules), fixed tasks as
constants, and a redundant cumulative per group of interchangeable modules.

The objective is lexicographic: the stages of the problem's `Objective` are solved in turn on
the same model, each later stage holding the earlier ones at the values found. Stages
rather than one weighted sum ``W * makespan + sum(C_j)``: the large ``W`` a lexicographic
sum needs made CP-SAT find makespans 5-25 % worse on Brandimarte Mk04 and Mk07.
"""

from __future__ import annotations

import itertools
import logging
import math
import random
import threading
import time
from collections.abc import Sequence
from fractions import Fraction

from microfab.scheduling import tabu
from microfab.scheduling.cpsat import CpSatModel, Outcome, constraints
from microfab.scheduling.evaluate import cost, makespan
from microfab.scheduling.heuristics import greedy_schedule, padded_setups
from microfab.scheduling.problem import Criterion, SchedulingProblem, Task, topological_order
from microfab.scheduling.result import Placement, Result, Status
from microfab.scheduling.validate import validate

__all__ = ["greedy_schedule", "lower_bound", "solve"]

logger = logging.getLogger(__name__)

_ALTERNATE_FROM = 2.0
"""From this many seconds for the first stage, `_alternate` full and assignment-frozen runs."""

_FULL_SLICE, _FROZEN_SLICE, _MIN_SHARE, _MIN_SLICE = 0.3, 0.2, 0.025, 0.05
"""Shares of the first stage's time per full and per frozen run (a frozen run that did not improve
halves the next one's share, down to the third); seconds below which a run is skipped."""

_FREE_WINDOW = 0.5
"""Share of the makespan (a random window, new each round) whose tasks keep their module choice
free in a frozen run; 0 would freeze every choice. 0.5 did as well or better than 0, 0.3 and 0.7
on Mk05, Mk06, Mk09 and Mk10 (10 s, 2 workers)."""

_HYBRID_FROM = 0.2
"""From this many seconds for a makespan-first stage that the tabu search models, `_hybrid` runs."""

_HYBRID_SLICE = 0.15
"""`_hybrid` works in slices of this share of its time (the last slice takes what is left)."""

_FIRST_PHASE_SHARE = 0.8
"""Share of the time limit the first stage may use when later stages follow (a middle stage: half
of what is left; the last stage: all of it)."""


def solve(
    problem: SchedulingProblem,
    *,
    time_limit: float,
    workers: int = 2,
    seed: int = 0,
    hint: Sequence[Placement] | None = None,
) -> Result:
    """Place every task of *problem* on a module, minimising the problem's objective stage by stage.

    Dispatching rules (`greedy_schedule`) run first; the best of them (or *hint*, when it is
    valid and better) is CP-SAT's starting point and bounds the horizon. If CP-SAT finds
    nothing within *time_limit*, that schedule is returned with status FEASIBLE (when it fits
    the problem's horizon). OPTIMAL means every stage is proven optimal. Every schedule
    returned has passed `validate`.

    Parameters
    ----------
    problem
        What to schedule.
    time_limit
        Wall-clock seconds CP-SAT may search, > 0.
    workers
        CP-SAT search workers, >= 1.
    seed
        CP-SAT random seed.
    hint
        A previous or hand-made schedule to start from (used only if valid).

    Returns
    -------
    Result
        ``objective`` is the makespan and ``lower_bound`` a proven lower bound on it.
    """
    if time_limit <= 0:
        raise ValueError(f"time_limit: expected > 0, got {time_limit}")
    if workers < 1:
        raise ValueError(f"workers: expected >= 1, got {workers}")
    started = time.perf_counter()
    if not problem.tasks:
        return Result(Status.OPTIMAL, (), 0, 0, time.perf_counter() - started, cost=cost(problem, ()))
    floor = lower_bound(problem)
    start_from = _starting_point(problem, hint)
    padded = padded_setups(problem, constraints.CIRCUIT_LIMIT)
    model_hint = greedy_schedule(problem, padded=padded) if padded else start_from
    span = max(makespan(start_from), makespan(model_hint))
    fits = problem.horizon is None or span <= problem.horizon
    horizon = _horizon(problem, span)
    status: Status
    placements: tuple[Placement, ...]
    bound: int | None
    reason: str | None
    if floor > horizon:
        reason = f"no schedule can end by the horizon {horizon}: the makespan is at least {floor}"
        status, placements, bound = Status.INFEASIBLE, (), None
    else:
        deadline = started + time_limit
        model = CpSatModel(problem, horizon=horizon, floor=floor, padded=padded)
        status, placements, bound = _optimise(model, floor, model_hint if fits else (), deadline, workers, seed)
        usable = status not in (Status.MODEL_INVALID, Status.INFEASIBLE)
        if fits and usable and (not placements or cost(problem, start_from) < cost(problem, placements)):
            status, placements = Status.FEASIBLE, start_from  # the exact-setup dispatch beat the padded model
        reason = _reason(problem, status)
    result = Result(
        status,
        _sorted(placements),
        makespan(placements) if placements else None,
        bound,
        time.perf_counter() - started,
        reason,
        cost(problem, placements) if placements else (),
    )
    logger.info(
        "scheduled %d tasks on %d modules: %s, makespan %s, bound %s, %.3f s",
        len(problem.tasks),
        len(problem.modules),
        result.status.name,
        result.objective,
        result.lower_bound,
        result.runtime,
    )
    return result


def _starting_point(problem: SchedulingProblem, hint: Sequence[Placement] | None) -> tuple[Placement, ...]:
    """The dispatching rules' best schedule, or *hint* when it is valid and no worse."""
    greedy = greedy_schedule(problem)
    if hint is not None and not validate(problem, hint) and cost(problem, hint) <= cost(problem, greedy):
        return tuple(hint)
    return greedy


def _horizon(problem: SchedulingProblem, span: int) -> int:
    """The starting point's makespan when that is what counts first; else room for trading it."""
    first = problem.objective.stages[0]
    room = span if set(first) == {Criterion.MAKESPAN} else 2 * span
    return room if problem.horizon is None else min(room, problem.horizon)


def _optimise(
    model: CpSatModel,
    floor: int,
    start_from: tuple[Placement, ...],
    deadline: float,
    workers: int,
    seed: int,
) -> tuple[Status, tuple[Placement, ...], int | None]:
    """Run the stages; fall back to *start_from* (empty if it breaks the horizon) when CP-SAT finds nothing."""
    problem = model.problem
    stages = problem.objective.stages
    makespan_first = set(stages[0]) == {Criterion.MAKESPAN}
    best, bound, optimal = start_from, floor, True
    for stage in range(len(stages)):
        remaining = deadline - time.perf_counter()
        if remaining <= 0.01 and stage > 0:
            optimal = False
            break
        share = 1.0 if stage == len(stages) - 1 else _FIRST_PHASE_SHARE if stage == 0 else 0.5
        model.minimise(stage)
        budget = max(0.01, share * remaining)
        if stage == 0 and best and tabu.applies(problem) and budget >= _HYBRID_FROM:
            outcome = _hybrid(model, best, time.perf_counter() + budget, workers, seed)
        elif stage == 0 and budget >= _ALTERNATE_FROM:
            outcome = _alternate(model, best, time.perf_counter() + budget, workers, seed)
        else:
            outcome = model.run(best, time_limit=budget, workers=workers, seed=seed)
        if not outcome.placements:
            return _without_solution(problem, outcome, best, floor, stage)
        if stage == 0 and makespan_first and outcome.bound is not None:
            bound = max(floor, outcome.bound // stages[0][Criterion.MAKESPAN])
        best, optimal = outcome.placements, optimal and outcome.status is Status.OPTIMAL
        assert outcome.value is not None
        model.keep(stage, outcome.value)
    violations = validate(problem, best)
    if violations:  # a modelling gap; the dispatching rules' schedule is valid by construction
        logger.error("CP-SAT schedule failed validation (%s); returning the dispatch", "; ".join(violations[:3]))
        return (Status.FEASIBLE, start_from, bound) if start_from else (Status.UNKNOWN, (), bound)
    return (Status.OPTIMAL if optimal else Status.FEASIBLE), best, bound


def _hybrid(model: CpSatModel, start_from: tuple[Placement, ...], deadline: float, workers: int, seed: int) -> Outcome:
    """Tabu search and CP-SAT in turn on a makespan-first problem, each starting from the other's best.

    The tabu search (`microfab.scheduling.tabu`) moves fast through module choices and orders;
    CP-SAT, hinted with the best schedule so far, improves on it and proves bounds. They take
    turns: a tabu slice of `_HYBRID_SLICE` of the time, with a CP-SAT side run on
    ``workers - 1`` workers meanwhile (the solver releases the GIL, so no core idles), then
    CP-SAT on every worker for as long as it keeps finding better schedules (it stops when
    two slices' time pass without one: `CpSatModel.run`'s *patience*), then tabu again.

    Which engine pays differs by instance: on large, less flexible shops (Brandimarte Mk10)
    the tabu search finds nearly everything and CP-SAT soon hands back; on long routings with
    few machines (Dauzere-Peres 01a) CP-SAT keeps improving and keeps the time. The turns
    follow what each run finds; no setting is tuned to one instance set.
    """
    problem = model.problem
    weight = problem.objective.stages[0][Criterion.MAKESPAN]
    step = max(_MIN_SLICE, _HYBRID_SLICE * (deadline - time.perf_counter()))
    best, bound = start_from, model.floor * weight
    for round_ in itertools.count():
        left = deadline - time.perf_counter()
        if left <= _MIN_SLICE:
            break
        if round_ % 2 == 0:
            span = min(left, step)
            side = _Side(model, best, span, workers - 1, seed + round_) if workers > 1 else None
            found = tabu.improve(
                problem,
                best,
                deadline=time.perf_counter() + span,
                seed=seed + round_,
                target=bound // weight,
                stop=side.proved if side is not None else None,
            )
            outcome = side.join() if side is not None else Outcome(Status.UNKNOWN, (), None, None)
            # A proven optimum wins ties too: when the tabu search stopped depends on timing, the
            # side run's schedule (one worker, seeded) does not, so the same seed gives the same answer.
            proved = outcome.status is Status.OPTIMAL and makespan(outcome.placements) <= makespan(found)
            wins = bool(outcome.placements) and (proved or makespan(outcome.placements) < makespan(found))
            best = outcome.placements if wins else found
        else:
            outcome = model.run(best, time_limit=left, workers=workers, seed=seed + round_, patience=2 * step)
            if outcome.placements and makespan(outcome.placements) < makespan(best):
                best = outcome.placements
        bound = max(bound, outcome.bound or 0)
        if outcome.status is Status.OPTIMAL or weight * makespan(best) <= bound:
            return Outcome(Status.OPTIMAL, best, weight * makespan(best), max(bound, weight * makespan(best)))
    return Outcome(Status.FEASIBLE, best, weight * makespan(best), bound)


class _Side:
    """A CP-SAT run on its own thread (the solver releases the GIL), for a fixed time."""

    def __init__(self, model: CpSatModel, hint: tuple[Placement, ...], seconds: float, workers: int, seed: int):
        self._outcome = Outcome(Status.UNKNOWN, (), None, None)

        def run() -> None:
            self._outcome = model.run(hint, time_limit=max(0.01, seconds), workers=workers, seed=seed)

        self._thread = threading.Thread(target=run, name="cpsat-side", daemon=True)
        self._thread.start()

    def proved(self) -> bool:
        """Whether the run has ended with a proven optimum (the tabu search beside it may stop)."""
        return not self._thread.is_alive() and self._outcome.status is Status.OPTIMAL

    def join(self) -> Outcome:
        """Wait for the run to end and return what it found."""
        self._thread.join()
        return self._outcome


def _alternate(
    model: CpSatModel, start_from: tuple[Placement, ...], deadline: float, workers: int, seed: int
) -> Outcome:
    """Alternate the full model with one whose module choices are frozen at the best schedule so far.

    The frozen run keeps the module of every task outside a random window of the schedule
    (`_FREE_WINDOW`): mostly a job shop, where CP-SAT's search goes much further in the same
    time, with room to re-assign inside the window; the full model then re-assigns
    everywhere from the better sequence. Each run starts from the best schedule so far and is
    kept only if no worse. Stops early when the full model proves optimality.
    """
    total = deadline - time.perf_counter()
    best = model.run(start_from, time_limit=_FULL_SLICE * total, workers=workers, seed=seed)
    if not best.placements or best.status is Status.OPTIMAL:
        return best
    bound, round_, rng, frozen_share = best.bound, 0, random.Random(seed), _FROZEN_SLICE
    while deadline - time.perf_counter() > _MIN_SLICE:
        round_ += 1
        frozen = _frozen(best.placements, rng)
        fixed = CpSatModel(
            model.problem,
            horizon=model.horizon,
            floor=model.floor,
            frozen=frozen,
            keep_order=False,
            padded=model.padded,
        )
        fixed.minimise(0)
        for candidate, share in ((fixed, frozen_share), (model, _FULL_SLICE)):
            left = deadline - time.perf_counter()
            if left <= _MIN_SLICE:
                break
            outcome = candidate.run(
                best.placements, time_limit=min(left, share * total), workers=workers, seed=seed + round_
            )
            if candidate is model and outcome.bound is not None:
                bound = max(bound or 0, outcome.bound)
            value = outcome.value if outcome.placements and outcome.value is not None else None
            incumbent = best.value if best.value is not None else value
            if candidate is fixed:  # frozen runs that stop paying get less time, the full model more
                gained = value is not None and incumbent is not None and value < incumbent
                frozen_share = _FROZEN_SLICE if gained else max(_MIN_SHARE, frozen_share / 2)
            if value is not None and incumbent is not None and value <= incumbent:
                best = outcome
            if candidate is model and outcome.status is Status.OPTIMAL:
                return Outcome(Status.OPTIMAL, outcome.placements, outcome.value, bound)
    return Outcome(Status.FEASIBLE, best.placements, best.value, bound)


def _frozen(placements: Sequence[Placement], rng: random.Random) -> dict[str, Placement]:
    """The placements whose module a frozen run keeps: all but those starting in a random window."""
    if _FREE_WINDOW <= 0:
        return {p.task: p for p in placements}
    span = makespan(placements)
    low = rng.uniform(0, span * (1 - _FREE_WINDOW))
    high = low + span * _FREE_WINDOW
    return {p.task: p for p in placements if not low <= p.start < high}


def _without_solution(
    problem: SchedulingProblem, outcome: Outcome, best: tuple[Placement, ...], floor: int, stage: int
) -> tuple[Status, tuple[Placement, ...], int | None]:
    if outcome.status is Status.MODEL_INVALID:
        logger.error("CP-SAT rejected the model of %d tasks", len(problem.tasks))
        return outcome.status, (), None
    if best:
        if stage == 0:
            logger.info("CP-SAT found no schedule in time; returning the greedy dispatch")
        return Status.FEASIBLE, best, floor
    return outcome.status, (), None if outcome.status is Status.INFEASIBLE else floor


def _reason(problem: SchedulingProblem, status: Status) -> str | None:
    """A sentence on why there is no schedule, from what can be seen without the solver."""
    if status is Status.INFEASIBLE:
        if problem.horizon is not None:
            return f"no schedule of all {len(problem.tasks)} tasks ends by the horizon {problem.horizon}"
        return "the fixed tasks, windows and setups leave no room for the rest"
    if status is Status.MODEL_INVALID:
        return "CP-SAT rejected the model"
    if status is Status.UNKNOWN:
        return "no schedule found within the time limit"
    return None


def lower_bound(problem: SchedulingProblem) -> int:
    """A cheap lower bound on the makespan: the longest release-aware chain, or free work over modules.

    The chain bound uses each task's shortest duration (a fixed task its own end); the work
    bound divides the sum of the free tasks' shortest durations by the number of modules,
    rounded up (a task that may batch counts its duration over the module's capacity).
    """
    if not problem.tasks:
        return 0
    tasks = {t.id: t for t in problem.tasks}
    finish: dict[str, int] = {}
    for task_id in topological_order(problem.tasks):
        task = tasks[task_id]
        if task.fixed is not None:
            finish[task_id] = task.fixed.start + task.durations[task.fixed.module]
            continue
        ready = max([task.release, *(finish[p] for p in task.predecessors)])
        finish[task_id] = min(max(ready, problem.module_release.get(m, 0)) + d for m, d in task.durations.items())
    work = sum(_work(problem, t) for t in problem.tasks if t.fixed is None)
    return max(0, *finish.values(), math.ceil(work / len(problem.modules)))


def _work(problem: SchedulingProblem, task: Task) -> Fraction:
    """The least module time *task* can take: its shortest duration, shared by a full batch where it may batch."""
    if task.batch is None:
        return Fraction(task.min_duration)
    return min(Fraction(d, problem.batch_capacity.get(m, 1)) for m, d in task.durations.items())


def _sorted(placements: Sequence[Placement]) -> tuple[Placement, ...]:
    return tuple(sorted(placements, key=lambda p: (p.start, p.module, p.task)))

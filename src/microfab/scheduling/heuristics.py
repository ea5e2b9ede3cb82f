"""Dispatching rules: fast constructive schedules that respect every constraint of a problem.

List scheduling in precedence order. A rule picks the next ready task (one whose
predecessors are placed); the task goes on the eligible module where it ends first, after
the module's previous task plus the setup the two families need, skipping windows where
the module is unavailable and fixed tasks (a task fits in a gap before one only with the
setup it needs after it). Fixed tasks stay where they are. Each rule is linear-ish in the
number of tasks (``EARLIEST_START`` scans the ready set and is meant for small problems).
"""

from __future__ import annotations

import enum
import heapq
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from microfab.scheduling.evaluate import cost
from microfab.scheduling.problem import SchedulingProblem, Task, topological_order
from microfab.scheduling.result import Placement

__all__ = ["Rule", "dispatch", "greedy_schedule", "padded_setups"]

_DYNAMIC_LIMIT = 800
"""Up to this many tasks `greedy_schedule` also tries the ready-set-scanning rule."""


_NOISE = 0.3
"""Randomised rules scale priorities by up to this share."""


class Rule(enum.Enum):
    """Which ready task goes next."""

    EARLIEST_START = "earliest_start"
    """The one that can start first (ties: input order)."""
    MOST_WORK_REMAINING = "most_work_remaining"
    """The one with the longest chain of shortest durations still ahead of it (MWKR)."""
    LEAST_SLACK = "least_slack"
    """The one whose due time minus the work ahead of it is smallest (no due: last)."""
    REFERENCE = "reference"
    """The one that starts first in the problem's reference schedule (repair); others after."""


@dataclass(slots=True)
class _Block:
    start: int
    end: int
    family: str | None  # None for an unavailability window: it does not change the set-up


@dataclass(slots=True)
class _Run:
    """A batch on a module: when it runs and how many tasks it holds."""

    start: int
    end: int
    size: int = 1


@dataclass(slots=True)
class _Lane:
    """One module's state while dispatching: where the last dispatched task ends, what is fixed, its batches."""

    free: int
    family: str | None
    blocks: list[_Block] = field(default_factory=list)
    runs: dict[str, list[_Run]] = field(default_factory=dict)


def padded_setups(problem: SchedulingProblem, limit: int) -> dict[str, dict[str | None, int]]:
    """Modules with setups and more than *limit* candidate tasks -> per family the longest setup into it.

    On such modules the CP-SAT model books that padding before every task instead of a
    circuit of exact setups (which grows with the square of the candidates).
    """
    candidates: dict[str, list[Task]] = {m: [] for m in problem.modules}
    for task in problem.tasks:
        for module in task.durations:
            candidates[module].append(task)
    padded: dict[str, dict[str | None, int]] = {}
    for module, tasks in candidates.items():
        setup = problem.setups.get(module)
        if setup is None or setup.longest == 0 or len(tasks) <= limit:
            continue
        families = {t.family for t in tasks} | {problem.initial_family.get(module)}
        if len(families - {None}) < 2:  # one family never changes over
            continue
        padded[module] = {f: max(setup.time(other, f) for other in families) for f in families}
    return padded


class _Dispatcher:
    def __init__(self, problem: SchedulingProblem, padded: Mapping[str, Mapping[str | None, int]]) -> None:
        self.problem = problem
        self.padded = padded
        self.tasks = {t.id: t for t in problem.tasks}
        self.rank = {m: i for i, m in enumerate(problem.modules)}
        self.lanes = {
            m: _Lane(problem.module_release.get(m, 0), problem.initial_family.get(m)) for m in problem.modules
        }
        for module, windows in problem.unavailable.items():
            self.lanes[module].blocks += [_Block(a, b, None) for a, b in windows]
        self.placed: dict[str, Placement] = {}
        for task in problem.tasks:
            if task.fixed is not None:
                start, module = task.fixed.start, task.fixed.module
                end = start + task.durations[module]
                self.placed[task.id] = Placement(task.id, module, start, end)
                if not self._joined(task, module, start):
                    self.lanes[module].blocks.append(_Block(start, end, task.family))
                    self._open(task, module, start, end)
        for lane in self.lanes.values():
            lane.blocks.sort(key=lambda b: (b.start, b.end))
            for block in lane.blocks:  # fixed work over before the module is free sets it up
                if block.end <= lane.free and block.family is not None:
                    lane.family = block.family

    def start_on(self, task: Task, module: str, ready: int) -> int:
        """The earliest start of *task* on *module* at or after *ready*, after the module's last task."""
        lane, problem = self.lanes[module], self.problem
        duration = task.durations[module]
        free, family = lane.free, lane.family
        for block in lane.blocks:
            if block.end <= free:
                continue
            start = max(ready, free + self._gap(module, family, task.family))
            after = 0 if block.family is None else problem.setup(module, task.family, block.family)
            if start + duration + after <= block.start:
                return start
            free = max(free, block.end)
            family = family if block.family is None else block.family
        return max(ready, free + self._gap(module, family, task.family))

    def _gap(self, module: str, before: str | None, after: str | None) -> int:
        pads = self.padded.get(module)
        if pads is not None:
            return max(pads[after], self.problem.setup(module, before, after))
        return self.problem.setup(module, before, after)

    def place(self, task: Task, ready: int) -> Placement:
        """Put *task* where it ends first (joining a batch of its key on a tie), and book it."""
        best: Placement | None = None
        best_key: tuple[int, int, int] | None = None
        for module, duration in task.durations.items():
            options = [(self.start_on(task, module, ready), 1)]
            run = self._open_run(task, module, ready)
            if run is not None:
                options.append((run.start, 0))
            for start, new in options:
                key = (start + duration, new, self.rank[module])
                if best_key is None or key < best_key:
                    best, best_key = Placement(task.id, module, start, start + duration), key
        assert best is not None and best_key is not None
        self.placed[task.id] = best
        if not best_key[1]:
            self._joined(task, best.module, best.start)
            return best
        lane = self.lanes[best.module]
        lane.free, lane.family = best.end, task.family
        # the fixed blocks jumped over now set the family only if they come after the task
        self._open(task, best.module, best.start, best.end)
        return best

    def _open_run(self, task: Task, module: str, ready: int) -> _Run | None:
        """The earliest batch of *task*'s key on *module* it can still join (not before *ready*)."""
        if task.batch is None or not self.problem.batches(module):
            return None
        capacity = self.problem.batch_capacity[module]
        duration = task.durations[module]
        fits = [
            run
            for run in self.lanes[module].runs.get(task.batch, ())
            if run.size < capacity and run.start >= ready and run.end - run.start == duration
        ]
        return min(fits, key=lambda run: run.start, default=None)

    def _joined(self, task: Task, module: str, start: int) -> bool:
        """Add *task* to its key's batch starting at *start* on *module*, if there is one with room."""
        if task.batch is None or not self.problem.batches(module):
            return False
        for run in self.lanes[module].runs.get(task.batch, ()):
            if run.start == start and run.size < self.problem.batch_capacity[module]:
                run.size += 1
                return True
        return False

    def _open(self, task: Task, module: str, start: int, end: int) -> None:
        """Record a new batch led by *task* (on a module that batches)."""
        if task.batch is not None and self.problem.batches(module):
            self.lanes[module].runs.setdefault(task.batch, []).append(_Run(start, end))


def dispatch(
    problem: SchedulingProblem,
    rule: Rule,
    *,
    noise: float = 0.0,
    rng: random.Random | None = None,
    padded: Mapping[str, Mapping[str | None, int]] | None = None,
) -> tuple[Placement, ...]:
    """Build a complete schedule with dispatching rule *rule*; fixed tasks stay where they are.

    Ignores the horizon (the result may end after it). Placements come in dispatch order,
    fixed tasks first. With *noise* > 0 each task's static priority is scaled by a random
    factor in ``[1, 1 + noise]`` drawn from *rng* (a randomised rule, for multi-start).
    On *padded* modules (see `padded_setups`) every task keeps its padding before it, so
    the schedule also fits the CP-SAT model's conservative setups there.
    """
    state = _Dispatcher(problem, padded or {})
    order = topological_order(problem.tasks)
    position = {task_id: i for i, task_id in enumerate(order)}
    successors: dict[str, list[str]] = {t.id: [] for t in problem.tasks}
    waiting: dict[str, int] = {}
    earliest: dict[str, int] = {}
    for task in problem.tasks:
        for pred in set(task.predecessors):
            successors[pred].append(task.id)
        waiting[task.id] = len(set(task.predecessors))
        earliest[task.id] = task.release if task.fixed is None else task.fixed.start
    key = _priority(problem, rule, position)
    if noise > 0:
        draw = rng or random.Random(0)
        factor = {t.id: 1 + noise * draw.random() for t in problem.tasks}
        static = key
        key = lambda t: static(t) * factor[t]  # noqa: E731
    ready: list[tuple[float, int, str]] = []

    def release(task_id: str) -> None:
        end = state.placed[task_id].end
        for succ in successors[task_id]:
            earliest[succ] = max(earliest[succ], end)
            waiting[succ] -= 1
            if waiting[succ] == 0 and state.tasks[succ].fixed is None:
                heapq.heappush(ready, (key(succ), position[succ], succ))

    fixed = [t for t in order if state.tasks[t].fixed is not None]
    for task_id in order:
        if waiting[task_id] == 0 and state.tasks[task_id].fixed is None:
            heapq.heappush(ready, (key(task_id), position[task_id], task_id))
    for task_id in fixed:
        release(task_id)
    while ready:
        if rule is Rule.EARLIEST_START:
            chosen = min(ready, key=lambda e: (_earliest(state, state.tasks[e[2]], earliest[e[2]]), e[1]))
            ready.remove(chosen)
            heapq.heapify(ready)
        else:
            chosen = heapq.heappop(ready)
        task_id = chosen[2]
        state.place(state.tasks[task_id], earliest[task_id])
        release(task_id)
    return tuple(state.placed.values())


def _earliest(state: _Dispatcher, task: Task, ready: int) -> int:
    return min(state.start_on(task, module, ready) for module in task.durations)


def _priority(problem: SchedulingProblem, rule: Rule, position: Mapping[str, int]) -> Callable[[str], float]:
    """A static key per task (smaller goes first)."""
    if rule is Rule.EARLIEST_START:
        return lambda _: 0.0
    if rule is Rule.REFERENCE:
        reference = problem.reference
        return lambda t: reference[t].start if t in reference else float("inf")
    tail = _work_ahead(problem, position)
    if rule is Rule.MOST_WORK_REMAINING:
        return lambda t: -tail[t]
    due = {t.id: t.due for t in problem.tasks}
    return lambda t: float("inf") if due[t] is None else float(due[t] - tail[t])  # type: ignore[operator]


def _work_ahead(problem: SchedulingProblem, position: Mapping[str, int]) -> dict[str, int]:
    """Per task, its shortest duration plus the longest such chain through its successors."""
    tasks = {t.id: t for t in problem.tasks}
    successors: dict[str, list[str]] = {t.id: [] for t in problem.tasks}
    for task in problem.tasks:
        for pred in task.predecessors:
            successors[pred].append(task.id)
    tail: dict[str, int] = {}
    for task_id in sorted(position, key=position.__getitem__, reverse=True):
        ahead = max((tail[s] for s in successors[task_id]), default=0)
        tail[task_id] = tasks[task_id].min_duration + ahead
    return tail


def greedy_schedule(
    problem: SchedulingProblem,
    *,
    budget: float = 0.0,
    seed: int = 0,
    padded: Mapping[str, Mapping[str | None, int]] | None = None,
) -> tuple[Placement, ...]:
    """The best schedule, by the problem's objective, of the dispatching rules that suit it.

    With a *budget* of seconds, randomised versions of the static rules keep running
    (multi-start) until it is spent, and the best of all wins.
    """
    rules = [Rule.MOST_WORK_REMAINING]
    if len(problem.tasks) <= _DYNAMIC_LIMIT:
        rules.insert(0, Rule.EARLIEST_START)
    if any(t.due is not None for t in problem.tasks):
        rules.append(Rule.LEAST_SLACK)
    if problem.reference:
        rules.insert(0, Rule.REFERENCE)
    best: tuple[Placement, ...] = ()
    best_cost: tuple[int, ...] | None = None
    for rule in rules:
        placements = dispatch(problem, rule, padded=padded)
        value = cost(problem, placements)
        if best_cost is None or value < best_cost:
            best, best_cost = placements, value
    rng, deadline = random.Random(seed), time.perf_counter() + budget
    static = [r for r in rules if r is not Rule.EARLIEST_START]
    round_ = 0
    while time.perf_counter() < deadline:
        rule = static[round_ % len(static)]
        round_ += 1
        placements = dispatch(problem, rule, noise=_NOISE, rng=rng, padded=padded)
        value = cost(problem, placements)
        if best_cost is None or value < best_cost:
            best, best_cost = placements, value
    return best

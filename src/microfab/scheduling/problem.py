"""The scheduling engine's data: an immutable problem (tasks, modules, setups, windows, objective).

All times are whole seconds relative to an origin chosen by the caller (see
`microfab.scheduling.build`); the engine never sees a `datetime`.
"""

from __future__ import annotations

import enum
import heapq
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from microfab.domain.quantities import Seconds
from microfab.scheduling.result import Placement, Result, Status

__all__ = [
    "Criterion",
    "Objective",
    "Pin",
    "Placement",
    "Result",
    "SchedulingProblem",
    "Setup",
    "Status",
    "Task",
    "topological_order",
]


def _frozen(mapping: Mapping[Any, Any]) -> Mapping[Any, Any]:
    """A read-only copy of *mapping*, so a frozen dataclass stays frozen."""
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class Pin:
    """A task held on *module* from second *start* (may be negative: it started before time zero)."""

    module: str
    start: Seconds


@dataclass(frozen=True, slots=True)
class Setup:
    """Sequence-dependent changeover seconds on one module, by product family.

    Switching from family ``a`` to family ``b`` costs ``pairs[(a, b)]`` when given, else
    ``default``; staying in a family, or a task without a family, costs nothing.
    """

    default: Seconds = 0
    pairs: Mapping[tuple[str, str], Seconds] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.default < 0 or any(v < 0 for v in self.pairs.values()):
            raise ValueError("setup: expected seconds >= 0")
        object.__setattr__(self, "pairs", _frozen(self.pairs))

    def time(self, before: str | None, after: str | None) -> Seconds:
        """Seconds needed between a task of family *before* and one of family *after*."""
        if before is None or after is None or before == after:
            return 0
        return self.pairs.get((before, after), self.default)

    @property
    def longest(self) -> Seconds:
        """The longest changeover this module can need."""
        return max([self.default, *self.pairs.values()])


class Criterion(enum.Enum):
    """What an objective can minimise."""

    MAKESPAN = "makespan"
    """When the last task ends."""
    WEIGHTED_TARDINESS = "weighted_tardiness"
    """Sum over tasks with a due time of ``weight * max(0, end - due)``."""
    TOTAL_COMPLETION = "total_completion"
    """Sum over jobs of when the job's last task ends."""
    STABILITY = "stability"
    """Distance to the reference schedule: seconds moved, plus the task's duration when it changes module."""


@dataclass(frozen=True, slots=True)
class Objective:
    """Lexicographic stages, each a weighted sum of criteria; the first stage matters most.

    The default minimises the makespan, then the total completion time.
    """

    stages: tuple[Mapping[Criterion, int], ...] = (
        MappingProxyType({Criterion.MAKESPAN: 1}),
        MappingProxyType({Criterion.TOTAL_COMPLETION: 1}),
    )

    def __post_init__(self) -> None:
        stages = tuple(_frozen({c: w for c, w in stage.items() if w}) for stage in self.stages)
        if not stages or not all(stages):
            raise ValueError("objective: expected at least one stage, each with a criterion of weight > 0")
        if any(w < 0 for stage in stages for w in stage.values()):
            raise ValueError("objective: expected weights >= 0")
        object.__setattr__(self, "stages", stages)

    @classmethod
    def makespan(cls) -> Objective:
        """Minimise the makespan only."""
        return cls(({Criterion.MAKESPAN: 1},))

    @classmethod
    def lexicographic(cls, *criteria: Criterion) -> Objective:
        """Minimise each criterion in turn, never worsening the ones before."""
        return cls(tuple({c: 1} for c in criteria))

    @classmethod
    def weighted(cls, weights: Mapping[Criterion, int]) -> Objective:
        """Minimise one weighted sum of criteria."""
        return cls((weights,))

    @property
    def criteria(self) -> frozenset[Criterion]:
        """Every criterion used in some stage."""
        return frozenset(c for stage in self.stages for c in stage)


@dataclass(frozen=True, slots=True)
class Task:
    """One operation to place on exactly one of its eligible modules, without pre-emption.

    Parameters
    ----------
    id
        Unique task id (the operation id).
    job
        The job the task belongs to (a unit's serial); a job completes when its last task ends.
    durations
        Processing seconds on each eligible module; only the keys are eligible, values > 0.
    predecessors
        Ids of tasks that must end before this one starts.
    release
        Earliest start, seconds >= 0.
    due
        Due time in seconds (may be negative: already late); tardiness counts ``end - due``.
    weight
        Importance >= 0 of the task's tardiness.
    family
        Product family, for sequence-dependent setups (None: never needs a setup).
    fixed
        Where the task already is (started or finished work in repair mode): it stays there;
        release, module release and unavailability do not apply to it.
    batch
        Batch key: tasks with the same key are identical operations (same family, and the same
        duration on every module that batches) that may run together in one batch on a module
        with a batch capacity above 1 (`SchedulingProblem.batch_capacity`); None: never batched.
    """

    id: str
    job: str
    durations: Mapping[str, Seconds]
    predecessors: tuple[str, ...] = ()
    release: Seconds = 0
    due: Seconds | None = None
    weight: int = 1
    family: str | None = None
    fixed: Pin | None = None
    batch: str | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("id: expected a non-empty task id")
        if not self.durations:
            raise ValueError(f"durations: task {self.id!r} has no eligible module")
        for module, seconds in self.durations.items():
            if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
                raise ValueError(f"durations: task {self.id!r} on module {module!r}: expected int > 0, got {seconds!r}")
        if self.release < 0:
            raise ValueError(f"release: task {self.id!r}: expected >= 0, got {self.release}")
        if self.weight < 0:
            raise ValueError(f"weight: task {self.id!r}: expected >= 0, got {self.weight}")
        if self.id in self.predecessors:
            raise ValueError(f"predecessors: task {self.id!r} precedes itself")
        if self.fixed is not None and self.fixed.module not in self.durations:
            raise ValueError(f"fixed: task {self.id!r} is fixed on {self.fixed.module!r}, which is not eligible")
        object.__setattr__(self, "durations", _frozen(self.durations))
        object.__setattr__(self, "predecessors", tuple(self.predecessors))

    @property
    def min_duration(self) -> Seconds:
        """The shortest processing time over the eligible modules."""
        return min(self.durations.values())


@dataclass(frozen=True, slots=True)
class SchedulingProblem:
    """Tasks to place on modules; validated on construction (ids, modules, acyclic precedence).

    Parameters
    ----------
    tasks
        The tasks, ids unique.
    modules
        Module names, unique; every module a task names must be here.
    horizon
        If given, every task must end at or before it.
    module_release
        Module -> second from which it is free (busy until then); absent modules are free at 0.
    setups
        Module -> its sequence-dependent setups by family; absent modules need none.
    initial_family
        Module -> the family it is set up for at time 0.
    unavailable
        Module -> windows ``(start, end)`` in which it runs nothing (maintenance, not yet
        deployed, retired: use a large end).
    objective
        What to minimise.
    reference
        Task id -> its placement in the previous schedule, for the stability criterion.
    batch_capacity
        Module -> how many tasks of one batch key it can run together (a batch: same start,
        same end); absent modules run one task at a time.
    """

    tasks: tuple[Task, ...]
    modules: tuple[str, ...]
    horizon: Seconds | None = None
    module_release: Mapping[str, Seconds] = field(default_factory=dict)
    setups: Mapping[str, Setup] = field(default_factory=dict)
    initial_family: Mapping[str, str] = field(default_factory=dict)
    unavailable: Mapping[str, tuple[tuple[Seconds, Seconds], ...]] = field(default_factory=dict)
    objective: Objective = field(default_factory=Objective)
    reference: Mapping[str, Placement] = field(default_factory=dict)
    batch_capacity: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", tuple(self.tasks))
        object.__setattr__(self, "modules", tuple(self.modules))
        object.__setattr__(self, "module_release", _frozen(self.module_release))
        object.__setattr__(self, "setups", _frozen(self.setups))
        object.__setattr__(self, "initial_family", _frozen(self.initial_family))
        windows = {m: tuple(sorted((int(a), int(b)) for a, b in w)) for m, w in self.unavailable.items()}
        object.__setattr__(self, "unavailable", _frozen(windows))
        object.__setattr__(self, "reference", _frozen(self.reference))
        object.__setattr__(self, "batch_capacity", _frozen(self.batch_capacity))
        _check_unique("modules", "module", self.modules)
        _check_unique("tasks", "task id", (t.id for t in self.tasks))
        self._check_modules()
        self._check_tasks()
        self._check_batches()
        topological_order(self.tasks)
        _check_pins(self.tasks, self.batch_capacity)

    def _check_modules(self) -> None:
        known = set(self.modules)
        for module, seconds in self.module_release.items():
            if module not in known:
                raise ValueError(f"module_release: unknown module {module!r}")
            if seconds < 0:
                raise ValueError(f"module_release: module {module!r}: expected >= 0, got {seconds}")
        if self.horizon is not None and self.horizon < 0:
            raise ValueError(f"horizon: expected >= 0, got {self.horizon}")
        for name, mapping in (("setups", self.setups), ("initial_family", self.initial_family)):
            for module in mapping:
                if module not in known:
                    raise ValueError(f"{name}: unknown module {module!r}")
        for module, windows in self.unavailable.items():
            if module not in known:
                raise ValueError(f"unavailable: unknown module {module!r}")
            for start, end in windows:
                if end <= start:
                    raise ValueError(f"unavailable: module {module!r}: window ({start}, {end}) is empty")

    def _check_tasks(self) -> None:
        known = set(self.modules)
        ids = {t.id for t in self.tasks}
        for task in self.tasks:
            for module in task.durations:
                if module not in known:
                    raise ValueError(f"durations: task {task.id!r} names unknown module {module!r}")
            for pred in task.predecessors:
                if pred not in ids:
                    raise ValueError(f"predecessors: task {task.id!r} names unknown task {pred!r}")
        for task_id in self.reference:
            if task_id not in ids:
                raise ValueError(f"reference: unknown task {task_id!r}")

    def _check_batches(self) -> None:
        known = set(self.modules)
        for module, capacity in self.batch_capacity.items():
            if module not in known:
                raise ValueError(f"batch_capacity: unknown module {module!r}")
            if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
                raise ValueError(f"batch_capacity: module {module!r}: expected an int >= 1, got {capacity!r}")
        first: dict[str, Task] = {}
        for task in self.tasks:
            if task.batch is None:
                continue
            other = first.setdefault(task.batch, task)
            if other.family != task.family:
                raise ValueError(
                    f"batch: tasks {other.id!r} and {task.id!r} share batch key {task.batch!r} "
                    f"but not their family ({other.family!r} vs {task.family!r})"
                )
            for module in task.durations.keys() & other.durations.keys():
                if self.batches(module) and task.durations[module] != other.durations[module]:
                    raise ValueError(
                        f"batch: tasks {other.id!r} and {task.id!r} share batch key {task.batch!r} but last "
                        f"{other.durations[module]} s and {task.durations[module]} s on module {module!r}, "
                        "which batches: identical operations must last the same"
                    )

    def batches(self, module: str) -> bool:
        """Whether *module* can run several tasks of one batch key together."""
        return self.batch_capacity.get(module, 1) > 1

    @property
    def free_tasks(self) -> tuple[Task, ...]:
        """The tasks the solver may place (not fixed)."""
        return tuple(t for t in self.tasks if t.fixed is None)

    def setup(self, module: str, before: str | None, after: str | None) -> Seconds:
        """Changeover seconds on *module* between families *before* and *after*."""
        setup = self.setups.get(module)
        return 0 if setup is None else setup.time(before, after)

    @property
    def jobs(self) -> tuple[str, ...]:
        """Job names in order of first appearance."""
        return tuple(dict.fromkeys(t.job for t in self.tasks))

    def task(self, task_id: str) -> Task:
        """The task with id *task_id*; raise `KeyError` if there is none."""
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(task_id)


def _check_pins(tasks: Iterable[Task], capacity: Mapping[str, int]) -> None:
    """Raise `ValueError` naming two fixed tasks that overlap on one module (other than in one batch)."""
    by_module: dict[str, list[tuple[int, int, str, str | None]]] = {}
    for task in tasks:
        if task.fixed is not None:
            start = task.fixed.start
            by_module.setdefault(task.fixed.module, []).append(
                (start, start + task.durations[task.fixed.module], task.id, task.batch)
            )
    for module, spans in by_module.items():
        spans.sort(key=lambda span: span[:3])
        size = 1
        for (start_a, end, first, key_a), (start, _, second, key) in itertools.pairwise(spans):
            together = capacity.get(module, 1) > 1 and key is not None and (start_a, key_a) == (start, key)
            size = size + 1 if together else 1
            if start < end and not together:
                raise ValueError(f"fixed: tasks {first!r} and {second!r} overlap on module {module!r}")
            if size > capacity.get(module, 1):
                raise ValueError(
                    f"fixed: task {second!r} makes a batch of {size} on module {module!r}, "
                    f"above its capacity {capacity.get(module, 1)}"
                )


def _check_unique(field_name: str, kind: str, names: Iterable[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{field_name}: duplicate {kind} {name!r}")
        seen.add(name)


def topological_order(tasks: Iterable[Task]) -> tuple[str, ...]:
    """Task ids with every predecessor first, ties in input order; raise `ValueError` on a cycle.

    Predecessors that are not among *tasks* are ignored.
    """
    tasks = tuple(tasks)
    index = {t.id: i for i, t in enumerate(tasks)}
    successors: dict[str, list[str]] = {t.id: [] for t in tasks}
    missing = {t.id: 0 for t in tasks}
    for task in tasks:
        for pred in set(task.predecessors):
            if pred in index:
                successors[pred].append(task.id)
                missing[task.id] += 1
    ready = [index[t] for t, count in missing.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        task_id = tasks[heapq.heappop(ready)].id
        order.append(task_id)
        for succ in successors[task_id]:
            missing[succ] -= 1
            if missing[succ] == 0:
                heapq.heappush(ready, index[succ])
    if len(order) < len(tasks):
        stuck = sorted((t for t, count in missing.items() if count > 0), key=index.__getitem__)
        raise ValueError(
            f"predecessors: precedence cycle through task {stuck[0]!r} (tasks involved: {', '.join(stuck)})"
        )
    return tuple(order)

"""The scheduling engine's data: an immutable problem in, placements and a `Result` out.

All times are whole seconds relative to an origin chosen by the caller (see
`microfab.scheduling.build`); the engine never sees a `datetime`.
"""

from __future__ import annotations

import enum
import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from microfab.domain.quantities import Seconds


def _frozen(mapping: Mapping[str, int]) -> Mapping[str, int]:
    """A read-only copy of *mapping*, so a frozen dataclass stays frozen."""
    return MappingProxyType(dict(mapping))


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
        Due time in seconds (may be negative: already late). Carried for later objectives.
    weight
        Importance >= 0. Carried for later objectives.
    """

    id: str
    job: str
    durations: Mapping[str, Seconds]
    predecessors: tuple[str, ...] = ()
    release: Seconds = 0
    due: Seconds | None = None
    weight: int = 1

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
    """

    tasks: tuple[Task, ...]
    modules: tuple[str, ...]
    horizon: Seconds | None = None
    module_release: Mapping[str, Seconds] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", tuple(self.tasks))
        object.__setattr__(self, "modules", tuple(self.modules))
        object.__setattr__(self, "module_release", _frozen(self.module_release))
        _check_unique("modules", "module", self.modules)
        _check_unique("tasks", "task id", (t.id for t in self.tasks))
        known = set(self.modules)
        for module, seconds in self.module_release.items():
            if module not in known:
                raise ValueError(f"module_release: unknown module {module!r}")
            if seconds < 0:
                raise ValueError(f"module_release: module {module!r}: expected >= 0, got {seconds}")
        if self.horizon is not None and self.horizon < 0:
            raise ValueError(f"horizon: expected >= 0, got {self.horizon}")
        ids = {t.id for t in self.tasks}
        for task in self.tasks:
            for module in task.durations:
                if module not in known:
                    raise ValueError(f"durations: task {task.id!r} names unknown module {module!r}")
            for pred in task.predecessors:
                if pred not in ids:
                    raise ValueError(f"predecessors: task {task.id!r} names unknown task {pred!r}")
        topological_order(self.tasks)

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


class Status(enum.Enum):
    """How a solve ended (the CP-SAT statuses)."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNKNOWN = "unknown"
    MODEL_INVALID = "model_invalid"


@dataclass(frozen=True, slots=True)
class Placement:
    """Task *task* runs on *module* from second *start* to *end*."""

    task: str
    module: str
    start: Seconds
    end: Seconds


@dataclass(frozen=True, slots=True)
class Result:
    """What a solve returns.

    Parameters
    ----------
    status
        How the solve ended; placements are empty unless OPTIMAL or FEASIBLE.
    placements
        One per task, sorted by start, module and task id.
    objective
        Makespan of the placements (the primary criterion), or None without placements.
    lower_bound
        A proven lower bound on the makespan, or None if none is known.
    runtime
        Wall-clock seconds spent in the solve.
    """

    status: Status
    placements: tuple[Placement, ...]
    objective: int | None
    lower_bound: int | None
    runtime: float

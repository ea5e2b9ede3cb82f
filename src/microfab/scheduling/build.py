"""The bridge between domain objects and the scheduling engine's integer-second problem."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from microfab.domain.errors import DomainError, UnknownReferenceError
from microfab.domain.modules import Module, ModuleType
from microfab.domain.operations import Operation
from microfab.domain.schedules import Schedule, ScheduledOperation
from microfab.scheduling.problem import Objective, Pin, SchedulingProblem, Setup, Task
from microfab.scheduling.result import Result

_SECOND = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Conditions:
    """The state of a site's modules a schedule starts from.

    Parameters
    ----------
    unavailable
        Module name -> windows ``(start, end)`` in which it runs nothing (maintenance, down,
        not yet deployed, retired).
    fixed
        Operation id -> ``(module, start)`` of work that has started: it stays there.
    initial_family
        Module name -> the family it is set up for now.
    """

    unavailable: Mapping[str, Sequence[tuple[datetime, datetime]]] = field(default_factory=dict)
    fixed: Mapping[str, tuple[str, datetime]] = field(default_factory=dict)
    initial_family: Mapping[str, str] = field(default_factory=dict)


def problem_from_operations(
    operations: Sequence[Operation],
    modules: Sequence[Module],
    module_types: Mapping[str, ModuleType],
    *,
    origin: datetime,
    busy_until: Mapping[str, datetime] | None = None,
    conditions: Conditions | None = None,
    objective: Objective | None = None,
) -> SchedulingProblem:
    """Build the scheduling problem for *operations* on *modules*, in seconds from *origin*.

    A module is eligible for an operation when its type offers the operation's capability;
    the duration there is ``module_type.processing_time(operation.standard)``. Release is
    rounded up and due down to whole seconds; a release before *origin* becomes 0. The due
    time goes on a unit's last operation (the others' lateness shows there). A module whose
    type has a setup time needs it whenever the product family changes. Every module given
    is used, whatever its PackML state: pass only the modules that may run work, and say
    when they cannot with *unavailable*.

    Parameters
    ----------
    operations
        The operations to place; their predecessors must be among them.
    modules
        The modules that may run them.
    module_types
        Module type name -> type, covering every module's ``module_type``.
    origin
        Time zero of the problem, timezone-aware.
    busy_until
        Module name -> when it becomes free (e.g. the end of the operation it is running);
        becomes the module's release in the problem.
    conditions
        Unavailable windows, started work and set-up families of the modules.
    objective
        What to minimise; the problem's default when None.

    Returns
    -------
    SchedulingProblem
        Tasks named by operation id, jobs by serial, modules by name.

    Raises
    ------
    DomainError
        An operation's capability is offered by no module.
    UnknownReferenceError
        A module's type is missing from *module_types*.
    ValueError
        Naive datetimes, an unknown module in *busy_until*, or an invalid problem (unknown
        predecessor, precedence cycle, zero processing time).
    """
    _require_aware(origin, "origin")
    types = {}
    for module in modules:
        if module.module_type not in module_types:
            raise UnknownReferenceError("module type", module.module_type, list(module_types))
        types[module.name] = module_types[module.module_type]
    ids = {op.id for op in operations}
    has_successor = {pred for op in operations for pred in op.predecessors if pred in ids}
    pins = {}
    conditions = conditions or Conditions()
    for op_id, (where, started) in conditions.fixed.items():
        _require_aware(started, f"fixed[{op_id!r}]")
        pins[op_id] = Pin(where, (started - origin) // _SECOND)
    tasks = tuple(_task(op, types, origin, op.id not in has_successor, pins.get(op.id)) for op in operations)
    module_release = {}
    for name, free_at in (busy_until or {}).items():
        _require_aware(free_at, f"busy_until[{name!r}]")
        module_release[name] = max(0, _ceil_seconds(free_at - origin))
    windows = {}
    for name, spans in conditions.unavailable.items():
        converted = []
        for start, end in spans:
            _require_aware(start, f"unavailable[{name!r}]")
            _require_aware(end, f"unavailable[{name!r}]")
            low, high = max(0, (start - origin) // _SECOND), _ceil_seconds(end - origin)
            if high > low:
                converted.append((low, high))
        windows[name] = tuple(converted)
    setups = {name: Setup(t.setup_time.seconds) for name, t in types.items() if t.setup_time.seconds > 0}
    return SchedulingProblem(
        tasks,
        tuple(types),
        module_release=module_release,
        setups=setups,
        initial_family={m: f for m, f in conditions.initial_family.items() if m in types},
        unavailable=windows,
        objective=objective or Objective(),
    )


def _task(op: Operation, types: Mapping[str, ModuleType], origin: datetime, last: bool, pin: Pin | None) -> Task:
    durations = {
        name: module_type.processing_time(op.standard).seconds
        for name, module_type in types.items()
        if op.capability in module_type.capabilities
    }
    if not durations:
        raise DomainError(f"operation {op.id!r} needs capability {op.capability!r}, which no module offers")
    return Task(
        id=op.id,
        job=op.serial,
        durations=durations,
        predecessors=op.predecessors,
        release=max(0, _ceil_seconds(op.release - origin)),
        due=(op.due - origin) // _SECOND if last else None,
        family=op.family,
        fixed=pin,
    )


def to_schedule(result: Result, *, site: str, origin: datetime, created_at: datetime) -> Schedule:
    """Turn a result's placements into the domain `Schedule` of *site*, at *origin* + seconds.

    Parameters
    ----------
    result
        A solve's result; its placements become the schedule's operations in the same order.
    site
        The site the schedule belongs to.
    origin
        Time zero of the problem the result solves, timezone-aware.
    created_at
        When the schedule was made, timezone-aware.

    Returns
    -------
    Schedule
        Empty if the result has no placements.
    """
    _require_aware(origin, "origin")
    _require_aware(created_at, "created_at")
    operations = tuple(
        ScheduledOperation(
            operation_id=p.task,
            module=p.module,
            start=origin + timedelta(seconds=p.start),
            end=origin + timedelta(seconds=p.end),
        )
        for p in result.schedule
    )
    return Schedule(site=site, created_at=created_at, operations=operations)


def _ceil_seconds(delta: timedelta) -> int:
    return -(-delta // _SECOND)


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name}: expected a timezone-aware datetime")

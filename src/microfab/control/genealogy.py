"""Genealogy: which units a module worked on between two times, and which modules worked on a unit.

Both answers come from the same events as the passport (``OperationStarted`` /
``OperationCompleted`` in the orders' streams), one record per attempt: a unit reworked after
a failed inspection appears once per attempt, with each attempt's result, so a suspect
module's scrap is traced too. A record belongs to a window when the work overlaps it: it
started before the window ends and completed after the window starts (or is still running).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from microfab.control.state import State, order_stream
from microfab.domain.errors import UnknownReferenceError
from microfab.domain.events import OperationCompleted, OperationStarted
from microfab.store.base import EventLog, RecordedEvent

_WORK_EVENTS = ("OperationStarted", "OperationCompleted")


@dataclass(frozen=True, slots=True)
class WorkRecord:
    """One attempt of one operation of one unit on one module; ``good`` is None while it runs."""

    serial: str
    order_id: str
    product: str
    site: str | None
    operation_id: str
    step: str
    module: str
    attempt: int
    started_at: datetime | None
    completed_at: datetime | None
    good: bool | None


def module_units(
    state: State, log: EventLog, module: str, *, since: datetime | None = None, until: datetime | None = None
) -> list[WorkRecord]:
    """Every attempt *module* worked on that overlaps ``[since, until]``, by start time.

    Raises `UnknownReferenceError` for a module that is neither in the network nor in the log,
    and `ValueError` (naming ``until``) when *until* is before *since*.
    """
    if since is not None and until is not None and until < since:
        raise ValueError(f"until: {until.isoformat()} is before since ({since.isoformat()})")
    rows = [
        r
        for r in log.read_all(types=_WORK_EVENTS, stream_prefix="order-")
        if isinstance(r.event, OperationStarted | OperationCompleted) and r.event.module == module
    ]
    if not rows and module not in state.network.modules:
        raise UnknownReferenceError("module", module, sorted(state.network.modules))
    found = [r for r in _attempts(state, rows) if _overlaps(r, since, until)]
    return sorted(found, key=lambda r: (_start(r), r.serial, r.operation_id, r.attempt))


def unit_modules(state: State, log: EventLog, serial: str) -> list[WorkRecord]:
    """Every attempt of every operation of unit *serial*, in the order they ran (the passport, per attempt)."""
    order_id = serial.rsplit("-", 1)[0]
    order = state.orders.get(order_id)
    if order is None or serial not in order.units:
        raise UnknownReferenceError("unit", serial)
    rows = [
        r
        for r in log.read_stream(order_stream(order_id))
        if isinstance(r.event, OperationStarted | OperationCompleted) and r.event.serial == serial
    ]
    return sorted(_attempts(state, rows), key=lambda r: (_start(r), r.operation_id, r.attempt))


def _attempts(state: State, rows: Iterable[RecordedEvent]) -> list[WorkRecord]:
    """Pair starts and completions per operation and module, in log order."""
    done: list[WorkRecord] = []
    running: dict[tuple[str, str], OperationStarted] = {}  # (operation, module) -> first start of the attempt
    attempts: dict[str, int] = {}  # operation -> attempts completed
    for row in rows:
        event = row.event
        key = (getattr(event, "operation_id", ""), getattr(event, "module", ""))
        if isinstance(event, OperationStarted):
            running.setdefault(key, event)  # a job restarted after a fault is the same attempt
        elif isinstance(event, OperationCompleted):
            start = running.pop(key, None)
            attempts[event.operation_id] = event.attempt
            done.append(_record(state, event, start, event.attempt, event.at, event.good))
    for (operation_id, _), start in running.items():
        done.append(_record(state, start, start, attempts.get(operation_id, 0) + 1, None, None))
    return done


def _record(
    state: State,
    event: OperationStarted | OperationCompleted,
    start: OperationStarted | None,
    attempt: int,
    completed_at: datetime | None,
    good: bool | None,
) -> WorkRecord:
    order = state.orders.get(event.order_id)
    entry = (
        order.units[event.serial].passport.get(event.operation_id) if order and event.serial in order.units else None
    )
    return WorkRecord(
        serial=event.serial,
        order_id=event.order_id,
        product=order.product if order else "",
        site=order.site if order else None,
        operation_id=event.operation_id,
        step=entry.step if entry else "",
        module=event.module,
        attempt=attempt,
        started_at=start.at if start else None,
        completed_at=completed_at,
        good=good,
    )


def _start(record: WorkRecord) -> datetime:
    moment = record.started_at or record.completed_at
    assert moment is not None  # a record has a start, a completion or both
    return moment


def _overlaps(record: WorkRecord, since: datetime | None, until: datetime | None) -> bool:
    if until is not None and _start(record) > until:
        return False
    return since is None or record.completed_at is None or record.completed_at >= since

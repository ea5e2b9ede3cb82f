"""Escalation: each rule raises once, clears when its condition ends, and survives a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from microfab.control.apply import plan, record
from microfab.control.escalation import Escalation, EscalationPolicy
from microfab.control.orders import place_order
from microfab.control.state import State
from microfab.domain.alerts import AlertCleared, AlertKind, AlertRaised
from microfab.domain.commands import PlaceOrder
from microfab.domain.events import Event, ModuleFaulted, ModuleRepaired, OperationCompleted
from microfab.domain.quantities import Duration
from microfab.manifests import load_resources
from microfab.store import MemoryEventLog

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "network"
T0 = datetime(2026, 11, 30, 6, tzinfo=UTC)
MODULE = "ohio-press-brake"


@pytest.fixture
def world() -> tuple[State, MemoryEventLog]:
    log, state = MemoryEventLog(), State()
    for event in record(plan(load_resources(EXAMPLE), state), log, T0):
        state.apply_event("network", event)
    return state, log


def kinds(events: list[Event]) -> list[tuple[str, str]]:
    return [(type(e).__name__, getattr(e, "kind", getattr(e, "alert_id", ""))) for e in events]


def fault(log: MemoryEventLog, hours: float, module: str = MODULE) -> None:
    log.append(f"module-{module}", [ModuleFaulted(T0 + timedelta(hours=hours), module, "jam")])


def repair(log: MemoryEventLog, hours: float, module: str = MODULE) -> None:
    log.append(f"module-{module}", [ModuleRepaired(T0 + timedelta(hours=hours), module)])


def test_repeated_faults_raise_once_and_clear_after_the_window(world: tuple[State, MemoryEventLog]) -> None:
    state, log = world
    watcher = Escalation(state, log)
    for h in (1, 5):
        fault(log, h)
        repair(log, h + 0.2)
    assert watcher.poll(T0 + timedelta(hours=6)) == []
    fault(log, 9)
    repair(log, 9.2)
    raised = watcher.poll(T0 + timedelta(hours=10))
    assert kinds(raised) == [("AlertRaised", AlertKind.REPEATED_FAULTS)]
    assert isinstance(raised[0], AlertRaised)
    assert raised[0].subject == MODULE
    assert "3 times in 24 h" in raised[0].message
    fault(log, 11)
    repair(log, 11.1)
    assert watcher.poll(T0 + timedelta(hours=12)) == [], "no second alert for the same condition"
    cleared = watcher.poll(T0 + timedelta(hours=34))
    assert [type(e) for e in cleared] == [AlertCleared]
    assert watcher.open_alerts() == []


def test_a_long_repair_is_escalated_and_cleared_by_the_repair(world: tuple[State, MemoryEventLog]) -> None:
    state, log = world
    network = state.network
    mttr = network.module_types[network.modules[MODULE].module_type].mttr
    watcher = Escalation(state, log, EscalationPolicy(long_repair_factor=4))
    fault(log, 0)
    assert watcher.poll(T0 + mttr.to_timedelta() * 3) == []
    raised = watcher.poll(T0 + mttr.to_timedelta() * 5)
    assert kinds(raised) == [("AlertRaised", AlertKind.LONG_REPAIR)]
    repair(log, mttr.seconds * 5 / 3600 + 0.1)
    assert [type(e) for e in watcher.poll(T0 + mttr.to_timedelta() * 6)] == [AlertCleared]


def test_a_quality_gate_failing_twice_needs_a_person(world: tuple[State, MemoryEventLog]) -> None:
    state, log = world
    order = place_order(PlaceOrder("acme", "laptop-stand", {}, 1, "us"), state=state, log=log, at=T0).order
    serial = next(iter(order.units))
    operation = next(iter(order.units[serial].passport))
    watcher = Escalation(state, log)

    def done(good: bool, attempt: int) -> None:
        at = T0 + timedelta(minutes=10 * attempt)
        event = OperationCompleted(at, order.id, operation, serial, "m", good, Duration(60), attempt)
        log.append(f"order-{order.id}", [event])

    done(False, 1)
    assert watcher.poll(T0 + timedelta(minutes=11)) == []
    done(False, 2)
    assert kinds(watcher.poll(T0 + timedelta(minutes=21))) == [("AlertRaised", AlertKind.QUALITY_GATE)]
    done(True, 3)
    assert [type(e) for e in watcher.poll(T0 + timedelta(minutes=31))] == [AlertCleared]


def test_an_order_that_cannot_make_its_due_date_is_escalated_at_once(world: tuple[State, MemoryEventLog]) -> None:
    state, log = world
    due = T0 + timedelta(hours=2)  # less than the lane's lead time: no schedule can make it
    placed = place_order(PlaceOrder("acme", "laptop-stand", {}, 2, "us", due), state=state, log=log, at=T0)
    raised = Escalation(state, log).poll(T0)
    assert kinds(raised) == [("AlertRaised", AlertKind.LATE_ORDER)]
    assert isinstance(raised[0], AlertRaised)
    assert raised[0].subject == placed.order.id
    relaxed = place_order(PlaceOrder("acme", "laptop-stand", {}, 1, "us"), state=state, log=log, at=T0)
    assert all(getattr(e, "subject", "") != relaxed.order.id for e in Escalation(state, log).poll(T0))


def test_a_restarted_watcher_rebuilds_open_alerts_and_acknowledgements(world: tuple[State, MemoryEventLog]) -> None:
    state, log = world
    for h in (1, 2, 3):
        fault(log, h)
        repair(log, h + 0.1)
    first = Escalation(state, log)
    (raised,) = first.poll(T0 + timedelta(hours=4))
    assert isinstance(raised, AlertRaised)
    first.acknowledge(raised.alert_id, by="night-shift", at=T0 + timedelta(hours=4, minutes=5))
    again = Escalation(state, log)
    assert again.poll(T0 + timedelta(hours=5)) == []
    (alert,) = again.open_alerts()
    assert (alert.alert_id, alert.acknowledged_by) == (raised.alert_id, "night-shift")

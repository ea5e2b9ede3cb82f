"""Escalation: watch the event log and tell a person only what no policy covers.

The watcher follows the log like any other consumer (so it works beside a controller in
the same process or in another one) and keeps five rules, each with its threshold in
`EscalationPolicy`:

- a module that faults repeatedly (``faults_in_window`` faults within ``fault_window``);
- a module whose repair takes far longer than its type's MTTR (``long_repair_factor`` x MTTR);
- a quality gate failing twice (the same operation scrapped ``quality_failures`` times);
- an order that will miss its due date whatever the schedule: now + the shortest possible
  remaining work of its slowest unit + the lane's lead time is past the due date;
- a telemetry broker that site controllers cannot reach (``TelemetryLost`` until
  ``TelemetryRestored``; one alert per broker): control goes on, but module death
  certificates are not seen meanwhile.

Each alert is raised once per condition (``AlertRaised``) and cleared when the condition ends
(``AlertCleared``); people acknowledge them (``AlertAcknowledged``). Everything is an event in
the ``alerts`` stream, so a restarted watcher rebuilds its open alerts from the log.
"""

from __future__ import annotations

import logging
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from microfab.control.state import State
from microfab.domain.alerts import AlertAcknowledged, AlertCleared, AlertKind, AlertRaised
from microfab.domain.errors import UnknownReferenceError
from microfab.domain.events import (
    Event,
    ModuleFaulted,
    ModuleRepaired,
    OperationCompleted,
    TelemetryLost,
    TelemetryRestored,
)
from microfab.domain.orders import Order, OrderStatus
from microfab.store.base import EventLog

log = logging.getLogger(__name__)
ALERTS_STREAM = "alerts"


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """Thresholds of the rules; the defaults suit modules with MTBF of days and MTTR of hours."""

    fault_window: timedelta = timedelta(hours=24)
    faults_in_window: int = 3
    long_repair_factor: int = 4
    quality_failures: int = 2


@dataclass(slots=True)
class Alert:
    """An alert as the log knows it."""

    alert_id: str
    kind: str
    subject: str
    message: str
    raised_at: datetime
    cleared_at: datetime | None = None
    cleared_because: str = ""
    acknowledged_by: str | None = None

    @property
    def open(self) -> bool:
        """Whether the condition still holds."""
        return self.cleared_at is None


@dataclass(slots=True)
class Escalation:
    """Follows the log, raises and clears alerts; call `poll` whenever time moved or events arrived."""

    state: State
    log: EventLog
    policy: EscalationPolicy = field(default_factory=EscalationPolicy)
    alerts: dict[str, Alert] = field(default_factory=dict)
    position: int = 0
    _faults: dict[str, deque[datetime]] = field(default_factory=lambda: defaultdict(deque))
    _down_since: dict[str, datetime] = field(default_factory=dict)
    _scrapped: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _telemetry_lost: dict[str, TelemetryLost] = field(default_factory=dict)

    def poll(self, now: datetime) -> list[Event]:
        """Read what is new in the log, apply the rules at time *now*, record and return new alert events."""
        self.state.catch_up(self.log)
        self._follow()
        decided = self._rules(now)
        if decided:
            self.log.append(ALERTS_STREAM, decided, expected_version=self.log.stream_version(ALERTS_STREAM))
            self._follow()
        return decided

    def acknowledge(self, alert_id: str, *, by: str, at: datetime) -> AlertAcknowledged:
        """Record that *by* took alert *alert_id* on."""
        self.poll(at)
        if alert_id not in self.alerts:
            raise UnknownReferenceError("alert", alert_id, list(self.alerts))
        event = AlertAcknowledged(at, alert_id, by)
        self.log.append(ALERTS_STREAM, [event], expected_version=self.log.stream_version(ALERTS_STREAM))
        self.poll(at)
        return event

    def open_alerts(self) -> list[Alert]:
        """Alerts whose condition still holds, oldest first."""
        return sorted((a for a in self.alerts.values() if a.open), key=lambda a: a.raised_at)

    # ------------------------------------------------------------------ folding the log
    def _follow(self) -> None:
        for recorded in self.log.read_all(after_position=self.position):
            self.position = recorded.position
            self._observe(recorded.event)

    def _observe(self, event: Event) -> None:
        if isinstance(event, ModuleFaulted):
            self._faults[event.module].append(event.at)
            self._down_since[event.module] = event.at
        elif isinstance(event, ModuleRepaired):
            self._down_since.pop(event.module, None)
        elif isinstance(event, OperationCompleted):
            self._scrapped[event.operation_id] = 0 if event.good else self._scrapped[event.operation_id] + 1
        elif isinstance(event, TelemetryLost):
            self._telemetry_lost.setdefault(event.site, event)
        elif isinstance(event, TelemetryRestored):
            self._telemetry_lost.pop(event.site, None)
        elif isinstance(event, AlertRaised):
            self.alerts[event.alert_id] = Alert(event.alert_id, event.kind, event.subject, event.message, event.at)
        elif isinstance(event, AlertCleared) and event.alert_id in self.alerts:
            alert = self.alerts[event.alert_id]
            alert.cleared_at, alert.cleared_because = event.at, event.reason
        elif isinstance(event, AlertAcknowledged) and event.alert_id in self.alerts:
            self.alerts[event.alert_id].acknowledged_by = event.by

    # ------------------------------------------------------------------ the rules
    def _rules(self, now: datetime) -> list[Event]:
        wanted: dict[tuple[str, str], str] = {}
        self._repeated_faults(now, wanted)
        self._long_repairs(now, wanted)
        for operation, count in self._scrapped.items():
            if count >= self.policy.quality_failures:
                wanted[(AlertKind.QUALITY_GATE, operation)] = f"operation {operation} failed inspection {count} times"
        self._late_orders(now, wanted)
        self._telemetry(wanted)
        return self._diff(now, wanted)

    def _repeated_faults(self, now: datetime, wanted: dict[tuple[str, str], str]) -> None:
        horizon = now - self.policy.fault_window
        for module, times in self._faults.items():
            while times and times[0] < horizon:
                times.popleft()
            if len(times) >= self.policy.faults_in_window:
                hours = self.policy.fault_window.total_seconds() / 3600
                wanted[(AlertKind.REPEATED_FAULTS, module)] = f"{module} faulted {len(times)} times in {hours:g} h"

    def _long_repairs(self, now: datetime, wanted: dict[tuple[str, str], str]) -> None:
        network = self.state.network
        for module, since in self._down_since.items():
            if module not in network.modules:
                continue
            mttr = network.module_types[network.modules[module].module_type].mttr.to_timedelta()
            if now - since > mttr * self.policy.long_repair_factor:
                hours = (now - since).total_seconds() / 3600
                wanted[(AlertKind.LONG_REPAIR, module)] = (
                    f"{module} has been down {hours:.1f} h, over {self.policy.long_repair_factor}x its MTTR"
                )

    def _telemetry(self, wanted: dict[tuple[str, str], str]) -> None:
        """One alert per telemetry broker that site controllers cannot reach."""
        by_broker: dict[str, list[TelemetryLost]] = defaultdict(list)
        for lost in self._telemetry_lost.values():
            by_broker[lost.broker].append(lost)
        for broker, losses in by_broker.items():
            first = min(losses, key=lambda lost: lost.at)
            sites = ", ".join(sorted(lost.site for lost in losses))
            wanted[(AlertKind.TELEMETRY_LOST, broker)] = (
                f"telemetry broker {broker} unreachable since {first.at.isoformat(timespec='seconds')} "
                f"({first.reason}; sites {sites}): control goes on, but module death certificates are not seen"
            )

    def _late_orders(self, now: datetime, wanted: dict[tuple[str, str], str]) -> None:
        for order in self.state.orders.values():
            if order.status is OrderStatus.DELIVERED or order.site is None or order.lane is None:
                continue
            earliest = self._earliest_delivery(order, now)
            if earliest is not None and earliest > order.due:
                late = (earliest - order.due).total_seconds() / 3600
                wanted[(AlertKind.LATE_ORDER, order.id)] = (
                    f"order {order.id} cannot arrive before {earliest:%Y-%m-%d %H:%M} UTC, "
                    f"{late:.1f} h after its due date"
                )

    def _earliest_delivery(self, order: Order, now: datetime) -> datetime | None:
        """A lower bound on the arrival: the slowest unit's remaining work at the fastest modules, then the lane."""
        network = self.state.network
        assert order.site is not None and order.lane is not None
        if order.status is OrderStatus.SHIPPED:
            return order.eta
        types = {m.module_type: network.module_types[m.module_type] for m in network.modules_at(order.site)}.values()
        remaining = timedelta(0)
        for unit in order.units.values():
            work = 0
            for entry in unit.passport.values():
                if entry.good:
                    continue
                times = [t.processing_time(entry.standard).seconds for t in types if entry.capability in t.capabilities]
                work += min(times, default=entry.standard.seconds)
            remaining = max(remaining, timedelta(seconds=work))
        return now + remaining + network.lanes[order.lane].lead_time.to_timedelta()

    def _diff(self, now: datetime, wanted: dict[tuple[str, str], str]) -> list[Event]:
        events: list[Event] = []
        open_by_key = {(a.kind, a.subject): a for a in self.alerts.values() if a.open}
        for key, message in sorted(wanted.items()):
            if key not in open_by_key:
                alert_id = f"A{len(self.alerts) + len(events) + 1:05d}"
                events.append(AlertRaised(now, alert_id, key[0], key[1], message))
                log.warning("alert %s: %s", alert_id, message)
        for key, alert in open_by_key.items():
            if key not in wanted:
                events.append(AlertCleared(now, alert.alert_id, _why_cleared(key[0])))
        return events


def _why_cleared(kind: str) -> str:
    return {
        AlertKind.REPEATED_FAULTS: "no repeated faults in the window any more",
        AlertKind.LONG_REPAIR: "the module is back in service",
        AlertKind.QUALITY_GATE: "the operation passed inspection",
        AlertKind.LATE_ORDER: "the order was delivered",
        AlertKind.TELEMETRY_LOST: "the telemetry broker is reachable again",
    }.get(AlertKind(kind), "the condition ended")

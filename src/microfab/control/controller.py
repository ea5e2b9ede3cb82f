"""The network controller: the fast loop (dispatch) of every site, driving the medium and slow loops.

Event driven: each thing a driver reports (an operation started or completed, a module
faulted or was repaired, a shipment arrived) is recorded, then the controller decides
what follows, records those decisions, and only then acts on the driver (outbox style).
A controller that is killed and started again rebuilds from the log with `Controller.start`:
work that was dispatched but not finished is dispatched again, shipments in transit are
shipped again for their remaining time.

The work in progress is `microfab.control.work.Work`; re-scheduling a site is
`microfab.control.medium_loop.reschedule`; moving late orders is `microfab.control.slowloop`.
Faults heard over telemetry arrive like a driver's through `microfab.control.telemetry_link`.
"""

from __future__ import annotations

import logging
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from microfab.control import slowloop
from microfab.control.invoicing import BillingBook, on_shipped
from microfab.control.medium_loop import SITE_OBJECTIVE, behind, reschedule
from microfab.control.orders import Placement, place_order
from microfab.control.state import State, module_stream, order_stream, site_stream
from microfab.control.work import Track, Work
from microfab.domain.commands import PlaceOrder
from microfab.domain.errors import DomainError
from microfab.domain.events import (
    Event,
    ModuleFaulted,
    ModuleRepaired,
    OperationCompleted,
    OperationDispatched,
    OperationStarted,
    OrderDelivered,
    OrderReallocated,
    OrderShipped,
    ScheduleCreated,
    UnitCompleted,
)
from microfab.domain.orders import Order, OrderStatus
from microfab.domain.quantities import Duration
from microfab.drivers.base import DispatchRequest, DriverEvent, ModuleDriver, ShipmentArrived
from microfab.settings import Settings
from microfab.store.base import EventLog, StreamWrite

__all__ = ["SITE_OBJECTIVE", "Controller", "RunSummary", "Track", "horizon", "latest_schedule"]

log = logging.getLogger(__name__)

Progress = Callable[[datetime], None]


@dataclass(slots=True)
class RunSummary:
    """What one call of `Controller.run` did."""

    started: datetime
    ended: datetime
    events: int = 0
    placed: int = 0
    rejected: list[str] = field(default_factory=list)
    schedules: int = 0
    replans: int = 0  # of them, by the medium loop's clock (a schedule fallen behind)


class Controller:
    """Runs every site of the network against a `ModuleDriver`, recording every decision in the log."""

    def __init__(self, *, state: State, log: EventLog, driver: ModuleDriver, settings: Settings) -> None:
        self.state, self.log, self.driver, self.settings = state, log, driver, settings
        self.work = Work()
        self.tracks, self.sequence, self.schedules = self.work.tracks, self.work.sequence, self.work.schedules
        self._versions: dict[str, int] = {}
        self._expected: dict[str, int] = {}
        self._pending: list[tuple[str, Event]] = []
        self._actions: list[DispatchRequest | tuple[str, str, Duration]] = []
        self._schedule_count = 0

    # ------------------------------------------------------------------ start and run
    async def start(self) -> None:
        """Rebuild the work in progress from the state and schedule every site that has work."""
        now = self.driver.now()
        for order in self.state.orders.values():
            self.work.track_order(order, self.state.network)
        for track in self.tracks.values():
            if track.status == "dispatched" and track.module is not None:
                self._dispatch(track, track.module, now, rework=True)
        for order in self.state.orders.values():
            if order.status is OrderStatus.SHIPPED and order.eta is not None and order.lane is not None:
                remaining = max(0, int((order.eta - now).total_seconds()))
                self._actions.append((order.id, order.lane, Duration(remaining)))
            elif order.status in (OrderStatus.ALLOCATED, OrderStatus.IN_PRODUCTION):
                self._maybe_ship(order, now)
        for site in sorted({t.site for t in self.tracks.values() if t.status == "pending"}):
            self._reschedule(site, now)
            self._dispatch_ready(site, now)
        await self._commit()
        self._invoice_shipped_orders(now)

    def _invoice_shipped_orders(self, now: datetime) -> None:
        """After a crash between shipping and invoicing: invoice every shipped order that has no invoice."""
        if not self.state.network.entities:
            return
        book = BillingBook.load(self.log)
        for order in self.state.orders.values():
            shipped = order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED)
            billing = book.orders.get(order.id)
            if shipped and (billing is None or billing.invoice is None):
                on_shipped(order.id, state=self.state, log=self.log, at=order.shipped_at or now)

    async def run(
        self, until: datetime, *, arrivals: Sequence[tuple[datetime, PlaceOrder]] = (), progress: Progress | None = None
    ) -> RunSummary:
        """Run until *until* (simulated or real time), placing *arrivals* at their times."""
        summary = RunSummary(started=self.driver.now(), ended=until)
        waiting = deque(sorted(arrivals, key=lambda a: a[0]))
        interval = timedelta(seconds=self.settings.medium_loop_interval)
        tick = summary.started + interval if interval > timedelta(0) else None
        while True:
            horizon = min(until, waiting[0][0]) if waiting else until
            if tick is not None and tick < horizon:
                horizon = tick
            event = await self.driver.next_event(horizon)
            if event is not None:
                await self.handle(event)
                summary.events += 1
                if progress is not None:
                    progress(event.at)
                continue
            if tick is not None and horizon == tick:
                summary.replans += await self.medium_loop(tick)
                tick += interval
                continue
            if waiting and waiting[0][0] <= until:
                at, cmd = waiting.popleft()
                try:
                    await self.place(cmd, at)
                    summary.placed += 1
                except DomainError as exc:
                    summary.rejected.append(f"{cmd.customer}/{cmd.product}/{cmd.market}: {exc}")
                    log.warning("order rejected: %s", exc)
                continue
            break
        if progress is not None:
            progress(until)
        summary.schedules = self._schedule_count
        return summary

    async def place(self, cmd: PlaceOrder, at: datetime) -> Placement:
        """Place an order now and fold its operations into its site's schedule."""
        placement = place_order(cmd, state=self.state, log=self.log, at=at)
        self.work.track_order(placement.order, self.state.network)
        assert placement.order.site is not None
        self._reschedule(placement.order.site, at)
        self._rebalance(placement.order.site, at)
        self._dispatch_ready(placement.order.site, at)
        await self._commit()
        return placement

    # ------------------------------------------------------------------ the fast loop
    async def handle(self, event: DriverEvent) -> None:
        """Record what a driver reported, decide what follows, record it, act."""
        if isinstance(event, OperationStarted):
            self._emit(order_stream(event.order_id), event)
        elif isinstance(event, OperationCompleted):
            self._completed(event)
        elif isinstance(event, ModuleFaulted):
            self._faulted(event)
        elif isinstance(event, ModuleRepaired):
            self._emit(module_stream(event.module), event)
            self.work.down.discard(event.module)
            self._reschedule(self._site_of(event.module), event.at)
        elif isinstance(event, ShipmentArrived):
            order = self.state.orders[event.order_id]
            self._emit(order_stream(order.id), OrderDelivered(event.at, order.id, on_time=event.at <= order.due))
        module = getattr(event, "module", None)
        if module is not None:
            self._dispatch_ready(self._site_of(module), event.at)
        await self._commit()

    def _faulted(self, event: ModuleFaulted) -> None:
        """Record a fault, take the module out of service, move its queued work (once per outage)."""
        if event.module in self.work.down:
            log.info("%s: already down; fault %r not recorded twice", event.module, event.reason)
            return
        self._emit(module_stream(event.module), event)
        self.work.down.add(event.module)
        site = self._site_of(event.module)
        if self.sequence[event.module]:
            self._reschedule(site, event.at)
            self._rebalance(site, event.at)

    def _completed(self, event: OperationCompleted) -> None:
        self._emit(order_stream(event.order_id), event)
        self.work.busy.pop(event.module, None)
        track = self.tracks[event.operation_id]
        if not event.good:
            # Rework at once on the same module; repeated failures are the escalation watcher's.
            log.info("operation %s failed inspection (attempt %d): rework", event.operation_id, event.attempt)
            self._dispatch(track, event.module, event.at, rework=True)
            return
        track.status = "done"
        order = self.state.orders[event.order_id]
        if order.units[event.serial].complete:
            self._emit(order_stream(order.id), UnitCompleted(event.at, order.id, event.serial))
            self._maybe_ship(order, event.at)

    def _maybe_ship(self, order: Order, now: datetime) -> None:
        if order.units and all(unit.complete for unit in order.units.values()) and order.lane is not None:
            lane = self.state.network.lanes[order.lane]
            eta = now + lane.lead_time.to_timedelta()
            self._emit(order_stream(order.id), OrderShipped(now, order.id, lane.name, eta))
            self._actions.append((order.id, lane.name, lane.lead_time))

    def _dispatch_ready(self, site: str, now: datetime) -> None:
        """Give each idle, healthy module of *site* its next operation once the predecessors are done."""
        work = self.work
        for module in self.state.network.modules_at(site):
            name = module.name
            queue = self.sequence[name]
            if name in work.busy or name in work.down or not queue:
                continue
            track = self.tracks[queue[0]]
            if all(self.tracks[p].status == "done" for p in track.op.predecessors if p in self.tracks):
                queue.popleft()
                self._dispatch(track, name, now, rework=False)

    def _dispatch(self, track: Track, module: str, now: datetime, *, rework: bool) -> None:
        track.status, track.module, track.dispatched_at = "dispatched", module, now
        track.attempts += 1
        self.work.busy[module] = track.op.id
        self.work.families[module] = track.op.family
        self._emit(order_stream(track.op.order_id), OperationDispatched(now, track.op.order_id, track.op.id, module))
        module_type = self.state.network.module_types[self.state.network.modules[module].module_type]
        self._actions.append(
            DispatchRequest(
                track.op.id,
                track.op.order_id,
                track.op.serial,
                module,
                track.op.family,
                module_type.processing_time(track.op.standard),
                track.attempts,
                rework,
            )
        )

    # ------------------------------------------------------------------ the medium and slow loops
    async def medium_loop(self, now: datetime) -> int:
        """Re-plan every site whose schedule has fallen behind (see `microfab.control.medium_loop`); how many."""
        tolerance = timedelta(seconds=self.settings.medium_loop_tolerance)
        late = sorted(
            s
            for s in {t.site for t in self.tracks.values() if t.status == "pending"}
            if behind(self.work, self.state.network, s, now, tolerance)
        )
        for site in late:
            log.info("%s: schedule behind at %s, re-planning", site, now)
            self._reschedule(site, now)
            self._dispatch_ready(site, now)
        if late:
            await self._commit()
        return len(late)

    def _reschedule(self, site: str, now: datetime) -> None:
        """Repair *site*'s schedule from *now* and record it (see `microfab.control.medium_loop`)."""
        created = reschedule(self.work, self.state.network, site, now, self.settings)
        if created is not None:
            self._schedule_count += 1
            self._emit(site_stream(site), created)

    def _rebalance(self, site: str, now: datetime) -> None:
        """Move *site*'s not-yet-started orders that will be late there to a site that delivers in time."""
        schedule = self.schedules.get(site)
        if schedule is None:
            return
        by_order: dict[str, list[Track]] = defaultdict(list)
        for track in self.tracks.values():
            if track.site == site:
                by_order[track.op.order_id].append(track)
        waiting = [
            self.state.orders[order_id]
            for order_id, tracks in by_order.items()
            if all(t.status == "pending" for t in tracks)
        ]
        if not waiting:
            return
        order_of = {t.op.id: t.op.order_id for tracks in by_order.values() for t in tracks}
        network = self.state.network
        healthy = {
            name: frozenset(
                c
                for m in network.modules_at(name)
                if m.name not in self.work.down
                for c in network.module_types[m.module_type].capabilities
            )
            for name in network.sites
        }
        found = slowloop.moves(
            network,
            site,
            orders=waiting,
            completion=slowloop.planned_completion(schedule, order_of),
            schedules=self.schedules,
            healthy=healthy,
            now=now,
        )
        for move in found:
            self._emit(
                order_stream(move.order_id),
                OrderReallocated(now, move.order_id, site, move.to_site, move.lane, move.reason),
            )
            for track in by_order[move.order_id]:
                track.site = move.to_site
            log.info("slow loop: %s moves from %s to %s: %s", move.order_id, site, move.to_site, move.reason)
        moved = {t.op.id for m in found for t in by_order[m.order_id]}
        for module in network.modules_at(site):
            self.sequence[module.name] = deque(op for op in self.sequence[module.name] if op not in moved)
        for target in sorted({m.to_site for m in found}):
            self._reschedule(target, now)
            self._dispatch_ready(target, now)
        if found:
            self._reschedule(site, now)

    # ------------------------------------------------------------------ bookkeeping
    def _site_of(self, module: str) -> str:
        return self.state.network.modules[module].site

    def _emit(self, stream: str, event: Event) -> None:
        if stream not in self._expected:
            self._expected[stream] = self._version(stream)
        self._pending.append((stream, event))
        self.state.apply_event(stream, event)
        if not stream.startswith("order-"):
            self._versions[stream] = self._version(stream) + 1

    def _version(self, stream: str) -> int:
        if stream.startswith("order-"):
            return self.state.orders[stream.removeprefix("order-")].version
        if stream not in self._versions:
            self._versions[stream] = self.log.stream_version(stream)
        return self._versions[stream]

    async def _commit(self) -> None:
        """Append the decisions taken, in one transaction, then act on the driver."""
        if self._pending:
            grouped: dict[str, list[Event]] = {}
            for stream, event in self._pending:
                grouped.setdefault(stream, []).append(event)
            self.log.append_batch([StreamWrite(s, evs, self._expected[s]) for s, evs in grouped.items()])
            shipped = [e for _, e in self._pending if isinstance(e, OrderShipped)]
            self._pending.clear()
            self._expected.clear()
            for event in shipped:  # recorded: now the selling entity invoices (and buys from the maker)
                on_shipped(event.order_id, state=self.state, log=self.log, at=event.at)
        actions, self._actions = self._actions, []
        for action in actions:
            if isinstance(action, DispatchRequest):
                await self.driver.dispatch(action)
            else:
                await self.driver.ship(*action)


def horizon(start: datetime, span: Duration) -> datetime:
    """*start* plus *span*."""
    return start + timedelta(seconds=span.seconds)


def latest_schedule(log: EventLog, site: str) -> ScheduleCreated | None:
    """The last schedule recorded for *site*, or None if it has none."""
    for recorded in reversed(log.read_stream(site_stream(site))):
        if isinstance(recorded.event, ScheduleCreated):
            return recorded.event
    return None

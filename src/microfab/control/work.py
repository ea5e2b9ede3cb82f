"""The controller's picture of the work in progress: where each operation is, each module's queue and condition.

Rebuilt from the orders' passports at start (`Work.track_order`), then kept up to date by the
controller as it records events. The loops read it: the fast loop dispatches from
``sequence``, the medium loop re-schedules the ``pending`` tracks, the slow loop moves orders
whose tracks are all pending.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from microfab.domain.network import Network
from microfab.domain.operations import Operation
from microfab.domain.orders import Order
from microfab.domain.schedules import Schedule
from microfab.scheduling import Placement as SchedulePlacement


@dataclass(slots=True)
class Track:
    """Where one operation is: pending (not dispatched), dispatched or done."""

    op: Operation
    site: str
    status: str = "pending"
    module: str | None = None
    attempts: int = 0
    dispatched_at: datetime | None = None


@dataclass(slots=True)
class Work:
    """Every tracked operation, each module's planned sequence, which modules are busy or down."""

    tracks: dict[str, Track] = field(default_factory=dict)
    sequence: defaultdict[str, deque[str]] = field(default_factory=lambda: defaultdict(deque))
    busy: dict[str, str] = field(default_factory=dict)  # module -> operation in progress
    down: set[str] = field(default_factory=set)
    schedules: dict[str, Schedule] = field(default_factory=dict)  # site -> schedule in force
    families: dict[str, str] = field(default_factory=dict)  # module -> family of the last operation dispatched

    def track_order(self, order: Order, network: Network) -> None:
        """Track every operation of *order* from its passport (done, dispatched or pending)."""
        if order.site is None:
            return
        product_family = network.product(order.product).family
        for serial, unit in order.units.items():
            for entry in unit.passport.values():
                family = getattr(entry, "family", None) or product_family  # the configurator may add one
                index = int(entry.operation_id.rsplit("#", 1)[1])
                predecessors = (f"{serial}#{index - 1:02d}",) if index else ()
                op = Operation(
                    entry.operation_id,
                    order.id,
                    serial,
                    index,
                    entry.step,
                    entry.capability,
                    entry.standard,
                    family,
                    predecessors,
                    order.placed_at,
                    order.due,
                )
                track = Track(op, order.site, attempts=entry.attempts)
                if entry.good:
                    track.status = "done"
                elif entry.dispatched_at is not None:
                    track.status, track.module, track.dispatched_at = "dispatched", entry.module, entry.dispatched_at
                self.tracks[op.id] = track

    def free_at(self, module: str, now: datetime, network: Network) -> datetime:
        """Estimated time *module* is free: after its current work, and after repair (mean) when down."""
        module_type = network.module_types[network.modules[module].module_type]
        free = now
        current = self.busy.get(module)
        if current is not None:
            track = self.tracks[current]
            assert track.dispatched_at is not None
            work = module_type.processing_time(track.op.standard) + module_type.setup_time
            free = max(free, track.dispatched_at + work.to_timedelta())
        if module in self.down:
            free = max(free, now + module_type.mttr.to_timedelta())
        return free

    def ready_version(self, track: Track, pending: set[str], now: datetime, network: Network) -> Operation:
        """The operation as the scheduler sees it: pending predecessors only, released when the rest is done."""
        op = track.op
        release = now
        for pred in op.predecessors:
            other = self.tracks.get(pred)
            if other is not None and other.status == "dispatched" and other.module is not None:
                release = max(release, self.free_at(other.module, now, network))
        predecessors = tuple(p for p in op.predecessors if p in pending)
        return Operation(
            op.id,
            op.order_id,
            op.serial,
            op.index,
            op.step,
            op.capability,
            op.standard,
            op.family,
            predecessors,
            release,
            op.due,
        )

    def previous(self, site: str, now: datetime, ids: set[str]) -> list[SchedulePlacement]:
        """The site's schedule in force, in seconds from *now*, for the operations still in play."""
        schedule = self.schedules.get(site)
        if schedule is None:
            return []
        return [
            SchedulePlacement(
                o.operation_id, o.module, (o.start - now) // timedelta(seconds=1), (o.end - now) // timedelta(seconds=1)
            )
            for o in schedule.operations
            if o.operation_id in ids
        ]

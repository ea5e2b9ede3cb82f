"""`CompositeDriver`: one network whose modules are partly real (OPC UA endpoints) and partly simulated.

Every module with an ``endpoint`` is driven by `OpcUaDriver`; every other one by the twin
(`SimDriver`). Both run on one clock, the network time of the OPC UA side (the wall clock, or
a clock running ``1 / time_scale`` times faster): the twin is paced by it, so a simulated
module takes as long as a real one would. Events of both sides come out of `next_event` in
time order. Shipments have no machine and travel in the twin.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from microfab.domain.network import Network
from microfab.domain.quantities import Duration
from microfab.drivers.base import DispatchRequest, DriverEvent
from microfab.drivers.opcua import OpcUaDriver
from microfab.drivers.opcua_link import LinkOptions
from microfab.drivers.sim import SimDriver

_TICK = timedelta(microseconds=1)  # a twin time read back from a datetime may fall just short of the float


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CompositeDriver:
    """Drive the modules of *network* with an endpoint over OPC UA and the others in the twin.

    Parameters
    ----------
    network
        Modules with ``endpoint`` go to `OpcUaDriver`, the rest to `SimDriver`.
    clock
        Network time (aware); the UTC wall clock by default.
    time_scale
        Wall seconds per second of *clock* (> 0): how long the driver waits for the next event.
    seed, breakdowns, variability
        The twin's (see `microfab.twin.SimModel`); the simulated modules keep the random streams
        they have in an all-simulated run of the same network.
    options
        The OPC UA links' settings.
    """

    def __init__(
        self,
        network: Network,
        *,
        clock: Callable[[], datetime] | None = None,
        time_scale: float = 1.0,
        seed: int = 0,
        breakdowns: bool = True,
        variability: float = 0.1,
        options: LinkOptions | None = None,
    ) -> None:
        if not (math.isfinite(time_scale) and time_scale > 0):
            raise ValueError(f"time_scale: expected a finite number > 0, got {time_scale}")
        self._clock = clock or _utc_now
        self._real = OpcUaDriver(network, clock=self._clock, time_scale=time_scale, options=options)
        self._sim = SimDriver(network, self._clock(), seed=seed, breakdowns=breakdowns, variability=variability)
        for name in self._real.modules:
            self._sim.retire(name)
        self._origin = self._sim.model.origin
        self._held: DriverEvent | None = None  # the OPC UA side's next event, waiting for its turn
        self._buffer: deque[DriverEvent] = deque()  # twin records passed while catching the twin up
        self._closed = False

    @property
    def real_modules(self) -> tuple[str, ...]:
        """Modules driven over OPC UA."""
        return self._real.modules

    @property
    def simulated_modules(self) -> tuple[str, ...]:
        """Modules driven by the twin."""
        return self._sim.model.modules

    @property
    def twin(self) -> SimDriver:
        """The twin side, for statistics."""
        return self._sim

    def now(self) -> datetime:
        """Return network time."""
        return self._clock()

    async def connect(self, timeout: float = 0.0) -> bool:
        """Start the OPC UA links; wait up to *timeout* seconds for all to be up and say whether they are."""
        self._check_open()
        return await self._real.connect(timeout)

    async def dispatch(self, request: DispatchRequest) -> None:
        """Send the operation to the side that owns its module (the twin raises for an unknown one)."""
        self._check_open()
        if request.module in self._real.modules:
            await self._real.dispatch(request)
            return
        await self._catch_up(self._clock())
        await self._sim.dispatch(request)

    async def ship(self, order_id: str, lane: str, lead_time: Duration) -> None:
        """Ship from now; `ShipmentArrived` follows after *lead_time* of network time."""
        self._check_open()
        await self._catch_up(self._clock())
        await self._sim.ship(order_id, lane, lead_time)

    async def next_event(self, until: datetime) -> DriverEvent | None:
        """The earliest event of either side, waiting (in wall time) until network time reaches *until*."""
        self._check_open()
        while True:
            if self._held is None:
                self._held = await self._real.next_event(self._real.now())  # what arrived, without waiting
            now = self._clock()
            due = self._sim_due()
            choice = self._earliest(due if due is not None and due <= now else None, until)
            if choice == "buffer":
                return self._buffer.popleft()
            if choice == "real":
                held, self._held = self._held, None
                assert held is not None
                await self._catch_up(held.at)
                return held
            if choice == "sim":
                assert due is not None
                event = await self._sim.next_event(due + _TICK)
                if event is not None:
                    return event
                continue
            if now >= until:
                await self._catch_up(until)
                if self._buffer and self._buffer[0].at <= until:
                    continue
                return None
            if self._held is None:
                self._held = await self._real.next_event(min(until, due) if due is not None else until)

    async def close(self) -> None:
        """Close both sides; later calls raise `RuntimeError`."""
        if self._closed:
            return
        self._closed = True
        await self._real.close()
        await self._sim.close()

    # ------------------------------------------------------------------ inside
    def _earliest(self, sim_due: datetime | None, until: datetime) -> str | None:
        """Which source has the earliest event at or before *until*: the caught-up twin records, OPC UA, the twin."""
        ready: list[tuple[datetime, int, str]] = []
        if self._buffer:
            ready.append((self._buffer[0].at, 0, "buffer"))
        if self._held is not None:
            ready.append((self._held.at, 1, "real"))
        if sim_due is not None:
            ready.append((sim_due, 2, "sim"))
        first = min(ready, default=None)
        return first[2] if first is not None and first[0] <= until else None

    def _sim_due(self) -> datetime | None:
        due = self._sim.model.next_due()
        return None if math.isinf(due) else self._origin + timedelta(seconds=due)

    async def _catch_up(self, to: datetime) -> None:
        """Advance the twin to *to* (network time), keeping the records it passes for `next_event`."""
        while self._sim.now() < to:
            event = await self._sim.next_event(to)
            if event is None:
                return
            self._buffer.append(event)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("CompositeDriver is closed")

"""`OpcUaDriver`: the `ModuleDriver` for real modules that speak OPC UA with the PackML state model.

Every module of the network that has an ``endpoint`` (``opc.tcp://host:port``) is driven
through the module object of the same name on that server (see
`microfab.drivers.opcua_model`); several modules may share one endpoint and one session.
State changes arrive by subscription, never by polling, and become domain events (see
`microfab.drivers.opcua_link`). Shipments have no machine: a timer reports their arrival.
Event times come from the driver's clock: network time, the UTC wall clock unless given.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime

from microfab.domain.errors import UnknownReferenceError
from microfab.domain.network import Network
from microfab.domain.quantities import Duration
from microfab.drivers.base import DispatchRequest, DriverEvent, ShipmentArrived
from microfab.drivers.opcua_link import CONNECTION_LOST, EndpointLink, LinkOptions

__all__ = ["CONNECTION_LOST", "LinkOptions", "OpcUaDriver"]

_log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class OpcUaDriver:
    """Drive the modules of *network* that carry an OPC UA ``endpoint``.

    Parameters
    ----------
    network
        Modules without an endpoint are not driven (dispatching to one raises `UnknownReferenceError`).
    clock
        Returns the aware current time; the UTC wall clock by default.
    time_scale
        Wall seconds per second of the driver's clock: scales waits and shipment lead times (use
        the module servers' ``--time-scale`` and a clock that runs that much faster, as
        `microfab.control.bootstrap.opcua_controller` does, so a demo stays consistent); 1 in production.
    options
        Publishing interval, timeouts and reconnect backoff.

    Notes
    -----
    Connecting starts on first use (or `connect`) and never raises: a server that is not
    there yet is reported as `ModuleFaulted` with reason `CONNECTION_LOST` and retried with
    exponential backoff; `ModuleRepaired` follows when it answers. Work a module lost (server
    restarted, job aborted) is queued again at the front of its queue, so it resumes on the
    same module after the repair, as in the twin.
    """

    def __init__(
        self,
        network: Network,
        *,
        clock: Callable[[], datetime] | None = None,
        time_scale: float = 1.0,
        options: LinkOptions | None = None,
    ) -> None:
        if not (math.isfinite(time_scale) and time_scale >= 0):
            raise ValueError(f"time_scale: expected a finite number >= 0, got {time_scale}")
        self._clock = clock or _utc_now
        self._time_scale = time_scale
        self._options = options or LinkOptions()
        self._events: asyncio.Queue[DriverEvent] = asyncio.Queue()
        self._timers: set[asyncio.TimerHandle] = set()
        self._started = False
        self._closed = False
        by_endpoint: dict[str, list[str]] = {}
        for name in sorted(network.modules):
            endpoint = network.modules[name].endpoint
            if endpoint:
                by_endpoint.setdefault(endpoint.rstrip("/"), []).append(name)
        self._links = [
            EndpointLink(url, names, self._events.put_nowait, self._clock, self._options)
            for url, names in sorted(by_endpoint.items())
        ]
        self._link_of = {name: link for link in self._links for name in link.modules}

    @property
    def modules(self) -> tuple[str, ...]:
        """Names of the modules this driver drives."""
        return tuple(sorted(self._link_of))

    def now(self) -> datetime:
        """Return the wall clock (aware)."""
        return self._clock()

    async def connect(self, timeout: float = 0.0) -> bool:
        """Start every link; wait up to *timeout* seconds for all to be up and say whether they are."""
        self._check_open()
        if not self._started:
            self._started = True
            for link in self._links:
                link.start()
        if timeout <= 0:
            return all(link.connected for link in self._links)
        results = await asyncio.gather(*(link.wait_connected(timeout) for link in self._links))
        return all(results)

    async def dispatch(self, request: DispatchRequest) -> None:
        """Queue the operation on its module; it is loaded and started as soon as the module is Idle."""
        self._check_open()
        link = self._link_of.get(request.module)
        if link is None:
            raise UnknownReferenceError("OPC UA module", request.module, list(self._link_of))
        await self.connect()
        await link.dispatch(request)

    async def ship(self, order_id: str, lane: str, lead_time: Duration) -> None:
        """Report `ShipmentArrived` after *lead_time* (scaled by ``time_scale``)."""
        self._check_open()
        loop = asyncio.get_running_loop()

        def arrive() -> None:
            self._timers.discard(handle)
            self._events.put_nowait(ShipmentArrived(self._clock(), order_id, lane))

        handle = loop.call_later(lead_time.seconds * self._time_scale, arrive)
        self._timers.add(handle)

    async def next_event(self, until: datetime) -> DriverEvent | None:
        """Wait for the next event until the driver's clock reaches *until*; None when nothing came by then.

        The clock is network time; the wait in wall time is that span times ``time_scale``.
        """
        self._check_open()
        await self.connect()
        if not self._events.empty():
            return self._events.get_nowait()
        wait = (until - self._clock()).total_seconds() * self._time_scale
        if wait <= 0:
            return None
        try:
            return await asyncio.wait_for(self._events.get(), wait)
        except TimeoutError:
            return None

    async def close(self) -> None:
        """Cancel shipment timers and close every session; later calls raise `RuntimeError`."""
        if self._closed:
            return
        self._closed = True
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        await asyncio.gather(*(link.close() for link in self._links))

    async def __aenter__(self) -> OpcUaDriver:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("OpcUaDriver is closed")

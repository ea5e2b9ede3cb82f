"""The controller's telemetry link: Sparkplug B deaths and rebirths of modules become faults and repairs.

`TelemetryLink` is a `ModuleDriver` wrapped around the real one. It follows one Sparkplug
primary host application per site (group = the site, edge node = the module) and merges what
they hear with what the driver reports:

- ``NodeDied`` (NDEATH) -> ``ModuleFaulted(reason="unqualified downtime: node death certificate")``;
  the controller records it before acting, then moves the module's work as for any fault;
- ``NodeBorn`` after a death (NBIRTH) -> ``ModuleRepaired``.

A module is down while *any* source (the driver, the telemetry) says so: the first source
that reports an outage records the one ``ModuleFaulted``; a second source reporting the same
outage records nothing; ``ModuleRepaired`` is recorded when the last source clears it. One
outage seen twice (a module server killed: its OPC UA session and its MQTT session both
drop) is therefore one downtime record.

Losing the broker does not stop control. Each transition of a site's host is recorded once
in the ``telemetry`` stream (``TelemetryLost`` / ``TelemetryRestored``, never per reconnect
attempt; a broker that does not answer within *grace* seconds of the start counts as lost),
and the escalation watcher raises one alert per broker while it lasts. Signals are handled as
they arrive, through listeners, so nothing accumulates: the host keeps at most
`microfab.telemetry.base.DEFAULT_SIGNALS` unread signals and each edge node buffers at most
`microfab.telemetry.sparkplug.DEFAULT_BUFFER` data messages while the broker is away.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from microfab.domain.events import Event, ModuleFaulted, ModuleRepaired, TelemetryLost, TelemetryRestored
from microfab.domain.network import Network
from microfab.domain.quantities import Duration
from microfab.drivers.base import DispatchRequest, DriverEvent, ModuleDriver
from microfab.store.base import EventLog
from microfab.telemetry.base import NodeBorn, NodeDied, Signal, SignalListener

log = logging.getLogger(__name__)

TELEMETRY_STREAM = "telemetry"
"""The stream of `TelemetryLost` / `TelemetryRestored` facts (the link is its only writer)."""

DRIVER, TELEMETRY = "driver", "telemetry"
LOST_AT_START = "broker unreachable at start"
LOST_MID_RUN = "connection to the broker lost"


class HostApplication(Protocol):
    """What the link needs of a Sparkplug primary host application (`SparkplugHost` is one)."""

    @property
    def connected(self) -> bool:
        """Whether it is connected to its broker."""

    @property
    def broker(self) -> str:
        """The broker's address, without credentials."""

    def add_listener(self, listener: SignalListener) -> None:
        """Hand every signal to *listener*."""

    def add_connection_listener(self, listener: Callable[[bool], None]) -> None:
        """Call *listener* with True on each connection to the broker, False on each loss."""

    def start(self) -> None:
        """Connect in the background (on the running loop)."""

    async def close(self) -> None:
        """Go offline and disconnect."""


class TelemetryLink:
    """A `ModuleDriver` that also reports module deaths and rebirths heard by each site's host application.

    Parameters
    ----------
    driver
        The driver of the modules; its own faults and repairs are merged with the telemetry's.
    hosts
        One host application per site name (its Sparkplug group); edge node ids are module names.
    network
        Which module is at which site (a node of another site or no module is ignored and counted).
    log
        Where the link records `TelemetryLost` / `TelemetryRestored`.
    grace
        Wall seconds a host may take to connect at start before the broker counts as unreachable.
    """

    def __init__(
        self,
        driver: ModuleDriver,
        hosts: Mapping[str, HostApplication],
        *,
        network: Network,
        log: EventLog,
        grace: float = 5.0,
    ) -> None:
        if grace < 0:
            raise ValueError(f"grace: expected >= 0 seconds, got {grace}")
        self.driver = driver
        self.hosts = dict(hosts)
        self._log = log
        self._grace = grace
        self._site_of = {m.name: m.site for m in network.modules.values()}
        self._down: dict[str, set[str]] = {}  # module -> the sources that say it is down
        self._notes: deque[DriverEvent] = deque()  # telemetry faults and repairs, ready for next_event
        self._wake = asyncio.Event()
        self._inner: asyncio.Future[DriverEvent | None] | None = None
        self._inner_until: datetime | None = None
        self._lost: dict[str, bool] = {}
        self._timers: list[asyncio.TimerHandle] = []
        self._started = self._closed = False
        self.ignored_nodes = 0

    # ------------------------------------------------------------------ ModuleDriver
    def now(self) -> datetime:
        """The wrapped driver's clock."""
        return self.driver.now()

    async def dispatch(self, request: DispatchRequest) -> None:
        """Dispatch through the wrapped driver."""
        self._start()
        await self.driver.dispatch(request)

    async def ship(self, order_id: str, lane: str, lead_time: Duration) -> None:
        """Ship through the wrapped driver."""
        self._start()
        await self.driver.ship(order_id, lane, lead_time)

    async def next_event(self, until: datetime) -> DriverEvent | None:
        """The next fault or repair heard over telemetry, or else the driver's next event (merged)."""
        self._start()
        while True:
            if self._notes:
                return self._notes.popleft()
            inner = self._inner
            if inner is None:
                inner = self._inner = asyncio.ensure_future(self.driver.next_event(until))
                self._inner_until = until
            if not inner.done():
                self._wake.clear()
                waker = asyncio.ensure_future(self._wake.wait())
                waiting: set[asyncio.Future[Any]] = {inner, waker}
                await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                waker.cancel()
                if not inner.done():
                    continue  # a note arrived; the driver's wait goes on and is picked up next time
            self._inner = None
            event = inner.result()
            if event is None:
                if self._inner_until is not None and self._inner_until < until:
                    continue  # that wait was for an earlier horizon
                return None
            merged = self._merge(event)
            if merged is not None:
                return merged

    async def close(self) -> None:
        """Stop listening, close every host and the wrapped driver."""
        if self._closed:
            return
        self._closed = True
        for timer in self._timers:
            timer.cancel()
        if self._inner is not None and not self._inner.done():
            self._inner.cancel()
        for host in self.hosts.values():
            await host.close()
        await self.driver.close()

    # ------------------------------------------------------------------ sources
    def down_sources(self, module: str) -> frozenset[str]:
        """Which sources currently report *module* down (``driver``, ``telemetry``)."""
        return frozenset(self._down.get(module, ()))

    def _merge(self, event: DriverEvent) -> DriverEvent | None:
        """The driver's event as the controller should see it, or None when another source covers it."""
        if isinstance(event, ModuleFaulted):
            sources = self._down.setdefault(event.module, set())
            first = not sources
            sources.add(DRIVER)
            if not first:
                log.info("%s: driver fault (%s) during an outage already recorded", event.module, event.reason)
            return event if first else None
        if isinstance(event, ModuleRepaired):
            sources = self._down.setdefault(event.module, set())
            sources.discard(DRIVER)
            if sources:
                log.info("%s: the driver reports it back, telemetry still reports it dead", event.module)
                return None
        return event

    def _signal(self, site: str, signal: Signal) -> None:
        if not isinstance(signal, NodeDied | NodeBorn):
            return
        module = signal.node
        if self._site_of.get(module) != site:
            self.ignored_nodes += 1
            log.info("telemetry of %s: edge node %r is not a module of that site; ignored", site, module)
            return
        sources = self._down.setdefault(module, set())
        if isinstance(signal, NodeDied):
            if TELEMETRY in sources:
                return
            if not sources:
                self._note(ModuleFaulted(self.driver.now(), module, signal.reason))
            else:
                log.info("%s: node death during an outage already recorded", module)
            sources.add(TELEMETRY)
        elif TELEMETRY in sources:
            sources.discard(TELEMETRY)
            if not sources:
                self._note(ModuleRepaired(self.driver.now(), module))
            else:
                log.info("%s: node reborn, the driver still reports it down", module)

    def _note(self, event: DriverEvent) -> None:
        self._notes.append(event)
        self._wake.set()

    # ------------------------------------------------------------------ the brokers
    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        recorded: dict[str, bool] = {}
        for row in self._log.read_stream(TELEMETRY_STREAM):
            if isinstance(row.event, TelemetryLost | TelemetryRestored):
                recorded[row.event.site] = isinstance(row.event, TelemetryLost)
        loop = asyncio.get_running_loop()
        for site, host in sorted(self.hosts.items()):
            self._lost[site] = recorded.get(site, False)
            host.add_listener(partial(self._signal, site))
            host.add_connection_listener(partial(self._connection, site, reason=LOST_MID_RUN))
            host.start()
            self._timers.append(loop.call_later(self._grace, self._check_connected, site))

    def _check_connected(self, site: str) -> None:
        if not self.hosts[site].connected:
            self._connection(site, False, reason=LOST_AT_START)

    def _connection(self, site: str, connected: bool, *, reason: str) -> None:
        if self._closed or connected != self._lost[site]:
            return  # no change from what the log says
        host = self.hosts[site]
        fact: Event
        if connected:
            fact = TelemetryRestored(self.driver.now(), site, host.broker)
            log.warning("telemetry of %s is back (%s)", site, host.broker)
        else:
            fact = TelemetryLost(self.driver.now(), site, host.broker, reason)
            log.warning("telemetry of %s lost: %s (%s); control goes on", site, reason, host.broker)
        try:
            self._log.append(TELEMETRY_STREAM, [fact], expected_version=self._log.stream_version(TELEMETRY_STREAM))
        except Exception:
            log.exception("telemetry of %s: could not record %s", site, type(fact).__name__)
            return
        self._lost[site] = not connected

"""The telemetry ports: an edge node publishes its machines' metrics, the host hears them and commands back.

`TelemetrySink` is the edge side (a container module: Sparkplug B NBIRTH / DBIRTH / DDATA,
commands as DCMD); `TelemetrySource` is the host side (the site controller as Sparkplug
primary host application). `microfab.telemetry.memory` implements both in process (the
default); `microfab.telemetry.sparkplug` over an MQTT broker. A machine is a Sparkplug
*device*, a container module an *edge node*.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

MetricValue = bool | int | float | str
"""A metric value as microfab publishes it (Sparkplug Boolean, Int64, Double, String)."""

NODE_DEATH = "unqualified downtime: node death certificate"
"""`NodeDied.reason` for an NDEATH (or a lost in-process node)."""

DEFAULT_SIGNALS = 10_000
"""Signals a host keeps for `next_signal` when nobody reads them (listeners see every one); then the oldest go."""


_feed_log = logging.getLogger(__name__)


class UndeclaredMetricError(LookupError):
    """A command or a data message names a metric the device did not declare in its birth certificate."""


class TelemetryUnavailableError(RuntimeError):
    """The broker is unreachable and the message cannot wait (a command to a machine)."""


@dataclass(frozen=True, slots=True)
class NodeBorn:
    """An edge node (container module) came online (NBIRTH)."""

    at: datetime
    node: str


@dataclass(frozen=True, slots=True)
class NodeDied:
    """An edge node went away (NDEATH): unqualified downtime for that module, at once."""

    at: datetime
    node: str
    reason: str = NODE_DEATH


@dataclass(frozen=True, slots=True)
class DeviceBorn:
    """A machine declared its metrics and their current values (DBIRTH)."""

    at: datetime
    node: str
    device: str
    metrics: Mapping[str, MetricValue | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeviceDied:
    """A machine went offline while its node stays up (DDEATH)."""

    at: datetime
    node: str
    device: str


@dataclass(frozen=True, slots=True)
class MetricsChanged:
    """New values of declared metrics of a machine (DDATA); ``historical`` when replayed from a buffer."""

    at: datetime
    node: str
    device: str
    metrics: Mapping[str, MetricValue | None] = field(default_factory=dict)
    historical: bool = False


Signal = NodeBorn | NodeDied | DeviceBorn | DeviceDied | MetricsChanged
"""Anything a `TelemetrySource` reports."""

CommandHandler = Callable[[str, str, MetricValue], Awaitable[None]]
"""Called on the edge node with ``(device, metric, value)`` for each command it receives."""

SignalListener = Callable[[Signal], None]
"""Called on the host with every signal (the UNS bridge is one)."""


class TelemetrySink(Protocol):
    """An edge node: declares its machines' metrics, publishes their changes, receives their commands."""

    async def birth(self, device: str, metrics: Mapping[str, MetricValue]) -> None:
        """Declare *device* with every metric it will ever publish and their current values (DBIRTH)."""

    async def publish(self, device: str, metrics: Mapping[str, MetricValue]) -> None:
        """Publish new values (DDATA); every name must have been declared, else `UndeclaredMetricError`."""

    def on_command(self, handler: CommandHandler) -> None:
        """Route commands for this node's machines (DCMD) to *handler*."""

    async def close(self) -> None:
        """Announce the node's death (NDEATH) and disconnect."""


class TelemetrySource(Protocol):
    """The host application: hears every edge node and commands their machines."""

    async def next_signal(self, timeout: float) -> Signal | None:
        """The next signal, or None after *timeout* seconds without one."""

    def add_listener(self, listener: SignalListener) -> None:
        """Also hand every signal to *listener* (called in order, before `next_signal` sees it)."""

    async def command(self, node: str, device: str, metric: str, value: MetricValue) -> None:
        """Send a command (DCMD); raise `UndeclaredMetricError` unless the device declared *metric*."""

    async def close(self) -> None:
        """Go offline and disconnect."""


class SignalFeed:
    """The signals a telemetry source hands out: a queue for `next_signal`, plus listeners that see each one.

    A listener that raises is logged and skipped; the signal still reaches the queue and the others.
    The queue is bounded (*maxlen*, `DEFAULT_SIGNALS`): a source followed only by listeners
    (the controller's telemetry link, the UNS bridge) drops its oldest unread signals and counts
    them in ``dropped_signals`` instead of growing without end.
    """

    def __init__(self, maxlen: int = DEFAULT_SIGNALS) -> None:
        if maxlen < 1:
            raise ValueError(f"maxlen: expected >= 1, got {maxlen}")
        self._signals: asyncio.Queue[Signal] = asyncio.Queue()
        self._listeners: list[SignalListener] = []
        self._maxlen = maxlen
        self.dropped_signals = 0

    async def next_signal(self, timeout: float) -> Signal | None:
        """The next signal, or None after *timeout* seconds."""
        if not self._signals.empty():
            return self._signals.get_nowait()
        try:
            return await asyncio.wait_for(self._signals.get(), timeout)
        except TimeoutError:
            return None

    def add_listener(self, listener: SignalListener) -> None:
        """Also hand every signal to *listener*."""
        self._listeners.append(listener)

    def _emit(self, signal: Signal) -> None:
        for listener in self._listeners:
            try:
                listener(signal)
            except Exception:
                _feed_log.exception("telemetry listener failed on %s", type(signal).__name__)
        if self._signals.qsize() >= self._maxlen:
            self._signals.get_nowait()
            self.dropped_signals += 1
        self._signals.put_nowait(signal)

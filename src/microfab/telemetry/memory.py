"""`MemoryBus`: the in-process telemetry bus (the default, ``make demo`` and unit tests).

It keeps the Sparkplug rules that matter to the rest of microfab: a machine publishes and
is commanded only on metrics it declared at birth, and a node that closes is reported as
`NodeDied` (unqualified downtime) at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from microfab.telemetry.base import (
    CommandHandler,
    DeviceBorn,
    MetricsChanged,
    MetricValue,
    NodeBorn,
    NodeDied,
    SignalFeed,
    UndeclaredMetricError,
)

_log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class MemoryBus(SignalFeed):
    """One host and any number of edge nodes in one process.

    Parameters
    ----------
    clock
        Aware time of each signal; the UTC wall clock by default (the twin's clock in a simulation).
    """

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or _utc_now
        SignalFeed.__init__(self)
        self._nodes: dict[str, MemoryEdgeNode] = {}

    def edge_node(self, node: str) -> MemoryEdgeNode:
        """Connect an edge node called *node* (NBIRTH)."""
        if node in self._nodes:
            raise ValueError(f"node: {node!r} is already connected")
        edge = MemoryEdgeNode(self, node)
        self._nodes[node] = edge
        self._emit(NodeBorn(self._clock(), node))
        return edge

    # ------------------------------------------------------------------ TelemetrySource
    async def command(self, node: str, device: str, metric: str, value: MetricValue) -> None:
        """Deliver a command to a declared metric of a live node's device."""
        edge = self._nodes.get(node)
        if edge is None or metric not in edge.declared.get(device, {}):
            raise UndeclaredMetricError(f"{node}/{device}: metric {metric!r} is not in its birth certificate")
        await edge.deliver(device, metric, value)

    async def close(self) -> None:
        """Close every node."""
        for edge in list(self._nodes.values()):
            await edge.close()

    # ------------------------------------------------------------------ inside
    def _drop(self, node: str) -> None:
        if self._nodes.pop(node, None) is not None:
            self._emit(NodeDied(self._clock(), node))


class MemoryEdgeNode:
    """An edge node on a `MemoryBus` (a `TelemetrySink`)."""

    def __init__(self, bus: MemoryBus, node: str) -> None:
        self._bus = bus
        self.node = node
        self.declared: dict[str, dict[str, MetricValue]] = {}
        self._handler: CommandHandler | None = None

    async def birth(self, device: str, metrics: Mapping[str, MetricValue]) -> None:
        """Declare *device* and its metrics."""
        self.declared[device] = dict(metrics)
        self._bus._emit(DeviceBorn(self._bus._clock(), self.node, device, dict(metrics)))

    async def publish(self, device: str, metrics: Mapping[str, MetricValue]) -> None:
        """Publish new values of declared metrics."""
        declared = self.declared.get(device)
        unknown = sorted(set(metrics) - set(declared or ()))
        if declared is None or unknown:
            raise UndeclaredMetricError(f"{self.node}/{device}: metrics {unknown or list(metrics)} were not declared")
        declared.update(metrics)
        self._bus._emit(MetricsChanged(self._bus._clock(), self.node, device, dict(metrics)))

    def on_command(self, handler: CommandHandler) -> None:
        """Route commands to *handler*."""
        self._handler = handler

    async def deliver(self, device: str, metric: str, value: MetricValue) -> None:
        """Hand a command to the handler (the bus calls this)."""
        if self._handler is None:
            _log.warning("node %s: command %s=%r for %s has no handler", self.node, metric, value, device)
            return
        await self._handler(device, metric, value)

    async def close(self) -> None:
        """Leave the bus; the host sees `NodeDied`."""
        self._bus._drop(self.node)

"""Telemetry: the `TelemetrySink` / `TelemetrySource` ports, the in-process bus and Sparkplug B over MQTT.

`microfab.telemetry.memory` is the default (no broker); `microfab.telemetry.sparkplug` and
`microfab.telemetry.sparkplug_host` need ``paho-mqtt`` and ``protobuf`` (the ``mqtt`` extra)
and are imported only by whoever uses them.
"""

from microfab.telemetry.base import (
    NODE_DEATH,
    DeviceBorn,
    DeviceDied,
    MetricsChanged,
    MetricValue,
    NodeBorn,
    NodeDied,
    Signal,
    TelemetrySink,
    TelemetrySource,
    TelemetryUnavailableError,
    UndeclaredMetricError,
)
from microfab.telemetry.memory import MemoryBus, MemoryEdgeNode

__all__ = [
    "NODE_DEATH",
    "DeviceBorn",
    "DeviceDied",
    "MemoryBus",
    "MemoryEdgeNode",
    "MetricValue",
    "MetricsChanged",
    "NodeBorn",
    "NodeDied",
    "Signal",
    "TelemetrySink",
    "TelemetrySource",
    "TelemetryUnavailableError",
    "UndeclaredMetricError",
]

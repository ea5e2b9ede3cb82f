"""The in-process bus keeps the Sparkplug rules; the UNS bridge mirrors signals as retained JSON."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from microfab.telemetry import (
    NODE_DEATH,
    DeviceBorn,
    MemoryBus,
    MetricsChanged,
    MetricValue,
    NodeBorn,
    NodeDied,
    Signal,
    TelemetrySink,
    TelemetrySource,
    UndeclaredMetricError,
)
from microfab.telemetry.base import DeviceDied
from microfab.telemetry.uns import UnsBridge

T0 = datetime(2026, 11, 30, 8, tzinfo=UTC)


def test_memory_bus_births_data_commands_and_death() -> None:
    commands: list[tuple[str, str, MetricValue]] = []
    mirrored: list[Signal] = []

    async def body() -> list[Signal]:
        bus = MemoryBus(clock=lambda: T0)
        source: TelemetrySource = bus
        source.add_listener(mirrored.append)
        edge: TelemetrySink = bus.edge_node("ohio-cnc-mill-1")

        async def on_command(device: str, metric: str, value: MetricValue) -> None:
            commands.append((device, metric, value))

        edge.on_command(on_command)
        await edge.birth("cnc-mill", {"PackML/State": "Idle", "PackML/Command": ""})
        await edge.publish("cnc-mill", {"PackML/State": "Execute"})
        with pytest.raises(UndeclaredMetricError):
            await edge.publish("cnc-mill", {"Spindle/Speed": 1200})
        with pytest.raises(UndeclaredMetricError):
            await edge.publish("laser", {"PackML/State": "Idle"})
        await source.command("ohio-cnc-mill-1", "cnc-mill", "PackML/Command", "Hold")
        with pytest.raises(UndeclaredMetricError):
            await source.command("ohio-cnc-mill-1", "cnc-mill", "Spindle/Speed", 1)
        with pytest.raises(ValueError, match="already"):
            bus.edge_node("ohio-cnc-mill-1")
        await edge.close()
        await bus.close()
        with pytest.raises(UndeclaredMetricError):
            await source.command("ohio-cnc-mill-1", "cnc-mill", "PackML/Command", "Hold")
        signals = []
        while (signal := await source.next_signal(0.01)) is not None:
            signals.append(signal)
        return signals

    signals = asyncio.run(body())
    assert [type(s).__name__ for s in signals] == ["NodeBorn", "DeviceBorn", "MetricsChanged", "NodeDied"]
    died = signals[-1]
    assert isinstance(died, NodeDied)
    assert died.reason == NODE_DEATH
    assert "unqualified downtime" in died.reason
    assert commands == [("cnc-mill", "PackML/Command", "Hold")]
    assert mirrored == signals


def test_uns_topics_and_documents() -> None:
    sent: list[tuple[str, bytes]] = []
    bridge = UnsBridge("acme", {"ohio-cnc-mill-1": "ohio"}, lambda topic, payload: sent.append((topic, payload)))
    bridge(NodeBorn(T0, "ohio-cnc-mill-1"))
    bridge(DeviceBorn(T0, "ohio-cnc-mill-1", "cnc-mill", {"PackML/State": "Idle", "Job/LastGood": True}))
    bridge(MetricsChanged(T0, "ohio-cnc-mill-1", "cnc-mill", {"PackML/State": "Execute"}, historical=True))
    bridge(DeviceDied(T0, "ohio-cnc-mill-1", "cnc-mill"))
    bridge(NodeDied(T0, "stray+node#"))
    docs = [(topic, json.loads(payload)) for topic, payload in sent]
    base = "microfab/v1/acme/ohio/ohio-cnc-mill-1"
    assert docs[0] == (f"{base}/status", {"online": True, "reason": None, "at": "2026-11-30T08:00:00.000+00:00"})
    assert docs[1][0] == f"{base}/cnc-mill/PackML/State"
    assert docs[1][1]["value"] == "Idle"
    assert docs[2][1] == {"value": True, "at": "2026-11-30T08:00:00.000+00:00", "historical": False}
    assert docs[3] == (
        f"{base}/cnc-mill/PackML/State",
        {"value": "Execute", "at": "2026-11-30T08:00:00.000+00:00", "historical": True},
    )
    assert docs[4][0] == f"{base}/cnc-mill/status"
    assert docs[5][0] == "microfab/v1/acme/_/stray_node_/status"  # unknown site, wildcards replaced
    assert docs[5][1]["online"] is False
    assert bridge.published == 6


def test_uns_bridge_never_raises() -> None:
    def broken(topic: str, payload: bytes) -> None:
        raise OSError("broker gone")

    bridge = UnsBridge("acme", {}, broken)
    bridge(NodeBorn(T0, "m"))
    assert bridge.published == 0

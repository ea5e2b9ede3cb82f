"""Sparkplug B over a real mosquitto: births, data, sequence numbers, deaths, rebirth, commands, buffering."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from microfab.telemetry.base import (
    DeviceBorn,
    MetricsChanged,
    MetricValue,
    NodeBorn,
    NodeDied,
    Signal,
    UndeclaredMetricError,
)
from microfab.telemetry.mqtt import BrokerSettings
from microfab.telemetry.payload import DataType, Metric, Payload, decode, encode
from microfab.telemetry.sparkplug import SparkplugEdgeNode
from microfab.telemetry.sparkplug_host import SparkplugHost
from microfab.telemetry.uns import UnsBridge
from tests.integration.conftest import Broker

GROUP = "ohio"


class Recorder:
    """A raw MQTT subscriber that keeps every (topic, payload, retain) it sees."""

    def __init__(self, port: int, topic: str) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"rec-{time.monotonic_ns()}")
        self.client.on_message = lambda c, u, m: self.messages.append((m.topic, bytes(m.payload), bool(m.retain)))
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, 0)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def payloads(self, kind: str) -> list[tuple[str, Payload]]:
        return [(t, decode(p)) for t, p, _ in list(self.messages) if f"/{kind}/" in t]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def signals_until(
    host: SparkplugHost, predicate: Callable[[Signal], bool], timeout: float = 10.0
) -> list[Signal]:
    seen: list[Signal] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        signal = await host.next_signal(0.1)
        if signal is not None:
            seen.append(signal)
            if predicate(signal):
                return seen
    raise AssertionError(f"no matching signal in {timeout} s; saw {seen}")


def run(body: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(asyncio.wait_for(body(), 40))


def test_births_data_and_seq_wrap(broker: Broker) -> None:
    recorder = Recorder(broker.port, "spBv1.0/#")

    async def body() -> list[Signal]:
        settings = BrokerSettings.parse(broker.url)
        host = SparkplugHost(GROUP, "controller", settings)
        host.start()
        await until(lambda: host.connected)
        edge = SparkplugEdgeNode(GROUP, "ohio-cnc-mill-1", settings)
        await edge.birth("cnc-mill", {"PackML/State": "Idle", "Job/Completed": 0})
        edge.start()
        await signals_until(host, lambda s: isinstance(s, DeviceBorn))
        for i in range(1, 301):
            await edge.publish("cnc-mill", {"Job/Completed": i})
        seen = await signals_until(
            host, lambda s: isinstance(s, MetricsChanged) and s.metrics.get("Job/Completed") == 300
        )
        assert host.stats.seq_gaps == 0
        await edge.close()
        await host.close()
        return seen

    seen = run(body)
    deadline = time.monotonic() + 5
    while not recorder.payloads("NDEATH") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [s.metrics["Job/Completed"] for s in seen if isinstance(s, MetricsChanged)][-1] == 300
    births = recorder.payloads("NBIRTH")
    assert len(births) == 1
    assert births[0][1].seq == 0
    assert births[0][1].metric("bdSeq") is not None
    assert births[0][1].metric("Node Control/Rebirth").value is False  # type: ignore[union-attr]
    dbirth = recorder.payloads("DBIRTH")
    assert dbirth[0][0] == "spBv1.0/ohio/DBIRTH/ohio-cnc-mill-1/cnc-mill"
    assert dbirth[0][1].seq == 1
    seqs = [p.seq for _, p in recorder.payloads("DDATA")]
    assert seqs[:3] == [2, 3, 4]
    assert 255 in seqs
    wrap = seqs.index(255)
    assert seqs[wrap + 1] == 0  # seq wraps 255 -> 0
    assert len(seqs) == 300
    deaths = recorder.payloads("NDEATH")
    assert deaths[-1][1].metric("bdSeq").value == births[0][1].metric("bdSeq").value  # type: ignore[union-attr]
    state = [json.loads(p) for t, p, _ in recorder.messages if t == "spBv1.0/STATE/controller"]
    assert state[0]["online"] is True
    assert state[-1]["online"] is False
    recorder.close()


def test_ndeath_by_will_is_unqualified_downtime(broker: Broker) -> None:
    async def body() -> None:
        settings = BrokerSettings.parse(broker.url)
        host = SparkplugHost(GROUP, "controller", settings)
        host.start()
        await until(lambda: host.connected)
        edge = SparkplugEdgeNode(GROUP, "ohio-laser-1", settings)
        await edge.birth("laser", {"PackML/State": "Execute"})
        edge.start()
        await signals_until(host, lambda s: isinstance(s, DeviceBorn))
        # The node's connection dies without a DISCONNECT: the broker publishes its will (NDEATH).
        assert edge._mqtt is not None
        edge._mqtt.client._sock_close()  # type: ignore[attr-defined]
        edge._mqtt.client.loop_stop()
        started = time.monotonic()
        seen = await signals_until(host, lambda s: isinstance(s, NodeDied), timeout=20)
        died = seen[-1]
        assert isinstance(died, NodeDied)
        assert died.node == "ohio-laser-1"
        assert "unqualified downtime" in died.reason
        assert time.monotonic() - started < 20
        assert host.online_nodes() == []
        await host.close()

    run(body)


def test_rebirth_on_ncmd_and_commands_only_for_declared_metrics(broker: Broker) -> None:
    recorder = Recorder(broker.port, "spBv1.0/ohio/#")
    received: list[tuple[str, str, MetricValue]] = []

    async def body() -> None:
        settings = BrokerSettings.parse(broker.url)
        host = SparkplugHost(GROUP, "controller", settings)
        host.start()
        await until(lambda: host.connected)
        edge = SparkplugEdgeNode(GROUP, "ohio-press-1", settings)

        async def on_command(device: str, metric: str, value: MetricValue) -> None:
            received.append((device, metric, value))

        edge.on_command(on_command)
        await edge.birth("press", {"PackML/State": "Idle", "PackML/Command": ""})
        edge.start()
        await signals_until(host, lambda s: isinstance(s, DeviceBorn))
        assert host.request_rebirth("ohio-press-1")
        await signals_until(host, lambda s: isinstance(s, DeviceBorn))
        assert edge.births == 2
        await host.command("ohio-press-1", "press", "PackML/Command", "Hold")
        await until(lambda: bool(received))
        with pytest.raises(UndeclaredMetricError):
            await host.command("ohio-press-1", "press", "Spindle/Speed", 1200)
        with pytest.raises(UndeclaredMetricError):
            await host.command("ohio-press-1", "no-such-device", "PackML/Command", "Hold")
        assert host.stats.refused_commands == 2
        await edge.close()
        await host.close()

    run(body)
    assert received == [("press", "PackML/Command", "Hold")]
    dcmds = recorder.payloads("DCMD")
    assert [m.name for _, p in dcmds for m in p.metrics] == ["PackML/Command"]  # the undeclared one never left
    nbirths = recorder.payloads("NBIRTH")
    assert len(nbirths) == 2
    assert nbirths[0][1].metric("bdSeq").value == nbirths[1][1].metric("bdSeq").value  # type: ignore[union-attr]
    recorder.close()


def test_malformed_payload_and_unknown_metric_are_counted_not_fatal(broker: Broker) -> None:
    async def body() -> None:
        settings = BrokerSettings.parse(broker.url)
        host = SparkplugHost(GROUP, "controller", settings)
        host.start()
        await until(lambda: host.connected)
        edge = SparkplugEdgeNode(GROUP, "ohio-paint-1", settings)
        await edge.birth("booth", {"Temperature": 21.5})
        edge.start()
        await signals_until(host, lambda s: isinstance(s, DeviceBorn))
        rogue = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="rogue")
        rogue.connect("127.0.0.1", broker.port)
        rogue.loop_start()
        rogue.publish("spBv1.0/ohio/DDATA/ohio-paint-1/booth", b"\xff\x00garbage", qos=1).wait_for_publish(5)
        rogue.publish("spBv1.0/ohio/NOPE/ohio-paint-1", b"", qos=1).wait_for_publish(5)
        await until(lambda: host.stats.malformed == 2)
        # An undeclared metric slipped in by someone else: dropped and counted; the declared one goes through.
        sneaky = Payload(1, (Metric("Secret", DataType.INT64, 1), Metric("Temperature", DataType.DOUBLE, 22.0)), seq=2)
        rogue.publish("spBv1.0/ohio/DDATA/ohio-paint-1/booth", encode(sneaky), qos=1).wait_for_publish(5)
        seen = await signals_until(host, lambda s: isinstance(s, MetricsChanged))
        assert seen[-1].metrics == {"Temperature": 22.0}  # type: ignore[union-attr]
        assert host.stats.unknown_metrics == 1
        # The host still works afterwards.
        await edge.publish("booth", {"Temperature": 23.0})
        await signals_until(host, lambda s: isinstance(s, MetricsChanged) and s.metrics == {"Temperature": 23.0})
        rogue.disconnect()
        rogue.loop_stop()
        await edge.close()
        await host.close()

    run(body)


def test_broker_down_buffers_bounded_then_flushes(broker: Broker) -> None:
    async def body() -> None:
        settings = BrokerSettings.parse(broker.url)
        edge = SparkplugEdgeNode(GROUP, "ohio-mill-9", settings, buffer=50, primary_host="controller")
        host = SparkplugHost(GROUP, "controller", settings)
        host.start()
        await edge.birth("mill", {"Count": 0})
        edge.start()
        await until(lambda: edge.ready)
        broker.stop()
        await until(lambda: not edge.connected and not host.connected)
        for i in range(1, 81):
            await edge.publish("mill", {"Count": i})  # control goes on: never blocks, never raises
        assert edge.buffered == 50
        assert edge.dropped == 30
        broker.start()  # whoever reconnects first, births wait for the host's STATE online
        seen = await signals_until(
            host, lambda s: isinstance(s, MetricsChanged) and s.metrics.get("Count") == 80, timeout=20
        )
        historical = [s for s in seen if isinstance(s, MetricsChanged)]
        assert [s.metrics["Count"] for s in historical] == list(range(31, 81))
        assert all(s.historical for s in historical)
        assert edge.buffered == 0
        assert edge.bd_seq == 1  # a new session after the outage: a new bdSeq
        await edge.close()
        await host.close()

    run(body)


def test_uns_bridge_mirrors_retained_json(broker: Broker) -> None:
    async def body() -> None:
        settings = BrokerSettings.parse(broker.url)
        host = SparkplugHost(GROUP, "controller", settings)
        host.add_listener(UnsBridge("acme", {"ohio-cnc-mill-1": "ohio"}, host.publish_retained))
        host.start()
        await until(lambda: host.connected)
        edge = SparkplugEdgeNode(GROUP, "ohio-cnc-mill-1", settings)
        await edge.birth("cnc-mill", {"PackML/State": "Idle"})
        edge.start()
        await signals_until(host, lambda s: isinstance(s, DeviceBorn))
        await edge.publish("cnc-mill", {"PackML/State": "Execute"})
        await signals_until(host, lambda s: isinstance(s, MetricsChanged))
        await edge.close()
        await signals_until(host, lambda s: isinstance(s, NodeDied))
        await asyncio.sleep(0.2)
        await host.close()

    run(body)
    # A client that connects afterwards reads the current state at once (retained).
    late = Recorder(broker.port, "microfab/v1/#")
    deadline = time.monotonic() + 5
    while len(late.messages) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    late.close()
    retained = {t: json.loads(p) for t, p, r in late.messages if r}
    assert retained["microfab/v1/acme/ohio/ohio-cnc-mill-1/cnc-mill/PackML/State"]["value"] == "Execute"
    assert retained["microfab/v1/acme/ohio/ohio-cnc-mill-1/status"]["online"] is False


def test_node_born_signal_names_the_module(broker: Broker) -> None:
    async def body() -> Signal:
        settings = BrokerSettings.parse(broker.url)
        host = SparkplugHost(GROUP, "controller", settings)
        host.start()
        await until(lambda: host.connected)
        edge = SparkplugEdgeNode(GROUP, "ohio-x-1", settings)
        edge.start()
        seen = await signals_until(host, lambda s: isinstance(s, NodeBorn))
        await edge.close()
        await host.close()
        return seen[-1]

    born = run(body)
    assert isinstance(born, NodeBorn)
    assert born.node == "ohio-x-1"


def test_broker_down_at_start_then_up(broker: Broker) -> None:
    broker.stop()

    async def body() -> None:
        settings = BrokerSettings.parse(broker.url)
        edge = SparkplugEdgeNode(GROUP, "ohio-late-1", settings, primary_host="controller")
        await edge.birth("mill", {"Count": 0})
        edge.start()  # nobody listens yet: paho keeps trying
        for i in range(1, 6):
            await edge.publish("mill", {"Count": i})
        await asyncio.sleep(0.3)
        assert not edge.connected
        assert edge.buffered == 5
        broker.start()
        host = SparkplugHost(GROUP, "controller", settings)
        host.start()
        seen = await signals_until(
            host, lambda s: isinstance(s, MetricsChanged) and s.metrics.get("Count") == 5, timeout=20
        )
        assert any(isinstance(s, DeviceBorn) and s.metrics == {"Count": 5} for s in seen)
        assert edge.bd_seq == 0  # the first session that reached the broker
        await edge.close()
        await host.close()

    run(body)

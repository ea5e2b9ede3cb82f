"""The host's message handling without a broker: sequence gaps, stale deaths, aliases, bad input."""

from __future__ import annotations

import asyncio

from microfab.telemetry.base import DeviceBorn, MetricsChanged, NodeBorn, NodeDied, Signal
from microfab.telemetry.mqtt import BrokerSettings
from microfab.telemetry.payload import DataType, Metric, Payload, encode
from microfab.telemetry.sparkplug_host import SparkplugHost


def _host() -> SparkplugHost:
    return SparkplugHost("ohio", "controller", BrokerSettings())


def _birth(host: SparkplugHost, node: str = "n1", bd_seq: int = 4) -> None:
    birth = Payload(1, (Metric("bdSeq", DataType.INT64, bd_seq),), seq=0)
    host._on_message(f"spBv1.0/ohio/NBIRTH/{node}", encode(birth))
    metrics = (Metric("State", DataType.STRING, "Idle", alias=1), Metric("Count", DataType.INT64, 0, alias=2))
    host._on_message(f"spBv1.0/ohio/DBIRTH/{node}/dev", encode(Payload(2, metrics, seq=1)))


def _drain(host: SparkplugHost) -> list[Signal]:
    async def body() -> list[Signal]:
        out = []
        while (signal := await host.next_signal(0.001)) is not None:
            out.append(signal)
        return out

    return asyncio.run(body())


def test_birth_data_by_alias_and_death() -> None:
    host = _host()
    _birth(host)
    by_alias = Payload(3, (Metric(None, DataType.INT64, 5, alias=2),), seq=2)
    host._on_message("spBv1.0/ohio/DDATA/n1/dev", encode(by_alias))
    host._on_message("spBv1.0/ohio/NDEATH/n1", encode(Payload(4, (Metric("bdSeq", DataType.INT64, 4),))))
    signals = _drain(host)
    assert [type(s) for s in signals] == [NodeBorn, DeviceBorn, MetricsChanged, NodeDied]
    assert signals[2].metrics == {"Count": 5}  # type: ignore[union-attr]
    assert host.declared("n1", "dev") == {"State": DataType.STRING, "Count": DataType.INT64}
    assert host.online_nodes() == []


def test_stale_death_of_an_older_session_is_ignored() -> None:
    host = _host()
    _birth(host, bd_seq=5)
    host._on_message("spBv1.0/ohio/NDEATH/n1", encode(Payload(4, (Metric("bdSeq", DataType.INT64, 4),))))
    host._on_message("spBv1.0/ohio/NDEATH/ghost", encode(Payload(4, (Metric("bdSeq", DataType.INT64, 0),))))
    assert host.stats.stale_deaths == 2
    assert host.online_nodes() == ["n1"]
    assert not any(isinstance(s, NodeDied) for s in _drain(host))


def test_sequence_gap_is_counted_and_asks_for_rebirth() -> None:
    host = _host()
    _birth(host)
    host._on_message("spBv1.0/ohio/DDATA/n1/dev", encode(Payload(3, (Metric("Count", DataType.INT64, 1),), seq=7)))
    assert host.stats.seq_gaps == 1
    assert host.stats.rebirth_requests == 1
    # data from a node never born: ask for its birth, report nothing
    host._on_message("spBv1.0/ohio/DDATA/n2/dev", encode(Payload(3, (Metric("Count", DataType.INT64, 1),), seq=1)))
    assert host.stats.rebirth_requests == 2


def test_bad_input_is_counted_never_raised() -> None:
    host = _host()
    host._on_message("spBv1.0/ohio/NBIRTH/n1", b"\xff\xff")
    host._on_message("spBv1.0/ohio/NBIRTH/n1", encode(Payload(1, (), seq=0)))  # no bdSeq
    host._on_message("not/sparkplug", b"")
    assert host.stats.malformed == 3
    _birth(host)
    host._on_message("spBv1.0/ohio/DDATA/n1/dev", encode(Payload(3, (Metric("Nope", DataType.INT64, 1),), seq=2)))
    assert host.stats.unknown_metrics == 1
    host._on_message("spBv1.0/other/NBIRTH/x", encode(Payload(1, (Metric("bdSeq", DataType.INT64, 0),), seq=0)))
    assert host.online_nodes() == ["n1"]  # another group is not ours

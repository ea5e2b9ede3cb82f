"""`SparkplugHost`: the site controller as Sparkplug B primary host application (a `TelemetrySource`).

It publishes ``spBv1.0/STATE/<host id>`` = ``{"online": true, "timestamp": T}`` retained at
QoS 1 after connecting, with the same message and ``"online": false`` as its last will
(Sparkplug 3.0, section 7.4). It follows every edge node of its group: NBIRTH / DBIRTH
declare metrics, DDATA carries declared metrics only, NDEATH with the bdSeq of the current
birth is reported at once as `NodeDied` (unqualified downtime of that module). A sequence
gap or data before a birth asks the node for a rebirth (NCMD ``Node Control/Rebirth``).
Bad input never raises: malformed topics and payloads, unknown metrics and stale deaths are
logged and counted in `HostStats`. A DCMD is sent only for a metric the device declared.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from microfab.telemetry.base import (
    DeviceBorn,
    DeviceDied,
    MetricsChanged,
    MetricValue,
    NodeBorn,
    NodeDied,
    SignalFeed,
    TelemetryUnavailableError,
    UndeclaredMetricError,
)
from microfab.telemetry.mqtt import BrokerSettings, LoopClient
from microfab.telemetry.payload import DataType, Metric, Payload, PayloadError, decode, encode
from microfab.telemetry.sparkplug import BD_SEQ, NAMESPACE, REBIRTH, Topic, check_id, now_ms

_log = logging.getLogger(__name__)


@dataclass(slots=True)
class HostStats:
    """Counters of what the host refused or repaired (never a crash)."""

    malformed: int = 0
    unknown_metrics: int = 0
    seq_gaps: int = 0
    stale_deaths: int = 0
    rebirth_requests: int = 0
    refused_commands: int = 0


@dataclass(slots=True)
class _Node:
    bd_seq: int
    seq: int
    online: bool = True
    devices: dict[str, dict[str, DataType]] = field(default_factory=dict)
    aliases: dict[str, dict[int, str]] = field(default_factory=dict)


class SparkplugHost(SignalFeed):
    """The primary host application of one Sparkplug group (a site).

    Parameters
    ----------
    group
        The Sparkplug group id it follows.
    host_id
        Its STATE topic name.
    settings
        The broker.
    """

    def __init__(self, group: str, host_id: str, settings: BrokerSettings) -> None:
        self.group = check_id("group", group)
        self.host_id = check_id("host_id", host_id)
        self._settings = settings
        self._nodes: dict[str, _Node] = {}
        SignalFeed.__init__(self)
        self._mqtt: LoopClient | None = None
        self._state_stamp = now_ms()
        self._connection_listeners: list[Callable[[bool], None]] = []
        self.stats = HostStats()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Connect in the background (call on the running loop)."""
        if self._mqtt is not None:
            return
        self._mqtt = LoopClient(
            f"host-{self.host_id}",
            self._settings,
            on_connect=self._on_connect,
            on_disconnect=self._on_disconnect,
            on_message=self._on_message,
        )
        self._mqtt.will(self._state_topic, self._state(online=False), qos=1, retain=True)
        self._mqtt.start()

    @property
    def connected(self) -> bool:
        """Whether the host is connected to the broker."""
        return self._mqtt is not None and self._mqtt.connected

    @property
    def broker(self) -> str:
        """The broker as ``mqtt[s]://host:port`` (never the credentials)."""
        return f"{'mqtts' if self._settings.tls else 'mqtt'}://{self._settings.host}:{self._settings.port}"

    def add_connection_listener(self, listener: Callable[[bool], None]) -> None:
        """Call *listener* with True each time the host connects to the broker, False each time it loses it."""
        self._connection_listeners.append(listener)

    def online_nodes(self) -> list[str]:
        """Edge nodes whose last message was a birth, not a death."""
        return sorted(name for name, node in self._nodes.items() if node.online)

    def declared(self, node: str, device: str) -> dict[str, DataType]:
        """Metrics *device* of *node* declared in its birth certificate (empty if none)."""
        state = self._nodes.get(node)
        return dict(state.devices.get(device, {})) if state is not None else {}

    async def close(self) -> None:
        """Publish STATE offline and disconnect."""
        mqtt, self._mqtt = self._mqtt, None
        if mqtt is None:
            return
        await mqtt.stop((self._state_topic, self._state(online=False), True))

    # ------------------------------------------------------------------ TelemetrySource
    async def command(self, node: str, device: str, metric: str, value: MetricValue) -> None:
        """Send DCMD *metric* = *value*; raise `UndeclaredMetricError` (nothing sent) if it was not declared."""
        state = self._nodes.get(node)
        datatype = state.devices.get(device, {}).get(metric) if state is not None and state.online else None
        if datatype is None:
            self.stats.refused_commands += 1
            raise UndeclaredMetricError(f"{node}/{device}: metric {metric!r} is not in its birth certificate")
        payload = Payload(now_ms(), (Metric(metric, datatype, value),))
        if self._mqtt is None or not self._mqtt.publish(str(Topic(self.group, "DCMD", node, device)), encode(payload)):
            raise TelemetryUnavailableError(f"broker unreachable: DCMD {node}/{device}/{metric} not sent")

    def publish_retained(self, topic: str, payload: bytes) -> None:
        """Publish a retained QoS 1 message on the host's connection (the UNS bridge's publisher)."""
        if self._mqtt is not None:
            self._mqtt.publish(topic, payload, qos=1, retain=True)

    def request_rebirth(self, node: str) -> bool:
        """Ask *node* to publish its births again (NCMD); False when the broker is away."""
        payload = Payload(now_ms(), (Metric(REBIRTH, DataType.BOOLEAN, True),))
        self.stats.rebirth_requests += 1
        return self._mqtt is not None and self._mqtt.publish(str(Topic(self.group, "NCMD", node)), encode(payload))

    # ------------------------------------------------------------------ connection
    @property
    def _state_topic(self) -> str:
        return f"{NAMESPACE}/STATE/{self.host_id}"

    def _state(self, *, online: bool) -> bytes:
        return json.dumps({"online": online, "timestamp": self._state_stamp}).encode()

    def _on_connect(self) -> None:
        assert self._mqtt is not None
        self._mqtt.subscribe(f"{NAMESPACE}/{self.group}/#", qos=0)
        self._mqtt.publish(self._state_topic, self._state(online=True), qos=1, retain=True)
        _log.info("Sparkplug host %s online", self.host_id)
        for node in self._nodes:  # what happened while we were away is unknown: ask again
            self.request_rebirth(node)
        self._tell_connection(True)

    def _on_disconnect(self) -> None:
        _log.warning("Sparkplug host %s: broker lost; reconnecting", self.host_id)
        self._state_stamp = now_ms()
        if self._mqtt is not None:
            self._mqtt.will(self._state_topic, self._state(online=False), qos=1, retain=True)
        self._tell_connection(False)

    def _tell_connection(self, connected: bool) -> None:
        for listener in self._connection_listeners:
            try:
                listener(connected)
            except Exception:
                _log.exception("Sparkplug host %s: connection listener failed", self.host_id)

    # ------------------------------------------------------------------ messages
    def _on_message(self, topic_text: str, data: bytes) -> None:
        try:
            topic = Topic.parse(topic_text)
        except ValueError as exc:
            self._malformed(topic_text, str(exc))
            return
        if topic.kind in ("STATE", "NCMD", "DCMD") or topic.group != self.group:
            return
        try:
            payload = decode(data)
        except PayloadError as exc:
            self._malformed(topic_text, str(exc))
            return
        handler = _HANDLERS.get(topic.kind)
        if handler is not None:
            handler(self, topic, payload)

    def _malformed(self, topic: str, reason: str) -> None:
        self.stats.malformed += 1
        _log.warning("Sparkplug host: malformed message on %s: %s (%d so far)", topic, reason, self.stats.malformed)

    def _node_birth(self, topic: Topic, payload: Payload) -> None:
        bd_seq = payload.metric(BD_SEQ)
        if bd_seq is None or not isinstance(bd_seq.value, int) or payload.seq != 0:
            self._malformed(str(topic), "NBIRTH without bdSeq or with seq != 0")
            return
        self._nodes[topic.node] = _Node(bd_seq.value, 0)
        self._emit(NodeBorn(_at(payload), topic.node))

    def _node_death(self, topic: Topic, payload: Payload) -> None:
        bd_seq = payload.metric(BD_SEQ)
        node = self._nodes.get(topic.node)
        if node is None or bd_seq is None or bd_seq.value != node.bd_seq or not node.online:
            self.stats.stale_deaths += 1
            _log.info("Sparkplug host: stale or unknown NDEATH of %s ignored", topic.node)
            return
        node.online = False
        self._emit(NodeDied(_at(payload), topic.node))

    def _sequenced(self, topic: Topic, payload: Payload) -> _Node | None:
        """The node, if it is born and *payload* follows its last message; else ask for a rebirth."""
        node = self._nodes.get(topic.node)
        if node is None or not node.online:
            self.request_rebirth(topic.node)
            return None
        expected = (node.seq + 1) % 256
        node.seq = payload.seq if payload.seq is not None else expected
        if payload.seq != expected:
            self.stats.seq_gaps += 1
            _log.warning("Sparkplug host: %s seq %s, expected %s; rebirth", topic.node, payload.seq, expected)
            self.request_rebirth(topic.node)
        return node

    def _device_birth(self, topic: Topic, payload: Payload) -> None:
        node = self._sequenced(topic, payload)
        if node is None or topic.device is None:
            return
        named = [m for m in payload.metrics if m.name]
        node.devices[topic.device] = {m.name: m.datatype for m in named if m.name}
        node.aliases[topic.device] = {m.alias: m.name for m in named if m.alias is not None and m.name}
        metrics = {m.name: _scalar(m) for m in named if m.name}
        self._emit(DeviceBorn(_at(payload), topic.node, topic.device, metrics))

    def _device_data(self, topic: Topic, payload: Payload) -> None:
        node = self._sequenced(topic, payload)
        if node is None or topic.device is None:
            return
        declared = node.devices.get(topic.device)
        if declared is None:
            self.request_rebirth(topic.node)
            return
        aliases = node.aliases.get(topic.device, {})
        values: dict[str, MetricValue | None] = {}
        for metric in payload.metrics:
            name = metric.name or (aliases.get(metric.alias) if metric.alias is not None else None)
            if name is None or name not in declared:
                self.stats.unknown_metrics += 1
                _log.warning("Sparkplug host: %s/%s sent undeclared metric %r", topic.node, topic.device, name)
                continue
            values[name] = _scalar(metric)
        historical = bool(payload.metrics) and all(m.is_historical for m in payload.metrics)
        if values:
            self._emit(MetricsChanged(_at(payload), topic.node, topic.device, values, historical=historical))

    def _device_death(self, topic: Topic, payload: Payload) -> None:
        node = self._sequenced(topic, payload)
        if node is not None and topic.device is not None:
            node.devices.pop(topic.device, None)
            self._emit(DeviceDied(_at(payload), topic.node, topic.device))

    def _node_data(self, topic: Topic, payload: Payload) -> None:
        self._sequenced(topic, payload)


_HANDLERS: dict[str, Callable[[SparkplugHost, Topic, Payload], None]] = {
    "NBIRTH": SparkplugHost._node_birth,
    "NDEATH": SparkplugHost._node_death,
    "DBIRTH": SparkplugHost._device_birth,
    "DDATA": SparkplugHost._device_data,
    "DDEATH": SparkplugHost._device_death,
    "NDATA": SparkplugHost._node_data,
}


def _at(payload: Payload) -> datetime:
    if payload.timestamp is None:
        return datetime.now(UTC)
    try:
        return datetime.fromtimestamp(payload.timestamp / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return datetime.now(UTC)


def _scalar(metric: Metric) -> MetricValue | None:
    value = metric.value
    return None if isinstance(value, bytes) else value

"""Sparkplug B over MQTT: topics and the edge node (`SparkplugEdgeNode`, a `TelemetrySink`).

Rules followed (Eclipse Sparkplug specification 3.0):

- topics ``spBv1.0/<group>/<NBIRTH|NDEATH|DBIRTH|DDATA|DDEATH|NCMD|DCMD>/<edge node>[/<device>]``
  and ``spBv1.0/STATE/<host id>`` (section 4.1);
- the node connects with a clean session and its NDEATH as last will (QoS 1, not retained),
  carrying the ``bdSeq`` metric that the next NBIRTH repeats; ``bdSeq`` grows by one per
  connection, modulo 256 (section 7.1);
- NBIRTH has ``seq`` 0; every later DBIRTH, DDATA and DDEATH adds one, modulo 256 (section 7.2);
- NBIRTH declares ``bdSeq`` and ``Node Control/Rebirth``; a ``Node Control/Rebirth`` = true
  NCMD makes the node publish NBIRTH and every DBIRTH again (section 6.4);
- a DCMD is applied only to a metric the device declared in its DBIRTH; anything else is
  logged and counted;
- births and data go out at QoS 0, STATE and NDEATH at QoS 1, as the specification asks.

While the broker is away, data messages wait in a bounded buffer (`DEFAULT_BUFFER`
messages, oldest dropped first and counted). On reconnect the node is born again and the
buffered values follow as DDATA with ``is_historical`` and their original timestamps.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from microfab.telemetry.base import CommandHandler, MetricValue, UndeclaredMetricError
from microfab.telemetry.mqtt import BrokerSettings, LoopClient
from microfab.telemetry.payload import DataType, Metric, Payload, PayloadError, decode, encode, infer_datatype

_log = logging.getLogger(__name__)

NAMESPACE: Final = "spBv1.0"
BD_SEQ: Final = "bdSeq"
REBIRTH: Final = "Node Control/Rebirth"
DEFAULT_BUFFER: Final = 10_000
"""Data messages an edge node keeps while the broker is away (then the oldest are dropped)."""

MESSAGE_TYPES: Final = frozenset({"NBIRTH", "NDEATH", "DBIRTH", "DDEATH", "NDATA", "DDATA", "NCMD", "DCMD"})


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed Sparkplug topic; ``kind`` is a message type or ``STATE`` (then ``node`` is the host id)."""

    group: str
    kind: str
    node: str
    device: str | None = None

    def __str__(self) -> str:
        if self.kind == "STATE":
            return f"{NAMESPACE}/STATE/{self.node}"
        tail = f"/{self.device}" if self.device is not None else ""
        return f"{NAMESPACE}/{self.group}/{self.kind}/{self.node}{tail}"

    @classmethod
    def parse(cls, text: str) -> Topic:
        """Parse *text*; raise `ValueError` when it is not a Sparkplug B topic."""
        parts = text.split("/")
        if len(parts) == 3 and parts[0] == NAMESPACE and parts[1] == "STATE" and parts[2]:
            return cls("", "STATE", parts[2])
        if len(parts) not in (4, 5) or parts[0] != NAMESPACE or parts[2] not in MESSAGE_TYPES or not all(parts):
            raise ValueError(f"not a Sparkplug B topic: {text!r}")
        device = parts[4] if len(parts) == 5 else None
        if (device is None) != parts[2].startswith("N"):
            raise ValueError(f"not a Sparkplug B topic: {text!r} ({parts[2]} and a device do not go together)")
        return cls(parts[1], parts[2], parts[3], device)


def check_id(kind: str, value: str) -> str:
    """A group, node, device or host id: non-empty, no ``/``, ``+`` or ``#`` (section 4.1.1)."""
    if not value or any(c in value for c in "/+#"):
        raise ValueError(f"{kind}: expected a non-empty name without '/', '+' or '#', got {value!r}")
    return value


def now_ms() -> int:
    """Milliseconds since the epoch, UTC (Sparkplug timestamps)."""
    return int(datetime.now(UTC).timestamp() * 1000)


class SparkplugEdgeNode:
    """A container module as a Sparkplug B edge node; each machine is a device.

    Parameters
    ----------
    group, node
        Sparkplug group id (the site) and edge node id (the module).
    settings
        The broker.
    buffer
        Bound of the data buffer while the broker (or the primary host) is away.
    primary_host
        Host id of the primary host application: births wait until its STATE says online and
        data is buffered while it is offline (Sparkplug 3.0, section 7.4); None publishes at once.
    clock
        Milliseconds since the epoch (tests freeze it).
    """

    def __init__(
        self,
        group: str,
        node: str,
        settings: BrokerSettings,
        *,
        buffer: int = DEFAULT_BUFFER,
        primary_host: str | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.group = check_id("group", group)
        self.node = check_id("node", node)
        if buffer < 1:
            raise ValueError(f"buffer: expected >= 1, got {buffer}")
        self._settings = settings
        self._clock = clock
        self.primary_host = check_id("primary_host", primary_host) if primary_host is not None else None
        self._host_online = primary_host is None
        self.bd_seq = -1  # becomes 0 at the first connection
        self._seq = 0
        self._devices: dict[str, dict[str, Metric]] = {}
        self._buffer: deque[tuple[str, tuple[Metric, ...]]] = deque(maxlen=buffer)
        self._handler: CommandHandler | None = None
        self._mqtt: LoopClient | None = None
        self._tasks: set[asyncio.Future[None]] = set()
        self.dropped = 0
        self.malformed = 0
        self.refused_commands = 0
        self.births = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Connect in the background (births happen on connect; call on the running loop)."""
        if self._mqtt is not None:
            return
        self._mqtt = LoopClient(
            f"{self.group}-{self.node}",
            self._settings,
            on_connect=self._on_connect,
            on_disconnect=self._on_disconnect,
            on_message=self._on_message,
        )
        self._next_will()
        self._mqtt.start()

    @property
    def connected(self) -> bool:
        """Whether the node is connected to the broker."""
        return self._mqtt is not None and self._mqtt.connected

    @property
    def ready(self) -> bool:
        """Connected, and the primary host (if any) is online: births and data go out."""
        return self.connected and self._host_online

    @property
    def buffered(self) -> int:
        """Data messages waiting for the broker."""
        return len(self._buffer)

    async def close(self) -> None:
        """Publish NDEATH and disconnect cleanly."""
        mqtt = self._mqtt
        self._mqtt = None
        if mqtt is None:
            return
        await mqtt.stop((self._topic("NDEATH"), self._death_payload(), False))

    # ------------------------------------------------------------------ TelemetrySink
    async def birth(self, device: str, metrics: Mapping[str, MetricValue]) -> None:
        """Declare *device* with its metrics and current values; publish DBIRTH when connected."""
        check_id("device", device)
        stamp = self._clock()
        self._devices[device] = {
            name: Metric(name, infer_datatype(value), value, timestamp=stamp) for name, value in metrics.items()
        }
        if self.ready:
            self._publish_device_birth(device)

    async def publish(self, device: str, metrics: Mapping[str, MetricValue]) -> None:
        """Publish DDATA of declared metrics now, or buffer it while the broker is away."""
        declared = self._devices.get(device)
        unknown = sorted(set(metrics) - set(declared or ()))
        if declared is None or unknown:
            raise UndeclaredMetricError(f"{self.node}/{device}: metrics {unknown or list(metrics)} were not declared")
        stamp = self._clock()
        changed = []
        for name, value in metrics.items():
            metric = Metric(name, declared[name].datatype, value, timestamp=stamp)
            declared[name] = metric
            changed.append(metric)
        if self.ready and not self._buffer:
            self._send("DDATA", device, tuple(changed))
        else:
            if len(self._buffer) == self._buffer.maxlen:
                self.dropped += 1
            self._buffer.append((device, tuple(changed)))

    def on_command(self, handler: CommandHandler) -> None:
        """Route DCMD of declared metrics to *handler*."""
        self._handler = handler

    # ------------------------------------------------------------------ births and deaths
    def _next_will(self) -> None:
        assert self._mqtt is not None
        self.bd_seq = (self.bd_seq + 1) % 256
        self._mqtt.will(self._topic("NDEATH"), self._death_payload(), qos=1, retain=False)

    def _death_payload(self) -> bytes:
        return encode(Payload(self._clock(), (Metric(BD_SEQ, DataType.INT64, self.bd_seq),)))

    def _on_connect(self) -> None:
        assert self._mqtt is not None
        self._mqtt.subscribe(self._topic("NCMD"), qos=0)
        self._mqtt.subscribe(f"{NAMESPACE}/{self.group}/DCMD/{self.node}/+", qos=0)
        if self.primary_host is not None:
            self._host_online = False  # until its retained STATE says otherwise
            self._mqtt.subscribe(f"{NAMESPACE}/STATE/{self.primary_host}", qos=1)
            return
        self._rebirth()
        self._flush()

    def _on_disconnect(self) -> None:
        _log.warning(
            "Sparkplug node %s/%s: broker lost; buffering up to %d messages", self.group, self.node, self._buffer.maxlen
        )
        if self._mqtt is not None:
            self._next_will()  # the next connection is a new session: a new bdSeq

    def _rebirth(self) -> None:
        """NBIRTH (seq 0) then one DBIRTH per device."""
        assert self._mqtt is not None
        stamp = self._clock()
        metrics = (
            Metric(BD_SEQ, DataType.INT64, self.bd_seq, timestamp=stamp),
            Metric(REBIRTH, DataType.BOOLEAN, False, timestamp=stamp),
        )
        self._seq = 0
        self._mqtt.publish(self._topic("NBIRTH"), encode(Payload(stamp, metrics, seq=0)))
        self.births += 1
        for device in self._devices:
            self._publish_device_birth(device)

    def _publish_device_birth(self, device: str) -> None:
        self._send("DBIRTH", device, tuple(self._devices[device].values()))

    def _flush(self) -> None:
        while self._buffer and self.ready:
            device, metrics = self._buffer.popleft()
            historical = tuple(
                Metric(m.name, m.datatype, m.value, timestamp=m.timestamp, is_historical=True) for m in metrics
            )
            self._send("DDATA", device, historical)

    def _send(self, kind: str, device: str, metrics: tuple[Metric, ...]) -> None:
        assert self._mqtt is not None
        self._seq = (self._seq + 1) % 256
        self._mqtt.publish(self._topic(kind, device), encode(Payload(self._clock(), metrics, seq=self._seq)))

    def _topic(self, kind: str, device: str | None = None) -> str:
        return str(Topic(self.group, kind, self.node, device))

    # ------------------------------------------------------------------ commands
    def _on_message(self, topic_text: str, data: bytes) -> None:
        if self.primary_host is not None and topic_text == f"{NAMESPACE}/STATE/{self.primary_host}":
            self._on_host_state(data)
            return
        try:
            topic = Topic.parse(topic_text)
            payload = decode(data)
        except (ValueError, PayloadError) as exc:
            self.malformed += 1
            _log.warning("Sparkplug node %s: malformed command on %s: %s", self.node, topic_text, exc)
            return
        if topic.kind == "NCMD":
            rebirth = payload.metric(REBIRTH)
            if rebirth is not None and rebirth.value is True:
                _log.info("Sparkplug node %s/%s: rebirth requested", self.group, self.node)
                self._rebirth()
        elif topic.kind == "DCMD" and topic.device is not None:
            for metric in payload.metrics:
                self._command(topic.device, metric)

    def _on_host_state(self, data: bytes) -> None:
        try:
            online = json.loads(data)["online"] is True
        except (ValueError, KeyError, TypeError):
            self.malformed += 1
            _log.warning("Sparkplug node %s: malformed STATE of %s", self.node, self.primary_host)
            return
        was, self._host_online = self._host_online, online
        if online and not was and self.connected:
            self._rebirth()
            self._flush()
        elif was and not online:
            _log.warning("Sparkplug node %s: primary host %s offline; buffering", self.node, self.primary_host)

    def _command(self, device: str, metric: Metric) -> None:
        declared = self._devices.get(device, {})
        if metric.name not in declared or metric.value is None or isinstance(metric.value, bytes):
            self.refused_commands += 1
            _log.warning("Sparkplug node %s: DCMD for undeclared metric %s/%s refused", self.node, device, metric.name)
            return
        if self._handler is None:
            _log.warning("Sparkplug node %s: DCMD %s/%s has no handler", self.node, device, metric.name)
            return
        task = asyncio.ensure_future(self._handler(device, metric.name, metric.value))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

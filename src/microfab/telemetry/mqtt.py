"""MQTT connection settings and a paho-mqtt client whose callbacks run on the asyncio loop.

paho runs its network loop in a thread; `LoopClient` hands every callback over to the
event loop (``call_soon_threadsafe``) so the Sparkplug state (sequence numbers, buffers,
births) is only ever touched from one thread. paho reconnects by itself with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """Where the broker is and how to authenticate.

    ``mqtt://user:password@host:1883`` or ``mqtts://host:8883`` (TLS) via `parse`. With
    ``tls``, ``ca_file`` verifies the broker (the system store when None); ``cert_file`` and
    ``key_file`` authenticate the client by certificate.
    """

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    keepalive: int = 10
    reconnect_min: float = 0.2
    reconnect_max: float = 5.0

    @classmethod
    def parse(cls, url: str, **overrides: Any) -> BrokerSettings:
        """Settings from ``mqtt[s]://[user[:password]@]host[:port]`` plus keyword overrides."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"url: expected mqtt:// or mqtts://, got {url!r}")
        tls = parts.scheme in ("mqtts", "ssl")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (8883 if tls else 1883),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
            **overrides,
        )


class LoopClient:
    """A paho client bound to the running asyncio loop.

    Parameters
    ----------
    client_id
        The MQTT client identifier (unique per broker).
    settings
        Broker address, credentials, TLS.
    on_connect, on_disconnect, on_message
        Called on the event loop: ``on_connect()``, ``on_disconnect()``, ``on_message(topic, payload)``.
    """

    def __init__(
        self,
        client_id: str,
        settings: BrokerSettings,
        *,
        on_connect: Callable[[], None],
        on_disconnect: Callable[[], None],
        on_message: Callable[[str, bytes], None],
    ) -> None:
        self._settings = settings
        self._loop = asyncio.get_running_loop()
        self._on_connect = on_connect
        self._on_disconnect = on_disconnect
        self._on_message = on_message
        self.connected = False
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True, protocol=mqtt.MQTTv311
        )
        if settings.username is not None:
            client.username_pw_set(settings.username, settings.password)
        if settings.tls:
            client.tls_set(
                ca_certs=settings.ca_file,
                certfile=settings.cert_file,
                keyfile=settings.key_file,
                cert_reqs=ssl.CERT_REQUIRED,
            )
        client.reconnect_delay_set(
            min_delay=max(1, round(settings.reconnect_min)), max_delay=max(1, round(settings.reconnect_max))
        )
        client.on_connect = self._connected
        client.on_disconnect = self._disconnected
        client.on_message = self._message
        self.client = client

    def start(self) -> None:
        """Connect in the background; paho keeps reconnecting while the broker is away."""
        settings = self._settings
        self.client.connect_async(settings.host, settings.port, keepalive=settings.keepalive)
        self.client.loop_start()

    def will(self, topic: str, payload: bytes, *, qos: int, retain: bool) -> None:
        """Set the last will (used at the next connect)."""
        self.client.will_set(topic, payload, qos=qos, retain=retain)

    def publish(self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False) -> bool:
        """Hand a message to paho; False when it is not connected (nothing is queued then)."""
        if not self.connected:
            return False
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    def subscribe(self, topic: str, qos: int = 0) -> None:
        """Subscribe (call from ``on_connect``: a clean session forgets subscriptions)."""
        self.client.subscribe(topic, qos)

    async def stop(self, last: tuple[str, bytes, bool] | None = None, *, timeout: float = 2.0) -> None:
        """Publish *last* ``(topic, payload, retain)`` at QoS 1 if connected, disconnect cleanly, stop the thread.

        A clean DISCONNECT makes the broker discard the will, so a death message must be *last*.
        """
        if last is not None and self.connected:
            topic, payload, retain = last
            info = self.client.publish(topic, payload, qos=1, retain=retain)
            with contextlib.suppress(RuntimeError, ValueError):
                await asyncio.to_thread(info.wait_for_publish, timeout)
        self.connected = False
        self.client.disconnect()
        await asyncio.to_thread(self.client.loop_stop)

    # paho's thread -> the event loop
    def _connected(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if getattr(reason, "is_failure", False):
            _log.warning("MQTT %s:%s refused the connection: %s", self._settings.host, self._settings.port, reason)
            return
        self._call(self._set_connected, True)

    def _disconnected(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self._call(self._set_connected, False)

    def _message(self, client: Any, userdata: Any, message: Any) -> None:
        self._call(self._on_message, message.topic, bytes(message.payload))

    def _set_connected(self, connected: bool) -> None:
        was, self.connected = self.connected, connected
        if connected:
            self._on_connect()
        elif was:
            self._on_disconnect()

    def _call(self, function: Callable[..., None], *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: the process is ending
            self._loop.call_soon_threadsafe(function, *args)

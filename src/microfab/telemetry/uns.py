"""`UnsBridge`: mirror the current state of every machine as retained JSON in a unified namespace.

Topics (ISA-95 levels, one per segment)::

    microfab/v1/<network>/<site>/<module>/status             {"online": bool, "reason": str|null, "at": ISO 8601}
    microfab/v1/<network>/<site>/<module>/<machine>/<metric> {"value": v, "at": ISO 8601, "historical": bool}

A metric name with ``/`` (``PackML/State``) becomes several levels. Every message is
retained, so a client that subscribes later reads the current state at once. The bridge
listens to a `TelemetrySource` (``add_listener``) and hands messages to a publisher
callable ``(topic, payload)`` (retained, QoS 1 over MQTT; a list in tests).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Final

from microfab.telemetry.base import DeviceBorn, DeviceDied, MetricsChanged, MetricValue, NodeBorn, NodeDied, Signal

_log = logging.getLogger(__name__)

ROOT: Final = "microfab/v1"

Publish = Callable[[str, bytes], None]


def _segment(text: str) -> str:
    """A topic level: MQTT wildcards and empty names replaced."""
    cleaned = text.replace("+", "_").replace("#", "_").strip()
    return cleaned or "_"


class UnsBridge:
    """Turn telemetry signals into retained unified-namespace messages.

    Parameters
    ----------
    network
        The network's name (first level under `ROOT`).
    sites
        Site of each module (edge node); a module not in it goes under ``_``.
    publish
        Sends one retained message.
    """

    def __init__(self, network: str, sites: Mapping[str, str], publish: Publish) -> None:
        self._network = _segment(network)
        self._sites = dict(sites)
        self._publish = publish
        self.published = 0

    def __call__(self, signal: Signal) -> None:
        """Mirror *signal* (use the bridge as a `SignalListener`)."""
        for topic, document in self.messages(signal):
            try:
                self._publish(topic, json.dumps(document, separators=(",", ":")).encode())
                self.published += 1
            except Exception:  # the mirror must never stop the host
                _log.exception("UNS bridge: publishing %s failed", topic)

    def module_topic(self, module: str) -> str:
        """The UNS folder of *module*."""
        site = self._sites.get(module, "_")
        return f"{ROOT}/{self._network}/{_segment(site)}/{_segment(module)}"

    def messages(self, signal: Signal) -> list[tuple[str, dict[str, object]]]:
        """The ``(topic, JSON document)`` pairs that mirror *signal*."""
        base = self.module_topic(signal.node)
        at = _iso(signal.at)
        match signal:
            case NodeBorn():
                return [(f"{base}/status", {"online": True, "reason": None, "at": at})]
            case NodeDied():
                return [(f"{base}/status", {"online": False, "reason": signal.reason, "at": at})]
            case DeviceBorn() | MetricsChanged():
                historical = isinstance(signal, MetricsChanged) and signal.historical
                return self._metrics(f"{base}/{_segment(signal.device)}", signal.metrics, at, historical)
            case DeviceDied():
                return [(f"{base}/{_segment(signal.device)}/status", {"online": False, "reason": "DDEATH", "at": at})]
        return []  # pragma: no cover - every signal type is matched above

    @staticmethod
    def _metrics(
        base: str, metrics: Mapping[str, MetricValue | None], at: str, historical: bool
    ) -> list[tuple[str, dict[str, object]]]:
        out: list[tuple[str, dict[str, object]]] = []
        for name, value in metrics.items():
            path = "/".join(_segment(part) for part in name.split("/"))
            out.append((f"{base}/{path}", {"value": value, "at": at, "historical": historical}))
        return out


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds")

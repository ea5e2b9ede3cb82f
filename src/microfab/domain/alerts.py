"""Alerts: the few things no policy covers, raised for a person and cleared when they stop being true."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from microfab.domain.events import Event


class AlertKind(enum.StrEnum):
    """Why a person is needed."""

    REPEATED_FAULTS = "module-repeated-faults"
    LONG_REPAIR = "module-long-repair"
    QUALITY_GATE = "quality-gate-failed-twice"
    LATE_ORDER = "order-will-be-late"
    TELEMETRY_LOST = "site-telemetry-lost"


@dataclass(frozen=True, slots=True)
class AlertRaised(Event):
    """A condition no policy covers started; *subject* is the module, operation or order concerned."""

    alert_id: str
    kind: str
    subject: str
    message: str


@dataclass(frozen=True, slots=True)
class AlertCleared(Event):
    """The condition behind an alert ended."""

    alert_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class AlertAcknowledged(Event):
    """A person took the alert on."""

    alert_id: str
    by: str

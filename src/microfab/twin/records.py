"""What goes into the twin (`TwinJob`) and what comes out (records, statistics); times in float seconds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TwinJob:
    """One operation to run on one module, queued FIFO (``priority=True`` goes to the front: rework).

    Parameters
    ----------
    family
        Product family; a change from the module's last family costs a setup.
    ideal_seconds
        The ideal processing time on this module; the twin's actual time varies around it.
    """

    operation_id: str
    order_id: str
    serial: str
    module: str
    family: str
    ideal_seconds: int
    attempt: int = 1
    priority: bool = False

    def __post_init__(self) -> None:
        if self.ideal_seconds < 0:
            raise ValueError(f"ideal_seconds: expected >= 0, got {self.ideal_seconds}")
        if self.attempt < 1:
            raise ValueError(f"attempt: expected >= 1, got {self.attempt}")


@dataclass(frozen=True, slots=True)
class Started:
    """A module started processing an operation at *t*, after *setup_seconds* of setup (0 without)."""

    t: float
    module: str
    operation_id: str
    order_id: str
    serial: str
    setup_seconds: float
    attempt: int


@dataclass(frozen=True, slots=True)
class Completed:
    """A module finished an operation at *t*; *good* is the inspection result."""

    t: float
    module: str
    operation_id: str
    order_id: str
    serial: str
    good: bool
    attempt: int
    ideal_seconds: int


@dataclass(frozen=True, slots=True)
class Faulted:
    """A module broke down at *t*; the operation in progress, if any, is suspended."""

    t: float
    module: str


@dataclass(frozen=True, slots=True)
class Repaired:
    """A module is back in service at *t*; a suspended operation resumes where it stopped."""

    t: float
    module: str


@dataclass(frozen=True, slots=True)
class Arrived:
    """A shipment of an order reached its market over *lane* at *t*."""

    t: float
    order_id: str
    lane: str


Record = Started | Completed | Faulted | Repaired | Arrived
"""Anything `SimModel.next_record` reports."""


@dataclass(frozen=True, slots=True)
class ModuleStats:
    """Time and event counters of one module since it was added (seconds, counts).

    ``setup_seconds`` and ``execute_seconds`` count only time actually worked; time a
    suspended operation waits for repair is in ``down_seconds``.
    """

    module: str
    setup_seconds: float
    execute_seconds: float
    down_seconds: float
    setups: int
    started: int
    completed: int
    good: int
    failures: int
    preemptions: int

    @property
    def busy_seconds(self) -> float:
        """Setup plus execute time."""
        return self.setup_seconds + self.execute_seconds

"""The `ModuleDriver` port: how control sends operations to modules and hears what happened.

One implementation per technology: `microfab.drivers.sim` (the in-process twin, the
default and the fake for tests, like httpx's ``MockTransport``) and, later, OPC UA with
the PackML state model (ISA-TR88.00.02).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from microfab.domain.events import ModuleFaulted, ModuleRepaired, OperationCompleted, OperationStarted
from microfab.domain.quantities import Duration


@dataclass(frozen=True, slots=True)
class DispatchRequest:
    """Run one operation of one unit on *module*; ``rework=True`` puts it at the front of the queue.

    Parameters
    ----------
    family
        Product family; a module that last processed another family first needs a setup.
    ideal
        The ideal processing time on this module (the basis of ISO 22400 performance).
    attempt
        1 for the first try, 2 and more for rework after a failed inspection.
    """

    operation_id: str
    order_id: str
    serial: str
    module: str
    family: str
    ideal: Duration
    attempt: int = 1
    rework: bool = False


@dataclass(frozen=True, slots=True)
class ShipmentArrived:
    """A shipment reached its market (a driver notification, not a stored event)."""

    at: datetime
    order_id: str
    lane: str


DriverEvent = OperationStarted | OperationCompleted | ModuleFaulted | ModuleRepaired | ShipmentArrived
"""Anything `ModuleDriver.next_event` reports."""


class ModuleDriver(Protocol):
    """The port to the modules of a network, simulated or real."""

    async def dispatch(self, request: DispatchRequest) -> None:
        """Send an operation to its module's queue."""

    async def ship(self, order_id: str, lane: str, lead_time: Duration) -> None:
        """Hand a finished order to its lane; `ShipmentArrived` follows after the lead time."""

    async def next_event(self, until: datetime) -> DriverEvent | None:
        """Return the next thing that happened at or before *until*, or None when nothing more did."""

    def now(self) -> datetime:
        """Return the driver's clock (simulated for the twin, wall clock for real modules)."""

    async def close(self) -> None:
        """Release the driver's resources; the driver is unusable afterwards."""

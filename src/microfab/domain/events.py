"""Events: immutable facts in the past tense, each with an aware ``at``.

Streams: ``network`` (applied manifests), ``order-<id>`` (an order, its units and their
operations: the passport), ``module-<name>`` (faults and repairs), ``site-<name>``
(schedules). `microfab.domain.codec` turns them into JSON-ready dicts and back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from microfab.domain.buyers import Buyer
from microfab.domain.quantities import Duration, Money
from microfab.domain.schedules import ScheduledOperation


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every event."""

    at: datetime


@dataclass(frozen=True, slots=True)
class ResourceApplied(Event):
    """A manifest resource was created or changed by ``microfab apply``."""

    kind: str
    name: str
    digest: str
    change: str
    spec: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class ResourceDeleted(Event):
    """A manifest resource was removed by ``microfab apply``."""

    kind: str
    name: str


@dataclass(frozen=True, slots=True)
class ModuleDeployed(Event):
    """A module of a module type now runs at a site."""

    module: str
    module_type: str
    site: str


@dataclass(frozen=True, slots=True)
class ModuleRetired(Event):
    """A module was taken out of service."""

    module: str
    site: str


@dataclass(frozen=True, slots=True)
class OrderPlaced(Event):
    """A customer ordered a configured product for a market, at a quoted price."""

    order_id: str
    customer: str
    product: str
    config: Mapping[str, str | int | bool]
    quantity: int
    market: str
    due: datetime
    unit_price: Money
    total: Money
    fx_rate: Decimal
    product_version: str = ""
    config_hash: str = ""
    tax: Money | None = None
    tax_jurisdiction: str = ""
    locale: str = ""
    b2b: bool = False
    fx_source: str = ""
    buyer: Buyer | None = None


@dataclass(frozen=True, slots=True)
class OrderAllocated(Event):
    """The order goes to a site and ships over a lane; its units got serial numbers."""

    order_id: str
    site: str
    lane: str
    production_cost: Money
    freight_cost: Money
    serials: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OrderReallocated(Event):
    """The slow loop moved a not-yet-started order to another site (the customer's price stays)."""

    order_id: str
    from_site: str
    to_site: str
    lane: str
    reason: str


@dataclass(frozen=True, slots=True)
class OperationReleased(Event):
    """A routing step of a unit was released to its site for scheduling."""

    order_id: str
    operation_id: str
    serial: str
    index: int
    step: str
    capability: str
    standard: Duration
    predecessors: tuple[str, ...]
    family: str = ""


@dataclass(frozen=True, slots=True)
class ScheduleCreated(Event):
    """A site's schedule was computed and validated."""

    site: str
    status: str
    objective: int
    lower_bound: int
    runtime_ms: int
    operations: tuple[ScheduledOperation, ...]


@dataclass(frozen=True, slots=True)
class OperationDispatched(Event):
    """An operation was sent to a module."""

    order_id: str
    operation_id: str
    module: str


@dataclass(frozen=True, slots=True)
class OperationStarted(Event):
    """A module started an operation (after *setup*, if the family changed)."""

    order_id: str
    operation_id: str
    serial: str
    module: str
    setup: Duration


@dataclass(frozen=True, slots=True)
class OperationCompleted(Event):
    """A module finished an operation; *good* is the inspection result, *ideal* its ideal time."""

    order_id: str
    operation_id: str
    serial: str
    module: str
    good: bool
    ideal: Duration
    attempt: int


@dataclass(frozen=True, slots=True)
class UnitCompleted(Event):
    """Every step of a unit is done and good."""

    order_id: str
    serial: str


@dataclass(frozen=True, slots=True)
class OrderShipped(Event):
    """Every unit of the order left the site over its lane."""

    order_id: str
    lane: str
    eta: datetime


@dataclass(frozen=True, slots=True)
class OrderDelivered(Event):
    """The order reached the customer."""

    order_id: str
    on_time: bool


@dataclass(frozen=True, slots=True)
class ModuleFaulted(Event):
    """A module stopped on a fault (PackML Held; operation interrupted)."""

    module: str
    reason: str


@dataclass(frozen=True, slots=True)
class ModuleRepaired(Event):
    """A faulted module is back in service."""

    module: str


@dataclass(frozen=True, slots=True)
class TelemetryLost(Event):
    """The site controller lost its telemetry broker (Sparkplug host offline); control goes on without it.

    While it lasts, module death certificates (NDEATH) are not seen: a module that dies is
    noticed only by its driver. *broker* is the broker's address without credentials.
    """

    site: str
    broker: str
    reason: str


@dataclass(frozen=True, slots=True)
class TelemetryRestored(Event):
    """The site controller is connected to its telemetry broker again."""

    site: str
    broker: str

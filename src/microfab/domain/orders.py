"""Orders and units: an event-sourced aggregate whose passport records who made what, when."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from microfab.domain.errors import DomainError
from microfab.domain.events import (
    Event,
    OperationCompleted,
    OperationDispatched,
    OperationReleased,
    OperationStarted,
    OrderAllocated,
    OrderDelivered,
    OrderPlaced,
    OrderReallocated,
    OrderShipped,
    UnitCompleted,
)
from microfab.domain.quantities import Duration, Money


class OrderStatus(enum.StrEnum):
    """Where an order is in its life."""

    PLACED = "placed"
    ALLOCATED = "allocated"
    IN_PRODUCTION = "in-production"
    SHIPPED = "shipped"
    DELIVERED = "delivered"


class UnitStatus(enum.StrEnum):
    """Where a unit is in its life."""

    PLANNED = "planned"
    IN_PRODUCTION = "in-production"
    COMPLETED = "completed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"


@dataclass(slots=True)
class PassportEntry:
    """One step of a unit's digital passport: which module did it, when, with what result."""

    operation_id: str
    step: str
    capability: str
    standard: Duration
    module: str | None = None
    dispatched_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    attempts: int = 0
    good: bool | None = None
    family: str = ""


@dataclass(slots=True)
class Unit:
    """One physical unit of an order, identified by its serial number."""

    serial: str
    status: UnitStatus = UnitStatus.PLANNED
    passport: dict[str, PassportEntry] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Whether every released step is done and good."""
        return bool(self.passport) and all(e.good for e in self.passport.values())


@dataclass(slots=True)
class Order:
    """A customer's configured product, quantity, market and due date, with its units.

    State changes only by applying events (`apply`); `Order.replay` rebuilds it from its stream.
    """

    id: str
    customer: str
    product: str
    config: dict[str, str | int | bool]
    quantity: int
    market: str
    placed_at: datetime
    due: datetime
    unit_price: Money
    total: Money
    status: OrderStatus = OrderStatus.PLACED
    site: str | None = None
    lane: str | None = None
    production_cost: Money | None = None
    freight_cost: Money | None = None
    units: dict[str, Unit] = field(default_factory=dict)
    shipped_at: datetime | None = None
    eta: datetime | None = None
    delivered_at: datetime | None = None
    on_time: bool | None = None
    version: int = 0
    product_version: str = ""
    config_hash: str = ""
    tax: Money | None = None
    tax_jurisdiction: str = ""
    locale: str = ""
    b2b: bool = False

    @classmethod
    def replay(cls, events: list[Event]) -> Order:
        """Rebuild an order from its stream (first event must be `OrderPlaced`)."""
        if not events:
            raise DomainError("an order stream needs at least its OrderPlaced event")
        first = events[0]
        if not isinstance(first, OrderPlaced):
            raise DomainError(f"an order stream starts with OrderPlaced, not {type(first).__name__}")
        order = cls(
            id=first.order_id,
            customer=first.customer,
            product=first.product,
            config=dict(first.config),
            quantity=first.quantity,
            market=first.market,
            placed_at=first.at,
            due=first.due,
            unit_price=first.unit_price,
            total=first.total,
            version=1,
            product_version=first.product_version,
            config_hash=first.config_hash,
            tax=first.tax,
            tax_jurisdiction=first.tax_jurisdiction,
            locale=first.locale,
            b2b=first.b2b,
        )
        for event in events[1:]:
            order.apply(event)
        return order

    def apply(self, event: Event) -> None:
        """Change state by one event of this order's stream."""
        self.version += 1
        handler = _APPLY.get(type(event))
        if handler is not None:
            handler(self, event)

    def entry(self, serial: str, operation_id: str) -> PassportEntry:
        """The passport entry of one operation."""
        return self.units[serial].passport[operation_id]

    @property
    def lead_time(self) -> Duration | None:
        """Placement to delivery, once delivered."""
        if self.delivered_at is None:
            return None
        return Duration(int((self.delivered_at - self.placed_at).total_seconds()))


def _allocated(order: Order, e: OrderAllocated) -> None:
    order.status = OrderStatus.ALLOCATED
    order.site, order.lane = e.site, e.lane
    order.production_cost, order.freight_cost = e.production_cost, e.freight_cost
    order.units = {s: Unit(s) for s in e.serials}


def _reallocated(order: Order, e: OrderReallocated) -> None:
    order.site, order.lane = e.to_site, e.lane


def _released(order: Order, e: OperationReleased) -> None:
    entry = PassportEntry(e.operation_id, e.step, e.capability, e.standard, family=e.family)
    order.units[e.serial].passport[e.operation_id] = entry


def _dispatched(order: Order, e: OperationDispatched) -> None:
    for unit in order.units.values():
        if e.operation_id in unit.passport:
            entry = unit.passport[e.operation_id]
            entry.module, entry.dispatched_at = e.module, e.at


def _started(order: Order, e: OperationStarted) -> None:
    order.status = OrderStatus.IN_PRODUCTION
    unit = order.units[e.serial]
    unit.status = UnitStatus.IN_PRODUCTION
    entry = unit.passport[e.operation_id]
    entry.module, entry.started_at = e.module, e.at


def _completed(order: Order, e: OperationCompleted) -> None:
    entry = order.entry(e.serial, e.operation_id)
    entry.completed_at, entry.good, entry.attempts = e.at, e.good, e.attempt


def _unit_completed(order: Order, e: UnitCompleted) -> None:
    order.units[e.serial].status = UnitStatus.COMPLETED


def _shipped(order: Order, e: OrderShipped) -> None:
    order.status, order.shipped_at, order.eta = OrderStatus.SHIPPED, e.at, e.eta
    for unit in order.units.values():
        unit.status = UnitStatus.SHIPPED


def _delivered(order: Order, e: OrderDelivered) -> None:
    order.status, order.delivered_at, order.on_time = OrderStatus.DELIVERED, e.at, e.on_time
    for unit in order.units.values():
        unit.status = UnitStatus.DELIVERED


_APPLY: dict[type[Event], Callable[[Order, Any], None]] = {
    OrderAllocated: _allocated,
    OrderReallocated: _reallocated,
    OperationReleased: _released,
    OperationDispatched: _dispatched,
    OperationStarted: _started,
    OperationCompleted: _completed,
    UnitCompleted: _unit_completed,
    OrderShipped: _shipped,
    OrderDelivered: _delivered,
}

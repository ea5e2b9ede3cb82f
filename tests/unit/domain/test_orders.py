"""The order aggregate rebuilt from its stream: status, units, passport, lead time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from microfab.domain.errors import DomainError
from microfab.domain.events import (
    Event,
    ModuleFaulted,
    OperationCompleted,
    OperationDispatched,
    OperationReleased,
    OperationStarted,
    OrderAllocated,
    OrderDelivered,
    OrderPlaced,
    OrderShipped,
    UnitCompleted,
)
from microfab.domain.orders import Order, OrderStatus, UnitStatus
from microfab.domain.quantities import Duration, Money

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


PLACED = OrderPlaced(
    at=T0, order_id="o-1", customer="acme", product="bracket", config={"finish": "raw"}, quantity=2,
    market="eu", due=at(240), unit_price=eur("38.50"), total=eur("77.00"), fx_rate=Decimal(1),
)  # fmt: skip
ALLOCATED = OrderAllocated(at(1), "o-1", "porto", "porto-eu", eur("20"), eur("5"), ("o-1-001", "o-1-002"))


def released(serial: str, index: int, step: str, predecessors: tuple[str, ...] = ()) -> OperationReleased:
    return OperationReleased(
        at(1), "o-1", f"{serial}#{index:02d}", serial, index, step, step, Duration.parse("15m"), predecessors
    )


def production(serial: str, start: float) -> list[Event]:
    first, second = f"{serial}#00", f"{serial}#01"
    return [
        OperationDispatched(at(start), "o-1", first, "mill-1"),
        OperationStarted(at(start + 0.1), "o-1", first, serial, "mill-1", Duration(0)),
        OperationCompleted(at(start + 0.5), "o-1", first, serial, "mill-1", good=True, ideal=Duration(900), attempt=1),
        OperationDispatched(at(start + 0.5), "o-1", second, "insp-1"),
        OperationStarted(at(start + 0.6), "o-1", second, serial, "insp-1", Duration.parse("5m")),
        OperationCompleted(at(start + 1), "o-1", second, serial, "insp-1", good=True, ideal=Duration(900), attempt=1),
        UnitCompleted(at(start + 1), "o-1", serial),
    ]


def stream() -> list[Event]:
    return [
        PLACED,
        ALLOCATED,
        released("o-1-001", 0, "mill"),
        released("o-1-001", 1, "inspect", ("o-1-001#00",)),
        released("o-1-002", 0, "mill"),
        released("o-1-002", 1, "inspect", ("o-1-002#00",)),
        *production("o-1-001", 2),
        *production("o-1-002", 4),
        OrderShipped(at(6), "o-1", "porto-eu", eta=at(78)),
        OrderDelivered(at(80), "o-1", on_time=True),
    ]


def test_placed_only() -> None:
    order = Order.replay([PLACED])
    assert order.status is OrderStatus.PLACED
    assert (order.id, order.customer, order.quantity, order.total) == ("o-1", "acme", 2, eur("77.00"))
    assert order.placed_at == T0
    assert order.units == {}
    assert order.version == 1
    assert order.lead_time is None


def test_allocated() -> None:
    order = Order.replay(stream()[:2])
    assert order.status is OrderStatus.ALLOCATED
    assert (order.site, order.lane, order.production_cost, order.freight_cost) == (
        "porto", "porto-eu", eur("20"), eur("5"),
    )  # fmt: skip
    assert list(order.units) == ["o-1-001", "o-1-002"]
    assert {u.status for u in order.units.values()} == {UnitStatus.PLANNED}


def test_in_production_after_the_first_start() -> None:
    events = stream()
    order = Order.replay(events[:8])  # ... first dispatch and first start
    assert order.status is OrderStatus.IN_PRODUCTION
    assert order.units["o-1-001"].status is UnitStatus.IN_PRODUCTION
    assert order.units["o-1-002"].status is UnitStatus.PLANNED
    assert not order.units["o-1-001"].complete


def test_full_stream_gives_a_delivered_order_with_its_passport() -> None:
    events = stream()
    order = Order.replay(events)
    assert order.status is OrderStatus.DELIVERED
    assert order.version == len(events)
    assert order.on_time is True
    assert order.shipped_at == at(6)
    assert order.eta == at(78)
    assert order.delivered_at == at(80)
    assert order.lead_time == Duration.parse("80h")
    assert {u.status for u in order.units.values()} == {UnitStatus.DELIVERED}
    assert all(u.complete for u in order.units.values())
    mill = order.entry("o-1-002", "o-1-002#00")
    assert (mill.step, mill.capability, mill.standard, mill.module) == ("mill", "mill", Duration(900), "mill-1")
    assert (mill.dispatched_at, mill.started_at, mill.completed_at) == (at(4), at(4.1), at(4.5))
    assert (mill.good, mill.attempts) == (True, 1)
    inspect = order.entry("o-1-001", "o-1-001#01")
    assert (inspect.module, inspect.started_at, inspect.completed_at) == ("insp-1", at(2.6), at(3))


def test_shipped_then_delivered_statuses() -> None:
    events = stream()
    shipped = Order.replay(events[:-1])
    assert shipped.status is OrderStatus.SHIPPED
    assert {u.status for u in shipped.units.values()} == {UnitStatus.SHIPPED}
    assert shipped.lead_time is None


def test_a_bad_inspection_and_a_retry() -> None:
    events = stream()[:8]
    serial, op = "o-1-001", "o-1-001#00"
    events.append(OperationCompleted(at(2.5), "o-1", op, serial, "mill-1", good=False, ideal=Duration(900), attempt=1))
    order = Order.replay(events)
    assert order.entry(serial, op).good is False
    assert not order.units[serial].complete
    events.append(OperationCompleted(at(3), "o-1", op, serial, "mill-1", good=True, ideal=Duration(900), attempt=2))
    order = Order.replay(events)
    assert (order.entry(serial, op).good, order.entry(serial, op).attempts) == (True, 2)


def test_unrelated_events_only_count_as_versions() -> None:
    order = Order.replay([PLACED, ModuleFaulted(at(1), "mill-1", "jam")])
    assert (order.status, order.version) == (OrderStatus.PLACED, 2)


def test_a_stream_must_start_with_order_placed() -> None:
    with pytest.raises(DomainError, match="starts with OrderPlaced, not OrderAllocated"):
        Order.replay([ALLOCATED, PLACED])


def test_replay_of_an_empty_stream_is_a_domain_error() -> None:
    with pytest.raises(DomainError, match="OrderPlaced"):
        Order.replay([])

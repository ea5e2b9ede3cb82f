"""One order from the manifests to a delivered unit with a complete passport, on the in-process twin."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from microfab.control import operations
from microfab.control.bootstrap import Services, bootstrap
from microfab.domain.commands import PlaceOrder
from microfab.domain.events import OperationCompleted
from microfab.domain.orders import OrderStatus, UnitStatus
from microfab.domain.quantities import Duration
from microfab.manifests import load_resources
from microfab.settings import Settings
from tests.e2e.conftest import EXAMPLE

pytestmark = pytest.mark.e2e

STAND = {"width": 380, "finish": "anodized-black", "engraving": "ACME"}


def test_one_order_is_delivered_with_a_complete_passport(services: Services) -> None:
    placed = operations.place(services, PlaceOrder("acme", "laptop-stand", STAND, 2, "us"))
    order = placed.order
    assert order.status is OrderStatus.ALLOCATED
    assert order.site is not None
    assert placed.quote.chosen.site == order.site == placed.site
    assert order.total.currency == "USD"
    assert order.config == {
        "width": 380,
        "material": "aluminium",
        "finish": "anodized-black",
        "engraving": "ACME",
        "usb_hub": False,
    }
    assert order.product_version == services.state.network.product("laptop-stand").version != ""
    assert len(order.config_hash) == 16

    summary = asyncio.run(operations.run(services, Duration.parse("5d")))
    assert summary.schedules >= 1

    order = services.state.orders[order.id]
    assert order.status is OrderStatus.DELIVERED, order.status
    assert order.delivered_at is not None
    assert order.on_time is not None
    network = services.state.network
    routing = network.product("laptop-stand").routing_for(order.config)
    for unit in order.units.values():
        assert unit.status is UnitStatus.DELIVERED
        assert [e.step for e in unit.passport.values()] == [s.name for s in routing]
        assert [e.family for e in unit.passport.values()] == [s.family for s in routing]
        previous_end = None
        for entry in unit.passport.values():
            assert entry.module is not None
            assert entry.good is True
            module = network.modules[entry.module]
            assert module.site == order.site
            assert entry.capability in network.module_types[module.module_type].capabilities
            assert entry.started_at is not None
            assert entry.completed_at is not None
            assert entry.started_at < entry.completed_at
            if previous_end is not None:
                assert entry.started_at >= previous_end, "routing order violated"
            previous_end = entry.completed_at
        assert order.delivered_at >= previous_end

    types = Counter(r.type for r in services.log.read_stream(f"order-{order.id}"))
    assert (types["OrderPlaced"], types["OrderAllocated"], types["OrderDelivered"]) == (1, 1, 1)
    assert types["UnitCompleted"] == 2
    assert types["OperationReleased"] == 2 * len(routing)


def test_each_schedule_was_validated_and_recorded(services: Services) -> None:
    for market in ("us", "de", "jp"):
        operations.place(services, PlaceOrder("c", "laptop-stand", {}, 3, market))
    asyncio.run(operations.run(services, Duration.parse("3d")))
    schedules = services.log.read_all(types=["ScheduleCreated"])
    assert schedules
    for recorded in schedules:
        ops = recorded.event.operations  # type: ignore[attr-defined]
        assert ops
        assert all(o.end > o.start for o in ops)


def test_restart_from_the_log_neither_loses_nor_repeats_work(tmp_path: Path) -> None:
    settings = Settings(db=f"sqlite:///{tmp_path / 'log.db'}", schedule_time_limit=0.2, seed=5)
    first = bootstrap(settings)
    operations.apply_plan(first, operations.plan_apply(first, load_resources(EXAMPLE)))
    ids = [operations.place(first, PlaceOrder("c", "laptop-stand", {}, 4, m)).order.id for m in ("us", "mx", "de")]
    asyncio.run(operations.run(first, Duration.parse("3h")))  # stop mid-production
    first.close()

    second = bootstrap(settings)  # a new process: everything comes from the log
    in_progress = [o for o in second.state.orders.values() if o.status is not OrderStatus.DELIVERED]
    assert in_progress, "the first run should have stopped with work in progress"
    asyncio.run(operations.run(second, Duration.parse("6d")))
    for order_id in ids:
        assert second.state.orders[order_id].status is OrderStatus.DELIVERED
    good = Counter(
        r.event.operation_id
        for r in second.log.read_all(types=["OperationCompleted"])
        if isinstance(r.event, OperationCompleted) and r.event.good
    )
    assert good
    assert max(good.values()) == 1, "an operation was completed good twice"
    released = second.log.read_all(types=["OperationReleased"])
    assert len(good) == len(released)
    second.close()

"""The slow loop: an order that will be late at a down site moves, before it starts, to a site that delivers in time."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from microfab.control import operations
from microfab.control.bootstrap import Services, bootstrap, sim_controller
from microfab.control.state import order_stream
from microfab.domain.commands import PlaceOrder
from microfab.domain.events import ModuleFaulted, OrderReallocated
from microfab.domain.orders import OrderStatus
from microfab.manifests import load_resources
from microfab.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "network"


@pytest.fixture(name="services")
def fixture_services(tmp_path: Path) -> Iterator[Services]:
    # A laser cutter takes five days to repair here: a fault makes Ohio miss a four-day promise.
    network = tmp_path / "network"
    shutil.copytree(EXAMPLE, network)
    types = network / "module-types.yaml"
    text = types.read_text(encoding="utf-8")
    start = text.index("name: laser-cutter")
    types.write_text(text[:start] + text[start:].replace("mttr: 1h30m", "mttr: 5d", 1), encoding="utf-8")
    services = bootstrap(Settings(db="memory://", schedule_time_limit=0.2, seed=3))
    operations.apply_plan(services, operations.plan_apply(services, load_resources(network)))
    yield services
    services.close()


def test_an_order_late_at_a_down_site_moves_and_is_delivered_in_time(services: Services) -> None:
    controller = sim_controller(services, breakdowns=False)
    asyncio.run(controller.start())
    at = controller.driver.now()
    for cutter in ("ohio-laser-cutter-1", "ohio-laser-cutter-2"):  # Ohio cannot cut for five days
        asyncio.run(controller.handle(ModuleFaulted(at, cutter, "test: a five-day repair")))
    due = at + timedelta(days=4)
    placed = asyncio.run(controller.place(PlaceOrder("acme", "laptop-stand", {}, 1, "us", due=due), at))
    assert placed.quote.chosen.site == "ohio"  # the quote does not know the cutters are down ...
    order = services.state.orders[placed.order.id]
    assert order.site == "monterrey"  # ... the slow loop does
    moved = [r.event for r in services.log.read_stream(order_stream(order.id)) if isinstance(r.event, OrderReallocated)]
    assert len(moved) == 1
    assert (moved[0].from_site, moved[0].to_site, moved[0].lane) == ("ohio", "monterrey", "monterrey-us")
    assert "after the due date" in moved[0].reason
    assert all(t.site == "monterrey" for t in controller.tracks.values() if t.op.order_id == order.id)
    asyncio.run(controller.run(at + timedelta(days=6)))
    order = services.state.orders[order.id]
    assert order.status is OrderStatus.DELIVERED
    assert order.on_time
    modules = {e.module for unit in order.units.values() for e in unit.passport.values()}
    assert modules
    assert all(m is not None and m.startswith("monterrey-") for m in modules)


def test_an_order_on_time_stays_where_it_is(services: Services) -> None:
    placed = operations.place(services, PlaceOrder("acme", "laptop-stand", {}, 1, "us"))
    controller = sim_controller(services, breakdowns=False)
    asyncio.run(controller.start())
    asyncio.run(controller.handle(ModuleFaulted(controller.driver.now(), "ohio-laser-cutter-1", "test")))
    assert services.state.orders[placed.order.id].site == "ohio"

"""`CompositeDriver`: some modules on a module server, the rest in the twin, one clock, one ordered stream of events."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from microfab.control import operations
from microfab.control.bootstrap import bootstrap
from microfab.domain.commands import PlaceOrder
from microfab.domain.events import OperationCompleted, OperationDispatched, OperationStarted
from microfab.domain.orders import OrderStatus
from microfab.domain.quantities import Duration
from microfab.drivers.base import DriverEvent, ShipmentArrived
from microfab.drivers.composite import CompositeDriver
from microfab.drivers.packml_server import ModuleServer
from microfab.manifests import load_network, load_resources
from microfab.settings import Settings
from microfab.twin.model import UnknownModuleError
from tests.e2e.conftest import EXAMPLE
from tests.integration.conftest import mill_type
from tests.integration.test_opcua import network, request

SCALE = 0.0005  # wall seconds per network second
MTYPE = mill_type(setup="10m")


def scaled_clock(scale: float) -> Callable[[], datetime]:
    origin, started = datetime(2026, 11, 30, tzinfo=UTC), time.monotonic()
    return lambda: origin + timedelta(seconds=(time.monotonic() - started) / scale)


def test_both_sides_run_on_one_clock_and_report_in_time_order() -> None:
    async def body() -> tuple[list[DriverEvent], datetime]:
        async with ModuleServer([("mill-1", MTYPE)], port=0, time_scale=SCALE, variability=0.0) as server:
            clock = scaled_clock(SCALE)
            endpoints = {"mill-1": server.endpoint, "mill-2": None}
            driver = CompositeDriver(network(endpoints, MTYPE), clock=clock, time_scale=SCALE, breakdowns=False)
            assert await driver.connect(timeout=10)
            sent = driver.now()
            for i in range(3):
                await driver.dispatch(request(f"real-{i}", "mill-1", ideal=600))
                await driver.dispatch(request(f"twin-{i}", "mill-2", ideal=600))
            await driver.ship("order-1", "ohio-us", Duration(1800))
            with pytest.raises(UnknownModuleError):
                await driver.dispatch(request("nowhere", "mill-7"))
            events: list[DriverEvent] = []
            deadline = time.monotonic() + 20
            while sum(isinstance(e, OperationCompleted) for e in events) < 6 or not any(
                isinstance(e, ShipmentArrived) for e in events
            ):
                assert time.monotonic() < deadline, events
                event = await driver.next_event(driver.now() + timedelta(minutes=10))
                if event is not None:
                    events.append(event)
            await driver.close()
            with pytest.raises(RuntimeError, match="closed"):
                await driver.next_event(sent)
            return events, sent

    events, sent = asyncio.run(asyncio.wait_for(body(), 40))
    times = [e.at for e in events]
    assert times == sorted(times)  # one stream, in time order
    done = {e.operation_id: e for e in events if isinstance(e, OperationCompleted)}
    assert {op: e.module for op, e in done.items()} == {
        **{f"real-{i}": "mill-1" for i in range(3)},
        **{f"twin-{i}": "mill-2" for i in range(3)},
    }
    started = [e for e in events if isinstance(e, OperationStarted)]
    assert all(e.at >= sent for e in started)
    # Three 10-minute jobs after a 10-minute setup take 40 minutes of network time on either side.
    for module in ("mill-1", "mill-2"):
        last = max(e.at for e in done.values() if e.module == module)
        assert timedelta(minutes=39) <= last - sent <= timedelta(minutes=60), (module, last - sent)
    arrived = next(e for e in events if isinstance(e, ShipmentArrived))
    assert timedelta(minutes=30) <= arrived.at - sent <= timedelta(minutes=40)


def test_time_scale_must_be_positive() -> None:
    with pytest.raises(ValueError, match="time_scale"):
        CompositeDriver(network({"mill-1": None}, MTYPE), time_scale=0)


def _one_module_on(folder: Path, module: str, endpoint: str) -> None:
    path = next(p for p in (folder / "modules").glob("*.yaml") if f"name: {module}\n" in p.read_text())
    text = re.sub(
        rf"(name: {re.escape(module)}\nspec:\n)", rf"\g<1>  endpoint: {endpoint}\n", path.read_text(), count=1
    )
    path.write_text(text)


@pytest.mark.e2e
@pytest.mark.slow
def test_the_example_network_runs_with_one_real_module_and_the_rest_simulated(tmp_path: Path) -> None:
    scale = 0.0001  # a network day takes 8.6 s
    folder = Path(shutil.copytree(EXAMPLE, tmp_path / "network"))
    network_ = load_network(folder)
    brake = network_.modules["bavaria-press-brake"]

    async def scenario() -> None:
        async with ModuleServer(
            [(brake.name, network_.module_types[brake.module_type])], port=0, time_scale=scale, seed=1
        ) as server:
            _one_module_on(folder, brake.name, server.endpoint)
            services = bootstrap(Settings(db=f"sqlite:///{tmp_path / 'log.db'}", schedule_time_limit=0.05, seed=5))
            operations.apply_plan(services, operations.plan_apply(services, load_resources(folder)))
            assert [m.name for m in services.state.network.modules.values() if m.endpoint] == [brake.name]
            for customer in ("c1", "c2", "c3"):
                operations.place(services, PlaceOrder(customer, "laptop-stand", {}, 2, "de"))
            await operations.run(services, Duration.parse("30h"), driver="mixed", time_scale=scale)
            services.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))
    services = bootstrap(Settings(db=f"sqlite:///{tmp_path / 'log.db'}"))
    orders = list(services.state.orders.values())
    assert len(orders) == 3
    assert all(o.status is OrderStatus.DELIVERED for o in orders), [o.status for o in orders]
    events = [r.event for r in services.log.read_all(stream_prefix="order-")]
    good = Counter(e.operation_id for e in events if isinstance(e, OperationCompleted) and e.good)
    every = {entry.operation_id for o in orders for u in o.units.values() for entry in u.passport.values()}
    assert set(good) == every  # nothing lost
    assert set(good.values()) == {1}  # nothing done twice
    bends = [e for e in events if isinstance(e, OperationStarted) and e.module == brake.name]
    assert len(bends) == 6  # every unit bent on the real module
    dispatched: dict[str, datetime] = {}
    for e in events:  # every start comes after the dispatch it answers, on the one clock
        if isinstance(e, OperationDispatched):
            dispatched[e.operation_id] = e.at
        elif isinstance(e, OperationStarted):
            assert e.at >= dispatched[e.operation_id], e
    services.close()

"""One body over every `ModuleDriver`: the twin's `SimDriver`, `OpcUaDriver` on a real server, and
`CompositeDriver` with the module on a server or in the twin (paced by the network clock)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest

from microfab.domain.events import OperationCompleted, OperationStarted
from microfab.domain.quantities import Duration
from microfab.drivers.base import DriverEvent, ModuleDriver, ShipmentArrived
from microfab.drivers.composite import CompositeDriver
from microfab.drivers.opcua import OpcUaDriver
from microfab.drivers.packml_server import ModuleServer
from microfab.drivers.sim import SimDriver
from tests.integration.conftest import mill_type
from tests.integration.test_opcua import network, request

MTYPE = mill_type(setup="10m")
Factory = Callable[[], AbstractAsyncContextManager[tuple[ModuleDriver, timedelta]]]


@asynccontextmanager
async def sim() -> AsyncIterator[tuple[ModuleDriver, timedelta]]:
    driver = SimDriver(network({"mill-1": None}, MTYPE), datetime(2026, 11, 30, tzinfo=UTC), breakdowns=False)
    yield driver, timedelta(days=1)
    await driver.close()


@asynccontextmanager
async def opcua() -> AsyncIterator[tuple[ModuleDriver, timedelta]]:
    scale = 0.0005  # wall seconds per network second, on the server and in the driver's clock
    origin, started = datetime(2026, 11, 30, tzinfo=UTC), time.monotonic()

    def clock() -> datetime:
        return origin + timedelta(seconds=(time.monotonic() - started) / scale)

    async with ModuleServer([("mill-1", MTYPE)], port=0, time_scale=scale) as server:
        driver = OpcUaDriver(network({"mill-1": server.endpoint}, MTYPE), clock=clock, time_scale=scale)
        assert await driver.connect(timeout=10)
        yield driver, timedelta(seconds=400)  # 0.2 s of wall time
        await driver.close()


def _scaled_clock(scale: float) -> Callable[[], datetime]:
    origin, started = datetime(2026, 11, 30, tzinfo=UTC), time.monotonic()
    return lambda: origin + timedelta(seconds=(time.monotonic() - started) / scale)


@asynccontextmanager
async def composite_opcua() -> AsyncIterator[tuple[ModuleDriver, timedelta]]:
    scale = 0.0005  # mill-1 on a module server, mill-2 in the twin (idle)
    async with ModuleServer([("mill-1", MTYPE)], port=0, time_scale=scale) as server:
        endpoints = {"mill-1": server.endpoint, "mill-2": None}
        driver = CompositeDriver(
            network(endpoints, MTYPE), clock=_scaled_clock(scale), time_scale=scale, breakdowns=False
        )
        assert driver.real_modules == ("mill-1",)
        assert driver.simulated_modules == ("mill-2",)
        assert await driver.connect(timeout=10)
        yield driver, timedelta(seconds=400)
        await driver.close()


@asynccontextmanager
async def composite_sim() -> AsyncIterator[tuple[ModuleDriver, timedelta]]:
    scale = 0.0005  # mill-1 in the twin, paced by the scaled clock
    driver = CompositeDriver(
        network({"mill-1": None}, MTYPE), clock=_scaled_clock(scale), time_scale=scale, breakdowns=False
    )
    assert driver.simulated_modules == ("mill-1",)
    yield driver, timedelta(seconds=400)
    await driver.close()


@pytest.mark.parametrize(
    "factory",
    [sim, opcua, composite_opcua, composite_sim],
    ids=["sim", "opcua", "composite-opcua", "composite-sim"],
)
def test_dispatch_and_ship_contract(factory: Factory) -> None:
    async def body() -> list[DriverEvent]:
        async with factory() as (driver, step):
            await driver.dispatch(request("op-1", "mill-1"))
            await driver.dispatch(request("op-2", "mill-1", attempt=2))
            await driver.ship("order-1", "ohio-us", Duration(3600))
            events: list[DriverEvent] = []
            for _ in range(500):
                event = await driver.next_event(driver.now() + step)
                if event is not None:
                    events.append(event)
                done = sum(isinstance(e, OperationCompleted) for e in events)
                if done == 2 and any(isinstance(e, ShipmentArrived) for e in events):
                    break
            assert driver.now().tzinfo is not None
            return events

    events = asyncio.run(asyncio.wait_for(body(), 40))
    kinds = [(type(e).__name__, getattr(e, "operation_id", None)) for e in events if not isinstance(e, ShipmentArrived)]
    assert kinds == [
        ("OperationStarted", "op-1"),
        ("OperationCompleted", "op-1"),
        ("OperationStarted", "op-2"),
        ("OperationCompleted", "op-2"),
    ]
    started = [e for e in events if isinstance(e, OperationStarted)]
    assert [s.setup for s in started] == [Duration(600), Duration(0)]
    done = [e for e in events if isinstance(e, OperationCompleted)]
    assert [(d.attempt, d.serial, d.module) for d in done] == [(1, "SN-op-1", "mill-1"), (2, "SN-op-2", "mill-1")]
    arrived = [e for e in events if isinstance(e, ShipmentArrived)]
    assert [(a.order_id, a.lane) for a in arrived] == [("order-1", "ohio-us")]

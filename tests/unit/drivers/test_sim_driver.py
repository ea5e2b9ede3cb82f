from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

import microfab.drivers
from microfab.domain.events import ModuleFaulted, ModuleRepaired, OperationCompleted, OperationStarted
from microfab.domain.modules import Module, ModuleType
from microfab.domain.network import Network, Site
from microfab.domain.quantities import Duration, Money
from microfab.drivers import DispatchRequest, DriverEvent, ModuleDriver, ShipmentArrived, SimDriver
from microfab.twin import ModuleNotIdleError

ORIGIN = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def kind(name: str, *, setup: str = "10m", mtbf: str = "8h", mttr: str = "30m") -> ModuleType:
    return ModuleType(
        name=name,
        capabilities=frozenset({name}),
        speed=Decimal(1),
        setup_time=Duration.parse(setup),
        mtbf=Duration.parse(mtbf),
        mttr=Duration.parse(mttr),
        yield_rate=Decimal(1),
        cost_per_hour=Money(Decimal(35), "EUR"),
        deploy_lead_time=Duration.parse("14d"),
    )


def network() -> Network:
    site = Site("lyon", "FR", "ARA", "Europe/Paris", "EUR", container_slots=4)
    types = {"mill": kind("mill"), "inspect": kind("inspect", setup="0s")}
    modules = {
        "lyon-mill-1": Module("lyon-mill-1", "mill", "lyon"),
        "lyon-inspect-1": Module("lyon-inspect-1", "inspect", "lyon"),
    }
    return Network("demo", "EUR", sites={"lyon": site}, module_types=types, modules=modules)


def request(op: str, module: str, ideal: int, **kw: object) -> DispatchRequest:
    return DispatchRequest(op, "ord-1", "SN-1", module, "bracket", Duration(ideal), **kw)  # type: ignore[arg-type]


async def drain(driver: ModuleDriver, until: datetime) -> list[DriverEvent]:
    events = []
    while (event := await driver.next_event(until)) is not None:
        events.append(event)
    return events


def test_public_api_is_pinned() -> None:
    assert sorted(microfab.drivers.__all__) == [
        "DispatchRequest",
        "DriverEvent",
        "ModuleDriver",
        "ShipmentArrived",
        "SimDriver",
    ]


def test_dispatch_two_operations_and_read_their_events_in_order() -> None:
    async def scenario() -> list[DriverEvent]:
        driver: ModuleDriver = SimDriver(network(), ORIGIN, seed=1, breakdowns=False, variability=0.0)
        await driver.dispatch(request("op-1", "lyon-mill-1", 1_200))
        await driver.dispatch(request("op-2", "lyon-inspect-1", 300))
        events = await drain(driver, ORIGIN + timedelta(hours=2))
        assert driver.now() == ORIGIN + timedelta(hours=2)
        await driver.close()
        return events

    events = asyncio.run(scenario())
    assert events == [
        OperationStarted(ORIGIN, "ord-1", "op-2", "SN-1", "lyon-inspect-1", setup=Duration(0)),
        OperationCompleted(
            ORIGIN + timedelta(seconds=300), "ord-1", "op-2", "SN-1", "lyon-inspect-1", True, Duration(300), 1
        ),
        OperationStarted(ORIGIN + timedelta(minutes=10), "ord-1", "op-1", "SN-1", "lyon-mill-1", Duration(600)),
        OperationCompleted(
            ORIGIN + timedelta(minutes=30), "ord-1", "op-1", "SN-1", "lyon-mill-1", True, Duration(1_200), 1
        ),
    ]


def test_events_with_breakdowns_and_variability_are_aware_and_ordered() -> None:
    async def scenario() -> list[DriverEvent]:
        driver = SimDriver(network(), ORIGIN, seed=3)
        for i in range(40):
            await driver.dispatch(request(f"op-{i}", "lyon-mill-1", 900, attempt=1 + i % 2))
        await driver.ship("ord-1", "lyon-paris", Duration.parse("2d"))
        events = await drain(driver, ORIGIN + timedelta(days=3))
        assert driver.model.module_stats("lyon-mill-1").completed == 40
        return events

    events = asyncio.run(scenario())
    times = [e.at for e in events]
    assert all(t.tzinfo is not None for t in times)
    assert times == sorted(times)
    kinds = {type(e) for e in events}
    assert kinds == {OperationStarted, OperationCompleted, ModuleFaulted, ModuleRepaired, ShipmentArrived}
    assert {e.reason for e in events if isinstance(e, ModuleFaulted)} == {"breakdown (simulated)"}
    assert ShipmentArrived(ORIGIN + timedelta(days=2), "ord-1", "lyon-paris") in events
    completed = [e for e in events if isinstance(e, OperationCompleted)]
    assert [e.attempt for e in completed[:4]] == [1, 2, 1, 2]
    assert all(e.ideal == Duration(900) for e in completed)


def test_rework_goes_to_the_front_of_the_queue() -> None:
    async def scenario() -> list[str]:
        driver = SimDriver(network(), ORIGIN, breakdowns=False, variability=0.0)
        for op in ("a", "b"):
            await driver.dispatch(request(op, "lyon-inspect-1", 60))
        first = await driver.next_event(ORIGIN + timedelta(hours=1))
        assert isinstance(first, OperationStarted)
        await driver.dispatch(request("r", "lyon-inspect-1", 60, attempt=2, rework=True))
        events = await drain(driver, ORIGIN + timedelta(hours=1))
        return [e.operation_id for e in events if isinstance(e, OperationCompleted)]

    assert asyncio.run(scenario()) == ["a", "r", "b"]


def test_next_event_before_now_returns_none_and_keeps_the_clock() -> None:
    async def scenario() -> None:
        driver = SimDriver(network(), ORIGIN, breakdowns=False)
        assert driver.now() == ORIGIN
        assert await driver.next_event(ORIGIN + timedelta(minutes=5)) is None
        assert await driver.next_event(ORIGIN) is None
        assert driver.now() == ORIGIN + timedelta(minutes=5)

    asyncio.run(scenario())


def test_deploy_and_retire_modules_after_start() -> None:
    async def scenario() -> None:
        driver = SimDriver(network(), ORIGIN, breakdowns=False, variability=0.0)
        assert await driver.next_event(ORIGIN + timedelta(hours=1)) is None
        driver.deploy(Module("lyon-mill-2", "mill", "lyon"), kind("mill"))
        assert driver.model.modules == ("lyon-inspect-1", "lyon-mill-1", "lyon-mill-2")
        await driver.dispatch(request("op-1", "lyon-mill-2", 60))
        started = await driver.next_event(ORIGIN + timedelta(hours=2))
        assert isinstance(started, OperationStarted)
        assert started.at == ORIGIN + timedelta(hours=1, minutes=10)
        with pytest.raises(ModuleNotIdleError):
            driver.retire("lyon-mill-2")
        await drain(driver, ORIGIN + timedelta(hours=2))
        driver.retire("lyon-mill-2")
        with pytest.raises(KeyError, match="lyon-mill-2"):
            await driver.dispatch(request("op-2", "lyon-mill-2", 60))
        with pytest.raises(ValueError, match="module_type"):
            driver.deploy(Module("lyon-x", "mill", "lyon"), kind("inspect"))

    asyncio.run(scenario())


def test_a_closed_driver_refuses_work() -> None:
    async def scenario() -> None:
        driver = SimDriver(network(), ORIGIN)
        await driver.close()
        with pytest.raises(RuntimeError, match="closed"):
            await driver.dispatch(request("op-1", "lyon-mill-1", 60))
        with pytest.raises(RuntimeError, match="closed"):
            await driver.next_event(ORIGIN)

    asyncio.run(scenario())


def test_same_seed_same_events() -> None:
    async def scenario(seed: int) -> list[DriverEvent]:
        driver = SimDriver(network(), ORIGIN, seed=seed)
        for i in range(20):
            await driver.dispatch(request(f"op-{i}", "lyon-mill-1", 1_800))
        return await drain(driver, ORIGIN + timedelta(days=1))

    assert asyncio.run(scenario(5)) == asyncio.run(scenario(5))
    assert asyncio.run(scenario(5)) != asyncio.run(scenario(6))

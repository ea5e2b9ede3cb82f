"""The OPC UA driver against real module servers on free ports: dispatch, subscription, faults, reconnects."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from asyncua import Client, ua

from microfab.domain.errors import UnknownReferenceError
from microfab.domain.events import ModuleFaulted, ModuleRepaired, OperationCompleted, OperationStarted
from microfab.domain.modules import Module, ModuleType
from microfab.domain.network import Network
from microfab.domain.quantities import Duration
from microfab.drivers.base import DispatchRequest, DriverEvent
from microfab.drivers.opcua import CONNECTION_LOST, LinkOptions, OpcUaDriver
from microfab.drivers.opcua_model import NAMESPACE_URI
from microfab.drivers.packml_server import ModuleServer
from tests.integration.conftest import free_port, mill_type, wait_port

SCALE = 0.0005  # a simulated minute takes 30 ms


def network(endpoints: dict[str, str | None], module_type: ModuleType) -> Network:
    modules = {name: Module(name, module_type.name, "ohio", endpoint=url) for name, url in endpoints.items()}
    return Network("acme", "USD", module_types={module_type.name: module_type}, modules=modules)


def request(op: str, module: str, *, family: str = "stands", ideal: int = 60, **kw: Any) -> DispatchRequest:
    return DispatchRequest(op, "order-1", f"SN-{op}", module, family, Duration(ideal), **kw)


async def collect(
    driver: OpcUaDriver, predicate: Callable[[list[DriverEvent]], bool], timeout: float = 15.0
) -> list[DriverEvent]:
    events: list[DriverEvent] = []
    deadline = time.monotonic() + timeout
    while not predicate(events):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; events so far: {events}")
        event = await driver.next_event(driver.now() + timedelta(seconds=0.2))
        if event is not None:
            events.append(event)
    return events


def completed(n: int) -> Callable[[list[DriverEvent]], bool]:
    return lambda events: sum(isinstance(e, OperationCompleted) for e in events) >= n


def run(body: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(asyncio.wait_for(body(), 45))


def test_dispatch_runs_to_completion_with_the_right_ids() -> None:
    mtype = mill_type(setup="10m")

    async def body() -> list[DriverEvent]:
        async with ModuleServer([("mill-1", mtype), ("mill-2", mtype)], port=0, time_scale=SCALE) as server:
            driver = OpcUaDriver(network({"mill-1": server.endpoint, "mill-2": server.endpoint}, mtype))
            assert await driver.connect(timeout=10)
            await driver.dispatch(request("op-1", "mill-1"))
            await driver.dispatch(request("op-2", "mill-1", family="brackets", attempt=2))
            await driver.dispatch(request("op-3", "mill-2"))
            events = await collect(driver, completed(3))
            await driver.close()
            return events

    events = run(body)
    started = {e.operation_id: e for e in events if isinstance(e, OperationStarted)}
    done = {e.operation_id: e for e in events if isinstance(e, OperationCompleted)}
    assert set(done) == {"op-1", "op-2", "op-3"}
    assert done["op-2"].module == "mill-1"
    assert done["op-2"].serial == "SN-op-2"
    assert done["op-2"].order_id == "order-1"
    assert done["op-2"].attempt == 2
    assert done["op-3"].module == "mill-2"
    assert all(e.good for e in done.values())  # yield 1
    assert done["op-1"].ideal == Duration(60)
    assert started["op-1"].setup == Duration(600)  # first family on the module: setup
    assert started["op-2"].setup == Duration(600)  # family change
    assert started["op-3"].setup == Duration(600)
    order = [e.operation_id for e in events if isinstance(e, OperationCompleted) and e.module == "mill-1"]
    assert order == ["op-1", "op-2"]
    for event in events:
        assert event.at.tzinfo is not None  # type: ignore[union-attr]


def test_state_changes_arrive_by_subscription_fault_holds_and_repair_resumes() -> None:
    mtype = mill_type(setup="0s")

    async def body() -> list[DriverEvent]:
        async with ModuleServer([("mill-1", mtype)], port=0, time_scale=SCALE) as server:
            driver = OpcUaDriver(network({"mill-1": server.endpoint}, mtype))
            assert await driver.connect(timeout=10)
            await driver.dispatch(request("op-1", "mill-1", ideal=600))  # 0.3 s of wall time
            events = await collect(driver, lambda ev: any(isinstance(e, OperationStarted) for e in ev))
            await server.units["mill-1"].fault("spindle overload")
            events += await collect(driver, lambda ev: any(isinstance(e, ModuleFaulted) for e in ev))
            assert server.units["mill-1"].state.value == "Held"
            await server.units["mill-1"].repair()
            events += await collect(driver, completed(1))
            await driver.close()
            return events

    events = run(body)
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["OperationStarted", "ModuleFaulted", "ModuleRepaired", "OperationCompleted"]
    fault = events[1]
    assert isinstance(fault, ModuleFaulted)
    assert fault.reason == "spindle overload"
    assert fault.module == "mill-1"


def test_abort_faults_the_module_and_the_job_runs_again_after_repair() -> None:
    mtype = mill_type(setup="20m")

    async def body() -> list[DriverEvent]:
        async with ModuleServer([("mill-1", mtype)], port=0, time_scale=SCALE) as server:
            driver = OpcUaDriver(network({"mill-1": server.endpoint}, mtype))
            assert await driver.connect(timeout=10)
            await driver.dispatch(request("op-1", "mill-1"))
            await asyncio.sleep(0.1)  # inside the 0.6 s setup (Starting): a fault aborts
            await server.units["mill-1"].fault("coolant leak")
            events = await collect(driver, lambda ev: any(isinstance(e, ModuleFaulted) for e in ev))
            await server.units["mill-1"].repair()  # Clear, Reset: back to Idle
            events += await collect(driver, completed(1))
            await driver.close()
            return events

    events = run(body)
    kinds = [type(e).__name__ for e in events]
    assert kinds[:2] == ["ModuleFaulted", "ModuleRepaired"] or kinds[:3] == [
        "OperationStarted",
        "ModuleFaulted",
        "ModuleRepaired",
    ]
    assert isinstance(events[-1], OperationCompleted)
    assert events[-1].operation_id == "op-1"


def test_rework_goes_first_and_unknown_module_is_refused() -> None:
    mtype = mill_type(setup="0s")

    async def body() -> list[DriverEvent]:
        async with ModuleServer([("mill-1", mtype)], port=0, time_scale=SCALE) as server:
            driver = OpcUaDriver(network({"mill-1": server.endpoint, "twin-only": None}, mtype))
            assert driver.modules == ("mill-1",)
            assert await driver.connect(timeout=10)
            with pytest.raises(UnknownReferenceError):
                await driver.dispatch(request("x", "twin-only"))
            await driver.dispatch(request("op-1", "mill-1", ideal=200))
            await driver.dispatch(request("op-2", "mill-1"))
            await driver.dispatch(request("op-1b", "mill-1", rework=True))
            events = await collect(driver, completed(3))
            await driver.close()
            with pytest.raises(RuntimeError):
                await driver.dispatch(request("op-9", "mill-1"))
            return events

    events = run(body)
    assert [e.operation_id for e in events if isinstance(e, OperationCompleted)] == ["op-1", "op-1b", "op-2"]


def test_method_calls_follow_packml() -> None:
    mtype = mill_type()

    async def body() -> None:
        async with ModuleServer([("mill-1", mtype)], port=0, time_scale=SCALE) as server:
            client = Client(server.endpoint)
            await client.connect()
            try:
                ns = await client.get_namespace_index(NAMESPACE_URI)
                obj = client.get_node(ua.NodeId("mill-1", ns))
                assert await client.get_node(ua.NodeId("mill-1.StateCurrent", ns)).read_value() == 4  # Idle
                with pytest.raises(ua.UaStatusCodeError, match="BadInvalidState"):
                    await obj.call_method(ua.NodeId("mill-1.Start", ns))  # no job loaded
                with pytest.raises(ua.UaStatusCodeError, match="BadInvalidArgument"):
                    await obj.call_method(ua.NodeId("mill-1.LoadJob", ns), "op", "o", "s", "f", -1.0, 1)
                with pytest.raises(ua.UaStatusCodeError, match="BadInvalidState"):
                    await obj.call_method(ua.NodeId("mill-1.Unhold", ns))
                await obj.call_method(ua.NodeId("mill-1.Abort", ns))
                assert await client.get_node(ua.NodeId("mill-1.State", ns)).read_value() == "Aborted"
                await obj.call_method(ua.NodeId("mill-1.Clear", ns))
                await obj.call_method(ua.NodeId("mill-1.Reset", ns))
                assert await client.get_node(ua.NodeId("mill-1.State", ns)).read_value() == "Idle"
            finally:
                await client.disconnect()

    run(body)


def test_killed_server_is_unqualified_downtime_then_repaired_and_work_resumes() -> None:
    """A module server process killed with SIGKILL, then a server on the same port again."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable,
        "-c",
        "from microfab.cli.module_server import app; app()",
        "--type",
        "cnc-mill",
        "--port",
        str(port),
        "--name",
        "mill-1",
        "--time-scale",
        "0.001",
        "--variability",
        "0",
    ]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    mtype = mill_type()

    def spawn() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(port, timeout=30)
        return process

    async def body(first: subprocess.Popen[bytes]) -> list[DriverEvent]:
        options = LinkOptions(backoff_max=0.5)
        driver = OpcUaDriver(network({"mill-1": f"opc.tcp://127.0.0.1:{port}"}, mtype), options=options)
        assert await driver.connect(timeout=15)
        await driver.dispatch(request("op-1", "mill-1", ideal=1200))  # 20 min setup + 20 min: 2.4 s wall
        events = await collect(driver, lambda ev: any(isinstance(e, OperationStarted) for e in ev))
        first.send_signal(signal.SIGKILL)
        first.wait(5)
        killed = time.monotonic()
        events += await collect(driver, lambda ev: any(isinstance(e, ModuleFaulted) for e in ev))
        detection = time.monotonic() - killed
        # The module comes back (a new process in production; in process here, same port, fresh state).
        async with ModuleServer([("mill-1", mtype)], port=port, time_scale=0.001, variability=0.0):
            events += await collect(driver, lambda ev: any(isinstance(e, ModuleRepaired) for e in ev), timeout=30)
            await driver.dispatch(request("op-2", "mill-1", ideal=60))
            events += await collect(driver, completed(2), timeout=30)
            await driver.close()
        assert detection < 10, detection  # typically well under a second: the socket closes
        return events

    first = spawn()
    try:
        events = asyncio.run(asyncio.wait_for(body(first), 55))
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(5)
    fault = next(e for e in events if isinstance(e, ModuleFaulted))
    assert fault.reason == CONNECTION_LOST
    kinds = [type(e).__name__ for e in events]
    assert kinds.index("ModuleFaulted") < kinds.index("ModuleRepaired")
    # The job the dead server lost runs again first (front of the queue), then the next one.
    assert [e.operation_id for e in events if isinstance(e, OperationCompleted)] == ["op-1", "op-2"]

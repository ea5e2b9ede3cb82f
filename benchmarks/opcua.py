"""OPC UA dispatch throughput on loopback: `OpcUaDriver` against one module server hosting N modules.

The server runs in its own process, as a container module would. A dispatch is counted
when its `OperationCompleted` came back: ``LoadJob`` + ``Start`` method calls, the PackML
cycle Starting -> Execute -> Completing -> Complete seen by subscription, then ``Reset``.
The units run with ``time_scale=0`` and no variability, so the figure is the protocol and
driver overhead (a real module's processing time adds on top). Target from issue 8: at
least 200 dispatches/s. Peer: the same dispatches through `SimDriver` (the twin), the
ceiling without sockets.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from multiprocessing.connection import Connection

from rich.console import Console
from rich.table import Table

from microfab.domain.events import OperationCompleted
from microfab.domain.modules import Module, ModuleType
from microfab.domain.network import Network
from microfab.domain.quantities import Duration, Money
from microfab.drivers.base import DispatchRequest
from microfab.drivers.opcua import OpcUaDriver
from microfab.drivers.packml_server import ModuleServer
from microfab.drivers.sim import SimDriver

TARGET = 200.0

MILL = ModuleType(
    name="cnc-mill",
    capabilities=frozenset({"mill"}),
    speed=Decimal(1),
    setup_time=Duration.parse("20m"),
    mtbf=Duration.parse("250h"),
    mttr=Duration.parse("2h"),
    yield_rate=Decimal("0.99"),
    cost_per_hour=Money.parse("95 USD"),
    deploy_lead_time=Duration.parse("45d"),
)


def _network(names: list[str], endpoint: str | None) -> Network:
    modules = {name: Module(name, MILL.name, "bench", endpoint=endpoint) for name in names}
    return Network("bench", "USD", module_types={MILL.name: MILL}, modules=modules)


def _requests(names: list[str], n: int) -> list[DispatchRequest]:
    return [
        DispatchRequest(f"op-{i}", f"order-{i // 10}", f"SN-{i}", names[i % len(names)], "stands", Duration(60))
        for i in range(n)
    ]


def _serve(names: list[str], connection: Connection) -> None:
    """The module server process: report the port, serve until terminated."""
    logging.getLogger("asyncua").setLevel(logging.ERROR)

    async def serve() -> None:
        async with ModuleServer([(n, MILL) for n in names], port=0, time_scale=0.0, variability=0.0) as server:
            connection.send(server.endpoint)
            while True:  # answer "cpu" with this process's CPU seconds so far
                await asyncio.get_running_loop().run_in_executor(None, connection.recv)
                connection.send(time.process_time())

    asyncio.run(serve())


async def _opcua(modules: int, dispatches: int) -> tuple[float, float, float]:
    """Wall seconds for *dispatches* round trips, and the CPU ms per dispatch of the client and of the server."""
    names = [f"mill-{i + 1}" for i in range(modules)]
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve, args=(names, child), daemon=True)
    process.start()
    try:
        if not parent.poll(60):
            raise RuntimeError("module server did not start")
        endpoint = parent.recv()
        driver = OpcUaDriver(_network(names, endpoint))
        if not await driver.connect(timeout=30):
            raise RuntimeError("module server did not answer")
        parent.send("cpu")
        server_cpu = parent.recv()
        client_cpu = time.process_time()
        start = time.perf_counter()
        for request in _requests(names, dispatches):
            await driver.dispatch(request)
        done = 0
        while done < dispatches:
            event = await driver.next_event(driver.now() + timedelta(seconds=10))
            if event is None:
                raise RuntimeError(f"stalled after {done} completions")
            done += isinstance(event, OperationCompleted)
        elapsed = time.perf_counter() - start
        client_cpu = time.process_time() - client_cpu
        parent.send("cpu")
        server_cpu = parent.recv() - server_cpu
        await driver.close()
    finally:
        process.terminate()
        process.join(10)
    return elapsed, client_cpu * 1000 / dispatches, server_cpu * 1000 / dispatches


async def _sim(modules: int, dispatches: int) -> float:
    names = [f"mill-{i + 1}" for i in range(modules)]
    origin = datetime(2026, 11, 30, tzinfo=UTC)
    driver = SimDriver(_network(names, None), origin, breakdowns=False, variability=0.0)
    start = time.perf_counter()
    for request in _requests(names, dispatches):
        await driver.dispatch(request)
    done = 0
    while done < dispatches:
        event = await driver.next_event(origin + timedelta(days=365))
        done += isinstance(event, OperationCompleted)
    return time.perf_counter() - start


def main(*, quick: bool = False) -> None:
    """Print dispatches/s over OPC UA on loopback for 1, 4 and 16 modules on one server."""
    logging.getLogger("asyncua").setLevel(logging.ERROR)
    console = Console()
    table = Table(title="OPC UA dispatch throughput (loopback, one module server process)")
    columns = (
        "modules",
        "dispatches",
        "seconds",
        "dispatches/s",
        "cycle/module ms",
        "client CPU ms/dispatch",
        "server CPU ms/dispatch",
        "twin dispatches/s",
        "≥ 200/s",
    )
    for column in columns:
        table.add_column(column, justify="right")
    dispatches = 300 if quick else 2000
    for modules in (1, 4) if quick else (1, 4, 16):
        elapsed, client_ms, server_ms = asyncio.run(_opcua(modules, dispatches))
        twin = asyncio.run(_sim(modules, dispatches))
        rate = dispatches / elapsed
        table.add_row(
            str(modules),
            str(dispatches),
            f"{elapsed:.2f}",
            f"{rate:.0f}",
            f"{elapsed * modules / dispatches * 1000:.1f}",
            f"{client_ms:.2f}",
            f"{server_ms:.2f}",
            f"{dispatches / twin:.0f}",
            "yes" if rate >= TARGET else "no",
        )
    console.print(table)


if __name__ == "__main__":
    main()

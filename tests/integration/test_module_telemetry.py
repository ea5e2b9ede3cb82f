"""A module server publishing Sparkplug B while the OPC UA driver runs it; a DCMD drives the machine."""

from __future__ import annotations

import asyncio
import time

from microfab.cli.module_server import _start_telemetry
from microfab.domain.events import ModuleFaulted, OperationCompleted
from microfab.drivers.opcua import OpcUaDriver
from microfab.drivers.packml_server import ModuleServer
from microfab.telemetry.base import DeviceBorn, MetricsChanged, Signal
from microfab.telemetry.mqtt import BrokerSettings
from microfab.telemetry.sparkplug_host import SparkplugHost
from tests.integration.conftest import Broker, mill_type
from tests.integration.test_opcua import collect, completed, network, request


def test_machine_state_as_sparkplug_and_a_command_back(broker: Broker) -> None:
    mtype = mill_type(setup="0s")

    async def body() -> tuple[list[Signal], list[object]]:
        host = SparkplugHost("ohio", "controller", BrokerSettings.parse(broker.url))
        host.start()
        async with ModuleServer([("mill-1", mtype)], port=0, time_scale=0.0005) as server:
            edges = await _start_telemetry(server, broker.url, "ohio", "cnc-mill", "controller")
            driver = OpcUaDriver(network({"mill-1": server.endpoint}, mtype))
            assert await driver.connect(timeout=10)
            signals: list[Signal] = []
            deadline = time.monotonic() + 10
            while not any(isinstance(s, DeviceBorn) for s in signals) and time.monotonic() < deadline:
                if (signal := await host.next_signal(0.1)) is not None:
                    signals.append(signal)
            await driver.dispatch(request("op-1", "mill-1"))
            events: list[object] = list(await collect(driver, completed(1)))
            await host.command("mill-1", "cnc-mill", "PackML/Command", "Abort")  # a DCMD back to the machine
            events += await collect(driver, lambda ev: any(isinstance(e, ModuleFaulted) for e in ev))
            while (signal := await host.next_signal(0.3)) is not None:
                signals.append(signal)
            await driver.close()
            for edge in edges.values():
                await edge.close()
        await host.close()
        return signals, events

    signals, events = asyncio.run(asyncio.wait_for(body(), 40))
    born = next(s for s in signals if isinstance(s, DeviceBorn))
    assert born.node == "mill-1"
    assert born.device == "cnc-mill"
    assert born.metrics["PackML/State"] == "Idle"
    assert "PackML/Command" in born.metrics
    states = [
        s.metrics["PackML/State"] for s in signals if isinstance(s, MetricsChanged) and "PackML/State" in s.metrics
    ]
    assert states[:6] == ["Starting", "Execute", "Completing", "Complete", "Resetting", "Idle"]
    assert states[-2:] == ["Aborting", "Aborted"]
    done = [e for e in events if isinstance(e, OperationCompleted)]
    assert done[0].operation_id == "op-1"
    fault = next(e for e in events if isinstance(e, ModuleFaulted))
    assert fault.reason == "aborted"

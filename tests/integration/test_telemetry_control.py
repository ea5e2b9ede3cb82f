"""Telemetry wired into control, against a real mosquitto on a free port.

A module server process publishing Sparkplug B is killed: its node death certificate and its
lost OPC UA session are one outage (one fault, its work moved), and its rebirth one repair.
A broker that is down at start or goes down mid-run is one recorded fact and one alert;
control goes on.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from microfab.control import operations
from microfab.control.bootstrap import Services, bootstrap, link_telemetry, mixed_controller
from microfab.control.controller import Controller
from microfab.control.escalation import Escalation
from microfab.control.state import module_stream
from microfab.control.telemetry_link import LOST_AT_START, LOST_MID_RUN, TELEMETRY_STREAM, TelemetryLink
from microfab.domain.alerts import AlertKind, AlertRaised
from microfab.domain.commands import PlaceOrder
from microfab.domain.events import (
    Event,
    ModuleFaulted,
    ModuleRepaired,
    OperationCompleted,
    OperationDispatched,
    OperationStarted,
    TelemetryLost,
    TelemetryRestored,
)
from microfab.drivers.opcua import CONNECTION_LOST
from microfab.manifests import load_resources
from microfab.settings import Settings
from microfab.telemetry.base import NODE_DEATH
from tests.e2e.conftest import EXAMPLE, ROOT
from tests.integration.conftest import Broker, free_port, wait_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
CUTTER = "bavaria-laser-cutter-1"
STEP = timedelta(minutes=5)  # of network time per controller.run call


def _cutters_apart(folder: Path, endpoint: str) -> None:
    """Replace the two-replica cutter set of Bavaria by two modules, the first on a module server."""
    path = folder / "modules" / "bavaria.yaml"
    single = "apiVersion: microfab.dev/v1\nkind: Module\nmetadata:\n  name: {name}\nspec:\n  type: laser-cutter\n"
    single += "  site: bavaria\n{extra}"
    both = single.format(name=CUTTER, extra=f"  endpoint: {endpoint}\n") + "---\n"
    both += single.format(name="bavaria-laser-cutter-2", extra="")
    text, count = re.subn(
        r"apiVersion: microfab.dev/v1\nkind: Module\nmetadata:\n  name: bavaria-laser-cutter\n.*?replicas: 2\n",
        both,
        path.read_text(),
        flags=re.DOTALL,
    )
    assert count == 1
    path.write_text(text)


async def _run_until(controller: Controller, done: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        await controller.run(controller.driver.now() + STEP)


def _module_events(services: Services) -> list[Event]:
    return [r.event for r in services.log.read_stream(module_stream(CUTTER))]


def _services(folder: Path) -> Services:
    services = bootstrap(Settings(db="memory://", schedule_time_limit=0.05, seed=5))
    operations.apply_plan(services, operations.plan_apply(services, load_resources(folder)))
    for customer in ("c1", "c2", "c3", "c4"):
        operations.place(services, PlaceOrder(customer, "laptop-stand", {}, 3, "de"))
    return services


def test_a_killed_module_server_is_one_outage_its_work_moves_and_its_rebirth_one_repair(
    broker: Broker, tmp_path: Path
) -> None:
    scale, port = 0.0002, free_port()
    folder = Path(shutil.copytree(EXAMPLE, tmp_path / "network"))
    _cutters_apart(folder, f"opc.tcp://127.0.0.1:{port}")
    command = [
        *(sys.executable, "-c", "from microfab.cli.main import app; app()", "module-server"),
        *("--type", "laser-cutter", "--port", str(port), "--name", CUTTER, "--manifests", str(folder)),
        *("--time-scale", str(scale), "--variability", "0", "--mqtt", broker.url),
        *("--group", "bavaria", "--primary-host", "bavaria-controller"),
    ]

    def spawn() -> subprocess.Popen[bytes]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(port, timeout=30)
        return process

    processes = [spawn()]
    services = _services(folder)
    controller = mixed_controller(services, time_scale=scale, breakdowns=False)
    link = link_telemetry(services, controller.driver, broker.url, grace=3.0)
    controller.driver = link
    seen_down: set[str] = set()

    def both_down() -> bool:
        seen_down.update(link.down_sources(CUTTER))
        return seen_down == {"driver", "telemetry"}

    def started_on_cutter() -> bool:
        return any(
            isinstance(r.event, OperationStarted) and r.event.module == CUTTER
            for r in services.log.read_all(stream_prefix="order-")
        )

    async def scenario() -> dict[str, object]:
        await controller.start()
        await _run_until(controller, started_on_cutter, 20)
        processes[0].kill()  # SIGKILL: no clean MQTT disconnect, so the broker publishes the NDEATH will
        await asyncio.to_thread(processes[0].wait, 5)
        await _run_until(controller, both_down, 20)
        faults = [e for e in _module_events(services) if isinstance(e, ModuleFaulted)]
        processes.append(await asyncio.to_thread(spawn))
        await _run_until(controller, lambda: any(isinstance(e, ModuleRepaired) for e in _module_events(services)), 30)
        await _run_until(controller, lambda: _all_done(services), 30)
        await link.close()
        return {"faults": faults}

    try:
        result = asyncio.run(asyncio.wait_for(scenario(), 100))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(5)
    stream = _module_events(services)
    assert [type(e).__name__ for e in stream] == ["ModuleFaulted", "ModuleRepaired"]  # one outage, two sources
    fault, repair = stream
    assert isinstance(fault, ModuleFaulted)
    assert fault.reason in (NODE_DEATH, CONNECTION_LOST)
    assert result["faults"] == [fault]  # recorded at the first source, not again at the second
    # The work moved: while the cutter was down, cut operations went to its twin sibling only.
    events = [r.event for r in services.log.read_all(stream_prefix="order-")]
    during = [
        e
        for e in events
        if isinstance(e, OperationDispatched) and fault.at < e.at < repair.at and "#00" in e.operation_id
    ]
    assert during, "cut work was dispatched during the outage"
    assert {e.module for e in during} == {"bavaria-laser-cutter-2"}
    good = Counter(e.operation_id for e in events if isinstance(e, OperationCompleted) and e.good)
    assert set(good.values()) == {1}
    services.close()


def _all_done(services: Services) -> bool:
    return all(
        entry.good
        for order in services.state.orders.values()
        for unit in order.units.values()
        for entry in unit.passport.values()
    )


def test_broker_down_at_start_and_mid_run_is_one_fact_and_one_alert_each_and_control_goes_on(
    broker: Broker, tmp_path: Path
) -> None:
    broker.stop()  # down at start
    folder = Path(shutil.copytree(EXAMPLE, tmp_path / "network"))
    services = _services(folder)
    controller = mixed_controller(services, time_scale=0.0005, breakdowns=False)  # no endpoint: the twin, paced
    link = link_telemetry(services, controller.driver, broker.url, grace=0.3)
    controller.driver = link
    escalation = Escalation(services.state, services.log)

    sites = sorted(link.hosts)  # one host application per site with modules, all on the one broker

    def facts(site: str = "bavaria") -> list[Event]:
        return [r.event for r in services.log.read_stream(TELEMETRY_STREAM) if getattr(r.event, "site", "") == site]

    def completed() -> int:
        return sum(isinstance(r.event, OperationCompleted) for r in services.log.read_all(stream_prefix="order-"))

    async def scenario() -> dict[str, int]:
        await controller.start()
        await _run_until(controller, lambda: len(facts()) == 1, 10)
        before = completed()
        await _wall(controller, 2.5)  # paho retries meanwhile: nothing more is recorded
        escalation.poll(controller.driver.now())
        working = completed() - before
        await asyncio.to_thread(broker.start)
        await _run_until(controller, lambda: len(facts()) == 2, 20)
        escalation.poll(controller.driver.now())
        await asyncio.to_thread(broker.stop)  # down mid-run
        await _run_until(controller, lambda: len(facts()) == 3, 20)
        await _wall(controller, 1.5)
        escalation.poll(controller.driver.now())
        await link.close()
        return {"working": working}

    result = asyncio.run(asyncio.wait_for(scenario(), 80))
    for site in sites:
        assert [type(f) for f in facts(site)] == [TelemetryLost, TelemetryRestored, TelemetryLost], site
    recorded = facts()
    lost_at_start, _, lost_mid_run = recorded
    assert isinstance(lost_at_start, TelemetryLost)
    assert isinstance(lost_mid_run, TelemetryLost)
    assert lost_at_start.reason == LOST_AT_START
    assert lost_mid_run.reason == LOST_MID_RUN
    assert lost_at_start.broker == broker.url
    assert result["working"] > 0  # control went on without the broker
    alerts = [r.event for r in services.log.read_stream("alerts")]
    raised = [a for a in alerts if isinstance(a, AlertRaised)]
    assert [(a.kind, a.subject) for a in raised] == [(AlertKind.TELEMETRY_LOST, broker.url)] * 2
    assert [type(a).__name__ for a in alerts] == ["AlertRaised", "AlertCleared", "AlertRaised"]  # not one per site
    assert all(site in raised[0].message for site in sites)
    assert isinstance(link, TelemetryLink)
    services.close()


async def _wall(controller: Controller, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await controller.run(controller.driver.now() + STEP)

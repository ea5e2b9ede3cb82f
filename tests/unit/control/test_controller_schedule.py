"""The medium loop in repair mode: started work stays, a down module gets no new work, the log has the schedule."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from microfab.control import operations
from microfab.control.bootstrap import Services, bootstrap, sim_controller
from microfab.control.controller import Controller, latest_schedule
from microfab.domain.commands import PlaceOrder
from microfab.domain.events import ModuleFaulted, ModuleRepaired
from microfab.manifests import load_resources
from microfab.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "network"


@pytest.fixture(name="services")
def fixture_services() -> Iterator[Services]:
    services = bootstrap(Settings(db="memory://", schedule_time_limit=0.2, seed=3))
    operations.apply_plan(services, operations.plan_apply(services, load_resources(EXAMPLE)))
    yield services
    services.close()


def started(services: Services) -> tuple[Controller, str]:
    placed = operations.place(services, PlaceOrder("acme", "laptop-stand", {}, 3, "us"))
    site = placed.order.site
    assert site is not None
    controller = sim_controller(services, breakdowns=False)
    asyncio.run(controller.start())
    return controller, site


def test_the_first_schedule_is_recorded_and_dispatched(services: Services) -> None:
    controller, site = started(services)
    created = latest_schedule(services.log, site)
    assert created is not None
    assert created.operations
    assert {t.status for t in controller.tracks.values()} >= {"dispatched", "pending"}
    assert latest_schedule(services.log, "nowhere") is None


def test_a_fault_moves_pending_work_off_the_module_and_keeps_started_work(services: Services) -> None:
    controller, site = started(services)
    before = controller.schedules[site]
    running = {t.op.id: (t.module, t.dispatched_at) for t in controller.tracks.values() if t.status == "dispatched"}
    queued = [m for m, q in controller.sequence.items() if q and controller.state.network.modules[m].site == site]
    module = queued[0]
    at = controller.driver.now() + timedelta(seconds=1)
    asyncio.run(controller.handle(ModuleFaulted(at, module, "test")))
    after = latest_schedule(services.log, site)
    assert after is not None
    assert after.at == at
    assert controller.schedules[site] is not before
    mttr = controller.state.network.module_types[controller.state.network.modules[module].module_type].mttr
    for op in after.operations:
        if op.operation_id in running:
            assert (op.module, op.start) == (running[op.operation_id][0], running[op.operation_id][1])
        elif op.module == module:
            assert op.start >= at + mttr.to_timedelta()
    asyncio.run(controller.handle(ModuleRepaired(at + timedelta(seconds=5), module)))
    repaired = latest_schedule(services.log, site)
    assert repaired is not None
    assert repaired.at == at + timedelta(seconds=5)

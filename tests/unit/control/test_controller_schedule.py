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
from microfab.control.medium_loop import behind
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


def _late_ready_work(controller: Controller, site: str) -> tuple[str, str, str]:
    """A pending operation whose predecessors are done, the module it is planned on, and another capable module."""
    network = controller.state.network
    for planned in controller.schedules[site].operations:
        track = controller.tracks.get(planned.operation_id)
        if track is None or track.status != "pending":
            continue
        if any(controller.tracks[p].status != "done" for p in track.op.predecessors if p in controller.tracks):
            continue
        for module in network.modules_at(site):
            offers = network.module_types[module.module_type].capabilities
            if module.name != planned.module and track.op.capability in offers:
                return planned.operation_id, planned.module, module.name
    raise AssertionError("the example has no ready operation with a second capable module")


def test_the_medium_loop_replans_a_site_fallen_behind_while_a_capable_module_idles(services: Services) -> None:
    controller, site = started(services)
    op_id, planned_on, other = _late_ready_work(controller, site)
    planned = next(o for o in controller.schedules[site].operations if o.operation_id == op_id)
    tolerance = timedelta(seconds=services.settings.medium_loop_tolerance)
    late = planned.start + tolerance + timedelta(seconds=1)
    # Not behind before the tolerance has passed, nor while the other module is busy.
    assert not behind(controller.work, controller.state.network, site, late - timedelta(seconds=2), tolerance)
    controller.work.busy[other] = "something"
    assert not behind(controller.work, controller.state.network, site, late, tolerance)
    # The other module idles with nothing queued: the site is behind where a new plan helps ...
    controller.work.busy.pop(other)
    controller.sequence[other].clear()
    assert behind(controller.work, controller.state.network, site, late, tolerance)
    # ... unless that module is down.
    controller.work.down.add(other)
    assert not behind(controller.work, controller.state.network, site, late, tolerance)
    controller.work.down.discard(other)
    # The clock's tick re-plans the site, records the schedule and starts the work somewhere now.
    assert asyncio.run(controller.medium_loop(late)) == 1
    created = latest_schedule(services.log, site)
    assert created is not None
    assert created.at == late
    assert controller.tracks[op_id].status == "dispatched" or any(
        o.operation_id == op_id and o.start >= late for o in created.operations
    )
    assert planned_on in controller.state.network.modules


def test_the_medium_loop_ticks_during_a_run(services: Services) -> None:
    controller, _ = started(services)
    ticks: list[object] = []

    async def spy(now: object) -> int:
        ticks.append(now)
        return 0

    controller.medium_loop = spy  # type: ignore[method-assign]
    start = controller.driver.now()
    interval = timedelta(seconds=services.settings.medium_loop_interval)
    summary = asyncio.run(controller.run(start + 4 * interval + timedelta(seconds=1)))
    assert ticks == [start + k * interval for k in range(1, 5)]
    assert summary.replans == 0

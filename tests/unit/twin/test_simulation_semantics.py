"""The standalone twin's semantics on small scenarios whose timeline can be worked out by hand."""

from __future__ import annotations

import math

import pytest

from microfab.twin.distributions import Constant
from microfab.twin.scenario import FailureClock, JobSpec, RepairPolicy, Scenario, StationSpec, Window
from microfab.twin.simulation import Simulation
from microfab.twin.stats import SimulationResult
from microfab.twin.trace import TraceKind


def station(name: str = "m", caps: str = "x", **kw: object) -> StationSpec:
    return StationSpec(name, frozenset(caps.split(",")), **kw)  # type: ignore[arg-type]


def jobs(*specs: tuple[float, float], family: int = 0, cap: str = "x") -> list[JobSpec]:
    return [JobSpec(release, family, (cap,), (length,)) for release, length in specs]


def run(scenario: Scenario) -> tuple[SimulationResult, SimulationResult]:
    """Run with the inlined fast path and with the general handlers; both must agree."""
    fast = Simulation(scenario).run()
    general = Simulation(scenario, general=True).run()
    traced = Simulation(scenario, trace=True).run()
    assert fast == general == traced
    return fast, traced


def ends(result: SimulationResult) -> list[float]:
    assert result.trace is not None
    return [t for t, kind, *_ in result.trace.rows() if kind is TraceKind.END]


def breakdown(ttf: float, ttr: float, **kw: object) -> StationSpec:
    return station(time_to_failure=Constant(ttf), time_to_repair=Constant(ttr), **kw)


def test_resume_goes_on_with_the_time_left() -> None:
    scenario = Scenario("s", (breakdown(150, 20),), jobs((0, 100), (0, 100)))
    result, traced = run(scenario)
    assert ends(traced) == [100.0, 220.0]  # failed at 150 with 50 done, back at 170, 50 left
    assert (result.failures, result.preemptions, result.makespan) == (1, 1, 220.0)
    assert result.modules[0].lost_work == 0.0
    assert result.modules[0].time_in_state["execute"] == pytest.approx(200.0)


def test_restart_starts_the_operation_over() -> None:
    scenario = Scenario("s", (breakdown(150, 20, repair_policy=RepairPolicy.RESTART),), jobs((0, 100), (0, 100)))
    result, traced = run(scenario)
    assert ends(traced) == [100.0, 270.0]  # back at 170, the whole 100 again
    assert result.modules[0].lost_work == pytest.approx(50.0)
    assert result.modules[0].time_in_state["execute"] == pytest.approx(250.0)


def test_restart_of_an_interrupted_setup_and_processing() -> None:
    spec = breakdown(30, 5, setup=20.0, repair_policy=RepairPolicy.RESTART)
    specs = [JobSpec(0.0, family, ("x",), (25.0,)) for family in (1, 2)]
    result, traced = run(Scenario("s", (spec,), specs))
    # job 0: setup 0..20, processing 20..30 fails (10 lost), again 35..60
    # job 1: setup 60..65 fails (5 lost), again 70..90; processing 90..100 fails (10 lost), again 105..130
    assert ends(traced) == [60.0, 130.0]
    assert (result.setups, result.failures, result.preemptions) == (2, 3, 3)
    assert result.modules[0].lost_work == pytest.approx(25.0)


def test_calendar_clock_fails_an_idle_module() -> None:
    scenario = Scenario("s", (breakdown(150, 10),), jobs((100, 100), (300, 100)))
    result, traced = run(scenario)
    # calendar: failures at 150 (job 1 at 50 of 100), 310 (job 2 at 10 of 100), 470 (idle)
    assert ends(traced) == [210.0, 410.0]
    assert result.failures == 2  # at 150 and 310; the next, at 470, is after the end


def test_busy_clock_counts_only_working_time() -> None:
    scenario = Scenario("s", (breakdown(150, 10, failure_clock=FailureClock.BUSY),), jobs((100, 100), (300, 100)))
    result, traced = run(scenario)
    # busy: 100 busy hours by 200, then 50 more into job 2: fails at 350, back at 360, ends 410
    assert ends(traced) == [200.0, 410.0]
    assert (result.failures, result.preemptions) == (1, 1)


def test_maintenance_window_suspends_work_and_is_planned_downtime() -> None:
    spec = station(maintenance=(Window(50, 30),))
    result, traced = run(Scenario("s", (spec,), jobs((0, 100))))
    assert ends(traced) == [130.0]
    m = result.modules[0]
    assert m.time_in_state["maintenance"] == pytest.approx(30.0)
    assert (m.interruptions, m.preemptions, result.failures) == (1, 0, 0)
    assert m.buckets.pbt == pytest.approx(100.0)  # the 130 of the window minus 30 planned
    assert m.buckets.availability == pytest.approx(1.0)


def test_an_outage_suspends_work_like_a_breakdown_and_is_unplanned_downtime() -> None:
    planned = run(Scenario("s", (station(maintenance=(Window(50, 30),)),), jobs((0, 100))))[0].modules[0]
    result, traced = run(Scenario("s", (station(outages=(Window(50, 30),)),), jobs((0, 100))))
    assert ends(traced) == [130.0]  # suspended at 50 with 50 done, back at 80
    m = result.modules[0]
    assert m.time_in_state["down"] == pytest.approx(30.0)
    assert (m.preemptions, m.interruptions, result.failures, m.buckets.outages) == (1, 0, 0, 1)
    assert (m.buckets.pbt, m.buckets.adot, m.buckets.apt) == pytest.approx((130.0, 30.0, 100.0))
    assert m.buckets.availability == pytest.approx(100 / 130)  # lower than with the same window planned
    assert planned.buckets.availability == pytest.approx(1.0)
    assert m.buckets.oee < planned.buckets.oee
    assert result.sites[0].outages == 1
    assert traced.trace is not None
    kinds = [kind for _, kind, *_ in traced.trace.rows()]
    assert TraceKind.OUTAGE_START in kinds
    assert TraceKind.OUTAGE_END in kinds
    assert [(b.start, b.end, b.what) for b in traced.trace.gantt(130.0)] == [
        (0.0, 50.0, "execute"),
        (50.0, 80.0, "down"),
        (80.0, 130.0, "execute"),
    ]


def test_an_outage_restarts_the_work_under_the_restart_policy_and_ignores_a_module_out_of_service() -> None:
    restart = station(outages=(Window(50, 30),), repair_policy=RepairPolicy.RESTART)
    result, traced = run(Scenario("s", (restart,), jobs((0, 100))))
    assert ends(traced) == [180.0]  # back at 80, the whole 100 again
    assert result.modules[0].lost_work == pytest.approx(50.0)
    late = station(deploy_at=100.0, outages=(Window(20, 30),))  # not in service yet: nothing happens
    result, traced = run(Scenario("s", (late,), jobs((0, 10))))
    assert ends(traced) == [110.0]
    assert result.modules[0].buckets.outages == 0
    # a failure during an outage: down from 50 to 120 (the repair of the failure at 60 ends at 120)
    both = breakdown(60, 60, outages=(Window(50, 30),))
    result, traced = run(Scenario("s", (both,), jobs((0, 100))))
    assert ends(traced) == [170.0]
    assert result.modules[0].buckets.adot == pytest.approx(70.0)


def test_deploy_later_holds_the_work_until_then() -> None:
    scenario = Scenario("s", (station(deploy_at=40.0),), jobs((0, 10), (5, 10)))
    result, traced = run(scenario)
    assert ends(traced) == [50.0, 60.0]
    m = result.modules[0]
    assert m.time_in_state["off"] == pytest.approx(40.0)
    assert m.buckets.pbt == pytest.approx(20.0)


def test_retire_finishes_the_work_in_progress_and_hands_the_queue_over() -> None:
    stations = (station("a", retire_at=15.0), station("b", deploy_at=10.0))
    scenario = Scenario("s", stations, jobs((0, 20), (1, 20), (2, 20)))
    result, traced = run(scenario)
    assert traced.trace is not None
    done_on = {(j, m) for _, kind, m, j, _ in traced.trace.rows() if kind is TraceKind.END}
    # a takes job 0 (0..20), jobs 1 and 2 queue on a (b is not there yet); b arrives at 10 and
    # a is retired at 15: its queue moves to b (15..35, 35..55); a finishes job 0 and leaves.
    assert done_on == {(0, 0), (1, 1), (2, 1)}
    assert ends(traced) == [20.0, 35.0, 55.0]
    assert result.modules[0].time_in_state["off"] == pytest.approx(55.0 - 20.0)


def test_setup_on_family_change_only() -> None:
    specs = [JobSpec(0.0, fam, ("x",), (10.0,)) for fam in (1, 1, 2, 2, 1)]
    result, _ = run(Scenario("s", (station(setup=5.0),), specs))
    assert result.setups == 3
    assert result.makespan == pytest.approx(5 * 10 + 3 * 5)


def test_yield_reworks_on_the_same_module() -> None:
    scenario = Scenario("s", (station(yield_rate=0.5), station("n")), jobs(*[(i, 10.0) for i in range(200)]), seed=3)
    result, _ = run(scenario)
    assert result.jobs_done == 200
    assert result.reworks > 50
    assert result.ops_done == 200 + result.reworks
    assert result.modules[0].buckets.quality < 0.8
    assert result.modules[1].buckets.quality == 1.0


def test_lane_transit_and_on_time_delivery() -> None:
    specs = [
        JobSpec(0.0, 0, ("x",), (10.0,), due=25.0, transit=12.0),
        JobSpec(0.0, 0, ("x",), (10.0,), due=25.0, transit=12.0),
    ]
    result, _ = run(Scenario("s", (station(),), specs))
    assert (result.delivered, result.on_time, result.end) == (2, 1, 32.0)  # 22 on time, 32 late
    assert result.on_time_delivery == 0.5


def test_horizon_stops_the_run_and_cuts_the_statistics() -> None:
    result, _ = run(Scenario("s", (station(),), jobs((0, 100), (0, 100)), horizon=150.0))
    assert result.jobs_done == 1
    assert result.end == 150.0
    assert result.modules[0].time_in_state["execute"] == pytest.approx(150.0)


def test_buckets_add_up_to_planned_busy_time() -> None:
    spec = breakdown(70, 9, setup=3.0, maintenance=(Window(200, 40),))
    specs = [JobSpec(7.0 * i, i % 3, ("x",), (11.0,)) for i in range(40)]
    result, _ = run(Scenario("s", (spec,), specs))
    b = result.modules[0].buckets
    assert b.apt + b.aust + b.adet + b.adot == pytest.approx(b.pbt)
    assert b.pbt == pytest.approx(result.end - 40.0)
    assert b.oee == pytest.approx(b.availability * b.effectiveness * b.quality)
    assert b.effectiveness == pytest.approx(1.0)
    assert math.isclose(sum(result.modules[0].time_in_state.values()), result.end)

"""The twin's own ISO 22400 statistics equal the KPI engine's figures computed from the same run's events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from microfab.domain.events import Event, ModuleFaulted, ModuleRepaired, OperationCompleted, OperationStarted
from microfab.domain.quantities import Duration
from microfab.kpi.oee import module_kpis
from microfab.twin.distributions import Constant
from microfab.twin.scenario import JobSpec, Scenario, StationSpec, Window
from microfab.twin.simulation import Simulation
from microfab.twin.stats import SimulationResult
from microfab.twin.trace import TraceKind

ORIGIN = datetime(2026, 1, 5, tzinfo=UTC)


def events_of(result: SimulationResult) -> list[Event]:
    """Translate the trace into the events a machine driver would have recorded."""
    assert result.trace is not None
    names = [m.name for m in result.modules]
    taken: dict[int, float] = {}
    out: list[Event] = []
    for t, kind, m, job, op in result.trace.rows():
        at = ORIGIN + timedelta(seconds=t)
        if kind is TraceKind.START:
            taken[m] = t
        elif kind is TraceKind.PROCESS:
            setup = Duration(round(t - taken[m]))
            out.append(OperationStarted(at, "o", f"{job}/{op}", str(job), names[m], setup=setup))
        elif kind is TraceKind.END:
            out.append(OperationCompleted(at, "o", f"{job}/{op}", str(job), names[m], True, Duration(100), 1))
        elif kind is TraceKind.FAIL:
            out.append(ModuleFaulted(at, names[m], "breakdown"))
        elif kind is TraceKind.OUTAGE_START:  # a driver reports a forced stop as a fault too
            out.append(ModuleFaulted(at, names[m], "outage"))
        elif kind is TraceKind.REPAIR or kind is TraceKind.OUTAGE_END:
            out.append(ModuleRepaired(at, names[m]))
    return out


def test_oee_buckets_match_the_kpi_engine() -> None:
    # Worked out by hand: setups 0-20, 120-140, 240-260, 390-410, 510-530; the failure at 310
    # interrupts the third operation (260-390) for 30 s; the next failure (650) comes after the end.
    module = StationSpec(
        "m", frozenset({"x"}), setup=20.0, time_to_failure=Constant(310.0), time_to_repair=Constant(30.0)
    )
    idle = StationSpec("spare", frozenset({"y"}), time_to_failure=Constant(200.0), time_to_repair=Constant(15.0))
    specs = [JobSpec(0.0, i % 2, ("x",), (100.0,)) for i in range(5)]
    result = Simulation(Scenario("kpi", (module, idle), specs), trace=True).run()
    assert result.end == 630.0
    theirs = module_kpis(events_of(result), ["m", "spare"], ORIGIN, ORIGIN + timedelta(seconds=result.end))
    for report in result.modules:
        ours, k = report.buckets, theirs[report.name]
        assert (ours.pbt, ours.apt, ours.aust, ours.adot) == pytest.approx((k.pbt, k.apt, k.aust, k.adot))
        assert (ours.produced, ours.good, ours.failures) == (k.produced, k.good, k.faults)
        assert ours.availability == pytest.approx(k.availability)
        assert ours.effectiveness == pytest.approx(k.effectiveness)
        assert ours.quality == pytest.approx(k.quality)
        assert ours.oee == pytest.approx(k.oee)
        assert ours.utilisation == pytest.approx(k.utilisation)
    m = result.modules[0].buckets
    assert (m.apt, m.aust, m.adot, m.adet) == (500.0, 100.0, 30.0, 0.0)
    assert m.oee == pytest.approx(500 / 630)
    spare = result.modules[1].buckets
    assert (spare.failures, spare.adot, spare.adet) == (3, 30.0, 600.0)  # fails at 200, 415 and 630 (the end)


def test_a_forced_outage_is_unplanned_downtime_for_both() -> None:
    # As above, with an outage on "m" over 420-470 (job 4's processing, 10 s in, resumes at 470 and ends at
    # 560; the failure at 650 then holds job 5 for 30 s: end 710) and one on "spare" over 100-140.
    module = StationSpec(
        "m",
        frozenset({"x"}),
        setup=20.0,
        time_to_failure=Constant(310.0),
        time_to_repair=Constant(30.0),
        outages=(Window(420.0, 50.0),),
    )
    idle = StationSpec(
        "spare",
        frozenset({"y"}),
        time_to_failure=Constant(200.0),
        time_to_repair=Constant(15.0),
        outages=(Window(100.0, 40.0),),
    )
    specs = [JobSpec(0.0, i % 2, ("x",), (100.0,)) for i in range(5)]
    result = Simulation(Scenario("kpi", (module, idle), specs), trace=True).run()
    assert result.end == 710.0
    theirs = module_kpis(events_of(result), ["m", "spare"], ORIGIN, ORIGIN + timedelta(seconds=result.end))
    for report in result.modules:
        ours, k = report.buckets, theirs[report.name]
        assert (ours.pbt, ours.apt, ours.aust, ours.adot) == pytest.approx((k.pbt, k.apt, k.aust, k.adot))
        assert ours.failures + ours.outages == k.faults
        assert (ours.availability, ours.oee) == pytest.approx((k.availability, k.oee))
    m = result.modules[0].buckets
    assert (m.pbt, m.apt, m.aust, m.adot, m.failures, m.outages) == (710.0, 500.0, 100.0, 110.0, 2, 1)
    assert m.availability == pytest.approx(500 / 710)  # the outage stays in the planned busy time
    spare = result.modules[1].buckets
    assert (spare.adot, spare.failures, spare.outages) == (85.0, 3, 1)  # 40 s of outage + 3 x 15 s repairs

from __future__ import annotations

import itertools
import statistics
from collections.abc import Callable
from datetime import datetime

import pytest

from microfab.domain.modules import ModuleType
from microfab.twin import (
    Completed,
    Faulted,
    ModuleNotIdleError,
    Record,
    Repaired,
    SimModel,
    Started,
    TwinJob,
)

TypeFactory = Callable[..., ModuleType]


def job(op: str, ideal: int, family: str = "A") -> TwinJob:
    return TwinJob(op, "o", "s", "m1", family, ideal)


def downtimes(records: list[Record]) -> list[tuple[float, float]]:
    faults = [r.t for r in records if isinstance(r, Faulted)]
    repairs = [r.t for r in records if isinstance(r, Repaired)]
    return list(zip(faults, repairs, strict=False))


def overlap(intervals: list[tuple[float, float]], start: float, end: float) -> float:
    return sum(max(0.0, min(b, end) - max(a, start)) for a, b in intervals)


def test_a_failure_preempts_the_work_which_resumes_after_repair(origin: datetime, make_type: TypeFactory) -> None:
    model = SimModel(origin, variability=0.0, seed=5)
    model.add_module("m1", make_type(setup=0, mtbf=3_000, mttr=600))
    for i in range(200):
        model.submit(job(str(i), ideal=1_000))
    records = model.run_until(1e7)
    down = downtimes(records)
    started = {r.operation_id: r.t for r in records if isinstance(r, Started)}
    done = [r for r in records if isinstance(r, Completed)]
    assert len(done) == 200
    interrupted = 0
    for record in done:
        start = started[record.operation_id]
        lost = overlap(down, start, record.t)
        interrupted += lost > 0
        assert record.t == pytest.approx(start + 1_000 + lost, abs=1e-6)
    stats = model.module_stats("m1")
    assert interrupted > 20
    assert stats.preemptions >= interrupted
    assert stats.execute_seconds == pytest.approx(200 * 1_000)
    assert stats.down_seconds == pytest.approx(sum(b - a for a, b in down if b <= model.now))


def test_a_failure_during_setup_delays_the_start(origin: datetime, make_type: TypeFactory) -> None:
    model = SimModel(origin, variability=0.0, seed=1)
    model.add_module("m1", make_type(setup=2_000, mtbf=1_500, mttr=300))
    for i in range(100):
        model.submit(job(str(i), ideal=10, family=str(i % 2)))
    records = model.run_until(1e7)
    down = downtimes(records)
    free_at = 0.0  # when the module could begin the next setup
    delayed = 0
    for record in records:
        if isinstance(record, Started):
            lost = overlap(down, free_at, record.t)
            delayed += lost > 0
            assert record.setup_seconds == 2_000
            assert record.t == pytest.approx(free_at + 2_000 + lost, abs=1e-6)
        elif isinstance(record, Completed):
            free_at = record.t
    assert delayed > 10
    assert model.module_stats("m1").setup_seconds == pytest.approx(100 * 2_000)


def test_a_broken_module_starts_nothing_until_repaired(origin: datetime, make_type: TypeFactory) -> None:
    model = SimModel(origin, variability=0.0, seed=2)
    model.add_module("m1", make_type(setup=0))
    fault = model.next_record(1e9)
    assert isinstance(fault, Faulted)
    assert model.module_state("m1") == "down"
    assert model.module_stats("m1").down_seconds == 0.0
    with pytest.raises(ModuleNotIdleError, match="down"):
        model.remove_module("m1")
    model.submit(job("a", ideal=50))
    repaired = model.next_record(1e9)
    assert isinstance(repaired, Repaired)
    started = model.next_record(1e9)
    assert isinstance(started, Started)
    assert started.t == repaired.t
    assert model.module_state("m1") == "execute"
    assert model.next_record(started.t + 10) is None
    stats = model.module_stats("m1")
    assert stats.down_seconds == pytest.approx(repaired.t - fault.t)
    assert stats.execute_seconds == pytest.approx(10.0)
    assert (stats.failures, stats.preemptions) == (1, 0)


def test_the_failure_clock_runs_in_calendar_time(origin: datetime, make_type: TypeFactory) -> None:
    # With exact times and full yield the module stream draws only failures and repairs,
    # so a busy module and an idle one with the same stream fail at the same instants.
    kind = make_type(setup=60, mtbf=2_000, mttr=200)
    busy, idle = SimModel(origin, variability=0.0, seed=9), SimModel(origin, variability=0.0, seed=9)
    busy.add_module("m1", kind)
    idle.add_module("m1", kind)
    for i in range(300):
        busy.submit(job(str(i), ideal=500, family=str(i % 3)))
    busy_faults = [(type(r), r.t) for r in busy.run_until(200_000.0) if isinstance(r, Faulted | Repaired)]
    idle_faults = [(type(r), r.t) for r in idle.run_until(200_000.0)]
    assert len(idle_faults) > 100
    assert busy_faults == idle_faults


def test_mean_time_between_failures_and_to_repair(origin: datetime, make_type: TypeFactory) -> None:
    model = SimModel(origin, seed=4)
    model.add_module("m1", make_type(mtbf=3_600, mttr=360))
    records = model.run_until(3_600 * 2_500.0)
    down = downtimes(records)
    assert len(down) > 2_000
    ups = [nxt[0] - prev[1] for prev, nxt in itertools.pairwise(down)]
    assert statistics.fmean(ups) == pytest.approx(3_600, rel=0.07)
    assert statistics.fmean(b - a for a, b in down) == pytest.approx(360, rel=0.07)
    stats = model.module_stats("m1")
    assert stats.failures == len([r for r in records if isinstance(r, Faulted)])
    assert stats.preemptions == 0


def test_breakdowns_can_be_turned_off(origin: datetime, make_type: TypeFactory) -> None:
    model = SimModel(origin, breakdowns=False)
    model.add_module("m1", make_type(mtbf=60, mttr=60))
    assert model.run_until(1e6) == []
    assert (model.events_processed, model.events_scheduled) == (0, 0)


def test_zero_mttr_repairs_at_once(origin: datetime, make_type: TypeFactory) -> None:
    model = SimModel(origin, seed=3)
    model.add_module("m1", make_type(mtbf=100, mttr=0))
    fault, repair = model.next_record(1e6), model.next_record(1e6)
    assert isinstance(fault, Faulted)
    assert isinstance(repair, Repaired)
    assert fault.t == repair.t


def test_retiring_a_module_stops_its_failure_clock(origin: datetime, make_type: TypeFactory) -> None:
    model = SimModel(origin, seed=3)
    model.add_module("m1", make_type(mtbf=100, mttr=10))
    model.remove_module("m1")
    assert model.run_until(1e6) == []


def _run(seed: int, origin: datetime, make_type: TypeFactory) -> list[Record]:
    model = SimModel(origin, seed=seed, variability=0.3)
    for name in ("m1", "m2"):
        model.add_module(name, make_type(setup=120, mtbf=4_000, mttr=400, yield_rate="0.95"))
    for i in range(100):
        model.submit(TwinJob(str(i), "o", "s", f"m{1 + i % 2}", str(i % 3), 300 + i))
    model.ship("o", "lane", 9_000)
    return model.run_until(200_000.0)


def test_same_seed_same_records_other_seed_other_records(origin: datetime, make_type: TypeFactory) -> None:
    first = _run(7, origin, make_type)
    assert len(first) > 200
    assert _run(7, origin, make_type) == first
    assert _run(8, origin, make_type) != first

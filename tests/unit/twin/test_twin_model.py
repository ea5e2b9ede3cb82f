from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import datetime

import pytest

from microfab.domain.errors import DomainError, UnknownReferenceError
from microfab.domain.modules import ModuleType
from microfab.twin import (
    Arrived,
    Completed,
    ModuleNotIdleError,
    Record,
    SimModel,
    Started,
    TwinJob,
    UnknownModuleError,
)

TypeFactory = Callable[..., ModuleType]


def job(op: str, family: str = "A", ideal: int = 100, *, module: str = "m1", **kw: object) -> TwinJob:
    return TwinJob(op, f"o-{op}", f"s-{op}", module, family, ideal, **kw)  # type: ignore[arg-type]


def exact(origin: datetime, make_type: TypeFactory, *, setup: int = 30, yield_rate: str = "1") -> SimModel:
    model = SimModel(origin, variability=0.0, breakdowns=False)
    model.add_module("m1", make_type(setup=setup, yield_rate=yield_rate))
    return model


def starts(records: list[Record]) -> list[tuple[float, str, float]]:
    return [(r.t, r.operation_id, r.setup_seconds) for r in records if isinstance(r, Started)]


def completions(records: list[Record]) -> list[tuple[float, str]]:
    return [(r.t, r.operation_id) for r in records if isinstance(r, Completed)]


def test_setup_only_on_the_first_job_and_on_a_family_change(origin: datetime, make_type: TypeFactory) -> None:
    model = exact(origin, make_type, setup=30)
    for op, family, ideal in [("a", "A", 100), ("b", "A", 50), ("c", "B", 20), ("d", "B", 10)]:
        model.submit(job(op, family, ideal))
    records = model.run_until(1_000.0)
    assert starts(records) == [(30.0, "a", 30.0), (130.0, "b", 0.0), (210.0, "c", 30.0), (230.0, "d", 0.0)]
    assert completions(records) == [(130.0, "a"), (180.0, "b"), (230.0, "c"), (240.0, "d")]
    assert model.now == 1_000.0
    stats = model.module_stats("m1")
    assert (stats.setups, stats.started, stats.completed, stats.good) == (2, 4, 4, 4)
    assert stats.setup_seconds == 60.0
    assert stats.execute_seconds == 180.0
    assert stats.busy_seconds == 240.0


def test_completed_carries_the_job(origin: datetime, make_type: TypeFactory) -> None:
    model = exact(origin, make_type, setup=0)
    model.submit(TwinJob("op-1", "ord-1", "SN-1", "m1", "A", 60, attempt=2))
    started, completed = model.run_until(100.0)
    assert started == Started(0.0, "m1", "op-1", "ord-1", "SN-1", 0.0, 2)
    assert completed == Completed(60.0, "m1", "op-1", "ord-1", "SN-1", True, 2, 60)


def test_module_state_follows_the_work(origin: datetime, make_type: TypeFactory) -> None:
    model = exact(origin, make_type, setup=30)
    assert model.module_state("m1") == "idle"
    model.submit(job("a", ideal=100))
    model.submit(job("b", ideal=100))
    assert model.queue_length("m1") == 2
    assert model.load("m1") == 2
    assert model.next_record(10.0) is None
    assert model.now == 10.0
    assert model.module_state("m1") == "setup"
    assert model.queue_length("m1") == 1
    assert model.load("m1") == 2
    assert model.module_stats("m1").setup_seconds == 10.0
    record = model.next_record(1_000.0)
    assert isinstance(record, Started)
    assert model.module_state("m1") == "execute"
    model.run_until(1_000.0)
    assert model.module_state("m1") == "idle"
    assert model.load("m1") == 0


def test_fifo_with_priority_rework_at_the_front(origin: datetime, make_type: TypeFactory) -> None:
    model = exact(origin, make_type, setup=0, yield_rate="1")
    for op in ("a", "b", "c"):
        model.submit(job(op, ideal=10))
    first = model.next_record(100.0)
    assert isinstance(first, Started)
    assert first.operation_id == "a"
    model.submit(job("r", ideal=10, attempt=2, priority=True))
    records = model.run_until(100.0)
    assert [op for _, op in completions(records)] == ["a", "r", "b", "c"]


def test_a_controller_reacting_to_a_completion_gets_its_rework_done_next(
    origin: datetime, make_type: TypeFactory
) -> None:
    model = exact(origin, make_type, setup=0)
    model.submit(job("a", ideal=10))
    model.submit(job("b", ideal=10))
    order = []
    while (record := model.next_record(100.0)) is not None:
        if isinstance(record, Completed):
            order.append(record.operation_id)
            if record.operation_id == "a" and record.attempt == 1:
                model.submit(job("a", ideal=10, attempt=2, priority=True))
    assert order == ["a", "a", "b"]


def test_variability_zero_gives_exactly_ideal_and_otherwise_a_lognormal_factor(
    origin: datetime, make_type: TypeFactory
) -> None:
    model = SimModel(origin, variability=0.2, breakdowns=False, seed=3)
    model.add_module("m1", make_type())
    for i in range(2_000):
        model.submit(job(str(i), ideal=100))
    records = model.run_until(1e9)
    started = {r.operation_id: r.t for r in records if isinstance(r, Started)}
    factors = [(r.t - started[r.operation_id]) / 100 for r in records if isinstance(r, Completed)]
    assert len(factors) == 2_000
    mean = statistics.fmean(factors)
    assert mean == pytest.approx(1.1, abs=0.015)
    assert statistics.stdev(factors) / mean == pytest.approx(0.2, abs=0.02)
    assert min(factors) > 0


def test_yield_share_of_good_results(origin: datetime, make_type: TypeFactory) -> None:
    model = SimModel(origin, variability=0.0, breakdowns=False, seed=11)
    model.add_module("m1", make_type(yield_rate="0.9"))
    for i in range(2_000):
        model.submit(job(str(i), ideal=10))
    results = [r.good for r in model.run_until(1e9) if isinstance(r, Completed)]
    assert len(results) == 2_000
    assert sum(results) / len(results) == pytest.approx(0.9, abs=0.02)
    assert model.module_stats("m1").good == sum(results)


def test_ship_reports_an_arrival_after_the_lead_time(origin: datetime) -> None:
    model = SimModel(origin)
    model.ship("o-1", "lane-eu", 3_600)
    assert model.next_record(3_599.0) is None
    assert model.next_record(10_000.0) == Arrived(3_600.0, "o-1", "lane-eu")
    assert model.next_record(10_000.0) is None
    assert model.now == 10_000.0
    with pytest.raises(ValueError, match="lead_seconds"):
        model.ship("o-2", "lane-eu", -1)


def test_next_record_stops_at_until_and_resumes_later(origin: datetime, make_type: TypeFactory) -> None:
    model = exact(origin, make_type, setup=0)
    model.submit(job("a", ideal=100))
    assert isinstance(model.next_record(50.0), Started)
    assert model.next_record(50.0) is None
    assert model.now == 50.0
    assert model.next_record(99.999) is None
    assert model.next_record(100.0) == Completed(100.0, "m1", "a", "o-a", "s-a", True, 1, 100)
    with pytest.raises(ValueError, match="until"):
        model.next_record(10.0)


def test_a_job_submitted_later_starts_at_submission(origin: datetime, make_type: TypeFactory) -> None:
    model = exact(origin, make_type, setup=5)
    assert model.run_until(500.0) == []
    model.submit(job("a", ideal=10))
    assert starts(model.run_until(1_000.0)) == [(505.0, "a", 5.0)]


def test_unknown_module_is_a_key_error_naming_it(origin: datetime, make_type: TypeFactory) -> None:
    model = exact(origin, make_type)
    with pytest.raises(KeyError, match="unknown module 'nope'; known: m1") as info:
        model.submit(job("a", module="nope"))
    assert isinstance(info.value, UnknownReferenceError)
    assert isinstance(info.value, UnknownModuleError)
    for read in (model.module_state, model.queue_length, model.module_stats):
        with pytest.raises(KeyError):
            read("nope")


def test_add_and_remove_modules(origin: datetime, make_type: TypeFactory) -> None:
    model = exact(origin, make_type, setup=0)
    with pytest.raises(ValueError, match="already"):
        model.add_module("m1", make_type())
    model.add_module("m2", make_type())
    assert model.modules == ("m1", "m2")
    model.submit(job("a", ideal=100))
    model.next_record(10.0)
    with pytest.raises(ModuleNotIdleError, match="'m1': it is execute") as info:
        model.remove_module("m1")
    assert isinstance(info.value, DomainError)
    model.remove_module("m2")
    model.run_until(200.0)
    model.remove_module("m1")
    assert not model.modules
    with pytest.raises(KeyError):
        model.module_state("m1")


def test_a_module_with_a_queue_cannot_be_retired(origin: datetime, make_type: TypeFactory) -> None:
    model = exact(origin, make_type)
    model.submit(job("a"))
    with pytest.raises(ModuleNotIdleError, match="1 queued"):
        model.remove_module("m1")


@pytest.mark.parametrize(("kwargs", "field"), [({"ideal_seconds": -1}, "ideal_seconds"), ({"attempt": 0}, "attempt")])
def test_twin_job_validation(kwargs: dict[str, int], field: str) -> None:
    base = {"operation_id": "a", "order_id": "o", "serial": "s", "module": "m", "family": "A", "ideal_seconds": 1}
    with pytest.raises(ValueError, match=field):
        TwinJob(**(base | kwargs))  # type: ignore[arg-type]


def test_model_validation(origin: datetime) -> None:
    with pytest.raises(ValueError, match="origin"):
        SimModel(origin.replace(tzinfo=None))
    with pytest.raises(ValueError, match="variability"):
        SimModel(origin, variability=-0.1)

from __future__ import annotations

import math

import pytest

from microfab.twin import Engine


def test_events_run_in_time_order_and_report_their_results() -> None:
    engine: Engine[str] = Engine()
    engine.schedule(5.0, str.upper, "c")
    engine.schedule(1.0, str.upper, "a")
    engine.schedule(2.5, str.upper, "b")
    got = []
    while (result := engine.step(10.0)) is not None:
        got.append((engine.now, result))
    assert got == [(1.0, "A"), (2.5, "B"), (5.0, "C")]
    assert engine.now == 10.0
    assert engine.processed == 3


def test_ties_break_by_insertion_sequence() -> None:
    engine: Engine[int] = Engine()
    for value in (3, 1, 2, 0):
        engine.schedule(7.0, int, value)
    got = [engine.step(7.0) for _ in range(4)]
    assert got == [3, 1, 2, 0]


def test_events_scheduled_by_a_handler_at_the_same_time_run_after_the_pending_ones() -> None:
    engine: Engine[str] = Engine()
    order: list[str] = []

    def first(_: object) -> None:
        order.append("first")
        engine.schedule(0.0, lambda _: order.append("spawned"))

    engine.schedule(1.0, first)
    engine.schedule(1.0, lambda _: order.append("second"))
    assert engine.step(1.0) is None
    assert order == ["first", "second", "spawned"]


def test_handlers_returning_none_are_run_silently() -> None:
    engine: Engine[str] = Engine()
    seen: list[float] = []
    engine.schedule(1.0, lambda _: seen.append(engine.now))
    engine.schedule(2.0, lambda _: "two")
    assert engine.step(5.0) == "two"
    assert seen == [1.0]
    assert engine.now == 2.0


def test_cancel_is_lazy_and_idempotent() -> None:
    engine: Engine[str] = Engine()
    keep = engine.schedule(2.0, str, "keep")
    drop = engine.schedule(1.0, str, "drop")
    Engine.cancel(drop)
    Engine.cancel(drop)
    assert engine.peek() == 2.0
    assert engine.step(3.0) == "keep"
    Engine.cancel(keep)  # already ran: no effect
    assert engine.step(3.0) is None
    assert engine.processed == 1
    assert engine.scheduled == 2


def test_step_stops_at_until_and_keeps_later_events() -> None:
    engine: Engine[str] = Engine()
    engine.schedule(10.0, str, "late")
    assert engine.step(4.0) is None
    assert engine.now == 4.0
    assert engine.step(10.0) == "late"
    assert engine.now == 10.0


def test_step_with_infinite_until_and_nothing_left_keeps_the_clock() -> None:
    engine: Engine[str] = Engine(start=3.0)
    assert engine.step(math.inf) is None
    assert engine.now == 3.0
    assert engine.peek() == math.inf


def test_schedule_at_and_due() -> None:
    engine: Engine[str] = Engine(start=100.0)
    handle = engine.schedule_at(150.0, str, "x")
    assert Engine.due(handle) == 150.0
    with pytest.raises(ValueError, match="delay"):
        engine.schedule_at(99.0, str, "past")


@pytest.mark.parametrize("delay", [-1.0, math.nan])
def test_negative_or_nan_delays_are_rejected(delay: float) -> None:
    with pytest.raises(ValueError, match="delay"):
        Engine[str]().schedule(delay, str, "x")


def test_step_refuses_to_go_back_in_time() -> None:
    engine: Engine[str] = Engine(start=5.0)
    with pytest.raises(ValueError, match="until"):
        engine.step(4.0)

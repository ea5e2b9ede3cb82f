"""The bridge from domain operations and modules to a problem, and from a result to a domain schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from microfab.domain.errors import DomainError, UnknownReferenceError
from microfab.domain.modules import Module, ModuleType
from microfab.domain.operations import Operation, operation_id
from microfab.domain.quantities import Duration, Money
from microfab.scheduling import Placement, Result, Status, problem_from_operations, solve, to_schedule, validate

ORIGIN = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def module_type(name: str, capabilities: set[str], speed: str = "1") -> ModuleType:
    return ModuleType(
        name=name,
        capabilities=frozenset(capabilities),
        speed=Decimal(speed),
        setup_time=Duration(0),
        mtbf=Duration.of(hours=100),
        mttr=Duration.of(hours=1),
        yield_rate=Decimal(1),
        cost_per_hour=Money(Decimal(30), "EUR"),
        deploy_lead_time=Duration.of(days=7),
    )


TYPES = {
    "mill": module_type("mill", {"mill"}),
    "fast-mill": module_type("fast-mill", {"mill"}, speed="1.5"),
    "printer": module_type("printer", {"print-fdm", "inspect"}, speed="0.8"),
}
MODULES = [
    Module("mill-1", "mill", "porto"),
    Module("mill-2", "fast-mill", "porto"),
    Module("print-1", "printer", "porto"),
]


def operation(
    serial: str,
    index: int,
    capability: str,
    minutes: int,
    *,
    release: datetime = ORIGIN,
    due: datetime = ORIGIN + timedelta(days=1),
) -> Operation:
    return Operation(
        id=operation_id(serial, index),
        order_id=f"order-{serial}",
        serial=serial,
        index=index,
        step=f"step-{index}",
        capability=capability,
        standard=Duration.of(minutes=minutes),
        family="f",
        predecessors=(operation_id(serial, index - 1),) if index > 0 else (),
        release=release,
        due=due,
    )


def test_operations_become_tasks_with_eligible_modules_and_times() -> None:
    ops = [
        operation("SN1", 0, "print-fdm", 10, release=ORIGIN - timedelta(hours=1)),
        operation("SN1", 1, "mill", 9, release=ORIGIN + timedelta(seconds=90, microseconds=1)),
        operation("SN2", 0, "mill", 20, due=ORIGIN + timedelta(minutes=30, microseconds=500)),
    ]
    problem = problem_from_operations(ops, MODULES, TYPES, origin=ORIGIN)
    assert problem.modules == ("mill-1", "mill-2", "print-1")
    printing, milling, other = problem.tasks
    assert printing.id == "SN1#00"
    assert printing.job == "SN1"
    assert printing.durations == {"print-1": 750}  # 600 s / 0.8
    assert printing.release == 0  # released before the origin
    assert milling.durations == {"mill-1": 540, "mill-2": 360}
    assert milling.predecessors == ("SN1#00",)
    assert milling.release == 91  # rounded up
    assert other.due == 1800  # rounded down
    assert problem.module_release == {}


def test_processing_time_rounds_up_to_whole_seconds() -> None:
    types = {"odd": module_type("odd", {"mill"}, speed="7")}
    problem = problem_from_operations(
        [operation("SN1", 0, "mill", 1)], [Module("m", "odd", "porto")], types, origin=ORIGIN
    )
    assert problem.tasks[0].durations == {"m": 9}  # 60 / 7 = 8.57


def test_busy_module_gets_a_release() -> None:
    busy = {"mill-2": ORIGIN + timedelta(minutes=4), "mill-1": ORIGIN - timedelta(minutes=5)}
    problem = problem_from_operations([operation("SN1", 0, "mill", 9)], MODULES, TYPES, origin=ORIGIN, busy_until=busy)
    assert problem.module_release == {"mill-2": 240, "mill-1": 0}
    result = solve(problem, time_limit=2)
    assert validate(problem, result.placements) == []
    # The fast mill would end at 240 + 360 = 600; the slow one, free now, ends at 540.
    assert result.placements == (Placement("SN1#00", "mill-1", 0, 540),)


def test_operation_without_an_eligible_module_is_a_domain_error() -> None:
    with pytest.raises(DomainError, match="operation 'SN1#00' needs capability 'laser-engrave'"):
        problem_from_operations([operation("SN1", 0, "laser-engrave", 5)], MODULES, TYPES, origin=ORIGIN)


def test_module_of_an_unknown_type_is_rejected() -> None:
    with pytest.raises(UnknownReferenceError, match="unknown module type 'lathe'"):
        problem_from_operations([], [Module("l-1", "lathe", "porto")], TYPES, origin=ORIGIN)


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="origin: expected a timezone-aware datetime"):
        problem_from_operations([], MODULES, TYPES, origin=datetime(2026, 3, 2))
    with pytest.raises(ValueError, match="busy_until\\['mill-1'\\]"):
        problem_from_operations([], MODULES, TYPES, origin=ORIGIN, busy_until={"mill-1": datetime(2026, 3, 2)})
    with pytest.raises(ValueError, match="created_at"):
        to_schedule(Result(Status.OPTIMAL, (), 0, 0, 0.0), site="s", origin=ORIGIN, created_at=datetime(2026, 3, 2))


def test_unknown_busy_module_is_rejected() -> None:
    with pytest.raises(ValueError, match="module_release: unknown module 'ghost'"):
        problem_from_operations([], MODULES, TYPES, origin=ORIGIN, busy_until={"ghost": ORIGIN})


def test_result_round_trips_through_a_domain_schedule() -> None:
    ops = [
        operation("SN1", 0, "print-fdm", 10),
        operation("SN1", 1, "mill", 9),
        operation("SN1", 2, "inspect", 2),
        operation("SN2", 0, "mill", 20),
        operation("SN2", 1, "inspect", 3),
    ]
    problem = problem_from_operations(ops, MODULES, TYPES, origin=ORIGIN)
    result = solve(problem, time_limit=2)
    assert result.status is Status.OPTIMAL
    assert validate(problem, result.placements) == []
    created = ORIGIN + timedelta(seconds=1)
    schedule = to_schedule(result, site="porto", origin=ORIGIN, created_at=created)
    assert schedule.site == "porto"
    assert schedule.created_at == created
    assert len(schedule.operations) == len(ops)
    assert all(o.start.tzinfo is not None for o in schedule.operations)
    assert schedule.makespan_end == ORIGIN + timedelta(seconds=result.objective or 0)
    back = tuple(
        Placement(
            o.operation_id,
            o.module,
            (o.start - ORIGIN) // timedelta(seconds=1),
            (o.end - ORIGIN) // timedelta(seconds=1),
        )
        for o in schedule.operations
    )
    assert back == result.placements
    assert validate(problem, back) == []


def test_empty_result_gives_an_empty_schedule() -> None:
    schedule = to_schedule(Result(Status.INFEASIBLE, (), None, None, 0.1), site="s", origin=ORIGIN, created_at=ORIGIN)
    assert schedule.operations == ()
    assert schedule.makespan_end is None

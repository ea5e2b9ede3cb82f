"""Genealogy from the log (SQLite): which units a module worked on in a window, which modules worked on a unit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from microfab.control import operations
from microfab.control.bootstrap import Services, bootstrap
from microfab.control.genealogy import module_units, unit_modules
from microfab.control.state import order_stream
from microfab.domain.commands import PlaceOrder
from microfab.domain.errors import UnknownReferenceError
from microfab.domain.events import Event, OperationCompleted, OperationDispatched, OperationStarted
from microfab.domain.quantities import Duration
from microfab.manifests import load_resources
from microfab.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "network"
A, B = "ohio-laser-cutter-1", "ohio-press-brake"


@dataclass
class Scenario:
    services: Services
    t0: datetime
    first: str  # serial of the unit reworked on A, then bent on B (still running)
    second: str  # serial of a unit cut on A once

    def at(self, minutes: int) -> datetime:
        return self.t0 + timedelta(minutes=minutes)


def _work(
    order_id: str, serial: str, op: str, module: str, start: datetime, end: datetime | None, **kw: object
) -> list[Event]:
    events: list[Event] = [
        OperationDispatched(start, order_id, op, module),
        OperationStarted(start, order_id, op, serial, module, Duration(0)),
    ]
    if end is not None:
        good = bool(kw.get("good", True))
        attempt = int(str(kw.get("attempt", 1)))
        events.append(OperationCompleted(end, order_id, op, serial, module, good, Duration(600), attempt))
    return events


@pytest.fixture(name="scenario")
def fixture_scenario(tmp_path: Path) -> Iterator[Scenario]:
    services = bootstrap(Settings(db=f"sqlite:///{tmp_path / 'log.db'}"))
    operations.apply_plan(services, operations.plan_apply(services, load_resources(EXAMPLE)))
    order = operations.place(services, PlaceOrder("acme", "laptop-stand", {}, 2, "us")).order
    first, second = sorted(order.units)
    t0 = services.now()
    s = Scenario(services, t0, first, second)
    cut, bend = f"{first}#00", f"{first}#01"
    events = [
        *_work(order.id, first, cut, A, s.at(10), s.at(20), good=False, attempt=1),  # failed inspection
        *_work(order.id, first, cut, A, s.at(20), s.at(30), attempt=2),  # reworked, good
        *_work(order.id, second, f"{second}#00", A, s.at(30), s.at(40)),
        *_work(order.id, first, bend, B, s.at(45), None),  # running
    ]
    services.log.append(order_stream(order.id), events, expected_version=services.state.orders[order.id].version)
    services.state.catch_up(services.log)
    yield s
    services.close()


def test_every_attempt_on_a_module_in_start_order(scenario: Scenario) -> None:
    s = scenario
    found = module_units(s.services.state, s.services.log, A)
    assert [(r.serial, r.attempt, r.good) for r in found] == [
        (s.first, 1, False),
        (s.first, 2, True),
        (s.second, 1, True),
    ]
    assert [(r.started_at, r.completed_at) for r in found] == [
        (s.at(10), s.at(20)),
        (s.at(20), s.at(30)),
        (s.at(30), s.at(40)),
    ]
    assert {(r.module, r.product, r.site, r.step) for r in found} == {(A, "laptop-stand", "ohio", "cut")}


def test_the_window_keeps_work_that_overlaps_it(scenario: Scenario) -> None:
    s = scenario
    state, log = s.services.state, s.services.log
    inside = module_units(state, log, A, since=s.at(25), until=s.at(35))
    assert [(r.serial, r.attempt) for r in inside] == [(s.first, 2), (s.second, 1)]  # [20,30] and [30,40] overlap
    assert module_units(state, log, A, since=s.at(41)) == []
    assert [r.attempt for r in module_units(state, log, A, until=s.at(15))] == [1]
    assert module_units(state, log, A, since=s.at(20), until=s.at(20))[0].completed_at == s.at(20)  # bounds included
    running = module_units(state, log, B, since=s.at(500))  # still running: it overlaps any later window
    assert [(r.serial, r.step, r.attempt, r.completed_at, r.good) for r in running] == [
        (s.first, "bend", 1, None, None)
    ]


def test_a_unit_lists_every_module_and_attempt(scenario: Scenario) -> None:
    s = scenario
    history = unit_modules(s.services.state, s.services.log, s.first)
    assert [(r.step, r.module, r.attempt, r.good) for r in history] == [
        ("cut", A, 1, False),
        ("cut", A, 2, True),
        ("bend", B, 1, None),
    ]
    passport = s.services.state.orders[history[0].order_id].units[s.first].passport
    assert passport[f"{s.first}#00"].module == A  # the same log as the passport
    assert passport[f"{s.first}#00"].attempts == 2


def test_bad_queries_name_what_is_wrong(scenario: Scenario) -> None:
    s = scenario
    state, log = s.services.state, s.services.log
    with pytest.raises(UnknownReferenceError, match="ohio-laser-cutter-9"):
        module_units(state, log, "ohio-laser-cutter-9")
    with pytest.raises(ValueError, match=r"^until: "):
        module_units(state, log, A, since=s.at(30), until=s.at(10))
    with pytest.raises(UnknownReferenceError, match="unit"):
        unit_modules(state, log, "nope-001")
    assert module_units(state, log, "bavaria-press-brake") == []  # a module that made nothing

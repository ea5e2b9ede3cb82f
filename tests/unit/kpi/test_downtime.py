from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from microfab.domain.events import ModuleFaulted, ModuleRepaired
from microfab.kpi import downtime_pareto

T0 = datetime(2026, 11, 30, tzinfo=UTC)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_pareto_ranks_down_hours_by_module_and_reason_with_cumulative_share() -> None:
    events = [
        ModuleFaulted(h(1), "m1", "spindle"), ModuleRepaired(h(2), "m1"),
        ModuleFaulted(h(3), "m2", "jam"), ModuleRepaired(h(6), "m2"),
        ModuleFaulted(h(7), "m1", "spindle"), ModuleRepaired(h(8), "m1"),
        ModuleFaulted(h(9), "m3", "door"),  # still down at the end of the window
        ModuleFaulted(h(0), "other", "x"), ModuleRepaired(h(5), "other"),
    ]  # fmt: skip
    causes = downtime_pareto(events, {"m1", "m2", "m3"}, T0, h(10))
    assert [(c.module, c.reason, c.faults, c.hours) for c in causes] == [
        ("m2", "jam", 1, 3.0), ("m1", "spindle", 2, 2.0), ("m3", "door", 1, 1.0),
    ]  # fmt: skip
    assert [c.cumulative_share for c in causes] == pytest.approx([0.5, 5 / 6, 1.0])


def test_faults_are_clipped_to_the_window() -> None:
    events = [ModuleFaulted(h(-2), "m1", "x"), ModuleRepaired(h(1), "m1")]
    (cause,) = downtime_pareto(events, {"m1"}, T0, h(10))
    assert (cause.faults, cause.hours) == (0, 1.0)
    assert downtime_pareto(events, {"m1"}, h(2), h(10)) == []

"""Bad scenarios fail before the run with a clear message; a deadlock says which operations and why."""

from __future__ import annotations

import math

import pytest

from microfab.twin.distributions import Constant, Exponential, Lognormal, Uniform, Weibull
from microfab.twin.scenario import JobSpec, Scenario, ScenarioError, StationSpec, Window
from microfab.twin.simulation import DeadlockError, Simulation


def station(name: str = "m", caps: str = "x", **kw: object) -> StationSpec:
    return StationSpec(name, frozenset(caps.split(",")), **kw)  # type: ignore[arg-type]


def test_a_capability_no_module_offers() -> None:
    scenario = Scenario("s", (station(),), [JobSpec(0.0, 0, ("x", "weld"), (1.0, 1.0))])
    with pytest.raises(
        ScenarioError, match=r"capability 'weld' \(first needed by job 0\) is not offered by any module"
    ):
        Simulation(scenario)


def test_a_capability_missing_at_the_jobs_site() -> None:
    scenario = Scenario(
        "s", (station(site="a"), station("n", "y", site="b")), [JobSpec(0.0, 0, ("y",), (1.0,), site="a")]
    )
    with pytest.raises(ScenarioError, match="of site 'a'"):
        Simulation(scenario)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Exponential(0.0), "mean: expected a finite number > 0, got 0.0"),
        (lambda: Exponential(-480.0), "mean: expected a finite number > 0"),
        (lambda: Exponential(math.inf), "mean: expected a finite number > 0"),
        (lambda: Lognormal(10.0, -0.5), "cv: expected a finite number >= 0"),
        (lambda: Uniform(5.0, 1.0), r"high: expected >= low \(5.0\)"),
        (lambda: Weibull(100.0, 0.0), "shape: expected a finite number > 0"),
        (lambda: Constant(math.nan), "value: expected a finite number >= 0"),
    ],
)
def test_invalid_distribution_parameters(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]


def test_a_deploy_after_the_horizon() -> None:
    scenario = Scenario("s", (station(deploy_at=500.0),), [JobSpec(0.0, 0, ("x",), (1.0,))], horizon=100.0)
    with pytest.raises(ScenarioError, match=r"module 'm' is deployed at 500\.0, after the horizon 100\.0"):
        Simulation(scenario)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"yield_rate": 0.0}, "yield_rate: expected in"),
        ({"speed": -1.0}, "speed: expected > 0"),
        ({"setup": -5.0}, "setup: expected a finite time >= 0"),
        ({"deploy_at": 10.0, "retire_at": 5.0}, "retire_at: expected after deploy_at"),
    ],
)
def test_invalid_module_parameters(change: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        station(**change)


def test_invalid_window_and_jobs() -> None:
    with pytest.raises(ValueError, match="duration: expected a finite duration > 0"):
        Window(10.0, 0.0)
    with pytest.raises(ValueError, match="outages: expected windows that do not overlap"):
        station(outages=(Window(50.0, 20.0), Window(10.0, 45.0)))
    assert station(outages=(Window(10.0, 40.0), Window(50.0, 20.0))).outages  # touching is fine
    with pytest.raises(ValueError, match="durations: expected finite times >= 0"):
        JobSpec(0.0, 0, ("x",), (-1.0,))
    with pytest.raises(ValueError, match="durations: expected one per capability"):
        JobSpec(1.0, 0, ("x", "x"), (1.0,))
    with pytest.raises(ValueError, match="release: expected a finite time >= 0"):
        JobSpec(math.nan, 0, ("x",), (1.0,))


def test_a_deadlock_names_the_stuck_operations_and_why() -> None:
    stations = (station("a", "x", retire_at=50.0), station("b", "y"))
    specs = [JobSpec(float(i), 0, ("y", "x"), (30.0, 10.0)) for i in range(4)]
    with pytest.raises(DeadlockError) as info:
        Simulation(Scenario("s", stations, specs)).run()
    message = str(info.value)
    assert "operation(s) can never run" in message
    assert "job 3 operation 1 (no module of any site offering 'x' is in service or deployed later)" in message
    assert {(j, k) for j, k, _, _ in info.value.stuck} == {(1, 1), (2, 1), (3, 1)}


def test_a_job_waits_for_a_module_deployed_later_instead_of_deadlocking() -> None:
    stations = (station("a", "x", retire_at=50.0), station("b", "x", deploy_at=200.0))
    specs = [JobSpec(float(i), 0, ("x",), (30.0,)) for i in range(3)]
    result = Simulation(Scenario("s", stations, specs)).run()
    assert result.jobs_done == 3
    assert result.makespan == 230.0  # a: 0..30, 30..60 (started before it retires at 50); b: 200..230

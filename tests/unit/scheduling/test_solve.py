"""The CP-SAT scheduler on tiny instances with known optima; every schedule goes through the validator."""

from __future__ import annotations

import importlib
import logging
import time

import pytest

from microfab.scheduling import (
    Placement,
    Result,
    SchedulingProblem,
    Status,
    Task,
    greedy_schedule,
    lower_bound,
    solve,
    validate,
)
from microfab.scheduling.validate import makespan, total_completion

from .conftest import RandomProblem, chain

# `microfab.scheduling.solve` the attribute is the function; the module is reached through importlib.
solve_module = importlib.import_module("microfab.scheduling.solve")

LIMIT = 2.0


def solved(problem: SchedulingProblem, **kwargs: float) -> Result:
    result = solve(problem, time_limit=kwargs.pop("time_limit", LIMIT), **kwargs)  # type: ignore[arg-type]
    if result.status in (Status.OPTIMAL, Status.FEASIBLE):
        assert validate(problem, result.placements) == []
    else:
        assert result.placements == ()
    return result


def placed(result: Result) -> dict[str, Placement]:
    return {p.task: p for p in result.placements}


def test_empty_problem_is_optimal_with_no_placements() -> None:
    result = solved(SchedulingProblem((), ("M1",)))
    assert result.status is Status.OPTIMAL
    assert result.placements == ()
    assert result.objective == 0
    assert result.lower_bound == 0


def test_two_jobs_two_machines_reach_the_known_optimum(flow_shop: SchedulingProblem) -> None:
    assert makespan(greedy_schedule(flow_shop)) == 10  # input order misleads the greedy
    result = solved(flow_shop)
    assert result.status is Status.OPTIMAL
    assert result.objective == makespan(result.placements) == 8
    assert result.lower_bound == 8
    assert result.placements == tuple(sorted(result.placements, key=lambda p: (p.start, p.module, p.task)))
    assert placed(result)["J1.0"].start == 0
    assert result.runtime > 0


def test_precedence_chain_runs_in_order() -> None:
    problem = SchedulingProblem(tuple(chain("J", [{"M1": 2}, {"M2": 3}, {"M1": 1}])), ("M1", "M2"))
    result = solved(problem)
    assert result.status is Status.OPTIMAL
    assert [(p.task, p.start, p.end) for p in result.placements] == [("J.0", 0, 2), ("J.1", 2, 5), ("J.2", 5, 6)]


def test_release_time_delays_the_start() -> None:
    problem = SchedulingProblem((Task("a", "J", {"M1": 3}, release=5), Task("b", "K", {"M1": 2})), ("M1",))
    result = solved(problem)
    assert result.status is Status.OPTIMAL
    assert placed(result)["a"].start == 5
    assert result.objective == 8


def test_faster_module_is_chosen_when_it_helps() -> None:
    tasks = tuple(Task(f"t{i}", f"J{i}", {"slow": 10, "fast": 2}) for i in range(2))
    result = solved(SchedulingProblem(tasks, ("slow", "fast")))
    assert {p.module for p in result.placements} == {"fast"}
    assert result.objective == 4


def test_slower_module_is_used_when_it_shortens_the_makespan() -> None:
    tasks = tuple(Task(f"t{i}", f"J{i}", {"fast": 2, "slow": 3}) for i in range(3))
    result = solved(SchedulingProblem(tasks, ("fast", "slow")))
    assert result.status is Status.OPTIMAL
    assert result.objective == 4
    assert sorted(p.module for p in result.placements) == ["fast", "fast", "slow"]


def test_busy_module_is_avoided_when_another_finishes_first() -> None:
    problem = SchedulingProblem((Task("a", "J", {"M1": 2, "M2": 5}),), ("M1", "M2"), module_release={"M1": 10})
    result = solved(problem)
    assert placed(result)["a"].module == "M2"
    assert result.objective == 5


def test_busy_module_is_used_after_its_release() -> None:
    problem = SchedulingProblem((Task("a", "J", {"M1": 2, "M2": 50}),), ("M1", "M2"), module_release={"M1": 10})
    result = solved(problem)
    assert placed(result)["a"] == Placement("a", "M1", 10, 12)


def test_total_completion_breaks_makespan_ties() -> None:
    tasks = (Task("long", "L", {"M2": 10}), Task("a", "A", {"M1": 3}), Task("b", "B", {"M1": 1}))
    problem = SchedulingProblem(tasks, ("M1", "M2"))
    result = solved(problem)
    assert result.status is Status.OPTIMAL
    assert result.objective == 10
    assert placed(result)["b"] == Placement("b", "M1", 0, 1)
    assert placed(result)["a"] == Placement("a", "M1", 1, 4)
    assert total_completion(problem, result.placements) == 10 + 1 + 4


def test_horizon_that_fits_is_respected(flow_shop: SchedulingProblem) -> None:
    problem = SchedulingProblem(flow_shop.tasks, flow_shop.modules, horizon=8)
    result = solved(problem)
    assert result.status is Status.OPTIMAL
    assert result.objective == 8


@pytest.mark.parametrize(
    "tasks",
    [
        pytest.param(tuple(chain("J", [{"M1": 3}, {"M1": 3}])), id="trivial-bound"),
        pytest.param(
            (Task("a", "A", {"M1": 3}), Task("b", "B", {"M1": 3}), Task("c", "C", {"M2": 1})), id="proved-by-cp-sat"
        ),
    ],
)
def test_too_short_horizon_is_infeasible(tasks: tuple[Task, ...]) -> None:
    result = solved(SchedulingProblem(tasks, ("M1", "M2"), horizon=5))
    assert result.status is Status.INFEASIBLE
    assert result.placements == ()
    assert result.objective is None
    assert result.lower_bound is None


def test_same_seed_gives_the_same_placements(make_random_problem: RandomProblem) -> None:
    # Instances CP-SAT closes in well under a second; the generous limit only gives a loaded
    # machine room to close them too (each run stops as soon as it proves optimality), since the
    # same seed promises the same answer only for runs that finish before their limit.
    for seed in (8, 13, 24):
        problem = make_random_problem(seed)
        first = solved(problem, seed=7, workers=2, time_limit=60)
        second = solved(problem, seed=7, workers=2, time_limit=60)
        assert (first.status, second.status) == (Status.OPTIMAL, Status.OPTIMAL)
        assert first.placements == second.placements


def test_single_worker_solves_too(flow_shop: SchedulingProblem) -> None:
    assert solved(flow_shop, workers=1).objective == 8


@pytest.mark.parametrize("seed", range(12))
def test_random_instances_validate_and_respect_trivial_bounds(make_random_problem: RandomProblem, seed: int) -> None:
    problem = make_random_problem(seed)
    result = solved(problem, time_limit=0.5)
    assert result.status in (Status.OPTIMAL, Status.FEASIBLE)
    assert len(result.placements) == len(problem.tasks)
    span = makespan(result.placements)
    assert result.objective == span
    # Independent trivial bounds: each job's chain, and all the work spread over the modules.
    chains: dict[str, int] = {}
    for task in problem.tasks:
        chains[task.job] = max(chains.get(task.job, 0), task.release) + task.min_duration
    work = sum(t.min_duration for t in problem.tasks)
    assert span >= max(chains.values())
    assert span * len(problem.modules) >= work
    assert result.lower_bound is not None
    assert max(chains.values()) <= result.lower_bound <= span
    assert span <= makespan(greedy_schedule(problem))
    if result.status is Status.OPTIMAL:
        assert result.lower_bound == span


@pytest.mark.parametrize("seed", range(20))
def test_greedy_dispatch_is_always_valid(make_random_problem: RandomProblem, seed: int) -> None:
    problem = make_random_problem(seed)
    placements = greedy_schedule(problem)
    assert validate(problem, placements) == []


def test_greedy_fallback_when_cp_sat_finds_nothing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, flow_shop: SchedulingProblem
) -> None:
    def nothing(*_args: object, **_kwargs: object) -> object:
        return solve_module.Outcome(Status.UNKNOWN, (), None, None)

    monkeypatch.setattr(solve_module.CpSatModel, "run", nothing)
    monkeypatch.setattr(solve_module.tabu, "applies", lambda _problem: False)
    with caplog.at_level(logging.INFO, logger="microfab.scheduling.solve"):
        result = solved(flow_shop)
    assert result.status is Status.FEASIBLE
    assert result.objective == 10
    assert set(result.placements) == set(greedy_schedule(flow_shop))
    assert result.lower_bound == 6
    assert "returning the greedy dispatch" in caplog.text


def test_tabu_search_improves_on_the_greedy_when_cp_sat_finds_nothing(
    monkeypatch: pytest.MonkeyPatch, flow_shop: SchedulingProblem
) -> None:
    def nothing(*_args: object, **_kwargs: object) -> object:
        return solve_module.Outcome(Status.UNKNOWN, (), None, None)

    monkeypatch.setattr(solve_module.CpSatModel, "run", nothing)
    assert solve_module.tabu.applies(flow_shop)
    result = solved(flow_shop)  # validated inside
    assert result.status is Status.FEASIBLE
    assert result.objective is not None
    # The greedy dispatch makes 10 (the test above); the tabu search alone finds the 8 CP-SAT proves optimal.
    assert result.objective < makespan(greedy_schedule(flow_shop))
    assert result.objective == 8


def test_no_fallback_when_the_greedy_breaks_the_horizon(
    monkeypatch: pytest.MonkeyPatch, flow_shop: SchedulingProblem
) -> None:
    def nothing(*_args: object, **_kwargs: object) -> object:
        return solve_module.Outcome(Status.UNKNOWN, (), None, None)

    monkeypatch.setattr(solve_module.CpSatModel, "run", nothing)
    result = solved(SchedulingProblem(flow_shop.tasks, flow_shop.modules, horizon=8))
    assert result.status is Status.UNKNOWN
    assert result.placements == ()
    assert result.lower_bound == 6


def test_invalid_model_is_reported_and_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, flow_shop: SchedulingProblem
) -> None:
    def invalid(*_args: object, **_kwargs: object) -> object:
        return solve_module.Outcome(Status.MODEL_INVALID, (), None, None)

    monkeypatch.setattr(solve_module.CpSatModel, "run", invalid)
    result = solve(flow_shop, time_limit=LIMIT)
    assert result.status is Status.MODEL_INVALID
    assert result.placements == ()
    assert "CP-SAT rejected the model" in caplog.text


def test_solver_log_goes_to_logging_at_debug(caplog: pytest.LogCaptureFixture, flow_shop: SchedulingProblem) -> None:
    with caplog.at_level(logging.DEBUG, logger="microfab.scheduling.solve"):
        solved(flow_shop)
    assert "CP-SAT" in caplog.text
    assert "scheduled 4 tasks on 2 modules: OPTIMAL, makespan 8" in caplog.text


@pytest.mark.parametrize(("kwargs", "message"), [({"time_limit": 0}, "time_limit"), ({"workers": 0}, "workers")])
def test_bad_solver_arguments_are_rejected(
    flow_shop: SchedulingProblem, kwargs: dict[str, float], message: str
) -> None:
    arguments: dict[str, float] = {"time_limit": 1.0} | kwargs
    with pytest.raises(ValueError, match=message):
        solve(flow_shop, **arguments)  # type: ignore[arg-type]


def test_makespan_schedule_is_kept_when_the_second_phase_finds_nothing(
    monkeypatch: pytest.MonkeyPatch, flow_shop: SchedulingProblem
) -> None:
    real_run = solve_module.CpSatModel.run
    calls: list[int] = []

    def first_only(self: object, *args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            return real_run(self, *args, **kwargs)
        return solve_module.Outcome(Status.UNKNOWN, (), None, None)

    monkeypatch.setattr(solve_module.CpSatModel, "run", first_only)
    result = solved(flow_shop)
    assert len(calls) == 2
    assert result.status is Status.FEASIBLE
    assert result.objective == 8


def test_second_phase_is_skipped_when_no_time_is_left(
    monkeypatch: pytest.MonkeyPatch, flow_shop: SchedulingProblem
) -> None:
    real_run = solve_module.CpSatModel.run
    calls: list[int] = []

    def slow(self: object, *args: object, **kwargs: object) -> object:
        calls.append(1)
        outcome = real_run(self, *args, **kwargs)
        time.sleep(0.1)
        return outcome

    monkeypatch.setattr(solve_module.CpSatModel, "run", slow)
    monkeypatch.setattr(solve_module, "_FIRST_PHASE_SHARE", 1.0)
    result = solved(flow_shop, time_limit=0.1)
    assert len(calls) == 1
    assert result.status is Status.FEASIBLE
    assert result.objective == 8


def test_lower_bound_of_nothing_is_zero() -> None:
    assert lower_bound(SchedulingProblem((), ("M1",))) == 0

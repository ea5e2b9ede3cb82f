"""Each constraint kind of the engine on tiny instances with known answers; every schedule is validated."""

from __future__ import annotations

import dataclasses
import importlib
import time
from typing import Any

import pytest

from microfab.scheduling import (
    Criterion,
    Objective,
    Pin,
    Placement,
    Result,
    Rule,
    SchedulingProblem,
    Setup,
    Status,
    Task,
    dispatch,
    lower_bound,
    solve,
    validate,
)
from microfab.scheduling.cpsat import CpSatModel, Outcome
from microfab.scheduling.evaluate import cost, makespan, weighted_tardiness

from .rich_instances import rich_problem

constraints_module = importlib.import_module("microfab.scheduling.cpsat.constraints")

LIMIT = 2.0


def solved(problem: SchedulingProblem, **kwargs: object) -> Result:
    result = solve(problem, time_limit=LIMIT, **kwargs)  # type: ignore[arg-type]
    assert result.has_schedule, result
    assert validate(problem, result.schedule) == []
    return result


def at(result: Result) -> dict[str, Placement]:
    return {p.task: p for p in result.schedule}


def test_setups_group_families_to_save_changeovers() -> None:
    tasks = tuple(Task(f"t{i}", f"J{i}", {"M": 2}, family=f) for i, f in enumerate("abab"))
    problem = SchedulingProblem(tasks, ("M",), setups={"M": Setup(5)}, objective=Objective.makespan())
    result = solved(problem)
    assert result.objective == 8 + 5  # one changeover: a a b b
    assert result.status is Status.OPTIMAL


def test_pairwise_setup_times_are_asymmetric() -> None:
    tasks = (Task("x", "J1", {"M": 1}, family="a"), Task("y", "J2", {"M": 1}, family="b"))
    setup = Setup(0, {("a", "b"): 7, ("b", "a"): 1})
    problem = SchedulingProblem(tasks, ("M",), setups={"M": setup}, objective=Objective.makespan())
    assert solved(problem).objective == 3  # b then a


def test_initial_family_counts_from_the_module_release() -> None:
    tasks = (Task("x", "J1", {"M": 2}, family="b"),)
    problem = SchedulingProblem(
        tasks, ("M",), module_release={"M": 3}, setups={"M": Setup(4)}, initial_family={"M": "a"}
    )
    assert at(solved(problem))["x"].start == 7


def test_large_modules_get_a_padded_setup_that_stays_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(constraints_module, "CIRCUIT_LIMIT", 0)
    tasks = tuple(Task(f"t{i}", f"J{i}", {"M": 2, "N": 3}, family=f) for i, f in enumerate("abba"))
    problem = SchedulingProblem(tasks, ("M", "N"), setups={"M": Setup(2), "N": Setup(2)})
    solved(problem)


def test_unavailable_window_is_avoided() -> None:
    problem = SchedulingProblem(
        (Task("x", "J", {"M": 4}),), ("M",), unavailable={"M": ((2, 10),)}, objective=Objective.makespan()
    )
    assert at(solved(problem))["x"].start == 10


def test_a_down_module_is_left_for_a_slower_one() -> None:
    problem = SchedulingProblem(
        (Task("x", "J", {"fast": 2, "slow": 5}),), ("fast", "slow"), unavailable={"fast": ((0, 1000),)}
    )
    assert at(solved(problem))["x"].module == "slow"


def test_fixed_task_stays_even_inside_a_window() -> None:
    tasks = (Task("run", "J1", {"M": 5}, fixed=Pin("M", -2)), Task("next", "J2", {"M": 1}))
    problem = SchedulingProblem(tasks, ("M",), unavailable={"M": ((0, 4),)})
    placed = at(solved(problem))
    assert placed["run"] == Placement("run", "M", -2, 3)
    assert placed["next"].start >= 4


def test_assembly_waits_for_every_component() -> None:
    tasks = (
        Task("leg", "L", {"A": 3}),
        Task("top", "T", {"B": 5}),
        Task("assemble", "P", {"A": 2, "B": 2}, ("leg", "top")),
    )
    placed = at(solved(SchedulingProblem(tasks, ("A", "B"))))
    assert placed["assemble"].start >= 5


def test_weighted_tardiness_puts_the_urgent_heavy_job_first() -> None:
    tasks = (Task("slow", "J1", {"M": 5}, due=20), Task("urgent", "J2", {"M": 3}, due=3, weight=5))
    objective = Objective.lexicographic(Criterion.WEIGHTED_TARDINESS, Criterion.MAKESPAN)
    result = solved(SchedulingProblem(tasks, ("M",), objective=objective))
    assert at(result)["urgent"].start == 0
    assert result.cost == (0, 8)


def test_a_weighted_mix_trades_criteria() -> None:
    tasks = (Task("a", "J1", {"M": 4}, due=4), Task("b", "J2", {"M": 4}, due=4, weight=3))
    objective = Objective.weighted({Criterion.WEIGHTED_TARDINESS: 1, Criterion.MAKESPAN: 1})
    result = solved(SchedulingProblem(tasks, ("M",), objective=objective))
    assert at(result)["b"].start == 0
    assert result.cost == (4 + 8,)


def test_hint_is_used_when_valid_and_good() -> None:
    problem = SchedulingProblem(
        (Task("a", "J1", {"M": 2, "N": 2}), Task("b", "J2", {"M": 2, "N": 2})),
        ("M", "N"),
        objective=Objective.makespan(),
    )
    hint = (Placement("a", "N", 0, 2), Placement("b", "M", 0, 2))
    assert solved(problem, hint=hint).objective == 2


def test_infeasible_horizon_reports_a_reason() -> None:
    problem = SchedulingProblem((Task("a", "J", {"M": 5}),), ("M",), horizon=3)
    result = solve(problem, time_limit=LIMIT)
    assert result.status is Status.INFEASIBLE
    assert result.reason is not None
    assert "horizon" in result.reason


def test_infeasible_windows_report_a_reason() -> None:
    problem = SchedulingProblem((Task("a", "J", {"M": 5}),), ("M",), horizon=20, unavailable={"M": ((0, 18),)})
    result = solve(problem, time_limit=LIMIT)
    assert result.status is Status.INFEASIBLE
    assert result.schedule == ()
    assert result.reason


@pytest.mark.parametrize("seed", range(12))
def test_rich_random_problems_are_solved_validly_and_never_worse_than_the_rules(seed: int) -> None:
    problem = rich_problem(seed)
    result = solved(problem)
    for rule in Rule:
        assert result.cost <= cost(problem, dispatch(problem, rule))
    assert result.cost[0] == weighted_tardiness(problem, result.schedule)


@pytest.mark.parametrize("seed", range(4))
def test_the_cumulative_relaxation_keeps_the_optimum(seed: int) -> None:
    problem = dataclasses.replace(rich_problem(seed), objective=Objective.makespan())
    plain = solved(problem)
    start = dispatch(problem, Rule.MOST_WORK_REMAINING)
    model = CpSatModel(problem, horizon=makespan(start), floor=lower_bound(problem), cumulative=True)
    model.minimise(0)
    outcome = model.run(start, time_limit=LIMIT, workers=2, seed=0)
    assert validate(problem, outcome.placements) == []
    if plain.status is Status.OPTIMAL and outcome.status is Status.OPTIMAL:
        assert makespan(outcome.placements) == plain.objective


@pytest.mark.parametrize("seed", range(3))
def test_alternating_full_and_frozen_runs_stay_valid(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    solve_module = importlib.import_module("microfab.scheduling.solve")
    problem = rich_problem(seed + 20)
    start = dispatch(problem, Rule.MOST_WORK_REMAINING)
    model = CpSatModel(problem, horizon=makespan(start), floor=lower_bound(problem))
    model.minimise(0)
    runs: list[CpSatModel] = []
    real = CpSatModel.run

    def never_proven(self: CpSatModel, *args: Any, **kwargs: Any) -> Outcome:
        runs.append(self)
        outcome = real(self, *args, **kwargs)
        return dataclasses.replace(outcome, status=Status.FEASIBLE) if outcome.placements else outcome

    monkeypatch.setattr(CpSatModel, "run", never_proven)
    outcome = solve_module._alternate(model, start, time.perf_counter() + 0.6, 2, 0)
    assert validate(problem, outcome.placements) == []
    assert any(run is not model for run in runs), "no frozen run happened"
    assert outcome.value is not None
    assert (outcome.value,) <= cost(problem, start)

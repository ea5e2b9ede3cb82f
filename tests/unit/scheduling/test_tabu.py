"""The tabu search alone: valid, never worse, deterministic per seed, only where it models the problem exactly."""

from __future__ import annotations

import threading
import time

import pytest

from microfab.scheduling import greedy_schedule, tabu, validate
from microfab.scheduling.cpsat.model import _Stagnation
from microfab.scheduling.evaluate import makespan
from microfab.scheduling.problem import Criterion, Objective, Pin, SchedulingProblem, Setup, Task
from microfab.scheduling.result import Placement

from .conftest import RandomProblem, chain, random_problem

FAR = 1e9  # a deadline that never comes: the runs below end on their iteration counts


def assembly(seed: int) -> SchedulingProblem:
    """A random problem whose last tasks of two jobs feed one assembly task (two predecessors)."""
    base = random_problem(seed)
    ends = [t.id for t in base.tasks if not any(t.id in u.predecessors for u in base.tasks)]
    joined = Task("ASM", "A", dict.fromkeys(base.modules, 3), tuple(ends[:2]))
    first = Task("PRE", "A", {base.modules[0]: 2})
    feeds = Task("SUB", "A", {base.modules[-1]: 4}, ("PRE",))
    tasks = [t if t.id != base.tasks[0].id else Task(t.id, t.job, t.durations, ("SUB",)) for t in base.tasks]
    return SchedulingProblem((*tasks, first, feeds, joined), base.modules)


@pytest.mark.parametrize("seed", range(25))
def test_improve_returns_a_valid_schedule_never_worse(make_random_problem: RandomProblem, seed: int) -> None:
    problem = make_random_problem(seed)
    start = greedy_schedule(problem)
    best = tabu.improve(problem, start, deadline=FAR, seed=seed, max_iterations=300)
    assert validate(problem, best) == []
    assert makespan(best) <= makespan(start)
    assert {p.task for p in best} == {t.id for t in problem.tasks}


@pytest.mark.parametrize("seed", range(10))
def test_assembly_precedences_with_several_predecessors_stay_acyclic(seed: int) -> None:
    problem = assembly(seed)
    assert tabu.applies(problem)
    best = tabu.improve(problem, greedy_schedule(problem), deadline=FAR, seed=seed, max_iterations=400)
    assert validate(problem, best) == []


def test_the_flow_shop_reaches_johnsons_optimum(flow_shop: SchedulingProblem) -> None:
    # The greedy puts J2 first (makespan 10); J1 first gives 2 + 4 + 2 = 8, the optimum.
    best = tabu.improve(flow_shop, greedy_schedule(flow_shop), deadline=FAR, seed=0, max_iterations=200)
    assert makespan(best) == 8


def test_the_same_seed_gives_the_same_schedule_and_stops_at_the_target(make_random_problem: RandomProblem) -> None:
    problem = make_random_problem(7)
    start = greedy_schedule(problem)
    one = tabu.improve(problem, start, deadline=FAR, seed=3, max_iterations=250)
    two = tabu.improve(problem, start, deadline=FAR, seed=3, max_iterations=250)
    assert sorted(one, key=lambda p: p.task) == sorted(two, key=lambda p: p.task)
    # A target at the start's own makespan is met at once: the start comes back unchanged.
    same = tabu.improve(problem, start, deadline=FAR, seed=3, target=makespan(start))
    assert makespan(same) == makespan(start)


def test_a_deadline_in_the_past_returns_the_start(make_random_problem: RandomProblem) -> None:
    problem = make_random_problem(11)
    start = greedy_schedule(problem)
    best = tabu.improve(problem, start, deadline=time.perf_counter() - 1, seed=0)
    assert makespan(best) <= makespan(start)
    assert validate(problem, best) == []


def test_module_releases_and_task_releases_hold() -> None:
    problem = SchedulingProblem(
        (*chain("A", [{"M1": 3, "M2": 5}, {"M2": 2}], release=4), *chain("B", [{"M1": 2}, {"M1": 2, "M2": 1}])),
        ("M1", "M2"),
        module_release={"M2": 6},
    )
    best = tabu.improve(problem, greedy_schedule(problem), deadline=FAR, seed=1, max_iterations=100)
    assert validate(problem, best) == []


def _base() -> SchedulingProblem:
    return SchedulingProblem(tuple(chain("J", [{"M1": 2, "M2": 3}, {"M2": 1}])), ("M1", "M2"))


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"setups": {"M1": Setup(5)}}, "setups"),
        ({"unavailable": {"M2": ((0, 4),)}}, "unavailable windows"),
        ({"objective": Objective(({Criterion.TOTAL_COMPLETION: 1},))}, "another objective"),
        ({"objective": Objective(({Criterion.MAKESPAN: 1, Criterion.WEIGHTED_TARDINESS: 1},))}, "a weighted mix"),
    ],
)
def test_it_applies_only_to_what_it_models(change: dict[str, object], why: str) -> None:
    base = _base()
    assert tabu.applies(base)
    fields = {"tasks": base.tasks, "modules": base.modules, **change}
    assert not tabu.applies(SchedulingProblem(**fields)), why  # type: ignore[arg-type]


def test_fixed_work_and_batches_are_left_to_cp_sat() -> None:
    fixed = SchedulingProblem(
        (Task("A", "A", {"M1": 2}, fixed=Pin("M1", 0)), Task("B", "B", {"M1": 2, "M2": 2})), ("M1", "M2")
    )
    assert not tabu.applies(fixed)
    batched = SchedulingProblem(
        (Task("A", "A", {"M1": 2}, batch="k"), Task("B", "B", {"M1": 2}, batch="k")),
        ("M1",),
        batch_capacity={"M1": 2},
    )
    assert not tabu.applies(batched)


def test_a_start_whose_module_orders_close_a_cycle_is_refused() -> None:
    # A0 -> A1 and B0 -> B1; M1 runs B1 before A0 and M2 runs A1 before B0: A0 A1 B0 B1 A0 is a cycle.
    problem = SchedulingProblem(
        (*chain("A", [{"M1": 2}, {"M2": 2}]), *chain("B", [{"M2": 2}, {"M1": 2}])),
        ("M1", "M2"),
    )
    orders = [
        Placement("B.1", "M1", 0, 2),
        Placement("A.0", "M1", 5, 7),
        Placement("A.1", "M2", 0, 2),
        Placement("B.0", "M2", 5, 7),
    ]
    with pytest.raises(ValueError, match="contradict"):
        tabu.Sequencing.from_placements(problem, orders)


def test_stagnation_stops_the_search_after_its_patience() -> None:
    class Solver:
        def __init__(self) -> None:
            self.stopped = threading.Event()

        def stop_search(self) -> None:
            self.stopped.set()

    solver = Solver()
    with _Stagnation(solver, 0.1) as watch:  # type: ignore[arg-type]
        time.sleep(0.3)
        assert not solver.stopped.is_set()  # no solution yet: nothing to be patient about
        watch.on_solution_callback()
        assert solver.stopped.wait(2.0)

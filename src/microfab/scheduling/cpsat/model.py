"""The CP-SAT model of a `SchedulingProblem`: built once, solved stage by stage, read back as placements."""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from microfab.scheduling.cpsat.constraints import (
    add_cumulative_relaxation,
    add_module_releases,
    add_modules,
    add_precedence,
)
from microfab.scheduling.cpsat.objective import Criteria
from microfab.scheduling.cpsat.variables import TaskVars, add_task, start_floor
from microfab.scheduling.problem import SchedulingProblem
from microfab.scheduling.result import Placement, Status

logger = logging.getLogger("microfab.scheduling.solve")

STATUS = {
    cp_model.OPTIMAL: Status.OPTIMAL,
    cp_model.FEASIBLE: Status.FEASIBLE,
    cp_model.INFEASIBLE: Status.INFEASIBLE,
    cp_model.MODEL_INVALID: Status.MODEL_INVALID,
    cp_model.UNKNOWN: Status.UNKNOWN,
}

_OFF_TOPIC_SUBSOLVERS = (
    "graph_arc_lns",
    "graph_cst_lns",
    "graph_dec_lns",
    "graph_var_lns",
    "rnd_cst_lns",
    "rnd_var_lns",
    "feasibility_pump",
)
"""Generic neighbourhoods that leave the scheduling ones (intervals, precedences, time windows) less time."""


_PROBING_LIMIT = 1000
"""Above this many tasks, presolve does no probing."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One CP-SAT run: status, placements (empty without a solution), objective value and its bound."""

    status: Status
    placements: tuple[Placement, ...]
    value: int | None
    bound: int | None


class CpSatModel:
    """Variables, constraints and the objective's criteria of one problem.

    Parameters
    ----------
    problem
        What to model.
    horizon
        No task ends after it.
    floor
        A lower bound on the makespan.
    frozen
        Task id -> a placement whose module the task keeps; the frozen tasks of each module
        also keep their order there (a neighbourhood of large-neighbourhood search).
    cumulative
        Add the redundant cumulative per machine group. Off by default: on Brandimarte Mk05,
        Mk09 and Mk10 (10 s, 2 workers, two runs each) it made makespans 1-4 % worse.
    keep_order
        Whether frozen tasks also keep their order on their module (else only the module).
    padded
        Modules whose setups are a padding before each task (see `padded_setups`).
    """

    def __init__(
        self,
        problem: SchedulingProblem,
        *,
        horizon: int,
        floor: int,
        frozen: Mapping[str, Placement] | None = None,
        padded: Mapping[str, Mapping[str | None, int]] | None = None,
        keep_order: bool = True,
        cumulative: bool = False,
    ) -> None:
        self.problem = problem
        self.horizon, self.floor, self.padded = horizon, floor, padded or {}
        self.model = cp_model.CpModel()
        frozen = frozen or {}
        low = start_floor(problem)
        self.tasks: dict[str, TaskVars] = {
            task.id: add_task(
                self.model,
                task,
                low=low,
                horizon=horizon,
                frozen_module=frozen[task.id].module if task.id in frozen else None,
            )
            for task in problem.tasks
        }
        add_precedence(self.model, problem, self.tasks)
        add_module_releases(self.model, problem, self.tasks)
        add_modules(self.model, problem, self.tasks, horizon=horizon, padded=self.padded)
        if cumulative and not any(problem.batches(m) for m in problem.modules):
            add_cumulative_relaxation(self.model, problem, self.tasks)
        if keep_order:
            self._keep_order(frozen)
        self.criteria = Criteria(self.model, problem, self.tasks, floor=floor, horizon=horizon)

    def _keep_order(self, frozen: Mapping[str, Placement]) -> None:
        by_module: dict[str, list[Placement]] = defaultdict(list)
        for placement in frozen.values():
            by_module[placement.module].append(placement)
        for placements in by_module.values():
            placements.sort(key=lambda p: (p.start, p.task))
            for before, after in itertools.pairwise(placements):
                self.model.add(self.tasks[before.task].end <= self.tasks[after.task].start)

    def minimise(self, stage: int) -> None:
        """Make stage *stage* of the problem's objective the model's objective."""
        self.model.minimize(self.criteria.stage(self.problem.objective.stages[stage]))

    def keep(self, stage: int, value: int) -> None:
        """Forbid solutions worse than *value* on stage *stage*."""
        self.model.add(self.criteria.stage(self.problem.objective.stages[stage]) <= value)

    def run(
        self, hint: Sequence[Placement], *, time_limit: float, workers: int, seed: int, patience: float | None = None
    ) -> Outcome:
        """Solve with the current objective, starting from *hint* (a complete schedule, or empty).

        With *patience*, the search also stops once that many seconds pass without a better
        solution (counted from the first one): the caller has a better use for the time left.
        """
        self._hint(hint)
        solver = cp_model.CpSolver()
        configure(solver, time_limit=time_limit, workers=workers, seed=seed, tasks=len(self.tasks))
        if patience is None:
            status = STATUS[solver.solve(self.model)]
        else:
            with _Stagnation(solver, patience) as watch:
                status = STATUS[solver.solve(self.model, watch)]
        if status not in (Status.OPTIMAL, Status.FEASIBLE):
            return Outcome(status, (), None, None)
        placements = []
        for task_id, variables in self.tasks.items():
            module = next(m for m, lit in variables.chosen.items() if isinstance(lit, int) or solver.boolean_value(lit))
            start = solver.value(variables.start)
            placements.append(Placement(task_id, module, start, start + variables.task.durations[module]))
        value = round(solver.objective_value)
        return Outcome(status, tuple(placements), value, math.ceil(solver.best_objective_bound - 1e-6))

    def _hint(self, hint: Sequence[Placement]) -> None:
        model = self.model
        model.clear_hints()  # type: ignore[no-untyped-call]  # ortools leaves it unannotated
        for placement in hint:
            variables = self.tasks[placement.task]
            if variables.task.fixed is not None:
                continue
            model.add_hint(variables.start, placement.start)
            model.add_hint(variables.end, placement.end)
            if not isinstance(variables.size, int):
                model.add_hint(variables.size, placement.end - placement.start)
            for module, literal in variables.chosen.items():
                if not isinstance(literal, int):
                    model.add_hint(literal, module == placement.module)
        if hint:
            self._hint_criteria(hint)

    def _hint_criteria(self, hint: Sequence[Placement]) -> None:
        """Hint the criteria's helper variables too: a complete hint is tried as a solution at once."""
        model, criteria = self.model, self.criteria
        end = {p.task: p.end for p in hint}
        if criteria.makespan is not None:
            model.add_hint(criteria.makespan, max(end.values()))
        completion: dict[str, int] = {}
        for task_id, variables in self.tasks.items():
            job = variables.task.job
            completion[job] = max(completion.get(job, 0), end.get(task_id, 0))
        for job, variable in criteria.completion.items():
            model.add_hint(variable, completion[job])
        for task_id, variable in criteria.tardiness.items():
            due = self.tasks[task_id].task.due
            assert due is not None
            model.add_hint(variable, max(0, end.get(task_id, 0) - due))


def configure(solver: cp_model.CpSolver, *, time_limit: float, workers: int, seed: int, tasks: int = 0) -> None:
    """Set the solver's limits and its scheduling-minded portfolio; solver logs go to `logging` at DEBUG.

    On large problems presolve skips probing, which alone can take seconds there.
    """
    params = solver.parameters
    if tasks > _PROBING_LIMIT:
        params.cp_model_probing_level = 0
    params.max_time_in_seconds = time_limit
    params.num_workers = workers
    params.random_seed = seed
    if workers > 1:
        params.ignore_subsolvers.extend(_OFF_TOPIC_SUBSOLVERS)
    if logger.isEnabledFor(logging.DEBUG):
        params.log_search_progress = True
        params.log_to_stdout = False
        solver.log_callback = logger.debug


class _Stagnation(cp_model.CpSolverSolutionCallback):
    """Stops a solve once *patience* seconds pass without a new solution (after the first one)."""

    def __init__(self, solver: cp_model.CpSolver, patience: float) -> None:
        super().__init__()
        self._solver, self._patience = solver, patience
        self._last: float | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="cpsat-patience", daemon=True)

    def on_solution_callback(self) -> None:
        """Note when the search last found a better solution."""
        self._last = time.perf_counter()

    def _watch(self) -> None:
        while not self._done.wait(0.05):
            if self._last is not None and time.perf_counter() - self._last > self._patience:
                self._solver.stop_search()
                return

    def __enter__(self) -> _Stagnation:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()

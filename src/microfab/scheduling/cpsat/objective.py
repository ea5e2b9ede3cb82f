"""The criteria of the CP-SAT model as linear expressions, built only when an objective uses them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from ortools.sat.python import cp_model

from microfab.scheduling.cpsat.variables import TaskVars
from microfab.scheduling.problem import Criterion, SchedulingProblem


class Criteria:
    """Builds each criterion's expression once, on demand."""

    def __init__(
        self,
        model: cp_model.CpModel,
        problem: SchedulingProblem,
        tasks: Mapping[str, TaskVars],
        *,
        floor: int,
        horizon: int,
    ) -> None:
        self.model, self.problem, self.tasks = model, problem, tasks
        self.floor, self.horizon = floor, horizon
        self._built: dict[Criterion, cp_model.LinearExprT] = {}
        self.makespan: cp_model.IntVar | None = None
        self.completion: dict[str, cp_model.IntVar] = {}
        self.tardiness: dict[str, cp_model.IntVar] = {}

    def expression(self, criterion: Criterion) -> cp_model.LinearExprT:
        """The linear expression of *criterion*."""
        if criterion not in self._built:
            build = {
                Criterion.MAKESPAN: self._makespan,
                Criterion.TOTAL_COMPLETION: self._total_completion,
                Criterion.WEIGHTED_TARDINESS: self._weighted_tardiness,
                Criterion.STABILITY: self._stability,
            }[criterion]
            self._built[criterion] = build()
        return self._built[criterion]

    def stage(self, weights: Mapping[Criterion, int]) -> cp_model.LinearExprT:
        """One lexicographic stage: the weighted sum of its criteria."""
        return sum(w * self.expression(c) for c, w in weights.items())

    def _makespan(self) -> cp_model.LinearExprT:
        self.makespan = self.model.new_int_var(self.floor, self.horizon, "makespan")
        for variables in self.tasks.values():
            self.model.add(self.makespan >= variables.end)
        return self.makespan

    def _total_completion(self) -> cp_model.LinearExprT:
        ends: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        for variables in self.tasks.values():
            ends[variables.task.job].append(variables.end)
        for job, job_ends in ends.items():
            completion = self.model.new_int_var(0, self.horizon, f"C[{job}]")
            for end in job_ends:
                self.model.add(completion >= end)
            self.completion[job] = completion
        return sum(self.completion.values())

    def _weighted_tardiness(self) -> cp_model.LinearExprT:
        terms = []
        for task_id, variables in self.tasks.items():
            task = variables.task
            if task.due is None or task.weight == 0:
                continue
            late = self.model.new_int_var(0, max(0, self.horizon - task.due), f"T[{task_id}]")
            self.model.add(late >= variables.end - task.due)
            self.tardiness[task_id] = late
            terms.append(task.weight * late)
        return sum(terms)

    def _stability(self) -> cp_model.LinearExprT:
        terms: list[cp_model.LinearExprT] = []
        for task_id, before in self.problem.reference.items():
            variables = self.tasks[task_id]
            if variables.task.fixed is not None:
                continue
            moved = self.model.new_int_var(0, self.horizon + abs(before.start), f"moved[{task_id}]")
            self.model.add_abs_equality(moved, variables.start - before.start)
            terms.append(moved)
            literal = variables.chosen.get(before.module, 0)
            duration = before.end - before.start
            if isinstance(literal, int):
                terms.append(duration * (1 - literal))
            else:
                terms.append(duration - duration * literal)
        return sum(terms)

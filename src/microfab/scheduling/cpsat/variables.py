"""The decision variables of the CP-SAT model: per task a start, an end, a module choice, intervals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from microfab.scheduling.problem import SchedulingProblem, Task


@dataclass(slots=True)
class TaskVars:
    """One task's variables; ``chosen`` holds a literal per eligible module (a constant when there is one)."""

    task: Task
    start: cp_model.IntVar
    end: cp_model.IntVar
    size: cp_model.IntVar | int
    interval: cp_model.IntervalVar
    chosen: dict[str, cp_model.IntVar | int]
    on: dict[str, cp_model.IntervalVar] = field(default_factory=dict)

    def literal(self, module: str) -> cp_model.IntVar | int:
        """The literal (or constant 1) that says the task runs on *module*."""
        return self.chosen[module]


def eligible(task: Task, frozen_module: str | None = None) -> Mapping[str, int]:
    """The modules the model may choose for *task*: its fixed one, a frozen one, or all."""
    if task.fixed is not None:
        return {task.fixed.module: task.durations[task.fixed.module]}
    if frozen_module is not None:
        return {frozen_module: task.durations[frozen_module]}
    return task.durations


def add_task(
    model: cp_model.CpModel, task: Task, *, low: int, horizon: int, frozen_module: str | None = None
) -> TaskVars:
    """Create *task*'s variables: start/end in ``[low, horizon]``, one literal per eligible module."""
    modules = eligible(task, frozen_module)
    if task.fixed is not None:
        start_value = task.fixed.start
        start = model.new_constant(start_value)
        end = model.new_constant(start_value + modules[task.fixed.module])
    else:
        start = model.new_int_var(max(low, task.release), horizon, f"start[{task.id}]")
        end = model.new_int_var(low, horizon, f"end[{task.id}]")
    lengths = sorted(set(modules.values()))
    size: cp_model.IntVar | int = lengths[0]
    chosen: dict[str, cp_model.IntVar | int] = {}
    if len(modules) == 1:
        chosen = {next(iter(modules)): 1}
    else:
        chosen = {m: model.new_bool_var(f"on[{task.id},{m}]") for m in modules}
        model.add_exactly_one(chosen.values())
        if len(lengths) > 1:  # an interval's size must be affine: a variable tied to the choice
            size = model.new_int_var_from_domain(cp_model.Domain.from_values(lengths), f"size[{task.id}]")
            model.add(size == sum(d * chosen[m] for m, d in modules.items()))
    interval = model.new_interval_var(start, size, end, f"task[{task.id}]")
    variables = TaskVars(task, start, end, size, interval, chosen)
    for module, duration in modules.items():
        literal = chosen[module]
        if isinstance(literal, int):
            variables.on[module] = interval
        else:
            variables.on[module] = model.new_optional_fixed_size_interval_var(
                start, duration, literal, f"{task.id}@{module}"
            )
    return variables


def start_floor(problem: SchedulingProblem) -> int:
    """The lowest start any task can have: 0, or earlier for fixed tasks that started before time zero."""
    return min([0, *(t.fixed.start for t in problem.tasks if t.fixed is not None)])

"""The constraints of the CP-SAT model: precedence, module capacity, windows, setups, redundant cumulatives."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from ortools.sat.python import cp_model

from microfab.scheduling.cpsat.variables import TaskVars
from microfab.scheduling.problem import SchedulingProblem

CIRCUIT_LIMIT = 30
"""Modules with up to this many candidate tasks get exact setups (a circuit); larger ones a padding
(see `microfab.scheduling.heuristics.padded_setups`)."""

CUMULATIVE_GROUPS = 40
"""At most this many redundant cumulatives (the largest machine groups)."""

BATCH_REACH = 4
"""A task may join the batch of one of the ``BATCH_REACH * capacity`` tasks of its key before it
(input order) on a module: the model stays linear in the tasks while small orders, whose tasks come
together, can batch fully."""

Run = tuple[cp_model.IntVar | int, cp_model.IntervalVar]
"""A task's own run on a module: the literal that it is there and leads its run, and its interval."""


def add_precedence(model: cp_model.CpModel, problem: SchedulingProblem, tasks: Mapping[str, TaskVars]) -> None:
    """``end(pred) <= start(succ)`` for every precedence."""
    for task in problem.tasks:
        for pred in task.predecessors:
            model.add(tasks[pred].end <= tasks[task.id].start)


def add_module_releases(model: cp_model.CpModel, problem: SchedulingProblem, tasks: Mapping[str, TaskVars]) -> None:
    """A free task starts on a module no earlier than the module's release."""
    for variables in tasks.values():
        if variables.task.fixed is not None:
            continue
        for module, literal in variables.chosen.items():
            release = problem.module_release.get(module, 0)
            if release > variables.task.release:
                constraint = model.add(variables.start >= release)
                if not isinstance(literal, int):
                    constraint.only_enforce_if(literal)


def add_modules(
    model: cp_model.CpModel,
    problem: SchedulingProblem,
    tasks: Mapping[str, TaskVars],
    *,
    horizon: int,
    padded: Mapping[str, Mapping[str | None, int]],
) -> None:
    """One NoOverlap per module over its tasks and its unavailable windows; setups where families change."""
    by_module: dict[str, list[TaskVars]] = defaultdict(list)
    for variables in tasks.values():
        for module in variables.on:
            by_module[module].append(variables)
    for module in problem.modules:
        candidates = by_module.get(module, [])
        runs = _runs(model, problem, module, candidates)
        windows = [
            model.new_fixed_size_interval_var(start, end - start, f"off[{module},{start}]")
            for start, end in _windows(problem, module, candidates, horizon)
        ]
        if module in padded:
            intervals = _padded(model, problem, module, candidates, padded[module], runs) + windows
        elif _needs_setups(problem, module, candidates):
            intervals = [runs[v.task.id][1] for v in candidates] + windows
            _add_circuit(model, problem, module, candidates, runs)
        else:
            intervals = [runs[v.task.id][1] for v in candidates] + windows
        if len(intervals) > 1:
            model.add_no_overlap(intervals)


def _runs(
    model: cp_model.CpModel, problem: SchedulingProblem, module: str, candidates: Sequence[TaskVars]
) -> dict[str, Run]:
    """Each candidate's own run on *module*; on a batching module, tasks of one key may join another's run.

    A task on the module either leads its own run or joins the run of an earlier task of its
    key (within `BATCH_REACH` times the capacity), starting with it; a run holds at most the
    module's capacity. Only leading tasks' intervals go into the module's NoOverlap and setups.
    """
    runs: dict[str, Run] = {v.task.id: (v.chosen[module], v.on[module]) for v in candidates}
    if not problem.batches(module):
        return runs
    capacity = problem.batch_capacity[module]
    groups: dict[str, list[TaskVars]] = defaultdict(list)
    for variables in candidates:
        if variables.task.batch is not None:
            groups[variables.task.batch].append(variables)
    for group in groups.values():
        if len(group) < 2:
            continue
        leads: list[cp_model.IntVar] = []
        members: list[list[cp_model.IntVar]] = []
        for j, variables in enumerate(group):
            task = variables.task
            own = model.new_bool_var(f"leads[{module},{task.id}]")
            joins = []
            for i in range(max(0, j - BATCH_REACH * capacity), j):
                join = model.new_bool_var(f"joins[{module},{task.id},{group[i].task.id}]")
                model.add_implication(join, leads[i])
                model.add(variables.start == group[i].start).only_enforce_if(join)
                members[i].append(join)
                joins.append(join)
            model.add(own + sum(joins) == variables.chosen[module])
            interval = model.new_optional_fixed_size_interval_var(
                variables.start, task.durations[module], own, f"run[{task.id}@{module}]"
            )
            runs[task.id] = (own, interval)
            leads.append(own)
            members.append([])
        for own, joined in zip(leads, members, strict=True):
            if joined:
                model.add(sum(joined) <= (capacity - 1) * own)
    return runs


def _windows(
    problem: SchedulingProblem, module: str, candidates: Sequence[TaskVars], horizon: int
) -> list[tuple[int, int]]:
    """The module's unavailable windows up to the horizon, minus the spans of tasks fixed there."""
    fixed = sorted(
        (v.task.fixed.start, v.task.fixed.start + v.task.durations[module])
        for v in candidates
        if v.task.fixed is not None and v.task.fixed.module == module
    )
    pieces = []
    for start, end in problem.unavailable.get(module, ()):
        low, high = start, min(end, horizon)
        for fixed_start, fixed_end in fixed:
            if fixed_end <= low or fixed_start >= high:
                continue
            if fixed_start > low:
                pieces.append((low, fixed_start))
            low = max(low, fixed_end)
        if high > low:
            pieces.append((low, high))
    return pieces


def _needs_setups(problem: SchedulingProblem, module: str, candidates: Sequence[TaskVars]) -> bool:
    setup = problem.setups.get(module)
    if setup is None or setup.longest == 0:
        return False
    families = {v.task.family for v in candidates if v.task.family is not None}
    initial = problem.initial_family.get(module)
    return len(families) > 1 or (initial is not None and bool(families - {initial}))


def _add_circuit(
    model: cp_model.CpModel,
    problem: SchedulingProblem,
    module: str,
    candidates: Sequence[TaskVars],
    runs: Mapping[str, Run],
) -> None:
    """Exact sequence-dependent setups: a circuit through the module's tasks (node 0 is the depot)."""
    arcs: list[tuple[int, int, cp_model.LiteralT]] = []
    initial = problem.initial_family.get(module)
    release = problem.module_release.get(module, 0)
    for i, first in enumerate(candidates, start=1):
        present = runs[first.task.id][0]
        is_first = model.new_bool_var(f"first[{module},{first.task.id}]")
        arcs += [(0, i, is_first), (i, 0, model.new_bool_var(f"last[{module},{first.task.id}]"))]
        if not isinstance(present, int):
            arcs.append((i, i, ~present))
        lead = problem.setup(module, initial, first.task.family)
        if lead and first.task.fixed is None:
            model.add(first.start >= release + lead).only_enforce_if(is_first)
        for j, second in enumerate(candidates, start=1):
            if i == j:
                continue
            follows = model.new_bool_var(f"next[{module},{first.task.id},{second.task.id}]")
            arcs.append((i, j, follows))
            gap = problem.setup(module, first.task.family, second.task.family)
            model.add(second.start >= first.end + gap).only_enforce_if(follows)
    arcs.append((0, 0, model.new_bool_var(f"empty[{module}]")))
    model.add_circuit(arcs)


def _padded(
    model: cp_model.CpModel,
    problem: SchedulingProblem,
    module: str,
    candidates: Sequence[TaskVars],
    pads: Mapping[str | None, int],
    runs: Mapping[str, Run],
) -> list[cp_model.IntervalVar]:
    """Conservative setups for large modules: each task books the longest setup any family may need before it."""
    release = problem.module_release.get(module, 0)
    initial = problem.initial_family.get(module)
    intervals = []
    for variables in candidates:
        task, (literal, own) = variables.task, runs[variables.task.id]
        pad = pads[task.family]
        if task.fixed is not None:
            intervals.append(own)
            continue
        duration = task.durations[module]
        lead = problem.setup(module, initial, task.family)
        if lead:
            constraint = model.add(variables.start >= release + lead)
            if not isinstance(literal, int):
                constraint.only_enforce_if(literal)
        if isinstance(literal, int):
            interval = model.new_fixed_size_interval_var(variables.start - pad, duration + pad, f"pad[{task.id}]")
        else:
            interval = model.new_optional_fixed_size_interval_var(
                variables.start - pad, duration + pad, literal, f"pad[{task.id}@{module}]"
            )
        intervals.append(interval)
    return intervals


def add_cumulative_relaxation(
    model: cp_model.CpModel, problem: SchedulingProblem, tasks: Mapping[str, TaskVars]
) -> None:
    """Redundant: the tasks that can only run inside a group of k modules never exceed k at a time."""
    groups: dict[frozenset[str], int] = defaultdict(int)
    eligible = {task_id: frozenset(v.on) for task_id, v in tasks.items()}
    for modules in eligible.values():
        if len(modules) > 1:
            groups[modules] += 1
    chosen = sorted(groups, key=lambda g: (-groups[g], sorted(g)))[:CUMULATIVE_GROUPS]
    for group in chosen:
        members = [v.interval for task_id, v in tasks.items() if eligible[task_id] <= group]
        if len(members) > len(group):
            model.add_cumulative(members, [1] * len(members), len(group))

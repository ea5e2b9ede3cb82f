"""The scheduling engine: place operations on modules in time (flexible job shop, CP-SAT).

Build a `SchedulingProblem` from domain operations with `problem_from_operations`, `solve`
it (or `repair` a previous schedule), check the schedule with `validate`, and turn the
`Result` back into a domain `Schedule` with `to_schedule`.
"""

from microfab.scheduling.build import Conditions, problem_from_operations, to_schedule
from microfab.scheduling.heuristics import Rule, dispatch, greedy_schedule
from microfab.scheduling.problem import Criterion, Objective, Pin, SchedulingProblem, Setup, Task
from microfab.scheduling.repair import repair
from microfab.scheduling.result import Placement, Result, Status
from microfab.scheduling.solve import lower_bound, solve
from microfab.scheduling.validate import validate

__all__ = [
    "Conditions",
    "Criterion",
    "Objective",
    "Pin",
    "Placement",
    "Result",
    "Rule",
    "SchedulingProblem",
    "Setup",
    "Status",
    "Task",
    "dispatch",
    "greedy_schedule",
    "lower_bound",
    "problem_from_operations",
    "repair",
    "solve",
    "to_schedule",
    "validate",
]

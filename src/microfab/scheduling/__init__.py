"""The scheduling engine: place operations on modules in time (flexible job shop, CP-SAT).

Build a `SchedulingProblem` from domain operations with `problem_from_operations`, `solve`
it, check the placements with `validate`, and turn the `Result` back into a domain
`Schedule` with `to_schedule`.
"""

from microfab.scheduling.build import problem_from_operations, to_schedule
from microfab.scheduling.problem import Placement, Result, SchedulingProblem, Status, Task
from microfab.scheduling.solve import greedy_schedule, lower_bound, solve
from microfab.scheduling.validate import validate

__all__ = [
    "Placement",
    "Result",
    "SchedulingProblem",
    "Status",
    "Task",
    "greedy_schedule",
    "lower_bound",
    "problem_from_operations",
    "solve",
    "to_schedule",
    "validate",
]

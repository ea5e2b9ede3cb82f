"""What the scheduling engine gives back: placements and a `Result` (status, objective, bound, runtime)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from microfab.domain.quantities import Seconds


class Status(enum.Enum):
    """How a solve ended (the CP-SAT statuses)."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNKNOWN = "unknown"
    MODEL_INVALID = "model_invalid"


@dataclass(frozen=True, slots=True)
class Placement:
    """Task *task* runs on *module* from second *start* to *end*."""

    task: str
    module: str
    start: Seconds
    end: Seconds


@dataclass(frozen=True, slots=True)
class Result:
    """What a solve returns.

    Parameters
    ----------
    status
        How the solve ended; the schedule is empty unless OPTIMAL or FEASIBLE.
    schedule
        One placement per task, sorted by start, module and task id.
    objective
        The makespan of the schedule (the headline figure, whatever was optimised), or None
        without a schedule.
    lower_bound
        A proven lower bound on the makespan, or None if none is known.
    runtime
        Wall-clock seconds spent in the solve.
    reason
        Why there is no schedule (infeasible or invalid input), when it is known.
    cost
        The value of the problem's objective (all stages, weighted) for the schedule.
    """

    status: Status
    schedule: tuple[Placement, ...]
    objective: int | None
    lower_bound: int | None
    runtime: float
    reason: str | None = None
    cost: tuple[int, ...] = ()

    @property
    def placements(self) -> tuple[Placement, ...]:
        """The schedule (the skeleton's name for it)."""
        return self.schedule

    @property
    def has_schedule(self) -> bool:
        """Whether the solve produced a schedule (OPTIMAL or FEASIBLE)."""
        return self.status in (Status.OPTIMAL, Status.FEASIBLE)

"""Schedules: operations placed on modules in time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ScheduledOperation:
    """An operation placed on a module from *start* to *end*."""

    operation_id: str
    module: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"end: operation {self.operation_id} ends before it starts")


@dataclass(frozen=True, slots=True)
class Schedule:
    """A site's schedule; always checked by the independent validator before use."""

    site: str
    created_at: datetime
    operations: tuple[ScheduledOperation, ...]

    def for_module(self, module: str) -> list[ScheduledOperation]:
        """The module's operations in start order."""
        return sorted((o for o in self.operations if o.module == module), key=lambda o: (o.start, o.operation_id))

    @property
    def makespan_end(self) -> datetime | None:
        """When the last operation ends, or None for an empty schedule."""
        return max((o.end for o in self.operations), default=None)

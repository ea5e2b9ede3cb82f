"""Operations: one routing step of one unit, the thing a schedule places and a module executes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from microfab.domain.quantities import Duration


@dataclass(frozen=True, slots=True)
class Operation:
    """One routing step of one unit (ISA-95 *job order* segment).

    ``standard`` is the step's standard time; a module's own time is
    ``ModuleType.processing_time(standard)``. ``family`` drives setups.
    """

    id: str
    order_id: str
    serial: str
    index: int
    step: str
    capability: str
    standard: Duration
    family: str
    predecessors: tuple[str, ...]
    release: datetime
    due: datetime

    def __post_init__(self) -> None:
        if self.release.tzinfo is None or self.due.tzinfo is None:
            raise ValueError("release/due: expected timezone-aware datetimes")


def operation_id(serial: str, index: int) -> str:
    """The id of step *index* of unit *serial*."""
    return f"{serial}#{index:02d}"

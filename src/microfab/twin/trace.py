"""A compact, columnar event trace of a standalone run: one typed array per column.

Five arrays (time, kind, module, job, operation) hold every event; a 100,000-job run fits in
a few megabytes. `Trace.gantt` turns it into bars (one per setup, processing segment or
downtime) for a Gantt chart or an animation.
"""

from __future__ import annotations

import enum
from array import array
from dataclasses import dataclass
from typing import Any


class TraceKind(enum.IntEnum):
    """What happened; module and job are -1 when not concerned."""

    ARRIVE = 0
    START = 1
    PROCESS = 2
    END = 3
    END_BAD = 4
    SUSPEND = 5
    RESUME = 6
    FAIL = 7
    REPAIR = 8
    MAINTENANCE_START = 9
    MAINTENANCE_END = 10
    DEPLOY = 11
    RETIRE = 12
    DONE = 13
    DELIVER = 14
    OUTAGE_START = 15
    OUTAGE_END = 16


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a Gantt chart: *what* (``setup``, ``execute``, ``down``: breakdown or outage, ``maintenance``)."""

    module: int
    start: float
    end: float
    what: str
    job: int = -1
    operation: int = -1


class Trace:
    """Columns ``t``, ``kind``, ``module``, ``job``, ``operation`` of equal length."""

    __slots__ = ("job", "kind", "module", "operation", "t")

    def __init__(self) -> None:
        self.t = array("d")
        self.kind = array("B")
        self.module = array("i")
        self.job = array("i")
        self.operation = array("i")

    def __len__(self) -> int:
        return len(self.t)

    def append(self, t: float, kind: TraceKind, module: int, job: Any) -> None:
        """Add one row; *job* is the run's job object (its index and current operation) or None."""
        self.t.append(t)
        self.kind.append(kind)
        self.module.append(module)
        if job is None:
            self.job.append(-1)
            self.operation.append(-1)
        else:
            self.job.append(job.idx)
            self.operation.append(job.next_op)

    def rows(self) -> list[tuple[float, TraceKind, int, int, int]]:
        """All rows as tuples, in time order."""
        return [
            (t, TraceKind(k), m, j, o)
            for t, k, m, j, o in zip(self.t, self.kind, self.module, self.job, self.operation, strict=True)
        ]

    def gantt(self, end: float) -> list[Bar]:
        """Bars of work and downtime per module; what is still open at *end* is cut there."""
        bars: list[Bar] = []
        work: dict[int, tuple[float, str, int, int]] = {}  # module -> (since, what, job, op)
        down: dict[int, tuple[float, str]] = {}
        for t, kind, m, j, o in self.rows():
            if kind is TraceKind.START:
                work[m] = (t, "setup", j, o)
            elif kind is TraceKind.PROCESS:
                _close(bars, work, m, t)
                work[m] = (t, "execute", j, o)
            elif kind is TraceKind.RESUME and m in work:
                _, what, job, op = work[m]
                work[m] = (t, what, job, op)
            elif kind is TraceKind.SUSPEND and m in work:
                _close(bars, work, m, t)
                _, what, job, op = work[m]
                work[m] = (-1.0, what, job, op)
            elif kind is TraceKind.END or kind is TraceKind.END_BAD:
                _close(bars, work, m, t)
                work.pop(m, None)
            elif kind in _DOWN_FROM:
                down.setdefault(m, (t, _DOWN_FROM[kind]))
            elif kind in _DOWN_UNTIL and m in down:
                since, what = down.pop(m)
                bars.append(Bar(m, since, t, what))
        for m in list(work):
            _close(bars, work, m, end)
        for m, (since, what) in down.items():
            bars.append(Bar(m, since, end, what))
        bars.sort(key=lambda b: (b.module, b.start))
        return bars


_DOWN_FROM = {TraceKind.FAIL: "down", TraceKind.OUTAGE_START: "down", TraceKind.MAINTENANCE_START: "maintenance"}
_DOWN_UNTIL = {TraceKind.REPAIR, TraceKind.OUTAGE_END, TraceKind.MAINTENANCE_END}


def _close(bars: list[Bar], work: dict[int, tuple[float, str, int, int]], m: int, t: float) -> None:
    if m in work:
        since, what, job, op = work[m]
        if since >= 0 and (t > since or (t == since and what == "execute")):
            bars.append(Bar(m, since, t, what, job, op))

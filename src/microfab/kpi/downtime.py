"""Downtime Pareto: which modules and which reasons cost the most down hours (ISO 22400 ADOT by cause)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from microfab.domain.events import Event, ModuleFaulted, ModuleRepaired


@dataclass(frozen=True, slots=True)
class DowntimeCause:
    """Down hours and faults of one (module, reason), with the cumulative share of all down hours."""

    module: str
    reason: str
    faults: int
    hours: float
    cumulative_share: float


def downtime_pareto(
    events: Iterable[Event], modules: Collection[str], start: datetime, end: datetime
) -> list[DowntimeCause]:
    """Down time inside ``[start, end]`` per (module, reason), largest first (faults still open count to *end*)."""
    open_since: dict[str, tuple[datetime, str]] = {}
    totals: dict[tuple[str, str], list[float]] = {}

    def close(module: str, until: datetime) -> None:
        since, reason = open_since.pop(module)
        span = max(min(until, end) - max(since, start), timedelta(0)).total_seconds() / 3600
        entry = totals.setdefault((module, reason), [0, 0.0])
        entry[0] += since >= start
        entry[1] += span

    for event in events:
        if isinstance(event, ModuleFaulted) and event.module in modules:
            open_since[event.module] = (event.at, event.reason)
        elif isinstance(event, ModuleRepaired) and event.module in open_since:
            close(event.module, event.at)
    for module in list(open_since):
        close(module, end)
    ranked = sorted(((k, v) for k, v in totals.items() if v[1] > 0), key=lambda kv: (-kv[1][1], kv[0]))
    total = sum(v[1] for _, v in ranked) or 1.0
    causes, running = [], 0.0
    for (module, reason), (faults, hours) in ranked:
        running += hours
        causes.append(DowntimeCause(module, reason, int(faults), hours, running / total))
    return causes

"""OEE per module and per site from the event log, after ISO 22400-2:2014.

Time buckets over an observation window, for each module:

- PBT, planned busy time: the window minus planned downtime (none yet: modules run 24/7).
- APT, actual production time: processing, with downtime that interrupted it removed.
- AUST, actual unit setup time: changeovers between product families.
- ADOT, actual unit down time: from ``ModuleFaulted`` to ``ModuleRepaired``.
- PQ, produced quantity (operations finished), GQ good quantity, and the ideal time of
  the finished work (PRI x PQ, from each ``OperationCompleted.ideal``).

Availability = APT / PBT, effectiveness (performance) = PRI x PQ / APT, quality = GQ / PQ,
OEE = availability x effectiveness x quality (ISO 22400-2, KPIs 1200-1203 family).
With PBT taken as calendar time, an idle, starved module loses availability, so OEE here
also measures how much of the lights-out calendar the network turns into good output.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from microfab.domain.events import Event, ModuleFaulted, ModuleRepaired, OperationCompleted, OperationStarted
from microfab.domain.iso22400 import OeeRatios


@dataclass(slots=True)
class ModuleKpis(OeeRatios):
    """ISO 22400 time buckets (seconds) and counts of one module or a group of modules."""

    name: str
    pbt: float = 0.0
    apt: float = 0.0
    aust: float = 0.0
    adot: float = 0.0
    ideal: float = 0.0
    produced: int = 0
    good: int = 0
    faults: int = 0
    _down: list[tuple[datetime, datetime]] = field(default_factory=list, repr=False)

    @property
    def mtbf_hours(self) -> float | None:
        """Observed mean operating time between failures, in hours (None without failures)."""
        return (self.pbt - self.adot) / self.faults / 3600 if self.faults else None

    @property
    def mttr_hours(self) -> float | None:
        """Observed mean time to repair, in hours (None without failures)."""
        return self.adot / self.faults / 3600 if self.faults else None

    @property
    def scrap_ratio(self) -> float | None:
        """Scrapped / produced quantity (ISO 22400-2 scrap ratio; None when nothing was produced)."""
        return (self.produced - self.good) / self.produced if self.produced else None

    def throughput_per_hour(self, hours: float) -> float | None:
        """Good quantity per hour of a window of *hours* (ISO 22400-2 throughput rate; None for an empty window)."""
        return self.good / hours if hours > 0 else None

    def add(self, other: ModuleKpis) -> None:
        """Add another module's buckets and counts into this one."""
        self.pbt += other.pbt
        self.apt += other.apt
        self.aust += other.aust
        self.adot += other.adot
        self.ideal += other.ideal
        self.produced += other.produced
        self.good += other.good
        self.faults += other.faults


def module_kpis(
    events: Iterable[Event], modules: Iterable[str], start: datetime, end: datetime
) -> dict[str, ModuleKpis]:
    """Compute the buckets of every module in *modules* over ``[start, end]`` from *events* (time order)."""
    if end < start:
        raise ValueError("end: expected a window end at or after its start")
    kpis = {name: ModuleKpis(name, pbt=(end - start).total_seconds()) for name in modules}
    running: dict[str, OperationStarted] = {}
    faulted_at: dict[str, datetime] = {}
    processing: dict[str, list[tuple[datetime, datetime, OperationCompleted]]] = defaultdict(list)
    for event in events:
        module = getattr(event, "module", None)
        if module not in kpis:
            continue
        k = kpis[module]
        if isinstance(event, OperationStarted):
            running[module] = event
            k.aust += _overlap(event.at - event.setup.to_timedelta(), event.at, start, end)
        elif isinstance(event, OperationCompleted) and module in running:
            began = running.pop(module).at
            processing[module].append((began, event.at, event))
        elif isinstance(event, ModuleFaulted):
            faulted_at[module] = event.at
        elif isinstance(event, ModuleRepaired) and module in faulted_at:
            k._down.append((faulted_at.pop(module), event.at))
    for module, since in faulted_at.items():  # still down at the end of the window
        kpis[module]._down.append((since, end))
    for name, k in kpis.items():
        _close(k, processing[name], start, end)
    return kpis


def site_kpis(per_module: Mapping[str, ModuleKpis], site_of: Mapping[str, str]) -> dict[str, ModuleKpis]:
    """Sum module buckets per site (ratios of sums, not averages of ratios)."""
    sites: dict[str, ModuleKpis] = {}
    for name, k in per_module.items():
        site = site_of[name]
        sites.setdefault(site, ModuleKpis(site)).add(k)
    return sites


def total_kpis(name: str, parts: Iterable[ModuleKpis]) -> ModuleKpis:
    """Sum buckets of modules or sites into one group, e.g. the whole network (ratios of sums)."""
    total = ModuleKpis(name)
    for part in parts:
        total.add(part)
    return total


def _close(
    k: ModuleKpis, done: list[tuple[datetime, datetime, OperationCompleted]], start: datetime, end: datetime
) -> None:
    down = sorted(k._down)
    k.faults = sum(1 for s, _ in down if start <= s <= end)
    k.adot = sum(_overlap(s, e, start, end) for s, e in down)
    for began, finished, completed in done:
        if not start <= finished <= end:
            continue
        interrupted = sum(_overlap(s, e, began, finished) for s, e in down)
        k.apt += max(0.0, _overlap(began, finished, start, end) - interrupted)
        k.ideal += completed.ideal.seconds
        k.produced += 1
        k.good += completed.good


def _overlap(a: datetime, b: datetime, lo: datetime, hi: datetime) -> float:
    span = min(b, hi) - max(a, lo)
    return max(span, timedelta(0)).total_seconds()

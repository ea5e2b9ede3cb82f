"""Statistics of a standalone run, with no user code: counters, time per state, ISO 22400 OEE, flow, delivery.

ISO 22400-2:2014 time buckets per module over the window ``[0, end]`` (the same definitions as
`microfab.kpi.oee`, computed from the model's own state instead of recorded events):

- PBT, planned busy time: the window minus planned downtime (maintenance) and time out of service;
- APT, actual production time: processing, downtime that interrupted it excluded;
- AUST, actual unit setup time; ADOT, actual unit down time (failures, repair included, and
  forced outages: unplanned downtime, not maintenance);
- ADET, actual unit delay time: the rest of PBT, idle (starved) time.

Availability = APT / PBT, effectiveness = ideal time of the finished work / APT, quality =
good / produced, OEE = their product. Sites add buckets (ratios of sums).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from microfab.domain.iso22400 import OeeRatios
from microfab.twin.stations import (
    S_DOWN,
    S_EXECUTE,
    S_IDLE,
    S_MAINTENANCE,
    S_OFF,
    S_SETUP,
    STATE_NAMES,
)

if TYPE_CHECKING:
    from microfab.twin.simulation import Simulation
    from microfab.twin.trace import Trace


class Counters:
    """Network-level counters of a run (mutable while it runs); the others are summed over the modules."""

    __slots__ = ("arrivals", "flow_sum", "jobs_done", "makespan", "reworks")

    def __init__(self) -> None:
        self.arrivals = self.jobs_done = self.reworks = 0
        self.flow_sum = 0.0
        self.makespan = math.nan


@dataclass(frozen=True, slots=True)
class Buckets(OeeRatios):
    """ISO 22400 time buckets (model time units) and counts of a module or a site."""

    name: str
    pbt: float
    apt: float
    aust: float
    adet: float
    adot: float
    ideal: float
    produced: int
    good: int
    failures: int
    outages: int = 0
    """Forced outages begun (each starts a stretch of ADOT, as a breakdown does)."""

    @property
    def utilisation(self) -> float:
        """(APT + AUST) / PBT."""
        return (self.apt + self.aust) / self.pbt if self.pbt else 0.0


@dataclass(frozen=True, slots=True)
class ModuleReport:
    """Everything measured on one module: time per state, OEE buckets, queue, counts."""

    name: str
    site: str
    time_in_state: dict[str, float]
    buckets: Buckets
    queue_mean: float
    queue_max: int
    started: int
    setups: int
    preemptions: int
    interruptions: int
    lost_work: float

    @property
    def utilisation_by_state(self) -> dict[str, float]:
        """Share of the window spent in each state."""
        total = sum(self.time_in_state.values())
        return {k: v / total if total else 0.0 for k, v in self.time_in_state.items()}


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """What a standalone run gives: counters, per-module and per-site reports, flow and delivery."""

    scenario: str
    time_unit: float
    end: float
    makespan: float
    arrivals: int
    jobs_done: int
    ops_started: int
    ops_done: int
    setups: int
    failures: int
    repairs: int
    preemptions: int
    reworks: int
    model_events: int
    mean_flow_time: float
    flow_time_p50: float
    flow_time_p90: float
    flow_time_max: float
    delivered: int
    on_time: int
    modules: tuple[ModuleReport, ...]
    sites: tuple[Buckets, ...]
    trace: Trace | None = field(default=None, compare=False, repr=False)

    @property
    def on_time_delivery(self) -> float:
        """Share of delivered jobs delivered by their due time."""
        return self.on_time / self.delivered if self.delivered else 0.0

    def figures(self) -> dict[str, Any]:
        """The headline figures as a flat, JSON-ready dict (times in the scenario's unit)."""
        return {
            "makespan": self.makespan,
            "jobs_done": self.jobs_done,
            "ops_done": self.ops_done,
            "setups": self.setups,
            "failures": self.failures,
            "preemptions": self.preemptions,
            "mean_flow_time": self.mean_flow_time,
            "model_events": self.model_events,
            "on_time_delivery": self.on_time_delivery,
            "oee": _mean([s.oee for s in self.sites]),
            "utilisation": _mean([s.utilisation for s in self.sites]),
        }


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else math.nan


def _module_report(m: Any, end: float) -> ModuleReport:
    acc = list(m.acc)
    acc[m.state] += end - m.since
    queue_area = m.q_out - m.q_in + len(m.queue) * end
    pbt = end - acc[S_MAINTENANCE] - acc[S_OFF]
    buckets = Buckets(
        m.name,
        pbt=pbt,
        apt=acc[S_EXECUTE],
        aust=acc[S_SETUP],
        adet=acc[S_IDLE],
        adot=acc[S_DOWN],
        ideal=m.ideal_done / m.speed,
        produced=m.completed,
        good=m.completed - m.bad,
        failures=m.failures,
        outages=m.outages,
    )
    return ModuleReport(
        m.name,
        m.site,
        dict(zip(STATE_NAMES, acc, strict=True)),
        buckets,
        queue_mean=queue_area / end if end > 0 else 0.0,
        queue_max=m.q_max,
        started=m.started,
        setups=m.setups,
        preemptions=m.preemptions,
        interruptions=m.interruptions,
        lost_work=m.lost,
    )


def site_buckets(name: str, parts: list[Buckets]) -> Buckets:
    """Add the buckets of *parts* (ratios of sums)."""
    return Buckets(
        name,
        pbt=math.fsum(b.pbt for b in parts),
        apt=math.fsum(b.apt for b in parts),
        aust=math.fsum(b.aust for b in parts),
        adet=math.fsum(b.adet for b in parts),
        adot=math.fsum(b.adot for b in parts),
        ideal=math.fsum(b.ideal for b in parts),
        produced=sum(b.produced for b in parts),
        good=sum(b.good for b in parts),
        failures=sum(b.failures for b in parts),
        outages=sum(b.outages for b in parts),
    )


def summarize(sim: Simulation, flows: list[float], delivered: int, on_time: int) -> SimulationResult:
    """Build the result of *sim* at its current time (nothing is changed)."""
    end = sim.now
    c = sim.counters
    modules = tuple(_module_report(m, end) for m in sim.stations)
    by_site: dict[str, list[Buckets]] = {}
    for report in modules:
        by_site.setdefault(report.site, []).append(report.buckets)
    ordered = sorted(flows)
    started = sum(m.started for m in sim.stations)
    done = sum(m.completed for m in sim.stations)
    setups = sum(m.setups for m in sim.stations)
    failures = sum(m.failures for m in sim.stations)
    repairs = sum(m.repairs for m in sim.stations)
    n = len(ordered)
    return SimulationResult(
        scenario=sim.scenario.name,
        time_unit=sim.scenario.time_unit,
        end=end,
        makespan=c.makespan,
        arrivals=c.arrivals,
        jobs_done=c.jobs_done,
        ops_started=started,
        ops_done=done,
        setups=setups,
        failures=failures,
        repairs=repairs,
        preemptions=sum(m.preemptions for m in sim.stations),
        reworks=c.reworks,
        model_events=c.arrivals + started + setups + done + failures + repairs,
        mean_flow_time=c.flow_sum / max(1, c.jobs_done),
        flow_time_p50=ordered[n // 2] if n else math.nan,
        flow_time_p90=ordered[min(n - 1, (9 * n) // 10)] if n else math.nan,
        flow_time_max=ordered[-1] if n else math.nan,
        delivered=delivered,
        on_time=on_time,
        modules=modules,
        sites=tuple(site_buckets(site, parts) for site, parts in by_site.items()),
        trace=sim.trace,
    )

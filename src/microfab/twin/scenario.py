"""What a standalone run simulates: stations (modules), jobs and the run's options, checked before it runs.

All times are in the scenario's own time unit (``Scenario.time_unit`` seconds per unit):
seconds for networks built from manifests, minutes for MF-REF-1, so a scenario specified in
minutes replays its reference figures to the last digit.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from microfab.domain.errors import DomainError
from microfab.domain.modules import FailureClock, RepairPolicy
from microfab.twin.distributions import Distribution, Exponential

__all__ = ["FailureClock", "JobSpec", "RepairPolicy", "Scenario", "ScenarioError", "StationSpec", "Window"]


class ScenarioError(DomainError, ValueError):
    """The scenario cannot run: the message names what is wrong and where."""


@dataclass(frozen=True, slots=True)
class Window:
    """Downtime from *start* for *duration*: planned maintenance or a forced outage (`StationSpec`)."""

    start: float
    duration: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start) and self.start >= 0):
            raise ValueError(f"start: expected a finite time >= 0, got {self.start}")
        if not (math.isfinite(self.duration) and self.duration > 0):
            raise ValueError(f"duration: expected a finite duration > 0, got {self.duration}")

    @property
    def end(self) -> float:
        """When the module is back."""
        return self.start + self.duration


@dataclass(frozen=True, slots=True)
class StationSpec:
    """One module of the standalone model.

    Parameters
    ----------
    capabilities
        What operations it can run.
    setup
        Changeover time when the job's family differs from the last one (the first job always
        needs one); ``setup_by_family`` overrides it for a family changed *to*.
    speed
        Divides the operations' ideal durations.
    time_to_failure, time_to_repair
        None: the module never fails.
    yield_rate
        Share of operations that pass inspection; a failed one is reworked at once on the same
        module (it goes to the front of its queue).
    maintenance
        Planned maintenance windows: planned downtime (out of the planned busy time, ISO 22400),
        work in progress is suspended and then resumed or restarted (``repair_policy``).
    outages
        Forced downtime windows (a site outage, a recall): unplanned downtime counted as ADOT,
        as a breakdown is; work in progress is suspended as for a breakdown and resumed or
        restarted by ``repair_policy``. They may not overlap one another.
    deploy_at, retire_at
        When the module enters and leaves service. At retirement its queued operations go to
        other modules; the operation in progress is finished. Windows while the module is out
        of service do not apply.
    """

    name: str
    capabilities: frozenset[str]
    site: str = "site"
    setup: float = 0.0
    setup_by_family: tuple[tuple[str | int, float], ...] = ()
    speed: float = 1.0
    time_to_failure: Distribution | None = None
    time_to_repair: Distribution = field(default_factory=lambda: Exponential(1.0))
    failure_clock: FailureClock = FailureClock.CALENDAR
    repair_policy: RepairPolicy = RepairPolicy.RESUME
    yield_rate: float = 1.0
    maintenance: tuple[Window, ...] = ()
    outages: tuple[Window, ...] = ()
    deploy_at: float = 0.0
    retire_at: float = math.inf

    def __post_init__(self) -> None:
        if not self.capabilities:
            raise ValueError(f"capabilities: module {self.name!r} offers none")
        for name, value in (("setup", self.setup), *((f"setup_by_family[{k!r}]", v) for k, v in self.setup_by_family)):
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name}: expected a finite time >= 0 on module {self.name!r}, got {value}")
        if not (math.isfinite(self.speed) and self.speed > 0):
            raise ValueError(f"speed: expected > 0 on module {self.name!r}, got {self.speed}")
        if not 0.0 < self.yield_rate <= 1.0:
            raise ValueError(f"yield_rate: expected in (0, 1] on module {self.name!r}, got {self.yield_rate}")
        if not (math.isfinite(self.deploy_at) and self.deploy_at >= 0):
            raise ValueError(f"deploy_at: expected a finite time >= 0 on module {self.name!r}, got {self.deploy_at}")
        if not self.retire_at > self.deploy_at:
            raise ValueError(f"retire_at: expected after deploy_at on module {self.name!r}, got {self.retire_at}")
        ordered = sorted(self.outages, key=lambda w: w.start)
        if any(later.start < earlier.end for earlier, later in itertools.pairwise(ordered)):
            raise ValueError(f"outages: expected windows that do not overlap on module {self.name!r}")


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One job: released at *release*, it runs ``operations`` in order (capability, ideal duration).

    Parameters
    ----------
    site
        Only modules of this site take its operations (None: any site).
    due
        For on-time delivery; ``transit`` is the lane's lead time from completion to the market.
    """

    release: float
    family: str | int
    capabilities: tuple[str, ...]
    durations: tuple[float, ...]
    due: float = math.inf
    transit: float = 0.0
    site: str | None = None

    def __post_init__(self) -> None:
        if len(self.capabilities) != len(self.durations) or not self.durations:
            raise ValueError(
                f"durations: expected one per capability and at least one, got {self.capabilities} {self.durations}"
            )
        if not 0 <= self.release < math.inf:
            raise ValueError(f"release: expected a finite time >= 0, got {self.release}")
        if not 0 <= min(self.durations) <= max(self.durations) < math.inf:
            raise ValueError(f"durations: expected finite times >= 0, got {self.durations}")
        if not (0 <= self.transit < math.inf and self.due >= 0):
            raise ValueError(f"transit, due: expected finite transit >= 0 and due >= 0, got {self.transit}, {self.due}")


@dataclass(frozen=True, slots=True)
class Scenario:
    """Stations and jobs of one standalone run.

    Parameters
    ----------
    seed
        Module *i* (in ``stations`` order) draws failures and repairs from
        ``random.Random(seed + 1000 + i)`` (the MF-REF-1 convention) and inspections from a
        stream of its own; processing variability draws from one model stream.
    variability
        Coefficient of variation of a lognormal factor of mean 1 on every processing time
        (0: the ideal durations exactly).
    horizon
        Stop there even if jobs are left (infinite: run until every job is done).
    time_unit
        Seconds per time unit of this scenario.
    """

    name: str
    stations: tuple[StationSpec, ...]
    jobs: Sequence[JobSpec]
    seed: int = 0
    variability: float = 0.0
    horizon: float = math.inf
    time_unit: float = 1.0

    def check(self) -> None:
        """Raise `ScenarioError` listing everything that makes the scenario unable to run."""
        problems = _problems(self)
        if problems:
            raise ScenarioError(f"scenario {self.name!r} cannot run: " + "; ".join(problems))


def _problems(scenario: Scenario) -> list[str]:
    problems: list[str] = []
    names = [s.name for s in scenario.stations]
    if len(set(names)) != len(names):
        problems.append("module names are not unique")
    if not (math.isfinite(scenario.variability) and scenario.variability >= 0):
        problems.append(f"variability: expected a finite number >= 0, got {scenario.variability}")
    if not scenario.horizon > 0:
        problems.append(f"horizon: expected > 0, got {scenario.horizon}")
    problems.extend(
        f"module {s.name!r} is deployed at {s.deploy_at}, after the horizon {scenario.horizon}"
        for s in scenario.stations
        if s.deploy_at > scenario.horizon
    )
    return problems + _job_problems(scenario)


def _job_problems(scenario: Scenario) -> list[str]:
    """Capabilities the jobs need that no module (of their site) offers; each job checked itself when built."""
    jobs = scenario.jobs
    offered: dict[str | None, set[str]] = {None: set()}
    for s in scenario.stations:
        offered.setdefault(s.site, set()).update(s.capabilities)
        offered[None].update(s.capabilities)
    sites = {job.site for job in jobs}
    needed: dict[str | None, set[str]] = {site: set() for site in sites}
    if sites == {None}:
        needed[None] = set(itertools.chain.from_iterable(job.capabilities for job in jobs))
    else:
        for job in jobs:
            needed[job.site].update(job.capabilities)
    problems: list[str] = []
    for site in sorted(sites, key=lambda s: "" if s is None else s):
        for cap in sorted(needed[site] - offered.get(site, set())):
            first = next(i for i, job in enumerate(jobs) if job.site == site and cap in job.capabilities)
            where = "any module" if site is None else f"any module of site {site!r}"
            problems.append(f"capability {cap!r} (first needed by job {first}) is not offered by {where}")
    return problems

"""Capacity expansion: the problem (demand over periods, module types, sites, routes) and its plan.

Where the next container goes: which module types to deploy (or retire) at which site and
from which period, and which site serves each market's demand of each product family, at
least total cost — capex per container-month, one-off deploy and retire costs, production,
freight, duty and lost sales (docs/expansion.md).

Units: time in periods (``Period.hours`` calendar hours, ``Period.months`` container-months
each, for capex); work in *standard hours* (a routing step's standard time, before a module's
speed); capacity in standard hours per calendar hour of a module (``ModuleOption.rate``:
availability x speed x yield x target utilisation); demand in units; money in one currency
(``ExpansionProblem.currency``) as `float` or `Decimal`, floats inside the solver, the plan's
cost breakdown in `Money` rounded to the minor unit.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from microfab.domain.quantities import Money, check_currency

Amount = float | Decimal
"""Money in the problem's currency."""

TOLERANCE = 1e-6
"""Relative slack on capacities and balances, for the solver's floating-point answers."""


@dataclass(frozen=True, slots=True)
class Period:
    """One planning period: its label (``2027-03``), calendar *hours* and container-*months* (capex multiplier)."""

    label: str
    hours: float
    months: float

    def __post_init__(self) -> None:
        if not (self.hours > 0 and self.months > 0):
            raise ValueError(f"period {self.label}: hours and months must be > 0")


@dataclass(frozen=True, slots=True)
class Family:
    """A product family as the planner sees it: standard hours per unit for each capability (a mix's mean)."""

    name: str
    work: Mapping[str, float]

    def __post_init__(self) -> None:
        if not self.work or any(h < 0 for h in self.work.values()) or not any(h > 0 for h in self.work.values()):
            raise ValueError(f"family {self.name}: work must give hours >= 0 per capability, some > 0")


@dataclass(frozen=True, slots=True)
class ModuleOption:
    """A module type as capacity: capabilities, capacity rate, slots, costs and deploy lead time.

    Parameters
    ----------
    rate
        Standard hours of work one module delivers per calendar hour, shared over its
        capabilities (availability MTBF / (MTBF + MTTR) x speed x yield x target utilisation).
    capex
        Per container-month while the module is deployed (existing modules pay it too: retiring
        one saves it from then on).
    deploy_cost, retire_cost
        One-off, per module.
    lead
        Periods from the plan's start before a new module can produce: one ordered at the start
        is productive from period ``lead``.
    deployable
        False for a type that may stay or be retired but not be deployed (no capex declared).
    """

    name: str
    capabilities: frozenset[str]
    rate: float
    slots: int = 1
    capex: Amount = 0.0
    deploy_cost: Amount = 0.0
    retire_cost: Amount = 0.0
    lead: int = 0
    deployable: bool = True

    def __post_init__(self) -> None:
        if not self.capabilities:
            raise ValueError(f"module type {self.name}: at least one capability")
        if not self.rate > 0 or self.slots < 1 or self.lead < 0:
            raise ValueError(f"module type {self.name}: rate > 0, slots >= 1 and lead >= 0 expected")
        if min(float(self.capex), float(self.deploy_cost), float(self.retire_cost)) < 0:
            raise ValueError(f"module type {self.name}: costs must be >= 0")


@dataclass(frozen=True, slots=True)
class ExpansionSite:
    """A site: container slots, modules per type at the plan's start, and the types it may take (None: all)."""

    name: str
    slots: int
    existing: Mapping[str, int] = field(default_factory=dict)
    allowed: frozenset[str] | None = None

    def may_take(self, option: ModuleOption) -> bool:
        """Whether a new module of *option* may be deployed here."""
        return option.deployable and (self.allowed is None or option.name in self.allowed)


@dataclass(frozen=True, slots=True)
class Route:
    """Serving *market*'s demand of *family* from *site*: cost per unit and the lane's lead time (hours).

    A ``reason`` (no open lane, lead time too long...) or a missing route makes the triple ineligible.
    """

    site: str
    market: str
    family: str
    production: Amount = 0.0
    freight: Amount = 0.0
    duty: Amount = 0.0
    lead: float = 0.0
    reason: str | None = None

    @property
    def unit_cost(self) -> float:
        """Production + freight + duty per unit."""
        return float(self.production) + float(self.freight) + float(self.duty)


@dataclass(frozen=True, slots=True)
class Demand:
    """Units of *family* wanted in *market* per period, and what a unit not served costs (the revenue lost)."""

    market: str
    family: str
    units: tuple[float, ...]
    penalty: Amount

    def __post_init__(self) -> None:
        if any(u < 0 for u in self.units) or float(self.penalty) < 0:
            raise ValueError(f"demand {self.market}/{self.family}: units and penalty must be >= 0")


@dataclass(frozen=True, slots=True)
class ExpansionProblem:
    """Periods, families, module types, sites, demands and routes (checked on construction)."""

    periods: tuple[Period, ...]
    families: tuple[Family, ...]
    types: tuple[ModuleOption, ...]
    sites: tuple[ExpansionSite, ...]
    demands: tuple[Demand, ...]
    routes: tuple[Route, ...]
    currency: str = "USD"
    start: datetime | None = None
    retire: bool = True
    _types: dict[str, ModuleOption] = field(init=False, repr=False, compare=False)
    _families: dict[str, Family] = field(init=False, repr=False, compare=False)
    _sites: dict[str, ExpansionSite] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_currency(self.currency)
        if not self.periods:
            raise ValueError("periods: at least one")
        types = {t.name: t for t in self.types}
        families = {f.name: f for f in self.families}
        sites = {s.name: s for s in self.sites}
        demands = {(d.market, d.family) for d in self.demands}
        routes = {(r.site, r.market, r.family) for r in self.routes}
        for label, found, given in (
            ("module types", types, self.types),
            ("families", families, self.families),
            ("sites", sites, self.sites),
            ("demands (market, family)", demands, self.demands),
            ("routes (site, market, family)", routes, self.routes),
        ):
            if len(found) != len(given):
                raise ValueError(f"{label} must be unique")
        object.__setattr__(self, "_types", types)
        object.__setattr__(self, "_families", families)
        object.__setattr__(self, "_sites", sites)
        self._check_references()

    def _check_references(self) -> None:
        types, families, sites = self._types, self._families, self._sites
        for d in self.demands:
            if d.family not in families:
                raise ValueError(f"demand {d.market}/{d.family}: unknown family")
            if len(d.units) != len(self.periods):
                raise ValueError(f"demand {d.market}/{d.family}: one quantity per period ({len(self.periods)})")
        for r in self.routes:
            if r.site not in sites or r.family not in families:
                raise ValueError(f"route {r.site}/{r.market}/{r.family}: unknown site or family")
        for s in self.sites:
            unknown = sorted(set(s.existing) - set(types) | set(s.allowed or ()) - set(types))
            if unknown:
                raise ValueError(f"site {s.name}: unknown module types {', '.join(unknown)}")
            if any(n < 0 for n in s.existing.values()):
                raise ValueError(f"site {s.name}: existing module counts must be >= 0")
            used = sum(types[t].slots * n for t, n in s.existing.items())
            if used > s.slots:
                raise ValueError(f"site {s.name}: existing modules take {used} slots, the site has {s.slots}")

    def option(self, name: str) -> ModuleOption:
        """The module type called *name*."""
        return self._types[name]

    def family(self, name: str) -> Family:
        """The family called *name*."""
        return self._families[name]

    def site(self, name: str) -> ExpansionSite:
        """The site called *name*."""
        return self._sites[name]

    def eligible(self) -> list[Route]:
        """Routes without a reason whose market and family have demand, in (site, market, family) order."""
        wanted = {(d.market, d.family) for d in self.demands}
        return sorted(
            (r for r in self.routes if r.reason is None and (r.market, r.family) in wanted),
            key=lambda r: (r.site, r.market, r.family),
        )

    def candidates(self, site: ExpansionSite) -> list[ModuleOption]:
        """Module types that may be present at *site*: those it has and those it may take, by name."""
        return [t for t in sorted(self.types, key=lambda t: t.name) if site.existing.get(t.name) or site.may_take(t)]

    def capacity_hours(self, option: ModuleOption, period: int) -> float:
        """Standard hours one module of *option* gives in *period*."""
        return option.rate * self.periods[period].hours


class ExpansionStatus(enum.Enum):
    """How a solve ended."""

    OPTIMAL = "optimal"  # within the requested gap
    FEASIBLE = "feasible"  # the time limit came first; the plan is valid
    HEURISTIC = "heuristic"  # a heuristic plan, no bound


@dataclass(frozen=True, slots=True)
class Change:
    """*count* modules of *module_type* deployed at (productive from) or retired at (gone from) *period*."""

    site: str
    module_type: str
    period: int
    count: int


@dataclass(frozen=True, slots=True)
class Flow:
    """*units* of *family* made at *site* for *market* in *period*."""

    site: str
    market: str
    family: str
    period: int
    units: float


@dataclass(frozen=True, slots=True)
class Lost:
    """Demand not served: *units* of *family* in *market* in *period*."""

    market: str
    family: str
    period: int
    units: float


@dataclass(frozen=True, slots=True)
class Usage:
    """Standard *hours* of *site*'s *module_type* modules given to *capability* in *period* (the capacity proof)."""

    site: str
    module_type: str
    capability: str
    period: int
    hours: float


@dataclass(frozen=True, slots=True)
class ExpansionCosts:
    """The plan's cost per component, rounded to the currency's minor unit."""

    capex: Money
    deploy: Money
    retire: Money
    production: Money
    freight: Money
    duty: Money
    lost_sales: Money

    NAMES = ("capex", "deploy", "retire", "production", "freight", "duty", "lost_sales")

    @property
    def total(self) -> Money:
        """The sum of the rounded components."""
        total = self.capex
        for name in self.NAMES[1:]:
            total = total + getattr(self, name)
        return total


@dataclass(frozen=True, slots=True)
class ExpansionPlan:
    """Deployments, retirements, flows, lost sales and what it all costs; the solver's bound and gap.

    ``fleet[(site, type)]`` is the number of modules present in each period; ``objective`` the
    exact float cost (`evaluate`); ``lower_bound`` and ``gap`` None for a heuristic plan.
    """

    status: ExpansionStatus
    deployments: tuple[Change, ...]
    retirements: tuple[Change, ...]
    flows: tuple[Flow, ...]
    lost: tuple[Lost, ...]
    usage: tuple[Usage, ...]
    fleet: Mapping[tuple[str, str], tuple[int, ...]]
    objective: float
    costs: ExpansionCosts
    lower_bound: float | None
    gap: float | None
    runtime: float
    solver: str
    variables: int = 0
    constraints: int = 0

    def served_share(self, problem: ExpansionProblem) -> float:
        """Units served / units demanded (1 when nothing is demanded)."""
        wanted = sum(sum(d.units) for d in problem.demands)
        return 1.0 if wanted <= 0 else 1.0 - sum(x.units for x in self.lost) / wanted


def fleet_of(
    problem: ExpansionProblem, deployments: tuple[Change, ...], retirements: tuple[Change, ...]
) -> dict[tuple[str, str], tuple[int, ...]]:
    """Modules present per (site, type) and period: existing + deployed by then - retired by then."""
    periods = len(problem.periods)
    fleet: dict[tuple[str, str], list[int]] = {}
    for site in problem.sites:
        for option in problem.candidates(site):
            fleet[(site.name, option.name)] = [site.existing.get(option.name, 0)] * periods
    for sign, changes in ((1, deployments), (-1, retirements)):
        for c in changes:
            row = fleet.setdefault((c.site, c.module_type), [0] * periods)
            for p in range(c.period, periods):
                row[p] += sign * c.count
    return {key: tuple(row) for key, row in fleet.items()}


def evaluate(
    problem: ExpansionProblem,
    deployments: tuple[Change, ...],
    retirements: tuple[Change, ...],
    flows: tuple[Flow, ...],
) -> dict[str, float]:
    """The cost of a plan per component (demand not in *flows* is lost)."""
    parts = dict.fromkeys(ExpansionCosts.NAMES, 0.0)
    for (_, name), counts in fleet_of(problem, deployments, retirements).items():
        capex = float(problem.option(name).capex)
        parts["capex"] += sum(capex * n * period.months for n, period in zip(counts, problem.periods, strict=True))
    parts["deploy"] = sum(float(problem.option(c.module_type).deploy_cost) * c.count for c in deployments)
    parts["retire"] = sum(float(problem.option(c.module_type).retire_cost) * c.count for c in retirements)
    routes = {(r.site, r.market, r.family): r for r in problem.routes}
    served: dict[tuple[str, str, int], float] = {}
    for f in flows:
        route = routes[(f.site, f.market, f.family)]
        parts["production"] += float(route.production) * f.units
        parts["freight"] += float(route.freight) * f.units
        parts["duty"] += float(route.duty) * f.units
        key = (f.market, f.family, f.period)
        served[key] = served.get(key, 0.0) + f.units
    for d in problem.demands:
        penalty = float(d.penalty)
        for p, units in enumerate(d.units):
            parts["lost_sales"] += penalty * max(0.0, units - served.get((d.market, d.family, p), 0.0))
    return parts


def breakdown(parts: Mapping[str, float], currency: str) -> ExpansionCosts:
    """*parts* (from `evaluate`) as `Money` rounded to the minor unit of *currency*."""
    return ExpansionCosts(*(Money(Decimal(repr(parts[n])), currency).quantize() for n in ExpansionCosts.NAMES))


def lost_of(problem: ExpansionProblem, flows: tuple[Flow, ...]) -> tuple[Lost, ...]:
    """Demand left unserved by *flows*, per (market, family, period), above a tolerance."""
    served: dict[tuple[str, str, int], float] = {}
    for f in flows:
        served[(f.market, f.family, f.period)] = served.get((f.market, f.family, f.period), 0.0) + f.units
    out = []
    for d in sorted(problem.demands, key=lambda d: (d.market, d.family)):
        for p, units in enumerate(d.units):
            left = units - served.get((d.market, d.family, p), 0.0)
            if left > TOLERANCE * max(1.0, units):
                out.append(Lost(d.market, d.family, p, left))
    return tuple(out)

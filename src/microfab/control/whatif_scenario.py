"""What a what-if study runs, resolved against the baseline network: changes, scenarios, the demand model, the setup.

Times are aware datetimes; `microfab.control.whatif_read` builds these from the file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from microfab.control.whatif_spec import ChangeSpec, WhatIfSpec
from microfab.domain.products import ConfigValue
from microfab.manifests.errors import FieldPath
from microfab.manifests.resources import Resource

BASELINE = "baseline"
"""The name of the unchanged network's rows; no scenario may take it."""

Configuration = Mapping[str, ConfigValue]


@dataclass(frozen=True, slots=True)
class SiteOutage:
    """Every module of *site* down over ``[start, end)``."""

    site: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class LaneCut:
    """No shipment over *lane* over ``[start, end)`` (``end=None``: for good)."""

    lane: str
    start: datetime
    end: datetime | None


@dataclass(frozen=True, slots=True)
class TariffChange:
    """An extra duty of *rate* on goods of HS *hs_prefix* from *origins* entering *importer* (a country), by date."""

    importer: str
    hs_prefix: str
    origins: tuple[str, ...]
    rate: Decimal
    effective: date
    until: date | None
    exempt_under: tuple[str, ...]
    name: str


@dataclass(frozen=True, slots=True)
class DemandSurge:
    """Orders of *market* arrive *factor* times as often over ``[start, end)``."""

    market: str
    factor: float
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class ModuleTypeRecall:
    """Every module of *module_type* out of service over ``[start, end)`` (``end=None``: retired)."""

    module_type: str
    start: datetime
    end: datetime | None


Change = SiteOutage | LaneCut | TariffChange | DemandSurge | ModuleTypeRecall


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named variant of the baseline: the changes applied to a copy of it."""

    name: str
    changes: tuple[Change, ...]


@dataclass(frozen=True, slots=True)
class MixEntry:
    """A product's share of the orders and the configurations an order of it draws from, per market."""

    product: str
    share: float
    configs: Mapping[str, tuple[Configuration, ...]]


@dataclass(frozen=True, slots=True)
class DemandModel:
    """Poisson arrivals per market (orders per day), the mix, quantities uniform in [min, max], due dates."""

    orders_per_day: Mapping[str, float]
    mix: tuple[MixEntry, ...]
    quantity_min: int
    quantity_max: int
    due_in: timedelta


@dataclass(frozen=True, slots=True)
class Setup:
    """What every run of a what-if shares: the window, the demand, the solver's and the twin's settings."""

    start: datetime
    horizon: timedelta
    bucket: timedelta
    demand: DemandModel
    time_limit: float = 10.0
    gap: float = 0.01
    threads: int = 1
    penalty_factor: Decimal = Decimal(1)
    lateness_rate: Decimal = Decimal("0.01")
    breakdowns: bool = True
    variability: float = 0.15
    drain: timedelta = timedelta(days=10)

    @property
    def end(self) -> datetime:
        """The end of the arrivals' window."""
        return self.start + self.horizon

    @property
    def run_end(self) -> datetime:
        """The end of the run: horizon + drain (later deliveries are lost sales)."""
        return self.end + self.drain


@dataclass(frozen=True, slots=True)
class WhatIf:
    """A resolved what-if file: its name, the shared setup, the seeds and the scenarios."""

    name: str
    file: str
    setup: Setup
    seeds: int
    scenarios: tuple[Scenario, ...]


@dataclass(frozen=True, slots=True)
class WhatIfFile:
    """A what-if file whose shape is checked, before it meets a network."""

    path: Path
    resource: Resource
    spec: WhatIfSpec
    changes: Mapping[FieldPath, ChangeSpec] = field(default_factory=dict)

    @property
    def baseline_manifests(self) -> Path | None:
        """``spec.baseline.manifests`` relative to the file, when given."""
        if self.spec.baseline is None:
            return None
        return (self.path.parent / self.spec.baseline.manifests).resolve()


def describe_change(change: Change) -> str:
    """One line saying what *change* does, for tables and the chart."""
    if isinstance(change, SiteOutage):
        return f"site {change.site} down {change.start.isoformat()} → {change.end.isoformat()}"
    if isinstance(change, LaneCut):
        return f"lane {change.lane} cut {change.start.isoformat()} → {change.end.isoformat() if change.end else '∞'}"
    if isinstance(change, TariffChange):
        what = f"+{float(change.rate) * 100:g} % on HS {change.hs_prefix} from {', '.join(change.origins)}"
        exempt = f", exempt under {', '.join(change.exempt_under)}" if change.exempt_under else ""
        until = f" to {change.until}" if change.until else ""
        return f"{change.name}: {what} into {change.importer}{exempt}, in force {change.effective}{until}"
    if isinstance(change, DemandSurge):
        return f"demand in {change.market} x{change.factor:g} {change.start.isoformat()} → {change.end.isoformat()}"
    end = change.end.isoformat() if change.end else "retired"
    return f"module type {change.module_type} recalled {change.start.isoformat()} → {end}"


def describe_scenarios(scenarios: Sequence[Scenario]) -> dict[str, list[str]]:
    """Each scenario's changes described, by name."""
    return {s.name: [describe_change(c) for c in s.changes] for s in scenarios}

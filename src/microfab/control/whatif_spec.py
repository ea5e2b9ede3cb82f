"""The shape of a ``kind: WhatIf`` file's ``spec``: pydantic models in the manifests' style (camelCase, strict).

The format is documented in ``docs/whatif.md`` and `microfab.control.whatif_read`; these models
check shapes and parse quantities and times, and `microfab.control.whatif_read.resolve` checks
them against the baseline network. Times are ISO 8601 instants with an offset, or offsets
from ``spec.start`` like ``2d`` or ``36h`` (`parse_when`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, PlainValidator, model_validator

from microfab.domain.quantities import Duration
from microfab.manifests.fields import DecimalNumber, PositiveDecimal, PositiveDuration, Values, fail
from microfab.manifests.schema import SpecModel

CHANGE_KINDS = ("siteOutage", "laneCut", "tariffChange", "demandSurge", "moduleTypeRecall")
"""The keys a change may have (exactly one per change)."""


def parse_when(value: Any) -> datetime | Duration:
    """An aware ISO 8601 instant, or an offset from the start like ``2d`` or ``36h``."""
    expected = "an ISO 8601 time with an offset like 2027-01-06T08:00:00+01:00, or an offset from the start like '2d'"
    if not isinstance(value, str):
        raise fail("when", f"expected {expected}, got {value!r}")
    text = value.strip()
    if text[:1].isdigit() and text[-1:] in "smhdw" and "-" not in text:
        try:
            return Duration.parse(text)
        except ValueError as exc:
            raise fail("when", str(exc)) from None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise fail("when", f"expected {expected}, got {value!r}") from None
    if moment.tzinfo is None:
        raise fail("when", f"expected a UTC offset (like +00:00) in {value!r}: times are timezone-aware")
    return moment


def parse_instant(value: Any) -> datetime:
    """An aware ISO 8601 instant (no offset-from-start form)."""
    moment = parse_when(value)
    if not isinstance(moment, datetime):
        raise fail("when", f"expected an ISO 8601 time with an offset like 2027-01-04T00:00:00+00:00, got {value!r}")
    return moment


When = Annotated[datetime | Duration, PlainValidator(parse_when)]
Instant = Annotated[datetime, PlainValidator(parse_instant)]


class SiteOutageSpec(SpecModel):
    """``siteOutage``: every module of *site* down from *from* to *to*."""

    site: str = Field(description="a Site of the network, like bavaria")
    from_: When = Field(alias="from", description="when the outage starts, like 2d")
    to: When = Field(description="when the site is back, like 9d")


class LaneCutSpec(SpecModel):
    """``laneCut``: no shipment over a lane (by name, or by site and market) from *from* to *to* (open-ended)."""

    lane: str | None = None
    site: str | None = None
    market: str | None = None
    from_: When = Field(alias="from", description="when the lane is cut, like 3d")
    to: When | None = None


class TariffChangeSpec(SpecModel):
    """``tariffChange``: an extra ad-valorem duty stacked on the importer's tariff from *effective*."""

    importer: str | None = None
    market: str | None = None
    hs_prefix: str = Field(description="an HS prefix like '7616' or '*'")
    origin: Values | None = None
    rate: DecimalNumber = Field(description="a share like '0.25'")
    effective: When = Field(description="when it takes effect, like 2027-01-06T00:00:00+00:00 or 2d")
    until: When | None = None
    exempt_under: list[str] = Field(default_factory=list)
    name: str | None = None


class DemandSurgeSpec(SpecModel):
    """``demandSurge``: orders of *market* arrive *factor* times as often from *from* to *to*."""

    market: str = Field(description="a Market of the network, like us")
    factor: DecimalNumber = Field(description="a factor >= 0 like '1.5'")
    from_: When = Field(alias="from", description="when the surge starts, like 0d")
    to: When = Field(description="when it ends, like 7d")


class ModuleTypeRecallSpec(SpecModel):
    """``moduleTypeRecall``: every module of a type out of service from *from* (to *to*, or for good)."""

    module_type: str = Field(description="a ModuleType of the network, like anodizing")
    from_: When = Field(alias="from", description="when the recall starts, like 1d")
    to: When | None = None


class ChangeSpec(SpecModel):
    """One change: a mapping with exactly one of `CHANGE_KINDS` as its key."""

    site_outage: SiteOutageSpec | None = None
    lane_cut: LaneCutSpec | None = None
    tariff_change: TariffChangeSpec | None = None
    demand_surge: DemandSurgeSpec | None = None
    module_type_recall: ModuleTypeRecallSpec | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ChangeSpec:
        given = [k for k in CHANGE_KINDS if self.body_of(k) is not None]
        if len(given) != 1:
            got = ", ".join(given) if given else "none"
            raise fail("change", f"expected exactly one of {', '.join(CHANGE_KINDS)}, got {got}")
        return self

    @property
    def kind(self) -> str:
        """Which change this is (its key in the file)."""
        return next(k for k in CHANGE_KINDS if self.body_of(k) is not None)

    def body_of(self, kind: str) -> SpecModel | None:
        """The change's body under key *kind* (None when it is another kind)."""
        bodies: dict[str, SpecModel | None] = {
            "siteOutage": self.site_outage,
            "laneCut": self.lane_cut,
            "tariffChange": self.tariff_change,
            "demandSurge": self.demand_surge,
            "moduleTypeRecall": self.module_type_recall,
        }
        return bodies[kind]


class VarySpec(SpecModel):
    """``vary``: one scenario per value of one field of one change (a grid)."""

    change: int = Field(default=0, ge=0)
    field: str = Field(description="a field of that change, like rate")
    values: list[str | int | float] = Field(min_length=1, description="the values, like ['0.10', '0.25']")


class ScenarioSpec(SpecModel):
    """``scenarios[]``: a name and the changes applied to the baseline."""

    name: str = Field(description="a name like tariff-25")
    changes: list[ChangeSpec] = Field(default_factory=list)
    vary: VarySpec | None = None


class MixSpec(SpecModel):
    """``demand.mix[]``: a product's share of the orders and, optionally, its one configuration."""

    product: str = Field(description="a Product of the network, like laptop-stand")
    share: PositiveDecimal = Field(description="a share like '0.6'")
    config: dict[str, str | int | bool] | None = None


class QuantitySpec(SpecModel):
    """``demand.quantity``: units per order, uniform in [min, max]."""

    min: int = Field(default=1, ge=1)
    max: int = Field(default=6, ge=1)


class DemandSpec(SpecModel):
    """``demand``: Poisson order arrivals per market, a product mix, quantities and due dates."""

    seed: int = 0
    orders_per_day: dict[str, DecimalNumber] = Field(description="orders per day per market, like {us: 6}")
    mix: list[MixSpec] | None = Field(default=None, min_length=1)
    samples: int = Field(default=6, ge=1, le=200)
    quantity: QuantitySpec = Field(default_factory=QuantitySpec)
    due_in: PositiveDuration = Field(default=Duration(10 * 86400), description="a duration like 10d")


class AllocationSpec(SpecModel):
    """``allocation``: the MILP's limits and the money of rejection and lateness."""

    time_limit: PositiveDuration = Field(default=Duration(10))
    gap: DecimalNumber = Field(default=Decimal("0.01"), validate_default=True)
    threads: int = Field(default=1, ge=1)
    penalty_factor: PositiveDecimal = Field(default=Decimal(1), validate_default=True)
    lateness_rate: DecimalNumber = Field(default=Decimal("0.01"), validate_default=True)


class TwinSpec(SpecModel):
    """``twin``: breakdowns, processing-time variability and the drain after the horizon."""

    breakdowns: bool = True
    variability: DecimalNumber = Field(default=Decimal("0.15"), validate_default=True)
    drain: PositiveDuration | None = None


class BaselineSpec(SpecModel):
    """``baseline``: where the unchanged network comes from when the command line does not say."""

    manifests: str = Field(description="a folder of manifests, relative to this file")


class WhatIfSpec(SpecModel):
    """The ``spec`` of a ``kind: WhatIf`` document."""

    baseline: BaselineSpec | None = None
    start: Instant = Field(description="an ISO 8601 time with an offset, like 2027-01-04T00:00:00+00:00")
    horizon: PositiveDuration = Field(description="a duration like 14d")
    bucket: PositiveDuration = Field(default=Duration(86400))
    seeds: int = Field(default=5, ge=1, le=1000)
    demand: DemandSpec = Field(description="the demand model: ordersPerDay, mix, quantity, dueIn")
    allocation: AllocationSpec = Field(default_factory=AllocationSpec)
    twin: TwinSpec = Field(default_factory=TwinSpec)
    changes: list[ChangeSpec] | None = None
    scenarios: list[ScenarioSpec] | None = Field(default=None, min_length=1)

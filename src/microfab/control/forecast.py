"""The demand forecast file of ``microfab plan expand``: YAML (or JSON) read with every error at file:line:field.

Format (docs/expansion.md, example ``examples/forecast/forecast.yaml``)::

    start: 2027-01            # the first period: a month (YYYY-MM) or, for weeks, a date
    period: month             # month | week
    periods: 12
    targetUtilisation: "0.85" # share of a module's available hours the plan may load
    deliveryWindow: 7d        # the twin's due date: release + window + the lane's transit
    retire: true              # may the plan retire modules (default true)
    retireCostShare: "0.25"   # retiring one costs this share of its type's deployCost
    families:
      - product: laptop-stand # the family is the product's (stands) unless `name` is given
        orderSize: 4          # mean units per order (the twin's orders)
        mix:                  # optional; default: `samples` seeded random valid configurations
          - {share: "0.7", config: {material: aluminium, finish: raw}}
    sites:                    # optional: which module types a site may take
      vietnam: {allow: [anodizing, packing]}
    demand:
      - {market: us, family: stands, units: [800, 850, ...]}      # one number per period
      - {market: vn, family: stands, ramp: {from: 300, to: 900}}  # or a linear ramp
        # optional: lostSalePenalty: 90 USD (per unit; default the mix's mean list price),
        #           maxLeadTime: 5d (lanes slower than this do not serve the market)

A JSON file with the same keys is read the same way (JSON is YAML); errors then name the JSON
path and field, with the line.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from microfab.configurator import validate as validate_config
from microfab.domain.errors import DomainError
from microfab.domain.network import Network
from microfab.domain.quantities import Duration, Money
from microfab.manifests import ManifestError, ManifestErrors
from microfab.manifests.errors import FieldPath, dotted
from microfab.manifests.fields import DecimalNumber, DurationText, PositiveDecimal, Price, Share
from microfab.manifests.schema import SpecModel
from microfab.manifests.validation import describe

Position = tuple[int, int]


class MixSpec(SpecModel):
    """``families[].mix[]``: a configuration and its share of the family's demand."""

    share: PositiveDecimal = Field(description="a share like '0.7'")
    config: dict[str, str | int | bool] = Field(description="option values like {material: aluminium}")


class FamilySpec(SpecModel):
    """``families[]``: a product family, the product that makes it, and its configuration mix."""

    product: str = Field(description="a Product of the network, like laptop-stand")
    name: str | None = None
    mix: list[MixSpec] | None = Field(default=None, min_length=1)
    samples: int = Field(default=40, ge=1, le=1000)
    order_size: PositiveDecimal = Field(default=Decimal(4), validate_default=True)


class RampSpec(SpecModel):
    """``demand[].ramp``: units per period growing linearly from *from* (first period) to *to* (last)."""

    from_: DecimalNumber = Field(alias="from", description="units in the first period")
    to: DecimalNumber = Field(description="units in the last period")


class DemandSpec(SpecModel):
    """``demand[]``: units of a family wanted in a market, per period."""

    market: str = Field(description="a Market of the network, like us")
    family: str = Field(description="a family of `families`, like stands")
    units: list[DecimalNumber] | None = None
    ramp: RampSpec | None = None
    lost_sale_penalty: Price | None = None
    max_lead_time: DurationText | None = None


class SiteRuleSpec(SpecModel):
    """``sites.<site>``: the module types the site may take (``allow``) or may not (``deny``)."""

    allow: list[str] | None = None
    deny: list[str] = Field(default_factory=list)


class ForecastSpec(SpecModel):
    """The whole forecast file."""

    start: str | date = Field(description="the first period: a month like 2027-01, or a date like 2027-01-04")
    period: Literal["month", "week"] = "month"
    periods: int = Field(ge=1, le=120, description="how many periods, like 12")
    target_utilisation: Share = Field(default=Decimal("0.85"), validate_default=True)
    delivery_window: DurationText = Field(default=Duration(7 * 86400), validate_default=False)
    retire: bool = True
    retire_cost_share: DecimalNumber = Field(default=Decimal("0.25"), validate_default=True)
    families: list[FamilySpec] = Field(min_length=1, description="a list of families like [{product: laptop-stand}]")
    demand: list[DemandSpec] = Field(
        min_length=1, description="a list like [{market: us, family: stands, units: [...]}]"
    )
    sites: dict[str, SiteRuleSpec] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Span:
    """One period: label, start (inclusive) and end (exclusive), UTC."""

    label: str
    start: datetime
    end: datetime

    @property
    def hours(self) -> float:
        """Calendar hours."""
        return (self.end - self.start).total_seconds() / 3600


@dataclass(frozen=True, slots=True)
class ForecastFamily:
    """A family: its product, an explicit mix ((share, configuration), ...) or a number of random samples."""

    name: str
    product: str
    mix: tuple[tuple[Decimal, Mapping[str, str | int | bool]], ...] | None
    samples: int
    order_size: Decimal


@dataclass(frozen=True, slots=True)
class ForecastDemand:
    """Units of *family* per period in *market*; the lost-sale penalty per unit and the longest lane allowed."""

    market: str
    family: str
    units: tuple[float, ...]
    penalty: Money | None = None
    max_lead_time: Duration | None = None


@dataclass(frozen=True, slots=True)
class Forecast:
    """A checked forecast (see the module docstring)."""

    file: str
    period: str
    spans: tuple[Span, ...]
    target_utilisation: Decimal
    delivery_window: Duration
    retire: bool
    retire_cost_share: Decimal
    families: tuple[ForecastFamily, ...]
    demand: tuple[ForecastDemand, ...]
    allowed: Mapping[str, frozenset[str]]  # site -> module types it may take (sites not listed: all)

    @property
    def start(self) -> datetime:
        """The start of the first period."""
        return self.spans[0].start

    @property
    def end(self) -> datetime:
        """The end of the last period."""
        return self.spans[-1].end


class _Source:
    """The file's plain data and the line and column of every key and item, for errors."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.positions: dict[FieldPath, Position] = {}
        self.errors: list[ManifestError] = []

    def error(self, path: FieldPath, message: str) -> None:
        line, column = self.where(path)
        self.errors.append(ManifestError(self.file, line, column, dotted(path), message))

    def where(self, path: FieldPath) -> Position:
        for end in range(len(path), 0, -1):
            if path[:end] in self.positions:
                return self.positions[path[:end]]
        return (1, 1)

    def plain(self, node: Any, path: FieldPath) -> Any:
        """Plain Python data of a ruamel node, recording positions (1-based)."""
        if isinstance(node, CommentedMap):
            out: dict[str, Any] = {}
            for key, value in node.items():
                line, column = node.lc.key(key)
                self.positions[(*path, str(key))] = (line + 1, column + 1)
                out[str(key)] = self.plain(value, (*path, str(key)))
            return out
        if isinstance(node, CommentedSeq):
            items = []
            for i, value in enumerate(node):
                line, column = node.lc.item(i)
                self.positions[(*path, i)] = (line + 1, column + 1)
                items.append(self.plain(value, (*path, i)))
            return items
        return _scalar(node)


def _scalar(node: Any) -> Any:
    """A ruamel scalar as a plain Python value (its own int, float and str subclasses dropped)."""
    if isinstance(node, bool) or node is None:
        return node
    for kind in (float, int, str):
        if isinstance(node, kind):
            return kind(node)
    return node.date() if isinstance(node, datetime) else node


def load_forecast(path: Path, network: Network) -> Forecast:
    """Read and check the forecast at *path* against *network*.

    Raises
    ------
    ManifestErrors
        Every problem, each with the file, line, column, field path and what was expected.
    """
    source = _Source(str(path))
    try:
        text = path.read_text(encoding="utf-8")
        document = YAML(typ="rt").load(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestErrors([ManifestError(str(path), 0, 0, "", f"cannot read the forecast: {exc}")]) from None
    except YAMLError as exc:
        mark = exc.problem_mark if isinstance(exc, MarkedYAMLError) else None
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = exc.problem if isinstance(exc, MarkedYAMLError) else str(exc)
        raise ManifestErrors([ManifestError(str(path), line, column, "", f"invalid YAML or JSON: {problem}")]) from None
    if not isinstance(document, CommentedMap):
        message = "expected a mapping with start, periods, families and demand"
        raise ManifestErrors([ManifestError(str(path), 1, 1, "", message)])
    data = source.plain(document, ())
    try:
        spec = ForecastSpec.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            source.error(tuple(error["loc"]), describe(error, ForecastSpec))
        raise ManifestErrors(source.errors) from None
    forecast = _build(spec, source, network)
    if source.errors:
        raise ManifestErrors(source.errors)
    return forecast


def _build(spec: ForecastSpec, source: _Source, network: Network) -> Forecast:
    spans = _spans(spec, source)
    families = _families(spec, source, network)
    known = {f.name for f in families}
    demand = []
    seen: dict[tuple[str, str], int] = {}
    for i, d in enumerate(spec.demand):
        where: FieldPath = ("demand", i)
        if d.market not in network.markets:
            source.error(
                (*where, "market"), f"unknown market {d.market!r}; expected one of {', '.join(sorted(network.markets))}"
            )
        if d.family not in known:
            source.error((*where, "family"), f"unknown family {d.family!r}; expected one of {', '.join(sorted(known))}")
        if (d.market, d.family) in seen:
            source.error(where, f"{d.market}/{d.family} is already forecast at demand[{seen[(d.market, d.family)]}]")
        seen[(d.market, d.family)] = i
        units = _units(d, spec.periods, source, where)
        demand.append(ForecastDemand(d.market, d.family, units, d.lost_sale_penalty, d.max_lead_time))
    allowed = {}
    for site, rule in spec.sites.items():
        if site not in network.sites:
            source.error(("sites", site), f"unknown site {site!r}; expected one of {', '.join(sorted(network.sites))}")
        for key, names in (("allow", rule.allow or []), ("deny", rule.deny)):
            for j, name in enumerate(names):
                if name not in network.module_types:
                    source.error(("sites", site, key, j), f"unknown module type {name!r}")
        base = set(rule.allow) if rule.allow is not None else set(network.module_types)
        allowed[site] = frozenset(base - set(rule.deny))
    if spec.retire_cost_share < 0:
        source.error(("retireCostShare",), f"expected a share >= 0, got {spec.retire_cost_share}")
    return Forecast(
        file=source.file,
        period=spec.period,
        spans=spans,
        target_utilisation=spec.target_utilisation,
        delivery_window=spec.delivery_window,
        retire=spec.retire,
        retire_cost_share=spec.retire_cost_share,
        families=tuple(families),
        demand=tuple(demand),
        allowed=allowed,
    )


def _units(d: DemandSpec, periods: int, source: _Source, where: FieldPath) -> tuple[float, ...]:
    if (d.units is None) == (d.ramp is None):
        source.error(where, "expected either units (one number per period) or ramp: {from: N, to: M}")
        return (0.0,) * periods
    if d.ramp is not None:
        first, last = float(d.ramp.from_), float(d.ramp.to)
        if min(first, last) < 0:
            source.error((*where, "ramp"), f"expected units >= 0, got {first:g} to {last:g}")
        step = (last - first) / (periods - 1) if periods > 1 else 0.0
        return tuple(max(0.0, first + step * p) for p in range(periods))
    assert d.units is not None
    if len(d.units) != periods:
        source.error((*where, "units"), f"expected {periods} numbers (one per period), got {len(d.units)}")
    for j, value in enumerate(d.units):
        if value < 0:
            source.error((*where, "units", j), f"expected units >= 0, got {value}")
    values = [max(0.0, float(v)) for v in d.units[:periods]]
    return tuple(values + [0.0] * (periods - len(values)))


def _families(spec: ForecastSpec, source: _Source, network: Network) -> list[ForecastFamily]:
    out: list[ForecastFamily] = []
    names: dict[str, int] = {}
    for i, f in enumerate(spec.families):
        where: FieldPath = ("families", i)
        if f.product not in network.products:
            known = ", ".join(sorted(network.products))
            source.error((*where, "product"), f"unknown product {f.product!r}; expected one of {known}")
            continue
        product = network.products[f.product]
        name = f.name or product.family
        if name in names:
            source.error(where, f"family {name!r} is already declared at families[{names[name]}]")
        names[name] = i
        mix = None
        if f.mix is not None:
            for j, item in enumerate(f.mix):
                try:
                    broken = validate_config(product, dict(item.config))
                except DomainError as exc:
                    source.error((*where, "mix", j, "config"), str(exc))
                    continue
                if broken:
                    listed = "; ".join(f"{v.rule_id}: {v.message}" for v in broken)
                    source.error((*where, "mix", j, "config"), f"the configuration breaks {listed}")
            mix = tuple((item.share, dict(item.config)) for item in f.mix)
        out.append(ForecastFamily(name, f.product, mix, f.samples, f.order_size))
    return out


def _spans(spec: ForecastSpec, source: _Source) -> tuple[Span, ...]:
    start = _first_day(spec, source)
    spans = []
    for p in range(spec.periods):
        if spec.period == "week":
            begin = start + timedelta(days=7 * p)
            end = begin + timedelta(days=7)
            label = begin.isoformat()
        else:
            year, month = divmod(start.month - 1 + p, 12)
            begin = date(start.year + year, month + 1, 1)
            end = begin + timedelta(days=calendar.monthrange(begin.year, begin.month)[1])
            label = f"{begin.year:04d}-{begin.month:02d}"
        spans.append(Span(label, _utc(begin), _utc(end)))
    return tuple(spans)


def _first_day(spec: ForecastSpec, source: _Source) -> date:
    value = spec.start
    if isinstance(value, date):
        if spec.period == "month" and value.day != 1:
            source.error(("start",), f"expected the first day of a month (or YYYY-MM) for monthly periods, got {value}")
        return value
    try:
        if spec.period == "month" and len(value) == 7:
            return date.fromisoformat(value + "-01")
        return date.fromisoformat(value)
    except ValueError:
        source.error(("start",), f"expected a month like 2027-01 or a date like 2027-01-04, got {value!r}")
        return date(2000, 1, 1)


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)

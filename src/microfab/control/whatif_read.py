"""Read the what-if file of ``microfab whatif``: a ``kind: WhatIf`` manifest, read with every error at file:line:field.

Format (``docs/whatif.md``; examples in ``examples/whatif/``)::

    apiVersion: microfab.dev/v1
    kind: WhatIf
    metadata: {name: bavaria-outage}
    spec:
      baseline: {manifests: ../network}  # optional; --manifests DIR or --db URL take precedence
      start: 2027-01-04T00:00:00+00:00   # ISO 8601 with an offset
      horizon: 14d                       # orders arrive over [start, start + horizon)
      bucket: 1d                         # the allocation's time buckets
      seeds: 5                           # replications, common to baseline and variants (--seeds wins)
      demand:
        seed: 7                          # seeds the configurations drawn for the mix
        ordersPerDay: {us: 6, mx: 2}     # Poisson arrivals per market
        mix: [{product: laptop-stand, share: "0.6"}, {product: monitor-riser, share: "0.4"}]
        quantity: {min: 1, max: 6}
        dueIn: 10d                       # due at the customer = arrival + dueIn
      allocation: {timeLimit: 10s, gap: "0.01"}
      twin: {breakdowns: true, variability: "0.15", drain: 10d}
      changes:                           # one scenario (named after metadata.name) ...
        - siteOutage: {site: bavaria, from: 2d, to: 9d}
      # ... or several: scenarios: [{name, changes, vary: {change: 0, field: rate, values: [...]}}]

Times are ISO 8601 instants with an offset or offsets from ``start`` (``2d``, ``36h``). Reading
happens in two steps: `read_whatif` checks the file's shape (the envelope with the manifests'
own reader, the spec with pydantic models in the manifests' style), `resolve` checks it against
the baseline network (sites, lanes, markets, module types, products, tariff territories) and
returns the `WhatIf` the engine runs. Both raise `ManifestErrors` naming file, line and field.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from microfab.configurator import validate as validate_config
from microfab.control.scenarios import random_configuration
from microfab.control.whatif_scenario import (
    BASELINE,
    Change,
    Configuration,
    DemandModel,
    DemandSurge,
    LaneCut,
    MixEntry,
    ModuleTypeRecall,
    Scenario,
    Setup,
    SiteOutage,
    TariffChange,
    WhatIf,
    WhatIfFile,
)
from microfab.control.whatif_spec import (
    ChangeSpec,
    DemandSpec,
    LaneCutSpec,
    MixSpec,
    ScenarioSpec,
    TariffChangeSpec,
    WhatIfSpec,
)
from microfab.domain.costing import site_options
from microfab.domain.errors import DomainError
from microfab.domain.network import Network
from microfab.domain.quantities import Duration
from microfab.manifests.errors import FieldPath, ManifestError, ManifestErrors
from microfab.manifests.resources import Resource
from microfab.manifests.schema import SpecModel
from microfab.manifests.validation import Report, describe
from microfab.manifests.yaml_source import _DocumentReader, _syntax_error

KIND = "WhatIf"
_M = TypeVar("_M", bound=SpecModel)


class _WhatIfReader(_DocumentReader):
    """The manifests' envelope reader (positions of every key), for the one kind it does not know."""

    def check_kind(self, value: Any) -> tuple[str | None, str | None]:
        if value != KIND:
            self.error(("kind",), f"expected {KIND!r}, got {value!r}")
            return None, None
        return KIND, None


def read_whatif(path: Path) -> WhatIfFile:
    """Read a what-if file and check its shape; raise `ManifestErrors` naming file:line:field."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestErrors([ManifestError(file, 0, 0, "", f"cannot read the file: {exc}")]) from None
    try:
        documents = [d for d in YAML(typ="rt").load_all(text) if d is not None]
    except YAMLError as exc:
        raise ManifestErrors([_syntax_error(file, exc)]) from None
    if len(documents) != 1 or not isinstance(documents[0], CommentedMap):
        message = f"expected one mapping document (apiVersion, kind: {KIND}, metadata, spec), got {len(documents)}"
        raise ManifestErrors([ManifestError(file, 1, 1, "", message)])
    parsed = _WhatIfReader(file, documents[0]).read()
    if parsed.errors or not parsed.resources:
        raise ManifestErrors(parsed.errors or [ManifestError(file, 1, 1, "", "not a usable document")])
    resource = parsed.resources[0]
    report = Report()
    spec = _validate(WhatIfSpec, resource.spec, resource, ("spec",), report)
    if spec is None:
        raise ManifestErrors(report.errors)
    changes = _expand(spec, resource, report)
    if report.errors:
        raise ManifestErrors(report.errors)
    return WhatIfFile(path, resource, spec, changes)


def _validate(model: type[_M], data: Any, resource: Resource, at: FieldPath, report: Report) -> _M | None:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            report.at(resource, (*at, *error["loc"]), describe(error, model))
        return None


def _expand(spec: WhatIfSpec, resource: Resource, report: Report) -> dict[FieldPath, ChangeSpec]:
    """Check the scenarios (names, the ``vary`` grids) and index every change by its path."""
    out: dict[FieldPath, ChangeSpec] = {}
    if (spec.changes is None) == (spec.scenarios is None):
        given = "both" if spec.changes is not None else "neither"
        report.at(resource, ("spec",), f"expected changes (one scenario) or scenarios (a list), got {given}")
        return out
    for c, change in enumerate(spec.changes or []):
        out[("spec", "changes", c)] = change
    names: set[str] = set()
    for s, scenario in enumerate(spec.scenarios or []):
        where = ("spec", "scenarios", s)
        if scenario.name == BASELINE or scenario.name in names:
            report.at(
                resource, (*where, "name"), f"expected a unique name other than {BASELINE!r}, got {scenario.name!r}"
            )
        names.add(scenario.name)
        for c, change in enumerate(scenario.changes):
            out[(*where, "changes", c)] = change
        if scenario.vary is not None:
            _check_vary(scenario, where, resource, report, out)
    if not report.errors:
        _check_names(spec, resource, report)
    return out


def _check_names(spec: WhatIfSpec, resource: Resource, report: Report) -> None:
    """The scenarios a grid expands into must not take another scenario's name."""
    seen: set[str] = set()
    for s, scenario in enumerate(spec.scenarios or []):
        vary = scenario.vary
        names = [scenario.name] if vary is None else [_grid_name(scenario.name, vary.field, v) for v in vary.values]
        for v, name in enumerate(names):
            if name in seen:
                at: FieldPath = ("name",) if vary is None else ("vary", "values", v)
                report.at(
                    resource, ("spec", "scenarios", s, *at), f"expected a unique scenario name, got {name!r} twice"
                )
            seen.add(name)


def _grid_name(name: str, field: str, value: object) -> str:
    """The name of one scenario of a ``vary`` grid, like ``us-tariff[rate=0.25]``."""
    return f"{name}[{field}={value}]"


def _check_vary(
    scenario: ScenarioSpec, where: FieldPath, resource: Resource, report: Report, out: dict[FieldPath, ChangeSpec]
) -> None:
    vary = scenario.vary
    assert vary is not None
    if vary.change >= len(scenario.changes):
        report.at(
            resource, (*where, "vary", "change"), f"expected an index below {len(scenario.changes)}, got {vary.change}"
        )
        return
    kind = scenario.changes[vary.change].kind
    raw = resource.spec["scenarios"][where[2]]["changes"][vary.change]
    if vary.field not in raw[kind] and vary.field not in _aliases(kind):
        wanted = ", ".join(_aliases(kind))
        report.at(resource, (*where, "vary", "field"), f"expected a field of {kind} ({wanted}), got {vary.field!r}")
        return
    for v, value in enumerate(vary.values):
        body = copy.deepcopy(raw)
        body[kind][vary.field] = value
        checked = _validate(ChangeSpec, body, resource, (*where, "vary", "values", v), report)
        if checked is not None:
            out[(*where, "vary", "values", v)] = checked


def _aliases(kind: str) -> list[str]:
    model = ChangeSpec.model_fields[_snake(kind)].annotation
    inner = next(a for a in getattr(model, "__args__", ()) if isinstance(a, type) and issubclass(a, SpecModel))
    return [info.alias or name for name, info in inner.model_fields.items()]


def _snake(camel: str) -> str:
    return "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in camel)


def scenario_plan(file: WhatIfFile) -> list[tuple[str, list[FieldPath]]]:
    """Each scenario's name and the paths of its changes, grids expanded (``name[field=value]``)."""
    spec = file.spec
    if spec.changes is not None:
        return [(file.resource.name, [("spec", "changes", c) for c in range(len(spec.changes))])]
    plan: list[tuple[str, list[FieldPath]]] = []
    for s, scenario in enumerate(spec.scenarios or []):
        where: FieldPath = ("spec", "scenarios", s)
        paths: list[FieldPath] = [(*where, "changes", c) for c in range(len(scenario.changes))]
        if scenario.vary is None:
            plan.append((scenario.name, paths))
            continue
        for v, value in enumerate(scenario.vary.values):
            varied = list(paths)
            varied[scenario.vary.change] = (*where, "vary", "values", v)
            plan.append((_grid_name(scenario.name, scenario.vary.field, value), varied))
    return plan


# ------------------------------------------------------------------------------------------- resolving


def resolve(file: WhatIfFile, network: Network, *, seeds: int | None = None) -> WhatIf:
    """Check *file* against the baseline *network* and resolve times; raise `ManifestErrors` at file:line:field."""
    spec, resource = file.spec, file.resource
    report = Report()
    start = spec.start
    demand = _demand(spec.demand, network, resource, report)
    setup = Setup(
        start=start,
        horizon=timedelta(seconds=spec.horizon.seconds),
        bucket=timedelta(seconds=spec.bucket.seconds),
        demand=demand,
        time_limit=float(spec.allocation.time_limit.seconds),
        gap=float(spec.allocation.gap),
        threads=spec.allocation.threads,
        penalty_factor=spec.allocation.penalty_factor,
        lateness_rate=spec.allocation.lateness_rate,
        breakdowns=spec.twin.breakdowns,
        variability=float(spec.twin.variability),
        drain=timedelta(seconds=(spec.twin.drain or spec.demand.due_in).seconds),
    )
    if not 0 <= setup.gap < 1:
        report.at(resource, ("spec", "allocation", "gap"), f"expected a share in [0, 1), got {setup.gap}")
    if setup.variability < 0:
        report.at(resource, ("spec", "twin", "variability"), f"expected a number >= 0, got {setup.variability}")
    scenarios = []
    for name, paths in scenario_plan(file):
        changes = [_change(file.changes[p], p, setup, network, resource, report) for p in paths if p in file.changes]
        scenarios.append(Scenario(name, tuple(c for c in changes if c is not None)))
    if report.errors:
        raise ManifestErrors(report.errors)
    return WhatIf(resource.name, str(file.path), setup, seeds or spec.seeds, tuple(scenarios))


def _at(when: datetime | Duration, start: datetime) -> datetime:
    return start + timedelta(seconds=when.seconds) if isinstance(when, Duration) else when


def _window(
    body: Any, start: datetime, where: FieldPath, resource: Resource, report: Report, *, open_end: bool
) -> tuple[datetime, datetime | None] | None:
    begin = _at(body.from_, start)
    end = None if body.to is None else _at(body.to, start)
    if end is None and not open_end:  # pragma: no cover - the models require `to` where it is not optional
        return None
    if end is not None and end <= begin:
        report.at(resource, (*where, "to"), f"expected a time after from ({begin.isoformat()}), got {end.isoformat()}")
        return None
    return begin, end


def _change(  # noqa: PLR0911 - one return per kind of change
    spec: ChangeSpec, path: FieldPath, setup: Setup, network: Network, resource: Resource, report: Report
) -> Change | None:
    kind = spec.kind
    where = (*path, kind) if path[-2] != "values" else path
    start = setup.start
    if spec.site_outage is not None:
        body = spec.site_outage
        window = _window(body, start, where, resource, report, open_end=False)
        if not _known(body.site, network.sites, "Site", (*where, "site"), resource, report) or window is None:
            return None
        assert window[1] is not None
        return SiteOutage(body.site, window[0], window[1])
    if spec.lane_cut is not None:
        lane = _lane(spec.lane_cut, network, where, resource, report)
        window = _window(spec.lane_cut, start, where, resource, report, open_end=True)
        return None if lane is None or window is None else LaneCut(lane, *window)
    if spec.tariff_change is not None:
        return _tariff(spec.tariff_change, setup, network, where, resource, report)
    if spec.demand_surge is not None:
        body_d = spec.demand_surge
        window = _window(body_d, start, where, resource, report, open_end=False)
        if body_d.factor < 0:
            report.at(resource, (*where, "factor"), f"expected a factor >= 0, got {body_d.factor}")
            return None
        if not _known(body_d.market, network.markets, "Market", (*where, "market"), resource, report) or window is None:
            return None
        assert window[1] is not None
        return DemandSurge(body_d.market, float(body_d.factor), window[0], window[1])
    body_r = spec.module_type_recall
    assert body_r is not None
    window = _window(body_r, start, where, resource, report, open_end=True)
    known = _known(body_r.module_type, network.module_types, "ModuleType", (*where, "moduleType"), resource, report)
    return None if not known or window is None else ModuleTypeRecall(body_r.module_type, *window)


def _known(
    name: str, table: Mapping[str, Any], kind: str, where: FieldPath, resource: Resource, report: Report
) -> bool:
    if name in table:
        return True
    report.at(resource, where, f"no {kind} named {name!r}; expected one of {', '.join(sorted(table)) or 'none'}")
    return False


def _lane(body: LaneCutSpec, network: Network, where: FieldPath, resource: Resource, report: Report) -> str | None:
    """The lane a cut names (by name, or by site and market); an error when there is none or it is closed already."""
    named = body.lane is not None
    name = (_lane_named if named else _lane_between)(body, network, where, resource, report)
    if name is not None and not network.lanes[name].open:
        report.at(resource, where, f"Lane {name!r} is closed in the baseline (open: false): cutting it changes nothing")
        return None
    return name


def _lane_named(
    body: LaneCutSpec, network: Network, where: FieldPath, resource: Resource, report: Report
) -> str | None:
    assert body.lane is not None
    if body.site is not None or body.market is not None:
        report.at(resource, (*where, "lane"), "expected lane, or site and market, not both")
        return None
    return body.lane if _known(body.lane, network.lanes, "Lane", (*where, "lane"), resource, report) else None


def _lane_between(
    body: LaneCutSpec, network: Network, where: FieldPath, resource: Resource, report: Report
) -> str | None:
    """The lane from ``body.site`` to ``body.market`` (an open one when there are several)."""
    if body.site is None or body.market is None:
        report.at(resource, where, "expected lane, or site and market")
        return None
    site = _known(body.site, network.sites, "Site", (*where, "site"), resource, report)
    market = _known(body.market, network.markets, "Market", (*where, "market"), resource, report)
    if not site or not market:
        return None
    found = sorted(
        (not lane.open, lane.name)
        for lane in network.lanes.values()
        if lane.site == body.site and lane.market == body.market
    )
    if not found:
        report.at(resource, (*where, "site"), f"no Lane from site {body.site!r} to market {body.market!r}")
        return None
    return found[0][1]


def _tariff(
    body: TariffChangeSpec, setup: Setup, network: Network, where: FieldPath, resource: Resource, report: Report
) -> TariffChange | None:
    """The tariff change, every problem with it reported (importer, rate, dates, agreements)."""
    importer = _importer(body, network, where, resource, report)
    ok = importer is not None
    if body.rate < 0:
        report.at(resource, (*where, "rate"), f"expected a rate >= 0 like '0.25', got {body.rate}")
        ok = False
    zone = setup.start.tzinfo
    effective = _at(body.effective, setup.start).astimezone(zone).date()
    until = None if body.until is None else _at(body.until, setup.start).astimezone(zone).date()
    if until is not None and until < effective:
        report.at(resource, (*where, "until"), f"expected a date on or after {effective}, got {until}")
        ok = False
    agreements = {a.name for a in network.trade.agreements}
    for agreement in (a for a in body.exempt_under if a not in agreements):
        known = ", ".join(sorted(agreements)) or "none"
        report.at(resource, (*where, "exemptUnder"), f"no TradeAgreement named {agreement!r}; expected one of {known}")
        ok = False
    if not ok or importer is None:
        return None
    origins = tuple(body.origin or ["*"])
    name = body.name or "what-if tariff"
    return TariffChange(importer, body.hs_prefix, origins, body.rate, effective, until, tuple(body.exempt_under), name)


def _importer(
    body: TariffChangeSpec, network: Network, where: FieldPath, resource: Resource, report: Report
) -> str | None:
    """The importing country (given, or the market's), which a declared tariff schedule must cover."""
    if (body.importer is None) == (body.market is None):
        given = "both" if body.importer is not None else "neither"
        report.at(resource, where, f"expected importer (a country like US) or market (like us), got {given}")
        return None
    importer = body.importer
    if body.market is not None:
        if not _known(body.market, network.markets, "Market", (*where, "market"), resource, report):
            return None
        importer = network.market(body.market).country
    assert importer is not None
    if network.trade.tariff_for(importer) is None:
        territories = ", ".join(c for t in network.trade.tariffs for c in t.countries) or "none"
        message = f"no Tariff covers the importer {importer!r}; declared territories: {territories}"
        report.at(resource, (*where, "importer" if body.importer is not None else "market"), message)
        return None
    return importer


def _demand(spec: DemandSpec, network: Network, resource: Resource, report: Report) -> DemandModel:
    where: FieldPath = ("spec", "demand")
    rates: dict[str, float] = {}
    for market, rate in spec.orders_per_day.items():
        if _known(market, network.markets, "Market", (*where, "ordersPerDay", market), resource, report):
            if rate < 0:
                report.at(resource, (*where, "ordersPerDay", market), f"expected orders per day >= 0, got {rate}")
            rates[market] = float(rate)
    if spec.quantity.max < spec.quantity.min:
        report.at(resource, (*where, "quantity", "max"), f"expected max >= min ({spec.quantity.min})")
    lines = spec.mix or [MixSpec(product=p, share=Decimal(1)) for p in sorted(network.products)]
    mix: list[MixEntry] = []
    for i, line in enumerate(lines):
        path = (*where, "mix", i)
        if not _known(line.product, network.products, "Product", (*path, "product"), resource, report):
            continue
        configs = _configs(line, spec, network, path, resource, report)
        if configs is not None:
            servable = {m: tuple(c for c in configs if _servable(network, line.product, c, m)) for m in rates}
            mix.append(MixEntry(line.product, float(line.share), servable))
    for market, per_day in rates.items():
        if per_day > 0 and mix and not any(entry.configs.get(market) for entry in mix):
            message = f"no product of the mix can be made and shipped to market {market!r} by any site"
            report.at(resource, (*where, "ordersPerDay", market), message)
    return DemandModel(rates, tuple(mix), spec.quantity.min, spec.quantity.max, timedelta(seconds=spec.due_in.seconds))


def _configs(
    line: MixSpec, spec: DemandSpec, network: Network, where: FieldPath, resource: Resource, report: Report
) -> tuple[Configuration, ...] | None:
    product = network.product(line.product)
    if line.config is None:
        rng = random.Random(f"{spec.seed}:{line.product}")
        return tuple(product.configure(random_configuration(product, rng)) for _ in range(spec.samples))
    try:
        broken = validate_config(product, line.config)
    except DomainError as exc:
        report.at(resource, (*where, "config"), str(exc))
        return None
    if broken:
        report.at(resource, (*where, "config"), "; ".join(v.message for v in broken))
        return None
    return (product.configure(line.config),)


def _servable(network: Network, product: str, config: Configuration, market: str) -> bool:
    return any(option.eligible for option in site_options(network, product, config, 1, market))

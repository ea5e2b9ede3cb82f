"""Build the domain `Network` from resources: validate specs, check references, map to dataclasses.

Every problem is collected first and raised together as one `ManifestErrors`, sorted by file
then line. A ``ValueError`` from a domain ``__post_init__`` is reported at the field its message
names, never as a traceback.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any, Final, TypeVar

from pydantic.alias_generators import to_camel

from microfab.configurator import check_product
from microfab.domain.errors import InvalidConfigurationError, NoFxRateError
from microfab.domain.modules import FailureClock, Module, ModuleType, RepairPolicy
from microfab.domain.network import FxRate, Lane, Market, Network, RateTable, Site
from microfab.domain.products import (
    BomLine,
    BoolOption,
    Derived,
    EnumOption,
    ImpliesRule,
    IntOption,
    LinearRule,
    MaterialFlags,
    Option,
    OriginFlags,
    ProductTemplate,
    RoutingStep,
    Rule,
    TableRule,
    TextOption,
)
from microfab.domain.trade import NoTaxRateError, TaxTable, TradeRules
from microfab.manifests import entity_mapping, trade_mapping
from microfab.manifests.errors import FieldPath, ManifestError, ManifestErrors
from microfab.manifests.references import Catalog, catalog_of, check_product_references, check_references
from microfab.manifests.resources import Resource
from microfab.manifests.schema import (
    BomLineSpec,
    EntitySpec,
    LaneSpec,
    MarketSpec,
    ModuleSpec,
    ModuleTypeSpec,
    NetworkSpec,
    OptionSpec,
    ProductSpec,
    RoutingStepSpec,
    RuleSpec,
    SiteSpec,
    SpecModel,
    TariffSpec,
    TaxJurisdictionSpec,
    TradeAgreementSpec,
)
from microfab.manifests.validation import SPEC, Report, validate_spec

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_S = TypeVar("_S", bound=SpecModel)
_DOMAIN_FIELD: Final = re.compile(r"([a-z][a-z_]*): (.+)", re.DOTALL)
_DOMAIN_ALIASES: Final = {"yield_rate": "yield", "module_type": "type"}


def build_network(resources: Sequence[Resource], *, check_products: bool = True) -> Network:
    """Validate *resources* and build the domain `Network`.

    Parameters
    ----------
    resources
        Resources from `~microfab.manifests.load_resources` or rebuilt from the event log; for the
        latter errors point at each resource's ``file`` and ``line``, having no per-field positions.

    Returns
    -------
    Network
        The declared network; ``Module`` documents with ``replicas: N`` become modules ``<name>-1..N``.
    check_products
        Search each product for rules that admit no configuration (CP-SAT). Rebuilding from the
        log skips it: every recorded product passed it when it was applied.

    Raises
    ------
    ManifestErrors
        Every problem: spec shapes and values, duplicates, dangling references, slots, FX rates.
    """
    return assemble(resources, check_products=check_products)


def assemble(
    resources: Sequence[Resource],
    *,
    declared: Iterable[tuple[str, str]] = (),
    earlier: Iterable[ManifestError] = (),
    origin: str | None = None,
    check_products: bool = True,
) -> Network:
    """`build_network`, also reporting *earlier* errors and counting names *declared* by broken documents.

    *origin* (the folder or file read) is where "no Network document" is reported.
    """
    report = Report()
    report.add(earlier)
    catalog = catalog_of(resources, set(declared), report)
    _check_network_count(catalog, report, origin or _common_origin(resources))
    models: dict[str, dict[str, SpecModel]] = {}
    for kind, by_name in catalog.resources.items():
        for name, resource in by_name.items():
            model = validate_spec(resource, report)
            if model is not None:
                models.setdefault(kind, {})[name] = model
    check_references(catalog, report)
    network = _Builder(catalog, models, report, check_products=check_products).build()
    if report.errors or network is None:
        raise ManifestErrors(report.errors)
    log.info(
        "built network %r: %d sites, %d markets, %d modules, %d products",
        network.name,
        len(network.sites),
        len(network.markets),
        len(network.modules),
        len(network.products),
    )
    return network


def build_product(resource: Resource) -> ProductTemplate:
    """Validate one ``Product`` resource on its own (capabilities unchecked) and build its template.

    Raises
    ------
    ManifestErrors
        Every problem of the document, at file:line:field.
    """
    report = Report()
    if resource.kind != "Product":
        report.at(resource, ("kind",), f"expected a Product document, got {resource.kind}")
        raise ManifestErrors(report.errors)
    catalog = catalog_of([resource], set(), report)
    model = validate_spec(resource, report)
    check_product_references(resource, None, report)
    models: dict[str, dict[str, SpecModel]] = {"Product": {resource.name: model}} if model is not None else {}
    builder = _Builder(catalog, models, report)
    product = builder.each("Product", ProductSpec, builder.product)
    if report.errors or resource.name not in product:
        raise ManifestErrors(report.errors)
    return product[resource.name]


def _common_origin(resources: Sequence[Resource]) -> str:
    files = sorted({r.file for r in resources if not r.file.startswith("<")})
    if not files:
        return resources[0].file if resources else "<resources>"
    return os.path.commonpath(files) if len(files) > 1 else files[0]


def _check_network_count(catalog: Catalog, report: Report, origin: str) -> None:
    if not catalog.names("Network"):
        message = "no Network document: expected exactly one document of kind: Network"
        report.add([ManifestError(origin, 0, 0, "kind", message)])
        return
    networks = sorted(catalog.of("Network").values(), key=lambda r: (r.file, r.line))
    for extra in networks[1:]:
        first = networks[0]
        where = f"{first.name!r} is already declared at {first.file}:{first.line}"
        report.at(extra, ("kind",), f"a second Network document: {where}; expected exactly one")


class _Builder:
    """Maps validated specs to domain objects, reporting domain errors at their fields."""

    def __init__(
        self, catalog: Catalog, models: dict[str, dict[str, SpecModel]], report: Report, *, check_products: bool = True
    ) -> None:
        self.catalog = catalog
        self.models = models
        self.report = report
        self.check_products = check_products

    def build(self) -> Network | None:
        """Return the network, or None when the Network document or its spec is unusable."""
        sites = self.each("Site", SiteSpec, _site)
        entities = self.each("Entity", EntitySpec, entity_mapping.legal_entity)
        markets = self.each("Market", MarketSpec, _market)
        lanes = self.each("Lane", LaneSpec, _lane)
        module_types = self.each("ModuleType", ModuleTypeSpec, _module_type)
        products = self.each("Product", ProductSpec, self.product)
        modules = self.modules()
        found = self.specs("Network", NetworkSpec)
        if len(found) != 1:
            return None
        resource, spec = found[0]
        fx = self.call(resource, (*SPEC, "fxRates"), lambda: RateTable(tuple(_fx_rates(spec))))
        if fx is None:
            return None
        self.check_fx(spec.base_currency, fx, resource)
        trade = TradeRules(
            TaxTable(
                {
                    j.code: j
                    for j in self.each("TaxJurisdiction", TaxJurisdictionSpec, trade_mapping.jurisdiction).values()
                }
            ),
            tuple(self.each("Tariff", TariffSpec, trade_mapping.tariff).values()),
            tuple(self.each("TradeAgreement", TradeAgreementSpec, trade_mapping.agreement).values()),
            trade_mapping.claim_policy(spec.claims),
        )
        self.check_jurisdictions(trade.tax)
        transfer = self.call(resource, SPEC, partial(entity_mapping.transfer_policy, spec.transfer_pricing))
        parts = (sites, markets, lanes, module_types, modules, products, fx, trade, entities)
        network = self.call(resource, SPEC, lambda: Network(resource.name, spec.base_currency, *parts))
        if network is not None and transfer is not None:
            network = replace(network, transfer=transfer)
        if network is not None and spec.quote_validity is not None:
            network = replace(network, quote_validity=spec.quote_validity)
        return network

    def check_jurisdictions(self, tax: TaxTable) -> None:
        """Each jurisdiction code is declared once; a market's jurisdiction resolves when any is declared."""
        owners: dict[str, Resource] = {}
        for resource, spec in self.specs("TaxJurisdiction", TaxJurisdictionSpec):
            code = spec.code.upper()
            if code in owners:
                first = owners[code]
                message = f"jurisdiction {code!r} is already declared by {first.ref} at {first.file}:{first.line}"
                self.report.at(resource, (*SPEC, "code"), message)
            owners[code] = resource
        if not tax.jurisdictions:
            return
        for resource, market in self.specs("Market", MarketSpec):
            code = market.tax_jurisdiction or market.country
            try:
                tax.resolve(code)
            except NoTaxRateError as exc:
                self.report.at(resource, (*SPEC, "taxJurisdiction"), f"{exc}; declare a TaxJurisdiction for it")

    def specs(self, kind: str, spec_type: type[_S]) -> list[tuple[Resource, _S]]:
        """``(resource, validated spec)`` of every valid resource of *kind*."""
        found = []
        for name, model in self.models.get(kind, {}).items():
            if isinstance(model, spec_type):
                found.append((self.catalog.of(kind)[name], model))
        return found

    def each(self, kind: str, spec_type: type[_S], make: Callable[[str, _S], _T]) -> dict[str, _T]:
        """Map every valid resource of *kind* with *make*; domain errors are reported."""
        built: dict[str, _T] = {}
        for resource, spec in self.specs(kind, spec_type):
            obj = self.call(resource, SPEC, partial(make, resource.name, spec))
            if obj is not None:
                built[resource.name] = obj
        return built

    def call(self, resource: Resource, base: FieldPath, factory: Callable[[], _T]) -> _T | None:
        """Return ``factory()``, or None after reporting its error at the field the message names."""
        try:
            return factory()
        except _AlreadyReportedError:
            return None
        except entity_mapping.SpecProblemsError as problems:
            for path, message in problems.problems:
                self.report.at(resource, (*base, *path), message)
            return None
        except (ValueError, TypeError, KeyError) as exc:
            # The schema and reference checks catch nearly everything first; a domain rule is the
            # fallback, so it is not repeated where this part of the resource already has an error.
            if not self.report.has_errors(resource, base):
                path, message = _domain_error_path(resource, base, exc)
                self.report.at(resource, path, message)
            return None

    def product(self, name: str, spec: ProductSpec) -> ProductTemplate:
        """Return the product template; raise when a part is invalid (that part is already reported)."""
        resource = self.catalog.of("Product")[name]
        options = [self.call(resource, (*SPEC, "options", i), partial(_option, o)) for i, o in enumerate(spec.options)]
        rules = [self.call(resource, (*SPEC, "rules", i), partial(_rule, r)) for i, r in enumerate(spec.rules)]
        self.check_costs(resource, spec)
        if any(part is None for part in (*options, *rules)) or self.report.has_errors(resource, SPEC):
            raise _AlreadyReportedError
        template = ProductTemplate(
            name=name,
            family=spec.family,
            currency=spec.currency,
            options=tuple(o for o in options if o is not None),
            rules=tuple(r for r in rules if r is not None),
            routing=tuple(_step(s) for s in spec.routing),
            bom=tuple(_bom_line(line) for line in spec.bom),
            price=spec.price,
            mass=spec.mass,
            derived=tuple(Derived(d.name, d.formula) for d in spec.derived),
            description=spec.description,
            version=resource.digest[:16],
            hs_code=spec.hs_code,
            tax_category=spec.tax_category,
        )
        problem = check_product(template) if self.check_products else None
        if problem is not None:
            self.report.at(resource, (*SPEC, "rules"), problem)
            raise _AlreadyReportedError
        return template

    def check_costs(self, resource: Resource, spec: ProductSpec) -> None:
        """BOM unit costs must be in the product's currency."""
        for i, line in enumerate(spec.bom):
            if line.unit_cost.currency != spec.currency:
                expected = f"expected the product's currency {spec.currency}"
                self.report.at(resource, (*SPEC, "bom", i, "unitCost"), f"{expected}, got {line.unit_cost.currency!r}")

    def modules(self) -> dict[str, Module]:
        """Modules by name, ``replicas: N`` expanded to ``<name>-1..N``, names unique."""
        built: dict[str, Module] = {}
        owner: dict[str, Resource] = {}
        for resource, spec in self.specs("Module", ModuleSpec):
            names = (
                [resource.name]
                if spec.replicas is None
                else [f"{resource.name}-{i}" for i in range(1, spec.replicas + 1)]
            )
            for name in names:
                if name in owner:
                    first = owner[name]
                    message = f"module name {name!r} is already used by {first.ref} at {first.file}:{first.line}"
                    self.report.at(resource, ("metadata", "name"), message)
                    continue
                owner[name] = resource
                built[name] = Module(name, spec.module_type, spec.site, endpoint=spec.endpoint)
        return built

    def check_fx(self, base: str, fx: RateTable, network: Resource) -> None:
        """Every currency used must convert to the base currency with the declared rates."""
        for resource, path, currency in self.currencies():
            try:
                fx.rate(currency, base)
            except NoFxRateError:
                message = f"no FX rate between {currency} and {base}: add one to {network.ref} spec.fxRates"
                self.report.at(resource, path, message)

    def currencies(self) -> Iterable[tuple[Resource, FieldPath, str]]:
        """``(resource, field path, currency)`` of each currency a valid spec uses."""
        for resource, site in self.specs("Site", SiteSpec):
            yield resource, (*SPEC, "currency"), site.currency
        for resource, market in self.specs("Market", MarketSpec):
            yield resource, (*SPEC, "currency"), market.currency
        for resource, entity in self.specs("Entity", EntitySpec):
            yield resource, (*SPEC, "currency"), entity.currency
        for resource, lane in self.specs("Lane", LaneSpec):
            yield resource, (*SPEC, "costPerKg"), lane.cost_per_kg.currency
        for resource, module_type in self.specs("ModuleType", ModuleTypeSpec):
            yield resource, (*SPEC, "costPerHour"), module_type.cost_per_hour.currency
            for key, money in (("capexPerMonth", module_type.capex_per_month), ("deployCost", module_type.deploy_cost)):
                if money is not None:
                    yield resource, (*SPEC, key), money.currency
        for resource, product in self.specs("Product", ProductSpec):
            yield resource, (*SPEC, "currency"), product.currency


class _AlreadyReportedError(ValueError):
    """A part of a resource failed and was reported; the resource is skipped without a second error."""


def _domain_error_path(resource: Resource, base: FieldPath, exc: Exception) -> tuple[FieldPath, str]:
    """Place a domain error: ``"yield_rate: expected ..."`` goes to ``spec.yield`` when that key exists."""
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    match = _DOMAIN_FIELD.fullmatch(text)
    if match is None:
        return base, text
    name, message = match.groups()
    key = _DOMAIN_ALIASES.get(name, to_camel(name))
    container = _lookup(resource.spec, base[1:])
    if isinstance(container, dict) and key in container:
        return (*base, key), message
    return base, text


def _lookup(spec: Any, path: FieldPath) -> Any:
    for part in path:
        if isinstance(part, int) and isinstance(spec, list) and part < len(spec):
            spec = spec[part]
        elif isinstance(part, str) and isinstance(spec, dict):
            spec = spec.get(part)
        else:
            return None
    return spec


def _site(name: str, spec: SiteSpec) -> Site:
    return Site(
        name,
        spec.country,
        spec.region,
        spec.timezone,
        spec.currency,
        spec.container_slots,
        spec.subdivision,
        spec.entity,
    )


def _market(name: str, spec: MarketSpec) -> Market:
    brands = entity_mapping.brands(spec.brands, spec.locale)
    tax_jurisdiction = spec.tax_jurisdiction.upper()
    return Market(name, spec.country, spec.locale, spec.currency, spec.timezone, tax_jurisdiction, spec.entity, brands)


def _lane(name: str, spec: LaneSpec) -> Lane:
    return Lane(name, spec.from_, spec.to, spec.lead_time, spec.cost_per_kg, spec.open)


def _module_type(name: str, spec: ModuleTypeSpec) -> ModuleType:
    return ModuleType(
        name=name,
        capabilities=frozenset(spec.capabilities),
        speed=spec.speed,
        setup_time=spec.setup_time,
        mtbf=spec.mtbf,
        mttr=spec.mttr,
        yield_rate=spec.yield_rate,
        cost_per_hour=spec.cost_per_hour,
        deploy_lead_time=spec.deploy_lead_time,
        slots=spec.slots,
        failure_clock=FailureClock(spec.failure_clock),
        repair_policy=RepairPolicy(spec.repair_policy),
        capex_per_month=spec.capex_per_month,
        deploy_cost=spec.deploy_cost,
    )


def _option(spec: OptionSpec) -> Option:
    """The domain option of a spec; a missing or misplaced field raises ``ValueError("field: ...")``."""
    default = spec.default
    if spec.type == "enum":
        if not spec.values:
            raise ValueError(f"values: option {spec.name!r} of type enum needs a list of values")
        if default is not None and not isinstance(default, str):
            raise ValueError(f"default: expected one of the values, got {default!r}")
        return EnumOption(spec.name, tuple(spec.values), default, dict(spec.labels))
    if spec.type == "int":
        if spec.min is None or spec.max is None:
            raise ValueError(f"{'min' if spec.min is None else 'max'}: option {spec.name!r} of type int needs it")
        if default is not None and (isinstance(default, bool) or not isinstance(default, int)):
            raise ValueError(f"default: expected a whole number, got {default!r}")
        return IntOption(spec.name, spec.min, spec.max, spec.step, default, spec.unit)
    if spec.type == "bool":
        if default is not None and not isinstance(default, bool):
            raise ValueError(f"default: expected true or false, got {default!r}")
        return BoolOption(spec.name, default)
    if spec.max_len is None:
        raise ValueError(f"max_len: option {spec.name!r} of type text needs maxLen")
    if default is not None and not isinstance(default, str):
        raise ValueError(f"default: expected text, got {default!r}")
    try:
        return TextOption(spec.name, spec.max_len, spec.charset, spec.min_len, "" if default is None else default)
    except InvalidConfigurationError as exc:
        raise ValueError(f"default: {exc}") from None


def _rule(spec: RuleSpec) -> Rule:
    if spec.type == "table":
        if not spec.options or not spec.rows:
            raise ValueError(f"{'options' if not spec.options else 'rows'}: a table rule needs options and rows")
        for row in spec.rows:
            if len(row) != len(spec.options):
                raise ValueError(f"rows: each row needs {len(spec.options)} values, got {row!r}")
        return TableRule(spec.id, spec.message, tuple(spec.options), tuple(tuple(r) for r in spec.rows))
    if spec.type == "implies":
        if spec.then is None:
            raise ValueError("then: an implies rule needs a condition to imply")
        return ImpliesRule(spec.id, spec.message, tuple(spec.when), spec.then)
    if spec.expr is None:
        raise ValueError("expr: a linear rule needs a comparison like 'engrave_chars * 15 <= width'")
    return LinearRule(spec.id, spec.message, spec.expr)


def _step(spec: RoutingStepSpec) -> RoutingStep:
    flags = OriginFlags(spec.confers_origin, spec.significant, spec.essential)
    return RoutingStep(spec.name, spec.capability, spec.duration, spec.family, spec.when, flags)


def _bom_line(spec: BomLineSpec) -> BomLine:
    flags = MaterialFlags(spec.indirect, spec.essential, spec.unavailable_domestically, spec.preferential)
    return BomLine(
        spec.item, spec.quantity, spec.unit, spec.unit_cost, spec.origin or "", spec.hs_code, spec.when, flags
    )


def _fx_rates(spec: NetworkSpec) -> Iterable[FxRate]:
    for rate in spec.fx_rates:
        yield FxRate(rate.base, rate.quote, rate.rate, rate.as_of, rate.source, rate.valid_until)

"""Capacity expansion for a declared network: the forecast and the network become an `ExpansionProblem`.

Families and variants
    A forecast family is one product with a configuration mix (given, or ``samples`` seeded
    random valid configurations). Configurations are grouped by the capabilities their routing
    needs that some site lacks today, so a family whose anodized finishes need an anodizing line
    (which Vietnam has not) becomes two *variants*, ``stands`` and ``stands+anodize``: a site may
    then make the variants it can, instead of a mix's average needing every capability. Each
    variant's demand is its share of the family's (by the mix's weights).
Work and capacity
    Standard hours per unit and capability (the routing's durations, before module speed). A
    module gives ``hours of the period x MTBF / (MTBF + MTTR) x speed x yield x targetUtilisation``
    standard hours per period, shared over its capabilities.
Costs (the network's base currency, rates of the plan's start)
    Per unit, site, market and variant: production = materials (the BOM) + each routing step on
    the cheapest module type the site has or may take, at its cost per hour; freight = the
    lane's cost per kg x the unit's mass; duty = component duties and the duty on the finished
    good (`microfab.commerce.offers.site_offer`, with origin under agreements) for the
    variant's most common configuration. A market is served only over an open lane (no slower
    than its ``maxLeadTime``). A unit not served costs its ``lostSalePenalty``, by default the
    variant's mean list price (the revenue lost). Capex per container-month and the deploy cost
    come from the module types (``capexPerMonth``, ``deployCost``); a type without capex is not
    deployed. Retiring costs ``retireCostShare`` x its deploy cost.
Lead times
    A module ordered at the plan's start is productive from the first period that starts at
    least its type's ``deployLeadTime`` later.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from microfab.commerce.offers import OfferInputs, site_offer
from microfab.control.forecast import Forecast, ForecastFamily
from microfab.control.scenarios import random_configuration
from microfab.domain.costing import SiteOption
from microfab.domain.modules import ModuleType
from microfab.domain.network import Network
from microfab.domain.products import ConfigValue, ProductTemplate, TextOption
from microfab.domain.quantities import Duration, Money
from microfab.planning.expand_problem import (
    Demand,
    ExpansionProblem,
    ExpansionSite,
    Family,
    ModuleOption,
    Period,
    Route,
)

Configuration = Mapping[str, ConfigValue]
_MONTH_HOURS = 365.25 * 24 / 12


@dataclass(frozen=True, slots=True)
class Variant:
    """A family's configurations that need the same capabilities: their weights, share and per-unit figures."""

    name: str
    family: str
    product: str
    mix: tuple[tuple[float, Configuration], ...]
    share: float
    order_size: float
    work: Mapping[str, float]  # standard hours per unit, by capability
    price: float  # mean list price per unit, base currency
    materials: float
    mass_kg: float


@dataclass(frozen=True, slots=True)
class ExpansionInputs:
    """The problem with what it was built from: the network, the forecast and the variants."""

    problem: ExpansionProblem
    network: Network
    forecast: Forecast
    variants: Mapping[str, Variant]


def expansion_problem(network: Network, forecast: Forecast, *, seed: int = 0) -> ExpansionInputs:
    """The expansion problem of *network* under *forecast* (see the module docstring)."""
    variants = {v.name: v for family in forecast.families for v in variants_of(network, family, seed)}
    base = network.base_currency
    day = forecast.start.date()
    periods = tuple(
        Period(span.label, span.hours, 1.0 if forecast.period == "month" else span.hours / _MONTH_HOURS)
        for span in forecast.spans
    )
    options = tuple(_option(network, forecast, t) for t in sorted(network.module_types.values(), key=lambda t: t.name))
    sites = tuple(
        ExpansionSite(
            name,
            network.sites[name].container_slots,
            _existing(network, name),
            forecast.allowed.get(name),
        )
        for name in sorted(network.sites)
    )
    demands = []
    for d in forecast.demand:
        for v in (v for v in variants.values() if v.family == d.family):
            penalty = float(network.fx.convert(d.penalty, base, day).amount) if d.penalty is not None else v.price
            demands.append(Demand(d.market, v.name, tuple(u * v.share for u in d.units), round(penalty, 6)))
    problem = ExpansionProblem(
        periods=periods,
        families=tuple(Family(v.name, dict(v.work)) for v in variants.values()),
        types=options,
        sites=sites,
        demands=tuple(demands),
        routes=tuple(_routes(network, forecast, variants, sites, options)),
        currency=base,
        start=forecast.start,
        retire=forecast.retire,
    )
    return ExpansionInputs(problem, network, forecast, variants)


def variants_of(network: Network, family: ForecastFamily, seed: int) -> list[Variant]:
    """The family's configurations grouped by the capabilities they need (see the module docstring)."""
    product = network.product(family.product)
    if family.mix is not None:
        configs = [(float(share), product.configure(config)) for share, config in family.mix]
    else:
        rng = random.Random(f"{seed}:{family.name}")
        configs = [(1.0, product.configure(sample_configuration(product, rng))) for _ in range(family.samples)]
    everywhere = (
        frozenset.intersection(*(network.capabilities_at(s) for s in network.sites)) if network.sites else frozenset()
    )
    groups: dict[frozenset[str], list[tuple[float, Configuration]]] = {}
    for weight, config in configs:
        needs = frozenset(step.capability for step in product.routing_for(config)) - everywhere
        groups.setdefault(needs, []).append((weight, config))
    total = sum(w for w, _ in configs)
    out = []
    for needs, members in sorted(groups.items(), key=lambda g: (len(g[0]), sorted(g[0]))):
        name = family.name + "".join(f"+{c}" for c in sorted(needs))
        out.append(_variant(network, product, family, name, members, total))
    return out


def sample_configuration(product: ProductTemplate, rng: random.Random, tries: int = 200) -> dict[str, ConfigValue]:
    """A random valid configuration: options drawn from their domains (text empty half the time) until no rule breaks.

    Rejection sampling is fast for catalogue products; after *tries* failures it falls back to
    `microfab.control.scenarios.random_configuration` (the configurator's valid values, slower).
    """
    for _ in range(tries):
        config: dict[str, ConfigValue] = {}
        for option in product.options:
            if isinstance(option, TextOption):
                length = 0 if rng.random() < 0.5 else rng.choice(option.domain())
                config[option.name] = option.sample(int(length))
            else:
                config[option.name] = rng.choice(option.domain())
        if not product.violations(product.configure(config)):
            return config
    return random_configuration(product, rng)


def _variant(
    network: Network,
    product: ProductTemplate,
    family: ForecastFamily,
    name: str,
    members: list[tuple[float, Configuration]],
    total: float,
) -> Variant:
    weight = sum(w for w, _ in members)
    work: dict[str, float] = {}
    price = materials = mass = 0.0
    base = network.base_currency
    for w, config in members:
        share = w / weight
        for step in product.routing_for(config):
            work[step.capability] = work.get(step.capability, 0.0) + share * float(step.duration.hours)
        price += share * float(network.fx.convert(product.unit_price(config), base).amount)
        bom = sum((item.cost for item in product.bom_for(config)), Money.zero(product.currency))
        materials += share * float(network.fx.convert(bom, base).amount)
        mass += share * float(product.unit_mass(config).kg)
    mix = tuple((w, config) for w, config in members)
    return Variant(
        name, family.name, product.name, mix, weight / total, float(family.order_size), work, price, materials, mass
    )


def _option(network: Network, forecast: Forecast, kind: ModuleType) -> ModuleOption:
    availability = kind.mtbf.seconds / (kind.mtbf.seconds + kind.mttr.seconds)
    rate = availability * float(kind.speed) * float(kind.yield_rate) * float(forecast.target_utilisation)
    base, day = network.base_currency, forecast.start.date()
    capex = float(network.fx.convert(kind.capex_per_month, base, day).amount) if kind.capex_per_month else 0.0
    deploy = float(network.fx.convert(kind.deploy_cost, base, day).amount) if kind.deploy_cost else 0.0
    lead = lead_periods(forecast, kind.deploy_lead_time)
    return ModuleOption(
        name=kind.name,
        capabilities=kind.capabilities,
        rate=rate,
        slots=kind.slots,
        capex=capex,
        deploy_cost=deploy,
        retire_cost=float(forecast.retire_cost_share) * deploy,
        lead=lead,
        deployable=kind.capex_per_month is not None,
    )


def lead_periods(forecast: Forecast, lead_time: Duration) -> int:
    """The first period starting at least *lead_time* after the plan's start (``len(spans)`` when none does)."""
    ready = forecast.start.timestamp() + lead_time.seconds
    for p, span in enumerate(forecast.spans):
        if span.start.timestamp() >= ready:
            return p
    return len(forecast.spans)


def _existing(network: Network, site: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for module in network.modules_at(site):
        counts[module.module_type] = counts.get(module.module_type, 0) + 1
    return counts


def _routes(
    network: Network,
    forecast: Forecast,
    variants: Mapping[str, Variant],
    sites: tuple[ExpansionSite, ...],
    options: tuple[ModuleOption, ...],
) -> list[Route]:
    types = {t.name: network.module_types[t.name] for t in options}
    by_name = {o.name: o for o in options}
    max_lead = {(d.market, d.family): d.max_lead_time for d in forecast.demand}
    lanes = {(lane.site, lane.market): lane for lane in network.lanes.values() if lane.open}
    markets = sorted({d.market for d in forecast.demand})
    routes = []
    for site in sites:
        present = [types[o.name] for o in options if site.existing.get(o.name) or site.may_take(by_name[o.name])]
        for variant in variants.values():
            production, missing = _production(network, variant, present)
            for market in markets:
                lane = lanes.get((site.name, market))
                limit = max_lead.get((market, variant.family))
                reason = None
                if missing:
                    reason = f"no module type for {', '.join(missing)} may be at {site.name}"
                elif lane is None:
                    reason = f"no open lane from {site.name} to {market}"
                elif limit is not None and lane.lead_time.seconds > limit.seconds:
                    reason = f"lane {lane.name} takes {lane.lead_time}, more than the market's maxLeadTime {limit}"
                if reason is not None or lane is None:
                    routes.append(Route(site.name, market, variant.name, reason=reason))
                    continue
                freight = float(network.fx.convert(lane.cost_per_kg, network.base_currency).amount) * variant.mass_kg
                duty = _duty(network, forecast.start, variant, site.name, market, lane.name, production, freight)
                routes.append(
                    Route(
                        site.name,
                        market,
                        variant.name,
                        production=round(production, 6),
                        freight=round(freight, 6),
                        duty=round(duty, 6),
                        lead=float(lane.lead_time.hours),
                    )
                )
    return routes


def _production(network: Network, variant: Variant, present: list[ModuleType]) -> tuple[float, list[str]]:
    """Materials + each capability's standard hours on the cheapest present type (per unit, base currency)."""
    cost, missing = variant.materials, []
    for capability, hours in sorted(variant.work.items()):
        rates = [
            float(network.fx.convert(t.cost_per_hour, network.base_currency).amount) / float(t.speed)
            for t in present
            if capability in t.capabilities
        ]
        if not rates:
            missing.append(capability)
            continue
        cost += min(rates) * hours
    return cost, missing


def _duty(
    network: Network,
    at: datetime,
    variant: Variant,
    site: str,
    market: str,
    lane: str,
    production: float,
    freight: float,
) -> float:
    """Component duties and the duty on the finished good for one unit of the variant's most common configuration."""
    config = max(variant.mix, key=lambda item: item[0])[1]
    product = network.product(variant.product)
    base = network.base_currency
    price = network.fx.convert(product.unit_price(config), base, at.date())
    conversion = production - variant.materials
    option = SiteOption(
        site,
        lane,
        Money(Decimal(repr(round(max(conversion, 0.0), 2))), base),
        Money(Decimal(repr(round(freight, 2))), base),
        network.lanes[lane].lead_time,
        Duration(max(1, round(sum(variant.work.values()) * 3600))),
    )
    inputs = OfferInputs(
        network=network,
        product=product,
        config=dict(config),
        quantity=1,
        at=at,
        currency=base,
        destination=None,
        market_country=network.market(market).country,
        buyer_zone=network.market(market).timezone,
        net=price,
        bom=product.bom_for(config),
        steps=product.routing_for(config),
    )
    duty = site_offer(inputs, option).duty
    return float(duty.amount) if duty is not None else 0.0

"""Seeded generator of capacity-expansion instances, for benchmarks and tests.

Sites in three trade regions, markets spread over them; capabilities ``c0..c{k-1}``, module
types offering one or two (every capability offered by at least one type); families needing
two to four capabilities (0.1-0.8 standard hours a unit each); monthly periods of 730 hours.
Each site starts with roughly 55 % of its slots filled, types chosen so that the region's
families can mostly be made; demand per (market, family) starts at 45-80 % of the network's
starting capacity share and grows 1-6 % a month with +-10 % noise, so that capacity runs
short part-way through the horizon. Unit cost = production (0.9-1.2x a family base) + freight
(within a region 2-5 % of the price, across 8-20 %) + duty (0-12 % across regions); 10 % of
cross-region routes closed; price (the lost-sales penalty) 1.6-2.4x the family's base cost.
Capex per month 1.5-4 % of a module's monthly value of output; deploy cost 3-6 months of capex;
lead times 1-3 months; retire cost one month of capex.
"""

from __future__ import annotations

import random

from microfab.planning.expand_problem import (
    Demand,
    ExpansionProblem,
    ExpansionSite,
    Family,
    ModuleOption,
    Period,
    Route,
)

_HOURS = 730.0


def generate(
    sites: int = 10,
    types: int = 8,
    periods: int = 24,
    markets: int = 20,
    families: int = 5,
    *,
    seed: int = 0,
) -> ExpansionProblem:
    """A seeded instance of the given size (see the module docstring)."""
    rng = random.Random(seed)
    capabilities = [f"c{i}" for i in range(max(2, types - 2))]
    options = _types(rng, types, capabilities)
    fams = _families(rng, families, capabilities)
    site_names = [f"site-{i:02d}" for i in range(sites)]
    market_names = [f"market-{i:02d}" for i in range(markets)]
    region = {name: i % 3 for i, name in enumerate(site_names)} | {name: i % 3 for i, name in enumerate(market_names)}
    base = {f.name: sum(f.work.values()) * rng.uniform(60, 90) for f in fams}
    built_sites = tuple(_site(rng, name, options) for name in site_names)
    routes = tuple(
        _route(rng, s, m, f.name, base[f.name], same=region[s] == region[m])
        for s in site_names
        for m in market_names
        for f in fams
    )
    capacity = sum(options_by(options, t).rate * _HOURS * n for site in built_sites for t, n in site.existing.items())
    mean_work = sum(sum(f.work.values()) for f in fams) / len(fams)
    share = capacity / mean_work / (markets * families)
    demands = []
    for m in market_names:
        for f in fams:
            level = share * rng.uniform(0.45, 0.8)
            growth = rng.uniform(0.01, 0.06)
            units = tuple(round(level * (1 + growth) ** p * rng.uniform(0.9, 1.1), 1) for p in range(periods))
            demands.append(Demand(m, f.name, units, round(base[f.name] * rng.uniform(1.6, 2.4), 2)))
    return ExpansionProblem(
        periods=tuple(Period(f"M{p + 1:02d}", _HOURS, 1.0) for p in range(periods)),
        families=tuple(fams),
        types=tuple(options),
        sites=built_sites,
        demands=tuple(demands),
        routes=routes,
        currency="USD",
    )


def options_by(options: list[ModuleOption], name: str) -> ModuleOption:
    """The option called *name*."""
    return next(o for o in options if o.name == name)


def _types(rng: random.Random, count: int, capabilities: list[str]) -> list[ModuleOption]:
    out = []
    for i in range(count):
        own = {capabilities[i % len(capabilities)]}
        if i >= len(capabilities) or rng.random() < 0.3:
            own.add(rng.choice(capabilities))
        rate = rng.uniform(0.7, 1.1)
        capex = round(rate * _HOURS * rng.uniform(1.5, 4.0), 0)
        out.append(
            ModuleOption(
                name=f"type-{i:02d}",
                capabilities=frozenset(own),
                rate=round(rate, 3),
                slots=2 if rng.random() < 0.15 else 1,
                capex=capex,
                deploy_cost=round(capex * rng.uniform(3, 6), 0),
                retire_cost=capex,
                lead=rng.randint(1, 3),
            )
        )
    return out


def _families(rng: random.Random, count: int, capabilities: list[str]) -> list[Family]:
    out = []
    for i in range(count):
        needed = rng.sample(capabilities, min(len(capabilities), rng.randint(2, 4)))
        out.append(Family(f"family-{i}", {c: round(rng.uniform(0.1, 0.8), 3) for c in sorted(needed)}))
    return out


def _site(rng: random.Random, name: str, options: list[ModuleOption]) -> ExpansionSite:
    slots = rng.randint(10, 18)
    existing: dict[str, int] = {}
    used = 0
    for option in rng.sample(options, len(options)):
        if used + option.slots <= 0.55 * slots:
            existing[option.name] = existing.get(option.name, 0) + 1
            used += option.slots
    return ExpansionSite(name, slots, existing)


def _route(rng: random.Random, site: str, market: str, family: str, base: float, *, same: bool) -> Route:
    if not same and rng.random() < 0.1:
        return Route(site, market, family, reason="lane closed")
    freight = base * (rng.uniform(0.02, 0.05) if same else rng.uniform(0.08, 0.2))
    duty = 0.0 if same else base * rng.uniform(0.0, 0.12)
    return Route(
        site,
        market,
        family,
        production=round(base * rng.uniform(0.9, 1.2), 2),
        freight=round(freight, 2),
        duty=round(duty, 2),
        lead=rng.uniform(24, 72) if same else rng.uniform(96, 240),
    )

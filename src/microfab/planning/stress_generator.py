"""Seeded multi-tier supply networks for stress-test benchmarks and tests.

Tiers: raw materials, three tiers of parts, products made at our sites. Each part is made of
1-3 items of lower tiers, each product of 2-5 parts plus one site (one unit of the site's
throughput per unit); an item nothing uses gets one consumer in the tier above, so that every
node matters. A quarter of the BOM lines get an alternative supplier of the same tier
as the part (another raw, another part, another site for a third of the products' site lines).
Demand is 5-50 units/day per product, margins 20-400 per unit. Capacities are 1.05-1.6x what
the demand needs through the primary suppliers, so the undisrupted network meets demand;
stock covers 0-25 days of that need (none at one node in seven); times to recover are 5-60
days for raw materials, 3-40 for parts, 10-90 for sites and 1-15 for final assembly.
"""

from __future__ import annotations

import random
from decimal import Decimal

from microfab.planning.stress_network import BomLine, NodeKind, Source, StressNetwork, StressNode

_TIERS = 3
_TTR = {NodeKind.RAW: (5, 60), NodeKind.PART: (3, 40), NodeKind.SITE: (10, 90), NodeKind.PRODUCT: (1, 15)}


def generate_network(nodes: int = 1000, *, seed: int = 0, horizon_days: float = 120.0) -> StressNetwork:
    """A network of exactly *nodes* nodes (at least 12), the same for the same *seed*."""
    if nodes < 12:
        raise ValueError(f"nodes: expected at least 12, got {nodes}")
    rng = random.Random(seed)
    products = max(2, nodes // 50)
    sites = max(2, nodes // 100)
    raws = max(3, int(0.35 * nodes))
    parts = nodes - products - sites - raws
    tiers: list[list[str]] = [[f"raw-{k:05d}" for k in range(raws)]]
    per_tier = [parts // _TIERS + (1 if t < parts % _TIERS else 0) for t in range(_TIERS)]
    tiers += [[f"part-{t + 1}-{k:05d}" for k in range(count)] for t, count in enumerate(per_tier)]
    site_ids = [f"site-{k:03d}" for k in range(sites)]
    product_ids = [f"product-{k:04d}" for k in range(products)]
    bom: list[BomLine] = []
    sources: list[Source] = []
    for t in range(1, _TIERS + 1):
        for part in tiers[t]:
            for child in _pick(rng, tiers[t - 1] + (tiers[t - 2] if t > 1 else []), 1, 3):
                bom.append(BomLine(part, child, float(rng.choice((1, 1, 2, 3, 0.5)))))
                _alternative(rng, sources, child, part, tiers[_tier(child)], 0.25)
    for product in product_ids:
        site = rng.choice(site_ids)
        bom.append(BomLine(product, site, 1.0))
        _alternative(rng, sources, site, product, site_ids, 0.35)
        for child in _pick(rng, [p for tier in tiers[1:] for p in tier], 2, 5):
            bom.append(BomLine(product, child, float(rng.choice((1, 1, 2, 4)))))
            _alternative(rng, sources, child, product, tiers[_tier(child)], 0.25)
    _use_all(rng, bom, tiers, product_ids, site_ids)
    demand = {p: float(rng.randint(5, 50)) for p in product_ids}
    need = _need(demand, bom)
    kinds = {**dict.fromkeys(tiers[0], NodeKind.RAW), **dict.fromkeys(site_ids, NodeKind.SITE)}
    kinds |= {p: NodeKind.PART for tier in tiers[1:] for p in tier} | dict.fromkeys(product_ids, NodeKind.PRODUCT)
    made = [n for tier in tiers for n in tier] + site_ids + product_ids
    return StressNetwork(
        nodes=tuple(_node(rng, node_id, kinds[node_id], need.get(node_id, 0.0)) for node_id in made),
        demand=demand,
        bom=tuple(bom),
        sources=tuple(sources),
        horizon_days=horizon_days,
        currency="EUR",
    )


def _tier(node_id: str) -> int:
    return 0 if node_id.startswith("raw-") else int(node_id.split("-")[1])


def _pick(rng: random.Random, pool: list[str], low: int, high: int) -> list[str]:
    return rng.sample(pool, min(len(pool), rng.randint(low, high)))


def _alternative(rng: random.Random, sources: list[Source], part: str, parent: str, pool: list[str], p: float) -> None:
    if len(pool) > 1 and rng.random() < p:
        supplier = rng.choice([n for n in pool if n != part])
        sources.append(Source(part, parent, supplier))


def _use_all(
    rng: random.Random, bom: list[BomLine], tiers: list[list[str]], products: list[str], sites: list[str]
) -> None:
    """Give every raw material, part and site that nothing uses one consumer in the tier above (no idle node)."""
    used = {line.part for line in bom}
    for t, tier in enumerate(tiers):
        parents = tiers[t + 1] if t < _TIERS else products
        for node in tier:
            if node not in used:
                bom.append(BomLine(rng.choice(parents), node, float(rng.choice((1, 1, 2)))))
    for site in sites:
        if site not in used:
            bom.append(BomLine(rng.choice(products), site, 1.0))


def _need(demand: dict[str, float], bom: list[BomLine]) -> dict[str, float]:
    """Units/day each node makes when every line is drawn from its part node (parents before parts)."""
    children: dict[str, list[BomLine]] = {}
    for line in bom:
        children.setdefault(line.parent, []).append(line)
    need = dict(demand)
    order = sorted(children, key=lambda n: (not n.startswith("product-"), -_tier(n) if n.startswith("part-") else 0))
    for parent in order:
        for line in children[parent]:
            need[line.part] = need.get(line.part, 0.0) + line.qty * need.get(parent, 0.0)
    return need


def _node(rng: random.Random, node_id: str, kind: NodeKind, need: float) -> StressNode:
    capacity = need * rng.uniform(1.05, 1.6) if need else float(rng.randint(1, 50))
    stock = 0.0 if kind is NodeKind.SITE or rng.random() < 1 / 7 else round(need * rng.uniform(0, 25), 1)
    low, high = _TTR[kind]
    weight = Decimal(rng.randint(2000, 40000)).scaleb(-2) if kind is NodeKind.PRODUCT else None
    return StressNode(node_id, kind, float(rng.randint(low, high)), stock, round(capacity, 2), weight=weight)

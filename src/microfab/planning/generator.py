"""Seeded allocation problems that look like a network's backlog, for benchmarks and tests.

A network of *sites* in three trade regions serves five markets. Each site has 1-4 modules
per capability (5-8 capabilities; a site may lack one or two), an availability of 85-97 %
and some planned downtime (a capability off or at half capacity for 1-3 buckets). Lanes from
a site to a market in its own region take 1-3 days, across regions 4-10 days, and about one
in ten lanes is closed. Each order needs 2-4 capabilities for 1-40 units; its price is
1.3-2x its typical cost, its reject penalty is that price (the revenue lost), lateness costs
0.05-0.3 % of it per hour, and duty (0-12 % of the price) is paid only across regions (the
origin exemption of a regional agreement). Due dates spread over the horizon; a quarter of
the larger orders may be split; a third of the sites (the dearest) have a fixed cost. Capacity is
then scaled, per capability, to *load* x the demand's hours (95-110 % by default): with
eligibility, lead times and due dates, about 65-75 % of the demand's hours then fit. A share of
the orders (*released*, a fifth by default) arrives later: at the start of a bucket drawn
uniformly between the second one and a week before its due time (from a stream of its own,
so the rest of the instance is the same with or without releases).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from microfab.planning.problem import AllocationProblem, Bucket, PairCost, PlanOrder, PlanSite

CAPABILITIES = ("cut", "mill", "print", "weld", "paint", "assemble", "inspect", "pack")
MARKETS = (("us", 0), ("mx", 0), ("de", 1), ("fr", 1), ("jp", 2))  # (market, region)
RELEASED = 0.2
"""The default share of orders released after the start."""
LEAD = 168.0
"""Hours at least between a later release and the due time: a week, about a quoted lead time."""


@dataclass(frozen=True, slots=True)
class _Net:
    capabilities: tuple[str, ...]
    region: dict[str, int]  # site -> region
    rate: dict[tuple[str, str], float]  # (site, capability) -> cost per hour
    lanes: dict[tuple[str, str], tuple[float, float, bool]]  # (site, market) -> (lead h, cost per kg, open)
    duty: dict[tuple[str, str], float]  # (site, market) -> duty rate across regions


def generate(
    orders: int = 1000,
    sites: int = 10,
    buckets: int = 30,
    *,
    seed: int = 0,
    bucket_hours: float = 24.0,
    load: tuple[float, float] = (0.95, 1.1),
    fixed_costs: bool = True,
    released: float = RELEASED,
) -> AllocationProblem:
    """A problem of *orders* x *sites* x *buckets* (days by default), the same for the same arguments."""
    rng = random.Random(seed)
    net = _network(rng, sites)
    names = sorted(net.region)
    plan_orders, pairs = _orders(rng, net, orders, buckets * bucket_hours)
    plan_orders = _releases(random.Random(f"{seed}:release"), plan_orders, released, buckets, bucket_hours)
    capacity = _capacity(rng, net, plan_orders, buckets, bucket_hours, load)
    values = [float(o.reject_penalty) for o in plan_orders]
    mean = sum(values) / max(1, len(values))
    costly = sorted(names, key=lambda s: -sum(net.rate[(s, c)] for c in net.capabilities if (s, c) in net.rate))
    fixed = {s: round(mean * rng.uniform(5, 20), 2) for s in costly[: max(1, sites // 3)]} if fixed_costs else {}
    return AllocationProblem(
        orders=tuple(plan_orders),
        sites=tuple(PlanSite(s, capacity[s], fixed.get(s, 0.0)) for s in names),
        buckets=tuple(Bucket(b * bucket_hours, (b + 1) * bucket_hours, f"b{b + 1:02d}") for b in range(buckets)),
        pairs=tuple(pairs),
        currency="EUR",
    )


def small(seed: int = 0) -> AllocationProblem:
    """A small problem for tests: 40 orders, 4 sites, 7 daily buckets."""
    return generate(40, 4, 7, seed=seed)


def _network(rng: random.Random, sites: int) -> _Net:
    capabilities = CAPABILITIES[: rng.randint(5, 8)]
    names = [f"site-{i + 1:02d}" for i in range(sites)]
    region = {s: i % 3 for i, s in enumerate(names)}
    rate: dict[tuple[str, str], float] = {}
    for i, site in enumerate(names):
        base = rng.uniform(35, 110)
        missing = (
            set(rng.sample(capabilities, rng.choice((0, 0, 1, 2)))) if i >= 3 else set()
        )  # the first three have all
        for capability in capabilities:
            if capability not in missing:
                rate[(site, capability)] = round(base * rng.uniform(0.8, 1.25), 2)
    lanes: dict[tuple[str, str], tuple[float, float, bool]] = {}
    duty: dict[tuple[str, str], float] = {}
    for site in names:
        for market, market_region in MARKETS:
            local = region[site] == market_region
            lead = rng.randint(1, 3) * 24.0 if local else rng.randint(4, 10) * 24.0
            per_kg = rng.uniform(0.4, 1.5) if local else rng.uniform(2.0, 6.0)
            lanes[(site, market)] = (lead, round(per_kg, 2), rng.random() > 0.1)
            duty[(site, market)] = 0.0 if local else rng.choice((0.0, 0.025, 0.05, 0.08, 0.12))
    return _Net(tuple(capabilities), region, rate, lanes, duty)


def _orders(rng: random.Random, net: _Net, count: int, horizon: float) -> tuple[list[PlanOrder], list[PairCost]]:
    orders: list[PlanOrder] = []
    pairs: list[PairCost] = []
    sites = sorted(net.region)
    for n in range(count):
        order_id = f"O{n + 1:05d}"
        market = rng.choice(MARKETS)[0]
        quantity = rng.randint(1, 40)
        needs = rng.sample(net.capabilities, rng.randint(2, 4))
        work = {c: round(quantity * rng.uniform(0.05, 0.6), 3) for c in needs}
        mass = quantity * rng.uniform(0.5, 8.0)
        costs = {
            s: sum(h * net.rate[(s, c)] for c, h in work.items())
            for s in sites
            if all((s, c) in net.rate for c in work)
        }
        typical = sorted(costs.values())[len(costs) // 2] if costs else 60.0 * sum(work.values())
        price = round(typical * rng.uniform(1.3, 2.0), 2)
        orders.append(
            PlanOrder(
                id=order_id,
                work=work,
                due=round(rng.uniform(0.1, 1.05) * horizon + 48.0, 1),
                reject_penalty=price,
                weight=round(price * rng.uniform(0.0005, 0.003), 4),
                quantity=quantity,
                splittable=quantity >= 4 and rng.random() < 0.25,
            )
        )
        for site in sites:
            lead, per_kg, is_open = net.lanes[(site, market)]
            missing = sorted(c for c in work if (site, c) not in net.rate)
            reason = f"no module for {', '.join(missing)}" if missing else None
            reason = reason or (None if is_open else f"lane {site}->{market} is closed")
            production = round(costs.get(site, 0.0), 2)
            duty = round(price * net.duty[(site, market)], 2)
            pairs.append(PairCost(order_id, site, production, round(per_kg * mass, 2), duty, lead, reason))
    return orders, pairs


def _releases(rng: random.Random, orders: list[PlanOrder], share: float, buckets: int, hours: float) -> list[PlanOrder]:
    """*share* of the orders released at the start of a bucket from the second one to `LEAD` before their due time."""
    out = []
    for order in orders:
        later, draw = rng.random(), rng.random()  # always two draws: the same releases for the same share
        latest = min(buckets - 1, int((order.due - LEAD) // hours))
        released = later < share and latest >= 1
        out.append(replace(order, release=(1 + int(draw * latest)) * hours) if released else order)
    return out


def _capacity(
    rng: random.Random, net: _Net, orders: list[PlanOrder], buckets: int, hours: float, load: tuple[float, float]
) -> dict[str, dict[str, tuple[float, ...]]]:
    """Module hours per site, capability and bucket, scaled per capability to *load* x the demand."""
    raw: dict[str, dict[str, list[float]]] = {}
    for site in sorted(net.region):
        availability = rng.uniform(0.85, 0.97)
        raw[site] = {}
        for capability in net.capabilities:
            if (site, capability) not in net.rate:
                continue
            row = [rng.randint(1, 4) * hours * availability] * buckets
            if rng.random() < 0.3:  # planned downtime: off or at half capacity for 1-3 buckets
                first, factor = rng.randrange(buckets), rng.choice((0.0, 0.5))
                for b in range(first, min(buckets, first + rng.randint(1, 3))):
                    row[b] *= factor
            raw[site][capability] = row
    for capability in net.capabilities:
        demand = sum(o.work.get(capability, 0.0) for o in orders)
        supply = sum(sum(caps[capability]) for caps in raw.values() if capability in caps)
        scale = rng.uniform(*load) * demand / supply if supply else 0.0
        for caps in raw.values():
            if capability in caps:
                caps[capability] = [round(h * scale, 3) for h in caps[capability]]
    return {site: {c: tuple(row) for c, row in caps.items()} for site, caps in raw.items()}

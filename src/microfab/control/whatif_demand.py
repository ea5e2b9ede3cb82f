"""Seeded demand for what-if runs: Poisson order arrivals per market, with common random numbers.

Each market's base orders come from their own random stream (``"{seed}:{market}"``): arrival
gaps exponential with the market's rate, then the product (by the mix's shares), one of the
product's configurations that some site can serve there, the quantity (uniform in
``[min, max]``) and one uniform number for thinning. Baseline and variants therefore draw the
very same base orders for a seed. A `DemandSurge` with a factor above 1 adds orders from a
stream of its own (``"{seed}:{market}:surge:{i}"``) at ``(factor - 1)`` times the rate over its
window (overlapping surges add up); a factor below 1 keeps a base order in its window only when
its thinning number is below the factor (overlapping factors multiply).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from microfab.control.whatif_scenario import Configuration, DemandModel, DemandSurge


@dataclass(frozen=True, slots=True)
class DemandOrder:
    """One order of the drawn demand: what, how many, for which market, when it arrives and is due."""

    id: str
    market: str
    product: str
    config: Configuration
    quantity: int
    arrival: datetime
    due: datetime


def draw_demand(
    model: DemandModel, *, start: datetime, end: datetime, seed: int, surges: Sequence[DemandSurge] = ()
) -> list[DemandOrder]:
    """The orders arriving over ``[start, end)`` for replication *seed*, by arrival then id."""
    orders: list[DemandOrder] = []
    for market, rate in sorted(model.orders_per_day.items()):
        mine = [s for s in surges if s.market == market]
        rng = random.Random(f"{seed}:{market}")
        for k, (at, keep) in enumerate(_arrivals(rng, rate, start, end)):
            order = _order(model, rng, f"{market}-{k:05d}", market, at)
            if order is not None and keep < _keep_share(mine, at):
                orders.append(order)
        for i, surge in enumerate(mine):
            if surge.factor <= 1:
                continue
            extra = random.Random(f"{seed}:{market}:surge:{i}")
            window = (max(start, surge.start), min(end, surge.end))
            for k, (at, _) in enumerate(_arrivals(extra, rate * (surge.factor - 1), *window)):
                order = _order(model, extra, f"{market}-s{i}-{k:05d}", market, at)
                if order is not None:
                    orders.append(order)
    return sorted(orders, key=lambda o: (o.arrival, o.id))


def _arrivals(rng: random.Random, per_day: float, start: datetime, end: datetime) -> list[tuple[datetime, float]]:
    """Poisson arrival times over ``[start, end)`` (whole seconds) and a thinning number for each."""
    if per_day <= 0 or end <= start:
        return []
    span = (end - start).total_seconds()
    rate = per_day / 86400.0
    out: list[tuple[datetime, float]] = []
    t = rng.expovariate(rate)
    while t < span:
        out.append((start + timedelta(seconds=int(t)), rng.random()))
        t += rng.expovariate(rate)
    return out


def _order(model: DemandModel, rng: random.Random, key: str, market: str, at: datetime) -> DemandOrder | None:
    """Draw product, configuration and quantity (always the same number of draws, for common random numbers)."""
    entries = [e for e in model.mix if e.configs.get(market)]
    product_draw, config_draw = rng.random(), rng.random()
    quantity = rng.randint(model.quantity_min, model.quantity_max)
    if not entries:
        return None
    total = sum(e.share for e in entries)
    acc, chosen = 0.0, entries[-1]
    for entry in entries:
        acc += entry.share / total
        if product_draw < acc:
            chosen = entry
            break
    configs = chosen.configs[market]
    config = configs[min(len(configs) - 1, int(config_draw * len(configs)))]
    return DemandOrder(key, market, chosen.product, config, quantity, at, at + model.due_in)


def _keep_share(surges: Sequence[DemandSurge], at: datetime) -> float:
    """The share of base orders kept at *at*: the product of the factors below 1 in force (1 otherwise)."""
    share = 1.0
    for surge in surges:
        if surge.factor < 1 and surge.start <= at < surge.end:
            share *= surge.factor
    return share


def units_by_market(orders: Sequence[DemandOrder]) -> Mapping[str, float]:
    """Units demanded per market."""
    out: dict[str, float] = {}
    for order in orders:
        out[order.market] = out.get(order.market, 0.0) + order.quantity
    return out

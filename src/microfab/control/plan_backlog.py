"""The applied network's backlog as an `AllocationProblem`: orders not started yet, sites' capacity, costs.

Orders
    Every order ALLOCATED whose units have not started an operation. Work per capability is
    the routing's standard time x quantity; the release, when it was placed (so the horizon's
    start: a backlog holds no order placed later); the due time, hours from the horizon start; the
    reject penalty, *penalty_factor* x the order's total (revenue lost) and the tardiness weight
    *lateness_rate* x that total per day late, both in the network's base currency.
Sites
    Capacity per capability and bucket, in standard hours: for each module offering the
    capability, the bucket's hours x availability MTBF / (MTBF + MTTR) x the module type's speed,
    less its planned downtime (hours of the bucket the module is down). A module offering two
    capabilities counts for both: the planner's capacities are not exclusive.
Costs
    Production, freight and the lane's lead time from `microfab.domain.costing.site_options`;
    duties (component duties and the duty on the finished good, with origin exemptions) from
    `microfab.commerce.offers` at the order's placement day; ineligible sites keep their reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from microfab.commerce.offers import OfferInputs, convert, site_offer
from microfab.control.state import State
from microfab.domain.costing import SiteOption, site_options
from microfab.domain.network import Network
from microfab.domain.orders import Order, OrderStatus
from microfab.planning.problem import AllocationProblem, Bucket, PairCost, PlanOrder, PlanSite

Downtime = Mapping[str, Sequence[tuple[datetime, datetime]]]
"""Planned downtime per module name: (start, end) intervals."""


def backlog_orders(state: State) -> list[Order]:
    """Orders allocated but not started (no unit has started an operation), by id."""
    waiting = [
        order
        for order in state.orders.values()
        if order.status is OrderStatus.ALLOCATED
        and not any(entry.started_at for unit in order.units.values() for entry in unit.passport.values())
    ]
    return sorted(waiting, key=lambda o: o.id)


def backlog_problem(
    state: State,
    *,
    at: datetime,
    bucket_hours: float = 24.0,
    buckets: int = 14,
    downtime: Downtime | None = None,
    penalty_factor: Decimal = Decimal(1),
    lateness_rate: Decimal = Decimal("0.01"),
) -> AllocationProblem:
    """The allocation problem of the backlog from *at* over *buckets* buckets of *bucket_hours* each."""
    network = state.network
    hours = bucket_hours
    horizon = tuple(
        Bucket(b * hours, (b + 1) * hours, (at + timedelta(hours=b * hours)).isoformat()) for b in range(buckets)
    )
    orders, pairs = [], []
    for order in backlog_orders(state):
        value = convert(network.fx, order.total, network.base_currency, order.placed_at.date()).amount
        orders.append(
            PlanOrder(
                id=order.id,
                work=_work(network, order),
                due=(order.due - at).total_seconds() / 3600,
                reject_penalty=value * penalty_factor,
                weight=value * lateness_rate / 24,
                quantity=order.quantity,
                release=max(0.0, (order.placed_at - at).total_seconds() / 3600),
            )
        )
        pairs += _pairs(network, order)
    sites = tuple(PlanSite(s, site_capacity(network, s, at, horizon, downtime or {})) for s in sorted(network.sites))
    return AllocationProblem(tuple(orders), sites, horizon, tuple(pairs), network.base_currency, at)


def _work(network: Network, order: Order) -> dict[str, float]:
    """Standard hours per capability for the whole order."""
    template = network.product(order.product)
    work: dict[str, float] = {}
    for step in template.routing_for(template.configure(order.config)):
        work[step.capability] = work.get(step.capability, 0.0) + float(step.duration.hours) * order.quantity
    return work


def _pairs(network: Network, order: Order) -> list[PairCost]:
    template = network.product(order.product)
    config = template.configure(order.config)
    pairs = []
    for option in site_options(network, order.product, config, order.quantity, order.market):
        if not option.eligible:
            pairs.append(PairCost(order.id, option.site, reason=option.reason))
            continue
        assert option.production_cost and option.freight_cost and option.lead_time
        pairs.append(
            PairCost(
                order.id,
                option.site,
                production=option.production_cost.amount,
                freight=option.freight_cost.amount,
                duty=_duty(network, order, option),
                lead=float(option.lead_time.hours),
            )
        )
    return pairs


def _duty(network: Network, order: Order, option: SiteOption) -> Decimal:
    """Component duties and the import duty on the finished good, in the base currency."""
    template = network.product(order.product)
    config = template.configure(order.config)
    market = network.market(order.market)
    inputs = OfferInputs(
        network=network,
        product=template,
        config=config,
        quantity=order.quantity,
        at=order.placed_at,
        currency=network.base_currency,
        destination=None,
        market_country=market.country,
        buyer_zone=market.timezone,
        net=convert(network.fx, order.total, network.base_currency, order.placed_at.date()),
        bom=template.bom_for(config),
        steps=template.routing_for(config),
    )
    duty = site_offer(inputs, option).duty
    return duty.amount if duty is not None else Decimal(0)


def site_capacity(
    network: Network, site: str, at: datetime, horizon: tuple[Bucket, ...], downtime: Downtime
) -> dict[str, tuple[float, ...]]:
    """Standard hours per capability and bucket at *site*."""
    capacity: dict[str, list[float]] = {}
    for module in network.modules_at(site):
        kind = network.module_types[module.module_type]
        availability = kind.mtbf.seconds / (kind.mtbf.seconds + kind.mttr.seconds)
        hours = [
            (b.end - b.start - _down(downtime.get(module.name, ()), at, b)) * availability * float(kind.speed)
            for b in horizon
        ]
        for capability in kind.capabilities:
            row = capacity.setdefault(capability, [0.0] * len(horizon))
            capacity[capability] = [a + h for a, h in zip(row, hours, strict=True)]
    return {c: tuple(row) for c, row in sorted(capacity.items())}


def _down(intervals: Sequence[tuple[datetime, datetime]], at: datetime, bucket: Bucket) -> float:
    """Hours of *bucket* covered by the downtime *intervals* (assumed not to overlap)."""
    start, end = at + timedelta(hours=bucket.start), at + timedelta(hours=bucket.end)
    return sum(max(0.0, (min(end, e) - max(start, s)).total_seconds() / 3600) for s, e in intervals)

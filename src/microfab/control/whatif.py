"""What-if studies: a change to a copy of the network, allocation and the twin re-run over N seeds, paired deltas.

For every seed and every variant (the baseline, then each scenario) one task
(`run_whatif_task`, a top-level function: local processes and Ray workers can run it):

1. apply the scenario's changes to a copy of the network (`microfab.control.whatif_changes`);
2. draw the seed's demand (`microfab.control.whatif_demand`: the same base orders for every
   variant of a seed, plus or minus a surge's);
3. build the allocation problem (orders x sites x buckets, each order released at its arrival:
   no capacity before it counts for it; costs from `microfab.commerce.quote` on the variant
   network at each order's arrival, capacity net of the variant's downtime),
   solve it with `microfab.planning.milp.allocate_milp` and check the plan with the independent
   validator (`microfab.planning.validate`) — a broken plan stops the study;
4. simulate the plan on the twin (`microfab.control.network_twin`: the allocated orders, the
   variant's downtime as forced outages — unplanned downtime, ADOT — and its retirements, every
   order demanded as on-time's base, the seed as the twin's seed).

`summarize` pairs each scenario's rows with the baseline's by seed: common random numbers, so
the 95 % confidence interval of a delta is the Student-t interval of the per-seed differences
(variant - baseline), usually much narrower than the two intervals side by side would suggest.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from microfab.commerce.offers import convert
from microfab.commerce.quote import quote
from microfab.control.network_twin import NetworkCase, TwinOrder, compile_run, run_compiled
from microfab.control.plan_backlog import site_capacity
from microfab.control.whatif_changes import Variant, apply_changes
from microfab.control.whatif_demand import DemandOrder, draw_demand, units_by_market
from microfab.control.whatif_scenario import BASELINE, Change, Setup, WhatIf, describe_change
from microfab.domain.costing import site_options
from microfab.domain.errors import NoEligibleSiteError
from microfab.domain.network import Network
from microfab.planning.milp import allocate_milp
from microfab.planning.problem import AllocationPlan, AllocationProblem, Bucket, PairCost, PlanOrder, PlanSite
from microfab.planning.validate import validate
from microfab.twin.replications import Estimate, estimate


class WhatIfError(Exception):
    """A what-if run could not give trustworthy figures (a plan the validator rejects, missing seeds)."""


@dataclass(frozen=True, slots=True)
class WhatIfTask:
    """One run: *variant* (``baseline`` or a scenario's name) with *changes*, replication *seed*."""

    variant: str
    seed: int
    network: Network
    changes: tuple[Change, ...]
    setup: Setup


def whatif_tasks(whatif: WhatIf, network: Network, *, seeds: int | None = None) -> list[WhatIfTask]:
    """The baseline and every scenario, each over seeds ``1..N``."""
    count = seeds or whatif.seeds
    if count < 1:
        raise ValueError(f"seeds: expected >= 1, got {count}")
    variants: list[tuple[str, tuple[Change, ...]]] = [(BASELINE, ())]
    variants += [(s.name, s.changes) for s in whatif.scenarios]
    return [
        WhatIfTask(name, seed, network, changes, whatif.setup)
        for name, changes in variants
        for seed in range(1, count + 1)
    ]


def run_whatif_task(task: WhatIfTask) -> dict[str, Any]:
    """Allocate and simulate one variant for one seed; its figures as a flat dict (see the module docstring)."""
    started = time.perf_counter()
    setup = task.setup
    variant = apply_changes(task.network, task.changes)
    orders = draw_demand(setup.demand, start=setup.start, end=setup.end, seed=task.seed, surges=variant.surges)
    problem = allocation_problem(variant, orders, setup)
    plan = allocate_milp(problem, time_limit=setup.time_limit, gap=setup.gap, threads=setup.threads)
    issues = validate(problem, plan)
    if issues:
        raise WhatIfError(
            f"{task.variant}, seed {task.seed}: the allocation breaks {len(issues)} rule(s): {'; '.join(issues[:3])}"
        )
    row: dict[str, Any] = {"variant": task.variant, "seed": task.seed}
    row.update(allocation_figures(problem, plan, orders))
    row.update(twin_figures(variant, orders, plan, setup, task.seed))
    row["allocation_status"] = plan.status.value
    row["allocation_gap"] = plan.gap
    row["wall_s"] = time.perf_counter() - started
    return row


# ----------------------------------------------------------------------------------------- allocation


def allocation_problem(variant: Variant, orders: Sequence[DemandOrder], setup: Setup) -> AllocationProblem:
    """Orders x sites x buckets over the run (horizon + drain), costs and capacity of the variant network."""
    network = variant.network
    hours = setup.bucket.total_seconds() / 3600
    count = math.ceil((setup.run_end - setup.start).total_seconds() / 3600 / hours - 1e-9)
    buckets = tuple(
        Bucket(b * hours, (b + 1) * hours, (setup.start + timedelta(hours=b * hours)).isoformat()) for b in range(count)
    )
    end = setup.start + timedelta(hours=count * hours)
    downtime = variant.closed_downtime(end)
    sites = tuple(PlanSite(s, site_capacity(network, s, setup.start, buckets, downtime)) for s in sorted(network.sites))
    plan_orders, pairs = [], []
    work_of: dict[tuple[str, tuple[tuple[str, Any], ...]], dict[str, float]] = {}
    for order in orders:
        key = (order.product, tuple(sorted(order.config.items())))
        if key not in work_of:
            work_of[key] = _work_per_unit(network, order)
        value = order_value(network, order)
        plan_orders.append(
            PlanOrder(
                id=order.id,
                work={c: h * order.quantity for c, h in work_of[key].items()},
                due=(order.due - setup.start).total_seconds() / 3600,
                reject_penalty=value * setup.penalty_factor,
                weight=value * setup.lateness_rate / 24,
                quantity=order.quantity,
                release=(order.arrival - setup.start).total_seconds() / 3600,
            )
        )
        pairs += _pairs(variant, order)
    return AllocationProblem(tuple(plan_orders), sites, buckets, tuple(pairs), network.base_currency, setup.start)


def order_value(network: Network, order: DemandOrder) -> Decimal:
    """The order's list price x quantity in the network's base currency (the revenue a rejection loses)."""
    template = network.product(order.product)
    price = template.unit_price(template.configure(order.config)) * order.quantity
    return convert(network.fx, price, network.base_currency, order.arrival.date()).amount


def _work_per_unit(network: Network, order: DemandOrder) -> dict[str, float]:
    template = network.product(order.product)
    work: dict[str, float] = {}
    for step in template.routing_for(template.configure(order.config)):
        work[step.capability] = work.get(step.capability, 0.0) + float(step.duration.hours)
    return work


def _pairs(variant: Variant, order: DemandOrder) -> list[PairCost]:
    """Production, freight and duty of every site (quoted on the variant network at arrival), or why not."""
    network = variant.network
    template, market = network.product(order.product), network.market(order.market)
    try:
        offers = quote(
            template,
            order.config,
            order.quantity,
            market,
            network=network,
            at=order.arrival,
            currency=network.base_currency,
        ).offers
    except NoEligibleSiteError:
        options = site_options(network, order.product, order.config, order.quantity, order.market)
        return [PairCost(order.id, o.site, reason=o.reason or "not eligible") for o in options]
    pairs = []
    for offer in offers:
        if not offer.eligible or offer.lane is None:
            pairs.append(PairCost(order.id, offer.site, reason=offer.reason or "not eligible"))
            continue
        lane = network.lanes[offer.lane]
        transit = timedelta(seconds=lane.lead_time.seconds)
        cut = variant.lane_blocked(lane.name, order.arrival, order.due - transit)
        if cut is not None:
            until = cut[1].isoformat() if cut[1] is not None else "for good"
            pairs.append(PairCost(order.id, offer.site, reason=f"lane {lane.name} cut {cut[0].isoformat()} → {until}"))
            continue
        assert offer.production is not None and offer.freight is not None and offer.duty is not None
        pairs.append(
            PairCost(
                order.id,
                offer.site,
                production=offer.production.amount,
                freight=offer.freight.amount,
                duty=offer.duty.amount,
                lead=transit.total_seconds() / 3600,
            )
        )
    return pairs


def allocation_figures(
    problem: AllocationProblem, plan: AllocationPlan, orders: Sequence[DemandOrder]
) -> dict[str, float]:
    """Costs per component (base currency), orders served and rejected, load (standard hours) and units per site."""
    costs = plan.costs
    figures: dict[str, float] = {
        "cost:total": float(costs.total.amount),
        "cost:production": float(costs.production.amount),
        "cost:freight": float(costs.freight.amount),
        "cost:duty": float(costs.duty.amount),
        "cost:tardiness": float(costs.tardiness.amount),
        "cost:rejection": float(costs.rejection.amount),
        "orders": float(len(orders)),
        "rejected_orders": float(len(plan.rejections)),
        "rejected_units": float(sum(problem.order(r.order).quantity for r in plan.rejections)),
    }
    for site in problem.sites:
        figures[f"load_h:{site.name}"] = 0.0
        figures[f"units:{site.name}"] = 0.0
    for order_id, shares in plan.assignments.items():
        order = problem.order(order_id)
        for share in shares:
            figures[f"load_h:{share.site}"] += share.fraction * sum(order.work.values())
            figures[f"units:{share.site}"] += share.units
    return figures


# ----------------------------------------------------------------------------------------------- twin


def twin_case(variant: Variant, orders: Sequence[DemandOrder], plan: AllocationPlan, setup: Setup) -> NetworkCase:
    """The twin's case: the allocated orders at their sites, the variant's outages and retirements.

    Site outages and recalls are forced outages in the twin (unplanned downtime: they lower
    availability and OEE as a breakdown does); every order demanded, rejected ones included, is
    the base of on-time of orders demanded.
    """
    network = variant.network
    by_id = {o.id: o for o in orders}
    jobs = []
    for order_id, shares in sorted(plan.assignments.items()):
        order = by_id[order_id]
        family = network.product(order.product).family
        for share in shares:
            units = max(1, round(share.units))
            jobs.append(
                TwinOrder(
                    share.site, order.market, family, order.product, order.config, units, order.arrival, order.due
                )
            )
    outages, retire = variant.twin_windows(setup.start)
    return NetworkCase(
        network,
        setup.start,
        setup.end,
        orders=tuple(jobs),
        retire_at=retire,
        outages=outages,
        demanded=units_by_market(orders),
        orders_demanded=len(orders),
        breakdowns=setup.breakdowns,
        variability=setup.variability,
        drain=setup.drain,
    )


def twin_figures(
    variant: Variant, orders: Sequence[DemandOrder], plan: AllocationPlan, setup: Setup, seed: int
) -> dict[str, float]:
    """One twin replication of the plan: on-time (of delivered, of demanded), service, lost sales, OEE."""
    figures = run_compiled(compile_run(twin_case(variant, orders, plan, setup), seed))
    dropped = {"wall_s", "lost_units", "orders_demanded"}  # the plan's `orders` counts every order demanded
    out = {k: float(v) for k, v in figures.items() if k not in dropped}
    out["lost_sales_units"] = float(figures["lost_units"]) + float(figures["undelivered_units"])
    counts = {s: len(variant.network.modules_at(s)) for s in variant.network.sites}
    weighted = [(counts.get(k.removeprefix("oee:"), 0), v) for k, v in out.items() if k.startswith("oee:")]
    modules = sum(w for w, _ in weighted)
    out["oee:network"] = sum(w * v for w, v in weighted) / modules if modules else 0.0
    return out


# ------------------------------------------------------------------------------------------ summaries


@dataclass(frozen=True, slots=True)
class MetricDelta:
    """One figure of one scenario: baseline, variant and the paired delta (variant - baseline), each with a 95 % CI."""

    key: str
    label: str
    unit: str
    baseline: Estimate
    variant: Estimate
    delta: Estimate


@dataclass(frozen=True, slots=True)
class ScenarioDeltas:
    """A scenario's changes (described) and its figures."""

    name: str
    changes: tuple[str, ...]
    metrics: tuple[MetricDelta, ...]

    def metric(self, key: str) -> MetricDelta:
        """The figure called *key*."""
        return next(m for m in self.metrics if m.key == key)


@dataclass(frozen=True, slots=True)
class WhatIfResult:
    """Every scenario's deltas against the baseline, the seeds, and the per-run rows."""

    name: str
    currency: str
    start: datetime
    horizon: timedelta
    seeds: tuple[int, ...]
    scenarios: tuple[ScenarioDeltas, ...]
    rows: tuple[Mapping[str, Any], ...]


_LABELS = {
    "cost:total": "total cost",
    "cost:production": "production",
    "cost:freight": "freight",
    "cost:duty": "duty",
    "cost:tardiness": "tardiness",
    "cost:rejection": "rejected (lost revenue)",
    "on_time": "on-time delivery (orders delivered)",
    "on_time_demanded": "on-time delivery (orders demanded)",
    "service_level": "service level (units on time)",
    "fill_rate": "fill rate (units delivered)",
    "lost_sales_units": "lost sales (rejected + undelivered units)",
    "rejected_units": "rejected units",
    "undelivered_units": "undelivered units",
    "late_units": "late units",
    "throughput_per_day": "throughput",
    "oee:network": "OEE network (module-weighted)",
    "orders": "orders demanded",
    "rejected_orders": "orders rejected",
    "delivered_orders": "orders delivered",
    "on_time_orders": "orders delivered on time",
}
_PREFIXES = ("oee:", "load_h:", "units:", "service:")


def metric_keys(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The numeric figures of *rows*, headline ones first, then per site and per market."""
    present = {k for r in rows for k, v in r.items() if isinstance(v, int | float) and k not in {"seed", "wall_s"}}
    present.discard("allocation_gap")
    head = [k for k in _LABELS if k in present]
    rest = sorted(
        present - set(head), key=lambda k: (next((i for i, p in enumerate(_PREFIXES) if k.startswith(p)), 9), k)
    )
    return head + rest


def label_and_unit(key: str, currency: str) -> tuple[str, str]:
    """A figure's label and unit (a currency, ``share``, ``units``, ``units/day``, ``h`` or ``orders``)."""
    if key.startswith("cost:"):
        return _LABELS.get(key, key), currency
    if key.startswith("load_h:"):
        return f"load {key.removeprefix('load_h:')}", "h"
    if key.startswith("units:"):
        return f"units made {key.removeprefix('units:')}", "units"
    if key.startswith("oee:") and key != "oee:network":
        return f"OEE {key.removeprefix('oee:')}", "share"
    if key.startswith("service:"):
        return f"service level {key.removeprefix('service:')}", "share"
    orders = {"orders", "rejected_orders", "delivered_orders", "on_time_orders"}
    units = {"throughput_per_day": "units/day", **dict.fromkeys(orders, "orders")}
    share = {"on_time", "on_time_demanded", "service_level", "fill_rate", "oee:network"}
    return _LABELS.get(key, key), "share" if key in share else units.get(key, "units")


def summarize(whatif: WhatIf, rows: Sequence[Mapping[str, Any]], currency: str) -> WhatIfResult:
    """Pair each scenario's rows with the baseline's by seed and estimate every figure and its delta."""
    by_variant: dict[str, dict[int, Mapping[str, Any]]] = {}
    for row in rows:
        by_variant.setdefault(str(row["variant"]), {})[int(row["seed"])] = row
    base = by_variant.get(BASELINE, {})
    seeds = tuple(sorted(base))
    if not seeds:
        raise WhatIfError("no baseline runs to compare with")
    keys = metric_keys(rows)
    scenarios = []
    for scenario in whatif.scenarios:
        mine = by_variant.get(scenario.name, {})
        if sorted(mine) != list(seeds):
            raise WhatIfError(
                f"scenario {scenario.name}: seeds {sorted(mine)} do not match the baseline's {list(seeds)}"
            )
        metrics = []
        for key in keys:
            b = [float(base[s].get(key, 0.0)) for s in seeds]
            v = [float(mine[s].get(key, 0.0)) for s in seeds]
            label, unit = label_and_unit(key, currency)
            delta = estimate([y - x for x, y in zip(b, v, strict=True)])
            metrics.append(MetricDelta(key, label, unit, estimate(b), estimate(v), delta))
        changes = tuple(describe_change(c) for c in scenario.changes)
        scenarios.append(ScenarioDeltas(scenario.name, changes, tuple(metrics)))
    setup = whatif.setup
    ordered = tuple(sorted(rows, key=lambda r: (str(r["variant"]) != BASELINE, str(r["variant"]), int(r["seed"]))))
    return WhatIfResult(whatif.name, currency, setup.start, setup.horizon, seeds, tuple(scenarios), ordered)


def result_json(result: WhatIfResult) -> dict[str, Any]:
    """JSON-ready: per scenario and figure the baseline, variant and delta estimates (half widths null for one seed)."""
    return {
        "name": result.name,
        "currency": result.currency,
        "start": result.start.isoformat(),
        "horizon_h": result.horizon.total_seconds() / 3600,
        "seeds": list(result.seeds),
        "method": "paired differences over common random numbers (same seeds), Student-t 95 % confidence intervals",
        "scenarios": [
            {
                "name": s.name,
                "changes": list(s.changes),
                "metrics": {
                    m.key: {
                        "label": m.label,
                        "unit": m.unit,
                        "baseline": m.baseline.as_json(),
                        "variant": m.variant.as_json(),
                        "delta": m.delta.as_json(),
                    }
                    for m in s.metrics
                },
            }
            for s in result.scenarios
        ],
        "runs": [dict(row) for row in result.rows],
    }

"""Simulate the network under demand: orders become twin jobs; N seeded replications give figures with 95 % CIs.

A reusable service (``microfab plan expand`` checks its plans with it; ``microfab whatif`` is
meant to build on it). Everything is in the network's own terms — sites, markets, products,
configurations, module names, aware datetimes — and turned into the twin's scenario
(`microfab.twin`, times in seconds from ``NetworkCase.start``) here.

API
---
``NetworkCase(network, start, end, orders=(), demand=(), deploy_at={}, retire_at={}, ...)``
    What to simulate. ``orders`` are explicit `TwinOrder` s (an order book, replayed as is in
    every replication); ``demand`` are `DemandLine` s (units of a product family a site makes for
    a market over a time window, with a configuration mix), drawn into orders afresh in every
    replication (seeded: whole units by systematic rounding per market, arrivals uniform in the
    window, quantities uniform in ``1 .. 2 x order_size - 1``, configurations by the mix's
    weights). ``network.modules`` must hold every module that exists at some time (planned ones
    included); ``deploy_at`` and ``retire_at`` (by module name) say when one enters or leaves
    service, ``maintenance`` gives planned downtime windows (out of the planned busy time) and
    ``outages`` forced ones (a site outage, a recall: unplanned downtime, in ADOT as a breakdown
    is). ``demanded`` (units per market) is the service level's base: pass the whole forecast
    there so that demand nobody was asked to make counts as lost; by default it is what the
    orders and lines hold. ``orders_demanded`` is on-time's base the same way (orders turned down
    before the twin count against it; by default the orders simulated).
``draw_orders(case, seed) -> list[TwinOrder]``
    The orders one replication simulates.
``compile_run(case, seed) -> CompiledRun``
    The twin scenario of one replication (picklable: ship it to a process or a Ray worker).
``run_compiled(run) -> dict``
    Run it (a top-level function): the replication's figures as a flat dict.
``simulate_network(case, *, replications=5, seed=0, workers=1, tick=None) -> NetworkEstimates``
    Seeds ``seed .. seed + replications - 1``, serially (``workers=1``) or on that many local
    processes; *tick* is called after each replication (a progress bar). Returns means with
    the half widths of their Student-t 95 % confidence intervals (`microfab.twin.replications.Estimate`).

Figures (per replication, then estimated)
-----------------------------------------
``service_level``  units delivered on time / units demanded (the fill rate on time);
``fill_rate``      units delivered by the end of the run (the horizon + ``drain``) / units demanded;
``on_time``        orders delivered by their due time / orders delivered;
``on_time_demanded`` orders delivered by their due time / orders demanded (``orders_demanded``);
``on_time_orders``, ``delivered_orders``, ``orders_demanded`` the counts behind both (per replication);
``throughput_per_day`` units completed within [start, end) per day;
``late_units``     units delivered after their due time; ``undelivered_units`` units of orders
not delivered by the end of the run; ``lost_units`` units demanded but never ordered from a site;
``oee[site]``      ISO 22400 OEE of each site over the run (modules out of service excluded);
``service_by_market[market]`` the service level of each market.

A job is one order: each routing step's standard time x quantity on one module, setups by the
product's family, breakdowns, yield (a failed inspection reworks the step), the lane's transit
after completion; a job whose site has no module left for a step counts as not delivered.
"""

from __future__ import annotations

import concurrent.futures
import logging
import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from microfab.domain.network import Network
from microfab.domain.products import ConfigValue
from microfab.twin import DeadlockError, JobSpec, Scenario, Simulation, TraceKind, Window, stations_of
from microfab.twin.replications import Estimate, estimate

log = logging.getLogger(__name__)

Configuration = Mapping[str, ConfigValue]
Tick = Callable[[], None]


@dataclass(frozen=True, slots=True)
class TwinOrder:
    """One order to simulate: what, how many, from which site to which market, when released and due at the customer."""

    site: str
    market: str
    family: str
    product: str
    config: Configuration
    quantity: int
    release: datetime
    due: datetime


@dataclass(frozen=True, slots=True)
class DemandLine:
    """*units* of a family that *site* makes for *market* over ``[start, end)``, drawn into orders per replication.

    ``mix`` is ``((weight, configuration), ...)`` of *product*; an order is due at the customer
    ``due_window`` plus the lane's transit after its release.
    """

    site: str
    market: str
    family: str
    product: str
    mix: tuple[tuple[float, Configuration], ...]
    units: float
    start: datetime
    end: datetime
    order_size: float = 4.0
    due_window: timedelta = timedelta(days=7)

    def __post_init__(self) -> None:
        if self.units < 0 or self.order_size < 1 or not self.mix or self.end <= self.start:
            raise ValueError(
                f"demand line {self.site}->{self.market} {self.family}: units >= 0, order size >= 1, a mix, end > start"
            )


@dataclass(frozen=True, slots=True)
class NetworkCase:
    """What to simulate (see the module docstring)."""

    network: Network
    start: datetime
    end: datetime
    orders: tuple[TwinOrder, ...] = ()
    demand: tuple[DemandLine, ...] = ()
    deploy_at: Mapping[str, datetime] = field(default_factory=dict)
    retire_at: Mapping[str, datetime] = field(default_factory=dict)
    maintenance: Mapping[str, Sequence[tuple[datetime, datetime]]] = field(default_factory=dict)
    outages: Mapping[str, Sequence[tuple[datetime, datetime]]] = field(default_factory=dict)
    demanded: Mapping[str, float] = field(default_factory=dict)
    orders_demanded: int | None = None
    breakdowns: bool = True
    variability: float = 0.15
    drain: timedelta = timedelta(days=30)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end <= self.start:
            raise ValueError("start, end: expected aware datetimes with end after start")

    def until(self, end: datetime, *, demanded: Mapping[str, float] | None = None) -> NetworkCase:
        """The case cut at *end*: orders and demand before it (a line across it pro rata), modules deployed by then.

        *demanded* replaces the service level's base (the caller knows the demand up to *end*;
        by default what the cut orders and lines hold); on-time's base is the cut's own orders.
        """
        if not self.start < end <= self.end:
            raise ValueError(f"end: expected after {self.start} and at most {self.end}, got {end}")
        lines = []
        for line in self.demand:
            if line.start >= end:
                continue
            share = min(1.0, (end - line.start) / (line.end - line.start))
            lines.append(replace(line, units=line.units * share, end=min(end, line.end)))
        late = {name for name, at in self.deploy_at.items() if at >= end}
        network = replace(self.network, modules={n: m for n, m in self.network.modules.items() if n not in late})
        return replace(
            self,
            network=network,
            end=end,
            orders=tuple(o for o in self.orders if o.release < end),
            demand=tuple(lines),
            deploy_at={n: at for n, at in self.deploy_at.items() if n not in late},
            retire_at={n: at for n, at in self.retire_at.items() if n not in late and at < end},
            maintenance={n: w for n, w in self.maintenance.items() if n not in late},
            outages={n: w for n, w in self.outages.items() if n not in late},
            demanded=dict(demanded) if demanded is not None else {},
            orders_demanded=None,
        )


@dataclass(frozen=True, slots=True)
class CompiledRun:
    """One replication's twin scenario and, per job, its market and units; the bases of service and on-time."""

    scenario: Scenario
    markets: tuple[str, ...]
    units: tuple[int, ...]
    demanded: tuple[tuple[str, float], ...]
    horizon_end: float
    days: float
    orders_demanded: int | None = None


@dataclass(frozen=True, slots=True)
class NetworkEstimates:
    """Means and 95 % confidence half widths over the replications (see the module docstring)."""

    service_level: Estimate
    fill_rate: Estimate
    on_time: Estimate
    throughput_per_day: Estimate
    late_units: Estimate
    undelivered_units: Estimate
    lost_units: Estimate
    oee: Mapping[str, Estimate]
    service_by_market: Mapping[str, Estimate]
    replications: int
    wall_s: float

    def as_json(self) -> dict[str, Any]:
        """JSON-ready: each estimate as ``{mean, half_width, low, high, n}`` (half width null for one replication)."""
        names = ("service_level", "fill_rate", "on_time", "throughput_per_day", "late_units", "undelivered_units")
        out: dict[str, Any] = {name: getattr(self, name).as_json() for name in (*names, "lost_units")}
        out["oee"] = {site: e.as_json() for site, e in sorted(self.oee.items())}
        out["service_by_market"] = {m: e.as_json() for m, e in sorted(self.service_by_market.items())}
        out["replications"] = self.replications
        out["wall_s"] = round(self.wall_s, 3)
        return out


def draw_orders(case: NetworkCase, seed: int) -> list[TwinOrder]:
    """The case's orders plus its demand lines drawn into orders for replication *seed*, by release."""
    rng = random.Random(f"{seed}:orders")
    orders = list(case.orders)
    lanes = {(lane.site, lane.market): lane for lane in case.network.lanes.values() if lane.open}
    # Systematic rounding per market: whole units with a random offset, so a market's total is
    # its demand's within one unit and each line's is right in expectation.
    offset: dict[str, float] = {}
    for line in case.demand:
        lane = lanes.get((line.site, line.market))
        if lane is None:
            raise ValueError(f"demand line {line.family} for {line.market} from {line.site}: no open lane")
        due = line.due_window + timedelta(seconds=lane.lead_time.seconds)
        before = offset.setdefault(line.market, rng.random())
        offset[line.market] = before + line.units
        units = math.floor(before + line.units) - math.floor(before)
        weights = [w for w, _ in line.mix]
        span = (line.end - line.start).total_seconds()
        largest = max(1, round(2 * line.order_size - 1))
        while units > 0:
            quantity = min(units, rng.randint(1, largest))
            units -= quantity
            release = line.start + timedelta(seconds=math.floor(rng.uniform(0, span)))
            config = rng.choices([c for _, c in line.mix], weights)[0]
            orders.append(
                TwinOrder(line.site, line.market, line.family, line.product, config, quantity, release, release + due)
            )
    return sorted(orders, key=lambda o: (o.release, o.site, o.market, o.product))


def compile_run(case: NetworkCase, seed: int) -> CompiledRun:
    """The twin scenario of replication *seed* (raises `ValueError` naming the order a site cannot serve)."""
    network = case.network
    start = case.start
    lanes = {(lane.site, lane.market): lane for lane in network.lanes.values() if lane.open}
    routings: dict[tuple[str, tuple[tuple[str, Any], ...]], tuple[tuple[str, ...], tuple[float, ...], str]] = {}
    jobs, markets, units = [], [], []
    for order in draw_orders(case, seed):
        key = (order.product, tuple(sorted(order.config.items())))
        if key not in routings:
            template = network.product(order.product)
            steps = template.routing_for(template.configure(order.config))
            routings[key] = (
                tuple(s.capability for s in steps),
                tuple(float(s.duration.seconds) for s in steps),
                template.family,
            )
        capabilities, durations, family = routings[key]
        lane = lanes.get((order.site, order.market))
        if lane is None:
            raise ValueError(f"order of {order.product} for {order.market} from {order.site}: no open lane")
        jobs.append(
            JobSpec(
                release=max(0.0, (order.release - start).total_seconds()),
                family=family,
                capabilities=capabilities,
                durations=tuple(d * order.quantity for d in durations),
                due=max(0.0, (order.due - start).total_seconds()),
                transit=float(lane.lead_time.seconds),
                site=order.site,
            )
        )
        markets.append(order.market)
        units.append(order.quantity)
    demanded = dict(case.demanded)
    if not demanded:
        for market, quantity in zip(markets, units, strict=True):
            demanded[market] = demanded.get(market, 0.0) + quantity
    horizon = (case.end + case.drain - start).total_seconds()

    def windows(table: Mapping[str, Sequence[tuple[datetime, datetime]]]) -> dict[str, list[Window]]:
        return {
            name: [Window((a - start).total_seconds(), (b - a).total_seconds()) for a, b in spans]
            for name, spans in table.items()
        }

    stations = stations_of(
        network,
        breakdowns=case.breakdowns,
        maintenance=windows(case.maintenance),
        outages=windows(case.outages),
        deploy_at={name: max(0.0, (at - start).total_seconds()) for name, at in case.deploy_at.items()},
        retire_at={name: max(1.0, (at - start).total_seconds()) for name, at in case.retire_at.items()},
    )
    scenario = Scenario(
        f"{network.name}@{start:%Y-%m-%d}#{seed}",
        stations,
        tuple(jobs),
        seed=seed,
        variability=case.variability,
        horizon=horizon,
        time_unit=1.0,
    )
    return CompiledRun(
        scenario,
        tuple(markets),
        tuple(units),
        tuple(sorted(demanded.items())),
        horizon,
        (case.end - start).total_seconds() / 86400,
        case.orders_demanded,
    )


def run_compiled(run: CompiledRun) -> dict[str, Any]:
    """Run one replication; its figures as a flat dict (``oee:<site>`` and ``service:<market>`` keys too)."""
    started = time.perf_counter()
    simulation = Simulation(run.scenario, trace=True)
    try:
        result = simulation.run()
    except DeadlockError as exc:  # jobs whose site has no module left for a step: not delivered
        log.warning("%s", exc)
        result = simulation.result()
    assert result.trace is not None
    done = {
        j: t for t, k, j in zip(result.trace.t, result.trace.kind, result.trace.job, strict=True) if k == TraceKind.DONE
    }
    jobs = run.scenario.jobs
    on_time: dict[str, float] = {}
    delivered_units = late = undelivered = completed = on_time_orders = delivered_orders = 0
    period_end = run.days * 86400
    for j, job in enumerate(jobs):
        quantity, market = run.units[j], run.markets[j]
        finished = done.get(j)
        if finished is not None and finished <= period_end:
            completed += quantity
        arrival = None if finished is None else finished + job.transit
        if arrival is None or arrival > run.horizon_end:
            undelivered += quantity
            continue
        delivered_units += quantity
        delivered_orders += 1
        if arrival <= job.due:
            on_time[market] = on_time.get(market, 0.0) + quantity
            on_time_orders += 1
        else:
            late += quantity
    released: dict[str, float] = {}
    for market, quantity in zip(run.markets, run.units, strict=True):
        released[market] = released.get(market, 0.0) + quantity
    # The base of each market's service level: what it demanded, or what it ordered when rounding
    # demand lines into whole orders released a few units more.
    demanded = {m: max(units, released.get(m, 0.0)) for m, units in run.demanded}
    demanded.update({m: units for m, units in released.items() if m not in demanded})
    wanted = sum(demanded.values())
    ordered = len(jobs) if run.orders_demanded is None else max(run.orders_demanded, len(jobs))
    figures: dict[str, Any] = {
        "service_level": sum(on_time.values()) / wanted if wanted else 1.0,
        "fill_rate": delivered_units / wanted if wanted else 1.0,
        "on_time": on_time_orders / delivered_orders if delivered_orders else 0.0,
        "on_time_demanded": on_time_orders / ordered if ordered else 1.0,
        "on_time_orders": on_time_orders,
        "delivered_orders": delivered_orders,
        "orders_demanded": ordered,
        "throughput_per_day": completed / run.days if run.days else 0.0,
        "late_units": float(late),
        "undelivered_units": float(undelivered),
        "lost_units": sum(max(0.0, units - released.get(m, 0.0)) for m, units in run.demanded),
        "wall_s": time.perf_counter() - started,
    }
    for site in result.sites:
        figures[f"oee:{site.name}"] = site.oee
    for market, units in demanded.items():
        figures[f"service:{market}"] = on_time.get(market, 0.0) / units if units else 1.0
    return figures


def simulate_network(
    case: NetworkCase, *, replications: int = 5, seed: int = 0, workers: int = 1, tick: Tick | None = None
) -> NetworkEstimates:
    """Run *replications* seeded replications of *case* (see the module docstring) and estimate the figures."""
    if replications < 1:
        raise ValueError(f"replications: expected >= 1, got {replications}")
    started = time.perf_counter()
    tick = tick or (lambda: None)
    runs = [compile_run(case, seed + r) for r in range(replications)]
    rows: list[dict[str, Any]] = []
    if workers <= 1 or replications == 1:
        for run in runs:
            rows.append(run_compiled(run))
            tick()
    else:
        with concurrent.futures.ProcessPoolExecutor(max_workers=min(workers, replications)) as pool:
            for future in concurrent.futures.as_completed([pool.submit(run_compiled, run) for run in runs]):
                rows.append(future.result())
                tick()
    return _estimates(rows, time.perf_counter() - started)


def _estimates(rows: list[dict[str, Any]], wall: float) -> NetworkEstimates:
    def of(key: str) -> Estimate:
        return estimate([float(r.get(key, 0.0)) for r in rows])

    keys = sorted({k for r in rows for k in r})
    return NetworkEstimates(
        service_level=of("service_level"),
        fill_rate=of("fill_rate"),
        on_time=of("on_time"),
        throughput_per_day=of("throughput_per_day"),
        late_units=of("late_units"),
        undelivered_units=of("undelivered_units"),
        lost_units=of("lost_units"),
        oee={k.removeprefix("oee:"): of(k) for k in keys if k.startswith("oee:")},
        service_by_market={k.removeprefix("service:"): of(k) for k in keys if k.startswith("service:")},
        replications=len(rows),
        wall_s=wall,
    )

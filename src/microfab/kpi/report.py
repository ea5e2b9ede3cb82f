"""The run report as data: delivery, per-market and per-site figures, OEE per module, a Gantt of one site."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from microfab.domain.events import Event, ModuleFaulted, ModuleRepaired, OperationCompleted, OperationStarted
from microfab.domain.network import Network
from microfab.domain.orders import Order
from microfab.kpi.delivery import DeliveryKpis, delivery_kpis
from microfab.kpi.downtime import DowntimeCause, downtime_pareto
from microfab.kpi.oee import ModuleKpis, module_kpis, site_kpis, total_kpis


@dataclass(frozen=True, slots=True)
class GanttBar:
    """One bar of the Gantt chart: setup, processing (good or scrapped) or downtime on a module."""

    module: str
    start: datetime
    end: datetime
    kind: str
    label: str
    order_id: str = ""


@dataclass(frozen=True, slots=True)
class Report:
    """Everything `microfab kpi`, `microfab demo` and the HTML report show."""

    network: str
    start: datetime
    end: datetime
    delivery: DeliveryKpis
    markets: dict[str, DeliveryKpis]
    sites: dict[str, ModuleKpis]
    modules: dict[str, ModuleKpis]
    site_of: dict[str, str]
    orders: tuple[Order, ...]
    gantt_site: str
    gantt: tuple[GanttBar, ...]
    events: int
    downtime: tuple[DowntimeCause, ...] = ()
    site: str | None = None

    @property
    def hours(self) -> float:
        """The window's length in hours."""
        return (self.end - self.start).total_seconds() / 3600

    @property
    def total(self) -> ModuleKpis:
        """Every module of the report as one group: the network (or the one site asked for)."""
        return total_kpis(self.site or self.network, self.sites.values())


def build_report(
    network: Network,
    orders: Iterable[Order],
    events: Sequence[Event],
    *,
    start: datetime,
    end: datetime,
    gantt_site: str | None = None,
    site: str | None = None,
) -> Report:
    """Compute the report over ``[start, end]`` from the orders and the recorded events (time order).

    With *site*, only that site's modules and the orders made there count.
    """
    items = sorted((o for o in orders if site is None or o.site == site), key=lambda o: o.id)
    site_of = {name: m.site for name, m in network.modules.items() if site is None or m.site == site}
    per_module = module_kpis(events, site_of, start, end)
    by_market: dict[str, list[Order]] = {}
    for order in items:
        by_market.setdefault(order.market, []).append(order)
    per_site = site_kpis(per_module, site_of)
    busiest = max(per_site.values(), key=lambda k: (k.apt, k.name), default=None)
    chosen = gantt_site or site or (busiest.name if busiest else "")
    return Report(
        network=network.name,
        start=start,
        end=end,
        delivery=delivery_kpis(items),
        markets={m: delivery_kpis(os) for m, os in sorted(by_market.items())},
        sites=dict(sorted(per_site.items())),
        modules=dict(sorted(per_module.items())),
        site_of=site_of,
        orders=tuple(items),
        gantt_site=chosen,
        gantt=tuple(gantt_bars(events, {n for n, s in site_of.items() if s == chosen}, end)),
        events=len(events),
        downtime=tuple(downtime_pareto(events, site_of, start, end)),
        site=site,
    )


def gantt_bars(events: Iterable[Event], modules: set[str], end: datetime) -> list[GanttBar]:
    """Bars of what actually happened on *modules*, from the recorded events."""
    bars: list[GanttBar] = []
    started: dict[str, OperationStarted] = {}
    faulted: dict[str, datetime] = {}
    for event in events:
        module = getattr(event, "module", None)
        if module not in modules:
            continue
        if isinstance(event, OperationStarted):
            started[module] = event
            if event.setup.seconds:
                bars.append(GanttBar(module, event.at - event.setup.to_timedelta(), event.at, "setup", "setup"))
        elif isinstance(event, OperationCompleted) and module in started:
            begin = started.pop(module)
            kind = "run" if event.good else "scrap"
            bars.append(GanttBar(module, begin.at, event.at, kind, event.operation_id, event.order_id))
        elif isinstance(event, ModuleFaulted):
            faulted[module] = event.at
        elif isinstance(event, ModuleRepaired) and module in faulted:
            bars.append(GanttBar(module, faulted.pop(module), event.at, "down", "fault"))
    bars.extend(GanttBar(m, since, end, "down", "fault") for m, since in faulted.items())
    bars.extend(GanttBar(m, s.at, end, "run", s.operation_id, s.order_id) for m, s in started.items())
    return bars


def report_json(report: Report) -> dict[str, Any]:
    """The report's figures as plain JSON values (``microfab kpi --json``): delivery, OEE per site, module, network."""

    def oee(k: ModuleKpis) -> dict[str, Any]:
        return {
            "availability": round(k.availability, 4),
            "effectiveness": round(k.effectiveness, 4),
            "quality": round(k.quality, 4),
            "oee": round(k.oee, 4),
            "utilisation": round(k.utilisation, 4),
            "produced": k.produced,
            "good": k.good,
            "scrap_ratio": _rounded(k.scrap_ratio),
            "throughput_per_h": _rounded(k.throughput_per_hour(report.hours)),
            "faults": k.faults,
            "mtbf_h": _rounded(k.mtbf_hours),
            "mttr_h": _rounded(k.mttr_hours),
            "down_h": round(k.adot / 3600, 4),
        }

    def delivery(d: DeliveryKpis) -> dict[str, Any]:
        return {
            "orders": d.orders,
            "delivered": d.delivered,
            "on_time": d.on_time,
            "on_time_rate": _rounded(d.on_time_rate),
            "shipped": d.shipped,
            "in_production": d.in_production,
            "lead_time_mean_h": _rounded(d.lead_time_mean_h),
            "lead_time_median_h": _rounded(d.lead_time_median_h),
            "lead_time_p90_h": _rounded(d.lead_time_p90_h),
        }

    return {
        "network": report.network,
        "site": report.site,
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "pbt": "calendar time",
        "delivery": delivery(report.delivery),
        "markets": {m: delivery(d) for m, d in report.markets.items()},
        "total": oee(report.total),
        "sites": {name: oee(k) for name, k in report.sites.items()},
        "modules": {name: {"site": report.site_of[name], **oee(k)} for name, k in report.modules.items()},
        "downtime": [
            {
                "module": c.module,
                "reason": c.reason,
                "faults": c.faults,
                "hours": round(c.hours, 4),
                "cumulative_share": round(c.cumulative_share, 4),
            }
            for c in report.downtime
        ],
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)

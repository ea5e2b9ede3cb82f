"""The figures of a run, computed from the log: what was done, how well, and that nothing was lost or repeated."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from microfab.control.bootstrap import Services
from microfab.domain.alerts import AlertRaised
from microfab.domain.events import OperationCompleted, OperationReleased
from microfab.domain.orders import OrderStatus
from microfab.kpi.report import Report


def run_figures(services: Services, report: Report, *, start: datetime, wall_s: float) -> dict[str, Any]:
    """Orders, on-time share, OEE per site, alerts, operations executed, duplicates and lost ones, wall time.

    *duplicates* counts operations completed good more than once; *lost* counts operations of
    units that left the site without a good completion. Both must be 0.
    """
    log = services.log
    good = Counter(
        r.event.operation_id
        for r in log.read_all(types=["OperationCompleted"])
        if isinstance(r.event, OperationCompleted) and r.event.good
    )
    shipped_units = {
        serial
        for order in services.state.orders.values()
        if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED)
        for serial in order.units
    }
    lost = sum(
        1
        for r in log.read_all(types=["OperationReleased"])
        if isinstance(r.event, OperationReleased) and r.event.serial in shipped_units and not good[r.event.operation_id]
    )
    alerts = Counter(
        r.event.kind
        for r in log.read_all(types=["AlertRaised"])
        if isinstance(r.event, AlertRaised) and r.event.at >= start
    )
    d = report.delivery
    return {
        "orders": d.orders,
        "delivered": d.delivered,
        "on_time": d.on_time,
        "on_time_pct": round(100 * d.on_time_rate, 2) if d.on_time_rate is not None else None,
        "in_transit": d.shipped,
        "in_production": d.in_production,
        "lead_time_median_h": d.lead_time_median_h,
        "oee_by_site": {site: round(k.oee, 4) for site, k in report.sites.items()},
        "utilisation_by_site": {site: round(k.utilisation, 4) for site, k in report.sites.items()},
        "alerts_raised": sum(alerts.values()),
        "alerts_by_kind": dict(alerts),
        "operations_executed": sum(good.values()),
        "duplicates": sum(n - 1 for n in good.values() if n > 1),
        "lost": lost,
        "wall_s": round(wall_s, 2),
    }

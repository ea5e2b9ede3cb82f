"""What the one remote engineer watches: alerts (and acknowledging them), KPIs, a site's schedule."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query

from microfab.api.deps import LockDep, Operator, ServicesDep, Staff
from microfab.api.problems import Problem, documented
from microfab.api.schemas import (
    AlertAcknowledge,
    AlertPublic,
    DeliveryPublic,
    DowntimePublic,
    GanttBarPublic,
    KpiPublic,
    OeePublic,
    Page,
    SchedulePublic,
)
from microfab.control import operations
from microfab.control.access import label_of
from microfab.control.controller import latest_schedule
from microfab.control.escalation import Alert
from microfab.kpi.oee import ModuleKpis

router = APIRouter(prefix="/v1", tags=["operations"])
_ISO = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$"
Since = Annotated[
    str | None,
    Query(
        pattern=_ISO,
        max_length=40,
        description="Window start, ISO 8601 with an offset (2026-11-30T08:00:00Z); default: the first order.",
    ),
]
Until = Annotated[
    str | None,
    Query(pattern=_ISO, max_length=40, description="Window end, ISO 8601 with an offset; default: now."),
]


def alert_public(a: Alert) -> AlertPublic:
    """The API's view of an alert."""
    return AlertPublic(
        alert_id=a.alert_id,
        kind=a.kind,
        subject=a.subject,
        message=a.message,
        raised_at=a.raised_at,
        open=a.open,
        acknowledged_by=a.acknowledged_by,
        cleared_at=a.cleared_at,
        cleared_because=a.cleared_because,
    )


@router.get("/alerts", response_model=Page[AlertPublic])
async def list_alerts(
    services: ServicesDep,
    lock: LockDep,
    _: Staff,
    status: Annotated[Literal["open", "all"], Query(description="Open alerts only, or every one.")] = "open",
    cursor: Annotated[int, Query(ge=0, description="How many alerts to skip (from next_cursor).")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[AlertPublic]:
    """Alerts, oldest first: what no policy covers and needs a person."""
    async with lock:
        found = operations.alerts(services, include_cleared=status == "all")
    items = [alert_public(a) for a in found[cursor : cursor + limit]]
    more = cursor + limit < len(found)
    return Page[AlertPublic](items=items, next_cursor=str(cursor + limit) if more else None)


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertPublic, responses=documented(409))
async def acknowledge_alert(
    alert_id: str,
    services: ServicesDep,
    lock: LockDep,
    principal: Operator,
    body: Annotated[AlertAcknowledge | None, Body()] = None,
) -> AlertPublic:
    """Take an alert on (recorded as an event); acknowledging it again by the same person changes nothing."""
    by = (body.by if body is not None and body.by else None) or label_of(services.state, principal)
    async with lock:
        known = {a.alert_id: a for a in operations.alerts(services, include_cleared=True)}
        alert = known.get(alert_id)
        if alert is None:
            raise Problem(404, "Not found", f"unknown alert {alert_id!r}")
        if alert.acknowledged_by not in (None, by):
            raise Problem(409, "Conflict", f"alert {alert_id!r} was acknowledged by {alert.acknowledged_by} already")
        if alert.acknowledged_by is None:
            operations.acknowledge(services, alert_id, by=by)
            alert = {a.alert_id: a for a in operations.alerts(services, include_cleared=True)}[alert_id]
    return alert_public(alert)


@router.get("/kpis", response_model=KpiPublic, responses=documented(404, 422))
async def kpis(
    services: ServicesDep,
    lock: LockDep,
    _: Staff,
    site: Annotated[str | None, Query(max_length=63, description="Only this site's modules and orders.")] = None,
    since: Since = None,
    until: Until = None,
) -> KpiPublic:
    """Delivery, ISO 22400 OEE per site and module, and the downtime Pareto, from the recorded events."""
    if site is not None and site not in services.state.network.sites:
        raise Problem(404, "Not found", f"unknown site {site!r}")
    start, end = _window(since, until)
    async with lock:
        try:
            report = operations.report(services, site=site, start=start, end=end)
        except ValueError as exc:
            raise _invalid("query.since", str(exc)) from None
    d = report.delivery
    return KpiPublic(
        start=report.start,
        end=report.end,
        site=site,
        delivery=DeliveryPublic(
            orders=d.orders,
            delivered=d.delivered,
            on_time=d.on_time,
            on_time_rate=d.on_time_rate,
            shipped=d.shipped,
            in_production=d.in_production,
            lead_time_median_h=d.lead_time_median_h,
            lead_time_p90_h=d.lead_time_p90_h,
        ),
        sites=[_oee(k) for k in report.sites.values()],
        modules=[_oee(k) for k in report.modules.values()],
        downtime=[
            DowntimePublic(
                module=c.module, reason=c.reason, faults=c.faults, hours=c.hours, cumulative_share=c.cumulative_share
            )
            for c in report.downtime
        ],
    )


@router.get("/sites/{site}/schedule", response_model=SchedulePublic, responses=documented(404, 422))
async def site_schedule(
    site: str,
    services: ServicesDep,
    lock: LockDep,
    _: Staff,
    since: Since = None,
    until: Until = None,
) -> SchedulePublic:
    """Gantt data of a site: its last recorded schedule (planned) and what actually ran over the window."""
    if site not in services.state.network.sites:
        raise Problem(404, "Not found", f"unknown site {site!r}")
    start, end = _window(since, until)
    async with lock:
        created = latest_schedule(services.log, site)
        try:
            report = operations.report(services, gantt_site=site, start=start, end=end)
        except ValueError as exc:
            raise _invalid("query.since", str(exc)) from None
    planned = [
        GanttBarPublic(module=o.module, start=o.start, end=o.end, kind="planned", label=o.operation_id)
        for o in (created.operations if created else ())
    ]
    actual = [
        GanttBarPublic(module=b.module, start=b.start, end=b.end, kind=b.kind, label=b.label, order_id=b.order_id)
        for b in report.gantt
    ]
    return SchedulePublic(
        site=site,
        made_at=created.at if created else None,
        status=created.status if created else None,
        objective=created.objective if created else None,
        lower_bound=created.lower_bound if created else None,
        planned=sorted(planned, key=lambda b: (b.module, b.start)),
        actual=actual,
    )


def _oee(k: ModuleKpis) -> OeePublic:
    return OeePublic(
        name=k.name,
        availability=k.availability,
        effectiveness=k.effectiveness,
        quality=k.quality,
        oee=k.oee,
        utilisation=k.utilisation,
        produced=k.produced,
        good=k.good,
        faults=k.faults,
        mtbf_h=k.mtbf_hours,
        mttr_h=k.mttr_hours,
        down_h=k.adot / 3600,
    )


def _window(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """The window's ends as aware datetimes (the pattern already checked the form)."""
    start, end = _time("query.since", since), _time("query.until", until)
    if start is not None and end is not None and end < start:
        raise _invalid("query.until", "expected a time at or after since")
    return start, end


def _time(field: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:  # the right shape, an impossible date (2026-02-30)
        raise _invalid(field, f"not a valid time: {text!r}") from None


def _invalid(field: str, message: str) -> Problem:
    return Problem(422, "Invalid request", f"{field}: {message}", errors=[{"field": field, "message": message}])

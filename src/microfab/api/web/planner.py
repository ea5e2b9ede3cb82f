"""The planner's pages: run a plan as a job, follow it, read the result as tables and charts.

The forms post to ``/planner/...`` (same-site cookie session: SameSite=Strict keeps other sites
out), queue the same jobs as ``/v1/plans`` and redirect to the job's page, which refreshes
itself until the job is done.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from microfab.api.deps import JobsDep, LockDep, ServicesDep
from microfab.api.problems import Problem
from microfab.api.web.pages import PageLanguage, render_page
from microfab.api.web.session import PagePrincipal
from microfab.control.jobs import Job, JobQueueFullError
from microfab.control.plan_jobs import BUCKET_HOURS, submit_allocation
from microfab.domain.access import Principal, Role
from microfab.domain.errors import UnknownReferenceError
from microfab.planning.export import COSTS

router = APIRouter(include_in_schema=False)
_PLANNERS = (Role.PLANNER, Role.ADMIN)


def _planner(principal: Principal) -> None:
    if principal.role not in _PLANNERS:
        raise Problem(403, "Forbidden", "the planner pages are for planners and admins")


@dataclass(frozen=True, slots=True)
class Bar:
    """One horizontal bar of a chart: label, value, its width in per cent of the largest."""

    label: str
    value: float
    share: float


def bars(values: dict[str, float]) -> list[Bar]:
    """Bars scaled to the largest absolute value."""
    top = max((abs(v) for v in values.values()), default=0.0) or 1.0
    return [Bar(k, v, 100 * abs(v) / top) for k, v in values.items()]


def allocation_view(result: dict[str, Any]) -> dict[str, Any]:
    """What the page shows of an allocation: cost bars, per site the orders per bucket, late and rejected orders."""
    per_site: dict[str, Counter[int]] = defaultdict(Counter)
    late = []
    for order in result["orders"]:
        for share in order.get("shares", ()):
            per_site[share["site"]][share["bucket"]] += 1
            if share["tardiness_h"] > 0:
                late.append((order["order"], share["site"], result["buckets"][share["bucket"]], share["tardiness_h"]))
    peak = max((n for counts in per_site.values() for n in counts.values()), default=1)
    grid = [
        (site, [(per_site[site][b], per_site[site][b] / peak) for b in range(len(result["buckets"]))])
        for site in result["sites"]
    ]
    costs = {name: float(result["costs"][name]) for name in COSTS if name != "total"}
    rejected = [(o["order"], o["rejected"]) for o in result["orders"] if "rejected" in o]
    return {"cost_bars": bars(costs), "grid": grid, "late": late, "rejected": rejected}


@router.get("/planner", response_class=HTMLResponse)
async def planner_home(
    request: Request, language: PageLanguage, jobs: JobsDep, services: ServicesDep, principal: PagePrincipal
) -> HTMLResponse:
    """Forms to run plans, and the jobs so far (newest first)."""
    _planner(principal)
    return render_page(
        request,
        "planner.html.j2",
        principal,
        language=language,
        jobs=jobs.jobs(),
        buckets=list(BUCKET_HOURS),
        orders=len(services.state.orders),
    )


@router.post("/planner/allocations")
async def planner_allocate(
    services: ServicesDep,
    lock: LockDep,
    jobs: JobsDep,
    principal: PagePrincipal,
    buckets: Annotated[str, Form(max_length=10)] = "day",
    horizon: Annotated[int | None, Form(ge=1, le=180)] = None,
    time_limit: Annotated[float, Form(ge=0.1, le=120.0)] = 10.0,
) -> Response:
    """Queue an allocation of the backlog, then show its job."""
    _planner(principal)
    if buckets not in BUCKET_HOURS:
        raise Problem(422, "Invalid request", f"buckets: expected day or shift, got {buckets!r}")
    async with lock:
        job = _queued(lambda: submit_allocation(services, jobs, principal, buckets=buckets, horizon=horizon,
                                                time_limit=time_limit))  # fmt: skip
    return RedirectResponse(f"/planner/jobs/{job.id}", status_code=303)


@router.get("/planner/jobs/{job_id}", response_class=HTMLResponse)
async def planner_job(
    request: Request, language: PageLanguage, job_id: str, jobs: JobsDep, principal: PagePrincipal
) -> HTMLResponse:
    """A job: its progress (the page refreshes itself until it is done), then its result."""
    _planner(principal)
    try:
        job = jobs.get(job_id)
    except UnknownReferenceError:
        raise Problem(404, "Not found", f"unknown planning job {job_id!r}") from None
    view = allocation_view(job.result) if job.result is not None and job.kind == "allocation" else None
    return render_page(request, "plan_job.html.j2", principal, language=language, job=job, view=view)


def _queued(submit: Any) -> Job:
    try:
        job: Job = submit()
    except JobQueueFullError as exc:
        raise Problem(429, "Too many requests", str(exc), headers={"Retry-After": "10"}) from None
    return job

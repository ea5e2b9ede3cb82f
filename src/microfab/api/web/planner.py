"""The planner's pages: run a plan as a job, follow it, read the result as tables and charts.

The forms post to ``/planner/...`` (same-site cookie session: SameSite=Strict keeps other sites
out), queue the same jobs as ``/v1/plans`` — allocation, stress test, capacity expansion, what-if
study — and redirect to the job's page, which refreshes itself until the job is done. A stress
network, a forecast or a what-if file with errors comes back on the planner page with the errors
listed and the text kept. The forms start with the examples shipped in the package
(``api/web/examples``: the checkout's ``examples/`` inputs; the what-if one made small).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from microfab.api.deps import JobsDep, LockDep, ServicesDep
from microfab.api.problems import Problem
from microfab.api.schemas import PLAN_TEXT_CHARS, StressRequest
from microfab.api.web.pages import PageLanguage, render_page
from microfab.api.web.plan_views import bars, expansion_view, stress_view, whatif_view
from microfab.api.web.session import PagePrincipal
from microfab.control.bootstrap import Services
from microfab.control.jobs import JobRunner
from microfab.control.plan_jobs import (
    BUCKET_HOURS,
    ExpansionOptions,
    NoNetworkError,
    WhatIfOptions,
    submit_allocation,
    submit_expansion,
    submit_stress,
    submit_whatif,
    whatif_baseline,
)
from microfab.domain.access import Principal, Role
from microfab.domain.errors import UnknownReferenceError
from microfab.manifests import ManifestErrors
from microfab.planning.export import COSTS
from microfab.planning.stress_input import InputError
from microfab.planning.stress_network import NetworkError

router = APIRouter(include_in_schema=False)
_PLANNERS = (Role.PLANNER, Role.ADMIN)
_EXAMPLES = files("microfab.api.web") / "examples"
_TEXT_LIMIT = PLAN_TEXT_CHARS  # characters of a forecast or what-if file typed into a form, as over the API
_NETWORK_LIMIT = 1024 * 1024  # characters of a stress network typed into the form: the body limit (1 MiB) bounds it
_EXPANSION = ExpansionOptions()
_WHATIF = WhatIfOptions()


@cache
def example(name: str) -> str:
    """An example input shipped in the package (``api/web/examples/NAME``), to start the forms with ('' without one)."""
    try:
        return (_EXAMPLES / name).read_text(encoding="utf-8")
    except OSError:
        return ""


def _planner(principal: Principal) -> None:
    if principal.role not in _PLANNERS:
        raise Problem(403, "Forbidden", "the planner pages are for planners and admins")


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
    return _home(request, language, jobs, services, principal)


def _home(
    request: Request,
    language: str,
    jobs: JobRunner,
    services: Services,
    principal: Principal,
    *,
    status: int = 200,
    **forms: Any,
) -> HTMLResponse:
    """The planner page; *forms* keep what was typed into a form and its errors (``stress_errors``, ...)."""
    context: dict[str, Any] = {
        "network_text": example("stress-network.json"),
        "forecast_text": example("forecast.yaml"),
        "whatif_text": example("whatif.yaml"),
        "expansion": _EXPANSION,
        "whatif": _WHATIF,
        "stress_errors": [],
        "expansion_errors": [],
        "whatif_errors": [],
    }
    page = render_page(
        request,
        "planner.html.j2",
        principal,
        language=language,
        jobs=jobs.jobs(),
        buckets=list(BUCKET_HOURS),
        orders=len(services.state.orders),
        **(context | forms),
    )
    page.status_code = status
    return page


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
        job = submit_allocation(services, jobs, principal, buckets=buckets, horizon=horizon, time_limit=time_limit)
    return RedirectResponse(f"/planner/jobs/{job.id}", status_code=303)


@router.post("/planner/stress", response_class=HTMLResponse)
async def planner_stress(
    request: Request,
    language: PageLanguage,
    services: ServicesDep,
    lock: LockDep,
    jobs: JobsDep,
    principal: PagePrincipal,
    network: Annotated[str, Form(max_length=_NETWORK_LIMIT)],
) -> Response:
    """Queue a stress test of the network typed (JSON), then show its job; errors come back on the planner page."""
    _planner(principal)
    try:
        StressRequest.model_validate_json(network)  # the shape, checked as the API checks it
        document = json.loads(network, parse_float=Decimal)  # the values, read as the CLI reads them
        async with lock:
            job = submit_stress(services, jobs, principal, document)
    except ValidationError as exc:
        errors = [f"{_path(e['loc'])}: {e['msg']}" if e["loc"] else e["msg"] for e in exc.errors()]
    except (InputError, NetworkError) as exc:
        errors = [str(exc)]
    else:
        return RedirectResponse(f"/planner/jobs/{job.id}", status_code=303)
    return _home(request, language, jobs, services, principal, status=422, network_text=network, stress_errors=errors)


def _path(location: tuple[int | str, ...]) -> str:
    """A schema error's location as the stress test's messages spell paths: ``nodes[1].kind``."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location).lstrip(".")


@router.post("/planner/expansions", response_class=HTMLResponse)
async def planner_expand(  # noqa: PLR0913, PLR0917 - the form's fields
    request: Request,
    language: PageLanguage,
    services: ServicesDep,
    lock: LockDep,
    jobs: JobsDep,
    principal: PagePrincipal,
    forecast: Annotated[str, Form(min_length=1, max_length=_TEXT_LIMIT)],
    time_limit: Annotated[float, Form(ge=0.1, le=120.0)] = _EXPANSION.time_limit,
    replications: Annotated[int, Form(ge=0, le=20)] = _EXPANSION.replications,
    twin_periods: Annotated[int | None, Form(ge=1, le=120)] = None,
) -> Response:
    """Queue a capacity expansion for the forecast typed (YAML), then show its job; errors come back on the page."""
    _planner(principal)
    options = ExpansionOptions(time_limit=time_limit, replications=replications, twin_periods=twin_periods)
    async with lock:
        try:
            job = submit_expansion(services, jobs, principal, forecast, options)
        except ManifestErrors as exc:
            errors = [str(e) for e in exc.errors]
        except NoNetworkError as exc:
            errors = [str(exc)]
        else:
            return RedirectResponse(f"/planner/jobs/{job.id}", status_code=303)
    return _home(request, language, jobs, services, principal, status=422, forecast_text=forecast, expansion=options,
                 expansion_errors=errors)  # fmt: skip


@router.post("/planner/whatifs", response_class=HTMLResponse)
async def planner_whatif(  # noqa: PLR0913, PLR0917 - the form's fields
    request: Request,
    language: PageLanguage,
    services: ServicesDep,
    lock: LockDep,
    jobs: JobsDep,
    principal: PagePrincipal,
    scenario: Annotated[str, Form(min_length=1, max_length=_TEXT_LIMIT)],
    seeds: Annotated[int | None, Form(ge=1, le=20)] = None,
    time_limit: Annotated[float | None, Form(ge=0.1, le=30.0)] = None,
) -> Response:
    """Queue a what-if study of the applied network for the file typed (YAML), then show its job; errors come back."""
    _planner(principal)
    options = WhatIfOptions(seeds=seeds, time_limit=time_limit)
    try:
        async with lock:
            baseline = whatif_baseline(services, principal)
        job = await asyncio.to_thread(submit_whatif, jobs, baseline, scenario, options)
    except ManifestErrors as exc:
        errors = [str(e) for e in exc.errors]
    except NoNetworkError as exc:
        errors = [str(exc)]
    else:
        return RedirectResponse(f"/planner/jobs/{job.id}", status_code=303)
    return _home(request, language, jobs, services, principal, status=422, whatif_text=scenario, whatif=options,
                 whatif_errors=errors)  # fmt: skip


_VIEWS = {"allocation": allocation_view, "stress": stress_view, "expansion": expansion_view, "whatif": whatif_view}


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
    view = _VIEWS[job.kind](job.result) if job.result is not None and job.kind in _VIEWS else None
    return render_page(request, "plan_job.html.j2", principal, language=language, job=job, view=view)

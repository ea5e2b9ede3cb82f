"""Planning over HTTP: jobs that run off the request path (202 + a job to poll), for planners and admins.

Allocation of the backlog, stress tests of a supply network (the body is ``microfab plan stress``'s
input), capacity expansion of the applied network (the body carries the forecast as YAML text)
and what-if studies of the applied network (the body carries ``microfab whatif``'s file as text);
an expansion's Module documents download as ``/v1/plans/jobs/{id}/manifests.yaml``.
"""

from __future__ import annotations

import asyncio
import json
import re
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from microfab.api.deps import JobsDep, LockDep, Planner, ServicesDep
from microfab.api.problems import Problem, documented
from microfab.api.schemas import AllocationRequest, ExpansionRequest, JobPublic, Page, StressRequest, WhatIfRequest
from microfab.control.jobs import Job, JobStatus
from microfab.control.plan_jobs import (
    ExpansionOptions,
    NoNetworkError,
    WhatIfOptions,
    submit_allocation,
    submit_expansion,
    submit_stress,
    submit_whatif,
    whatif_baseline,
)
from microfab.domain.errors import UnknownReferenceError
from microfab.manifests import ManifestErrors
from microfab.planning.stress_input import InputError, error_path
from microfab.planning.stress_network import NetworkError

router = APIRouter(prefix="/v1/plans", tags=["planning"])
_ACCEPTED = {202: {"description": "Accepted: the job is queued; poll its Location."}, **documented(429)}
_YAML = "application/yaml"
_MANIFESTS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The plan's Module documents of every site at the end of its horizon, one YAML stream.",
        "content": {_YAML: {"schema": {"type": "string"}}},
    },
    **documented(404, 409),
}


def job_public(job: Job, *, with_result: bool = True) -> JobPublic:
    """The API's view of a job (lists leave the result out)."""
    return JobPublic(
        id=job.id,
        kind=job.kind,
        status=job.status.value,
        by=job.by,
        submitted_at=job.submitted_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        params=dict(job.params),
        result=job.result if with_result else None,
        error=job.error,
    )


def accepted(job: Job, response: Response) -> JobPublic:
    """202 with the job's address."""
    response.status_code = 202
    response.headers["Location"] = f"/v1/plans/jobs/{job.id}"
    return job_public(job)


@router.post("/allocations", response_model=JobPublic, status_code=202, responses=_ACCEPTED)
async def allocate(
    body: AllocationRequest,
    response: Response,
    services: ServicesDep,
    lock: LockDep,
    jobs: JobsDep,
    principal: Planner,
) -> JobPublic:
    """Allocate the backlog (orders allocated, not started) to sites and completion buckets at least cost (MILP).

    The plan is advice: nothing is recorded. The result lists per order its site(s), bucket and
    lateness or why it is rejected, the cost breakdown, and the solver's bound and gap.
    """
    async with lock:
        job = submit_allocation(
            services,
            jobs,
            principal,
            buckets=body.buckets,
            horizon=body.horizon,
            time_limit=body.time_limit,
            gap=body.gap,
        )
    return accepted(job, response)


@router.post("/stress", response_model=JobPublic, status_code=202, responses=_ACCEPTED)
async def stress(
    body: StressRequest,
    request: Request,
    response: Response,
    services: ServicesDep,
    lock: LockDep,
    jobs: JobsDep,
    principal: Planner,
) -> JobPublic:
    """Stress-test a supply network: time to survive, TTR impact, risk exposure and mitigations of every node.

    The body is ``microfab plan stress``'s input (``docs/stress-tests.md``); a value the engine
    refuses (a negative stock, a BOM cycle, a part with no source) is a 422 naming its field. The
    result is the CLI's ``--json`` document: per node (input order) ``tts_days`` (null with
    ``unbounded``), ``ttr_impact``, ``rei``, ``at_risk``, ``rank``, ``lost_sales``, ``mitigations``.
    """
    # *body* checked the shape; the engine reads the bytes as the CLI reads its file (fractions as exact decimals)
    document = json.loads(await request.body(), parse_float=Decimal)
    async with lock:
        try:
            job = submit_stress(services, jobs, principal, document)
        except (InputError, NetworkError) as exc:
            raise stress_problem(exc) from None
    return accepted(job, response)


@router.post("/expansions", response_model=JobPublic, status_code=202, responses={**_ACCEPTED, **documented(409)})
async def expand(
    body: ExpansionRequest,
    response: Response,
    services: ServicesDep,
    lock: LockDep,
    jobs: JobsDep,
    principal: Planner,
) -> JobPublic:
    """Plan where the applied network's next containers go for a demand forecast, and check the plan on the twin.

    The forecast's errors are a 422, each named ``body.forecast:LINE:COLUMN:FIELD``; with no network
    applied, a 409. The result is ``microfab plan expand --json``'s document — ``actions`` (which
    module type at which site from which period, and when to order it), ``costs``, ``units``,
    ``flows``, ``twin`` (service level and more, mean and 95 % CI) — and ``manifests_yaml``, the
    Module documents, also at ``/v1/plans/jobs/{id}/manifests.yaml``.
    """
    options = ExpansionOptions(
        time_limit=body.time_limit,
        gap=body.gap,
        replications=body.replications,
        twin_periods=body.twin_periods,
        seed=body.seed,
    )
    async with lock:
        try:
            job = submit_expansion(services, jobs, principal, body.forecast, options)
        except NoNetworkError as exc:
            raise Problem(409, "Conflict", str(exc)) from None
        except ManifestErrors as exc:
            raise forecast_problem(exc) from None
    return accepted(job, response)


@router.post("/whatifs", response_model=JobPublic, status_code=202, responses={**_ACCEPTED, **documented(409)})
async def whatif(
    body: WhatIfRequest,
    response: Response,
    services: ServicesDep,
    lock: LockDep,
    jobs: JobsDep,
    principal: Planner,
) -> JobPublic:
    """Run a what-if study on the applied network: each scenario's changes against the baseline, paired over seeds.

    ``scenario`` is the file ``microfab whatif`` reads (``docs/whatif.md``), run as ``microfab whatif
    --db`` runs it: the baseline is the applied network, so a ``spec.baseline`` is refused (the
    server reads no file a client names). The study runs serially in the job's process and must fit
    a job (at most 20 seeds, 100 runs, 30,000 orders over all runs, 30 s of MILP per run, and runs
    x MILP seconds within half the job's timeout). The file's errors and the limits it breaks are a
    422, each named ``body.scenario:LINE:COLUMN:FIELD``; with no network applied, a 409. The result
    is ``microfab whatif --json``'s document: per scenario and figure the baseline, the variant and
    the paired delta, each ``{mean, half_width, low, high, n}`` (95 % Student-t; ``null`` half widths
    with one seed), and every run's figures.
    """
    options = WhatIfOptions(seeds=body.seeds, time_limit=body.time_limit)
    async with lock:
        try:
            baseline = whatif_baseline(services, principal)
        except NoNetworkError as exc:
            raise Problem(409, "Conflict", str(exc)) from None
    try:
        job = await asyncio.to_thread(submit_whatif, jobs, baseline, body.scenario, options)
    except ManifestErrors as exc:
        raise text_problem(exc, "scenario", "Invalid what-if study") from None
    return accepted(job, response)


@router.get("/jobs", response_model=Page[JobPublic])
async def list_jobs(
    jobs: JobsDep,
    _: Planner,
    cursor: Annotated[int, Query(ge=0, description="How many jobs to skip (from next_cursor).")] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Page[JobPublic]:
    """Planning jobs, newest first, without their results."""
    every = jobs.jobs()
    items = [job_public(j, with_result=False) for j in every[cursor : cursor + limit]]
    more = cursor + limit < len(every)
    return Page[JobPublic](items=items, next_cursor=str(cursor + limit) if more else None)


@router.get("/jobs/{job_id}", response_model=JobPublic, responses=documented(404))
async def get_job(
    job_id: Annotated[str, Path(max_length=40)],
    jobs: JobsDep,
    _: Planner,
) -> JobPublic:
    """One job: its status and, once it succeeded, its result."""
    try:
        return job_public(jobs.get(job_id))
    except UnknownReferenceError:
        raise Problem(404, "Not found", f"unknown planning job {job_id!r}") from None


@router.get("/jobs/{job_id}/manifests.yaml", response_class=Response, responses=_MANIFESTS)
async def job_manifests(
    job_id: Annotated[str, Path(max_length=40)],
    jobs: JobsDep,
    _: Planner,
) -> Response:
    """An expansion job's Module documents (every site's, at the end of the horizon) as one YAML download."""
    try:
        job = jobs.get(job_id)
    except UnknownReferenceError:
        raise Problem(404, "Not found", f"unknown planning job {job_id!r}") from None
    if job.kind != "expansion":
        raise Problem(404, "Not found", f"{job_id} is a {job.kind} job: only expansions have manifests")
    if job.status is not JobStatus.SUCCEEDED or job.result is None:
        raise Problem(409, "Conflict", f"{job_id} is {job.status.value}: manifests come with a succeeded plan")
    headers = {"Content-Disposition": f'attachment; filename="{job.id}-modules.yaml"'}
    return Response(str(job.result["manifests_yaml"]), media_type=_YAML, headers=headers)


def stress_problem(exc: InputError | NetworkError) -> Problem:
    """A 422 naming the body field the stress test's reader or engine refused (``nodes[4].inventory``)."""
    path, message = error_path(exc)
    return Problem(422, "Invalid request", str(exc), errors=[{"field": body_field(path), "message": message}])


def body_field(path: str) -> str:
    """``nodes[4].inventory`` as the API names fields: ``body.nodes.4.inventory``."""
    dotted = re.sub(r"\[(\d+)\]", r".\1", path)
    return "body" if dotted in ("", "input") else f"body.{dotted}"


def forecast_problem(exc: ManifestErrors) -> Problem:
    """A 422 listing every error of the forecast, each at ``body.forecast:LINE:COLUMN:FIELD``."""
    return text_problem(exc, "forecast", "Invalid forecast")


def text_problem(exc: ManifestErrors, field: str, title: str) -> Problem:
    """A 422 listing every error of a text in the body's *field*, each at ``body.<field>:LINE:COLUMN:FIELD``."""
    errors = [{"field": f"body.{field}:{e.line}:{e.column}:{e.field}", "message": e.message} for e in exc.errors]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return Problem(422, title, detail, errors=errors)

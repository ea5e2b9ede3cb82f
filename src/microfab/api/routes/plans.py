"""Planning over HTTP: jobs that run off the request path (202 + a job to poll), for planners and admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from microfab.api.deps import JobsDep, LockDep, Planner, ServicesDep
from microfab.api.problems import Problem, documented
from microfab.api.schemas import AllocationRequest, JobPublic, Page
from microfab.control.jobs import Job, JobQueueFullError
from microfab.control.plan_jobs import submit_allocation
from microfab.domain.errors import UnknownReferenceError

router = APIRouter(prefix="/v1/plans", tags=["planning"])
_ACCEPTED = {202: {"description": "Accepted: the job is queued; poll its Location."}, **documented(429)}


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
        try:
            job = submit_allocation(
                services,
                jobs,
                principal,
                buckets=body.buckets,
                horizon=body.horizon,
                time_limit=body.time_limit,
                gap=body.gap,
            )
        except JobQueueFullError as exc:
            raise Problem(429, "Too many requests", str(exc), headers={"Retry-After": "10"}) from None
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

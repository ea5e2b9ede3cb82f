"""The planning jobs the API and the planner pages run: built from the state here, solved in a worker process.

Each ``*_job`` is a module-level function of pure data (it is pickled to its process); each
``submit_*`` builds that data from the state (the caller holds the state's lock) and queues it.
"""

from __future__ import annotations

from typing import Any

from microfab.control.access import label_of
from microfab.control.bootstrap import Services
from microfab.control.jobs import Job, JobRunner
from microfab.control.plan_backlog import backlog_problem
from microfab.domain.access import Principal
from microfab.planning.export import plan_json
from microfab.planning.problem import AllocationProblem
from microfab.planning.validate import validate

BUCKET_HOURS = {"day": 24.0, "shift": 8.0}
"""Bucket sizes a backlog is planned in, hours."""


def allocation_job(problem: AllocationProblem, time_limit: float, gap: float) -> dict[str, Any]:
    """Allocate the backlog with the MILP; the plan as JSON, checked by the independent validator first."""
    from microfab.planning.milp import allocate_milp  # noqa: PLC0415 - HiGHS loads in the worker only

    plan = allocate_milp(problem, time_limit=time_limit, gap=gap, threads=1)
    issues = validate(problem, plan)
    if issues:
        raise ValueError(f"the plan breaks {len(issues)} rule(s): {'; '.join(issues[:3])}")
    out = plan_json(problem, plan)
    out["orders_total"] = len(problem.orders)
    out["sites"] = [s.name for s in problem.sites]
    out["buckets"] = [b.label for b in problem.buckets]
    return out


def submit_allocation(
    services: Services,
    jobs: JobRunner,
    principal: Principal,
    *,
    buckets: str = "day",
    horizon: int | None = None,
    time_limit: float = 10.0,
    gap: float = 0.01,
) -> Job:
    """Queue an allocation of the backlog (orders allocated, not started) from now; raises `JobQueueFullError`."""
    if buckets not in BUCKET_HOURS:
        raise ValueError(f"buckets: expected one of {', '.join(BUCKET_HOURS)}, got {buckets!r}")
    hours = BUCKET_HOURS[buckets]
    count = horizon or int(14 * 24 / hours)
    services.state.catch_up(services.log)
    problem = backlog_problem(services.state, at=services.now(), bucket_hours=hours, buckets=count)
    params = {"buckets": buckets, "horizon": count, "time_limit": time_limit, "gap": gap, "orders": len(problem.orders)}
    by = label_of(services.state, principal)
    return jobs.submit("allocation", allocation_job, problem, time_limit, gap, by=by, params=params)

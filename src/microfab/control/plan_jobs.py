"""The planning jobs the API and the planner pages run (allocation, stress test, expansion): solved in a worker process.

Each ``*_job`` is a module-level function of pure data (it is pickled to its process); each
``submit_*`` builds that data from the state (the caller holds the state's lock) and queues it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from microfab.control.access import label_of
from microfab.control.bootstrap import Services
from microfab.control.expand import expansion_problem
from microfab.control.expand_export import manifests_yaml, plan_header, read_forecast, twin_check
from microfab.control.expand_output import module_plan
from microfab.control.expand_output import plan_json as expansion_json
from microfab.control.forecast import Forecast
from microfab.control.jobs import Job, JobRunner
from microfab.control.plan_backlog import backlog_problem
from microfab.domain.access import Principal
from microfab.domain.errors import DomainError
from microfab.domain.network import Network
from microfab.manifests import Resource
from microfab.planning.export import plan_json
from microfab.planning.problem import AllocationProblem
from microfab.planning.stress_export import report_json
from microfab.planning.stress_input import network_from_json
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


# ------------------------------------------------------------------------------------------ stress test


def stress_job(document: dict[str, Any]) -> dict[str, Any]:
    """Stress-test the network of *document* (the JSON of ``docs/stress-tests.md``): the report as JSON."""
    from microfab.planning.stress import stress_test  # noqa: PLC0415 - HiGHS loads in the worker only

    network = network_from_json(document)
    return report_json(stress_test(network))


def submit_stress(services: Services, jobs: JobRunner, principal: Principal, document: dict[str, Any]) -> Job:
    """Check *document* (the engine's `InputError` or `NetworkError` naming the field) and queue its stress test.

    Numbers with a fraction should be `Decimal`, as ``microfab plan stress`` reads them. Raises
    `JobQueueFullError` when too many jobs wait.
    """
    network = network_from_json(document)  # checked here, rebuilt in the worker (its mappings do not pickle)
    params = {"nodes": len(network.nodes), "horizon_days": network.horizon_days, "currency": network.currency}
    by = label_of(services.state, principal)
    return jobs.submit("stress", stress_job, document, by=by, params=params)


# ------------------------------------------------------------------------------------------ capacity expansion


@dataclass(frozen=True, slots=True)
class ExpansionOptions:
    """How hard an expansion job tries: the MILP's seconds and gap; twin replications over the first *twin_periods*."""

    time_limit: float = 5.0
    gap: float = 1e-4
    replications: int = 2
    twin_periods: int | None = None
    seed: int = 0


class NoNetworkError(DomainError):
    """Nothing is applied yet: there is no network to expand."""


def expansion_job(
    network: Network, resources: list[Resource], forecast: Forecast, options: ExpansionOptions
) -> dict[str, Any]:
    """Plan the expansion (MILP), check it (validator, then the twin) and name its modules.

    The result is ``microfab plan expand --json``'s document (without ``out``) plus
    ``manifests_yaml``: every site's Module documents at the end of the horizon, one YAML stream.
    """
    from microfab.planning.expand import expand_milp  # noqa: PLC0415 - HiGHS and numpy load in the worker only
    from microfab.planning.expand_validate import validate as validate_expansion  # noqa: PLC0415 - numpy too

    inputs = expansion_problem(network, forecast, seed=options.seed)
    plan = expand_milp(inputs.problem, time_limit=options.time_limit, gap=options.gap, threads=1)
    issues = validate_expansion(inputs.problem, plan)
    if issues:
        raise ValueError(f"the plan breaks {len(issues)} rule(s): {'; '.join(issues[:3])}")
    modules = module_plan(inputs, plan, resources)
    estimates = twin_check(
        inputs, plan, modules, replications=options.replications, periods=options.twin_periods, seed=options.seed
    )
    out = expansion_json(inputs, plan, modules, estimates)
    out["manifests_yaml"] = manifests_yaml(
        modules, header=plan_header(inputs, plan, modules, by="a microfab expansion job")
    )
    return out


def submit_expansion(
    services: Services, jobs: JobRunner, principal: Principal, forecast_text: str, options: ExpansionOptions
) -> Job:
    """Read the forecast against the applied network and queue its expansion plan.

    Raises
    ------
    NoNetworkError
        No network is applied.
    ManifestErrors
        The forecast's errors, each at ``forecast:LINE:COLUMN`` with its field.
    JobQueueFullError
        Too many jobs wait.
    """
    services.state.catch_up(services.log)
    if not services.state.has_network:
        raise NoNetworkError("no network applied: apply the network's manifests first")
    network = services.state.network
    forecast = read_forecast(forecast_text, network)
    params = {
        "periods": len(forecast.spans),
        "from": forecast.spans[0].label,
        "families": len(forecast.families),
        "time_limit": options.time_limit,
        "gap": options.gap,
        "replications": options.replications,
        "twin_periods": options.twin_periods,
        "seed": options.seed,
    }
    resources = list(services.state.resources.values())
    by = label_of(services.state, principal)
    return jobs.submit("expansion", expansion_job, network, resources, forecast, options, by=by, params=params)

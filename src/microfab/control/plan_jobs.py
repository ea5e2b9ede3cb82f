"""The planning jobs of the API and the planner pages (allocation, stress, expansion, what-if), each in a process.

Each ``*_job`` is a module-level function of pure data (it is pickled to its process); each
``submit_*`` builds that data from the state (the caller holds the state's lock) and queues it.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from microfab.control.access import label_of
from microfab.control.bootstrap import Services
from microfab.control.expand import expansion_problem
from microfab.control.expand_export import manifests_yaml, plan_header, read_forecast, twin_check
from microfab.control.expand_export import text_guard as too_big  # the forecast's nesting and alias guard
from microfab.control.expand_output import module_plan
from microfab.control.expand_output import plan_json as expansion_json
from microfab.control.forecast import Forecast
from microfab.control.jobs import Job, JobRunner
from microfab.control.plan_backlog import backlog_problem
from microfab.control.whatif_read import read_whatif, resolve
from microfab.control.whatif_scenario import DemandSurge, WhatIf, WhatIfFile
from microfab.domain.access import Principal
from microfab.domain.errors import DomainError
from microfab.domain.network import Network
from microfab.manifests import ManifestError, ManifestErrors, Resource
from microfab.manifests.validation import Report
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


# ------------------------------------------------------------------------------------------ what-if studies

WHATIF_MAX_SEEDS = 20
"""Replications a what-if job may run (seeds 1..N)."""
WHATIF_MAX_TIME_LIMIT = 30.0
"""Seconds the allocation MILP of one run may take in a job."""
WHATIF_MAX_RUNS = 100
"""Runs ((1 + scenarios) x seeds) of one job."""
WHATIF_MAX_ORDERS = 30_000
"""Orders one job may expect over all its runs (quoting each order at every site costs about 3 ms)."""
WHATIF_MAX_BUCKETS = 400
"""Allocation buckets of one run (horizon + drain over the bucket)."""


@dataclass(frozen=True, slots=True)
class WhatIfOptions:
    """A what-if job's overrides of its file: seeds 1..N and the MILP's seconds per run (None: the file's)."""

    seeds: int | None = None
    time_limit: float | None = None


def whatif_job(study: WhatIf, network: Network) -> dict[str, Any]:
    """The baseline and every scenario over every seed, one run after another: ``microfab whatif --json``'s document."""
    from microfab.control.whatif import result_json, run_whatif_task, summarize, whatif_tasks  # noqa: PLC0415 - HiGHS

    rows = [run_whatif_task(task) for task in whatif_tasks(study, network)]
    return result_json(summarize(study, rows, network.base_currency))


@dataclass(frozen=True, slots=True)
class WhatIfBaseline:
    """What a what-if job takes from the state: the applied network (immutable) and who asks."""

    network: Network
    by: str


def whatif_baseline(services: Services, principal: Principal) -> WhatIfBaseline:
    """The applied network and the asker's label; call it under the state's lock (`NoNetworkError` without one)."""
    services.state.catch_up(services.log)
    if not services.state.has_network:
        raise NoNetworkError("no network applied: apply the network's manifests first")
    return WhatIfBaseline(services.state.network, label_of(services.state, principal))


def submit_whatif(jobs: JobRunner, baseline: WhatIfBaseline, scenario_text: str, options: WhatIfOptions) -> Job:
    """Read a ``kind: WhatIf`` file given as text against the baseline network and queue the study.

    The baseline is always the applied network: a ``spec.baseline`` in the text is refused (a client
    may not make the server read its files). The study must fit a job (`WHATIF_MAX_SEEDS` and the
    other limits, and runs x the MILP's seconds within half the job's timeout); it runs serially in
    the job's process on one thread. Reading takes up to a second (configurations are drawn and
    checked against every site) and touches no state: run it off the event loop.

    Raises
    ------
    ManifestErrors
        The file's errors and the limits it breaks, each at ``scenario:LINE:COLUMN`` with its field.
    JobQueueFullError
        Too many jobs wait.
    """
    study = read_study(scenario_text, baseline.network, options, budget_s=jobs.timeout / 2)
    setup = study.setup
    params = {
        "name": study.name,
        "scenarios": len(study.scenarios),
        "seeds": study.seeds,
        "runs": (1 + len(study.scenarios)) * study.seeds,
        "horizon_h": setup.horizon.total_seconds() / 3600,
        "orders_per_run": round(expected_orders(study)[0]),
        "time_limit": setup.time_limit,
    }
    return jobs.submit("whatif", whatif_job, study, baseline.network, by=baseline.by, params=params)


def read_study(
    text: str, network: Network, options: WhatIfOptions, *, budget_s: float, name: str = "scenario"
) -> WhatIf:
    """The what-if file in *text*, checked and resolved against *network* and the job's limits; errors name *name*."""
    guard = too_big(text, name)
    if guard is not None:
        raise ManifestErrors([guard])
    # `read_whatif` reads a path (its positions come from the file's text): hand it one.
    with tempfile.TemporaryDirectory(prefix="microfab-whatif-") as folder:
        path = Path(folder) / "scenario.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            file = read_whatif(path)
        except ManifestErrors as exc:
            raise ManifestErrors([replace(e, file=name) for e in exc.errors]) from None
    errors = _refused(file, options)
    try:
        study = resolve(file, network, seeds=options.seeds)
    except ManifestErrors as exc:
        raise ManifestErrors([replace(e, file=name) for e in (*errors, *exc.errors)]) from None
    if not errors:
        time_limit = options.time_limit if options.time_limit is not None else study.setup.time_limit
        study = replace(study, file=name, setup=replace(study.setup, time_limit=time_limit, threads=1))
        errors = _over_budget(file.resource, study, budget_s)
    if errors:
        raise ManifestErrors([replace(e, file=name) for e in errors])
    return study


def _refused(file: WhatIfFile, options: WhatIfOptions) -> list[ManifestError]:
    """What a file may not ask of a job: a baseline of its own, more seeds or MILP seconds than a job runs."""
    spec, report = file.spec, Report()
    if spec.baseline is not None:
        message = "not allowed over HTTP: the baseline is the applied network (remove spec.baseline)"
        report.at(file.resource, ("spec", "baseline"), message)
    if options.seeds is None and spec.seeds > WHATIF_MAX_SEEDS:
        message = f"expected at most {WHATIF_MAX_SEEDS} seeds in a planning job, got {spec.seeds}"
        report.at(file.resource, ("spec", "seeds"), message)
    if options.time_limit is None and spec.allocation.time_limit.seconds > WHATIF_MAX_TIME_LIMIT:
        message = f"expected at most {WHATIF_MAX_TIME_LIMIT:g}s in a planning job, got {spec.allocation.time_limit}"
        report.at(file.resource, ("spec", "allocation", "timeLimit"), message)
    return report.errors


def expected_orders(study: WhatIf) -> tuple[float, float]:
    """Orders the baseline expects per run, and every run of the study together (surges included)."""
    setup = study.setup
    rates = setup.demand.orders_per_day
    base = sum(rates.values()) * setup.horizon.total_seconds() / 86400
    total = base
    for scenario in study.scenarios:
        extra = 0.0
        for change in scenario.changes:
            if isinstance(change, DemandSurge):
                begin, end = max(change.start, setup.start), min(change.end, setup.end)
                days = max(0.0, (end - begin).total_seconds() / 86400)
                extra += max(0.0, change.factor - 1) * rates.get(change.market, 0.0) * days
        total += base + extra
    return base, total * study.seeds


def _over_budget(resource: Resource, study: WhatIf, budget_s: float) -> list[ManifestError]:
    """The limits a resolved study breaks: runs, orders over every run, buckets of a run, MILP seconds."""
    setup, report = study.setup, Report()
    runs = (1 + len(study.scenarios)) * study.seeds
    where = ("spec", "changes") if resource.spec.get("scenarios") is None else ("spec", "scenarios")
    if runs > WHATIF_MAX_RUNS:
        message = (
            f"{runs} runs ((1 + {len(study.scenarios)} scenarios) x {study.seeds} seeds): "
            f"at most {WHATIF_MAX_RUNS} in a planning job"
        )
        report.at(resource, where, message)
    orders = expected_orders(study)[1]
    if orders > WHATIF_MAX_ORDERS:
        message = (
            f"about {orders:,.0f} orders over the study's {runs} runs: at most {WHATIF_MAX_ORDERS:,} in a planning job "
            "(fewer orders per day, a shorter horizon, fewer seeds or scenarios)"
        )
        report.at(resource, ("spec", "demand", "ordersPerDay"), message)
    buckets = math.ceil((setup.run_end - setup.start) / setup.bucket - 1e-9)
    if buckets > WHATIF_MAX_BUCKETS:
        message = f"{buckets} buckets over horizon + drain: at most {WHATIF_MAX_BUCKETS} (a longer bucket)"
        report.at(resource, ("spec", "bucket"), message)
    if runs * setup.time_limit > budget_s:
        message = (
            f"{runs} runs x {setup.time_limit:g} s of MILP may take {runs * setup.time_limit:g} s, over the "
            f"{budget_s:g} s a planning job may spend on them: a lower time limit, fewer seeds or scenarios"
        )
        report.at(resource, ("spec", "allocation", "timeLimit"), message)
    return report.errors

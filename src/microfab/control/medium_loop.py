"""The medium loop: repair a site's schedule from now, keeping what has started.

It runs when work arrives, a module faults or comes back (the controller calls `reschedule`),
and on a clock: every ``Settings.medium_loop_interval`` of network time, a site whose schedule
has fallen behind where it matters (`behind`: a ready operation planned to start more than
``Settings.medium_loop_tolerance`` ago waits while another capable module idles) is re-planned,
so that the work moves to where it can start now.

Started operations are fixed where they run; a down module is unavailable until its expected
repair (the type's MTTR); each module starts from the family it is set up for; the schedule
in force is the warm start and the reference that changes are kept close to (see
`microfab.scheduling.repair`). Every schedule is checked by `microfab.scheduling.validate`
before it becomes each module's sequence.
"""

from __future__ import annotations

import logging
from collections import deque
from datetime import datetime, timedelta

from microfab.control.work import Work
from microfab.domain.errors import DomainError
from microfab.domain.events import ScheduleCreated
from microfab.domain.network import Network
from microfab.scheduling import (
    Conditions,
    Criterion,
    Objective,
    problem_from_operations,
    repair,
    to_schedule,
    validate,
)
from microfab.settings import Settings

log = logging.getLogger(__name__)

SITE_OBJECTIVE = Objective(
    ({Criterion.WEIGHTED_TARDINESS: 100, Criterion.MAKESPAN: 10}, {Criterion.TOTAL_COMPLETION: 1})
)
"""What a site's schedule minimises: lateness first, then the makespan (a second moved costs a
tenth of a second of makespan, see `repair`), then the total completion time."""


def behind(work: Work, network: Network, site: str, now: datetime, tolerance: timedelta) -> bool:
    """Whether re-planning *site* now can help: its schedule has fallen behind where a module idles.

    True when an operation planned to start before ``now - tolerance`` is still pending although
    its predecessors are done, and a healthy, idle module of the site other than the planned
    one could run it. Work that is late only because everything capable is busy stays put: a
    new plan would not start it sooner.
    """
    schedule = work.schedules.get(site)
    if schedule is None:
        return False
    late = now - tolerance
    idle = [
        m
        for m in network.modules_at(site)
        if m.name not in work.busy and m.name not in work.down and not work.sequence[m.name]
    ]
    if not idle:
        return False
    for planned in schedule.operations:
        if planned.start >= late:
            continue
        track = work.tracks.get(planned.operation_id)
        if track is None or track.status != "pending":
            continue
        if any(work.tracks[p].status != "done" for p in track.op.predecessors if p in work.tracks):
            continue
        for module in idle:
            offers = network.module_types[module.module_type].capabilities
            if module.name != planned.module and track.op.capability in offers:
                return True
    return False


def reschedule(work: Work, network: Network, site: str, now: datetime, settings: Settings) -> ScheduleCreated | None:
    """Re-solve *site*'s pending work from *now*; update the sequences and return the schedule to record.

    Returns None when the site has no pending work. Raises `DomainError` when the schedule fails
    validation (nothing is changed then).
    """
    pending = [t for t in work.tracks.values() if t.site == site and t.status == "pending"]
    if not pending:
        return None
    ids = {t.op.id for t in pending}
    modules = network.modules_at(site)
    names = {m.name for m in modules}
    running = [
        t
        for t in work.tracks.values()
        if t.site == site and t.status == "dispatched" and t.module in names and t.module not in work.down
    ]
    operations = [work.ready_version(t, ids, now, network) for t in pending]
    operations += [work.ready_version(t, set(), now, network) for t in running]
    fixed = {
        t.op.id: (t.module, t.dispatched_at) for t in running if t.module is not None and t.dispatched_at is not None
    }
    busy_until = {
        m.name: work.free_at(m.name, now, network) for m in modules if m.name in work.busy and m.name not in work.down
    }
    unavailable = {m.name: [(now, work.free_at(m.name, now, network))] for m in modules if m.name in work.down}
    problem = problem_from_operations(
        operations,
        modules,
        network.module_types,
        origin=now,
        busy_until=busy_until,
        conditions=Conditions(unavailable, fixed, {m: f for m, f in work.families.items() if m in names}),
        objective=SITE_OBJECTIVE,
    )
    result = repair(
        problem,
        work.previous(site, now, ids | fixed.keys()),
        now=0,
        started=fixed.keys(),
        time_limit=settings.schedule_time_limit,
        workers=settings.solver_workers,
        seed=settings.seed,
    )
    violations = validate(problem, result.schedule) if result.has_schedule else [result.reason or "no schedule"]
    if violations:
        raise DomainError(f"schedule for {site} failed validation: {'; '.join(violations[:5])}")
    schedule = to_schedule(result, site=site, origin=now, created_at=now)
    work.schedules[site] = schedule
    for module in modules:
        work.sequence[module.name] = deque(
            o.operation_id for o in schedule.for_module(module.name) if o.operation_id in ids
        )
    log.info(
        "scheduled %d operations at %s: %s, makespan %ss", len(pending), site, result.status.value, result.objective
    )
    return ScheduleCreated(
        now,
        site,
        result.status.value,
        result.objective or 0,
        result.lower_bound or 0,
        round(result.runtime * 1000),
        schedule.operations,
    )

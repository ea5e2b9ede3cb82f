"""The standalone twin: a whole scenario run to the end with dispatch rules inside the model.

`Simulation` keeps one binary heap of ``(time, seq, kind, subject)`` tuples (the end of a work
segment also carries its start and length); *kind* is a small
integer that indexes a table of bound handlers, and a cancelled event is skipped when the heap
entry is no longer the one its module holds (no per-event objects, no frozen records on the hot
path). Semantics, per module:

- FIFO queue; a failed inspection is reworked at once (front of the same module's queue).
- Dispatch rule: an operation that becomes ready (release, or the previous operation done) goes
  at once to the in-service module of its capability (and site) with the smallest load = queued
  + 1 if an operation is in setup, processing or suspended on it; ties go to the module listed
  first. The choice is final (except when that module is retired before starting it).
- Setup on a family change (the first operation always needs one), before the operation.
- Breakdowns: time to failure counted on the calendar or on busy time (`FailureClock`); the next
  one is drawn when a repair ends. A failure suspends setup or processing; after repair it
  resumes with the time left or restarts (`RepairPolicy`). A broken module starts nothing.
- Maintenance windows suspend work the same way (planned downtime, not failures); forced outage
  windows too, as unplanned downtime (in the down state, like a breakdown).
- Deploy / retire at a time; a retired module finishes the operation in progress, its queue is
  dispatched again to the others.
- Lane transit: a finished job is delivered ``transit`` later; on time if by its due time.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections import deque
from collections.abc import Callable
from heapq import heappop, heappush
from operator import attrgetter
from typing import Any, Final

from microfab.domain.errors import DomainError
from microfab.twin.distributions import Lognormal
from microfab.twin.hotloop import run_plain
from microfab.twin.scenario import Scenario
from microfab.twin.stations import (
    EXECUTE,
    FAILED,
    FORCED,
    IDLE,
    MAINTAINED,
    OFF,
    S_EXECUTE,
    S_IDLE,
    S_SETUP,
    SETUP,
    Job,
    Station,
)
from microfab.twin.stats import Counters, SimulationResult, summarize
from microfab.twin.trace import Trace, TraceKind

ARRIVE: Final = 0
WORK_END: Final = 1
FAIL: Final = 2
REPAIR: Final = 3
MAINTENANCE_START: Final = 4
MAINTENANCE_END: Final = 5
DEPLOY: Final = 6
RETIRE: Final = 7
DELIVER: Final = 8
OUTAGE_START: Final = 9
OUTAGE_END: Final = 10

_Event = tuple[Any, ...]
_MERGED: Final = 8  # length of a fast-path event that ends a setup and the processing after it
_load = attrgetter("load")
_index = attrgetter("idx")


class DeadlockError(DomainError, RuntimeError):
    """The run stopped with operations that can never run; the message says which and why."""

    def __init__(self, message: str, stuck: list[tuple[int, int, str, str]]) -> None:
        super().__init__(message)
        self.stuck = stuck
        """(job index, operation index, capability, reason) of every stuck operation."""


class Simulation:
    """Run *scenario* standalone; ``trace=True`` also records a columnar `Trace` of every event.

    The common case (see `microfab.twin.hotloop`) runs inlined; ``general=True`` turns that off.

    The scenario is checked first (`Scenario.check`): a bad scenario raises `ScenarioError`
    before anything runs.
    """

    def __init__(self, scenario: Scenario, *, trace: bool = False, general: bool = False) -> None:
        scenario.check()
        self.general = general
        """Run every event through the general handlers (no inlined fast path): for tests."""
        self.scenario = scenario
        self.now = 0.0
        self.counters = Counters()
        self.trace: Trace | None = Trace() if trace else None
        self.stations = [Station(i, spec, scenario.seed) for i, spec in enumerate(scenario.stations)]
        self._jobs = scenario.jobs
        self._heap: list[_Event] = []
        self._seq = itertools.count()
        self._open = len(scenario.jobs)  # jobs not yet delivered
        self._stuck: dict[tuple[str | None, str], deque[Job]] = {}  # waiting for a module that never comes
        self._waiting: dict[tuple[str | None, str], deque[Job]] = {}  # waiting for a later deploy
        self._stuck_count = 0
        self._flows: list[float] = []
        self._delivered = self._on_time = 0
        # In-service modules by site (None: any site) and capability, in scenario order; every
        # list exists from the start (deploy and retire change them in place).
        self._candidates: dict[str | None, dict[str, list[Station]]] = {None: {}}
        for spec in scenario.stations:
            self._candidates.setdefault(spec.site, {})
        for table in self._candidates.values():
            for spec in scenario.stations:
                for capability in spec.capabilities:
                    table.setdefault(capability, [])
        self._factor: Callable[[], float] | None = None
        if scenario.variability > 0:
            self._factor = Lognormal(1.0, scenario.variability).sampler(random.Random(f"{scenario.seed}:process"))
        self._handlers: tuple[Callable[[_Event], None], ...] = (
            self._arrive,
            self._work_end,
            self._fail,
            self._repair,
            self._maintenance_start,
            self._maintenance_end,
            self._deploy,
            self._retire,
            self._deliver,
            self._outage_start,
            self._outage_end,
        )
        for m in self.stations:
            spec = m.spec
            if spec.deploy_at == 0:
                self._bring_up(m, 0.0)
            else:
                self._push(spec.deploy_at, DEPLOY, m)
            if spec.retire_at < math.inf:
                self._push(spec.retire_at, RETIRE, m)
            for window in spec.maintenance:
                self._push(window.start, MAINTENANCE_START, m)
                self._push(window.end, MAINTENANCE_END, m)
            for window in spec.outages:
                self._push(window.start, OUTAGE_START, m)
                self._push(window.end, OUTAGE_END, m)
        if self._jobs:
            self._push(self._jobs[0].release, ARRIVE, 0)

    # ------------------------------------------------------------------ running
    def run(self) -> SimulationResult:
        """Run until every job is delivered, the horizon, or a deadlock (raises `DeadlockError`)."""
        heap = self._heap
        until = self.scenario.horizon
        if self.trace is None and self._factor is None and not self.general:
            run_plain(self, until)
        else:
            handlers = self._handlers
            while self._open > self._stuck_count and heap:
                event = heap[0]
                if event[0] > until:
                    break
                heappop(heap)
                handlers[event[2]](event)
        if self._stuck_count:
            raise self._deadlock()
        if heap and self._open and until < math.inf:
            self.now = until
        return self.result()

    def result(self) -> SimulationResult:
        """Statistics of the run so far."""
        for m in self.stations:
            self._split(m, self.now)
        return summarize(self, self._flows, self._delivered, self._on_time)

    # ------------------------------------------------------------------ plumbing
    def _push(self, t: float, kind: int, subject: Any) -> _Event:
        event = (t, next(self._seq), kind, subject)
        heappush(self._heap, event)
        return event

    def _record(self, kind: TraceKind, m: Station | None, job: Job | None) -> None:
        trace = self.trace
        if trace is not None:
            trace.append(self.now, kind, -1 if m is None else m.idx, job)

    @staticmethod
    def _switch(m: Station, t: float, state: int) -> None:
        m.acc[m.state] += t - m.since
        m.since = t
        m.state = state

    # ------------------------------------------------------------------ jobs
    def _arrive(self, event: _Event) -> None:
        self.now = t = event[0]
        index = event[3]
        spec = self._jobs[index]
        job = Job(index, spec, t, self._candidates[spec.site])
        self.counters.arrivals += 1
        if self.trace is not None:
            self._record(TraceKind.ARRIVE, None, job)
        self._route(job, t)
        index += 1
        if index < len(self._jobs):
            self._push(self._jobs[index].release, ARRIVE, index)

    def _route(self, job: Job, t: float) -> None:
        k = job.next_op
        if k == len(job.capabilities):
            self._finish(job, t)
            return
        capability = job.capabilities[k]
        candidates = job.table[capability]
        if not candidates:
            self._park(job, capability)
            return
        best = min(candidates, key=_load)  # the first of the least loaded
        self._enqueue(best, job, t, front=False)

    def _enqueue(self, m: Station, job: Job, t: float, *, front: bool) -> None:
        queue = m.queue
        m.q_in += t
        if front:
            queue.appendleft(job)
        else:
            queue.append(job)
        m.q_max = max(m.q_max, len(queue))
        m.load += 1
        if m.phase == IDLE and not m.down:
            self._start_next(m, t)

    def _park(self, job: Job, capability: str) -> None:
        key = (job.spec.site, capability)
        t = self.now
        later = any(
            m.down & OFF and not m.retiring and m.spec.deploy_at >= t and capability in m.capabilities
            for m in self.stations
            if job.spec.site is None or m.site == job.spec.site
        )
        if later:
            self._waiting.setdefault(key, deque()).append(job)
        else:
            self._stuck.setdefault(key, deque()).append(job)
            self._stuck_count += 1

    def _finish(self, job: Job, t: float) -> None:
        c = self.counters
        c.jobs_done += 1
        flow = t - job.release
        c.flow_sum += flow
        self._flows.append(flow)
        job.done_at = t
        c.makespan = t
        if self.trace is not None:
            self._record(TraceKind.DONE, None, job)
        transit = job.spec.transit
        if transit > 0:
            self._push(t + transit, DELIVER, job)
        else:
            self._delivered_at(job, t)

    def _deliver(self, event: _Event) -> None:
        self.now = t = event[0]
        job = event[3]
        if self.trace is not None:
            self._record(TraceKind.DELIVER, None, job)
        self._delivered_at(job, t)

    def _delivered_at(self, job: Job, t: float) -> None:
        self._open -= 1
        self._delivered += 1
        if t <= job.spec.due:
            self._on_time += 1

    # ------------------------------------------------------------------ work
    def _start_next(self, m: Station, t: float) -> None:
        job = m.queue.popleft()
        m.q_out += t
        m.job = job
        if self.trace is not None:
            self._record(TraceKind.START, m, job)
        if job.family != m.last_family:
            length = m.setup_by_family.get(job.family, m.setup) if m.setup_by_family else m.setup
            if length > 0:
                m.phase = SETUP
                self._switch(m, t, S_SETUP)
                self._segment(m, t, length)
                return
            m.setups += 1
            m.last_family = job.family
        self._process(m, job, t)

    def _process(self, m: Station, job: Job, t: float) -> None:
        length = job.durations[job.next_op]
        if m.speed != 1.0:
            length /= m.speed
        if self._factor is not None:
            length *= self._factor()
        m.phase = EXECUTE
        if self.trace is not None:
            self._record(TraceKind.PROCESS, m, job)
        self._switch(m, t, S_EXECUTE)
        self._segment(m, t, length)

    def _segment(self, m: Station, t: float, length: float) -> None:
        m.phase_length = length
        m.pending = event = (t + length, next(self._seq), WORK_END, m, t, length)
        heappush(self._heap, event)
        if m.busy_clock and m.clock is None and m.ttf is not None:
            self._clock_on(m, t)

    def _work_end(self, event: _Event) -> None:
        m: Station = event[3]
        if event is not m.pending:
            return
        self.now = t = event[0]
        if len(event) == _MERGED:  # the module left the fast path while working
            self._split(m, t)
            return
        m.pending = None
        job = m.job
        assert job is not None
        if m.phase == SETUP:
            m.setups += 1
            m.last_family = job.family
            self._process(m, job, t)
            return
        self._complete(m, job, t)

    def _complete(self, m: Station, job: Job, t: float) -> None:
        m.job = None
        m.phase = IDLE
        m.load -= 1
        m.completed += 1
        self._switch(m, t, S_IDLE)
        m.ideal_done += job.durations[job.next_op]
        good = m.yield_rate >= 1.0 or m.yield_rng.random() < m.yield_rate
        if self.trace is not None:
            self._record(TraceKind.END if good else TraceKind.END_BAD, m, job)
        if good:
            job.next_op += 1
            job.attempt = 1
            self._route(job, t)
        else:
            m.bad += 1
            self.counters.reworks += 1
            job.attempt += 1
            if m.retiring:
                self._route(job, t)
            else:
                self._enqueue(m, job, t, front=True)
        if m.phase == IDLE:
            self._idle(m, t)

    def _idle(self, m: Station, t: float) -> None:
        """The module has no work in progress: take the next job, or wait (or leave service)."""
        if m.down:
            return
        if m.queue:
            self._start_next(m, t)
            return
        if m.busy_clock and m.clock is not None and m.clock[2] == FAIL:
            self._clock_off(m, t)
        if m.retiring:
            self._take_down(m, t)

    def _split(self, m: Station, t: float) -> None:
        """Turn a merged setup-and-processing event of the fast path into the segment in progress at *t*.

        The fast path (`hotloop`) schedules one event at ``(t0 + setup) + processing``; before
        anything looks at or interrupts the work, this replaces it with the setup segment (when
        *t* is before the setup end) or, with the setup accounted for, the processing segment
        that began at the setup end, exactly as if both had been scheduled one after the other.
        """
        event = m.pending
        if event is None or len(event) != _MERGED:
            return
        start, setup, setup_end, length = event[4:8]
        if t < setup_end:
            event = (setup_end, next(self._seq), WORK_END, m, start, setup)
            m.phase_length = setup
        else:
            m.setups += 1
            m.acc[S_SETUP] += setup_end - m.since
            m.since = setup_end
            m.phase = EXECUTE
            if m.state == S_SETUP:
                m.state = S_EXECUTE
            event = (setup_end + length, next(self._seq), WORK_END, m, setup_end, length)
            m.phase_length = length
        m.pending = event
        heappush(self._heap, event)

    def _suspend(self, m: Station, t: float) -> None:
        pending = m.pending
        assert pending is not None
        m.remaining = pending[5] - (t - pending[4])  # as the reference: length minus time worked
        m.pending = None
        if self.trace is not None:
            self._record(TraceKind.SUSPEND, m, m.job)

    def _wake(self, m: Station, t: float) -> None:
        """The module may work again: resume or restart its suspended work, or take the next job."""
        if m.down:
            self._switch(m, t, m.observed_state())
            return
        if m.phase == IDLE:
            self._switch(m, t, S_IDLE)
            self._idle(m, t)
            return
        self._switch(m, t, m.phase)
        if m.restart:
            m.lost += m.phase_length - m.remaining
            m.remaining = m.phase_length
        if self.trace is not None:
            self._record(TraceKind.RESUME, m, m.job)
        m.pending = event = (t + m.remaining, next(self._seq), WORK_END, m, t, m.remaining)
        heappush(self._heap, event)
        if m.busy_clock and m.clock is None and m.ttf is not None:
            self._clock_on(m, t)

    # ------------------------------------------------------------------ breakdowns
    def _clock_on(self, m: Station, t: float) -> None:
        m.busy_since = t
        m.clock = self._push(t + m.ttf_left, FAIL, m)

    @staticmethod
    def _clock_off(m: Station, t: float) -> None:
        m.ttf_left -= t - m.busy_since
        m.clock = None

    def _fail(self, event: _Event) -> None:
        m: Station = event[3]
        if event is not m.clock:
            return
        self.now = t = event[0]
        m.failures += 1
        self._split(m, t)
        m.down |= FAILED
        if self.trace is not None:
            self._record(TraceKind.FAIL, m, m.job)
        if m.pending is not None:
            self._suspend(m, t)
            m.preemptions += 1
        self._switch(m, t, m.observed_state())
        m.clock = self._push(t + m.ttr(), REPAIR, m)

    def _repair(self, event: _Event) -> None:
        m: Station = event[3]
        if event is not m.clock:
            return
        self.now = t = event[0]
        m.repairs += 1
        m.down &= ~FAILED
        if self.trace is not None:
            self._record(TraceKind.REPAIR, m, m.job)
        m.clock = None
        if not m.down & OFF:
            self._draw_failure(m, t)
        self._wake(m, t)

    def _draw_failure(self, m: Station, t: float) -> None:
        if m.ttf is None:
            return
        if m.busy_clock:
            m.ttf_left = m.ttf()
            if m.pending is not None:
                self._clock_on(m, t)
        else:
            m.clock = self._push(t + m.ttf(), FAIL, m)

    # ------------------------------------------------------------------ plans
    def _maintenance_start(self, event: _Event) -> None:
        m: Station = event[3]
        self.now = t = event[0]
        if m.down & OFF:
            return
        self._split(m, t)
        m.down |= MAINTAINED
        if self.trace is not None:
            self._record(TraceKind.MAINTENANCE_START, m, m.job)
        if m.pending is not None:
            self._suspend(m, t)
            m.interruptions += 1
            if m.busy_clock and m.clock is not None and m.clock[2] == FAIL:
                self._clock_off(m, t)
        self._switch(m, t, m.observed_state())

    def _maintenance_end(self, event: _Event) -> None:
        m: Station = event[3]
        self.now = t = event[0]
        if not m.down & MAINTAINED:
            return
        m.down &= ~MAINTAINED
        if self.trace is not None:
            self._record(TraceKind.MAINTENANCE_END, m, m.job)
        self._wake(m, t)

    def _outage_start(self, event: _Event) -> None:
        """A forced outage: work in progress is suspended as for a breakdown; the time is unplanned downtime."""
        m: Station = event[3]
        self.now = t = event[0]
        if m.down & OFF:
            return
        self._split(m, t)
        m.down |= FORCED
        m.outages += 1
        if self.trace is not None:
            self._record(TraceKind.OUTAGE_START, m, m.job)
        if m.pending is not None:
            self._suspend(m, t)
            m.preemptions += 1
            if m.busy_clock and m.clock is not None and m.clock[2] == FAIL:
                self._clock_off(m, t)
        self._switch(m, t, m.observed_state())

    def _outage_end(self, event: _Event) -> None:
        m: Station = event[3]
        self.now = t = event[0]
        if not m.down & FORCED:
            return
        m.down &= ~FORCED
        if self.trace is not None:
            self._record(TraceKind.OUTAGE_END, m, m.job)
        self._wake(m, t)

    def _deploy(self, event: _Event) -> None:
        m: Station = event[3]
        self.now = t = event[0]
        self._bring_up(m, t)

    def _bring_up(self, m: Station, t: float) -> None:
        m.down &= ~OFF
        if self.trace is not None:
            self._record(TraceKind.DEPLOY, m, None)
        for site in (None, m.site):
            table = self._candidates.setdefault(site, {})
            for capability in m.capabilities:
                bisect.insort(table[capability], m, key=_index)
        self._draw_failure(m, t)
        self._wake(m, t)
        for site in (None, m.site):
            for capability in sorted(m.capabilities):
                waiting = self._waiting.pop((site, capability), None)
                while waiting:
                    self._route(waiting.popleft(), t)

    def _retire(self, event: _Event) -> None:
        m: Station = event[3]
        self.now = t = event[0]
        if m.down & OFF:
            return
        m.retiring = True
        m.plain = False
        if self.trace is not None:
            self._record(TraceKind.RETIRE, m, None)
        for site in (None, m.site):
            for capability in m.capabilities:
                self._candidates[site][capability].remove(m)
        queue = m.queue
        m.q_out += t * len(queue)
        m.load -= len(queue)
        moved = list(queue)
        queue.clear()
        for job in moved:
            self._route(job, t)
        if m.phase == IDLE:
            self._take_down(m, t)

    def _take_down(self, m: Station, t: float) -> None:
        m.down |= OFF
        m.clock = None
        self._switch(m, t, m.observed_state())

    # ------------------------------------------------------------------ deadlock
    def _deadlock(self) -> DeadlockError:
        stuck: list[tuple[int, int, str, str]] = []
        for (site, capability), jobs in self._stuck.items():
            where = "any site" if site is None else f"site {site!r}"
            reason = f"no module of {where} offering {capability!r} is in service or deployed later"
            stuck.extend((job.idx, job.next_op, capability, reason) for job in jobs)
        stuck.sort()
        shown = "; ".join(f"job {j} operation {k} ({reason})" for j, k, _, reason in stuck[:10])
        more = f" and {len(stuck) - 10} more" if len(stuck) > 10 else ""
        return DeadlockError(
            f"deadlock at t={self.now:g}: {len(stuck)} operation(s) can never run: {shown}{more}", stuck
        )


def simulate(scenario: Scenario, *, trace: bool = False) -> SimulationResult:
    """Build the model of *scenario* and run it to the end (see `Simulation`)."""
    return Simulation(scenario, trace=trace).run()

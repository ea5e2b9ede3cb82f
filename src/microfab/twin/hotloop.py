"""The event loop of `Simulation` with the common case inlined: plain modules, no trace, exact durations.

A *plain* module has speed 1, one setup time for every family, full yield, a calendar failure
clock, resumes after repair and is not retiring; for it, the end of a setup, the completion of an operation, the
dispatch of the job's next operation and the start of the module's next one run here without
a method call per step, and a setup with the processing after it is one heap event (its end
is accounted for when the processing ends, or when a breakdown splits it:
`Simulation._split`). Everything else (failures, repairs, maintenance, outages, deploy, retire,
delivery, any other module) goes through the `Simulation` handlers, which implement the same
semantics in general; the tests run scenarios both ways and compare them event for event.
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import TYPE_CHECKING

from microfab.twin.stations import Job, Station

if TYPE_CHECKING:
    from microfab.twin.simulation import Simulation

# Event kinds and phases, as literals on the hot path (see `simulation` and `stations`).
_ARRIVE, _WORK_END = 0, 1
_IDLE, _SETUP, _EXECUTE = 0, 1, 2
_MERGED = 8  # length of a heap entry that ends a setup and the processing after it


def run_plain(sim: Simulation, until: float) -> None:  # noqa: C901, PLR0912, PLR0915 - one loop, inlined on purpose
    """Run *sim* until every job is delivered, *until*, or only stuck jobs are left."""
    heap = sim._heap
    handlers = sim._handlers
    nxt = sim._seq.__next__
    candidates = sim._candidates
    jobs = sim._jobs
    finish, park, start_general = sim._finish, sim._park, sim._start_next
    c = sim.counters
    n_jobs = len(jobs)

    def start(m: Station, t: float) -> None:
        job = m.queue.popleft()
        m.q_out += t
        m.job = job
        m.acc[_IDLE] += t - m.since  # an idle module that is up is in the idle state
        m.since = t
        if job.family != m.last_family:
            m.last_family = job.family
            if m.setup > 0:
                # One heap event for setup and processing (see `Simulation._split`).
                m.phase = m.state = _SETUP
                setup_end = t + m.setup
                length = job.durations[job.next_op]
                merged = (setup_end + length, nxt(), _WORK_END, m, t, m.setup, setup_end, length)
                m.pending = merged
                heappush(heap, merged)
                return
            m.setups += 1
        m.phase = m.state = _EXECUTE
        length = job.durations[job.next_op]
        m.pending = event = (t + length, nxt(), _WORK_END, m, t, length)
        heappush(heap, event)

    def route(job: Job, t: float) -> None:
        k = job.next_op
        capabilities = job.capabilities
        if k == len(capabilities):
            finish(job, t)
            return
        group = job.table[capabilities[k]]
        if not group:
            sim.now = t
            park(job, capabilities[k])
            return
        best = group[0]  # the first of the least loaded
        low = best.load
        if low:
            for other in group:
                if other.load < low:
                    best = other
                    low = other.load
                    if not low:
                        break
        queue = best.queue
        queue.append(job)
        best.q_in += t
        n = len(queue)
        best.q_max = max(best.q_max, n)
        best.load += 1
        if best.phase == _IDLE and not best.down:
            if best.plain:
                start(best, t)
            else:
                sim.now = t
                start_general(best, t)

    last = sim.now
    # The run is over when only stuck jobs are left: checked after whatever can finish or park a job.
    while heap:
        event = heap[0]
        t = event[0]
        if t > until:
            break
        heappop(heap)
        kind = event[2]
        if kind == _WORK_END:
            m = event[3]
            if event is not m.pending:
                continue
            if not m.plain:
                sim.now = t
                handlers[_WORK_END](event)
                if sim._open <= sim._stuck_count:
                    break
                continue
            last = t
            job = m.job
            if m.phase == _SETUP and len(event) == _MERGED:
                # Setup and processing are both over: account for the setup end first.
                setup_end = event[6]
                acc = m.acc
                acc[_SETUP] += setup_end - m.since
                acc[_EXECUTE] += t - setup_end
                m.setups += 1
                m.pending = m.job = None
                m.phase = m.state = _IDLE
                m.load -= 1
                m.completed += 1
                m.since = t
            elif m.phase == _SETUP:
                m.setups += 1
                m.last_family = job.family
                m.acc[_SETUP] += t - m.since
                m.since = t
                m.phase = m.state = _EXECUTE
                length = job.durations[job.next_op]
                m.pending = event = (t + length, nxt(), _WORK_END, m, t, length)
                heappush(heap, event)
                continue
            else:
                # The operation is done (and good: full yield); the module is idle for now.
                m.pending = m.job = None
                m.phase = m.state = _IDLE
                m.load -= 1
                m.completed += 1
                m.acc[_EXECUTE] += t - m.since
                m.since = t
            k = job.next_op
            m.ideal_done += job.durations[k]
            k += 1
            job.next_op = k  # (its attempt is 1: only a module off the fast path reworks)
            # Dispatch the job's next operation (as `route`, inlined).
            capabilities = job.capabilities
            if k == len(capabilities):
                finish(job, t)
                if sim._open <= sim._stuck_count:
                    last = t
                    break
            else:
                group = job.table[capabilities[k]]
                if not group:
                    sim.now = t
                    park(job, capabilities[k])
                    if sim._open <= sim._stuck_count:
                        break
                else:
                    best = group[0]  # the first of the least loaded (as `min`, with an early exit at 0)
                    low = best.load
                    if low:
                        for other in group:
                            if other.load < low:
                                best = other
                                low = other.load
                                if not low:
                                    break
                    queue = best.queue
                    queue.append(job)
                    best.q_in += t
                    n = len(queue)
                    best.q_max = max(best.q_max, n)
                    best.load += 1
                    if best is not m and best.phase == _IDLE and not best.down:
                        if best.plain:
                            start(best, t)
                        else:
                            sim.now = t
                            start_general(best, t)
            if m.queue and not m.down:
                # The module takes its next operation (as `start`, inlined).
                job = m.queue.popleft()
                m.q_out += t
                m.job = job
                if job.family != m.last_family:
                    m.last_family = job.family
                    if m.setup > 0:
                        m.phase = m.state = _SETUP
                        setup_end = t + m.setup
                        length = job.durations[job.next_op]
                        m.pending = event = (setup_end + length, nxt(), _WORK_END, m, t, m.setup, setup_end, length)
                        heappush(heap, event)
                        continue
                    m.setups += 1
                m.phase = m.state = _EXECUTE
                length = job.durations[job.next_op]
                m.pending = event = (t + length, nxt(), _WORK_END, m, t, length)
                heappush(heap, event)
        elif kind == _ARRIVE:
            last = t
            index = event[3]
            spec = jobs[index]
            job = Job(index, spec, t, candidates[spec.site])
            c.arrivals += 1
            route(job, t)
            if sim._open <= sim._stuck_count:
                break
            index += 1
            if index < n_jobs:
                heappush(heap, (jobs[index].release, nxt(), _ARRIVE, index))
        else:
            sim.now = t
            handlers[kind](event)
            if sim._open <= sim._stuck_count:
                break
    sim.now = max(sim.now, last)

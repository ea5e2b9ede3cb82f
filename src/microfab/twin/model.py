"""The twin of a set of container modules: queues, setups, variable processing, yield and breakdowns.

Each module runs one operation at a time from its own FIFO queue (rework jumps to the
front). A family change costs the module type's setup time; processing takes the job's
ideal time times a lognormal factor; the result is good with the type's yield.
Breakdowns follow a clock per module (exponential MTBF and MTTR), counted in calendar time or
in busy time (the type's `FailureClock`), and pre-empt the work in progress, which resumes or
restarts after repair (the type's `RepairPolicy`). The
module's state maps onto PackML (ISA-TR88.00.02): idle = Idle, setup and execute =
Execute, down = Held.
"""

from __future__ import annotations

import math
import random
from collections import deque
from datetime import datetime
from typing import Any, Final

from microfab.domain.errors import DomainError, UnknownReferenceError
from microfab.domain.modules import FailureClock, ModuleType, RepairPolicy
from microfab.twin.engine import Engine, EventHandle, Handler
from microfab.twin.records import (
    Arrived,
    Completed,
    Faulted,
    ModuleStats,
    Record,
    Repaired,
    Started,
    TwinJob,
)

IDLE: Final = "idle"
SETUP: Final = "setup"
EXECUTE: Final = "execute"
DOWN: Final = "down"

_STREAM_STRIDE: Final = 7919


class UnknownModuleError(UnknownReferenceError, KeyError):
    """The twin has no module of that name."""

    def __str__(self) -> str:
        return str(self.args[0])


class ModuleNotIdleError(DomainError, RuntimeError):
    """The module cannot be retired: it is working, has a queue or is down."""


class _Unit:
    """Mutable state of one simulated module (private: read it through `SimModel`)."""

    __slots__ = (
        "broken",
        "busy_clock",
        "busy_since",
        "clock",
        "completed",
        "down_seconds",
        "down_since",
        "execute_seconds",
        "failures",
        "good",
        "job",
        "job_setup",
        "kicked",
        "last_family",
        "length",
        "mtbf",
        "mttr",
        "name",
        "pending",
        "phase",
        "preemptions",
        "queue",
        "remaining",
        "restart",
        "rng",
        "setup",
        "setup_seconds",
        "setups",
        "since",
        "started",
        "ttf_left",
        "yield_rate",
    )

    def __init__(self, name: str, module_type: ModuleType, rng: random.Random) -> None:
        self.name = name
        self.rng = rng
        self.setup = float(module_type.setup_time.seconds)
        self.mtbf = float(module_type.mtbf.seconds)
        self.mttr = float(module_type.mttr.seconds)
        self.yield_rate = float(module_type.yield_rate)
        self.busy_clock = module_type.failure_clock is FailureClock.BUSY
        self.restart = module_type.repair_policy is RepairPolicy.RESTART
        self.ttf_left = math.inf  # busy clock: working time left before the next failure
        self.busy_since = 0.0
        self.length = 0.0  # of the setup or processing in progress (for a restart)
        self.queue: deque[TwinJob] = deque()
        self.phase: str = IDLE
        self.broken = False
        self.kicked = False
        self.job: TwinJob | None = None
        self.job_setup = 0.0
        self.last_family: str | None = None
        self.pending: EventHandle | None = None  # end of the current setup or processing
        self.clock: EventHandle | None = None  # next failure or repair
        self.remaining = 0.0
        self.since = 0.0
        self.down_since = 0.0
        self.setup_seconds = self.execute_seconds = self.down_seconds = 0.0
        self.setups = self.started = self.completed = self.good = self.failures = self.preemptions = 0

    def time_to_failure(self) -> float:
        return self.rng.expovariate(1.0 / self.mtbf)

    def time_to_repair(self) -> float:
        return self.rng.expovariate(1.0 / self.mttr) if self.mttr > 0 else 0.0


class SimModel:
    """A discrete-event twin of container modules, stepped record by record.

    Parameters
    ----------
    origin
        The wall-clock time of simulated time 0 (timezone-aware); records carry seconds since it.
    seed
        Seeds one `random.Random` stream per module: ``seed * 7919 + index`` (index = order of
        `add_module`). Same seed and same calls give the same records.
    variability
        Coefficient of variation of the processing-time factor, whose mean is
        ``1 + variability / 2`` (real work is usually slower than ideal); 0 gives exactly ideal.
    breakdowns
        Whether modules fail (exponential MTBF and MTTR of their type).
    """

    __slots__ = (
        "_engine",
        "_h_arrive",
        "_h_end",
        "_h_fail",
        "_h_repair",
        "_h_setup_end",
        "_kicks",
        "_mu",
        "_next_index",
        "_sigma",
        "_units",
        "breakdowns",
        "origin",
        "seed",
        "variability",
    )

    def __init__(self, origin: datetime, *, seed: int = 0, variability: float = 0.1, breakdowns: bool = True) -> None:
        if origin.tzinfo is None:
            raise ValueError("origin: expected a timezone-aware datetime")
        if not 0.0 <= variability < math.inf:
            raise ValueError(f"variability: expected a finite number >= 0, got {variability}")
        self.origin = origin
        self.seed = seed
        self.variability = variability
        self.breakdowns = breakdowns
        sigma2 = math.log(1.0 + variability * variability)
        self._sigma = math.sqrt(sigma2)
        self._mu = math.log(1.0 + variability / 2.0) - sigma2 / 2.0
        self._engine: Engine[Record] = Engine()
        self._units: dict[str, _Unit] = {}
        self._next_index = 0
        self._kicks: deque[_Unit] = deque()  # idle modules to pick their next job, at `now`
        # Bound once: scheduling a pre-bound method allocates no method object per event.
        self._h_setup_end = self._setup_end
        self._h_end = self._end
        self._h_fail = self._fail
        self._h_repair = self._repair
        self._h_arrive = self._arrive

    # ------------------------------------------------------------------ reading
    @property
    def now(self) -> float:
        """Simulated seconds since `origin`."""
        return self._engine.now

    @property
    def events_processed(self) -> int:
        """Heap events run so far: setup ends, completions, failures, repairs, arrivals (not cancelled ones)."""
        return self._engine.processed

    @property
    def events_scheduled(self) -> int:
        """Engine events scheduled so far, cancelled ones included."""
        return self._engine.scheduled

    @property
    def modules(self) -> tuple[str, ...]:
        """Names of the modules in service, in the order they were added."""
        return tuple(self._units)

    def module_state(self, name: str) -> str:
        """``"idle"``, ``"setup"``, ``"execute"`` or ``"down"``."""
        unit = self._unit(name)
        return DOWN if unit.broken else unit.phase

    def queue_length(self, name: str) -> int:
        """Operations waiting on *name* (not counting the one in progress)."""
        return len(self._unit(name).queue)

    def load(self, name: str) -> int:
        """Operations waiting on *name* plus one if an operation is in progress (even suspended)."""
        unit = self._unit(name)
        return len(unit.queue) + (unit.phase is not IDLE)

    def module_stats(self, name: str) -> ModuleStats:
        """Counters of *name* up to now, the time of the phase in progress included."""
        u = self._unit(name)
        now = self._engine.now
        setup, execute, down = u.setup_seconds, u.execute_seconds, u.down_seconds
        if u.broken:
            down += now - u.down_since
        elif u.phase is SETUP:
            setup += now - u.since
        elif u.phase is EXECUTE:
            execute += now - u.since
        return ModuleStats(
            name, setup, execute, down, u.setups, u.started, u.completed, u.good, u.failures, u.preemptions
        )

    # ------------------------------------------------------------------ changing
    def add_module(self, name: str, module_type: ModuleType, *, stream: random.Random | None = None) -> None:
        """Put a module of *module_type* in service now; its failure clock starts now.

        Parameters
        ----------
        stream
            Replaces the module's own random stream (``seed * 7919 + index``), e.g. to replay a
            reference scenario; its draws, in event order: time to failure at start and after each
            repair, time to repair at each failure, the processing factor at each start (only when
            variability > 0) and the inspection at each completion (only when yield < 1).
        """
        if name in self._units:
            raise ValueError(f"name: module {name!r} is already in the twin")
        if stream is None:
            stream = random.Random(self.seed * _STREAM_STRIDE + self._next_index)
        unit = _Unit(name, module_type, stream)
        self._next_index += 1
        self._units[name] = unit
        if self.breakdowns:
            self._draw_failure(unit)

    def remove_module(self, name: str) -> None:
        """Retire *name*; raise `ModuleNotIdleError` unless it is idle with an empty queue."""
        unit = self._unit(name)
        if unit.broken or unit.phase is not IDLE or unit.queue:
            state = DOWN if unit.broken else unit.phase
            raise ModuleNotIdleError(
                f"cannot retire module {name!r}: it is {state} with {len(unit.queue)} queued; retire it when idle"
            )
        if unit.clock is not None:
            Engine.cancel(unit.clock)
        del self._units[name]

    def submit(self, job: TwinJob) -> None:
        """Queue *job* on its module now (FIFO; ``job.priority`` puts it at the front)."""
        unit = self._unit(job.module)
        if job.priority:
            unit.queue.appendleft(job)
        else:
            unit.queue.append(job)
        if not unit.kicked and unit.phase is IDLE and not unit.broken:
            self._schedule_kick(unit)

    def ship(self, order_id: str, lane: str, lead_seconds: int) -> None:
        """Send a shipment of *order_id* over *lane*; it is reported `Arrived` after *lead_seconds*."""
        if lead_seconds < 0:
            raise ValueError(f"lead_seconds: expected >= 0, got {lead_seconds}")
        self._engine.schedule(float(lead_seconds), self._h_arrive, (order_id, lane))

    # ------------------------------------------------------------------ running
    def next_due(self) -> float:
        """Simulated time of the next pending event (`now` when a module is about to pick a job; inf if none).

        A lower bound on the next record's time: a driver pacing the twin by another clock
        waits until then (`microfab.drivers.composite`).
        """
        return self._engine.now if self._kicks else self._engine.peek()

    def next_record(self, until: float) -> Record | None:
        """Advance to the next record at or before *until* and return it.

        Returns None when nothing more is reported by *until*; `now` is then *until*. With
        breakdowns on, a failure is always pending, so only a finite *until* ends a run.
        Between calls a caller may `submit` or `ship` at the current `now`: a module
        picks its next job only after the caller has seen the record that freed it.
        """
        kicks = self._kicks
        if kicks:
            self._check_until(until)
            while kicks:
                record = self._kick(kicks.popleft())
                if record is not None:
                    return record
        return self._engine.step(until)

    def run_until(self, until: float) -> list[Record]:
        """Every record up to *until*, in order (with breakdowns, *until* must be finite)."""
        records: list[Record] = []
        step = self.next_record
        record = step(until)
        while record is not None:
            records.append(record)
            record = step(until)
        return records

    # ------------------------------------------------------------------ handlers
    def _unit(self, name: str) -> _Unit:
        try:
            return self._units[name]
        except KeyError:
            raise UnknownModuleError("module", name, list(self._units)) from None

    def _check_until(self, until: float) -> None:
        if until < self._engine.now:
            raise ValueError(f"until: expected >= now ({self._engine.now}), got {until}")

    def _schedule_kick(self, unit: _Unit) -> None:
        # Not a heap event: every kick is due now and runs at the start of the next
        # `next_record`, after the caller has reacted to the record that caused it.
        unit.kicked = True
        self._kicks.append(unit)

    def _kick(self, unit: _Unit) -> Record | None:
        unit.kicked = False
        if unit.broken or unit.phase is not IDLE or not unit.queue:  # pragma: no cover - defensive
            return None
        job = unit.queue.popleft()
        unit.job = job
        unit.started += 1
        if job.family != unit.last_family:
            unit.setups += 1
            unit.last_family = job.family
            if unit.setup > 0.0:
                unit.job_setup = unit.setup
                unit.phase = SETUP
                unit.since = self._engine.now
                unit.pending = self._work(unit, unit.setup, self._h_setup_end)
                return None
        unit.job_setup = 0.0
        return self._begin(unit, job)

    def _setup_end(self, unit: _Unit) -> Record:
        unit.setup_seconds += self._engine.now - unit.since
        job = unit.job
        assert job is not None
        return self._begin(unit, job)

    def _begin(self, unit: _Unit, job: TwinJob) -> Started:
        engine = self._engine
        work = float(job.ideal_seconds)
        if self._sigma > 0.0:
            work *= unit.rng.lognormvariate(self._mu, self._sigma)
        unit.phase = EXECUTE
        unit.since = now = engine.now
        unit.pending = self._work(unit, work, self._h_end)
        return Started(now, unit.name, job.operation_id, job.order_id, job.serial, unit.job_setup, job.attempt)

    def _end(self, unit: _Unit) -> Record:
        now = self._engine.now
        unit.execute_seconds += now - unit.since
        job = unit.job
        assert job is not None
        unit.job = None
        unit.pending = None
        unit.phase = IDLE
        self._clock_off(unit)
        good = unit.yield_rate >= 1.0 or unit.rng.random() < unit.yield_rate
        unit.completed += 1
        unit.good += good
        if unit.queue:
            self._schedule_kick(unit)
        return Completed(
            now, unit.name, job.operation_id, job.order_id, job.serial, good, job.attempt, job.ideal_seconds
        )

    def _work(self, unit: _Unit, length: float, handler: Handler[Record]) -> EventHandle:
        """Start a setup or processing of *length* seconds; a busy failure clock runs meanwhile."""
        unit.length = length
        pending = self._engine.schedule(length, handler, unit)
        self._clock_on(unit)
        return pending

    def _draw_failure(self, unit: _Unit) -> None:
        if unit.busy_clock:
            unit.ttf_left = unit.time_to_failure()
            if unit.pending is not None:
                self._clock_on(unit)
        else:
            unit.clock = self._engine.schedule(unit.time_to_failure(), self._h_fail, unit)

    def _clock_on(self, unit: _Unit) -> None:
        if unit.busy_clock and unit.clock is None and self.breakdowns and not unit.broken:
            unit.busy_since = self._engine.now
            unit.clock = self._engine.schedule(unit.ttf_left, self._h_fail, unit)

    def _clock_off(self, unit: _Unit) -> None:
        if unit.busy_clock and unit.clock is not None and not unit.broken:
            Engine.cancel(unit.clock)
            unit.ttf_left -= self._engine.now - unit.busy_since
            unit.clock = None

    def _fail(self, unit: _Unit) -> Record:
        engine = self._engine
        now = engine.now
        unit.broken = True
        unit.down_since = now
        unit.failures += 1
        pending = unit.pending
        if pending is not None:
            Engine.cancel(pending)
            unit.pending = None
            unit.remaining = Engine.due(pending) - now
            unit.preemptions += 1
            if unit.phase is SETUP:
                unit.setup_seconds += now - unit.since
            else:
                unit.execute_seconds += now - unit.since
        unit.clock = engine.schedule(unit.time_to_repair(), self._h_repair, unit)
        return Faulted(now, unit.name)

    def _repair(self, unit: _Unit) -> Record:
        engine = self._engine
        now = engine.now
        unit.broken = False
        unit.down_seconds += now - unit.down_since
        unit.clock = None
        self._draw_failure(unit)
        if unit.phase is not IDLE:
            unit.since = now
            handler = self._h_setup_end if unit.phase is SETUP else self._h_end
            remaining = unit.length if unit.restart else unit.remaining
            unit.pending = engine.schedule(remaining, handler, unit)
            self._clock_on(unit)
        elif unit.queue and not unit.kicked:
            self._schedule_kick(unit)
        return Repaired(now, unit.name)

    def _arrive(self, payload: Any) -> Record:
        order_id, lane = payload
        return Arrived(self._engine.now, order_id, lane)

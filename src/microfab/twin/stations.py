"""Mutable run-time state of one module and one job of a standalone run (private to `simulation`).

Plain ``__slots__`` classes, not dataclasses: the hot path reads and writes their fields
millions of times per run.
"""

from __future__ import annotations

import math
import random
from collections import deque
from typing import Any, Final

from microfab.twin.distributions import Sampler
from microfab.twin.scenario import FailureClock, JobSpec, RepairPolicy, StationSpec

# Phases of the work on a module.
IDLE: Final = 0
SETUP: Final = 1
EXECUTE: Final = 2

# Observed states, the time buckets of the statistics (index into `Station.acc`).
S_IDLE: Final = 0
S_SETUP: Final = 1
S_EXECUTE: Final = 2
S_DOWN: Final = 3
S_MAINTENANCE: Final = 4
S_OFF: Final = 5
STATE_NAMES: Final = ("idle", "setup", "execute", "down", "maintenance", "off")
"""Names of the observed states; PackML (ISA-TR88.00.02): Idle, Execute (setup and execute),
Held (down), Stopped (maintenance), Aborted (off: not deployed or retired)."""

# Reasons a module cannot work (bits of `Station.down`).
FAILED: Final = 1
MAINTAINED: Final = 2
OFF: Final = 4
FORCED: Final = 8  # a forced outage: unplanned downtime, like a breakdown


class Station:
    """One module during a run."""

    __slots__ = (
        "acc",
        "bad",
        "busy_clock",
        "busy_since",
        "capabilities",
        "clock",
        "completed",
        "down",
        "failures",
        "ideal_done",
        "idx",
        "interruptions",
        "job",
        "last_family",
        "load",
        "lost",
        "name",
        "outages",
        "pending",
        "phase",
        "phase_length",
        "plain",
        "preemptions",
        "q_in",
        "q_max",
        "q_out",
        "queue",
        "remaining",
        "repairs",
        "restart",
        "retiring",
        "setup",
        "setup_by_family",
        "setups",
        "since",
        "site",
        "spec",
        "speed",
        "state",
        "ttf",
        "ttf_left",
        "ttr",
        "yield_rate",
        "yield_rng",
    )

    def __init__(self, idx: int, spec: StationSpec, seed: int) -> None:
        self.idx = idx
        self.spec = spec
        self.name = spec.name
        self.site = spec.site
        self.capabilities = spec.capabilities
        self.setup = spec.setup
        self.setup_by_family: dict[Any, float] = dict(spec.setup_by_family)
        self.speed = spec.speed
        self.yield_rate = spec.yield_rate
        self.yield_rng = random.Random(f"{seed}:yield:{idx}")
        self.busy_clock = spec.failure_clock is FailureClock.BUSY
        self.restart = spec.repair_policy is RepairPolicy.RESTART
        # Plain modules take the inlined fast path of `hotloop.run_plain`.
        self.plain = spec.speed == 1.0 and not spec.setup_by_family and spec.yield_rate >= 1.0 and not self.busy_clock
        self.plain = self.plain and not self.restart
        stream = random.Random(seed + 1000 + idx)
        self.ttf: Sampler | None = None if spec.time_to_failure is None else spec.time_to_failure.sampler(stream)
        self.ttr: Sampler = spec.time_to_repair.sampler(stream)
        self.queue: deque[Job] = deque()
        self.load = 0  # queued + 1 while an operation is in setup, processing or suspended
        self.phase = IDLE
        self.down = OFF
        self.retiring = False
        self.job: Job | None = None
        self.last_family: object = None
        self.pending: tuple[Any, ...] | None = None  # the heap entry ending the current work segment
        self.clock: tuple[Any, ...] | None = None  # the heap entry of the next failure or repair
        self.remaining = 0.0
        self.phase_length = 0.0
        self.ttf_left = math.inf
        self.busy_since = 0.0
        self.state = S_OFF
        self.since = 0.0
        self.acc = [0.0] * len(STATE_NAMES)
        self.q_in = 0.0  # sum of the times operations joined the queue
        self.q_out = 0.0  # sum of the times they left it (queue area = q_out - q_in + len * now)
        self.q_max = 0
        self.ideal_done = 0.0
        self.lost = 0.0
        self.setups = self.completed = self.bad = 0
        self.failures = self.repairs = self.preemptions = self.interruptions = self.outages = 0

    @property
    def started(self) -> int:
        """Operations taken from the queue: those completed and the one in progress."""
        return self.completed + (self.job is not None)

    def setup_for(self, family: object) -> float:
        """Changeover time to *family*."""
        return self.setup_by_family.get(family, self.setup)

    def observed_state(self) -> int:
        """The statistics bucket the module is in now."""
        down = self.down
        if down & OFF:
            return S_OFF
        if down & MAINTAINED:
            return S_MAINTENANCE
        if down & (FAILED | FORCED):
            return S_DOWN
        return self.phase  # IDLE, SETUP and EXECUTE share their numbers with the buckets


class Job:
    """One job during a run: the operation it is at, its release and its inspection attempts."""

    __slots__ = (
        "attempt",
        "capabilities",
        "done_at",
        "durations",
        "family",
        "idx",
        "next_op",
        "release",
        "spec",
        "table",
    )

    def __init__(self, idx: int, spec: JobSpec, release: float, table: dict[str, list[Station]]) -> None:
        self.idx = idx
        self.spec = spec
        self.family = spec.family
        self.capabilities = spec.capabilities
        self.durations = spec.durations
        self.next_op = 0
        self.attempt = 1
        self.release = release
        self.done_at = math.nan
        self.table = table  # in-service modules of the job's site by capability

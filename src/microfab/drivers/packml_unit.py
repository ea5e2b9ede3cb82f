"""`PackMLUnit`: one simulated container module that follows the PackML state machine on a wall clock.

The unit plays a real machine with the twin's timing semantics (`microfab.twin.model`): a
setup of the module type's ``setup_time`` when the product family changes (spent in
Starting), processing of the job's ideal time times a lognormal factor (mean
``1 + variability / 2``, spent in Execute), and a good part with the type's yield (decided in
Completing). Simulated seconds become wall seconds times ``time_scale``. Transitions go
through `microfab.domain.modules.next_state` (ISA-TR88.00.02); acting states end with
StateComplete. A fault holds a unit in Execute (preempt-resume, like the twin, or
preempt-repeat when the type's ``repair_policy`` is ``restart``) and aborts it otherwise; a
repair unholds it, or clears and resets it back to Idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from microfab.domain.errors import InvalidTransitionError
from microfab.domain.modules import ModuleType, PackMLCommand, PackMLState, next_state
from microfab.drivers.opcua_model import STATE_NUMBERS

_log = logging.getLogger(__name__)

_S = PackMLState
_C = PackMLCommand

Publisher = Callable[[str, Mapping[str, object]], Awaitable[None]]
"""Writes variables of a module (name -> value, in order) to wherever clients read them."""


@dataclass(frozen=True, slots=True)
class Job:
    """The job loaded with ``LoadJob``: one operation of one unit."""

    operation_id: str
    order_id: str
    serial: str
    family: str
    ideal_seconds: float
    attempt: int = 1

    def __post_init__(self) -> None:
        for field in ("operation_id", "order_id", "serial", "family"):
            if not getattr(self, field):
                raise ValueError(f"{field}: expected a non-empty string")
        if not math.isfinite(self.ideal_seconds) or self.ideal_seconds < 0:
            raise ValueError(f"ideal_seconds: expected a finite number >= 0, got {self.ideal_seconds}")
        if self.attempt < 1:
            raise ValueError(f"attempt: expected >= 1, got {self.attempt}")


class JobNotLoadedError(InvalidTransitionError):
    """Start was commanded in Idle with no job loaded."""


class PackMLUnit:
    """One simulated module: PackML state, the loaded job, timing, yield and faults.

    Parameters
    ----------
    name
        The module's name (the object's browse name on the server).
    module_type
        Setup time, yield, MTBF and MTTR come from it.
    publish
        Called with the variables that changed; results are always published before the state.
    time_scale
        Wall seconds per simulated second (``0.001``: a simulated hour takes 3.6 s).
    variability
        Coefficient of variation of the processing-time factor, as in the twin; 0 gives exactly ideal.
    rng
        The unit's random stream (processing factor, inspection, breakdowns).
    """

    def __init__(
        self,
        name: str,
        module_type: ModuleType,
        publish: Publisher,
        *,
        time_scale: float = 1.0,
        variability: float = 0.1,
        rng: random.Random | None = None,
    ) -> None:
        if not (math.isfinite(time_scale) and time_scale >= 0):
            raise ValueError(f"time_scale: expected a finite number >= 0, got {time_scale}")
        if not (math.isfinite(variability) and variability >= 0):
            raise ValueError(f"variability: expected a finite number >= 0, got {variability}")
        self.name = name
        self.module_type = module_type
        self._publish = publish
        self._scale = time_scale
        self._rng = rng or random.Random(0)
        sigma2 = math.log(1.0 + variability * variability)
        self._sigma = math.sqrt(sigma2)
        self._mu = math.log(1.0 + variability / 2.0) - sigma2 / 2.0
        self.state = _S.IDLE
        self.job: Job | None = None
        self.faulted = False
        self.completed = 0
        self._last_family: str | None = None
        self._remaining = 0.0  # simulated seconds left of the phase interrupted by Hold or Suspend
        self._resume = False  # Execute resumes the interrupted processing instead of drawing a new one
        self._deadline = 0.0
        self._phase_total = 0.0
        # The type's repair policy when it declares one: "restart" loses the work done (preempt-repeat).
        self._restart = str(getattr(module_type, "repair_policy", "resume")) == "restart"
        self._timer: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def initial_values(self) -> dict[str, object]:
        """Every variable of the unit with its current value, for the server to create its nodes."""
        return {
            "ModuleType": self.module_type.name,
            "Faulted": self.faulted,
            "FaultReason": "",
            "CurrentOperationId": "",
            "SetupSeconds": 0.0,
            "LastOperationId": "",
            "LastGood": False,
            "LastAttempt": 0,
            "CompletedCount": self.completed,
            "StateCurrent": STATE_NUMBERS[self.state],
            "State": self.state.value,
        }

    # ------------------------------------------------------------------ commands
    async def load_job(self, job: Job) -> None:
        """Load the parameters of the next job; only in Idle (PackML recipe parameters)."""
        async with self._lock:
            if self.state is not _S.IDLE:
                raise InvalidTransitionError(f"LoadJob is only allowed in Idle, {self.name} is {self.state.value}")
            self.job = job

    async def command(self, command: PackMLCommand) -> None:
        """Apply a PackML *command*; raise `InvalidTransitionError` when the state does not allow it."""
        async with self._lock:
            await self._command(command)

    async def fault(self, reason: str) -> None:
        """A breakdown: hold the unit if it is executing (the job resumes after repair), else abort it."""
        async with self._lock:
            if self.faulted:
                return
            self.faulted = True
            await self._publish(self.name, {"Faulted": True, "FaultReason": reason})
            if self.state is _S.EXECUTE:
                await self._command(_C.HOLD)
            elif self.state not in (_S.ABORTING, _S.ABORTED):
                await self._command(_C.ABORT)

    async def repair(self) -> None:
        """End of a repair: unhold a held unit, or clear and reset an aborted one back to Idle."""
        async with self._lock:
            if not self.faulted:
                return
            self.faulted = False
            await self._publish(self.name, {"Faulted": False, "FaultReason": ""})
            if self.state is _S.HELD:
                await self._command(_C.UNHOLD)
            elif self.state is _S.ABORTED:
                await self._command(_C.CLEAR)
                await self._command(_C.RESET)

    async def close(self) -> None:
        """Cancel the phase in progress (the server is stopping)."""
        self._cancel_timer()

    # ------------------------------------------------------------------ the state machine
    async def _command(self, command: PackMLCommand) -> None:
        target = next_state(self.state, command)
        if command is _C.START and self.job is None:
            raise JobNotLoadedError(f"Start needs a job: call LoadJob first on {self.name}")
        if command in (_C.HOLD, _C.SUSPEND, _C.ABORT, _C.STOP):
            self._interrupt()
        await self._enter(target)

    async def _enter(self, state: PackMLState) -> None:
        """Publish *state* and run its activity; instantaneous acting states complete at once."""
        self.state = state
        values: dict[str, object] = {}
        if state is _S.STARTING:
            values = self._begin_job()
        elif state is _S.COMPLETING:
            values = self._finish_job()
        elif state in (_S.ABORTING, _S.STOPPING, _S.CLEARING):
            self.job = None
            self._resume = False
        values |= {"StateCurrent": STATE_NUMBERS[state], "State": state.value}
        await self._publish(self.name, values)
        if state is _S.STARTING or (state is _S.EXECUTE and self._resume):
            self._resume = False
            self._start_timer(self._remaining)
        elif state is _S.EXECUTE:
            self._start_timer(self._processing_seconds())
        elif state in _INSTANT:
            await self._enter(next_state(state, _C.STATE_COMPLETE))

    def _begin_job(self) -> dict[str, object]:
        job = self.job
        assert job is not None
        setup = 0.0
        if job.family != self._last_family:
            setup = float(self.module_type.setup_time.seconds)
            self._last_family = job.family
        self._remaining = setup
        return {"CurrentOperationId": job.operation_id, "SetupSeconds": setup}

    def _finish_job(self) -> dict[str, object]:
        job = self.job
        assert job is not None
        yield_rate = float(self.module_type.yield_rate)
        good = yield_rate >= 1.0 or self._rng.random() < yield_rate
        self.completed += 1
        self.job = None
        return {
            "CurrentOperationId": "",
            "LastOperationId": job.operation_id,
            "LastGood": good,
            "LastAttempt": job.attempt,
            "CompletedCount": self.completed,
        }

    def _processing_seconds(self) -> float:
        job = self.job
        assert job is not None
        work = job.ideal_seconds
        if self._sigma > 0.0:
            work *= self._rng.lognormvariate(self._mu, self._sigma)
        return work

    # ------------------------------------------------------------------ timing
    def _start_timer(self, simulated: float) -> None:
        self._phase_total = simulated
        loop = asyncio.get_running_loop()
        self._deadline = loop.time() + simulated * self._scale
        self._timer = asyncio.create_task(self._phase(simulated * self._scale), name=f"packml-{self.name}")

    async def _phase(self, wall: float) -> None:
        if wall > 0:
            await asyncio.sleep(wall)
        async with self._lock:
            self._timer = None
            try:
                await self._enter(next_state(self.state, _C.STATE_COMPLETE))
            except Exception:  # a failed publish must not kill the unit silently
                _log.exception("module %s: state complete failed in %s", self.name, self.state.value)

    def _interrupt(self) -> None:
        """Stop the phase timer and keep the simulated time left (resumed by Unhold or Unsuspend)."""
        timer = self._timer
        if timer is None:
            return
        left = max(0.0, self._deadline - asyncio.get_running_loop().time())
        self._remaining = left / self._scale if self._scale > 0 else 0.0
        if self._restart:
            self._remaining = self._phase_total
        self._resume = self.state is _S.EXECUTE
        self._cancel_timer()

    def _cancel_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()

    async def breakdowns(self) -> None:
        """Fail and repair forever with the type's exponential MTBF and MTTR (run it as a task)."""
        mtbf = float(self.module_type.mtbf.seconds)
        mttr = float(self.module_type.mttr.seconds)
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                await asyncio.sleep(self._rng.expovariate(1.0 / mtbf) * self._scale)
                await self.fault("breakdown (simulated)")
                await asyncio.sleep((self._rng.expovariate(1.0 / mttr) if mttr > 0 else 0.0) * self._scale)
                await self.repair()


# Acting states that take no time in the simulation (Starting, Execute and Completing are timed or decide).
_INSTANT = frozenset(
    {
        _S.COMPLETING,
        _S.RESETTING,
        _S.HOLDING,
        _S.UNHOLDING,
        _S.SUSPENDING,
        _S.UNSUSPENDING,
        _S.STOPPING,
        _S.ABORTING,
        _S.CLEARING,
    }
)

"""Container module types and deployed modules, with the PackML state machine.

PackML states and commands follow ISA-TR88.00.02-2022 (the OMAC "state model"): a module
is one PackML unit; commands move it between the 17 states.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from decimal import Decimal

from microfab.domain.errors import InvalidTransitionError
from microfab.domain.quantities import Duration, Money


class PackMLState(enum.StrEnum):
    """The 17 PackML states (ISA-TR88.00.02, clause 5.2)."""

    STOPPED = "Stopped"
    STARTING = "Starting"
    IDLE = "Idle"
    SUSPENDING = "Suspending"
    SUSPENDED = "Suspended"
    UNSUSPENDING = "Unsuspending"
    EXECUTE = "Execute"
    STOPPING = "Stopping"
    ABORTING = "Aborting"
    ABORTED = "Aborted"
    HOLDING = "Holding"
    HELD = "Held"
    UNHOLDING = "Unholding"
    COMPLETING = "Completing"
    COMPLETE = "Complete"
    RESETTING = "Resetting"
    CLEARING = "Clearing"


class PackMLCommand(enum.StrEnum):
    """PackML commands plus the "state complete" (SC) signal of acting states."""

    START = "Start"
    STOP = "Stop"
    RESET = "Reset"
    HOLD = "Hold"
    UNHOLD = "Unhold"
    SUSPEND = "Suspend"
    UNSUSPEND = "Unsuspend"
    ABORT = "Abort"
    CLEAR = "Clear"
    STATE_COMPLETE = "StateComplete"


_S = PackMLState
_C = PackMLCommand

# Acting states end with StateComplete; wait states change on a command.
_TRANSITIONS: dict[tuple[PackMLState, PackMLCommand], PackMLState] = {
    (_S.STOPPED, _C.RESET): _S.RESETTING,
    (_S.RESETTING, _C.STATE_COMPLETE): _S.IDLE,
    (_S.IDLE, _C.START): _S.STARTING,
    (_S.STARTING, _C.STATE_COMPLETE): _S.EXECUTE,
    (_S.EXECUTE, _C.STATE_COMPLETE): _S.COMPLETING,
    (_S.COMPLETING, _C.STATE_COMPLETE): _S.COMPLETE,
    (_S.COMPLETE, _C.RESET): _S.RESETTING,
    (_S.EXECUTE, _C.HOLD): _S.HOLDING,
    (_S.HOLDING, _C.STATE_COMPLETE): _S.HELD,
    (_S.HELD, _C.UNHOLD): _S.UNHOLDING,
    (_S.UNHOLDING, _C.STATE_COMPLETE): _S.EXECUTE,
    (_S.EXECUTE, _C.SUSPEND): _S.SUSPENDING,
    (_S.SUSPENDING, _C.STATE_COMPLETE): _S.SUSPENDED,
    (_S.SUSPENDED, _C.UNSUSPEND): _S.UNSUSPENDING,
    (_S.UNSUSPENDING, _C.STATE_COMPLETE): _S.EXECUTE,
    (_S.STOPPING, _C.STATE_COMPLETE): _S.STOPPED,
    (_S.ABORTING, _C.STATE_COMPLETE): _S.ABORTED,
    (_S.ABORTED, _C.CLEAR): _S.CLEARING,
    (_S.CLEARING, _C.STATE_COMPLETE): _S.STOPPED,
}
_STOPPABLE = frozenset(set(PackMLState) - {_S.STOPPED, _S.STOPPING, _S.ABORTING, _S.ABORTED, _S.CLEARING})
_ABORTABLE = frozenset(set(PackMLState) - {_S.ABORTING, _S.ABORTED})


def next_state(state: PackMLState, command: PackMLCommand) -> PackMLState:
    """Return the state *command* leads to from *state*, or raise `InvalidTransitionError`."""
    if command is PackMLCommand.ABORT and state in _ABORTABLE:
        return PackMLState.ABORTING
    if command is PackMLCommand.STOP and state in _STOPPABLE:
        return PackMLState.STOPPING
    try:
        return _TRANSITIONS[(state, command)]
    except KeyError:
        raise InvalidTransitionError(f"PackML command {command.value} is not allowed in state {state.value}") from None


class FailureClock(enum.StrEnum):
    """What a module's time to failure counts: all calendar time, or only time spent working."""

    CALENDAR = "calendar"
    BUSY = "busy"


class RepairPolicy(enum.StrEnum):
    """What happens to the setup or operation a breakdown interrupted, once repaired."""

    RESUME = "resume"
    """Go on with the time that was left (preempt-resume)."""
    RESTART = "restart"
    """Start the setup or operation over (preempt-repeat): the work done is lost."""


@dataclass(frozen=True, slots=True)
class ModuleType:
    """A container module design, like an image: what it can do, how fast, how reliable, what it costs.

    Parameters
    ----------
    capabilities
        Capability names the module offers (``mill``, ``inspect``...).
    speed
        Multiplier on a routing step's standard time (``1.25`` = 25 % faster).
    setup_time
        Changeover when the product family changes.
    mtbf, mttr
        Mean time between failures and to repair (exponential in the twin).
    yield_rate
        Share of operations that come out good, in (0, 1].
    failure_clock, repair_policy
        Whether the time to failure runs on the calendar or on busy time, and whether work
        interrupted by a breakdown resumes or restarts after repair.
    capex_per_month, deploy_cost
        What one container of this type costs per month while deployed (lease or depreciation)
        and once to build, ship and commission; None when not declared (expansion planning,
        `microfab.planning.expand`, does not deploy such a type).
    """

    name: str
    capabilities: frozenset[str]
    speed: Decimal
    setup_time: Duration
    mtbf: Duration
    mttr: Duration
    yield_rate: Decimal
    cost_per_hour: Money
    deploy_lead_time: Duration
    slots: int = 1
    failure_clock: FailureClock = FailureClock.CALENDAR
    repair_policy: RepairPolicy = RepairPolicy.RESUME
    capex_per_month: Money | None = None
    deploy_cost: Money | None = None

    def __post_init__(self) -> None:
        if not self.capabilities:
            raise ValueError("capabilities: expected at least one capability")
        if self.speed <= 0:
            raise ValueError(f"speed: expected > 0, got {self.speed}")
        if not Decimal(0) < self.yield_rate <= 1:
            raise ValueError(f"yield_rate: expected in (0, 1], got {self.yield_rate}")
        if self.mtbf.seconds <= 0:
            raise ValueError("mtbf: expected > 0")
        if self.slots < 1:
            raise ValueError(f"slots: expected >= 1, got {self.slots}")
        for label, money in (("capex_per_month", self.capex_per_month), ("deploy_cost", self.deploy_cost)):
            if money is not None and money.amount < 0:
                raise ValueError(f"{label}: expected >= 0, got {money}")

    def processing_time(self, standard: Duration) -> Duration:
        """Time this type needs for a step of *standard* time (rounded up to whole seconds)."""
        exact = Decimal(standard.seconds) / self.speed
        return Duration(int(exact.to_integral_value(rounding="ROUND_CEILING")))


@dataclass(frozen=True, slots=True)
class Module:
    """One deployed module at a site, like a pod: identity, type, PackML state."""

    name: str
    module_type: str
    site: str
    state: PackMLState = PackMLState.IDLE
    endpoint: str | None = None

    def command(self, command: PackMLCommand) -> Module:
        """Return the module after *command*; raise `InvalidTransitionError` if not allowed."""
        return replace(self, state=next_state(self.state, command))

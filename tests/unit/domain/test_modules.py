"""PackML state machine (ISA-TR88.00.02) and module types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from microfab.domain.errors import InvalidTransitionError
from microfab.domain.modules import Module, ModuleType, PackMLCommand, PackMLState, next_state
from microfab.domain.quantities import Duration, Money

S = PackMLState
C = PackMLCommand


def test_production_cycle_returns_to_idle() -> None:
    cycle = [
        (C.START, S.STARTING),
        (C.STATE_COMPLETE, S.EXECUTE),
        (C.STATE_COMPLETE, S.COMPLETING),
        (C.STATE_COMPLETE, S.COMPLETE),
        (C.RESET, S.RESETTING),
        (C.STATE_COMPLETE, S.IDLE),
    ]
    module = Module("mill-1", "cnc-mill", "porto")
    assert module.state is S.IDLE
    for command, expected in cycle:
        module = module.command(command)
        assert module.state is expected
    assert module == Module("mill-1", "cnc-mill", "porto")


@pytest.mark.parametrize(
    ("path", "end"),
    [
        ([C.HOLD, C.STATE_COMPLETE, C.UNHOLD, C.STATE_COMPLETE], S.EXECUTE),
        ([C.SUSPEND, C.STATE_COMPLETE, C.UNSUSPEND, C.STATE_COMPLETE], S.EXECUTE),
        ([C.STOP, C.STATE_COMPLETE, C.RESET, C.STATE_COMPLETE], S.IDLE),
        ([C.ABORT, C.STATE_COMPLETE, C.CLEAR, C.STATE_COMPLETE], S.STOPPED),
    ],
)
def test_interruptions_from_execute(path: list[PackMLCommand], end: PackMLState) -> None:
    state = S.EXECUTE
    for command in path:
        state = next_state(state, command)
    assert state is end


@pytest.mark.parametrize("state", sorted(set(S) - {S.ABORTING, S.ABORTED}))
def test_abort_from_anywhere_else(state: PackMLState) -> None:
    assert next_state(state, C.ABORT) is S.ABORTING


@pytest.mark.parametrize("state", [S.ABORTING, S.ABORTED])
def test_no_abort_while_aborting_or_aborted(state: PackMLState) -> None:
    with pytest.raises(InvalidTransitionError, match=f"Abort is not allowed in state {state.value}"):
        next_state(state, C.ABORT)


@pytest.mark.parametrize("state", [S.STOPPED, S.STOPPING, S.ABORTING, S.ABORTED, S.CLEARING])
def test_no_stop_outside_the_stoppable_states(state: PackMLState) -> None:
    with pytest.raises(InvalidTransitionError):
        next_state(state, C.STOP)


@pytest.mark.parametrize(
    ("state", "command"),
    [
        (S.IDLE, C.STATE_COMPLETE),
        (S.IDLE, C.HOLD),
        (S.EXECUTE, C.START),
        (S.STOPPED, C.START),
        (S.HELD, C.UNSUSPEND),
        (S.COMPLETE, C.START),
        (S.ABORTED, C.RESET),
    ],
)
def test_invalid_transitions_raise(state: PackMLState, command: PackMLCommand) -> None:
    with pytest.raises(InvalidTransitionError, match=f"{command.value}.*{state.value}"):
        next_state(state, command)


def test_module_command_leaves_the_original_alone() -> None:
    module = Module("mill-1", "cnc-mill", "porto")
    started = module.command(C.START)
    assert (module.state, started.state) == (S.IDLE, S.STARTING)
    with pytest.raises(InvalidTransitionError):
        module.command(C.UNHOLD)


def module_type(**overrides: Any) -> ModuleType:
    fields: dict[str, Any] = {
        "name": "cnc-mill",
        "capabilities": frozenset({"mill"}),
        "speed": Decimal(1),
        "setup_time": Duration.parse("10m"),
        "mtbf": Duration.parse("120h"),
        "mttr": Duration.parse("4h"),
        "yield_rate": Decimal("0.98"),
        "cost_per_hour": Money(Decimal("12.50"), "EUR"),
        "deploy_lead_time": Duration.parse("6w"),
    }
    return ModuleType(**(fields | overrides))


@pytest.mark.parametrize(
    ("speed", "standard", "expected"),
    [("1", 900, 900), ("1.25", 900, 720), ("1.5", 100, 67), ("3", 10, 4), ("0.5", 7, 14), ("2", 1, 1)],
)
def test_processing_time_rounds_up(speed: str, standard: int, expected: int) -> None:
    assert module_type(speed=Decimal(speed)).processing_time(Duration(standard)) == Duration(expected)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"capabilities": frozenset()}, "capabilities"),
        ({"speed": Decimal(0)}, "speed"),
        ({"yield_rate": Decimal(0)}, "yield_rate"),
        ({"yield_rate": Decimal("1.01")}, "yield_rate"),
        ({"mtbf": Duration(0)}, "mtbf"),
        ({"slots": 0}, "slots"),
    ],
)
def test_module_type_validation_names_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        module_type(**overrides)

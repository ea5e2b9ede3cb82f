"""The OPC UA address space a microfab module server exposes, shared by the server and `OpcUaDriver`.

Each module is one object under ``Objects/Modules`` in the namespace `NAMESPACE_URI`. Its
variables and methods have string node ids ``"<module>.<name>"`` so a client builds them
without browsing. The state is published twice: as the PackML state name (``State``) and as
the numeric ``StateCurrent`` of the PackML companion specification (OPC 30050, PackTags
``Status.StateCurrent``, numbering of ISA-TR88.00.02 table 1).
"""

from __future__ import annotations

from typing import Final

from asyncua import ua
from asyncua.ua.status_codes import StatusCodes

from microfab.domain.modules import PackMLState

NAMESPACE_URI: Final = "urn:microfab:packml"
"""Namespace of every module node."""

MODULES_FOLDER: Final = "Modules"

# Variables, in the order a client must subscribe to them: a result is always written before
# the state that announces it, and the server publishes changes of one cycle in first-change
# order, so a client that creates the monitored items in this order sees the result first.
VARIABLES: Final = (
    "ModuleType",
    "Faulted",
    "FaultReason",
    "CurrentOperationId",
    "SetupSeconds",
    "LastOperationId",
    "LastGood",
    "LastAttempt",
    "CompletedCount",
    "StateCurrent",
    "State",
)
"""Variables of a module object."""

METHODS: Final = ("LoadJob", "Start", "Stop", "Hold", "Unhold", "Suspend", "Unsuspend", "Abort", "Reset", "Clear")
"""Methods of a module object; all but ``LoadJob`` are PackML commands and take no argument."""

STATE_NUMBERS: Final[dict[PackMLState, int]] = {
    PackMLState.CLEARING: 1,
    PackMLState.STOPPED: 2,
    PackMLState.STARTING: 3,
    PackMLState.IDLE: 4,
    PackMLState.SUSPENDED: 5,
    PackMLState.EXECUTE: 6,
    PackMLState.STOPPING: 7,
    PackMLState.ABORTING: 8,
    PackMLState.ABORTED: 9,
    PackMLState.HOLDING: 10,
    PackMLState.HELD: 11,
    PackMLState.UNHOLDING: 12,
    PackMLState.SUSPENDING: 13,
    PackMLState.UNSUSPENDING: 14,
    PackMLState.RESETTING: 15,
    PackMLState.COMPLETING: 16,
    PackMLState.COMPLETE: 17,
}
"""PackML ``StateCurrent`` numbers (ISA-TR88.00.02 table 1, OPC 30050); 0 is Undefined."""

STATE_BY_NUMBER: Final = {number: state for state, number in STATE_NUMBERS.items()}


def node_name(module: str, member: str) -> str:
    """The string identifier of *member* (a variable or method) of *module*."""
    return f"{module}.{member}"


def node_id(identifier: str, namespace: int) -> ua.NodeId:
    """A string node id in *namespace*."""
    return ua.NodeId(ua.String(identifier), ua.Int16(namespace))


def status(code: int) -> ua.StatusCode:
    """A `ua.StatusCode` from one of `StatusCodes` (``status(StatusCodes.BadInvalidState)``)."""
    return ua.StatusCode(ua.UInt32(code))


__all__ = ["STATE_BY_NUMBER", "STATE_NUMBERS", "StatusCodes", "node_id", "node_name", "status"]

"""The digital twin: a pure discrete-event simulation of container modules (no I/O).

`SimModel` simulates modules with queues, setups, variable processing times, yield and
breakdowns on a small heap-based `Engine`; it is stepped one `Record` at a time so that
a controller can react to each record, as it would to a real module's event.
"""

from microfab.twin.engine import Engine, EventHandle, Handler
from microfab.twin.model import ModuleNotIdleError, SimModel, UnknownModuleError
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

__all__ = [
    "Arrived",
    "Completed",
    "Engine",
    "EventHandle",
    "Faulted",
    "Handler",
    "ModuleNotIdleError",
    "ModuleStats",
    "Record",
    "Repaired",
    "SimModel",
    "Started",
    "TwinJob",
    "UnknownModuleError",
]

"""The digital twin: a pure discrete-event simulation of container modules and networks (no I/O).

Two ways in:

- `SimModel` is stepped one `Record` at a time so that a controller can react to each record
  as it would to a real module's event (it backs `microfab.drivers.SimDriver`).
- `Simulation` runs a whole `Scenario` standalone, with dispatch rules inside the model, for
  speed studies, replications and sweeps: breakdowns on a calendar or busy clock with resume
  or restart, setups by family, yield and rework, maintenance windows (planned downtime) and
  forced outage windows (unplanned), deploy / retire at a time, lane transit; statistics (time
  per state, ISO 22400 OEE, queues, flow, on-time delivery) and a columnar `Trace` for Gantt
  charts and replay.
"""

from microfab.domain.modules import FailureClock, RepairPolicy
from microfab.twin.distributions import Constant, Distribution, Exponential, Lognormal, Uniform, Weibull
from microfab.twin.engine import Engine, EventHandle, Handler
from microfab.twin.model import ModuleNotIdleError, SimModel, UnknownModuleError
from microfab.twin.network import stations_of
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
from microfab.twin.scenario import JobSpec, Scenario, ScenarioError, StationSpec, Window
from microfab.twin.scenarios import mf_ref_1, run_mf_ref_1
from microfab.twin.simulation import DeadlockError, Simulation, simulate
from microfab.twin.stats import Buckets, ModuleReport, SimulationResult
from microfab.twin.trace import Bar, Trace, TraceKind

__all__ = [
    "Arrived",
    "Bar",
    "Buckets",
    "Completed",
    "Constant",
    "DeadlockError",
    "Distribution",
    "Engine",
    "EventHandle",
    "Exponential",
    "FailureClock",
    "Faulted",
    "Handler",
    "JobSpec",
    "Lognormal",
    "ModuleNotIdleError",
    "ModuleReport",
    "ModuleStats",
    "Record",
    "RepairPolicy",
    "Repaired",
    "Scenario",
    "ScenarioError",
    "SimModel",
    "Simulation",
    "SimulationResult",
    "Started",
    "StationSpec",
    "Trace",
    "TraceKind",
    "TwinJob",
    "Uniform",
    "UnknownModuleError",
    "Weibull",
    "Window",
    "mf_ref_1",
    "run_mf_ref_1",
    "simulate",
    "stations_of",
]

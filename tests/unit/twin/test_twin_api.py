from __future__ import annotations

import dataclasses

import pytest

import microfab.twin
from microfab.twin import Arrived, Completed, Faulted, ModuleStats, Repaired, Started, TwinJob


def test_public_api_is_pinned() -> None:
    assert sorted(microfab.twin.__all__) == [
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


@pytest.mark.parametrize("cls", [TwinJob, Started, Completed, Faulted, Repaired, Arrived, ModuleStats])
def test_records_are_frozen_slotted_dataclasses(cls: type) -> None:
    assert dataclasses.is_dataclass(cls)
    assert "__slots__" in vars(cls)
    assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_record_fields() -> None:
    names = {cls.__name__: [f.name for f in dataclasses.fields(cls)] for cls in (Started, Completed, TwinJob)}
    assert names == {
        "Started": ["t", "module", "operation_id", "order_id", "serial", "setup_seconds", "attempt"],
        "Completed": ["t", "module", "operation_id", "order_id", "serial", "good", "attempt", "ideal_seconds"],
        "TwinJob": [
            "operation_id",
            "order_id",
            "serial",
            "module",
            "family",
            "ideal_seconds",
            "attempt",
            "priority",
        ],
    }

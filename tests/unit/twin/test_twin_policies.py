"""Failure clock and repair policy from the manifests, in the stepped twin (the driver's) and the standalone model."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from microfab.domain.modules import FailureClock, ModuleType, RepairPolicy
from microfab.manifests import ManifestErrors, load_network
from microfab.twin import Completed, Faulted, SimModel, Started, TwinJob
from microfab.twin.distributions import Exponential
from microfab.twin.network import stations_of
from microfab.twin.scenario import JobSpec, Scenario, Window
from microfab.twin.simulation import simulate

ROOT = Path(__file__).resolve().parents[3]
TypeFactory = Callable[..., ModuleType]


def job(op: str, ideal: int) -> TwinJob:
    return TwinJob(op, "o", "s", "m1", "A", ideal)


def with_policy(kind: ModuleType, clock: FailureClock, policy: RepairPolicy) -> ModuleType:
    return dataclasses.replace(kind, failure_clock=clock, repair_policy=policy)


def test_busy_clock_idle_module_never_fails(origin: datetime, make_type: TypeFactory) -> None:
    model = SimModel(origin, variability=0.0, seed=1)
    model.add_module("m1", with_policy(make_type(mtbf=100, mttr=10), FailureClock.BUSY, RepairPolicy.RESUME))
    assert model.run_until(1e6) == []
    model.submit(job("a", 1_000))
    records = model.run_until(2e6)
    assert any(isinstance(r, Faulted) for r in records)
    assert model.module_stats("m1").completed == 1


@pytest.mark.parametrize("policy", list(RepairPolicy))
def test_resume_keeps_the_work_restart_loses_it(origin: datetime, make_type: TypeFactory, policy: RepairPolicy) -> None:
    model = SimModel(origin, variability=0.0, seed=5)
    model.add_module("m1", with_policy(make_type(mtbf=3_000, mttr=600), FailureClock.CALENDAR, policy))
    for i in range(100):
        model.submit(job(str(i), 500))
    records = model.run_until(1e8)
    stats = model.module_stats("m1")
    assert stats.completed == 100
    assert stats.preemptions > 5
    assert sum(isinstance(r, Started) for r in records) == sum(isinstance(r, Completed) for r in records) == 100
    if policy is RepairPolicy.RESUME:
        assert stats.execute_seconds == pytest.approx(100 * 500)
    else:
        assert stats.execute_seconds > 100 * 500 + 100  # work done before each breakdown is lost


def network_copy(tmp_path: Path, extra: str) -> Path:
    folder = tmp_path / "network"
    shutil.copytree(ROOT / "examples" / "network", folder)
    types = folder / "module-types.yaml"
    text = types.read_text()
    types.write_text(text.replace("  deployLeadTime: 45d\n", f"  deployLeadTime: 45d\n{extra}", 1))
    return folder


def test_manifest_fields_reach_the_domain_and_the_standalone_model(tmp_path: Path) -> None:
    network = load_network(network_copy(tmp_path, "  failureClock: busy\n  repairPolicy: restart\n"))
    mill = network.module_types["cnc-mill"]
    assert (mill.failure_clock, mill.repair_policy) == (FailureClock.BUSY, RepairPolicy.RESTART)
    others = [t for name, t in network.module_types.items() if name != "cnc-mill"]
    assert {(t.failure_clock, t.repair_policy) for t in others} == {(FailureClock.CALENDAR, RepairPolicy.RESUME)}
    first = sorted(network.modules)[0]
    stations = stations_of(network, maintenance={first: [Window(3_600.0, 1_800.0)]}, retire_at={first: 50_000.0})
    assert [s.name for s in stations] == sorted(network.modules)
    by_name = {s.name: s for s in stations}
    for module in network.modules.values():
        spec = by_name[module.name]
        kind = network.module_types[module.module_type]
        assert spec.site == module.site
        assert spec.capabilities == kind.capabilities
        assert spec.time_to_failure == Exponential(float(kind.mtbf.seconds))
        assert (spec.failure_clock, spec.repair_policy) == (kind.failure_clock, kind.repair_policy)
    assert by_name[first].maintenance == (Window(3_600.0, 1_800.0),)
    capability = sorted(by_name[first].capabilities)[0]
    jobs = [JobSpec(600.0 * i, i % 2, (capability,), (900.0,)) for i in range(50)]
    result = simulate(Scenario("network", stations, jobs, seed=3))
    assert result.jobs_done == 50
    assert {b.name for b in result.sites} == {m.site for m in network.modules.values()}
    with pytest.raises(ValueError, match="no module named 'nope'"):
        stations_of(network, deploy_at={"nope": 1.0})


def test_a_bad_failure_clock_is_a_manifest_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestErrors) as info:
        load_network(network_copy(tmp_path, "  failureClock: sometimes\n"))
    assert "failureClock" in str(info.value.errors[0])

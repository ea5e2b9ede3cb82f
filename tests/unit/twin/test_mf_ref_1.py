"""MF-REF-1 (shared/benchmarks/twin) reproduced exactly, and the fast path equal to the general handlers."""

from __future__ import annotations

import dataclasses
import importlib
import random
import re
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest

from microfab.twin.distributions import Exponential, Lognormal, Uniform
from microfab.twin.scenario import FailureClock, RepairPolicy, Scenario, Window
from microfab.twin.scenarios import mf_ref_1, run_mf_ref_1
from microfab.twin.simulation import Simulation
from tests.support.shared import shared_dir

FIGURES = (
    "makespan_min",
    "jobs_done",
    "ops_done",
    "setups",
    "failures",
    "preemptions",
    "mean_flow_time_min",
    "model_events",
)


@pytest.fixture(name="peer", scope="module")
def fixture_peer() -> Iterator[ModuleType]:
    folder = str(shared_dir("benchmarks", "twin"))
    sys.path.insert(0, folder)
    try:
        yield importlib.import_module("mfsim_simpy")
    finally:
        sys.path.remove(folder)


def readme_figures() -> dict[str, float]:
    text = (shared_dir("benchmarks", "twin") / "README.md").read_text()
    return {k: float(v) for k, v in re.findall(r"^\| (\w+) \| ([0-9.]+) \|$", text, flags=re.MULTILINE)}


def test_1000_jobs_match_the_published_figures_exactly() -> None:
    figures, _ = run_mf_ref_1(1_000)
    expected = readme_figures()
    assert set(FIGURES) <= set(expected)
    assert {k: figures[k] for k in FIGURES} == {k: expected[k] for k in FIGURES}  # floats to the last digit


@pytest.mark.parametrize(("jobs", "seed"), [(1_000, 20261124), (1_500, 7), (300, 12345)])
def test_matches_the_simpy_peer_exactly_for_other_counts_and_seeds(
    peer: ModuleType, monkeypatch: pytest.MonkeyPatch, jobs: int, seed: int
) -> None:
    scenario_module = sys.modules["mfsim_scenario"]
    monkeypatch.setattr(scenario_module, "SEED", seed)
    monkeypatch.setattr(scenario_module.make_jobs, "__defaults__", (scenario_module.N_JOBS, seed))
    monkeypatch.setattr(scenario_module.failure_stream, "__defaults__", (seed,))
    theirs = peer.simulate(jobs)
    ours, _ = run_mf_ref_1(jobs, seed)
    assert {k: ours[k] for k in FIGURES} == {k: theirs[k] for k in FIGURES}


def variant(scenario: Scenario, k: int) -> Scenario:
    """MF-REF-1 with every feature off the fast path mixed in, module by module."""
    stations = list(scenario.stations)
    for i, s in enumerate(stations):
        change: dict[str, object] = {}
        if i % 5 == k % 5:
            change["repair_policy"] = RepairPolicy.RESTART
        if i % 4 == k % 4:
            change["failure_clock"] = FailureClock.BUSY
        if i % 7 == 3:
            change["maintenance"] = (Window(300.0 + 17 * i, 45.0), Window(2_000.0, 120.0))
        if i % 9 == 5:
            change["outages"] = (Window(700.0 + 13 * i, 60.0), Window(2_050.0, 30.0))
        if i % 6 == 1:
            change["yield_rate"] = 0.9
        if i == 4:
            change["deploy_at"] = 500.0
        if i == 9:
            change["retire_at"] = 1_500.0
        if i % 8 == 2:
            change["speed"] = 1.25
            change["setup_by_family"] = ((2, 9.0),)
            change["time_to_repair"] = Uniform(10.0, 50.0)
        stations[i] = dataclasses.replace(s, **change)  # type: ignore[arg-type]
    return dataclasses.replace(scenario, stations=tuple(stations))


@pytest.mark.parametrize("k", range(3))
def test_fast_path_and_general_handlers_agree_on_every_feature(k: int) -> None:
    scenario = variant(mf_ref_1(800, seed=k), k)
    fast = Simulation(scenario).run()
    general = Simulation(scenario, general=True).run()
    assert fast == general
    assert fast.jobs_done == 800
    assert fast.failures > 50


def test_variability_and_traces_do_not_change_the_plain_figures() -> None:
    scenario = dataclasses.replace(mf_ref_1(500), variability=0.3)
    assert Simulation(scenario).run() == Simulation(scenario, trace=True).run()
    assert Simulation(scenario).run() != Simulation(mf_ref_1(500)).run()


def test_exponential_and_lognormal_draw_like_the_random_module() -> None:
    a, b = random.Random(5), random.Random(5)
    draw = Exponential(480.0).sampler(a)
    assert [draw() for _ in range(3)] == [b.expovariate(1 / 480.0) for _ in range(3)]
    mu, sigma = Lognormal(10.0, 0.5).mu_sigma
    draw = Lognormal(10.0, 0.5).sampler(a)
    assert [draw() for _ in range(3)] == [b.lognormvariate(mu, sigma) for _ in range(3)]

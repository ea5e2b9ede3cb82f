"""Named scenarios built from the twin's own classes, for speed studies and replications.

MF-REF-1 is the reference scenario of ``shared/benchmarks/twin/mfsim_scenario.py`` (its
docstring is the specification): 20 modules in 4 capability groups, Poisson releases, 3 to 5
operations per job, lognormal processing, a 5-minute setup on family change, calendar-clock
breakdowns (exponential MTBF 480 min, MTTR 30 min) with preempt-resume, least-load dispatch.
It runs in minutes (``time_unit=60``), so its figures match the reference implementation's
exactly, and every random number is drawn in the order the specification states.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from typing import Any, Final

from microfab.twin.distributions import Constant, Exponential
from microfab.twin.scenario import JobSpec, Scenario, StationSpec
from microfab.twin.simulation import Simulation
from microfab.twin.stats import SimulationResult

MF_REF_1_SEED: Final = 20261124
MF_REF_1_JOBS: Final = 10_000


def mf_ref_1(jobs: int = MF_REF_1_JOBS, seed: int = MF_REF_1_SEED) -> Scenario:
    """The MF-REF-1 scenario with *jobs* jobs; *seed* seeds the jobs and (``seed + 1000 + m``) module *m*."""
    if jobs < 1:
        raise ValueError(f"jobs: expected >= 1, got {jobs}")
    groups, per_group, families = 4, 5, 6
    interarrival_rate = 1.0 / 4.0
    sigma2 = math.log(1.0 + 0.5**2)
    mu, sigma = math.log(10.0) - sigma2 / 2.0, math.sqrt(sigma2)
    failure, repair = Exponential(480.0), Exponential(30.0)
    stations = tuple(
        StationSpec(
            name=f"m{m:02d}",
            capabilities=frozenset({f"g{m // per_group}"}),
            setup=5.0,
            time_to_failure=failure,
            time_to_repair=repair,
        )
        for m in range(groups * per_group)
    )
    names = tuple(f"g{g}" for g in range(groups))
    rng = random.Random(seed)
    expovariate, randrange, randint, lognormvariate = rng.expovariate, rng.randrange, rng.randint, rng.lognormvariate
    specs: list[JobSpec] = []
    now = 0.0
    for _ in range(jobs):
        now += expovariate(interarrival_rate)
        family = randrange(families)
        caps: list[str] = []
        durations: list[float] = []
        for _ in range(randint(3, 5)):
            caps.append(names[randrange(groups)])
            durations.append(lognormvariate(mu, sigma))
        specs.append(JobSpec(now, family, tuple(caps), tuple(durations)))
    return Scenario("MF-REF-1", stations, specs, seed=seed, time_unit=60.0)


def run_mf_ref_1(
    jobs: int = MF_REF_1_JOBS, seed: int = MF_REF_1_SEED, *, trace: bool = False
) -> tuple[dict[str, Any], SimulationResult]:
    """Build and run MF-REF-1; return the reference figures (minutes) and the full result.

    ``wall_s`` covers building the model from the scenario and running it; drawing the jobs is
    excluded, as in the reference implementation.
    """
    scenario = mf_ref_1(jobs, seed)
    started = time.perf_counter()
    result = Simulation(scenario, trace=trace).run()
    wall = time.perf_counter() - started
    to_min = scenario.time_unit / 60.0
    figures = {
        "makespan_min": result.makespan * to_min,
        "jobs_done": result.jobs_done,
        "ops_done": result.ops_done,
        "setups": result.setups,
        "failures": result.failures,
        "preemptions": result.preemptions,
        "mean_flow_time_min": result.mean_flow_time * to_min,
        "model_events": result.model_events,
        "wall_s": wall,
        "model_events_per_s": result.model_events / wall,
    }
    return figures, result


def constant_line(jobs: int = 100, seed: int = 0) -> Scenario:
    """A tiny deterministic line (two modules in series, no failures): a smoke test for sweeps."""
    stations = (
        StationSpec("a", frozenset({"cut"}), setup=1.0, time_to_failure=None, time_to_repair=Constant(0.0)),
        StationSpec("b", frozenset({"join"}), setup=1.0, time_to_failure=Exponential(200.0)),
    )
    specs = [JobSpec(5.0 * i, i % 2, ("cut", "join"), (3.0, 4.0)) for i in range(jobs)]
    return Scenario("line", stations, specs, seed=seed)


SCENARIOS: Final[dict[str, Callable[[int, int], Scenario]]] = {"mf-ref-1": mf_ref_1, "line": constant_line}
"""Scenario builders by name: ``build(jobs, seed)``."""

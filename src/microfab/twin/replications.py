"""Replications and sweeps: N seeds x M scenario variants, aggregated with confidence intervals.

This module is pure: `tasks` lists the runs, `run_task` runs one (a top-level function, so a
process pool or a Ray cluster can ship it), `aggregate` turns the figures of the replications
of one variant into means with Student-t confidence intervals. Executors (local processes,
Ray) and progress bars live on the interface side (``microfab.cli.twin``).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from microfab.twin.distributions import Constant, Exponential
from microfab.twin.scenario import FailureClock, RepairPolicy, Scenario, StationSpec
from microfab.twin.scenarios import SCENARIOS
from microfab.twin.simulation import simulate

# Two-sided 97.5 % quantiles of Student's t for 1..30 degrees of freedom.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip

OVERRIDES = ("mtbf", "mttr", "setup", "speed", "yield_rate", "failure_clock", "repair_policy")
"""Station parameters a sweep may set on every module of a scenario."""


@dataclass(frozen=True, slots=True)
class Task:
    """One replication: scenario *name* with *jobs* jobs and *seed*, with *overrides* on every module."""

    scenario: str
    jobs: int
    seed: int
    overrides: tuple[tuple[str, str], ...] = ()

    @property
    def variant(self) -> str:
        """The scenario and its overrides, without the seed: the key replications are grouped by."""
        extra = ",".join(f"{k}={v}" for k, v in self.overrides)
        return f"{self.scenario}[{extra}]" if extra else self.scenario


@dataclass(frozen=True, slots=True)
class Estimate:
    """Mean of *n* replications with the half width of its 95 % confidence interval (nan for n = 1)."""

    mean: float
    half_width: float
    n: int

    @property
    def low(self) -> float:
        """Lower end of the interval."""
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        """Upper end of the interval."""
        return self.mean + self.half_width

    def as_json(self) -> dict[str, float | int | None]:
        """``{mean, half_width, low, high, n}``; the interval's figures null when undefined (one replication)."""
        finite = math.isfinite(self.half_width)
        return {
            "mean": self.mean,
            "half_width": self.half_width if finite else None,
            "low": self.low if finite else None,
            "high": self.high if finite else None,
            "n": self.n,
        }


def t_quantile(df: int) -> float:
    """The 97.5 % quantile of Student's t with *df* degrees of freedom (two-sided 95 %)."""
    if df < 1:
        raise ValueError(f"df: expected >= 1, got {df}")
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959964
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df * df)


def estimate(values: Sequence[float]) -> Estimate:
    """Mean and 95 % confidence half width of *values*."""
    n = len(values)
    if n == 0:
        raise ValueError("values: expected at least one replication")
    mean = statistics.fmean(values)
    if n == 1:
        return Estimate(mean, math.nan, 1)
    return Estimate(mean, t_quantile(n - 1) * statistics.stdev(values) / math.sqrt(n), n)


def tasks(
    scenarios: Iterable[str],
    *,
    seeds: Iterable[int],
    jobs: int,
    grid: Mapping[str, Sequence[str]] | None = None,
) -> list[Task]:
    """Every scenario x every combination of *grid* values x every seed."""
    seeds = list(seeds)
    combos: list[tuple[tuple[str, str], ...]] = [()]
    for key, values in (grid or {}).items():
        if key not in OVERRIDES:
            raise ValueError(f"grid: unknown parameter {key!r}; expected one of {', '.join(OVERRIDES)}")
        combos = [(*c, (key, v)) for c in combos for v in values]
    out: list[Task] = []
    for name in scenarios:
        if name not in SCENARIOS:
            raise ValueError(f"scenario: unknown {name!r}; expected one of {', '.join(sorted(SCENARIOS))}")
        out.extend(Task(name, jobs, seed, combo) for combo in combos for seed in seeds)
    for task in out[:1]:
        build(task)  # bad overrides fail here, before anything is shipped to workers
    return out


def _override(spec: StationSpec, key: str, value: str) -> StationSpec:
    if key == "failure_clock":
        return replace(spec, failure_clock=FailureClock(value))
    if key == "repair_policy":
        return replace(spec, repair_policy=RepairPolicy(value))
    number = float(value)
    if key == "mtbf":
        return replace(spec, time_to_failure=Exponential(number))
    if key == "mttr":
        return replace(spec, time_to_repair=Exponential(number) if number > 0 else Constant(0.0))
    numbers = {"setup": spec.setup, "speed": spec.speed, "yield_rate": spec.yield_rate}
    numbers[key] = number
    return replace(spec, setup=numbers["setup"], speed=numbers["speed"], yield_rate=numbers["yield_rate"])


def build(task: Task) -> Scenario:
    """The scenario of *task*, overrides applied."""
    scenario = SCENARIOS[task.scenario](task.jobs, task.seed)
    stations = scenario.stations
    for key, value in task.overrides:
        try:
            stations = tuple(_override(s, key, value) for s in stations)
        except ValueError as exc:
            raise ValueError(f"{key}={value}: {exc}") from None
    return replace(scenario, stations=stations)


def run_task(task: Task) -> dict[str, Any]:
    """Run one replication; return its figures with the variant, the seed and the wall time."""
    started = time.perf_counter()
    result = simulate(build(task))
    figures: dict[str, Any] = dict(result.figures())
    figures.update(variant=task.variant, seed=task.seed, wall_s=time.perf_counter() - started)
    return figures


def aggregate(results: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Estimate]]:
    """Group replications by variant and estimate every numeric figure (seed and wall time excluded)."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in results:
        groups.setdefault(str(row["variant"]), []).append(row)
    out: dict[str, dict[str, Estimate]] = {}
    for variant, rows in groups.items():
        keys = [k for k, v in rows[0].items() if isinstance(v, int | float) and k not in {"seed", "wall_s"}]
        out[variant] = {k: estimate([float(r[k]) for r in rows]) for k in keys}
    return out

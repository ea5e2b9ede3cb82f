"""Capacity expansion: the MILP on HiGHS beside the greedy baseline, on the example and on generated instances.

The example: ``examples/network`` under ``examples/forecast/forecast.yaml`` (5 sites x 8 module
types x 12 months), built from the manifests and solved to a 0.01 % gap (the target: well under
10 s). Generated: `microfab.planning.expand_generator.generate` (seeded), 10 sites x 8 module
types x 24 months x 20 markets x 5 families, solved by `expand_milp` (10 s, gap 0.5 %,
2 threads) and by the peer baseline in the same run, `expand_greedy` (marginal analysis: add
the module with the largest verified saving per money spent until none saves); every plan goes
through the independent validator. Each solve runs 3 times; the table shows medians.
``python -m benchmarks expansion`` runs seeds 0-2 (``--quick``: seed 0); ``MICROFAB_BENCH_LIMIT``
overrides the time limit.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from microfab.control.expand import expansion_problem
from microfab.control.forecast import load_forecast
from microfab.manifests import load_network
from microfab.planning.expand import expand_milp
from microfab.planning.expand_generator import generate
from microfab.planning.expand_greedy import expand_greedy
from microfab.planning.expand_problem import ExpansionPlan, ExpansionProblem
from microfab.planning.expand_validate import validate

SIZE = {"sites": 10, "types": 8, "periods": 24, "markets": 20, "families": 5}
RUNS = 3
ROOT = Path(__file__).resolve().parents[1]


def _checked(problem: ExpansionProblem, plan: ExpansionPlan, label: str) -> ExpansionPlan:
    issues = validate(problem, plan)
    if issues:
        raise SystemExit(f"{label}: invalid {plan.solver} plan: {issues[:3]}")
    return plan


def _median(problem: ExpansionProblem, solve: Callable[[], ExpansionPlan], label: str) -> tuple[ExpansionPlan, float]:
    """The last plan of RUNS solves (each validated) and the median wall time."""
    times, plan = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        plan = _checked(problem, solve(), label)
        times.append(time.perf_counter() - started)
    assert plan is not None
    return plan, statistics.median(times)


def _example() -> tuple[ExpansionProblem, float]:
    started = time.perf_counter()
    network = load_network(ROOT / "examples" / "network")
    forecast = load_forecast(ROOT / "examples" / "forecast" / "forecast.yaml", network)
    problem = expansion_problem(network, forecast).problem
    return problem, time.perf_counter() - started


def main(*, quick: bool = False) -> None:
    """Print the MILP-vs-greedy table with medians of 3 runs."""
    limit = float(os.environ.get("MICROFAB_BENCH_LIMIT", "10"))
    seeds = [0] if quick else [0, 1, 2]
    table = Table(
        "instance", "variables", "constraints", "MILP s", "status", "gap", "MILP objective", "greedy objective",
        "greedy s", "greedy / MILP", "deploys", "greedy deploys", "served", "greedy served",
        title=f"Capacity expansion: MILP (HiGHS, {limit:g} s, 2 threads) vs greedy marginal analysis, {RUNS} runs",
    )  # fmt: skip
    problem, build = _example()
    rows = [(f"example (build {build:.2f} s)", problem, 1e-4)]
    rows += [(f"seed {seed}", generate(**SIZE, seed=seed), 0.005) for seed in seeds]
    ratios, walls, gaps = [], [], []
    for label, instance, gap in rows:
        plan, wall = _median(instance, lambda i=instance, g=gap: expand_milp(i, time_limit=limit, gap=g), label)
        greedy, greedy_wall = _median(instance, lambda i=instance: expand_greedy(i), label)
        ratio = greedy.objective / plan.objective
        if label.startswith("seed"):
            ratios.append(ratio)
            walls.append(wall)
            gaps.append(plan.gap or 0.0)
        table.add_row(
            label, f"{plan.variables:,}", f"{plan.constraints:,}", f"{wall:.2f}", plan.status.value,
            f"{plan.gap or 0.0:.3%}", f"{plan.objective:,.0f}", f"{greedy.objective:,.0f}", f"{greedy_wall:.2f}",
            f"{ratio:.4f}", str(sum(c.count for c in plan.deployments)), str(sum(c.count for c in greedy.deployments)),
            f"{plan.served_share(instance):.2%}", f"{greedy.served_share(instance):.2%}",
        )  # fmt: skip
    if len(ratios) > 1:
        table.add_row(
            "median", "", "", f"{statistics.median(walls):.2f}", "", f"{statistics.median(gaps):.3%}", "", "", "",
            f"{statistics.median(ratios):.4f}", "", "", "", "",
        )  # fmt: skip
    Console(width=200).print(table)


if __name__ == "__main__":
    main()

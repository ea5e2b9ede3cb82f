"""Allocation: the MILP on HiGHS beside the greedy baseline, on generated 1,000 orders x 10 sites x 30 days.

Target from the issue: solved to a 1 % gap in 10 s on 2 cores. Each instance
(`microfab.planning.generator.generate`, seeded) is solved by `allocate_milp` (10 s, gap 1 %,
2 threads) and by the peer baseline in the same run, `allocate_greedy` (each order, earliest due
first, to its cheapest site and bucket with room); both plans go through the independent
validator. The gap is to the MILP's proven lower bound. Every seed runs twice: with every order
there from the start (``later`` 0, the instances the target was set on) and with the generator's
default share of orders released later (release dates: more windows of capacity to respect).
``python -m benchmarks planning`` runs seeds 0-2 (``--quick``: seed 0);
``MICROFAB_BENCH_LIMIT`` overrides the time limit.
"""

from __future__ import annotations

import os
import statistics

from rich.console import Console
from rich.table import Table

from microfab.planning.generator import RELEASED, generate
from microfab.planning.greedy import allocate_greedy
from microfab.planning.milp import allocate_milp
from microfab.planning.problem import AllocationPlan, AllocationProblem
from microfab.planning.validate import validate

ORDERS, SITES, BUCKETS = 1000, 10, 30


def _checked(problem: AllocationProblem, plan: AllocationPlan, seed: int) -> AllocationPlan:
    issues = validate(problem, plan)
    if issues:
        raise SystemExit(f"seed {seed}: invalid {plan.solver} plan: {issues[:3]}")
    return plan


def main(*, quick: bool = False) -> None:
    """Print the MILP-vs-greedy table with medians."""
    limit = float(os.environ.get("MICROFAB_BENCH_LIMIT", "10"))
    seeds = [0] if quick else [0, 1, 2]
    table = Table(
        "later", "seed", "variables", "constraints", "wall s", "status", "gap", "MILP objective",
        "greedy objective", "greedy s", "improvement", "served", "greedy served",
        title=f"Allocation {ORDERS} orders x {SITES} sites x {BUCKETS} days: MILP (HiGHS, {limit:g} s, 2 threads) "
        "vs greedy",
    )  # fmt: skip
    for released in (0.0, RELEASED):
        rows: list[tuple[float, float, float]] = []
        for seed in seeds:
            problem = generate(ORDERS, SITES, BUCKETS, seed=seed, released=released)
            plan = _checked(problem, allocate_milp(problem, time_limit=limit, gap=0.01, threads=2), seed)
            greedy = _checked(problem, allocate_greedy(problem), seed)
            better = (greedy.objective - plan.objective) / greedy.objective
            gap = plan.gap if plan.gap is not None else float("nan")
            rows.append((plan.runtime, gap, better))
            later = sum(o.release > 0 for o in problem.orders)
            table.add_row(
                str(later), str(seed), f"{plan.variables:,}", f"{plan.constraints:,}", f"{plan.runtime:.2f}",
                plan.status.value, f"{gap:.2%}", f"{plan.objective:,.0f}", f"{greedy.objective:,.0f}",
                f"{greedy.runtime:.2f}", f"{better:.1%}", str(len(plan.assignments)), str(len(greedy.assignments)),
            )  # fmt: skip
        if len(rows) > 1:
            wall, gap, better = (statistics.median(column) for column in zip(*rows, strict=True))
            table.add_row("", "median", "", "", f"{wall:.2f}", "", f"{gap:.2%}", "", "", "", f"{better:.1%}", "", "")
    Console(width=180).print(table)


if __name__ == "__main__":
    main()

"""microfab's scheduler vs the plain CP-SAT FJSP baseline of shared/, same instances, limit and workers.

The baseline runs as its own process, exactly as shipped; ours runs through
`microfab.scheduling.solve` and every schedule is checked by the independent validator.
Figures are medians over several runs (these machines are noisy).
"""

from __future__ import annotations

import csv
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from microfab.scheduling import solve, validate
from microfab.scheduling.fjs import parse_fjs

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "fjsp"
BASELINE = SHARED / "baseline" / "cpsat_fjsp.py"


def _bounds() -> dict[str, int]:
    with (SHARED / "brandimarte" / "bks.csv").open() as handle:
        return {row["instance"]: int(row["ub"]) for row in csv.DictReader(handle)}


def _ours(path: Path, limit: float, workers: int) -> tuple[int, float]:
    problem = parse_fjs(path.read_text())
    start = time.perf_counter()
    result = solve(problem, time_limit=limit, workers=workers, seed=0)
    wall = time.perf_counter() - start
    violations = validate(problem, result.placements)
    if violations:
        raise SystemExit(f"{path.name}: invalid schedule: {violations[:3]}")
    assert result.objective is not None
    makespan = max(p.end for p in result.placements)
    return makespan, wall


def _baseline(path: Path, limit: float, workers: int) -> tuple[int, float]:
    out = subprocess.run(
        [sys.executable, str(BASELINE), str(path), "--time-limit", str(limit), "--workers", str(workers)],
        check=True,
        capture_output=True,
        text=True,
    )
    row = out.stdout.strip().splitlines()[-1].split(",")
    return int(row[1]), float(row[5])


def main(*, quick: bool = False) -> None:
    instances = ["Mk01", "Mk02", "Mk04"] if quick else ["Mk01", "Mk02", "Mk03", "Mk04", "Mk05", "Mk06"]
    runs, limit, workers = (1, 2.0, 2) if quick else (3, 5.0, 2)
    bounds = _bounds()
    console = Console()
    table = Table(
        "instance",
        "bound",
        "microfab makespan",
        "baseline makespan",
        "gap ours %",
        "gap base %",
        "ours/base",
        "wall ours s",
        "wall base s",
        title=f"FJSP (Brandimarte), CP-SAT {limit:g} s, {workers} workers, median of {runs}",
    )
    ratios = []
    for name in instances:
        path = SHARED / "brandimarte" / f"{name}.fjs"
        ours = [_ours(path, limit, workers) for _ in range(runs)]
        base = [_baseline(path, limit, workers) for _ in range(runs)]
        mo, mb = statistics.median(m for m, _ in ours), statistics.median(m for m, _ in base)
        bound = bounds[name]
        ratios.append(mo / mb)
        table.add_row(
            name,
            str(bound),
            f"{mo:g}",
            f"{mb:g}",
            f"{100 * (mo - bound) / bound:.1f}",
            f"{100 * (mb - bound) / bound:.1f}",
            f"{mo / mb:.3f}",
            f"{statistics.median(w for _, w in ours):.2f}",
            f"{statistics.median(w for _, w in base):.2f}",
        )
    console.print(table)
    console.print(
        f"geometric-mean makespan ratio ours/baseline: {statistics.geometric_mean(ratios):.3f} (< 1 is better)"
    )

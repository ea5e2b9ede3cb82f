"""microfab's scheduler vs the plain CP-SAT FJSP baseline of shared/, same instances, limit and workers.

The baseline runs as its own process, exactly as shipped; ours runs through
`microfab.scheduling.solve` and every schedule is checked by the independent validator.
Gaps are to the best known makespans (``bks.csv``). A second table times a site-sized
problem (2,000 operations on 20 modules with setups and due dates): first valid schedule,
model build, and the solve.

``python -m benchmarks scheduler`` runs Mk01-Mk10 at 10 s and 2 workers, one run each;
``MICROFAB_BENCH_RUNS`` (median of several runs; ours and the baseline alternate; our run k uses seed k),
``MICROFAB_BENCH_LIMIT`` and ``MICROFAB_BENCH_INSTANCES`` (comma-separated) override.
``MICROFAB_BENCH_SET`` picks another standard set from ``benchmarks/data/fjsp/`` (``hurink_rdata``,
``dauzere_paulli``; see its README): the same settings must do as well there as on Brandimarte.
"""

from __future__ import annotations

import csv
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from microfab.scheduling import (
    Criterion,
    Objective,
    SchedulingProblem,
    Setup,
    Task,
    greedy_schedule,
    lower_bound,
    solve,
    validate,
)
from microfab.scheduling.cpsat import CpSatModel, constraints
from microfab.scheduling.evaluate import makespan
from microfab.scheduling.fjs import parse_fjs
from microfab.scheduling.heuristics import padded_setups

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "fjsp"
BASELINE = SHARED / "baseline" / "cpsat_fjsp.py"
ALL = [f"Mk{i:02d}" for i in range(1, 11)]
MORE = Path(__file__).resolve().parent / "data" / "fjsp"


def _folder(name: str) -> Path:
    """The folder of a set: ``brandimarte`` (shared) or one of ``benchmarks/data/fjsp/``."""
    folder = SHARED / "brandimarte" if name == "brandimarte" else MORE / name
    if not (folder / "bks.csv").is_file():
        known = ", ".join(["brandimarte", *sorted(p.name for p in MORE.iterdir() if p.is_dir())])
        raise SystemExit(f"MICROFAB_BENCH_SET={name!r}: unknown set (known: {known})")
    return folder


def _bounds(folder: Path) -> dict[str, int]:
    with (folder / "bks.csv").open() as handle:
        return {row["instance"]: int(row["ub"]) for row in csv.DictReader(handle)}


def _ours(path: Path, limit: float, workers: int, seed: int = 0) -> tuple[int, float]:
    problem = parse_fjs(path.read_text())
    start = time.perf_counter()
    result = solve(problem, time_limit=limit, workers=workers, seed=seed)
    wall = time.perf_counter() - start
    violations = validate(problem, result.schedule)
    if violations or result.objective is None:
        raise SystemExit(f"{path.name}: invalid schedule: {violations[:3]}")
    return result.objective, wall


def _baseline(path: Path, limit: float, workers: int) -> tuple[int, float]:
    out = subprocess.run(
        [sys.executable, str(BASELINE), str(path), "--time-limit", str(limit), "--workers", str(workers)],
        check=True,
        capture_output=True,
        text=True,
    )
    row = out.stdout.strip().splitlines()[-1].split(",")
    return int(row[1]), float(row[5])


def site_problem(seed: int = 0, operations: int = 2000, modules: int = 20) -> SchedulingProblem:
    """A site-sized problem: units of 3-6 steps over 5 capabilities, 6 families, setups, releases, due dates."""
    rng = random.Random(seed)
    capabilities = [f"c{i}" for i in range(5)]
    names = [f"M{i:02d}" for i in range(modules)]
    offers = {m: capabilities[i % len(capabilities)] for i, m in enumerate(names)}
    speed = {m: rng.uniform(0.8, 1.25) for m in names}
    tasks: list[Task] = []
    unit = 0
    while len(tasks) < operations:
        unit += 1
        family, previous = f"f{rng.randrange(6)}", None
        steps = min(rng.randint(3, 6), operations - len(tasks))
        for step in range(steps):
            capability, standard = rng.choice(capabilities), rng.randint(60, 900)
            durations = {m: max(1, round(standard / speed[m])) for m in names if offers[m] == capability}
            task_id = f"U{unit}#{step:02d}"
            last = step == steps - 1
            tasks.append(
                Task(
                    task_id,
                    f"U{unit}",
                    durations,
                    (previous,) if previous else (),
                    release=rng.choice([0, 0, rng.randint(0, 3600)]),
                    due=rng.randint(3600, 16 * 3600) if last else None,
                    weight=rng.randint(1, 3),
                    family=family,
                )
            )
            previous = task_id
    return SchedulingProblem(
        tuple(tasks),
        tuple(names),
        setups={m: Setup(rng.randint(60, 300)) for m in names},
        objective=Objective(({Criterion.WEIGHTED_TARDINESS: 100, Criterion.MAKESPAN: 10},)),
    )


def _scale(console: Console, limit: float, workers: int) -> None:
    problem = site_problem()
    started = time.perf_counter()
    first = greedy_schedule(problem)
    first_s = time.perf_counter() - started
    valid = not validate(problem, first)
    started = time.perf_counter()
    padded = padded_setups(problem, constraints.CIRCUIT_LIMIT)
    model = CpSatModel(problem, horizon=makespan(first), floor=lower_bound(problem), padded=padded)
    model.minimise(0)
    build_s = time.perf_counter() - started
    result = solve(problem, time_limit=limit, workers=workers)
    table = Table("operations", "modules", "first valid s", "valid", "model build s", "solve s", "status", "makespan")
    table.title = f"Site-sized problem (setups, releases, due dates), {limit:g} s, {workers} workers"
    table.add_row(
        str(len(problem.tasks)),
        str(len(problem.modules)),
        f"{first_s:.2f}",
        str(valid and not validate(problem, result.schedule)),
        f"{build_s:.2f}",
        f"{result.runtime:.2f}",
        result.status.value,
        str(result.objective),
    )
    console.print(table)


def main(*, quick: bool = False) -> None:
    """Print the side-by-side table (quick: 3 instances at 2 s) and the site-sized timing."""
    chosen = os.environ.get("MICROFAB_BENCH_SET", "brandimarte")
    folder = _folder(chosen)
    bounds = _bounds(folder)
    default = (["Mk01", "Mk02", "Mk04"] if quick else ALL) if chosen == "brandimarte" else sorted(bounds)
    instances = os.environ.get("MICROFAB_BENCH_INSTANCES", ",".join(default)).split(",")
    runs = int(os.environ.get("MICROFAB_BENCH_RUNS", "1"))
    limit = float(os.environ.get("MICROFAB_BENCH_LIMIT", "2" if quick else "10"))
    workers = 2
    console = Console(width=150)
    table = Table(
        "instance",
        "best known",
        "microfab",
        "baseline",
        "gap ours %",
        "gap base %",
        "valid",
        "wall ours s",
        "wall base s",
        title=f"FJSP ({chosen}), {limit:g} s, {workers} workers, median of {runs} run(s)",
    )
    gaps_ours, gaps_base = [], []
    for name in instances:
        path = folder / f"{name}.fjs"
        ours, base = [], []
        for run in range(runs):  # alternate, so that a change in the machine's load hits both alike
            ours.append(_ours(path, limit, workers, seed=run))  # run k: seed k (the baseline varies by timing)
            base.append(_baseline(path, limit, workers))
        mo, mb = statistics.median(m for m, _ in ours), statistics.median(m for m, _ in base)
        bound = bounds[name]
        gaps_ours.append(100 * (mo - bound) / bound)
        gaps_base.append(100 * (mb - bound) / bound)
        table.add_row(
            name,
            str(bound),
            f"{mo:g}",
            f"{mb:g}",
            f"{gaps_ours[-1]:.1f}",
            f"{gaps_base[-1]:.1f}",
            "yes",
            f"{statistics.median(w for _, w in ours):.2f}",
            f"{statistics.median(w for _, w in base):.2f}",
        )
    table.add_row("mean", "", "", "", f"{statistics.mean(gaps_ours):.2f}", f"{statistics.mean(gaps_base):.2f}")
    console.print(table)
    better = sum(o < b - 1e-9 for o, b in zip(gaps_ours, gaps_base, strict=True))
    worse = sum(o > b + 1e-9 for o, b in zip(gaps_ours, gaps_base, strict=True))
    level = len(instances) - better - worse
    console.print(f"microfab vs baseline: better on {better}, level on {level}, worse on {worse}")
    if chosen == "brandimarte":
        _scale(console, 2.0 if quick else limit, workers)

"""The twin vs the lean SimPy peer of shared/ on MF-REF-1: same run, model events per second, peak memory.

Every measurement runs in a fresh process (``python -m benchmarks.twin ENGINE JOBS``) so the
peak resident set size (``getrusage``) belongs to that run alone. The peer is imported from
``shared/benchmarks/twin/mfsim_simpy.py`` and run as shipped; the twin runs MF-REF-1 through
its own model classes (`microfab.twin.scenarios.run_mf_ref_1`), with breakdowns, setups and
statistics on. Runs alternate between engines; figures are medians. Every counter and the
makespan must be equal between the engines, or the benchmark stops.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "twin"
ENGINES = ("simpy", "twin", "twin+trace")
EXACT = (
    "makespan_min",
    "jobs_done",
    "ops_done",
    "setups",
    "failures",
    "preemptions",
    "mean_flow_time_min",
    "model_events",
)


def _child(engine: str, jobs: int) -> dict[str, Any]:
    if engine == "simpy":
        sys.path.insert(0, str(SHARED))
        import mfsim_simpy  # type: ignore[import-not-found]  # noqa: PLC0415 - lives in shared/

        out: dict[str, Any] = mfsim_simpy.simulate(jobs)
        out["wall_s"] = out["sim_wall_s"]
    else:
        from microfab.twin.scenarios import run_mf_ref_1  # noqa: PLC0415

        out, _ = run_mf_ref_1(jobs, trace=engine == "twin+trace")
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _measure(engine: str, jobs: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.twin", engine, str(jobs)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(*, quick: bool = False) -> None:
    if not (SHARED / "mfsim_simpy.py").exists():
        raise SystemExit(f"{SHARED} not found: shared/ must sit beside the repository")
    plan = [(1_000, 3), (10_000, 3)] if quick else [(10_000, 5), (100_000, 3)]
    console = Console(width=max(Console().width, 120))
    table = Table(title="MF-REF-1: microfab twin vs SimPy (lean peer), medians, fresh process per run")
    for column in (
        "jobs",
        "engine",
        "runs",
        "model events",
        "wall s",
        "model ev/s",
        "× SimPy",
        "peak RSS MiB",
        "exact",
    ):
        table.add_column(column, justify="left" if column == "engine" else "right")
    for jobs, runs in plan:
        samples: dict[str, list[dict[str, Any]]] = {e: [] for e in ENGINES}
        for _ in range(runs):
            for engine in ENGINES:
                samples[engine].append(_measure(engine, jobs))
        peer = samples["simpy"][0]
        peer_rate = statistics.median(s["model_events_per_s"] for s in samples["simpy"])
        for engine in ENGINES:
            rows = samples[engine]
            mismatched = [k for k in EXACT for r in rows if r[k] != peer[k]]
            if mismatched:
                raise SystemExit(f"{engine} at {jobs} jobs differs from the peer on {sorted(set(mismatched))}")
            rate = statistics.median(r["model_events_per_s"] for r in rows)
            table.add_row(
                f"{jobs:,}",
                engine,
                str(runs),
                f"{peer['model_events']:,}",
                f"{statistics.median(r['wall_s'] for r in rows):.3f}",
                f"{rate:,.0f}",
                f"{rate / peer_rate:.2f}",
                f"{statistics.median(r['peak_rss_mib'] for r in rows):.0f}",
                "yes" if engine != "simpy" else "(peer)",
            )
    console.print(table)
    console.print(
        "exact = makespan, mean flow time and every counter equal to the peer's in every run; "
        "SimPy timed without data generation, the twin with building the model."
    )


if __name__ == "__main__":
    if len(sys.argv) == 3:
        sys.stdout.write(json.dumps(_child(sys.argv[1], int(sys.argv[2]))) + "\n")
    else:
        main(quick="--quick" in sys.argv)

"""Stress tests (TTS / TTR impact / REI of every node): one warm-started LP per form beside a fresh LP per question.

On the example (``examples/stress/network.json``) and on generated networks
(`microfab.planning.stress_generator.generate_network`, seeded: raw materials, three tiers of
parts, our sites, products; a quarter of the BOM lines with an alternative supplier):
`stress_test` keeps one HiGHS model per form and changes bounds between questions (warm
re-solves); the peer baseline, ``rebuild=True``, builds a fresh model for every LP (the naive
way: same answers, checked here node by node). Warm runs take the median of 3; the rebuilt
baseline runs once and only up to 500 nodes (80 s at 1,000). ``python -m benchmarks stress``
runs 500 nodes x seeds 0-2 and 1,000 nodes x seed 0 (``--quick``: 500 nodes, seed 0).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from microfab.cli.plan_stress import read_network
from microfab.planning.stress import StressNetwork, StressReport, stress_test
from microfab.planning.stress_generator import generate_network

RUNS = 3
REBUILD_UP_TO = 500
ROOT = Path(__file__).resolve().parents[1]


def _warm(network: StressNetwork) -> tuple[StressReport, float]:
    times, report = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        report = stress_test(network)
        times.append(time.perf_counter() - started)
    assert report is not None
    return report, statistics.median(times)


def _same(a: StressReport, b: StressReport) -> bool:
    for x, y in zip(a.nodes, b.nodes, strict=True):
        if (x.unbounded, x.at_risk) != (y.unbounded, y.at_risk):
            return False
        if x.tts_days is not None and y.tts_days is not None and abs(x.tts_days - y.tts_days) > 1e-6 * (1 + x.tts_days):
            return False
        if abs(float(x.ttr_impact - y.ttr_impact)) > 0.02 + 1e-6 * float(x.ttr_impact):
            return False
    return True


def main(*, quick: bool = False) -> None:
    """Print one row per network: size, LPs, at-risk nodes, warm and rebuilt wall times."""
    table = Table(
        "network", "nodes", "BOM lines", "alt. sources", "LPs", "at risk", "TTS ≥ cap", "max REI node",
        "warm s", "ms / node", "rebuilt s", "warm speed-up", "same answers",
        title=f"Stress test of every node: one warm HiGHS model per form (median of {RUNS}) vs a fresh LP per question",
    )  # fmt: skip
    rows = [("example", read_network(ROOT / "examples" / "stress" / "network.json"))]
    sizes = [(500, 0)] if quick else [(500, 0), (500, 1), (500, 2), (1000, 0)]
    rows += [(f"generated {n}, seed {seed}", generate_network(n, seed=seed)) for n, seed in sizes]
    for label, network in rows:
        report, wall = _warm(network)
        rebuilt_s, speedup, same = "-", "-", "-"
        if len(network.nodes) <= REBUILD_UP_TO:
            started = time.perf_counter()
            rebuilt = stress_test(network, rebuild=True)
            seconds = time.perf_counter() - started
            rebuilt_s, speedup, same = (
                f"{seconds:.2f}",
                f"{seconds / wall:.1f}x",
                "yes" if _same(report, rebuilt) else "NO",
            )
        top = report.ranked()[0]
        risky, capped = sum(r.at_risk for r in report.nodes), sum(r.unbounded for r in report.nodes)
        table.add_row(
            label, f"{len(network.nodes):,}", f"{len(network.bom):,}", f"{len(network.sources):,}",
            f"{report.solves:,}", str(risky), str(capped),
            f"{top.node} ({top.kind.value})", f"{wall:.3f}", f"{1000 * wall / len(network.nodes):.2f}", rebuilt_s,
            speedup, same,
        )  # fmt: skip
    Console(width=200).print(table)


if __name__ == "__main__":
    main()

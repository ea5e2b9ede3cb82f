"""``microfab twin``: run the standalone twin on named scenarios, and sweeps of replications.

Replications run on local processes by default and on a Ray cluster with ``--ray ADDRESS``
(a cluster address, ``auto``, or ``local`` for a private local instance).
"""

from __future__ import annotations

import csv
import html
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from microfab.control.parallel import RayError, Tick, run_parallel
from microfab.domain.errors import DomainError
from microfab.twin.replications import Estimate, Task, aggregate, run_task, tasks
from microfab.twin.scenarios import SCENARIOS, run_mf_ref_1
from microfab.twin.stats import SimulationResult
from microfab.twin.trace import Bar, Trace

app = typer.Typer(help="The standalone digital twin: reference scenarios, replications, sweeps.", no_args_is_help=True)
console = Console(width=None if sys.stdout.isatty() else 150)
errors = Console(stderr=True, width=None if sys.stderr.isatty() else 150)


@app.command("mf-ref-1")
def mf_ref_1_command(
    jobs: Annotated[int, typer.Option(help="Jobs to release.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed of jobs and module streams.")] = 20261124,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    trace_csv: Annotated[Path | None, typer.Option("--trace", help="Write the event trace as CSV.")] = None,
    gantt: Annotated[Path | None, typer.Option(help="Write a Gantt chart (SVG) of the first hours.")] = None,
    gantt_hours: Annotated[float, typer.Option(help="Hours shown in the Gantt chart.")] = 24.0,
) -> None:
    """Run the reference scenario MF-REF-1 (shared/benchmarks/twin) on the twin's own model."""
    if jobs < 1:
        _fail("--jobs: expected >= 1")
    figures, result = run_mf_ref_1(jobs, seed, trace=trace_csv is not None or gantt is not None)
    if as_json:
        sys.stdout.write(json.dumps(figures) + "\n")
    else:
        console.print(_figures_table(figures))
        console.print(module_table(result))
    if result.trace is not None and trace_csv is not None:
        write_trace_csv(result.trace, trace_csv)
    if result.trace is not None and gantt is not None:
        names = [m.name for m in result.modules]
        bars = [b for b in result.trace.gantt(result.end) if b.start < gantt_hours * 60.0]
        write_gantt_svg(bars, names, gantt, until=gantt_hours * 60.0, unit="min")
        if not as_json:
            console.print(f"Gantt chart: {gantt}")


@app.command()
def sweep(
    scenarios: Annotated[list[str], typer.Argument(help=f"Scenarios: {', '.join(sorted(SCENARIOS))}.")],
    seeds: Annotated[int, typer.Option(help="Replications (seeds 1..N) per variant.")] = 5,
    jobs: Annotated[int, typer.Option(help="Jobs per replication.")] = 1_000,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="KEY=V1,V2,... on every module, e.g. mttr=30,60.")
    ] = None,
    workers: Annotated[int, typer.Option(help="Local processes (default: every core).")] = 0,
    ray_address: Annotated[
        str | None, typer.Option("--ray", help="Run on Ray: a cluster address, 'auto' or 'local'.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Run N seeds x every variant of the scenarios; print means with 95 % confidence intervals."""
    try:
        grid = _grid(set_ or [])
        todo = tasks(scenarios, seeds=range(1, seeds + 1), jobs=jobs, grid=grid)
    except (ValueError, DomainError) as exc:
        _fail(str(exc))
    with Progress(console=errors, transient=True, disable=as_json) as progress:
        bar = progress.add_task("replications", total=len(todo))

        def tick() -> None:
            progress.advance(bar)

        try:
            rows = run_tasks(todo, workers=workers, ray_address=ray_address, tick=tick)
        except RayError as exc:
            _fail(str(exc))
    summary = aggregate(rows)
    if as_json:
        out = {
            v: {k: {"mean": e.mean, "half_width": e.half_width, "n": e.n} for k, e in f.items()}
            for v, f in summary.items()
        }
        sys.stdout.write(json.dumps(out, allow_nan=True) + "\n")
        return
    for variant, estimates in summary.items():
        console.print(_estimates_table(variant, estimates))


def run_tasks(
    todo: Sequence[Task], *, workers: int = 0, ray_address: str | None = None, tick: Tick | None = None
) -> list[dict[str, Any]]:
    """Run every task serially (``workers=1``), on local processes, or on Ray; results by (variant, seed)."""
    rows = run_parallel(run_task, todo, workers=workers, ray_address=ray_address, tick=tick)
    return sorted(rows, key=lambda r: (r["variant"], r["seed"]))


def _grid(settings: list[str]) -> dict[str, list[str]]:
    grid: dict[str, list[str]] = {}
    for item in settings:
        key, sep, values = item.partition("=")
        if not sep or not values:
            raise ValueError(f"--set: expected KEY=V1,V2,..., got {item!r}")
        grid[key.strip()] = [v.strip() for v in values.split(",")]
    return grid


def module_table(result: SimulationResult) -> Table:
    """Per-module utilisation by state and ISO 22400 OEE of a standalone run."""
    table = Table(title=f"{result.scenario} — modules (share of the window; OEE per ISO 22400)")
    for column in ("module", "idle", "setup", "execute", "down", "maint.", "avail.", "perf.", "qual.", "OEE", "queue"):
        table.add_column(column, justify="left" if column == "module" else "right")
    for m in result.modules:
        share = m.utilisation_by_state
        b = m.buckets
        table.add_row(
            m.name,
            *(f"{share[s]:.1%}" for s in ("idle", "setup", "execute", "down", "maintenance")),
            f"{b.availability:.1%}",
            f"{b.effectiveness:.1%}",
            f"{b.quality:.1%}",
            f"{b.oee:.1%}",
            f"{m.queue_mean:.2f}",
        )
    return table


def _figures_table(figures: dict[str, Any]) -> Table:
    table = Table(title="MF-REF-1")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key, f"{value:,.6g}" if isinstance(value, float) else f"{value:,}")
    return table


def _estimates_table(variant: str, estimates: dict[str, Estimate]) -> Table:
    table = Table(title=f"{variant} — mean ± 95 % CI")
    for column in ("figure", "mean", "± half width", "n"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for key, e in estimates.items():
        table.add_row(key, f"{e.mean:,.6g}", f"{e.half_width:,.3g}", str(e.n))
    return table


def write_trace_csv(trace: Trace, path: Path) -> None:
    """Write the trace as CSV: t, kind, module, job, operation."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["t", "kind", "module", "job", "operation"])
        for t, kind, module, job, op in trace.rows():
            writer.writerow([repr(t), kind.name.lower(), module, job, op])


_COLOURS = {"setup": "#f2b134", "execute": "#4a90d9", "down": "#d9534f", "maintenance": "#9b9b9b"}


def write_gantt_svg(bars: Sequence[Bar], names: Sequence[str], path: Path, *, until: float, unit: str) -> None:
    """Write a plain SVG Gantt chart: one row per module, bars coloured by what they are."""
    width, row, left = 1000.0, 18, 60
    scale = (width - left - 10) / until if until > 0 else 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{row * len(names) + 30}" '
        'font-family="sans-serif" font-size="11">'
    ]
    for i, name in enumerate(names):
        parts.append(f'<text x="2" y="{i * row + 13}">{html.escape(name)}</text>')
    for b in bars:
        x = left + b.start * scale
        w = max(0.5, (min(b.end, until) - b.start) * scale)
        title = f"{b.what} job {b.job} op {b.operation}" if b.job >= 0 else b.what
        parts.append(
            f'<rect x="{x:.2f}" y="{b.module * row + 2}" width="{w:.2f}" height="{row - 4}" '
            f'fill="{_COLOURS.get(b.what, "#777")}"><title>{title}</title></rect>'
        )
    parts.append(f'<text x="{left}" y="{row * len(names) + 20}">0 – {until:g} {unit}</text></svg>')
    path.write_text("\n".join(parts), encoding="utf-8")


def _fail(message: str) -> NoReturn:
    errors.print(f"[red]error[/]: {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)

"""``microfab whatif SCENARIO.yaml``: re-run allocation and the twin on a changed copy of the network; print the deltas.

The baseline network is, in this order: ``--manifests DIR``, the applied network of ``--db URL``,
or ``spec.baseline.manifests`` of the file. Runs (baseline and each scenario, over every seed)
go serially (``--workers 1``), on local processes (default: every core) or on Ray
(``--ray ADDRESS|auto|local``), with a progress bar on stderr. See ``docs/whatif.md``.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from microfab.cli.common import errors, fail, services_for
from microfab.control.parallel import RayError, run_parallel
from microfab.control.whatif import (
    MetricDelta,
    WhatIfError,
    WhatIfResult,
    result_json,
    run_whatif_task,
    summarize,
    whatif_tasks,
)
from microfab.control.whatif_read import read_whatif, resolve
from microfab.control.whatif_scenario import WhatIfFile
from microfab.domain.errors import DomainError
from microfab.domain.network import Network
from microfab.manifests import ManifestErrors, load_network
from microfab.report.whatif import Better, DeltaBar, DeltaPanel, WhatIfView, write_whatif_html
from microfab.twin.replications import Estimate

console = Console(width=None if sys.stdout.isatty() else 160)

_HEADLINE = (
    "cost:total",
    "cost:duty",
    "cost:rejection",
    "on_time",
    "on_time_demanded",
    "service_level",
    "lost_sales_units",
    "late_units",
    "throughput_per_day",
    "oee:network",
)
_BETTER: dict[str, Better] = {
    "on_time": "up",
    "on_time_demanded": "up",
    "service_level": "up",
    "fill_rate": "up",
    "throughput_per_day": "up",
}


def whatif(  # noqa: PLR0913, PLR0917 - the file, then independent options (Typer passes them by keyword)
    scenario: Annotated[Path, typer.Argument(help="A kind: WhatIf file (docs/whatif.md).", show_default=False)],
    db: Annotated[
        str | None, typer.Option("--db", help="Baseline: the applied network of this event log.", show_default=False)
    ] = None,
    manifests: Annotated[
        Path | None, typer.Option("--manifests", help="Baseline: a folder of manifests.", show_default=False)
    ] = None,
    seeds: Annotated[int | None, typer.Option(min=1, help="Replications (default: the file's seeds).")] = None,
    workers: Annotated[int, typer.Option(min=0, help="Local processes (0: every core, 1: serial).")] = 0,
    ray_address: Annotated[
        str | None, typer.Option("--ray", help="Run on Ray: a cluster address, 'auto' or 'local'.")
    ] = None,
    chart: Annotated[Path | None, typer.Option(help="Write the deltas as a self-contained HTML chart.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    every: Annotated[bool, typer.Option("--all", help="Every figure in the table (per site and market too).")] = False,
) -> None:
    """Apply each scenario's changes to a copy of the network; print deltas against the baseline with 95 % CIs."""
    try:
        file = read_whatif(scenario)
        network = _baseline(file, db, manifests)
        study = resolve(file, network, seeds=seeds)
    except ManifestErrors as exc:
        for error in exc.errors:
            errors.print(f"[red]error[/]: {escape(str(error))}", highlight=False, soft_wrap=True)
        errors.print(f"{len(exc.errors)} error(s); nothing was run.")
        raise typer.Exit(1) from None
    todo = whatif_tasks(study, network)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=errors, transient=True, disable=as_json) as progress:
            bar = progress.add_task(
                f"{len(study.scenarios)} scenario(s) + baseline x {study.seeds} seeds", total=len(todo)
            )
            rows = run_parallel(
                run_whatif_task, todo, workers=workers, ray_address=ray_address, tick=lambda: progress.advance(bar)
            )
        result = summarize(study, rows, network.base_currency)
    except (WhatIfError, RayError, DomainError, ValueError) as exc:
        fail(str(exc))
    if chart is not None:
        write_whatif_html(chart_view(result), chart)
    if as_json:
        sys.stdout.write(json.dumps(result_json(result), ensure_ascii=False, allow_nan=False, default=str) + "\n")
        return
    console.print(delta_table(result, every=every))
    if chart is not None:
        console.print(f"Chart: {escape(str(chart))}")


def _baseline(file: WhatIfFile, db: str | None, manifests: Path | None) -> Network:
    if manifests is not None:
        return load_network(manifests)
    if db is not None:
        with services_for(db) as services:
            return services.state.network
    folder = file.baseline_manifests
    if folder is None:
        fail(f"{file.path}: no baseline: give --manifests DIR or --db URL, or spec.baseline.manifests in the file")
    return load_network(folder)


def _shown(result: WhatIfResult, every: bool) -> list[str]:
    keys = [m.key for m in result.scenarios[0].metrics] if result.scenarios else []
    if every:
        return keys
    return [k for k in keys if k in _HEADLINE or k.startswith(("oee:", "load_h:"))]


def delta_table(result: WhatIfResult, *, every: bool = False) -> Table:
    """Scenario x figure: baseline, variant and the paired delta ± its 95 % half width (* when it excludes 0)."""
    table = Table(
        title=f"{escape(result.name)}: variant − baseline, seeds {_seeds(result)} (paired, 95 % CI; * excludes 0)"
    )
    for column in ("scenario", "figure", "baseline", "variant", "delta ± 95 % CI"):
        table.add_column(column, justify="left" if column in {"scenario", "figure"} else "right")
    keys = _shown(result, every)
    for s in result.scenarios:
        for i, key in enumerate(keys):
            m = s.metric(key)
            table.add_row(
                escape(s.name) if i == 0 else "",
                m.label,
                _value(m.baseline.mean, m.unit),
                _value(m.variant.mean, m.unit),
                _delta(m),
                end_section=i == len(keys) - 1,
            )
    return table


def _seeds(result: WhatIfResult) -> str:
    seeds = result.seeds
    return f"{seeds[0]}..{seeds[-1]}" if len(seeds) > 1 else str(seeds[0])


def _value(x: float, unit: str) -> str:
    if unit == "share":
        return f"{100 * x:.1f} %"
    if unit in {"units", "orders"}:
        return f"{x:,.1f}"
    if unit in {"h", "units/day"}:
        return f"{x:,.1f} {unit}"
    return f"{x:,.2f} {unit}"


def _delta(m: MetricDelta) -> str:
    e = m.delta
    scale, suffix = (
        (100.0, " pts") if m.unit == "share" else (1.0, "" if m.unit in {"units", "orders"} else f" {m.unit}")
    )
    digits = 1 if m.unit in {"share", "units", "orders", "h", "units/day"} else 2
    half = "n/a" if not math.isfinite(e.half_width) else f"{scale * e.half_width:,.{digits}f}"
    mark = "*" if _excludes_zero(e) else ""
    return f"{scale * e.mean:+,.{digits}f} ± {half}{suffix}{mark}"


def _excludes_zero(e: Estimate) -> bool:
    return math.isfinite(e.half_width) and (e.low > 0 or e.high < 0)


def chart_view(result: WhatIfResult) -> WhatIfView:
    """The HTML chart's data: a panel per headline figure and per site (OEE, load), a table of every figure."""
    keys = _shown(result, every=False)
    panels = []
    for key in keys:
        metrics = [s.metric(key) for s in result.scenarios]
        if not metrics:
            continue
        # OEE's base (planned busy time) shrinks with an outage: neither colour would be fair.
        better: Better = _BETTER.get(key, "" if key.startswith(("oee:", "load_h:")) else "down")
        bars = tuple(_bar(s.name, m) for s, m in zip(result.scenarios, metrics, strict=True))
        panels.append(DeltaPanel(metrics[0].label, _unit(metrics[0].unit), better, bars))
    rows = tuple(
        (s.name, m.label, _value(m.baseline.mean, m.unit), _value(m.variant.mean, m.unit), _delta(m))
        for s in result.scenarios
        for m in s.metrics
    )
    return WhatIfView(
        title=result.name,
        subtitle=f"Start {result.start.isoformat()}, horizon {result.horizon.total_seconds() / 86400:g} days, "
        f"seeds {_seeds(result)}, money in {result.currency}.",
        method="Every scenario is run on the same seeds as the baseline (common random numbers: the same base "
        "orders, the same module streams); each delta is the mean of the per-seed differences with its Student-t "
        "95 % interval. On-time delivery counts the orders delivered; service level counts every unit demanded "
        "(rejected and undelivered units too). OEE follows ISO 22400: hours a module is out of service (an outage, a "
        "recall) leave its planned busy time, so an outage can raise a site's OEE while its throughput falls: OEE and "
        "load bars are drawn neither better nor worse.",
        scenarios=tuple((s.name, s.changes) for s in result.scenarios),
        panels=tuple(panels),
        header=("scenario", "figure", "baseline", "variant", "delta ± 95 % CI"),
        rows=rows,
    )


def _unit(unit: str) -> str:
    return "percentage points" if unit == "share" else unit


def _bar(name: str, m: MetricDelta) -> DeltaBar:
    e, scale = m.delta, 100.0 if m.unit == "share" else 1.0
    finite = math.isfinite(e.half_width)
    return DeltaBar(
        name,
        scale * e.mean,
        scale * e.low if finite else None,
        scale * e.high if finite else None,
        _delta(m),
    )

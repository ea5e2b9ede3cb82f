"""``microfab schedule``: solve standard FJSP benchmark files, and show a site's last schedule as a Gantt."""

from __future__ import annotations

import html
import json
import sys
import time
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from microfab.cli.common import fail, services_for
from microfab.control.controller import latest_schedule
from microfab.domain.events import ScheduleCreated
from microfab.domain.schedules import ScheduledOperation
from microfab.scheduling import solve, validate
from microfab.scheduling.fjs import parse_fjs

app = typer.Typer(help="Solve scheduling benchmarks and show site schedules.", no_args_is_help=True)
console = Console(width=None if sys.stdout.isatty() else 150)

DbOption = Annotated[str | None, typer.Option("--db", envvar="MICROFAB_DB", help="Event log URL.", show_default=False)]
_SHADES = "█▓"


@app.command("fjs")
def fjs_command(
    files: Annotated[list[Path], typer.Argument(help="Instances in the .fjs (Brandimarte / FJSPLIB) format.")],
    time_limit: Annotated[float, typer.Option("--time-limit", help="Seconds per instance.")] = 10.0,
    workers: Annotated[int, typer.Option("--workers", help="CP-SAT workers.")] = 2,
    seed: Annotated[int, typer.Option("--seed", help="CP-SAT random seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per instance.")] = False,
) -> None:
    """Minimise the makespan of each instance; every schedule goes through the validator."""
    table = Table("instance", "makespan", "lower bound", "status", "valid", "wall s")
    for path in files:
        try:
            problem = parse_fjs(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            fail(f"{path}: {exc}")
        started = time.perf_counter()
        result = solve(problem, time_limit=time_limit, workers=workers, seed=seed)
        wall = time.perf_counter() - started
        row = {
            "instance": path.stem,
            "makespan": result.objective,
            "lower_bound": result.lower_bound,
            "status": result.status.value,
            "valid": result.has_schedule and not validate(problem, result.schedule),
            "wall_s": round(wall, 3),
        }
        if as_json:
            typer.echo(json.dumps(row))
        else:
            table.add_row(*(str(value) for value in row.values()))
    if not as_json:
        console.print(table)


@app.command("show")
def show_command(
    site: Annotated[str, typer.Argument(help="The site whose last recorded schedule to show.")],
    out: Annotated[Path | None, typer.Option("--out", help="Also write an HTML/SVG Gantt here.")] = None,
    width: Annotated[int, typer.Option("--width", help="Characters of the time axis.")] = 80,
    db: DbOption = None,
) -> None:
    """A text Gantt of SITE's last schedule (one row per module), and optionally an HTML file."""
    with services_for(db) as services:
        if site not in services.state.network.sites:
            fail(f"unknown site {site!r}; known: {', '.join(sorted(services.state.network.sites))}")
        created = latest_schedule(services.log, site)
    if created is None:
        fail(f"site {site!r} has no recorded schedule yet")
    for line in text_gantt(created, width=max(20, width)):
        console.print(line, highlight=False, markup=False)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(html_gantt(created), encoding="utf-8")
        console.print(f"Gantt of {site}: {out}")


def _rows(created: ScheduleCreated) -> dict[str, list[ScheduledOperation]]:
    rows: dict[str, list[ScheduledOperation]] = {}
    for op in sorted(created.operations, key=lambda o: (o.module, o.start, o.operation_id)):
        rows.setdefault(op.module, []).append(op)
    return rows


def text_gantt(created: ScheduleCreated, *, width: int = 80) -> list[str]:
    """The schedule as lines of text: a header, then one bar row per module."""
    head = (
        f"schedule of {created.site} made {created.at:%Y-%m-%d %H:%M} UTC: {created.status}, "
        f"{len(created.operations)} operations, makespan {created.objective} s (bound {created.lower_bound} s), "
        f"{created.runtime_ms} ms"
    )
    if not created.operations:
        return [head, "(nothing scheduled)"]
    start = min(o.start for o in created.operations)
    end = max(o.end for o in created.operations)
    span = max(1.0, (end - start).total_seconds())
    rows = _rows(created)
    label = max(len(m) for m in rows)
    lines = [head, f"{'':{label}} |{start:%m-%d %H:%M}{'':>{max(1, width - 22)}}{end:%m-%d %H:%M}|"]
    for module, ops in rows.items():
        cells = [" "] * width
        for i, op in enumerate(ops):
            low = int((op.start - start).total_seconds() / span * width)
            high = max(low + 1, int((op.end - start).total_seconds() / span * width))
            for x in range(low, min(high, width)):
                cells[x] = _SHADES[i % len(_SHADES)]
        lines.append(f"{module:{label}} |{''.join(cells)}| {len(ops)} ops")
    return lines


def html_gantt(created: ScheduleCreated) -> str:
    """The schedule as a self-contained HTML page with an inline SVG Gantt (no external assets)."""
    rows = _rows(created)
    row_h, label_w, chart_w = 24, 160, 1000
    start = min((o.start for o in created.operations), default=created.at)
    end = max((o.end for o in created.operations), default=created.at)
    span = max(1.0, (end - start).total_seconds())
    parts = []
    for y, (module, ops) in enumerate(rows.items()):
        top = y * row_h
        parts.append(f'<text x="4" y="{top + 16}">{html.escape(module)}</text>')
        for op in ops:
            x = label_w + chart_w * (op.start - start).total_seconds() / span
            w = max(1.0, chart_w * (op.end - op.start).total_seconds() / span)
            unit = op.operation_id.rsplit("#", 1)[0]
            colour = f"hsl({zlib.crc32(unit.encode()) % 360}, 55%, 50%)"
            title = html.escape(f"{op.operation_id}: {op.start:%Y-%m-%d %H:%M:%S} – {op.end:%H:%M:%S} on {module}")
            parts.append(
                f'<rect x="{x:.1f}" y="{top + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{colour}">'
                f"<title>{title}</title></rect>"
            )
    height = max(1, len(rows)) * row_h
    site = html.escape(created.site)
    return (
        f"<!doctype html>\n<html><head><meta charset='utf-8'><title>Schedule of {site}</title>"
        "<style>body{font-family:sans-serif;margin:1em}svg text{font-size:12px}</style></head><body>"
        f"<h1>Schedule of {site}</h1><p>made {created.at:%Y-%m-%d %H:%M} UTC, {html.escape(created.status)}, "
        f"{len(created.operations)} operations, {start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M}</p>"
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + chart_w + 10}" height="{height}">'
        f"{''.join(parts)}</svg></body></html>\n"
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the sub-app on its own (``python -m microfab.cli.schedule``)."""
    app(args=list(argv) if argv is not None else None)


if __name__ == "__main__":
    main()

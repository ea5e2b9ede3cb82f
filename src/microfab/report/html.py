"""Render the run report as one self-contained HTML file (inline CSS and SVG, no external assets)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from microfab.domain.schedules import ScheduledOperation
from microfab.kpi.report import GanttBar, Report

_ROW, _LABEL, _WIDTH = 22, 150, 1100
_COLOURS = {"run": "#2f7ed8", "setup": "#f0ad4e", "down": "#d9534f", "scrap": "#8e44ad"}
_PLANNED = "#37474f"


@dataclass(frozen=True, slots=True)
class Rect:
    """One bar of the SVG Gantt, in pixels."""

    x: float
    y: float
    w: float
    colour: str
    title: str
    h: float = _ROW - 8


@dataclass(frozen=True, slots=True)
class GanttView:
    """What the ``gantt`` macro of ``gantt.svg.j2`` draws: rows, bars, day ticks, sizes, legend."""

    site: str
    modules: list[str]
    rects: list[Rect]
    days: list[tuple[float, str]]
    row: int = _ROW
    label: int = _LABEL
    width: int = _WIDTH
    colours: dict[str, str] = field(default_factory=lambda: dict(_COLOURS))


def gantt_view(report: Report, planned: Sequence[ScheduledOperation] = ()) -> GanttView:
    """The Gantt of the report's site, laid out for the SVG macro.

    *planned* (the site's last schedule) is drawn as a thin dark line at the top of each row,
    above what actually ran, so plan and reality can be compared bar by bar.
    """
    modules = sorted({name for name, site in report.site_of.items() if site == report.gantt_site})
    rects = _rects(report, modules)
    colours = dict(_COLOURS)
    if planned:
        rows = {name: i for i, name in enumerate(modules)}
        for op in planned:
            if op.module not in rows or op.end <= report.start or op.start >= report.end:
                continue
            x0 = _x(report, (op.start - report.start).total_seconds())
            x1 = _x(report, (op.end - report.start).total_seconds())
            title = f"planned {op.operation_id} {op.start:%a %H:%M}–{op.end:%a %H:%M}"
            rects.append(Rect(x0, rows[op.module] * _ROW, max(x1 - x0, 0.8), _PLANNED, title, h=3))
        colours["planned"] = _PLANNED
    return GanttView(report.gantt_site, modules, rects, _day_ticks(report), colours=colours)


def render_html(report: Report) -> str:
    """The report as an HTML document."""
    env = Environment(loader=PackageLoader("microfab.report", "templates"), autoescape=select_autoescape(["html"]))
    return env.get_template("report.html.j2").render(
        r=report, pct=_pct, hours=lambda s: f"{s / 3600:.1f}", gantt=gantt_view(report)
    )


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def write_html(report: Report, path: Path) -> Path:
    """Write the report to *path* atomically (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".report-", suffix=".html")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(render_html(report))
    Path(tmp).chmod(0o644)  # mkstemp creates 0600; a report is for reading
    Path(tmp).replace(path)
    return path


def _x(report: Report, when: float) -> float:
    span = max(1.0, (report.end - report.start).total_seconds())
    return _LABEL + (_WIDTH - _LABEL) * min(max(when, 0.0), span) / span


def _rects(report: Report, modules: list[str]) -> list[Rect]:
    rows = {name: i for i, name in enumerate(modules)}
    rects = []
    for bar in report.gantt:
        x0 = _x(report, (bar.start - report.start).total_seconds())
        x1 = _x(report, (bar.end - report.start).total_seconds())
        rects.append(Rect(x0, rows[bar.module] * _ROW + 4, max(x1 - x0, 0.8), _COLOURS[bar.kind], _title(bar)))
    return rects


def _title(bar: GanttBar) -> str:
    span = f"{bar.start:%a %H:%M}–{bar.end:%a %H:%M}"
    return f"{bar.label} ({bar.order_id}) {span}" if bar.order_id else f"{bar.label} {span}"


def _day_ticks(report: Report) -> list[tuple[float, str]]:
    ticks, day = [], 0
    span = (report.end - report.start).total_seconds()
    while day * 86400 <= span:
        ticks.append((_x(report, day * 86400), f"day {day}"))
        day += 1
    return ticks

"""Render what-if deltas as one self-contained HTML file: a bar per scenario with 95 % CI whiskers, per figure.

The page holds inline CSS and SVG only (no script, font or image from elsewhere), so it can
be mailed or archived as is. It takes plain data (`WhatIfView`), built by the caller from the
study's results: this adapter knows nothing of how they were computed.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from jinja2 import Environment, PackageLoader, select_autoescape

Better = Literal["up", "down", ""]
"""Which way a figure improves: up (on-time, OEE), down (cost, lost sales), or neither (load)."""

_WIDTH, _LABEL, _ROW, _PAD = 760, 220, 26, 24
_GOOD, _BAD, _NEUTRAL, _FAINT = "#2e7d32", "#c62828", "#546e7a", 0.45


@dataclass(frozen=True, slots=True)
class DeltaBar:
    """One scenario's delta of one figure: the mean, its 95 % CI (None with one seed) and the text shown."""

    scenario: str
    mean: float
    low: float | None
    high: float | None
    text: str


@dataclass(frozen=True, slots=True)
class DeltaPanel:
    """One figure across scenarios: title, unit and which way is better."""

    title: str
    unit: str
    better: Better
    bars: tuple[DeltaBar, ...]


@dataclass(frozen=True, slots=True)
class WhatIfView:
    """What the page shows: title, what was run, the panels and a table (header and rows of text)."""

    title: str
    subtitle: str
    method: str
    scenarios: tuple[tuple[str, tuple[str, ...]], ...]
    panels: tuple[DeltaPanel, ...]
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class BarShape:
    """A bar and its whisker in pixels, for the SVG."""

    y: float
    x: float
    w: float
    colour: str
    opacity: float
    whisker: tuple[float, float] | None
    label: str
    text: str


@dataclass(frozen=True, slots=True)
class PanelShape:
    """A laid-out panel: its size, the zero line and the bars."""

    title: str
    unit: str
    height: float
    zero: float
    bars: tuple[BarShape, ...]
    scale: str


def layout(panel: DeltaPanel) -> PanelShape:
    """Place a panel's bars on a scale symmetric around zero (whiskers included)."""
    ends = [abs(v) for b in panel.bars for v in (b.mean, b.low, b.high) if v is not None and math.isfinite(v)]
    span = max(ends, default=0.0) or 1.0
    half = (_WIDTH - _LABEL - 2 * _PAD) / 2
    zero = _LABEL + _PAD + half

    def x(value: float) -> float:
        return zero + half * value / span

    shapes = []
    for i, bar in enumerate(panel.bars):
        left, right = sorted((x(0.0), x(bar.mean)))
        crosses = bar.low is None or bar.high is None or bar.low <= 0 <= bar.high
        whisker = None if bar.low is None or bar.high is None else (x(bar.low), x(bar.high))
        shapes.append(
            BarShape(
                y=i * _ROW + 4,
                x=left,
                w=max(right - left, 1.0),
                colour=_colour(panel.better, bar.mean),
                opacity=_FAINT if crosses else 1.0,
                whisker=whisker,
                label=bar.scenario,
                text=bar.text,
            )
        )
    return PanelShape(
        panel.title, panel.unit, len(panel.bars) * _ROW + 22, zero, tuple(shapes), f"±{_number(span)} {panel.unit}"
    )


def _number(value: float) -> str:
    """A scale's end as people write it: ``76,950``, ``41.4``, ``0.25`` (no exponent)."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.3g}" if abs(value) >= 0.001 else f"{value:.2e}"


def _colour(better: Better, mean: float) -> str:
    if not better or mean == 0:
        return _NEUTRAL
    return _GOOD if (mean > 0) == (better == "up") else _BAD


def render_whatif_html(view: WhatIfView) -> str:
    """The page as an HTML document."""
    env = Environment(
        loader=PackageLoader("microfab.report", "templates"), autoescape=select_autoescape(["html", "j2"])
    )
    shapes: Sequence[PanelShape] = [layout(p) for p in view.panels]
    return env.get_template("whatif.html.j2").render(v=view, panels=shapes, width=_WIDTH, label=_LABEL, row=_ROW)


def write_whatif_html(view: WhatIfView, path: Path) -> Path:
    """Write the page to *path* atomically (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".whatif-", suffix=".html")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(render_whatif_html(view))
    Path(tmp).chmod(0o644)  # mkstemp creates 0600; a report is for reading
    Path(tmp).replace(path)
    return path

"""What the planner's job page shows of a plan's JSON: rows for its tables, geometry for its SVG charts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from microfab.planning.expand_problem import ExpansionCosts
from microfab.report.whatif import Better, DeltaBar, DeltaPanel, PanelShape, layout

TWIN_FIGURES = (
    ("service_level", True),
    ("fill_rate", True),
    ("on_time", True),
    ("throughput_per_day", False),
    ("late_units", False),
    ("undelivered_units", False),
    ("lost_units", False),
)
"""The twin's figures a page lists (their keys in the JSON) and whether each is a share."""


@dataclass(frozen=True, slots=True)
class Bar:
    """One horizontal bar of a chart: label, value, its width in per cent of the largest."""

    label: str
    value: float
    share: float
    flagged: bool = False


def bars(values: dict[str, float], flagged: frozenset[str] = frozenset()) -> list[Bar]:
    """Bars scaled to the largest absolute value (*flagged* labels drawn as a warning)."""
    top = max((abs(v) for v in values.values()), default=0.0) or 1.0
    return [Bar(k, v, 100 * abs(v) / top, k in flagged) for k, v in values.items()]


def days(value: float) -> str:
    """Days with at most two decimals (``22``, ``5.6``, ``33.38``)."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True, slots=True)
class StressRow:
    """One node of a stress test, as its table row shows it."""

    rank: int
    id: str
    kind: str
    ttr: str
    tts: str
    impact: float
    rei: float
    at_risk: bool
    lost: str


def stress_view(result: dict[str, Any]) -> dict[str, Any]:
    """Nodes by risk exposure (REI), their REI bars, the mitigations of the at-risk ones."""
    horizon = float(result["horizon_days"])
    ranked = sorted(result["nodes"], key=lambda n: n["rank"])
    rows = [
        StressRow(
            rank=n["rank"],
            id=n["id"],
            kind=n["kind"],
            ttr=days(n["ttr_days"]),
            tts=f"≥ {days(max(horizon, n['ttr_days']))}" if n["unbounded"] else days(n["tts_days"]),
            impact=n["ttr_impact"],
            rei=n["rei"],
            at_risk=n["at_risk"],
            lost=", ".join(f"{s['product']} {s['units']:,.6g}" for s in n["lost_sales"]),
        )
        for n in ranked
    ]
    risky = frozenset(n["id"] for n in ranked if n["at_risk"])
    mitigations = [
        (n["id"], m["kind"].replace("_", " "), m["node"], m["text"])
        for n in ranked
        if n["at_risk"]
        for m in n["mitigations"]
    ]
    unsized = [n["id"] for n in ranked if n["at_risk"] and not n["mitigations"]]
    baseline = None if result["baseline_unbounded"] else days(result["baseline_tts_days"])
    return {
        "rows": rows,
        "rei_bars": bars({n["id"]: n["rei"] for n in ranked}, risky),
        "mitigations": mitigations,
        "unsized": unsized,
        "at_risk": len(risky),
        "baseline": baseline,
        "cap": days(max([horizon, *(n["ttr_days"] for n in ranked)])),
    }


@dataclass(frozen=True, slots=True)
class Cell:
    """One site and period of the deployments chart: modules deployed and retired there."""

    deployed: int
    retired: int


def expansion_view(result: dict[str, Any]) -> dict[str, Any]:
    """Deployments per site and period (the chart's grid), cost bars, the twin's figures with their CIs."""
    periods: list[str] = result["periods"]
    index = {label: p for p, label in enumerate(periods)}
    sites = sorted({key.split("/", 1)[0] for key in result["fleet"]} | {a["site"] for a in result["actions"]})
    grid = {site: [[0, 0] for _ in periods] for site in sites}
    for a in result["actions"]:
        grid[a["site"]][index[a["period"]]][0 if a["action"] == "deploy" else 1] += a["count"]
    peak = max((n for cells in grid.values() for cell in cells for n in cell), default=0)
    costs = {name: float(result["costs"][name]) for name in ExpansionCosts.NAMES}
    units = result["units"]
    twin = result.get("twin")
    figures = []
    if twin is not None:
        figures = [(key, twin[key], share) for key, share in TWIN_FIGURES]
    return {
        "sites": sites,
        "grid": [(site, [Cell(d, r) for d, r in grid[site]]) for site in sites],
        "peak": peak or 1,
        "column": 64 if any(len(label) > 7 for label in periods) else 52,
        "cost_bars": bars(costs),
        "served": units["served"] / units["demanded"] if units["demanded"] else 1.0,
        "figures": figures,
        "markets": sorted((twin or {}).get("service_by_market", {}).items()),
        "deployed": sum(a["count"] for a in result["actions"] if a["action"] == "deploy"),
        "retired": sum(a["count"] for a in result["actions"] if a["action"] == "retire"),
    }


# ------------------------------------------------------------------------------------------ what-if studies

WHATIF_HEADLINE = (
    "cost:total",
    "cost:duty",
    "cost:rejection",
    "on_time",
    "service_level",
    "lost_sales_units",
    "late_units",
    "throughput_per_day",
    "oee:network",
)
"""The figures a what-if job page charts and lists first (``microfab whatif``'s table adds OEE and load per site)."""
_UP = frozenset({"on_time", "on_time_demanded", "service_level", "fill_rate", "throughput_per_day"})
_NEITHER = frozenset({"orders", "delivered_orders", "on_time_orders"})  # counts that follow the demand


def better(key: str) -> Better:
    """Which way figure *key* improves: up (on-time, service, throughput), down (cost, lost sales), or neither.

    OEE, load and units per site are drawn neither way, as ``microfab whatif --chart`` draws them.
    """
    if key in _UP or key.startswith("service:"):
        return "up"
    return "" if key in _NEITHER or key.startswith(("oee:", "load_h:", "units:")) else "down"


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure of one scenario: baseline and variant means, the delta and its 95 % half width (None: one seed)."""

    key: str
    label: str
    unit: str
    baseline: str
    variant: str
    delta: str
    half: str | None
    significant: bool
    verdict: str

    @property
    def interval(self) -> str:
        """The delta with its half width, numbers only (``-13.8 ± 2.1``; the delta alone without an interval)."""
        return self.delta if self.half is None else f"{self.delta} ± {self.half}"


@dataclass(frozen=True, slots=True)
class Panel:
    """One figure of the deltas chart: its key, label, unit, where it starts in the SVG and its laid-out bars."""

    key: str
    label: str
    unit: str
    top: float
    shape: PanelShape


def _scale(unit: str) -> tuple[float, int]:
    """Shares are shown in per cent (deltas in points), money with cents, everything else with one decimal."""
    if unit == "share":
        return 100.0, 1
    return 1.0, 1 if unit in {"h", "units", "units/day", "orders"} else 2


def _value(estimate: Mapping[str, Any], unit: str) -> str:
    scale, digits = _scale(unit)
    return f"{scale * estimate['mean']:,.{digits}f}" + (" %" if unit == "share" else "")


def figure(key: str, metric: Mapping[str, Any]) -> Figure:
    """A metric of ``microfab whatif --json`` as the deltas table shows it."""
    unit, delta = metric["unit"], metric["delta"]
    scale, digits = _scale(unit)
    half = delta["half_width"]
    significant = half is not None and (delta["low"] > 0 or delta["high"] < 0)
    way = better(key)
    verdict = "" if not significant or not way else "better" if (delta["mean"] > 0) == (way == "up") else "worse"
    return Figure(
        key=key,
        label=metric["label"],
        unit=unit,
        baseline=_value(metric["baseline"], unit),
        variant=_value(metric["variant"], unit),
        delta=f"{scale * delta['mean']:+,.{digits}f}",
        half=None if half is None else f"{scale * half:,.{digits}f}",
        significant=significant,
        verdict=verdict,
    )


def _panels(scenarios: list[dict[str, Any]], keys: list[str]) -> list[Panel]:
    """One panel per figure, a bar per scenario with its 95 % whisker (``microfab.report.whatif.layout``)."""
    panels, top = [], 0.0
    for key in keys:
        bars = []
        for s in scenarios:
            metric = s["metrics"][key]
            scale = _scale(metric["unit"])[0]
            d = metric["delta"]
            low, high = (None, None) if d["half_width"] is None else (scale * d["low"], scale * d["high"])
            bars.append(DeltaBar(s["name"], scale * d["mean"], low, high, figure(key, metric).interval))
        first = scenarios[0]["metrics"][key]
        shape = layout(DeltaPanel(key, "", better(key), tuple(bars)))
        panels.append(Panel(key, first["label"], first["unit"], top, shape))
        top += shape.height + 20
    return panels


def whatif_view(result: dict[str, Any]) -> dict[str, Any]:
    """Deltas per scenario (headline figures, then OEE and load per site), the chart, every figure per variant."""
    scenarios: list[dict[str, Any]] = result["scenarios"]
    keys = list(scenarios[0]["metrics"]) if scenarios else []
    shown = [k for k in keys if k in WHATIF_HEADLINE or k.startswith(("oee:", "load_h:"))]
    panels = _panels(scenarios, [k for k in WHATIF_HEADLINE if k in keys]) if scenarios else []
    variants = []
    for key in keys:
        metrics = [s["metrics"][key] for s in scenarios]
        unit = metrics[0]["unit"]
        cells = [_with_interval(metrics[0]["baseline"], unit)] + [_with_interval(m["variant"], unit) for m in metrics]
        variants.append((key, metrics[0]["label"], unit, cells))
    seeds = result["seeds"]
    return {
        "deltas": [(s["name"], s["changes"], [figure(k, s["metrics"][k]) for k in shown]) for s in scenarios],
        "significant": sum(figure(k, s["metrics"][k]).significant for s in scenarios for k in shown),
        "panels": panels,
        "chart_height": panels[-1].top + panels[-1].shape.height if panels else 0,
        "variants": variants,
        "seeds": f"{seeds[0]}..{seeds[-1]}" if len(seeds) > 1 else str(seeds[0]),
        "runs": [
            (r["variant"], r["seed"], r["allocation_status"], r["allocation_gap"], r["wall_s"]) for r in result["runs"]
        ],
        "wall_s": sum(r["wall_s"] for r in result["runs"]),
        "horizon_days": days(result["horizon_h"] / 24),
    }


def _with_interval(estimate: Mapping[str, Any], unit: str) -> str:
    """A variant's mean and its own 95 % half width (``94.3 % ± 2.8``)."""
    scale, digits = _scale(unit)
    half = estimate["half_width"]
    return _value(estimate, unit) + ("" if half is None else f" ± {scale * half:,.{digits}f}")

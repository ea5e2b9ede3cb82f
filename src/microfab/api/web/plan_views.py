"""What the planner's job page shows of a plan's JSON: rows for its tables, geometry for its SVG charts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from microfab.planning.expand_problem import ExpansionCosts

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

"""A stress test's report as JSON: what ``microfab plan stress --json`` prints and a planning job answers.

The fields are listed in ``docs/stress-tests.md`` ("Output").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from microfab.planning.stress import NodeResult, StressReport

__all__ = ["report_json"]


def report_json(report: StressReport) -> dict[str, Any]:
    """The report as JSON: per node (input order) TTS, TTR impact, REI, at-risk, lost sales, mitigations."""
    ranks = {r.node: k for k, r in enumerate(report.ranked(), start=1)}
    return {
        "horizon_days": report.horizon_days,
        "currency": report.currency,
        "baseline_tts_days": _round(report.baseline_tts_days),
        "baseline_unbounded": report.baseline_tts_days is None,
        "at_risk": [r.node for r in report.ranked() if r.at_risk],
        "solves": report.solves,
        "runtime_s": round(report.runtime, 4),
        "nodes": [_node_json(r, ranks[r.node]) for r in report.nodes],
    }


def _node_json(r: NodeResult, rank: int) -> dict[str, Any]:
    return {
        "id": r.node,
        "kind": r.kind.value,
        "ttr_days": r.ttr_days,
        "tts_days": _round(r.tts_days),
        "unbounded": r.unbounded,
        "ttr_impact": float(r.ttr_impact),
        "rei": round(r.rei, 6),
        "at_risk": r.at_risk,
        "rank": rank,
        "lost_sales": [{"product": s.product, "units": s.units, "value": float(s.value)} for s in r.lost],
        "mitigations": [
            {
                "kind": m.kind.value,
                "node": m.node,
                "amount": m.amount,
                "unit": m.unit,
                "parents": list(m.parents),
                "together": list(m.together),
                "text": m.text,
            }
            for m in r.mitigations
        ],
    }


def _round(days: float | None) -> float | None:
    return None if days is None else round(days, 6)

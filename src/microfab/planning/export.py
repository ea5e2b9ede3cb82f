"""Allocation plans as JSON: what the CLI prints with ``--json`` and the API returns for a planning job."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from microfab.planning.problem import AllocationPlan, AllocationProblem

COSTS = ("production", "freight", "duty", "tardiness", "rejection", "fixed", "total")
"""The cost kinds of a plan's breakdown, in display order."""


def plan_json(problem: AllocationProblem, plan: AllocationPlan) -> dict[str, Any]:
    """The plan as JSON: per order its shares (site, bucket, fraction) or why it is rejected; totals; the solve."""
    orders: list[dict[str, Any]] = []
    reasons = {r.order: r.reason for r in plan.rejections}
    for order in problem.orders:
        if order.id in reasons:
            orders.append({"order": order.id, "rejected": reasons[order.id]})
            continue
        shares = [
            {
                "site": s.site,
                "bucket": s.bucket,
                "bucket_label": problem.buckets[s.bucket].label,
                "completes_by": _moment(problem, problem.buckets[s.bucket].end),
                "fraction": round(s.fraction, 9),
                "units": round(s.units, 6),
                "tardiness_h": round(s.tardiness, 3),
            }
            for s in plan.assignments[order.id]
        ]
        orders.append({"order": order.id, "shares": shares})
    return {
        "status": plan.status.value,
        "solver": plan.solver,
        "currency": problem.currency,
        "objective": round(plan.objective, 6),
        "lower_bound": plan.lower_bound,
        "gap": plan.gap,
        "runtime_s": round(plan.runtime, 3),
        "variables": plan.variables,
        "constraints": plan.constraints,
        "served": len(plan.assignments),
        "rejected": len(plan.rejections),
        "open_sites": list(plan.open_sites),
        "costs": {name: str(getattr(plan.costs, name).amount) for name in COSTS},
        "orders": orders,
    }


def _moment(problem: AllocationProblem, hours: float) -> str | None:
    return (problem.start + timedelta(hours=hours)).isoformat() if problem.start is not None else None

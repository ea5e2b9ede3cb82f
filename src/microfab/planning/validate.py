"""An independent check of an `AllocationPlan` against its problem: a list of violations, empty when valid.

It recomputes everything from the problem's raw data, not with the helpers the solvers use:
every order assigned (in fractions summing to 1) or rejected exactly once; only eligible (order, site)
pairs (a cost given, no reason against, a capacity for every capability the order needs);
whole orders in one share; each share's tardiness; no share completing before the bucket its
order is released in; capacity per site, capability and window of buckets ``[b1, b2]``
(brute force over every window: the work of the shares released in *b1* or later and completing
by *b2* within the capacity of *b1 .. b2*); the objective and its rounded breakdown; the bound
and the gap.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from microfab.planning.problem import AllocationPlan, AllocationProblem, PlanOrder, Share

RELATIVE = 1e-6


def validate(problem: AllocationProblem, plan: AllocationPlan) -> list[str]:
    """Every way *plan* breaks *problem*'s rules, as sentences (an empty list when valid)."""
    issues: list[str] = []
    orders = {o.id: o for o in problem.orders}
    rejected = [r.order for r in plan.rejections]
    for order_id in set(plan.assignments) | set(rejected):
        if order_id not in orders:
            issues.append(f"{order_id}: not an order of the problem")
    if len(set(rejected)) != len(rejected):
        issues.append("an order is rejected twice")
    for order in problem.orders:
        shares = plan.assignments.get(order.id, ())
        if bool(shares) == (order.id in rejected):
            issues.append(f"{order.id}: must be either assigned or rejected, once")
        issues += _shares(problem, order, shares)
    issues += _capacity(problem, plan.assignments)
    issues += _costs(problem, plan)
    return issues


def _shares(problem: AllocationProblem, order: PlanOrder, shares: tuple[Share, ...]) -> list[str]:
    issues = []
    if shares and abs(sum(s.fraction for s in shares) - 1) > 1e-9:
        issues.append(f"{order.id}: fractions sum to {sum(s.fraction for s in shares)}, not 1")
    if not order.splittable and len(shares) > 1:
        issues.append(f"{order.id}: not splittable, assigned in {len(shares)} shares")
    for share in shares:
        where = f"{order.id} at {share.site} in bucket {share.bucket}"
        pair = problem.pair(order.id, share.site)
        site = next((s for s in problem.sites if s.name == share.site), None)
        if pair is None or pair.reason is not None or site is None:
            issues.append(f"{where}: not an eligible pair")
            continue
        missing = [c for c, h in order.work.items() if h > 0 and c not in site.capacity]
        if missing:
            issues.append(f"{where}: the site has no capacity for {missing}")
        if not 0 <= share.bucket < len(problem.buckets):
            issues.append(f"{where}: no such bucket")
            continue
        if not 0 < share.fraction <= 1 or abs(share.units - share.fraction * order.quantity) > 1e-9 * order.quantity:
            issues.append(f"{where}: fraction {share.fraction} of {order.quantity} is not {share.units} units")
        late = max(0.0, problem.buckets[share.bucket].end + pair.lead - order.due)
        if abs(late - share.tardiness) > 1e-6 * max(1.0, late):
            issues.append(f"{where}: tardiness {share.tardiness} h, expected {late} h")
    return issues


def _released_in(problem: AllocationProblem, order: PlanOrder) -> int:
    """The first bucket that ends after the order's release (a scan; the number of buckets if none)."""
    for b, bucket in enumerate(problem.buckets):
        if bucket.end > order.release:
            return b
    return len(problem.buckets)


def _capacity(problem: AllocationProblem, assignments: Mapping[str, tuple[Share, ...]]) -> list[str]:
    """Load against capacity over every window of buckets, per site and capability; nothing before its release."""
    count = len(problem.buckets)
    # (site, capability) -> release bucket -> completion bucket -> hours
    load: dict[tuple[str, str], dict[int, dict[int, float]]] = {}
    issues = []
    for order in problem.orders:
        released = _released_in(problem, order)
        for share in assignments.get(order.id, ()):
            if share.bucket < released:
                issues.append(f"{order.id} at {share.site}: completes in bucket {share.bucket}, released in {released}")
            for capability, work in order.work.items():
                cell = load.setdefault((share.site, capability), {}).setdefault(released, {})
                cell[share.bucket] = cell.get(share.bucket, 0.0) + work * share.fraction
    sites = {s.name: s for s in problem.sites}
    for (site, capability), by_release in sorted(load.items()):
        hours = sites[site].capacity.get(capability, (0.0,) * count) if site in sites else (0.0,) * count
        issue = _windows(by_release, hours, count)
        if issue:
            issues.append(f"{site} {capability}: {issue}")
    return issues


def _windows(by_release: Mapping[int, Mapping[int, float]], hours: tuple[float, ...], count: int) -> str | None:
    """The first window ``[b1, b2]`` whose load (released from b1 on, completing by b2) exceeds its capacity."""
    later = [0.0] * count  # per completion bucket, the load released in b1 or later
    for b1 in range(count - 1, -1, -1):
        for b, work in by_release.get(b1, {}).items():
            if 0 <= b < count:
                later[b] += work
        used = available = 0.0
        for b2 in range(b1, count):
            used += later[b2]
            available += hours[b2]
            if used > available * (1 + RELATIVE) + RELATIVE:
                return f"{used:.3f} h released from bucket {b1} due by bucket {b2}, {available:.3f} h available"
    return None


def _costs(problem: AllocationProblem, plan: AllocationPlan) -> list[str]:
    parts = dict.fromkeys(("production", "freight", "duty", "tardiness", "rejection", "fixed"), 0.0)
    used: set[str] = set()
    for order in problem.orders:
        shares = plan.assignments.get(order.id, ())
        if not shares:
            parts["rejection"] += float(order.reject_penalty)
        for share in shares:
            pair = problem.pair(order.id, share.site)
            if pair is None:
                continue
            share_of = share.fraction
            used.add(share.site)
            parts["production"] += share_of * float(pair.production)
            parts["freight"] += share_of * float(pair.freight)
            parts["duty"] += share_of * float(pair.duty)
            late = (
                max(0.0, problem.buckets[share.bucket].end + pair.lead - order.due)
                if share.bucket < len(problem.buckets)
                else 0.0
            )
            parts["tardiness"] += share_of * float(order.weight) * late
    parts["fixed"] = sum(float(s.fixed_cost) for s in problem.sites if s.name in used)
    total = sum(parts.values())
    issues = []
    if abs(total - plan.objective) > RELATIVE * max(1.0, abs(total)):
        issues.append(f"objective {plan.objective} but the plan costs {total}")
    for name, value in parts.items():
        shown = getattr(plan.costs, name)
        if shown.currency != problem.currency or abs(shown.amount - Decimal(repr(value))) > Decimal("0.01"):
            issues.append(f"{name}: reported {shown}, recomputed {value:.4f} {problem.currency}")
    if plan.lower_bound is not None:
        if plan.lower_bound > plan.objective + RELATIVE * max(1.0, abs(plan.objective)):
            issues.append(f"lower bound {plan.lower_bound} above the objective {plan.objective}")
        expected = max(0.0, plan.objective - plan.lower_bound) / abs(plan.objective) if plan.objective else 0.0
        if plan.gap is None or abs(plan.gap - expected) > RELATIVE:
            issues.append(f"gap {plan.gap}, expected {expected}")
    return issues

"""The independent checker of expansion plans: every rule recomputed from the raw problem, not the solver's helpers."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from microfab.planning.expand_problem import ExpansionPlan, ExpansionProblem

_REL = 1e-6


def _close(a: float, b: float, rel: float = _REL) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def validate(problem: ExpansionProblem, plan: ExpansionPlan) -> list[str]:  # noqa: C901, PLR0912 - one list of rules
    """Every broken rule of *plan* for *problem*, as a sentence (empty: the plan is valid)."""
    issues: list[str] = []
    periods = len(problem.periods)
    types = {t.name: t for t in problem.types}
    sites = {s.name: s for s in problem.sites}
    fleet: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * periods)
    for s in problem.sites:
        for t, n in s.existing.items():
            fleet[(s.name, t)] = [n] * periods
    for kind, sign, changes in (("deployment", 1, plan.deployments), ("retirement", -1, plan.retirements)):
        for c in changes:
            if c.site not in sites or c.module_type not in types or not 0 <= c.period < periods or c.count < 1:
                issues.append(f"{kind} {c}: unknown site or type, period out of range or count < 1")
                continue
            option, site = types[c.module_type], sites[c.site]
            if kind == "deployment" and c.period < option.lead:
                issues.append(f"{kind} {c}: productive before its lead time of {option.lead} period(s)")
            if kind == "deployment" and not (
                option.deployable and (site.allowed is None or option.name in site.allowed)
            ):
                issues.append(f"{kind} {c}: site {c.site} may not take {c.module_type}")
            if kind == "retirement" and not problem.retire:
                issues.append(f"{kind} {c}: retiring is off")
            row = fleet[(c.site, c.module_type)]
            for p in range(c.period, periods):
                row[p] += sign * c.count
    zero = (0,) * periods
    for key in sorted(set(fleet) | set(plan.fleet)):
        counts = tuple(fleet.get(key, zero))
        if min(counts) < 0:
            issues.append(f"fleet {key[0]}/{key[1]}: fewer than zero modules in some period")
        if counts != tuple(plan.fleet.get(key, zero)):
            issues.append(f"fleet {key[0]}/{key[1]}: the plan says {plan.fleet.get(key)}, the changes give {counts}")
    for s in problem.sites:
        for p in range(periods):
            used = sum(types[t].slots * row[p] for (site, t), row in fleet.items() if site == s.name)
            if used > s.slots:
                issues.append(f"site {s.name} period {p}: modules take {used} slots of {s.slots}")
    issues += _flows(problem, plan)
    issues += _capacity(problem, plan, fleet)
    issues += _costs(problem, plan, fleet)
    return issues


def _flows(problem: ExpansionProblem, plan: ExpansionPlan) -> list[str]:
    issues = []
    routes = {(r.site, r.market, r.family): r for r in problem.routes}
    served: dict[tuple[str, str, int], float] = defaultdict(float)
    for f in plan.flows:
        route = routes.get((f.site, f.market, f.family))
        if route is None or route.reason is not None:
            issues.append(f"flow {f}: no eligible route ({route.reason if route else 'none given'})")
        if f.units < 0:
            issues.append(f"flow {f}: negative units")
        served[(f.market, f.family, f.period)] += f.units
    lost = {(x.market, x.family, x.period): x.units for x in plan.lost}
    for d in problem.demands:
        for p, units in enumerate(d.units):
            got = served.get((d.market, d.family, p), 0.0)
            if got > units * (1 + _REL) + _REL:
                issues.append(f"demand {d.market}/{d.family} period {p}: {got:.6g} served of {units:.6g}")
            short = max(0.0, units - got)
            if abs(short - lost.get((d.market, d.family, p), 0.0)) > 1e-5 * max(1.0, units):
                issues.append(f"demand {d.market}/{d.family} period {p}: lost should be {short:.6g}")
    return issues


def _capacity(problem: ExpansionProblem, plan: ExpansionPlan, fleet: dict[tuple[str, str], list[int]]) -> list[str]:
    issues = []
    work = {f.name: f.work for f in problem.families}
    load: dict[tuple[str, str, int], float] = defaultdict(float)
    for f in plan.flows:
        for c, hours in work[f.family].items():
            load[(f.site, c, f.period)] += hours * f.units
    given: dict[tuple[str, str, int], float] = defaultdict(float)
    pooled: dict[tuple[str, str, int], float] = defaultdict(float)
    types = {t.name: t for t in problem.types}
    for u in plan.usage:
        if u.module_type not in types or u.capability not in types[u.module_type].capabilities or u.hours < 0:
            issues.append(f"usage {u}: the type does not offer the capability, or negative hours")
            continue
        given[(u.site, u.capability, u.period)] += u.hours
        pooled[(u.site, u.module_type, u.period)] += u.hours
    for (s, t, p), hours in pooled.items():
        option = types[t]
        available = option.rate * problem.periods[p].hours * fleet.get((s, t), [0] * len(problem.periods))[p]
        if hours > available * (1 + _REL) + _REL:
            issues.append(f"site {s} type {t} period {p}: {hours:.6g} h given, {available:.6g} h available")
    for (s, c, p), hours in load.items():
        if hours > given.get((s, c, p), 0.0) * (1 + _REL) + _REL:
            issues.append(
                f"site {s} capability {c} period {p}: load {hours:.6g} h > capacity {given.get((s, c, p), 0):.6g} h"
            )
    return issues


def _costs(problem: ExpansionProblem, plan: ExpansionPlan, fleet: dict[tuple[str, str], list[int]]) -> list[str]:
    types = {t.name: t for t in problem.types}
    routes = {(r.site, r.market, r.family): r for r in problem.routes}
    parts = {
        "capex": sum(
            float(types[t].capex) * row[p] * problem.periods[p].months
            for (_, t), row in fleet.items()
            for p in range(len(problem.periods))
        ),
        "deploy": sum(float(types[c.module_type].deploy_cost) * c.count for c in plan.deployments),
        "retire": sum(float(types[c.module_type].retire_cost) * c.count for c in plan.retirements),
        "production": sum(float(routes[(f.site, f.market, f.family)].production) * f.units for f in plan.flows),
        "freight": sum(float(routes[(f.site, f.market, f.family)].freight) * f.units for f in plan.flows),
        "duty": sum(float(routes[(f.site, f.market, f.family)].duty) * f.units for f in plan.flows),
        "lost_sales": sum(
            float(d.penalty) * x.units
            for d in problem.demands
            for x in plan.lost
            if (x.market, x.family) == (d.market, d.family)
        ),
    }
    issues = []
    total = sum(parts.values())
    if not _close(total, plan.objective, 1e-6):
        issues.append(f"objective {plan.objective:.6f} differs from the recomputed {total:.6f}")
    for name, value in parts.items():
        reported = getattr(plan.costs, name).amount
        if abs(reported - Decimal(repr(value))) > Decimal("0.01"):
            issues.append(f"cost {name}: reported {reported}, recomputed {value:.2f}")
    if plan.lower_bound is not None:
        if plan.lower_bound > plan.objective * (1 + 1e-6) + 1e-6:
            issues.append(f"lower bound {plan.lower_bound:.6f} above the objective {plan.objective:.6f}")
        gap = max(0.0, plan.objective - plan.lower_bound) / abs(plan.objective) if plan.objective else 0.0
        if plan.gap is None or abs(gap - plan.gap) > 1e-9:
            issues.append(f"gap {plan.gap} differs from the recomputed {gap}")
    return issues

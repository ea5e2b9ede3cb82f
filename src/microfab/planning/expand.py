"""Capacity expansion as a MILP on HiGHS: which modules to deploy or retire where and when, and who serves whom.

Model (docs/expansion.md), per site *s*, module type *t*, capability *c*, market *m*, family
*f* and period *p*:

- ``n[s,t,p]`` integer >= 0, modules present; ``dep[s,t,p]``, ``ret[s,t,p]`` integer >= 0,
  modules deployed (productive from *p*, only for ``p >= lead(t)`` and types the site may take)
  and retired (gone from *p*); ``n[s,t,p] - n[s,t,p-1] - dep[s,t,p] + ret[s,t,p] = 0``
  with ``n[s,t,-1]`` = the modules at the start;
- ``x[s,m,f,p] >= 0`` units made at *s* for *m* over an eligible route, ``lost[m,f,p] >= 0``:
  ``sum_s x[s,m,f,p] + lost[m,f,p] = demand[m,f,p]``;
- capacity: ``sum_{m,f} work[f,c] x[s,m,f,p] <= sum_t h[s,t,c,p]`` and, per type,
  ``sum_c h[s,t,c,p] <= rate(t) hours(p) n[s,t,p]`` (a type with one capability puts
  ``rate hours n`` in the capability's row directly): a module's hours are shared over its
  capabilities, never counted twice;
- slots: ``sum_t slots(t) n[s,t,p] <= slots(s)``;
- minimise ``sum capex(t) months(p) n + deploy(t) dep + retire(t) ret + unit_cost x + penalty lost``.

Solved by HiGHS's branch and cut from the plan that changes nothing (the modules at the start,
flows by the LP) with a time limit and a relative gap; the bound is HiGHS's dual bound.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import highspy
import numpy as np
from highspy._core import _Highs  # the solver without the Python wrapper: no banner on stdout

from microfab.planning import highs
from microfab.planning.expand_problem import (
    TOLERANCE,
    Change,
    ExpansionPlan,
    ExpansionProblem,
    ExpansionStatus,
    Flow,
    Route,
    Usage,
    breakdown,
    evaluate,
    fleet_of,
    lost_of,
)

_INF = highspy.kHighsInf
_UNLIMITED = 1e9  # seconds: "no time limit" for HiGHS


@dataclass(slots=True)
class Model:
    """The MILP column-wise, with what each column and row means (shared with the greedy baseline)."""

    cost: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    entries: list[list[tuple[int, float]]] = field(default_factory=list)
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)
    x: dict[tuple[str, str, str, int], int] = field(default_factory=dict)
    lost: dict[tuple[str, str, int], int] = field(default_factory=dict)
    n: dict[tuple[str, str, int], int] = field(default_factory=dict)
    dep: dict[tuple[str, str, int], int] = field(default_factory=dict)
    ret: dict[tuple[str, str, int], int] = field(default_factory=dict)
    h: dict[tuple[str, str, str, int], int] = field(default_factory=dict)
    capacity: dict[tuple[str, str, int], int] = field(default_factory=dict)  # (site, capability, period) -> row

    def row(self, lower: float, upper: float) -> int:
        """Add a row; return its index."""
        self.row_lower.append(lower)
        self.row_upper.append(upper)
        return len(self.row_lower) - 1

    def column(self, cost: float, upper: float, entries: list[tuple[int, float]], *, integer: bool) -> int:
        """Add a column with its non-zeros; return its index."""
        self.cost.append(cost)
        self.upper.append(upper)
        self.integer.append(integer)
        self.entries.append(entries)
        return len(self.cost) - 1

    def highs(self, *, threads: int, relax: bool = False) -> _Highs:
        """A silent HiGHS instance holding the model (an LP when *relax*)."""
        solver = highs.solver(threads, random_seed=0)
        empty = np.zeros(0, dtype=np.int32)
        solver.addRows(len(self.row_lower), np.array(self.row_lower), np.array(self.row_upper), 0, empty, empty, [])
        lengths = [len(e) for e in self.entries]
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int32)
        index = np.array([r for e in self.entries for r, _ in e], dtype=np.int32)
        value = np.array([v for e in self.entries for _, v in e], dtype=np.float64)
        count = len(self.cost)
        solver.addCols(
            count, np.array(self.cost), np.zeros(count), np.array(self.upper), len(index), starts, index, value
        )
        if not relax:
            integer = np.flatnonzero(self.integer).astype(np.int32)
            solver.changeColsIntegrality(len(integer), integer, np.ones(len(integer), dtype=np.uint8))
        return solver


def build(problem: ExpansionProblem) -> Model:
    """Every column and row of *problem*'s MILP (see the module docstring)."""
    model = Model()
    periods = range(len(problem.periods))
    needs = _capabilities_needed(problem)
    for site in problem.sites:
        for c in sorted(needs.get(site.name, ())):
            for p in periods:
                model.capacity[(site.name, c, p)] = model.row(-_INF, 0.0)
    _demand_columns(problem, model)
    for site in problem.sites:
        slots = [model.row(-_INF, float(site.slots)) for _ in periods]
        for option in problem.candidates(site):
            _fleet_columns(problem, model, site.name, option.name, slots, needs.get(site.name, set()))
    return model


def _capabilities_needed(problem: ExpansionProblem) -> dict[str, set[str]]:
    """Per site, the capabilities some eligible route's family needs."""
    needs: dict[str, set[str]] = {}
    for route in usable_routes(problem):
        work = problem.family(route.family).work
        needs.setdefault(route.site, set()).update(c for c, h in work.items() if h > 0)
    return needs


def usable_routes(problem: ExpansionProblem) -> list[Route]:
    """Eligible routes whose family's capabilities could all be present at the site (some type offers each)."""
    offered: dict[str, set[str]] = {}
    for site in problem.sites:
        offered[site.name] = {c for option in problem.candidates(site) for c in option.capabilities}
    return [
        route
        for route in problem.eligible()
        if all(c in offered[route.site] for c, h in problem.family(route.family).work.items() if h > 0)
    ]


def _demand_columns(problem: ExpansionProblem, model: Model) -> None:
    by_demand: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for route in usable_routes(problem):
        by_demand.setdefault((route.market, route.family), []).append((route.site, route.unit_cost))
    for demand in sorted(problem.demands, key=lambda d: (d.market, d.family)):
        work = sorted((c, h) for c, h in problem.family(demand.family).work.items() if h > 0)
        for p, units in enumerate(demand.units):
            if units <= 0:
                continue
            row = model.row(units, units)
            for site, cost in by_demand.get((demand.market, demand.family), []):
                entries = [(row, 1.0)] + [(model.capacity[(site, c, p)], h) for c, h in work]
                model.x[(site, demand.market, demand.family, p)] = model.column(cost, _INF, entries, integer=False)
            model.lost[(demand.market, demand.family, p)] = model.column(
                float(demand.penalty), units, [(row, 1.0)], integer=False
            )


def _fleet_columns(
    problem: ExpansionProblem, model: Model, site: str, name: str, slots: list[int], needs: set[str]
) -> None:
    """The n, dep, ret (and h) columns of one type at one site, with its fleet (and pool) rows."""
    option, where = problem.option(name), problem.site(site)
    existing = float(where.existing.get(name, 0))
    capabilities = sorted(option.capabilities & needs)
    shared = len(capabilities) > 1
    fleet = [model.row(existing, existing) if p == 0 else model.row(0.0, 0.0) for p in range(len(problem.periods))]
    limit = float(where.slots // option.slots)
    for p, period in enumerate(problem.periods):
        hours = problem.capacity_hours(option, p)
        entries = [(fleet[p], 1.0), (slots[p], float(option.slots))]
        if p + 1 < len(fleet):
            entries.append((fleet[p + 1], -1.0))
        if shared:
            pool = model.row(-_INF, 0.0)
            entries.append((pool, -hours))
            for c in capabilities:
                model.h[(site, name, c, p)] = model.column(
                    0.0, _INF, [(pool, 1.0), (model.capacity[(site, c, p)], -1.0)], integer=False
                )
        elif capabilities:
            entries.append((model.capacity[(site, capabilities[0], p)], -hours))
        model.n[(site, name, p)] = model.column(float(option.capex) * period.months, limit, entries, integer=True)
        if where.may_take(option) and p >= option.lead:
            model.dep[(site, name, p)] = model.column(
                float(option.deploy_cost), limit, [(fleet[p], -1.0)], integer=True
            )
        if problem.retire:
            model.ret[(site, name, p)] = model.column(float(option.retire_cost), limit, [(fleet[p], 1.0)], integer=True)


def plan_of(
    problem: ExpansionProblem,
    model: Model,
    values: np.ndarray,
    *,
    solver: str,
    status: ExpansionStatus,
    bound: float | None,
    runtime: float,
) -> ExpansionPlan:
    """The plan of the column *values*: changes rounded to whole modules, flows above a tolerance, its costs."""
    deployments = tuple(
        Change(s, t, p, round(values[c])) for (s, t, p), c in sorted(model.dep.items()) if values[c] > 0.5
    )
    retirements = tuple(
        Change(s, t, p, round(values[c])) for (s, t, p), c in sorted(model.ret.items()) if values[c] > 0.5
    )
    flows = tuple(
        Flow(s, m, f, p, float(values[c])) for (s, m, f, p), c in sorted(model.x.items()) if values[c] > TOLERANCE
    )
    fleet = fleet_of(problem, deployments, retirements)
    usage = [Usage(s, t, c, p, float(values[col])) for (s, t, c, p), col in model.h.items() if values[col] > 0]
    for s, t, p in model.n:
        option = problem.option(t)
        if fleet[(s, t)][p] and not any((s, t, c, p) in model.h for c in option.capabilities):
            hours = problem.capacity_hours(option, p) * fleet[(s, t)][p]
            usage += [Usage(s, t, c, p, hours) for c in sorted(option.capabilities) if (s, c, p) in model.capacity]
    parts = evaluate(problem, deployments, retirements, flows)
    objective = sum(parts.values())
    gap = None if bound is None else _gap(objective, bound)
    return ExpansionPlan(
        status=status,
        deployments=deployments,
        retirements=retirements,
        flows=flows,
        lost=lost_of(problem, flows),
        usage=tuple(sorted(usage, key=lambda u: (u.site, u.period, u.module_type, u.capability))),
        fleet=fleet,
        objective=objective,
        costs=breakdown(parts, problem.currency),
        lower_bound=bound,
        gap=gap,
        runtime=runtime,
        solver=solver,
        variables=len(model.cost),
        constraints=len(model.row_lower),
    )


def _gap(objective: float, bound: float) -> float:
    """(objective - bound) / objective, 0 when both are 0."""
    return max(0.0, objective - bound) / abs(objective) if objective else (0.0 if bound >= 0 else float("inf"))


def fleet_columns(model: Model, fleet: dict[tuple[str, str], list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """The n columns of *fleet* and their values, for `_Highs.changeColsBounds`."""
    columns, values = [], []
    for (site, name), counts in fleet.items():
        for p, count in enumerate(counts):
            columns.append(model.n[(site, name, p)])
            values.append(float(count))
    return np.array(columns, dtype=np.int32), np.array(values)


def round_fleet(
    problem: ExpansionProblem, model: Model, values: np.ndarray, theta: float
) -> dict[tuple[str, str], list[int]]:
    """Whole modules from the LP's fleet: up when the fraction is at least *theta*, within lead times and slots.

    Period by period per site: a type goes to ``floor(n_lp + 1 - theta)``, not above the previous
    period's count where it cannot be deployed (before its lead time, or not allowed at the site)
    and not below it when retiring is off; while the slots overflow, the module whose LP share is
    smallest is dropped.
    """
    fleet: dict[tuple[str, str], list[int]] = {}
    for site in problem.sites:
        names = [o.name for o in problem.candidates(site)]
        previous = {t: site.existing.get(t, 0) for t in names}
        for p in range(len(problem.periods)):
            lp = {t: float(values[model.n[(site.name, t, p)]]) for t in names}
            floor = {t: 0 if problem.retire else previous[t] for t in names}
            count = {}
            for t in names:
                ceiling = (
                    previous[t] if (site.name, t, p) not in model.dep else int(model.upper[model.n[(site.name, t, p)]])
                )
                count[t] = min(max(int(np.floor(lp[t] + 1 - theta + 1e-9)), floor[t]), ceiling)
            while sum(problem.option(t).slots * k for t, k in count.items()) > site.slots:
                t = min((t for t in names if count[t] > floor[t]), key=lambda t: (lp[t] - count[t] + 1, t))
                count[t] -= 1
            for t in names:
                fleet.setdefault((site.name, t), []).append(count[t])
            previous = count
    return fleet


def _heuristic(problem: ExpansionProblem, model: Model, lp: _Highs, values: np.ndarray, deadline: float) -> np.ndarray:
    """The best of the LP's roundings (`round_fleet` at several thresholds), flows re-optimised by the LP.

    The first rounding always runs to the end (a plan is needed whatever the clock says); the
    others while time is left before *deadline*. Each is an LP over the flows with the fleet
    fixed, so every plan it gives is consistent.
    """
    best, best_values = np.inf, None
    lp.setOptionValue("solver", "simplex")
    for rank, theta in enumerate((0.15, 0.3, 0.05, 0.5)):
        if rank and time.perf_counter() > deadline:
            break
        columns, counts = fleet_columns(model, round_fleet(problem, model, values, theta))
        lp.changeColsBounds(len(columns), columns, counts, counts)
        lp.setOptionValue("time_limit", _UNLIMITED if rank == 0 else max(0.05, deadline - time.perf_counter()))
        lp.run()
        if lp.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            if rank == 0:  # pragma: no cover - a fixed fleet leaves a feasible LP (lost sales take the rest)
                raise RuntimeError(
                    f"the rounded plan's LP did not solve: {lp.modelStatusToString(lp.getModelStatus())}"
                )
            break
        objective = lp.getInfo().objective_function_value
        if objective < best:
            best, best_values = objective, np.array(lp.getSolution().col_value)
    assert best_values is not None
    integer = np.flatnonzero(model.integer)
    best_values[integer] = np.round(best_values[integer])
    return best_values


def _settled(model: Model, lp: _Highs, values: np.ndarray) -> np.ndarray:
    """*values*' fleet in whole modules with the flows re-optimised by the LP: exact, whatever HiGHS's tolerances."""
    columns = np.array(sorted(model.n.values()), dtype=np.int32)
    counts = np.round(values[columns])
    lp.changeColsBounds(len(columns), columns, counts, counts)
    lp.setOptionValue("time_limit", _UNLIMITED)
    lp.run()
    if lp.getModelStatus() != highspy.HighsModelStatus.kOptimal:  # pragma: no cover - feasible as shown above
        return values
    settled = np.array(lp.getSolution().col_value)
    integer = np.flatnonzero(model.integer)
    settled[integer] = np.round(settled[integer])
    return settled


def expand_milp(
    problem: ExpansionProblem, *, time_limit: float = 10.0, gap: float = 1e-4, threads: int = 2
) -> ExpansionPlan:
    """Solve *problem* to a relative *gap* within *time_limit* seconds (model build included) with HiGHS.

    1. the LP relaxation (interior point): a lower bound; 2. its fleet rounded at several
    thresholds, flows re-optimised with the fleet fixed: the first plan; 3. HiGHS's branch and
    cut from that plan for the time left. OPTIMAL means within *gap* of the best bound (the LP's
    or HiGHS's), FEASIBLE that time ran out first; the plan is always valid. The LP and the
    first rounding always run to the end, so a very large instance may overrun *time_limit*.
    """
    started = time.perf_counter()
    model = build(problem)
    lp = model.highs(threads=threads, relax=True)
    lp.setOptionValue("solver", "ipm")
    lp.run()  # to the end, whatever the time limit: its bound and its fleet are what the rest builds on
    if lp.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"the LP relaxation did not solve: {lp.modelStatusToString(lp.getModelStatus())}")
    bound = float(lp.getInfo().objective_function_value)
    values = _heuristic(problem, model, lp, np.array(lp.getSolution().col_value), started + 0.6 * time_limit)
    plan = plan_of(problem, model, values, solver="highs", status=ExpansionStatus.FEASIBLE, bound=bound, runtime=0.0)
    left = time_limit - (time.perf_counter() - started)
    if plan.gap is not None and plan.gap > gap and left > 0.05:
        mip = model.highs(threads=threads)
        mip.setOptionValue("mip_rel_gap", gap)
        mip.setOptionValue("time_limit", left)
        mip.setSolution(len(values), np.arange(len(values), dtype=np.int32), values)
        mip.run()
        info = mip.getInfo()
        if np.isfinite(info.mip_dual_bound):
            bound = max(bound, float(info.mip_dual_bound))
        if info.primal_solution_status == 2 and info.objective_function_value < plan.objective - 1e-6:  # feasible
            values = _settled(model, lp, np.array(mip.getSolution().col_value))
        plan = plan_of(problem, model, values, solver="highs", status=plan.status, bound=bound, runtime=0.0)
    done = plan.gap is not None and plan.gap <= gap + 1e-9
    return replace(
        plan,
        status=ExpansionStatus.OPTIMAL if done else ExpansionStatus.FEASIBLE,
        runtime=time.perf_counter() - started,
    )

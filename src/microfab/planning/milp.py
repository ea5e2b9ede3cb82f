"""Allocation as a MILP on HiGHS: each order to a site and completion bucket (or split), or rejected.

Model (docs/planning.md): ``x[o,s,b]`` binary (a fraction for splittable orders), ``r[o]``
binary, ``sum x + r = 1``; cumulative capacity as ``load[s,c,b] + carry[s,c,b] - carry[s,c,b-1]
<= cap[s,c,b]`` (times ``y[s]``, binary, for a site with a fixed cost, with ``sum_b x[o,s,b] <=
y[s]``), and for every release bucket g > 0 the same chain over the buckets from g on with only
the orders released in g or later (``load_g``, ``carry_g``); minimise production + freight + duty
+ tardiness + penalties + fixed costs. Columns only for eligible pairs and
`AllocationProblem.candidates` buckets; the chains of release buckets > 0 enter the LP only once
its solution breaks them (row generation).

Method: 1. the LP by column and row generation (interior point, then dual simplex), any duals giving a
valid lower bound (``duals . rhs`` + each order's least reduced cost, its row being ``= 1``);
2. a dive (round site openings, fix whole orders the LP assigns, re-solve, price in columns that
became worth it, repeat; round splittable orders' rejections), the greedy placing what is left;
3. with every column in the model and the gap not reached, HiGHS's branch and cut from that plan.
"""

from __future__ import annotations

import time
from dataclasses import replace

import highspy
import numpy as np

from microfab.planning.greedy import Slack, greedy_pieces
from microfab.planning.milp_model import Arrays, Lp, build
from microfab.planning.problem import AllocationPlan, AllocationProblem, Piece, PlanStatus, assemble

ALL_COLUMNS = 20_000
"""With at most this many candidate columns (outside the release chains), all are in the LP from the start."""


def _relax(lp: Lp, deadline: float) -> float:
    """Solve the LP, adding priced-out columns and broken chains until none is left; the best lower bound found.

    Every LP on the way is a relaxation of the whole model (fewer columns can only raise its
    optimum, but the bound prices every column; fewer rows can only lower it), so each bound
    holds; once nothing is added the last LP's optimum is the whole LP's.
    """
    a = lp.arrays
    best = -np.inf
    solver = "ipm"
    while True:
        lp.run(solver, deadline - time.perf_counter())
        duals, reduced = a.priced(lp.duals())
        best = max(best, a.bound(duals, reduced))
        fresh = np.flatnonzero((lp.position < 0) & (reduced < -1e-6))
        cut = lp.separate()
        if (fresh.size == 0 and not cut) or time.perf_counter() > deadline:
            return best
        lp.add(fresh)
        solver = "simplex"


def _dive(problem: AllocationProblem, lp: Lp, deadline: float, share: float = 0.45) -> list[Piece]:
    """Round the LP: open or close sites, fix whole orders round by round, then settle the splittable ones."""
    model, slack = lp.model, Slack(problem)
    _settle(lp, list(model.opened.values()), deadline, every=True)
    columns: dict[str, list[int]] = {}
    for column in lp.columns:
        if column in model.x and not problem.order(model.x[column].order).splittable:
            columns.setdefault(model.x[column].order, []).append(column)
    fixed: list[Piece] = []
    while columns and time.perf_counter() < deadline and _fix(problem, lp, slack, columns, fixed, share):
        lp.run("simplex", deadline - time.perf_counter())
        _price(problem, lp, columns, {p.order for p in fixed}, deadline)
    splittable = [model.reject[o.id] for o in problem.orders if o.splittable]
    for last in range(5, -1, -1):  # fixing some can leave others fractional; the last round fixes them all
        if not _settle(lp, splittable, deadline, every=not last):
            break
        if lp.separate():
            lp.run("simplex", deadline - time.perf_counter())
    values = lp.values()
    served = {o for o, c in model.reject.items() if values[c] < 1e-6}
    splits: dict[str, list[Piece]] = {}
    for column, piece in model.x.items():
        if values[column] > 1e-7 and piece.order in served and problem.order(piece.order).splittable:
            splits.setdefault(piece.order, []).append(replace(piece, fraction=float(values[column])))
    return fixed + [piece for pieces in splits.values() if slack.take_all(pieces) for piece in pieces]


def _price(problem: AllocationProblem, lp: Lp, columns: dict[str, list[int]], fixed: set[str], deadline: float) -> None:
    """Add the chains the solution breaks (and re-solve), then the columns of orders not fixed yet that price out.

    A late bucket can become worth it. HiGHS keeps the solution's values, with 0 for the new
    columns, until the next solve.
    """
    if lp.separate():
        lp.run("simplex", deadline - time.perf_counter())
    _, reduced = lp.arrays.priced(lp.duals())
    fresh = [
        c
        for c in np.flatnonzero((lp.position < 0) & (reduced < -1e-6)).tolist()
        if c not in lp.model.x or lp.model.x[c].order not in fixed
    ]
    if not fresh:
        return
    lp.add(np.array(fresh, dtype=np.int64))
    for column in fresh:
        piece = lp.model.x.get(column)
        if piece is not None and not problem.order(piece.order).splittable:
            columns.setdefault(piece.order, []).append(column)


def _fix(
    problem: AllocationProblem, lp: Lp, slack: Slack, columns: dict[str, list[int]], fixed: list[Piece], share: float
) -> bool:
    """One round: fix at 1 each whole order's best column if integral, and the top *share* of the fractional ones.

    A column that does not fit beside the ones fixed before is fixed at 0 instead. Returns
    whether anything changed (no order has a positive value left when not).
    """
    values = lp.values()
    best = sorted(((values[c], -c) for c in (max(cs, key=values.__getitem__) for cs in columns.values())), reverse=True)
    ranked = [-c for v, c in best if v > 1e-6]
    fractional = sum(1 for v, _ in best if 1e-6 < v < 1 - 1e-6)
    ones, zeros = [], []
    for column in ranked[: len(ranked) - fractional + max(5, int(share * fractional))]:
        piece = lp.model.x[column]
        if slack.fits(problem.order(piece.order), piece.site, piece.bucket):
            slack.take(piece)
            fixed.append(piece)
            ones.append(column)
            del columns[piece.order]
        else:
            zeros.append(column)
            columns[piece.order].remove(column)
            if not columns[piece.order]:
                del columns[piece.order]
    lp.bounds(ones, 1.0, 1.0)
    lp.bounds(zeros, 0.0, 0.0)
    return bool(ranked)


def _settle(lp: Lp, binaries: list[int], deadline: float, *, every: bool) -> bool:
    """Fix *binaries* (openings, rejections; *every* one or the fractional ones) at their nearer end and re-solve.

    If the LP turns infeasible, the fractional ones fixed at 0 are fixed at 1 instead. Returns
    whether there was anything to fix.
    """
    values = lp.values()
    binaries = binaries if every else [c for c in binaries if 1e-6 < values[c] < 1 - 1e-6]
    up = [c for c in binaries if values[c] >= 0.5]
    down = [c for c in binaries if values[c] < 0.5]
    if not binaries:
        return False
    lp.bounds(up, 1.0, 1.0)
    lp.bounds(down, 0.0, 0.0)
    lp.run("simplex", deadline - time.perf_counter())
    if lp.highs.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
        lp.bounds([c for c in down if values[c] > 1e-6], 1.0, 1.0)
        lp.run("simplex", deadline - time.perf_counter())
    return True


def _polish(
    problem: AllocationProblem, lp: Lp, pieces: list[Piece], deadline: float, target: float
) -> tuple[list[Piece], float]:
    """HiGHS's branch and cut on the LP's columns, started from *pieces*; its best pieces and its bound."""
    model = lp.model
    where = {(p.order, p.site, p.bucket): c for c, p in model.x.items()}
    start: dict[int, float] = {}
    for piece in pieces:
        column = where[(piece.order, piece.site, piece.bucket)]
        start[column] = start.get(column, 0.0) + piece.fraction
    served, used = {p.order for p in pieces}, {p.site for p in pieces}
    start.update({c: float(o not in served) for o, c in model.reject.items()})
    start.update({c: float(s in used) for s, c in model.opened.items()})
    lp.add(np.array(sorted(start), dtype=np.int64))
    active = np.array(lp.columns, dtype=np.int64)
    lp.highs.changeColsBounds(
        len(active), lp.position[active].astype(np.int32), np.zeros(len(active)), lp.arrays.upper[active]
    )
    integer = [c for c in lp.columns if model.integer[c]]
    at = lp.position[integer].astype(np.int32)
    lp.highs.changeColsIntegrality(len(integer), at, np.ones(len(integer), dtype=np.uint8))
    lp.highs.setSolution(len(integer), at, np.array([start.get(c, 0.0) for c in integer]))
    lp.highs.setOptionValue("objective_target", target)
    lp.run("choose", deadline - time.perf_counter())
    info = lp.highs.getInfo()
    if info.primal_solution_status != 2:  # kSolutionStatusFeasible
        return pieces, info.mip_dual_bound
    values = lp.values()
    found = [(c, p) for c, p in model.x.items() if values[c] > (1e-7 if problem.order(p.order).splittable else 0.5)]
    return [replace(p, fraction=1.0 if model.integer[c] else float(values[c])) for c, p in found], info.mip_dual_bound


def _gap(objective: float, bound: float) -> float:
    """(objective - bound) / objective, 0 when both are 0."""
    return max(0.0, objective - bound) / abs(objective) if objective else (0.0 if bound >= 0 else np.inf)


def allocate_milp(
    problem: AllocationProblem, *, time_limit: float = 10.0, gap: float = 0.01, threads: int = 2
) -> AllocationPlan:
    """Solve *problem* to a relative *gap* within *time_limit* seconds (model build included) with HiGHS.

    Returns the plan with the best valid lower bound and its gap; OPTIMAL means within *gap*,
    FEASIBLE that time ran out first (see the module docstring for the method).
    """
    started = time.perf_counter()
    model = build(problem)
    lp = Lp(model, Arrays.of(model, problem), threads)
    everything = sum(1 for chain in model.column_chain if chain < 0) <= ALL_COLUMNS
    lp.add(np.flatnonzero(np.array(model.rank) <= (len(problem.buckets) if everything else 1)))
    bound = _relax(lp, started + 0.5 * time_limit)
    pieces = greedy_pieces(problem, _dive(problem, lp, started + 0.9 * time_limit))
    plan = assemble(problem, pieces, "highs")
    if _gap(plan.objective, bound) > gap and lp.complete and time.perf_counter() < started + 0.85 * time_limit:
        lp.highs.setOptionValue("mip_rel_gap", gap)
        lp.activate(np.flatnonzero(~lp.active))  # the whole model: HiGHS's plans and bound are then the problem's
        better, mip_bound = _polish(problem, lp, pieces, started + 0.9 * time_limit, bound / (1 - gap))
        bound = max(bound, mip_bound)  # every column is in: HiGHS's bound holds for the whole problem
        polished = assemble(problem, better, "highs")
        if polished.objective < plan.objective and Slack(problem).take_all(better):
            plan = polished
    final = _gap(plan.objective, bound) if np.isfinite(bound) else None
    return replace(
        plan,
        status=PlanStatus.OPTIMAL if final is not None and final <= gap else PlanStatus.FEASIBLE,
        lower_bound=float(bound) if final is not None else None,
        gap=final,
        runtime=time.perf_counter() - started,
        variables=len(model.cost),
        constraints=len(model.row_lower),
    )

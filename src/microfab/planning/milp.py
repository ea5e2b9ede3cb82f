"""Allocation as a MILP on HiGHS: each order to a site and completion bucket (or split), or rejected.

Model (docs/planning.md): ``x[o,s,b]`` binary (a fraction for splittable orders), ``r[o]``
binary, ``sum x + r = 1``; cumulative capacity as ``load[s,c,b] + carry[s,c,b] - carry[s,c,b-1]
<= cap[s,c,b]`` (times ``y[s]``, binary, for a site with a fixed cost, with ``sum_b x[o,s,b] <=
y[s]``); minimise production + freight + duty + tardiness + penalties + fixed costs. Columns only
for eligible pairs and `AllocationProblem.candidates` buckets.

Method: 1. the LP by column generation (interior point, then dual simplex), any duals giving a
valid lower bound (``duals . rhs`` + each order's least reduced cost, its row being ``= 1``);
2. a dive (round site openings, fix whole orders the LP assigns, re-solve, price in columns that
became worth it, repeat; round splittable orders' rejections), the greedy placing what is left;
3. with every column in the model and the gap not reached, HiGHS's branch and cut from that plan.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import highspy
import numpy as np
import numpy.typing as npt
from highspy._core import _Highs  # the solver without the Python wrapper: no banner on stdout, no callbacks

from microfab.planning.greedy import Slack, greedy_pieces
from microfab.planning.problem import AllocationPlan, AllocationProblem, Piece, PlanStatus, assemble

_INF = highspy.kHighsInf
ALL_COLUMNS = 20_000
"""With at most this many candidate columns, all are in the model from the start (no column generation)."""
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(slots=True)
class _Model:
    """The MILP column-wise, with what each column means."""

    cost: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    owner: list[int] = field(default_factory=list)  # the order's position (its row) for x and r columns, else -1
    rank: list[int] = field(default_factory=list)  # an x column's position among its (order, site)'s
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)
    x: dict[int, Piece] = field(default_factory=dict)  # column -> (order, site, bucket)
    reject: dict[str, int] = field(default_factory=dict)
    capacity: dict[tuple[str, str, int], int] = field(default_factory=dict)  # (site, capability, bucket) -> row
    opened: dict[str, int] = field(default_factory=dict)
    links: dict[str, list[int]] = field(default_factory=dict)  # site -> rows sum_b x[o,s,b] - y[s] <= 0

    def row(self, lower: float, upper: float) -> int:
        self.row_lower.append(lower)
        self.row_upper.append(upper)
        return len(self.row_lower) - 1

    def column(
        self, cost: float, upper: float, entries: list[tuple[int, float]], *, integer: bool, owner: int = -1
    ) -> int:
        self.starts.append(len(self.rows))
        self.cost.append(cost)
        self.upper.append(upper)
        self.integer.append(integer)
        self.owner.append(owner)
        self.rank.append(0)
        for row, value in entries:
            self.rows.append(row)
            self.values.append(value)
        return len(self.cost) - 1


def build(problem: AllocationProblem) -> _Model:
    """Every candidate column of *problem* (see the module docstring)."""
    model = _Model()
    for _ in problem.orders:
        model.row(1.0, 1.0)
    for site in problem.sites:
        fixed = float(site.fixed_cost) > 0
        for capability, hours in sorted(site.capacity.items()):
            for b, cap in enumerate(hours):
                model.capacity[(site.name, capability, b)] = model.row(-_INF, 0.0 if fixed else cap)
    for position in range(len(problem.orders)):
        _order_columns(problem, model, position)
    for site in problem.sites:
        for capability in sorted(site.capacity):
            for b in range(len(problem.buckets) - 1):
                rows = model.capacity[(site.name, capability, b)], model.capacity[(site.name, capability, b + 1)]
                model.column(0.0, _INF, [(rows[0], 1.0), (rows[1], -1.0)], integer=False)
        if float(site.fixed_cost) > 0:
            entries = [(row, -1.0) for row in model.links.get(site.name, [])]
            entries += [
                (model.capacity[(site.name, c, b)], -h)
                for c, caps in site.capacity.items()
                for b, h in enumerate(caps)
                if h
            ]
            model.opened[site.name] = model.column(float(site.fixed_cost), 1.0, entries, integer=True)
    return model


def _order_columns(problem: AllocationProblem, model: _Model, position: int) -> None:
    """The x columns of one order at each eligible site and candidate bucket, then its reject column."""
    order = problem.orders[position]
    for pair in problem.eligible(order.id):
        buckets = problem.candidates(order, pair)
        link: list[tuple[int, float]] = []
        if buckets and float(problem.site(pair.site).fixed_cost) > 0:
            link = [(model.row(-_INF, 0.0), 1.0)]
            model.links.setdefault(pair.site, []).append(link[0][0])
        for rank, b in enumerate(buckets):
            cost = pair.total + float(order.weight) * problem.tardiness(order, pair, b)
            entries = [(position, 1.0), *link]
            entries += [(model.capacity[(pair.site, c, b)], h) for c, h in sorted(order.work.items()) if h > 0]
            column = model.column(cost, 1.0, entries, integer=not order.splittable, owner=position)
            model.rank[column] = rank
            model.x[column] = Piece(order.id, pair.site, b)
    model.reject[order.id] = model.column(
        float(order.reject_penalty), 1.0, [(position, 1.0)], integer=True, owner=position
    )


@dataclass(frozen=True, slots=True)
class _Arrays:
    """The model as numpy arrays, for pricing and bounds."""

    cost: Floats
    upper: Floats
    starts: Ints  # one more than columns
    rows: Ints
    values: Floats
    column_of: Ints  # the column of each non-zero
    owner: Ints
    row_lower: Floats
    row_upper: Floats

    @classmethod
    def of(cls, model: _Model) -> _Arrays:
        starts = np.array([*model.starts, len(model.rows)], dtype=np.int64)
        return cls(
            np.array(model.cost), np.array(model.upper), starts, np.array(model.rows, dtype=np.int64),
            np.array(model.values), np.repeat(np.arange(len(model.cost)), np.diff(starts)),
            np.array(model.owner, dtype=np.int64), np.array(model.row_lower), np.array(model.row_upper),
        )  # fmt: skip

    def priced(self, duals: Floats) -> tuple[Floats, Floats]:
        """Duals with the sign their row allows, and every column's reduced cost under them."""
        duals = np.where(self.row_lower <= -_INF, np.minimum(duals, 0.0), duals)
        product = np.bincount(self.column_of, weights=self.values * duals[self.rows], minlength=len(self.cost))
        return duals, self.cost - product

    def bound(self, duals: Floats, reduced: Floats) -> float:
        """A lower bound on the MILP from any duals: ``y.b`` + per order its least reduced cost (its row is ``= 1``)."""
        rhs = np.where(duals < 0, self.row_upper, self.row_lower)
        total = float(np.dot(np.where(duals != 0, duals, 0.0), np.where(duals != 0, rhs, 0.0)))
        mine = self.owner >= 0
        least = np.full(int(self.owner.max(initial=-1)) + 1, np.inf)
        np.minimum.at(least, self.owner[mine], reduced[mine])
        total += float(least.sum())
        others = ~mine & (reduced < 0)
        if np.any(np.isinf(self.upper[others]) & (reduced[others] < -1e-6)):
            return -np.inf
        return total + float(np.dot(reduced[others], np.where(np.isinf(self.upper[others]), 0.0, self.upper[others])))


class _Lp:
    """One HiGHS instance over a growing subset of the model's columns."""

    def __init__(self, model: _Model, arrays: _Arrays, threads: int) -> None:
        self.model, self.arrays = model, arrays
        self.highs = _Highs()
        for name, value in (("output_flag", False), ("threads", threads), ("random_seed", 0)):
            self.highs.setOptionValue(name, value)
        empty = np.zeros(0, dtype=np.int32)
        self.highs.addRows(len(arrays.row_lower), arrays.row_lower, arrays.row_upper, 0, empty, empty, np.zeros(0))
        self.position = np.full(len(arrays.cost), -1, dtype=np.int64)
        self.columns: list[int] = []

    @property
    def complete(self) -> bool:
        """Whether every column of the model is in."""
        return len(self.columns) == len(self.arrays.cost)

    def add(self, columns: Ints) -> None:
        columns = columns[self.position[columns] < 0]
        if columns.size == 0:
            return
        a = self.arrays
        lengths = a.starts[columns + 1] - a.starts[columns]
        entries = np.concatenate([np.arange(a.starts[c], a.starts[c + 1]) for c in columns])
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int32)
        self.highs.addCols(
            len(columns),
            a.cost[columns],
            np.zeros(len(columns)),
            a.upper[columns],
            len(entries),
            starts,
            a.rows[entries].astype(np.int32),
            a.values[entries],
        )
        self.position[columns] = np.arange(len(self.columns), len(self.columns) + len(columns))
        self.columns += columns.tolist()

    def run(self, solver: str, time_limit: float) -> None:
        """Solve with *solver* for at most *time_limit* more seconds (HiGHS's limit counts all its runs)."""
        self.highs.setOptionValue("solver", solver)
        self.highs.setOptionValue("time_limit", self.highs.getRunTime() + max(0.01, time_limit))
        self.highs.run()

    def values(self) -> Floats:
        values = np.zeros(len(self.arrays.cost))
        values[self.columns] = self.highs.getSolution().col_value
        return values

    def bounds(self, columns: list[int], lower: float, upper: float) -> None:
        if columns:
            index = self.position[columns].astype(np.int32)
            self.highs.changeColsBounds(len(columns), index, np.full(len(columns), lower), np.full(len(columns), upper))


def _relax(lp: _Lp, deadline: float) -> float:
    """Solve the LP, adding priced-out columns until none is left; return the best lower bound found."""
    a = lp.arrays
    best = -np.inf
    solver = "ipm"
    while True:
        lp.run(solver, deadline - time.perf_counter())
        duals, reduced = a.priced(np.array(lp.highs.getSolution().row_dual))
        best = max(best, a.bound(duals, reduced))
        fresh = np.flatnonzero((lp.position < 0) & (reduced < -1e-6))
        if fresh.size == 0 or time.perf_counter() > deadline:
            return best
        lp.add(fresh)
        solver = "simplex"


def _dive(problem: AllocationProblem, lp: _Lp, deadline: float, share: float = 0.45) -> list[Piece]:
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
        _price(problem, lp, columns, {p.order for p in fixed})
    _settle(lp, [model.reject[o.id] for o in problem.orders if o.splittable], deadline, every=False)
    values = lp.values()
    served = {o for o, c in model.reject.items() if values[c] < 1e-6}
    splits: dict[str, list[Piece]] = {}
    for column, piece in model.x.items():
        if values[column] > 1e-7 and piece.order in served and problem.order(piece.order).splittable:
            splits.setdefault(piece.order, []).append(replace(piece, fraction=float(values[column])))
    return fixed + [piece for pieces in splits.values() if slack.take_all(pieces) for piece in pieces]


def _price(problem: AllocationProblem, lp: _Lp, columns: dict[str, list[int]], fixed: set[str]) -> None:
    """Add the columns of orders not fixed yet that now price out (a late bucket can become worth it).

    HiGHS keeps the solution's values, with 0 for the new columns, until the next solve.
    """
    _, reduced = lp.arrays.priced(np.array(lp.highs.getSolution().row_dual))
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
    problem: AllocationProblem, lp: _Lp, slack: Slack, columns: dict[str, list[int]], fixed: list[Piece], share: float
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


def _settle(lp: _Lp, binaries: list[int], deadline: float, *, every: bool) -> None:
    """Fix *binaries* (openings, rejections; *every* one or the fractional ones) at their nearer end and re-solve.

    If the LP turns infeasible, the fractional ones fixed at 0 are fixed at 1 instead.
    """
    values = lp.values()
    binaries = binaries if every else [c for c in binaries if 1e-6 < values[c] < 1 - 1e-6]
    up = [c for c in binaries if values[c] >= 0.5]
    down = [c for c in binaries if values[c] < 0.5]
    if not binaries:
        return
    lp.bounds(up, 1.0, 1.0)
    lp.bounds(down, 0.0, 0.0)
    lp.run("simplex", deadline - time.perf_counter())
    if lp.highs.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
        lp.bounds([c for c in down if values[c] > 1e-6], 1.0, 1.0)
        lp.run("simplex", deadline - time.perf_counter())


def _polish(
    problem: AllocationProblem, lp: _Lp, pieces: list[Piece], deadline: float, target: float
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
    lp = _Lp(model, _Arrays.of(model), threads)
    everything = len(model.cost) <= ALL_COLUMNS
    lp.add(np.flatnonzero(np.array(model.rank) <= (len(problem.buckets) if everything else 1)))
    bound = _relax(lp, started + 0.5 * time_limit)
    pieces = greedy_pieces(problem, _dive(problem, lp, started + 0.9 * time_limit))
    plan = assemble(problem, pieces, "highs")
    if _gap(plan.objective, bound) > gap and lp.complete and time.perf_counter() < started + 0.85 * time_limit:
        lp.highs.setOptionValue("mip_rel_gap", gap)
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

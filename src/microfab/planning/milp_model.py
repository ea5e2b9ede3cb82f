"""The allocation MILP column-wise (`Model`, `build`), as numpy arrays (`Arrays`) and on HiGHS over subsets (`Lp`).

`build` writes every candidate column and every row (docs/planning.md, "The model"): one row per
order, the capacity rows of each site, capability and bucket with their carry columns, and per
release bucket g > 0 a chain of the same rows over the buckets from g on, holding only the
orders released in g or later. `Lp` starts with the rows outside the chains and takes columns
(column generation) and chains (row generation, `Lp.separate`) as `microfab.planning.milp`
asks for them; `Arrays` prices every column and bounds the MILP from any duals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import highspy
import numpy as np
import numpy.typing as npt

from microfab.planning.highs import solver
from microfab.planning.problem import AllocationProblem, Piece, PlanSite

INF = highspy.kHighsInf
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(slots=True)
class Model:
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
    # (site, capability) -> (release bucket g, rows of its chain for the buckets g, g + 1, ...), by g
    chains: dict[tuple[str, str], list[tuple[int, list[int]]]] = field(default_factory=dict)
    chain_rows: list[list[int]] = field(default_factory=list)  # chain -> its rows, in bucket order
    row_chain: list[int] = field(default_factory=list)  # the chain a row belongs to, -1 for the rows always in
    column_chain: list[int] = field(default_factory=list)  # the chain a carry column belongs to, else -1

    def row(self, lower: float, upper: float, chain: int = -1) -> int:
        """Add a row ``lower <= a.x <= upper`` (of *chain*, -1 for a row always in the LP); its index."""
        self.row_lower.append(lower)
        self.row_upper.append(upper)
        self.row_chain.append(chain)
        return len(self.row_lower) - 1

    def column(
        self,
        cost: float,
        upper: float,
        entries: list[tuple[int, float]],
        *,
        integer: bool,
        owner: int = -1,
        chain: int = -1,
    ) -> int:
        """Add a column with its (row, value) *entries*; its index."""
        self.starts.append(len(self.rows))
        self.cost.append(cost)
        self.upper.append(upper)
        self.integer.append(integer)
        self.owner.append(owner)
        self.rank.append(0)
        self.column_chain.append(chain)
        for row, value in entries:
            self.rows.append(row)
            self.values.append(value)
        return len(self.cost) - 1


def build(problem: AllocationProblem) -> Model:
    """Every candidate column and every row of *problem* (see the module docstring)."""
    model = Model()
    for _ in problem.orders:
        model.row(1.0, 1.0)
    groups = _release_groups(problem)
    for site in problem.sites:
        fixed = float(site.fixed_cost) > 0
        for capability, hours in sorted(site.capacity.items()):
            for b, cap in enumerate(hours):
                model.capacity[(site.name, capability, b)] = model.row(-INF, 0.0 if fixed else cap)
            for g in groups.get((site.name, capability), ()):
                chain = len(model.chain_rows)
                rows = [model.row(-INF, 0.0 if fixed else hours[b], chain) for b in range(g, len(hours))]
                model.chain_rows.append(rows)
                model.chains.setdefault((site.name, capability), []).append((g, rows))
    for position in range(len(problem.orders)):
        _order_columns(problem, model, position)
    for site in problem.sites:
        _site_columns(problem, model, site)
    return model


def _site_columns(problem: AllocationProblem, model: Model, site: PlanSite) -> None:
    """The carry columns of a site's capacity rows and chains, then its opening column if it has a fixed cost."""
    for capability in sorted(site.capacity):
        base = [model.capacity[(site.name, capability, b)] for b in range(len(problem.buckets))]
        for first, second in pairwise(base):
            model.column(0.0, INF, [(first, 1.0), (second, -1.0)], integer=False)
        for _, rows in model.chains.get((site.name, capability), ()):
            for first, second in pairwise(rows):
                model.column(0.0, INF, [(first, 1.0), (second, -1.0)], integer=False, chain=model.row_chain[first])
    if float(site.fixed_cost) > 0:
        entries = [(row, -1.0) for row in model.links.get(site.name, [])]
        for c, caps in site.capacity.items():
            entries += [(model.capacity[(site.name, c, b)], -h) for b, h in enumerate(caps) if h]
            for g, rows in model.chains.get((site.name, c), ()):
                entries += [(row, -caps[g + k]) for k, row in enumerate(rows) if caps[g + k]]
        model.opened[site.name] = model.column(float(site.fixed_cost), 1.0, entries, integer=True)


def _release_groups(problem: AllocationProblem) -> dict[tuple[str, str], list[int]]:
    """Per (site, capability), the release buckets > 0 of the orders that site could make needing it."""
    groups: dict[tuple[str, str], set[int]] = {}
    for order in problem.orders:
        release = problem.release_bucket(order)
        if not 0 < release < len(problem.buckets):
            continue
        for pair in problem.eligible(order.id):
            for capability, hours in order.work.items():
                if hours > 0:
                    groups.setdefault((pair.site, capability), set()).add(release)
    return {key: sorted(found) for key, found in groups.items()}


def _order_columns(problem: AllocationProblem, model: Model, position: int) -> None:
    """The x columns of one order at each eligible site and candidate bucket, then its reject column.

    Each x column is in its capability's base row for its bucket and in the chains of the release
    buckets at or before the order's (their row for the same bucket).
    """
    order = problem.orders[position]
    release = problem.release_bucket(order)
    work = sorted((c, h) for c, h in order.work.items() if h > 0)
    for pair in problem.eligible(order.id):
        buckets = problem.candidates(order, pair)
        link: list[tuple[int, float]] = []
        if buckets and float(problem.site(pair.site).fixed_cost) > 0:
            link = [(model.row(-INF, 0.0), 1.0)]
            model.links.setdefault(pair.site, []).append(link[0][0])
        chains = [
            (c, h, [(g, rows) for g, rows in model.chains.get((pair.site, c), ()) if g <= release]) for c, h in work
        ]
        for rank, b in enumerate(buckets):
            cost = pair.total + float(order.weight) * problem.tardiness(order, pair, b)
            entries = [(position, 1.0), *link]
            for c, h, mine in chains:
                entries.append((model.capacity[(pair.site, c, b)], h))
                entries += [(rows[b - g], h) for g, rows in mine]
            column = model.column(cost, 1.0, entries, integer=not order.splittable, owner=position)
            model.rank[column] = rank
            model.x[column] = Piece(order.id, pair.site, b)
    model.reject[order.id] = model.column(
        float(order.reject_penalty), 1.0, [(position, 1.0)], integer=True, owner=position
    )


def _ranges(starts: Ints, ends: Ints) -> tuple[Ints, Ints]:
    """The indices ``starts[i] .. ends[i] - 1`` of every i, one after the other, and the i of each."""
    lengths = ends - starts
    which = np.repeat(np.arange(len(starts)), lengths)
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64) if len(starts) else lengths
    return np.arange(int(lengths.sum())) - np.repeat(offsets - starts, lengths), which


@dataclass(frozen=True, slots=True)
class Arrays:
    """The model as numpy arrays, for pricing, bounds and the release chains."""

    cost: Floats
    upper: Floats
    starts: Ints  # one more than columns
    rows: Ints
    values: Floats
    column_of: Ints  # the column of each non-zero
    owner: Ints
    row_lower: Floats
    row_upper: Floats
    row_chain: Ints
    column_chain: Ints
    by_row: Ints  # the non-zeros sorted by row
    row_starts: Ints  # one more than rows: where each row's non-zeros start in by_row
    chain_rows: Ints  # every chain's rows, one chain after the other
    chain_starts: Ints  # where each chain starts in chain_rows
    chain_scale: Floats  # the capacity over each chain's buckets (a scale for its tolerance)

    @classmethod
    def of(cls, model: Model, problem: AllocationProblem) -> Arrays:
        """The arrays of *model*, built from *problem*."""
        starts = np.array([*model.starts, len(model.rows)], dtype=np.int64)
        rows = np.array(model.rows, dtype=np.int64)
        by_row = np.argsort(rows, kind="stable")
        row_starts = np.searchsorted(rows[by_row], np.arange(len(model.row_lower) + 1))
        chain_rows = np.array([r for chain in model.chain_rows for r in chain], dtype=np.int64)
        lengths = [len(chain) for chain in model.chain_rows]
        scale = [  # in the chains' order: the model numbers them as it adds them to `chains`
            sum(problem.site(site).capacity[capability][g:]) for (site, capability), chains in model.chains.items()
            for g, _ in chains
        ]  # fmt: skip
        return cls(
            np.array(model.cost), np.array(model.upper), starts, rows,
            np.array(model.values), np.repeat(np.arange(len(model.cost)), np.diff(starts)),
            np.array(model.owner, dtype=np.int64), np.array(model.row_lower), np.array(model.row_upper),
            np.array(model.row_chain, dtype=np.int64), np.array(model.column_chain, dtype=np.int64),
            by_row, row_starts.astype(np.int64), chain_rows,
            np.cumsum([0, *lengths[:-1]], dtype=np.int64) if lengths else np.zeros(0, dtype=np.int64),
            np.array(scale, dtype=np.float64),
        )  # fmt: skip

    def priced(self, duals: Floats) -> tuple[Floats, Floats]:
        """Duals with the sign their row allows, and every column's reduced cost under them."""
        duals = np.where(self.row_lower <= -INF, np.minimum(duals, 0.0), duals)
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

    def broken(self, values: Floats) -> Ints:
        """The chains whose cumulative capacity *values* exceed somewhere (beyond a tolerance)."""
        if not len(self.chain_starts):
            return np.zeros(0, dtype=np.int64)
        carry = self.column_chain[self.column_of] >= 0  # a chain's own carry columns do not load it
        used = np.where(carry, 0.0, self.values * values[self.column_of])
        activity = np.bincount(self.rows, weights=used, minlength=len(self.row_lower))
        over = np.cumsum((activity - self.row_upper)[self.chain_rows])
        before = np.concatenate(([0.0], over))[self.chain_starts]
        worst = np.maximum.reduceat(
            over - np.repeat(before, np.diff([*self.chain_starts, len(over)])), self.chain_starts
        )
        return np.flatnonzero(worst > 1e-6 * (1.0 + self.chain_scale))


class Lp:
    """One HiGHS instance over a growing subset of the model's columns and rows.

    The rows of the release chains (`Model.chain_rows`) and their carry columns come in only
    when `separate` finds the solution breaking the chain (or `activate` is asked for them).
    """

    def __init__(self, model: Model, arrays: Arrays, threads: int) -> None:
        self.model, self.arrays = model, arrays
        self.highs = solver(threads, random_seed=0)
        self.position = np.full(len(arrays.cost), -1, dtype=np.int64)
        self.columns: list[int] = []
        self.row_at = np.full(len(arrays.row_lower), -1, dtype=np.int64)
        self.row_list = np.zeros(0, dtype=np.int64)
        self.active = np.zeros(len(arrays.chain_starts), dtype=bool)
        self._rows(np.flatnonzero(arrays.row_chain < 0))

    @property
    def complete(self) -> bool:
        """Whether every column of the model outside the release chains is in."""
        return bool(np.all(self.position[self.arrays.column_chain < 0] >= 0))

    def add(self, columns: Ints) -> None:
        """Add *columns* not in yet (a carry column only once its chain is in)."""
        a = self.arrays
        chain = a.column_chain[columns]
        allowed = chain < 0
        allowed[~allowed] = self.active[chain[~allowed]]
        columns = columns[(self.position[columns] < 0) & allowed]
        if columns.size == 0:
            return
        entries, which = _ranges(a.starts[columns], a.starts[columns + 1])
        at = self.row_at[a.rows[entries]]
        keep = at >= 0
        counts = np.bincount(which[keep], minlength=len(columns))
        self.highs.addCols(
            len(columns),
            a.cost[columns],
            np.zeros(len(columns)),
            a.upper[columns],
            int(keep.sum()),
            np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int32),
            at[keep].astype(np.int32),
            a.values[entries[keep]],
        )
        self.position[columns] = np.arange(len(self.columns), len(self.columns) + len(columns))
        self.columns += columns.tolist()

    def _rows(self, rows: Ints) -> None:
        """Add model *rows* with the entries of the columns already in."""
        a = self.arrays
        entries, which = _ranges(a.row_starts[rows], a.row_starts[rows + 1])
        entries = a.by_row[entries]
        at = self.position[a.column_of[entries]]
        keep = at >= 0
        counts = np.bincount(which[keep], minlength=len(rows))
        self.highs.addRows(
            len(rows),
            a.row_lower[rows],
            a.row_upper[rows],
            int(keep.sum()),
            np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int32),
            at[keep].astype(np.int32),
            a.values[entries[keep]],
        )
        self.row_at[rows] = np.arange(len(self.row_list), len(self.row_list) + len(rows))
        self.row_list = np.concatenate((self.row_list, rows))

    def activate(self, chains: Ints) -> None:
        """Bring *chains* (not in yet) into the LP: their rows, then their carry columns."""
        chains = chains[~self.active[chains]]
        if chains.size == 0:
            return
        a = self.arrays
        ends = np.array([*a.chain_starts[1:], len(a.chain_rows)])
        self._rows(a.chain_rows[_ranges(a.chain_starts[chains], ends[chains])[0]])
        self.active[chains] = True
        self.add(np.flatnonzero(np.isin(a.column_chain, chains)))

    def separate(self) -> bool:
        """Bring in the chains the current solution breaks; whether there were any."""
        broken = self.arrays.broken(self.values())
        broken = broken[~self.active[broken]]
        self.activate(broken)
        return bool(broken.size)

    def duals(self) -> Floats:
        """The row duals of the last solve, per model row (0 for a row not in the LP)."""
        duals = np.zeros(len(self.arrays.row_lower))
        duals[self.row_list] = self.highs.getSolution().row_dual
        return duals

    def run(self, solver: str, time_limit: float) -> None:
        """Solve with *solver* for at most *time_limit* more seconds (HiGHS's limit counts all its runs)."""
        self.highs.setOptionValue("solver", solver)
        self.highs.setOptionValue("time_limit", self.highs.getRunTime() + max(0.01, time_limit))
        self.highs.run()

    def values(self) -> Floats:
        """The last solution's value of every model column (0 for a column not in the LP)."""
        values = np.zeros(len(self.arrays.cost))
        values[self.columns] = self.highs.getSolution().col_value
        return values

    def bounds(self, columns: list[int], lower: float, upper: float) -> None:
        """Set the bounds of model *columns* (in the LP)."""
        if columns:
            index = self.position[columns].astype(np.int32)
            self.highs.changeColsBounds(len(columns), index, np.full(len(columns), lower), np.full(len(columns), upper))

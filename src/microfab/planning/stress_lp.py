"""The stress-test linear programs on HiGHS, each built once; a question about a node only changes bounds.

Two forms of the same model (``docs/stress-tests.md`` has the formulas):

- the **window form**, for TTS: the window T (days) is a column and quantities are totals
  over it, so "the longest T" is the objective. Columns ``T``, ``x[i]`` (units made over the
  window), ``y[a]`` (units on arc *a*), ``v[i]`` (units of stock used, <= stock[i]). Rows:
  balance[i] ``v[i] + x[i] - out[i] - d[i] T >= 0``, capacity[i] ``x[i] - c[i] T <= 0`` (for
  0 < c < inf: c = 0 fixes x at 0, an unlimited node has no row), and consumption;
- the **rate form**, for TTR and the mitigations: with ``lam = 1 / T`` quantities are per day
  of the window, so capacities and demand are plain bounds and a node's stock counts
  ``stock * lam`` per day. Columns ``lam``, ``u[k]`` (sales of the k-th product with demand,
  <= d or = d), ``x[i]`` (<= c[i]), ``e[i]`` extra stock per day of window, ``w[i]`` extra
  capacity (e and w fixed at 0 outside a mitigation question; ``w`` consumes inputs like
  ``x``), ``y[a]``. Rows: balance[i] ``stock[i] lam + x[i] + w[i] + e[i] - out[i] - u[i] >= 0``
  and consumption.

In both, out[i] = sum of the arcs leaving *i* + sum over the lines with *i* as their only
supplier of qty x (x + w) of the line's parent; consumption[l] = ``sum_{a on l} y[a] - qty[l]
x[parent(l)] = 0`` only for lines with alternative suppliers. A node is down when ``x`` (and
``w``) is 0. Each form was measured faster for its questions (fewer pivots per re-solve:
the TTS pivots grow with how much the window moves, the TTR ones with bounds turned into rows).

`StressLp` keeps one HiGHS instance and changes bounds and costs in place between solves (HiGHS
re-solves from the previous basis); with ``rebuild=True`` it builds a fresh instance for every
solve instead: the naive baseline of the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt
from highspy._core import _Highs  # the solver without the Python wrapper: no banner on stdout

from microfab.planning.highs import solver
from microfab.planning.stress_network import BomLine, StressNetwork

INF = highspy.kHighsInf
Floats = npt.NDArray[np.float64]
_Entries = list[tuple[int, float]]
_THREADS = 1
"""The LPs are small and solved one after another: one thread (`microfab.planning.highs` keeps
other thread counts in the same process working)."""


@dataclass(frozen=True, slots=True)
class Layout:
    """Where each variable sits in both forms, and the data the questions need."""

    nodes: int
    products: tuple[int, ...]  # node position of each product with demand, in column order of u
    rates: Floats  # d[k], units/day, aligned with products
    margins: Floats  # f[k], money per unit, aligned with products
    capacities: Floats  # c[i], units/day

    def u(self, k: int) -> int:
        """Rate form: column of the k-th product with demand (column 0 is lam)."""
        return 1 + k

    def x(self, i: int) -> int:
        """Rate form: units/day node *i* makes."""
        return 1 + len(self.products) + i

    def e(self, i: int) -> int:
        """Rate form: extra stock of node *i* per day of window."""
        return 1 + len(self.products) + self.nodes + i

    def w(self, i: int) -> int:
        """Rate form: extra capacity of node *i*, units/day."""
        return 1 + len(self.products) + 2 * self.nodes + i

    def y(self, a: int) -> int:
        """Rate form: arc *a*."""
        return 1 + len(self.products) + 3 * self.nodes + a


@dataclass(slots=True)
class Arrays:
    """One model column-wise (CSC) with its current bounds and costs."""

    cost: Floats
    col_lower: Floats
    col_upper: Floats
    row_lower: Floats
    row_upper: Floats
    starts: npt.NDArray[np.int32]
    index: npt.NDArray[np.int32]
    value: Floats

    @classmethod
    def of(cls, entries: list[_Entries], bounds: tuple[Floats, Floats], rows: tuple[Floats, Floats]) -> Arrays:
        """The model with *entries* per column, column *bounds* (lower, upper), *rows* (lower, upper), costs 0."""
        lengths = np.array([len(column) for column in entries], dtype=np.int64)
        flat = [entry for column in entries for entry in column]
        return cls(
            cost=np.zeros(len(entries)),
            col_lower=bounds[0],
            col_upper=bounds[1],
            row_lower=rows[0],
            row_upper=rows[1],
            starts=np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int32),
            index=np.array([r for r, _ in flat], dtype=np.int32),
            value=np.array([v for _, v in flat], dtype=np.float64),
        )


@dataclass(frozen=True, slots=True)
class _Topology:
    """The rows and columns both forms share: balances, consumption rows, what making a unit draws."""

    made: list[_Entries]  # per node: the entries of its production column (balances 0..N-1, consumption N..)
    arcs: list[_Entries]  # per arc: its entries
    lines: int  # consumption rows

    @classmethod
    def of(cls, network: StressNetwork) -> _Topology:
        position = {node.id: i for i, node in enumerate(network.nodes)}
        nodes = len(network.nodes)
        made: list[_Entries] = [[(i, 1.0)] for i in range(nodes)]
        arcs: list[_Entries] = []
        shared: list[tuple[BomLine, tuple[str, ...]]] = []
        for line in network.bom:
            suppliers = network.suppliers(line)
            if len(suppliers) == 1:  # the parent draws from the part's balance directly
                made[position[line.parent]].append((position[line.part], -line.qty))
            else:
                shared.append((line, suppliers))
        for row, (line, suppliers) in enumerate(shared, start=nodes):
            made[position[line.parent]].append((row, -line.qty))
            arcs += [[(row, 1.0), (position[supplier], -1.0)] for supplier in suppliers]
        return cls(made, arcs, len(shared))


def build(network: StressNetwork) -> tuple[Layout, Arrays, Arrays]:
    """The layout, the window form and the rate form of *network*: nothing down, every cost 0."""
    position = {node.id: i for i, node in enumerate(network.nodes)}
    products = tuple(position[p] for p, rate in network.demand.items() if rate > 0)
    layout = Layout(
        nodes=len(network.nodes),
        products=products,
        rates=np.array([network.demand[network.nodes[j].id] for j in products], dtype=np.float64),
        margins=np.array([float(network.nodes[j].margin) for j in products], dtype=np.float64),
        capacities=np.array([node.capacity for node in network.nodes], dtype=np.float64),
    )
    topology = _Topology.of(network)
    stock = np.array([node.stock for node in network.nodes], dtype=np.float64)
    return layout, _window_form(layout, topology, stock), _rate_form(layout, topology, stock)


def _window_form(layout: Layout, topology: _Topology, stock: Floats) -> Arrays:
    """Columns T (fixed at 0 until asked), x[i], y[a], v[i]; rows balance, consumption, capacity (0 < c < inf).

    The stock used is a column v[i] in [0, stock[i]] (nodes with stock), not the balance row's slack: the
    same LP, but HiGHS re-solves it in a fifth of the pivots (44 against 229 per node at 1,000 nodes).
    """
    n, first = layout.nodes, layout.nodes + topology.lines
    limited = np.flatnonzero((layout.capacities > 0) & np.isfinite(layout.capacities))
    capacity_row = {i: first + k for k, i in enumerate(limited.tolist())}
    window: _Entries = [(j, -float(d)) for j, d in zip(layout.products, layout.rates, strict=True)]
    window += [(row, -float(layout.capacities[i])) for i, row in capacity_row.items()]
    made = [topology.made[i] + ([(capacity_row[i], 1.0)] if i in capacity_row else []) for i in range(n)]
    held = np.flatnonzero(stock)
    entries = [window, *made, *topology.arcs, *([(int(i), 1.0)] for i in held)]
    upper = np.full(len(entries), INF)
    upper[0] = 0.0
    upper[1 : n + 1] = np.where(layout.capacities > 0, INF, 0.0)
    upper[len(entries) - len(held) :] = stock[held]
    rows = first + len(capacity_row)
    row_lower = np.concatenate((np.zeros(first), np.full(len(capacity_row), -INF)))
    row_upper = np.concatenate((np.full(n, INF), np.zeros(rows - n)))
    return Arrays.of(entries, (np.zeros(len(entries)), upper), (row_lower, row_upper))


def _rate_form(layout: Layout, topology: _Topology, stock: Floats) -> Arrays:
    """Columns lam, u[k], x[i], e[i], w[i], y[a]; rows balance, consumption; demand fixed at its rate."""
    n, p = layout.nodes, len(layout.products)
    lam: _Entries = [(i, float(s)) for i, s in enumerate(stock) if s]
    sales: list[_Entries] = [[(j, -1.0)] for j in layout.products]
    extra: list[_Entries] = [[(i, 1.0)] for i in range(n)]
    entries = [lam, *sales, *topology.made, *extra, *topology.made, *topology.arcs]
    lower, upper = np.zeros(len(entries)), np.full(len(entries), INF)
    lower[1 : p + 1] = upper[1 : p + 1] = layout.rates
    upper[p + 1 : p + 1 + n] = layout.capacities
    upper[p + 1 + n : p + 1 + 3 * n] = 0.0
    rows = (np.zeros(n + topology.lines), np.concatenate((np.full(n, INF), np.zeros(topology.lines))))
    return Arrays.of(entries, (lower, upper), rows)


class StressLp:
    """One HiGHS instance over a model; bounds and costs change in place (or, with *rebuild*, per solve)."""

    def __init__(self, arrays: Arrays, *, rebuild: bool = False, scale: bool = True) -> None:
        self.arrays, self.rebuild, self.scale = arrays, rebuild, scale
        self.solves = 0
        self.highs = self._fresh()

    def _fresh(self) -> _Highs:
        a = self.arrays
        highs = solver(_THREADS, random_seed=0)
        if not self.scale:  # HiGHS rescales on every warm re-solve: without, one costs half as much
            highs.setOptionValue("simplex_scale_strategy", 0)
        empty = np.zeros(0, dtype=np.int32)
        highs.addRows(len(a.row_lower), a.row_lower, a.row_upper, 0, empty, empty, np.zeros(0))
        highs.addCols(
            len(a.cost), a.cost, a.col_lower, a.col_upper, len(a.index), a.starts, a.index, a.value
        )  # fmt: skip
        return highs

    def costs(self, entries: dict[int, float]) -> None:
        """Minimise sum cost x over the columns in *entries*; every other column costs 0."""
        cost = np.zeros(len(self.arrays.cost))
        for column, value in entries.items():
            cost[column] = value
        self.arrays.cost = cost
        if not self.rebuild:
            self.highs.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)

    def bounds(self, columns: list[int], lower: list[float] | Floats, upper: list[float] | Floats) -> None:
        """Set the bounds of *columns*."""
        if not columns:
            return
        a = self.arrays
        a.col_lower[columns] = lower
        a.col_upper[columns] = upper
        if not self.rebuild:
            at = np.array(columns, dtype=np.int32)
            self.highs.changeColsBounds(len(columns), at, a.col_lower[columns], a.col_upper[columns])

    def solve(self) -> float | None:
        """The optimal objective, or None when the LP is infeasible."""
        if self.rebuild:
            self.highs = self._fresh()
        self.highs.run()
        self.solves += 1
        status = self.highs.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            return float(self.highs.getInfo().objective_function_value)
        if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return None
        raise RuntimeError(f"HiGHS ended the stress LP with {self.highs.modelStatusToString(status)}")

    def values(self) -> Floats:
        """Every column's value in the last solution."""
        return np.asarray(self.highs.getSolution().col_value, dtype=np.float64)

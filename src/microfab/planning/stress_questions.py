"""The questions a stress test asks, each a change of bounds on a model built once (`microfab.planning.stress_lp`).

- TTS of every node: the window form, ``max T`` with the node's production at 0, T capped;
- TTR losses of the at-risk nodes: the rate form with T fixed, ``max sum f[k] u[k]``;
- mitigations of the at-risk nodes: the rate form with all demand met, ``min sum e`` or ``min sum w``
  over the candidates opened for that node.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microfab.planning.stress_lp import INF, StressLp, build
from microfab.planning.stress_network import StressNetwork, StressNode

RELATIVE = 1e-7
"""Relative tolerance on the solver's answers."""


def cap(network: StressNetwork, node: StressNode) -> float:
    """How far the TTS of *node* is computed: max(horizon, TTR) days, enough to tell whether TTS < TTR."""
    return max(network.horizon_days, node.ttr_days)


@dataclass(slots=True)
class Losses:
    """The lost sales of one TTR question: total value (money) and units lost per product (layout order)."""

    value: float
    units: dict[int, float]


class Questions:
    """The TTS of every node, the TTR losses of some, the least mitigations, on two models built once."""

    def __init__(self, network: StressNetwork, *, rebuild: bool) -> None:
        self.network = network
        self.layout, window, rate = build(network)
        self.window = StressLp(window, rebuild=rebuild)
        self.rate = StressLp(rate, rebuild=rebuild, scale=False)  # its coefficients are stocks and BOM quantities
        self.sales = [self.layout.u(k) for k in range(len(self.layout.products))]
        self.full = float(np.dot(self.layout.margins, self.layout.rates))  # money/day at full demand

    @property
    def solves(self) -> int:
        """LPs solved so far."""
        return self.window.solves + self.rate.solves

    # ---------------------------------------------------------------------------------- TTS

    def tts(self, relevant: list[bool]) -> tuple[float, list[float]]:
        """The undisrupted network's TTS (capped at the largest cap) and each node's, capped at `cap`.

        A node that reaches no demand, or makes nothing in the undisrupted optimum, leaves that
        optimum feasible: its TTS is the undisrupted one (capped), without a solve of its own.
        """
        nodes, lp = self.network.nodes, self.window
        caps = [cap(self.network, node) for node in nodes]
        window = max(caps, default=self.network.horizon_days)
        lp.costs({0: -1.0})
        lp.bounds([0], [0.0], [window])
        baseline = -(lp.solve() or 0.0)
        made = lp.values()[1 : len(nodes) + 1] if baseline > 0 else np.zeros(len(nodes))
        result = [max(0.0, min(baseline, cap)) for cap in caps]
        capacities = self.layout.capacities
        tiny = 1e-9 * max(1.0, float(np.max(made, initial=0.0)))
        todo = [i for i in range(len(nodes)) if relevant[i] and made[i] > tiny]
        # consecutive questions with close answers re-solve in fewer pivots: ask by how long the node's stock lasts
        lasts = {i: nodes[i].stock / made[i] for i in todo}
        for i in sorted(todo, key=lambda i: (caps[i], lasts[i])):
            if caps[i] != window:
                window = caps[i]
                lp.bounds([0], [0.0], [window])
            lp.bounds([1 + i], [0.0], [0.0])
            result[i] = max(0.0, min(window, -(lp.solve() or 0.0)))
            lp.bounds([1 + i], [0.0], [INF if capacities[i] > 0 else 0.0])
        return max(0.0, baseline), result

    # ---------------------------------------------------------------------------------- TTR

    def _down(self, node: int, columns: list[int] | None = None, *, up: bool = False) -> None:
        """Rate form: stop (with *up*, restart) *node*'s output; open (close) *columns* for a mitigation."""
        extra = columns or []
        at = [self.layout.x(node), *extra]
        upper = [self.layout.capacities[node] if up else 0.0] + [0.0 if up else INF] * len(extra)
        self.rate.bounds(at, [0.0] * len(at), upper)

    def _days(self, days: float) -> None:
        """Rate form: a window of exactly *days* (> 0)."""
        self.rate.bounds([0], [1.0 / days], [1.0 / days])

    def _demand(self, *, exact: bool) -> None:
        """Rate form: sales fixed at the demand (mitigations) or anywhere up to it (TTR)."""
        rates = self.layout.rates
        self.rate.bounds(self.sales, rates if exact else np.zeros(len(rates)), rates)

    def ttr(self, nodes: list[int], baseline_tts: float) -> tuple[dict[int, Losses], dict[float, Losses]]:
        """The least lost sales of *nodes* over their TTR, and the undisrupted network's for each TTR value."""
        self.rate.costs({column: -float(f) for column, f in zip(self.sales, self.layout.margins, strict=True)})
        self._demand(exact=False)
        results: dict[int, Losses] = {}
        baselines: dict[float, Losses] = {}
        for i in sorted(nodes, key=lambda i: self.network.nodes[i].ttr_days):
            days = self.network.nodes[i].ttr_days
            if days not in baselines:
                self._days(days)
                survives = baseline_tts >= days * (1 - RELATIVE)
                baselines[days] = Losses(0.0, {}) if survives else self._losses(days, None)
            self._down(i)
            results[i] = self._losses(days, baselines[days])
            self._down(i, up=True)
        return results, baselines

    def _losses(self, days: float, baseline: Losses | None) -> Losses:
        """Solve; the lost sales over *days* (the baseline's when no worse than it: no solution to read)."""
        objective = self.rate.solve()
        assert objective is not None  # selling nothing is always feasible
        value = days * (self.full + objective)
        floor = baseline.value if baseline is not None else 0.0
        if value <= floor + RELATIVE * max(1.0, self.full * days):
            return Losses(floor, dict(baseline.units) if baseline is not None else {})
        short = self.layout.rates - self.rate.values()[self.sales]
        units = {k: float(gap * days) for k, gap in enumerate(short) if gap > RELATIVE * max(1.0, self.layout.rates[k])}
        return Losses(value, units)

    # ---------------------------------------------------------------------------------- mitigations

    def prepare_mitigations(self) -> None:
        """Rate form: minimise extra stock per day (e) or extra capacity (w), each unit costing 1; all demand met."""
        entries = {self.layout.e(i): 1.0 for i in range(self.layout.nodes)}
        entries.update({self.layout.w(i): 1.0 for i in range(self.layout.nodes)})
        self.rate.costs(entries)
        self._demand(exact=True)

    def mitigate(self, node: int, candidates: list[int], column: str) -> dict[int, float] | None:
        """Least extra stock (units, column 'e') or capacity (units/day, 'w') at *candidates* for no lost sale.

        None when even unlimited amounts there cannot keep every demand over the node's TTR (> 0).
        """
        days = self.network.nodes[node].ttr_days
        pick = self.layout.e if column == "e" else self.layout.w
        columns = [pick(c) for c in candidates]
        self._days(days)
        self._down(node, columns)
        objective = self.rate.solve()
        found: dict[int, float] | None = None
        if objective is not None:
            values = self.rate.values()[columns] if len(columns) > 1 else np.array([objective])
            scale = days if column == "e" else 1.0  # e is stock per day of window
            tiny = 1e-9 * max(1.0, objective)
            found = {c: float(v) * scale for c, v in zip(candidates, values, strict=True) if v > tiny}
        self._down(node, columns, up=True)
        return found

"""Supply-network stress tests: time to survive (TTS), time-to-recover impact (TTR) and the risk exposure index.

After Simchi-Levi et al., "Identifying Risks and Mitigating Disruptions in the Automotive Supply
Chain", Interfaces 45(5), 2015. For each node *n* (a supplier, a part, one of our sites, a lane):

- ``ttr_impact`` P(n): the least margin lost when *n* makes nothing for its time to recover
  t_n, the rest of the network re-planned optimally (an LP, `microfab.planning.stress_lp`),
  minus what the undisrupted network loses over the same days (nothing, when it meets demand);
- ``rei`` = P(n) / max_m P(m);
- ``tts_days``: the longest window over which every demand is met with *n* down (an LP with the
  window as a variable), computed up to max(horizon, t_n) days: None with ``unbounded`` when it
  gets there;
- ``at_risk`` when TTS < TTR, with the options the model knows: a second source or an
  alternative site where *n* is the only one, and sized by LP, the least extra stock and the
  least extra capacity at the alternatives that keep every demand over t_n.

The model, its choices and the formulas are in ``docs/stress-tests.md``.
"""

from __future__ import annotations

import enum
import math
import time
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from microfab.domain.quantities import MINOR_UNITS
from microfab.planning.stress_lp import Layout
from microfab.planning.stress_network import (
    BomLine,
    NetworkError,
    NodeKind,
    Source,
    StressNetwork,
    StressNode,
)
from microfab.planning.stress_questions import RELATIVE, Losses, Questions, cap

__all__ = [
    "BomLine",
    "LostSale",
    "Mitigation",
    "MitigationKind",
    "NetworkError",
    "NodeKind",
    "NodeResult",
    "Source",
    "StressNetwork",
    "StressNode",
    "StressReport",
    "stress_test",
]


class MitigationKind(enum.StrEnum):
    """What a mitigation changes."""

    INVENTORY = "inventory"  # hold more stock at a node
    CAPACITY = "capacity"  # raise an alternative supplier's or site's capacity
    SECOND_SOURCE = "second_source"  # qualify another supplier for a single-sourced part
    ALTERNATIVE_SITE = "alternative_site"  # qualify another site for what only one site makes


@dataclass(frozen=True, slots=True)
class Mitigation:
    """One option for an at-risk node: act on *node* (by *amount* *unit*, when the model can size it).

    ``parents``: for a second source or an alternative site, the consumers it must serve. ``together``:
    the other nodes of the same sized plan (more stock of each product a site makes is one plan: each
    rise alone is not enough).
    """

    kind: MitigationKind
    node: str
    amount: float | None
    unit: str | None
    parents: tuple[str, ...]
    text: str
    together: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LostSale:
    """Units of *product* not sold over the node's time to recover, and their value (units x margin)."""

    product: str
    units: float
    value: Decimal


@dataclass(frozen=True, slots=True)
class NodeResult:
    """The stress test of one node (days; impact in the network's currency, or in units x weight without one)."""

    node: str
    kind: NodeKind
    ttr_days: float
    tts_days: float | None
    unbounded: bool
    ttr_impact: Decimal
    rei: float
    at_risk: bool
    lost: tuple[LostSale, ...]
    mitigations: tuple[Mitigation, ...]


@dataclass(frozen=True, slots=True)
class StressReport:
    """Every node's result (in the network's order), the undisrupted network's survival time, the solve."""

    nodes: tuple[NodeResult, ...]
    horizon_days: float
    currency: str | None
    baseline_tts_days: float | None  # None: meets demand through the horizon with nothing down
    runtime: float
    solves: int
    rebuilt: bool

    def node(self, node_id: str) -> NodeResult:
        """The result of *node_id* (`KeyError` if none)."""
        for result in self.nodes:
            if result.node == node_id:
                return result
        raise KeyError(node_id)

    def ranked(self) -> list[NodeResult]:
        """Results by REI, highest first; then at-risk first, shortest TTS first."""
        return sorted(self.nodes, key=lambda r: (-r.rei, not r.at_risk, math.inf if r.tts_days is None else r.tts_days))


def stress_test(network: StressNetwork, *, rebuild: bool = False) -> StressReport:
    """TTS, TTR impact, REI, at-risk flag and mitigations of every node of *network*.

    One LP is built once and re-solved warm with new bounds per question; ``rebuild=True``
    builds it from scratch for every solve instead (the naive peer, same answers).
    """
    started = time.perf_counter()
    engine = Questions(network, rebuild=rebuild)
    baseline_tts, tts = engine.tts(_relevant(network))
    caps = [cap(network, node) for node in network.nodes]
    at_risk = [t < node.ttr_days * (1 - RELATIVE) - 1e-9 for t, node in zip(tts, network.nodes, strict=True)]
    ttr, baselines = engine.ttr([i for i, risky in enumerate(at_risk) if risky], baseline_tts)
    impacts = {
        i: _round(network, max(Decimal(0), _value(network, engine.layout, r) - _value(network, engine.layout, b)))
        for i, r in ttr.items()
        for b in (baselines[network.nodes[i].ttr_days],)
    }
    worst = max(impacts.values(), default=Decimal(0))
    plans = _Mitigations(network, engine)
    if any(at_risk):
        engine.prepare_mitigations()
    results = []
    zero = _round(network, Decimal(0))
    for i, node in enumerate(network.nodes):
        reached = tts[i] >= caps[i] * (1 - RELATIVE)  # at least max(H, TTR): reported as unbounded
        impact = impacts.get(i, zero)
        results.append(
            NodeResult(
                node=node.id,
                kind=node.kind,
                ttr_days=node.ttr_days,
                tts_days=None if reached else tts[i],
                unbounded=reached,
                ttr_impact=impact,
                rei=float(impact / worst) if worst > 0 else 0.0,
                at_risk=at_risk[i],
                lost=_lost_sales(network, engine.layout, ttr[i]) if i in ttr else (),
                mitigations=plans.of(i) if at_risk[i] else (),
            )
        )
    return StressReport(
        nodes=tuple(results),
        horizon_days=network.horizon_days,
        currency=network.currency,
        baseline_tts_days=None
        if baseline_tts >= max(caps, default=network.horizon_days) * (1 - RELATIVE)
        else baseline_tts,
        runtime=time.perf_counter() - started,
        solves=engine.solves,
        rebuilt=rebuild,
    )


def _relevant(network: StressNetwork) -> list[bool]:
    """Whether each node can reach a product with demand (through the lines it supplies)."""
    reached = {product for product, rate in network.demand.items() if rate > 0}
    todo = list(reached)
    lines: dict[str, list[BomLine]] = {}
    for line in network.bom:
        lines.setdefault(line.parent, []).append(line)
    while todo:
        for line in lines.get(todo.pop(), []):
            for supplier in network.suppliers(line):
                if supplier not in reached:
                    reached.add(supplier)
                    todo.append(supplier)
    return [node.id in reached for node in network.nodes]


def _round(network: StressNetwork, amount: Decimal) -> Decimal:
    """*amount* rounded to the currency's minor unit (2 places without a currency)."""
    places = MINOR_UNITS[network.currency] if network.currency is not None else 2
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def _units(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


def _value(network: StressNetwork, layout: Layout, result: Losses) -> Decimal:
    """The lost sales' value: sum of margin x units, rounded to the minor unit."""
    total = sum(
        (network.nodes[layout.products[k]].margin * _units(units) for k, units in result.units.items()), Decimal(0)
    )
    return _round(network, total)


def _lost_sales(network: StressNetwork, layout: Layout, result: Losses) -> tuple[LostSale, ...]:
    lost = []
    for k, units in sorted(result.units.items()):
        product = network.nodes[layout.products[k]]
        lost.append(LostSale(product.id, round(units, 6), _round(network, product.margin * _units(units))))
    return tuple(lost)


def _up(value: float) -> float:
    """*value* rounded up to 0.01 (what a planner orders), ignoring solver noise."""
    return math.ceil(value * 100 - 1e-6) / 100


class _Mitigations:
    """The options for an at-risk node: sole sources (structure), then extra stock and capacity (sized by LP)."""

    def __init__(self, network: StressNetwork, engine: Questions) -> None:
        self.network, self.engine = network, engine
        self.feeds: dict[str, list[tuple[BomLine, tuple[str, ...]]]] = {}
        for line in network.bom:
            suppliers = network.suppliers(line)
            for supplier in suppliers:
                self.feeds.setdefault(supplier, []).append((line, suppliers))
        made = {line.parent for line in network.bom}
        self.parts = {line.part for line in network.bom}
        self.productive = {
            n.id
            for n in network.nodes
            if (n.kind in (NodeKind.RAW, NodeKind.SITE) or n.id in made) and math.isfinite(n.capacity)
        }  # a node whose (limited) capacity can make something

    def of(self, i: int) -> tuple[Mitigation, ...]:
        node = self.network.nodes[i]
        return (*self._sole(node), *self._stock(i, node), *self._capacity(i, node))

    def _sole(self, node: StressNode) -> list[Mitigation]:
        single: dict[str, list[str]] = {}
        for line, suppliers in self.feeds.get(node.id, []):
            others = [s for s in suppliers if s != node.id and self.network.node(s).capacity > 0]
            if not others:
                single.setdefault(line.part, []).append(line.parent)
        found = []
        for part, parents in single.items():
            site = self.network.node(part).kind is NodeKind.SITE
            names = ", ".join(parents)
            if site:
                text = f"qualify an alternative site to {part} for {names}: {node.id} is the only site with capacity"
            else:
                text = f"qualify a second source of {part} for {names}: {node.id} is its only supplier with capacity"
            kind = MitigationKind.ALTERNATIVE_SITE if site else MitigationKind.SECOND_SOURCE
            found.append(Mitigation(kind, part, None, None, tuple(parents), text))
        return found

    def _holders(self, node: StressNode) -> list[int]:
        """Where extra stock can stand in for *node*'s output.

        A site: what it makes (through sites that feed sites); a supplier named only in ``sources``: the
        parts it delivers (safety stock of the part, not at the supplier); any other node: itself.
        """
        if node.kind is not NodeKind.SITE:
            parts = {line.part for line, _ in self.feeds.get(node.id, []) if line.part != node.id}
            if node.id in self.parts or not parts:
                return [self.network.position(node.id)]
            return sorted(self.network.position(part) for part in parts)
        found: list[int] = []
        todo, seen = [node.id], {node.id}
        while todo:
            for line, _ in self.feeds.get(todo.pop(), []):
                if line.parent in seen:
                    continue
                seen.add(line.parent)
                parent = self.network.node(line.parent)
                if parent.kind is NodeKind.SITE:
                    todo.append(parent.id)
                else:
                    found.append(self.network.position(parent.id))
        return sorted(found)

    def _stock(self, i: int, node: StressNode) -> list[Mitigation]:
        holders = self._holders(node)
        extra = self.engine.mitigate(i, holders, "e") if holders else None
        found = []
        plan = sorted((extra or {}).items())
        for position, units in plan:
            holder = self.network.nodes[position]
            amount = _up(units)
            together = tuple(self.network.nodes[p].id for p, _ in plan if p != position)
            text = (
                f"raise the stock of {holder.id} by {amount:g} units (on hand + pipeline: from {holder.stock:g} to "
                f"{holder.stock + amount:g}){_with(together, 'stock')} so that the network lasts the "
                f"{node.ttr_days:g} days {node.id} needs to recover"
            )
            found.append(Mitigation(MitigationKind.INVENTORY, holder.id, amount, "units", (), text, together))
        return found

    def _capacity(self, i: int, node: StressNode) -> list[Mitigation]:
        alternatives = sorted(
            {
                self.network.position(s)
                for _, suppliers in self.feeds.get(node.id, [])
                for s in suppliers
                if s != node.id and s in self.productive
            }
        )
        extra = self.engine.mitigate(i, alternatives, "w") if alternatives and node.ttr_days > 0 else None
        found = []
        plan = sorted((extra or {}).items())
        for position, units in plan:
            other = self.network.nodes[position]
            rate = _up(units)  # w is a rate already: units/day over the whole TTR
            together = tuple(self.network.nodes[p].id for p, _ in plan if p != position)
            text = (
                f"raise capacity of {other.id} by {rate:g} units/day (from {other.capacity:g} to "
                f"{other.capacity + rate:g}){_with(together, 'capacity')} while {node.id} recovers "
                f"({node.ttr_days:g} days)"
            )
            found.append(Mitigation(MitigationKind.CAPACITY, other.id, rate, "units/day", (), text, together))
        return found


def _with(together: tuple[str, ...], what: str) -> str:
    return f", together with the {what} rise at {', '.join(together)}," if together else ""

"""Stress tests (TTS / TTR impact / REI): hand-computed networks, an independent naive LP, bad input named.

The naive check (`naive_tts`, `naive_loss`) builds a different LP from scratch for every
question: explicit flows per (BOM line, supplier), lost sales as columns, and the TTS found by
feasibility on either side of the engine's answer instead of as a variable.
"""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal

import highspy
import numpy as np
import pytest

from microfab.planning.stress import (
    BomLine,
    MitigationKind,
    NetworkError,
    NodeKind,
    Source,
    StressNetwork,
    StressNode,
    StressReport,
    stress_test,
)
from microfab.planning.stress_generator import generate_network

INF = math.inf
PRODUCT, PART, RAW, SITE = NodeKind.PRODUCT, NodeKind.PART, NodeKind.RAW, NodeKind.SITE


def issue_network(**changes: object) -> StressNetwork:
    """The issue's case: product P (10/day, 40 a unit lost) <- part A (30 on hand), whose only source is S (TTR 5 d)."""
    nodes = (
        StressNode("P", PRODUCT, ttr_days=0, capacity=INF, weight=Decimal(40)),
        StressNode("A", PART, ttr_days=0, inventory=30),
        StressNode("S", RAW, ttr_days=5, capacity=12),
    )
    network = StressNetwork(nodes, {"P": 10}, (BomLine("P", "A", 1),), (Source("A", "P", "S"),), horizon_days=90)
    return replace(network, **changes) if changes else network  # type: ignore[arg-type]


def hand_network() -> StressNetwork:
    """Two products assembled at ohio (bavaria can make lamps), plates single-sourced, bulbs dual-sourced."""
    nodes = (
        StressNode("stand", PRODUCT, ttr_days=3, inventory=20, capacity=INF, weight=Decimal(50)),
        StressNode("lamp", PRODUCT, ttr_days=1, inventory=8, capacity=INF, weight=Decimal(80)),
        StressNode("plate", PART, ttr_days=0, inventory=60, pipeline=20),
        StressNode("bulb", PART, ttr_days=0, inventory=10),
        StressNode("acme", RAW, ttr_days=10, capacity=25),
        StressNode("lumen", RAW, ttr_days=14, capacity=4),
        StressNode("brite", RAW, ttr_days=30, capacity=6),
        StressNode("ohio", SITE, ttr_days=30, capacity=20),
        StressNode("bavaria", SITE, ttr_days=20, capacity=3),
    )
    bom = (
        BomLine("stand", "plate", 2),
        BomLine("stand", "ohio", 1),
        BomLine("lamp", "bulb", 1),
        BomLine("lamp", "ohio", 1),
    )
    sources = (
        Source("plate", "stand", "acme"),
        Source("bulb", "lamp", "lumen"),
        Source("bulb", "lamp", "brite"),
        Source("ohio", "lamp", "bavaria"),
    )
    return StressNetwork(nodes, {"stand": 10, "lamp": 5}, bom, sources, horizon_days=60, currency="EUR")


# ------------------------------------------------------------------------------------------ hand-computed


def test_the_issue_example_single_source_supplier() -> None:
    report = stress_test(issue_network())
    s = report.node("S")
    # S down: P needs 10 A a day; the 30 A on hand last 30 / 10 = 3 days.
    assert s.tts_days == pytest.approx(3.0)
    # Over S's 5 days to recover: demand 5 x 10 = 50, supply 30 -> 20 units lost x 40 = 800.
    assert s.at_risk
    assert s.ttr_impact == Decimal("800.00")
    assert [(x.product, x.units) for x in s.lost] == [("P", pytest.approx(20.0))]
    assert s.rei == 1.0
    kinds = [(m.kind, m.node, m.amount) for m in s.mitigations]
    # a second source for A, or 20 more A on hand (30 -> 50 = 5 days x 10)
    assert kinds == [(MitigationKind.SECOND_SOURCE, "A", None), (MitigationKind.INVENTORY, "A", 20.0)]
    # A is a stock point fed by S: it makes nothing, so stopping it changes nothing; S runs forever at 12 >= 10.
    assert report.node("A").unbounded
    assert report.node("A").tts_days is None
    assert report.baseline_tts_days is None


def test_hand_network_tts_impact_rei() -> None:
    report = stress_test(hand_network())
    got = {r.node: (r.tts_days, r.ttr_impact, r.at_risk) for r in report.nodes}
    # stand down (TTR 3): its 20 on hand last 20 / 10 = 2 days; lost 3 x 10 - 20 = 10 stands x 50 = 500.
    assert got["stand"] == (pytest.approx(2.0), Decimal("500.00"), True)
    # lamp down (TTR 1): 8 on hand / 5 a day = 1.6 days >= 1: not at risk, nothing lost.
    assert got["lamp"] == (pytest.approx(1.6), Decimal("0.00"), False)
    # acme down (TTR 10): plates 60 + 20 in the pipeline = 80 -> 40 stands, + 20 stands on hand = 60 stands
    # = 6 days; over 10 days 100 - 60 = 40 stands lost x 50 = 2,000.
    assert got["acme"] == (pytest.approx(6.0), Decimal("2000.00"), True)
    # lumen down: brite alone makes 6 bulbs a day >= 5 lamps a day: unbounded.
    assert got["lumen"] == (None, Decimal("0.00"), False)
    # brite down (TTR 30): lumen 4 a day, short 1 lamp a day, covered by 10 bulbs + 8 lamps = 18 days;
    # over 30 days 150 - (4 x 30 + 10 + 8) = 12 lamps lost x 80 = 960.
    assert got["brite"] == (pytest.approx(18.0), Decimal("960.00"), True)
    # ohio down (TTR 30): stands 20 / 10 = 2 days; lamps from bavaria 3 a day, short 2, 8 on hand = 4 days: TTS 2.
    # Over 30 days: stands 300 - 20 = 280 lost x 50 = 14,000; lamps 150 - 3 x 30 - 8 = 52 lost x 80 = 4,160.
    assert got["ohio"] == (pytest.approx(2.0), Decimal("18160.00"), True)
    # bavaria down: ohio makes 10 + 5 = 15 <= 20 a day: unbounded.
    assert got["bavaria"] == (None, Decimal("0.00"), False)
    assert got["plate"][0] is None
    assert got["bulb"][0] is None
    ohio = report.node("ohio")
    assert {x.product: x.units for x in ohio.lost} == {"stand": pytest.approx(280.0), "lamp": pytest.approx(52.0)}
    assert {x.product: x.value for x in ohio.lost} == {"stand": Decimal("14000.00"), "lamp": Decimal("4160.00")}
    # REI = P(n) / max P = P(n) / 18,160
    assert report.node("ohio").rei == 1.0
    assert report.node("acme").rei == pytest.approx(2000 / 18160)
    assert report.node("brite").rei == pytest.approx(960 / 18160)
    assert report.node("stand").rei == pytest.approx(500 / 18160)
    assert report.node("lumen").rei == 0.0
    assert [r.node for r in report.ranked()][:4] == ["ohio", "acme", "brite", "stand"]
    assert report.currency == "EUR"
    assert report.baseline_tts_days is None  # 25 plates >= 20, 10 bulbs >= 5, 23 site units >= 15 a day


def test_hand_network_mitigations() -> None:
    report = stress_test(hand_network())

    def options(node: str) -> list[tuple[MitigationKind, str, float | None]]:
        return [(m.kind, m.node, m.amount) for m in report.node(node).mitigations]

    # stand: 10 more stands on hand (20 -> 30 = 3 days x 10)
    assert options("stand") == [(MitigationKind.INVENTORY, "stand", 10.0)]
    # acme is the only source of plates: a second source, or 160 - 80 = 80 more plates (10 days x 10 stands x 2
    # = 200 plates, less the 20 stands on hand = 160 plates); plate itself makes nothing, so no capacity option.
    assert options("acme") == [(MitigationKind.SECOND_SOURCE, "plate", None), (MitigationKind.INVENTORY, "plate", 80.0)]
    assert report.node("acme").mitigations[0].parents == ("stand",)
    # brite: lumen also supplies bulbs (no second source needed); 12 more bulbs, or lumen + 12 / 30 = 0.4 a day
    assert options("brite") == [(MitigationKind.INVENTORY, "bulb", 12.0), (MitigationKind.CAPACITY, "lumen", 0.4)]
    assert report.node("brite").mitigations[1].unit == "units/day"
    assert "from 4 to 4.4" in report.node("brite").mitigations[1].text
    # ohio: the only site for stands; 280 more stands and 52 more lamps on hand; bavaria's capacity cannot help
    # stands, so no capacity option keeps all demand
    assert options("ohio") == [
        (MitigationKind.ALTERNATIVE_SITE, "ohio", None),
        (MitigationKind.INVENTORY, "stand", 280.0),
        (MitigationKind.INVENTORY, "lamp", 52.0),
    ]
    assert report.node("ohio").mitigations[0].parents == ("stand",)
    assert all(not report.node(n).mitigations for n in ("lamp", "lumen", "bavaria", "plate", "bulb"))


def test_mitigations_remove_the_loss() -> None:
    """Each sized option, applied to the network, leaves the node with TTS >= TTR and nothing lost."""
    network = hand_network()
    report = stress_test(network)
    checked = 0
    for result in report.nodes:
        for kind in (MitigationKind.INVENTORY, MitigationKind.CAPACITY):
            plan = {m.node: m for m in result.mitigations if m.kind is kind}
            if not plan:
                continue
            for m in plan.values():  # each rise names the others of its plan
                assert set(m.together) == set(plan) - {m.node}
            nodes = tuple(
                n
                if n.id not in plan
                else replace(n, inventory=n.inventory + (plan[n.id].amount or 0))
                if kind is MitigationKind.INVENTORY
                else replace(n, capacity=n.capacity + (plan[n.id].amount or 0))
                for n in network.nodes
            )
            after = stress_test(replace(network, nodes=nodes)).node(result.node)
            assert not after.at_risk, (result.node, kind)
            assert after.ttr_impact == 0
            checked += 1
    assert checked == 5  # stand, acme, brite (inventory, capacity), ohio (stand and lamp together)


def test_alternative_source_makes_tts_unbounded_and_capacity_option_is_a_rate() -> None:
    nodes = (
        StressNode("P", PRODUCT, ttr_days=0, capacity=INF, weight=Decimal(40)),
        StressNode("A", PART, ttr_days=0),
        StressNode("S1", RAW, ttr_days=10, capacity=10),
        StressNode("S2", RAW, ttr_days=10, capacity=6),
    )
    sources = (Source("A", "P", "S1"), Source("A", "P", "S2"))
    report = stress_test(StressNetwork(nodes, {"P": 10}, (BomLine("P", "A", 1),), sources))
    # S2 down: S1 makes 10 a day = demand: forever (reported as >= the 90-day horizon).
    s2 = report.node("S2")
    assert (s2.tts_days, s2.unbounded, s2.at_risk, s2.ttr_impact) == (None, True, False, 0)
    # S1 down: S2 makes 6, short 4 a day from day 0: TTS 0; 10 days x 4 = 40 lost x 40 = 1,600.
    s1 = report.node("S1")
    assert (s1.tts_days, s1.ttr_impact, s1.rei) == (0.0, Decimal("1600.00"), 1.0)
    # options: 40 more A on hand, or S2 + 4 a day (not 4 / 10: the capacity is a rate over the whole TTR)
    assert [(m.kind, m.node, m.amount) for m in s1.mitigations] == [
        (MitigationKind.INVENTORY, "A", 40.0),
        (MitigationKind.CAPACITY, "S2", 4.0),
    ]


def test_bom_ratios_and_weights_choose_what_to_short() -> None:
    # Both products use the part X (a: 2 per unit, b: 1 per unit); X's only supplier S (TTR 10) is down and
    # X has 100 on hand. Margin per X: a 30 / 2 = 15, b 20 / 1 = 20, so b is served first.
    nodes = (
        StressNode("a", PRODUCT, ttr_days=0, capacity=INF, weight=Decimal(30)),
        StressNode("b", PRODUCT, ttr_days=0, capacity=INF, weight=Decimal(20)),
        StressNode("X", PART, ttr_days=0, inventory=100),
        StressNode("S", RAW, ttr_days=10, capacity=100),
    )
    bom = (BomLine("a", "X", 2), BomLine("b", "X", 1))
    sources = (Source("X", "a", "S"), Source("X", "b", "S"))
    s = stress_test(StressNetwork(nodes, {"a": 5, "b": 5}, bom, sources)).node("S")
    # TTS: 15 X a day, 100 on hand -> 100 / 15 = 6.67 days
    assert s.tts_days == pytest.approx(100 / 15)
    # over 10 days: b takes 50 X, a gets the other 50 X = 25 units of its 50: 25 x 30 = 750 lost
    assert {x.product: x.units for x in s.lost} == {"a": pytest.approx(25.0)}
    assert s.ttr_impact == Decimal("750.00")


def test_without_weights_the_impact_is_in_units() -> None:
    nodes = tuple(replace(n, weight=None) for n in issue_network().nodes)
    report = stress_test(issue_network(nodes=nodes))
    assert report.node("S").ttr_impact == Decimal("20.00")  # 20 units x 1


def test_rei_is_zero_everywhere_when_nothing_is_lost() -> None:
    report = stress_test(issue_network(nodes=(*issue_network().nodes[:2], StressNode("S", RAW, 2, capacity=12))))
    # S recovers in 2 days, the 30 A last 3: TTS 3 >= TTR 2
    assert report.node("S").tts_days == pytest.approx(3.0)
    assert all(r.rei == 0.0 and not r.at_risk and r.ttr_impact == 0 for r in report.nodes)


def test_tts_beyond_the_horizon_is_a_number_when_below_the_ttr() -> None:
    # S recovers in 120 days, horizon 90; A's 1,000 on hand last 100 days: >= the horizon but < TTR, so at risk.
    nodes = (
        *issue_network().nodes[:1],
        StressNode("A", PART, 0, inventory=1000),
        StressNode("S", RAW, 120, capacity=12),
    )
    s = stress_test(issue_network(nodes=nodes)).node("S")
    assert (s.tts_days, s.unbounded, s.at_risk) == (pytest.approx(100.0), False, True)
    # 120 days x 10 - 1,000 = 200 lost x 40 = 8,000
    assert s.ttr_impact == Decimal("8000.00")


def test_impact_is_net_of_what_the_undisrupted_network_loses() -> None:
    # S makes only 8 a day: the network itself is short 2 a day after A's 30 last 30 / 2 = 15 days.
    nodes = (*issue_network().nodes[:2], StressNode("S", RAW, 20, capacity=8))
    report = stress_test(issue_network(nodes=nodes))
    assert report.baseline_tts_days == pytest.approx(15.0)
    s = report.node("S")
    # S down over 20 days: 200 - 30 = 170 lost; undisrupted: 200 - 160 - 30 = 10 lost; net 160 x 40 = 6,400
    assert s.tts_days == pytest.approx(3.0)
    assert s.ttr_impact == Decimal("6400.00")


def test_site_stock_and_lane_as_site() -> None:
    # A lane is a site node in the BOM of what crosses it: P <- lane (1 per unit), lane capacity 12 a day, TTR 4.
    nodes = (
        StressNode("P", PRODUCT, ttr_days=0, inventory=25, capacity=INF, weight=Decimal(10)),
        StressNode("lane", SITE, ttr_days=4, capacity=12),
    )
    lane = stress_test(StressNetwork(nodes, {"P": 10}, (BomLine("P", "lane", 1),))).node("lane")
    # 25 on hand / 10 a day = 2.5 days; over 4 days 40 - 25 = 15 lost x 10 = 150
    assert (lane.tts_days, lane.ttr_impact) == (pytest.approx(2.5), Decimal("150.00"))
    assert [m.kind for m in lane.mitigations] == [MitigationKind.ALTERNATIVE_SITE, MitigationKind.INVENTORY]
    assert lane.mitigations[1].node == "P"
    assert lane.mitigations[1].amount == 15.0


# ------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("build", "path", "words"),
    [
        (lambda: StressNode("A", PART, 0, inventory=-1), "inventory", "part 'A'"),
        (lambda: StressNode("S", RAW, -2, capacity=1), "ttr_days", "raw 'S'"),
        (lambda: StressNode("S", RAW, 1, capacity=float("nan")), "capacity", "raw 'S'"),
        (lambda: StressNode("S", RAW, 1, capacity=1, weight=Decimal(3)), "weight", "a weight is the margin"),
        (lambda: StressNode("M", SITE, 1, capacity=1, inventory=4), "inventory", "holds no stock"),
        (lambda: BomLine("P", "A", 0), "qty", "> 0"),
        (lambda: issue_network(demand={"P": -3}), "demand.P", ">= 0"),
        (lambda: issue_network(demand={"A": 3}), "demand.A", "only products have demand"),
        (lambda: issue_network(horizon_days=0), "horizon_days", "> 0"),
        (lambda: issue_network(currency="XYZ"), "currency", "ISO 4217"),
        (lambda: issue_network(bom=(BomLine("P", "Q", 1),)), "bom[0].part", "unknown node 'Q'"),
        (lambda: issue_network(sources=(Source("A", "P", "T"),)), "sources[0].supplier", "unknown node 'T'"),
        (lambda: issue_network(sources=()), "nodes[1]", "part 'A' has no source"),
        (
            lambda: issue_network(sources=(Source("A", "P", "S"), Source("A", "P", "S"))),
            "sources[1]",
            "duplicate",
        ),
        (lambda: issue_network(nodes=(*issue_network().nodes, StressNode("A", RAW, 1))), "nodes[3].id", "duplicate"),
        (
            lambda: issue_network(nodes=(*issue_network().nodes[:2], StressNode("S", SITE, 1, capacity=5))),
            "sources[0].supplier",
            "cannot stand in",
        ),
        (
            lambda: issue_network(bom=(BomLine("P", "A", 1), BomLine("A", "P", 1))),
            "bom[1]",
            "cycle through 'P': P -> A -> P",
        ),
        (
            lambda: issue_network(bom=(BomLine("P", "A", 1), BomLine("S", "A", 1))),
            "bom[1].parent",
            "raw material 'S' is bought in",
        ),
    ],
)
def test_bad_input_is_named(build: object, path: str, words: str) -> None:
    with pytest.raises(NetworkError) as caught:
        build()  # type: ignore[operator]
    assert caught.value.path == path
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"{path}: ")


def test_a_cycle_through_an_alternative_source_is_named() -> None:
    nodes = (
        StressNode("P", PRODUCT, 0, capacity=INF),
        StressNode("A", PART, 0, capacity=5),
        StressNode("B", PART, 0, capacity=5),
        StressNode("r", RAW, 0, capacity=5),
    )
    bom = (BomLine("P", "A", 1), BomLine("A", "r", 1), BomLine("B", "A", 1), BomLine("A", "B", 1))
    with pytest.raises(NetworkError, match=r"cycle through 'A': A -> B -> A"):
        StressNetwork(nodes, {"P": 1}, bom)
    bom = (BomLine("P", "A", 1), BomLine("A", "r", 1), BomLine("B", "P", 1))
    # B may stand in for r in A, and B is made of P: P -> A -> B -> P, closed by bom[2]
    with pytest.raises(NetworkError, match=r"^bom\[2\]: cycle through 'P': P -> A -> B -> P"):
        StressNetwork(nodes, {"P": 1}, bom, (Source("r", "A", "B"),))


def test_a_part_without_bom_cannot_have_capacity() -> None:
    nodes = (issue_network().nodes[0], StressNode("A", PART, 0, capacity=INF), issue_network().nodes[2])
    with pytest.raises(NetworkError, match=r"^nodes\[1\]\.capacity: part 'A' has no bill of materials"):
        issue_network(nodes=nodes)


# ------------------------------------------------------------------------------------------ the naive check


def _naive(network: StressNetwork, down: str | None, days: float, *, lose: bool) -> float | None:
    """A fresh LP over *days* with *down* stopped: the least lost value (lose) or 0 if all demand can be met."""
    big = highspy.kHighsInf
    lines = [(line, network.suppliers(line)) for line in network.bom]
    col: dict[tuple[str, ...], int] = {}
    bounds: list[float] = []  # upper bounds; every lower bound is 0
    cost: list[float] = []

    def add(key: tuple[str, ...], upper: float, c: float = 0.0) -> None:
        col[key] = len(bounds)
        bounds.append(upper)
        cost.append(c)

    for node in network.nodes:
        limit = node.capacity * days if math.isfinite(node.capacity) else big
        add(("x", node.id), 0.0 if node.id == down else limit)  # units made over the window
        add(("v", node.id), node.stock)  # stock used
        if network.demand.get(node.id):
            add(("l", node.id), network.demand[node.id] * days if lose else 0.0, float(node.margin))  # lost
    for k, (_, suppliers) in enumerate(lines):
        for s in suppliers:
            add(("f", str(k), s), big)  # units of line k's part from supplier s
    rows: list[tuple[dict[int, float], float, float]] = []
    for k, (line, suppliers) in enumerate(lines):  # flows on a line = qty x what its parent makes
        rows.append(({col["f", str(k), s]: 1.0 for s in suppliers} | {col["x", line.parent]: -line.qty}, 0.0, 0.0))
    for node in network.nodes:  # stock used + made - shipped + lost >= demand
        entries = {col["v", node.id]: 1.0, col["x", node.id]: 1.0}
        entries |= {col["f", str(k), node.id]: -1.0 for k, (_, suppliers) in enumerate(lines) if node.id in suppliers}
        entries |= {col["l", node.id]: 1.0} if ("l", node.id) in col else {}
        rows.append((entries, network.demand.get(node.id, 0.0) * days, big))
    return _solve(bounds, cost, rows)


def _solve(upper: list[float], cost: list[float], rows: list[tuple[dict[int, float], float, float]]) -> float | None:
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    n = len(upper)
    highs.addVars(n, np.zeros(n), np.array(upper))
    highs.changeColsCost(n, np.arange(n, dtype=np.int32), np.array(cost))
    for entries, lo, hi in rows:
        idx = np.array(list(entries), dtype=np.int32)
        highs.addRow(lo, hi, len(idx), idx, np.array(list(entries.values())))
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return float(highs.getInfo().objective_function_value)


def feasible(network: StressNetwork, down: str | None, days: float) -> bool:
    """Whether every demand can be met over *days* with *down* stopped."""
    return _naive(network, down, days, lose=False) is not None


def naive_loss(network: StressNetwork, down: str | None, days: float) -> float:
    value = _naive(network, down, days, lose=True)
    assert value is not None
    return value


def check_against_naive(network: StressNetwork, report: StressReport) -> None:
    base_cache: dict[float, float] = {}
    for result in report.nodes:
        node = network.node(result.node)
        cap = max(network.horizon_days, node.ttr_days)
        # the windows that meet all demand are an interval from 0: check both sides of the answer
        if result.unbounded:
            assert feasible(network, node.id, cap), result
        else:
            assert result.tts_days is not None
            assert result.tts_days == 0 or feasible(network, node.id, result.tts_days * (1 - 1e-6)), result
            assert not feasible(network, node.id, result.tts_days * (1 + 1e-6) + 1e-6), result
        if node.ttr_days > 0:
            base = base_cache.setdefault(node.ttr_days, naive_loss(network, None, node.ttr_days))
            loss = max(0.0, naive_loss(network, node.id, node.ttr_days) - base)
            assert float(result.ttr_impact) == pytest.approx(loss, rel=1e-6, abs=0.02), result


def test_hand_network_agrees_with_the_naive_lp() -> None:
    network = hand_network()
    check_against_naive(network, stress_test(network))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_generated_networks_agree_with_the_naive_lp_and_the_rebuilt_lp(seed: int) -> None:
    network = generate_network(40, seed=seed, horizon_days=60)
    report = stress_test(network)
    check_against_naive(network, report)
    assert any(r.at_risk for r in report.nodes)
    rebuilt = stress_test(network, rebuild=True)
    assert rebuilt.rebuilt
    for a, b in zip(report.nodes, rebuilt.nodes, strict=True):
        assert (a.node, a.unbounded, a.at_risk) == (b.node, b.unbounded, b.at_risk)
        assert a.tts_days == (None if b.tts_days is None else pytest.approx(b.tts_days, rel=1e-6, abs=1e-6))
        assert float(a.ttr_impact) == pytest.approx(float(b.ttr_impact), rel=1e-6, abs=0.02)


# ------------------------------------------------------------------------------------------ the generator


def test_generator_is_seeded_and_exact_in_size() -> None:
    a, b = generate_network(60, seed=3), generate_network(60, seed=3)
    assert a == b
    assert len(a.nodes) == 60
    assert generate_network(60, seed=4) != a
    assert {n.kind for n in a.nodes} == set(NodeKind)
    assert stress_test(a).baseline_tts_days is None  # capacities cover the demand
    with pytest.raises(ValueError, match="at least 12"):
        generate_network(11)

"""``microfab plan stress``: the example's table and JSON, and every kind of bad input as one line with status 2."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from microfab.cli.main import app
from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.e2e
runner = CliRunner()
EXAMPLE = ROOT / "examples" / "stress" / "network.json"
NETWORK: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["plan", "stress", *args])
    return result.exit_code, result.output


def stress_json(path: Path = EXAMPLE) -> dict[str, Any]:
    code, out = invoke("--input", str(path), "--json")
    assert code == 0, out
    document: dict[str, Any] = json.loads(out)
    return document


def test_the_example_as_json() -> None:
    document = stress_json()
    top = {"horizon_days", "currency", "baseline_tts_days", "baseline_unbounded", "at_risk", "solves", "runtime_s"}
    assert set(document) == {*top, "nodes"}
    assert (document["horizon_days"], document["currency"]) == (90, "EUR")
    assert (document["baseline_tts_days"], document["baseline_unbounded"]) == (None, True)
    nodes = {n["id"]: n for n in document["nodes"]}
    assert [n["id"] for n in document["nodes"]] == [n["id"] for n in NETWORK["nodes"]]  # input order
    for node in nodes.values():
        assert {"tts_days", "unbounded", "ttr_impact", "rei", "at_risk", "lost_sales", "mitigations"} <= set(node)
        assert (node["tts_days"] is None) == node["unbounded"]
        assert 0 <= node["rei"] <= 1
    ohio = nodes["ohio"]
    # ohio down for 28 days: monitor arms only from stock, 50 / 25 a day = 2 days. Lost: stands 28 x 40 - 120
    # on hand - 28 x 30 from nuevo-leon = 160 x 85 = 13,600; arms 28 x 25 - 50 = 650 x 120 = 78,000; 91,600.
    assert (ohio["tts_days"], ohio["ttr_impact"], ohio["rei"], ohio["at_risk"], ohio["rank"]) == (2, 91600, 1, True, 1)
    assert {s["product"]: s["units"] for s in ohio["lost_sales"]} == {"laptop-stand": 160, "monitor-arm": 650}
    assert [m["kind"] for m in ohio["mitigations"]] == ["alternative_site", "inventory", "inventory"]
    assert ohio["mitigations"][0]["parents"] == ["monitor-arm"]
    # springs-suzhou, the single source of gas springs: (300 + 200 in the pipeline + 50 arms) / 25 a day = 22 days;
    # over 45 days 1,125 - 550 = 575 arms lost x 120 = 69,000.
    suzhou = nodes["springs-suzhou"]
    assert (suzhou["tts_days"], suzhou["ttr_impact"], suzhou["at_risk"]) == (22, 69000, True)
    assert suzhou["rei"] == pytest.approx(69000 / 91600, abs=1e-6)
    assert suzhou["mitigations"][0] == {
        "kind": "second_source",
        "node": "gas-spring",
        "amount": None,
        "unit": None,
        "parents": ["monitor-arm"],
        "together": [],
        "text": "qualify a second source of gas-spring for monitor-arm: springs-suzhou is its only supplier "
        "with capacity",
    }
    # alu-monterrey down: alu-ontario's 60 a day fall 45 short of 105; (700 extrusions + 2 x 120 stands + 50 arms)
    # / 45 = 22 days; the LP keeps arms (120 a unit for 1 extrusion) over stands (85 for 2): 180 stands lost.
    monterrey = nodes["alu-monterrey"]
    assert (monterrey["tts_days"], monterrey["ttr_impact"]) == (22, 15300)
    assert [(m["kind"], m["node"], m["amount"]) for m in monterrey["mitigations"]] == [
        ("inventory", "extrusion", 360),
        ("capacity", "alu-ontario", 12),
    ]
    # alu-ontario or nuevo-leon down: the other supplier or site covers demand: unbounded, not at risk
    for name in ("alu-ontario", "nuevo-leon"):
        assert (nodes[name]["tts_days"], nodes[name]["unbounded"], nodes[name]["ttr_impact"]) == (None, True, 0)
    assert document["at_risk"] == [
        "ohio", "springs-suzhou", "casting", "arm-joint", "hinges-taichung", "alu-monterrey", "monitor-arm",
    ]  # fmt: skip


def test_the_example_as_a_table() -> None:
    code, out = invoke("--input", str(EXAMPLE))
    assert code == 0, out
    lines = out.splitlines()
    ranked = [line.split("│")[2].strip() for line in lines if line.startswith("│ ") and "│" in line[2:]]
    assert ranked[:3] == ["ohio", "springs-suzhou", "casting"]
    assert "AT RISK" in out
    assert "≥ 90" in out  # unbounded TTS
    assert "Mitigations of the at-risk nodes" in out
    assert "qualify an alternative site to ohio for monitor-arm" in out
    assert "Undisrupted network meets all demand for ≥ 90 days" in out


def with_(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(NETWORK)
    data.update(changes)
    return data


def node_with(index: int, **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(NETWORK)
    data["nodes"][index].update(changes)
    return data


def without(index: int, key: str) -> dict[str, Any]:
    data = copy.deepcopy(NETWORK)
    del data["nodes"][index][key]
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{not json", "--input: invalid JSON in"),
        ('{"nodes": NaN}', "--input: NaN is not a number"),
        ("[]", "input: expected an object, got a list"),
        (node_with(4, inventory=-5), "nodes[4].inventory: part 'extrusion': expected a number >= 0, got -5"),
        (node_with(2, capacity=-1), "nodes[2].capacity: site 'ohio': expected units/day >= 0"),
        (node_with(0, ttr_days="soon"), "nodes[0].ttr_days: product 'laptop-stand': expected a number of days"),
        (node_with(1, weight=0), "nodes[1].weight: product 'monitor-arm': expected money per unit > 0, got 0"),
        (
            node_with(1, weight="12"),
            "nodes[1].weight: product 'monitor-arm': expected money per unit lost > 0, got '12'",
        ),
        (
            node_with(4, weight=2),
            "nodes[4].weight: part 'extrusion': a weight is the margin lost per unit of a product",
        ),
        (node_with(1, kind="widget"), "nodes[1].kind: node 'monitor-arm': expected one of product, part, raw, site"),
        (node_with(1, colour="red"), "nodes[1].colour: unknown field"),
        (without(8, "ttr_days"), "nodes[8].ttr_days: raw 'casting': missing (days to recover)"),
        (without(10, "capacity"), "nodes[10].capacity: raw 'alu-monterrey': missing (units per day"),
        (with_(demand={"laptop-stand": -40}), "demand.laptop-stand: expected a rate >= 0 units/day, got -40"),
        (with_(demand={"desk": 3}), "demand.desk: unknown node 'desk'"),
        (with_(demand={"hinge": 3}), "demand.hinge: 'hinge' is a part: only products have demand"),
        (with_(demand=[1]), "demand: expected an object"),
        (with_(horizon_days=0), "horizon_days: expected a number of days > 0, got 0"),
        (with_(currency="EURO"), "currency: expected an ISO 4217 currency code"),
        (with_(bom=[*NETWORK["bom"], {"parent": "laptop-stand", "part": "bolt", "qty": 1}]), "bom[10].part: unknown"),
        (with_(bom=[*NETWORK["bom"], {"parent": "casting", "part": "hinge", "qty": 1}]), "bom[10].parent: raw"),
        (with_(bom=[{"parent": "laptop-stand", "part": "ohio", "qty": -1}]), "bom[0].qty: 'laptop-stand' <- 'ohio'"),
        (with_(bom=[{"parent": "laptop-stand", "part": "ohio"}]), "bom[0].qty: missing"),
        (
            with_(bom=[*NETWORK["bom"], {"parent": "casting", "part": "arm-joint", "qty": 1}]),
            "bom[10].parent: raw material 'casting' is bought in",
        ),
        (
            with_(bom=[*NETWORK["bom"], {"parent": "extrusion", "part": "laptop-stand", "qty": 1}]),
            "cycle through 'laptop-stand': laptop-stand -> extrusion -> laptop-stand",
        ),
        (
            with_(sources=[s for s in NETWORK["sources"] if s["part"] != "gas-spring"]),
            "nodes[6]: part 'gas-spring' has no source",
        ),
        (
            with_(sources=[*NETWORK["sources"], {"part": "hinge", "parent": "laptop-stand", "supplier": "acme"}]),
            "sources[7].supplier: unknown node 'acme'",
        ),
        (
            with_(sources=[*NETWORK["sources"], {"part": "hinge", "parent": "monitor-arm", "supplier": "casting"}]),
            "sources[7]: 'hinge' is not in the bill of materials of 'monitor-arm'",
        ),
        (
            with_(sources=[*NETWORK["sources"], {"part": "ohio", "parent": "monitor-arm", "supplier": "casting"}]),
            "sources[7].supplier: raw 'casting' cannot stand in for site 'ohio'",
        ),
        (with_(sources=[{"part": "hinge"}]), "sources[0].parent: missing"),
        (with_(nodes=[*NETWORK["nodes"], NETWORK["nodes"][0]]), "nodes[14].id: duplicate id 'laptop-stand'"),
        (with_(bom=None), "bom: expected a list"),
        ({k: v for k, v in NETWORK.items() if k != "demand"}, "demand: missing"),
    ],
)
def test_bad_input_is_one_line_naming_the_field_and_status_2(tmp_path: Path, data: object, message: str) -> None:
    path = tmp_path / "network.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    code, out = invoke("--input", str(path), "--json")
    assert code == 2, out
    assert out.startswith("error: ")
    assert message in out
    assert "Traceback" not in out
    assert len(out.strip().splitlines()) == 1


def test_missing_input_file_is_status_2(tmp_path: Path) -> None:
    code, out = invoke("--input", str(tmp_path / "nope.json"))
    assert code == 2
    assert out.startswith("error: --input: no such file: ")


def test_unlimited_capacity_and_defaults(tmp_path: Path) -> None:
    # P made without a capacity (unlimited) from A, a stock point (capacity 0 by default) fed by S.
    data = {
        "nodes": [
            {"id": "P", "kind": "product", "ttr_days": 1, "weight": 12.5},
            {"id": "A", "kind": "part", "inventory": 30, "ttr_days": 0},
            {"id": "S", "kind": "raw", "capacity": None, "ttr_days": 5},
        ],
        "demand": {"P": 10},
        "bom": [{"parent": "P", "part": "A", "qty": 1}],
        "sources": [{"part": "A", "parent": "P", "supplier": "S"}],
    }
    path = tmp_path / "small.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    document = stress_json(path)
    assert (document["horizon_days"], document["currency"]) == (90, None)  # the defaults
    s = next(n for n in document["nodes"] if n["id"] == "S")
    # S (unlimited) down 5 days: 30 A last 3 days; 20 lost x 12.5 = 250
    assert (s["tts_days"], s["ttr_impact"], s["at_risk"]) == (3, 250, True)

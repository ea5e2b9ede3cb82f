"""``microfab origin``: JSON in, figures, claims and trail out; bad input is one line and exit status 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from microfab.cli.main import app
from microfab.cli.origin_input import load_agreements

pytestmark = pytest.mark.e2e
runner = CliRunner()

CASE: dict[str, Any] = {
    "agreement": "USMCA",
    "good": {"hs": "7610.90", "transaction_value": 100, "net_cost": 90, "currency": "USD"},
    "materials": [
        {"item": "sheet", "value": 35, "origin": "CN", "hs": "7606.12"},
        {"item": "bolts", "value": "10.00", "origin": "US", "hs": "7318.15"},
        {"item": "cutting oil", "value": 1, "origin": "DE", "hs": "2710.19", "indirect": True},
    ],
    "operations": [
        {"name": "cut", "country": "US", "significant": True},
        {"name": "weld", "country": "US", "confers_origin": True, "significant": True, "essential": True},
    ],
    "destination": "MX",
    "rule": {"shift": "heading", "combine": "shift-or-value", "values": {"transaction-value": 60, "net-cost": 50}},
}


def run(tmp_path: Path, data: object, *flags: str) -> tuple[int, str]:
    path = tmp_path / "case.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    result = runner.invoke(app, ["origin", "--input", str(path), *flags])
    return result.exit_code, result.output


def with_(**changes: Any) -> dict[str, Any]:
    return {**CASE, **changes}


def test_json_output_has_every_figure_as_the_spec_names_it(tmp_path: Path) -> None:
    code, out = run(tmp_path, CASE, "--json")
    assert code == 0, out
    data = json.loads(out)
    # VNM = sheet 35 (CN); the cutting oil is indirect, so originating.
    # RVC_TV = (100 - 35) / 100 x 100 = 65.00; RVC_NC = (90 - 35) / 90 x 100 = 61.11.
    assert (data["rvc_tv"], data["rvc_nc"]) == ("65.00", "61.11")
    assert (data["build_down"], data["build_up"], data["maxnom"]) == (None, None, None)
    # Sheet 7606 -> 7610 changes heading: the shift is met without de minimis.
    assert (data["tariff_shift"], data["de_minimis"]) == (True, None)
    assert (data["originating"], data["test_passed"]) == (True, "tariff-shift")
    assert data["agreement"] == "USMCA"
    assert data["non_preferential_origin"] == "US"
    # FTC: foreign (35 CN + 1 DE) / NC 90 = 40.00 % > 2 %, transformed in the US: qualified only.
    assert data["claims"]["ftc-made-in-usa"]["status"] == "qualified_only"
    assert data["claims"]["california-made-in-usa"]["status"] == "not_allowed"
    assert data["claims"]["made-in-germany"]["status"] == "not_allowed"
    assert "signs off" in data["review_note"]
    assert "signs off" in data["claims"]["ftc-made-in-usa"]["review_note"]
    figures = [entry["figure"] for entry in data["trail"]]
    assert figures[:2] == ["agreement", "rule source"]
    assert {"VNM", "VOM", "rvc-transaction-value", "rvc-net-cost", "tariff shift", "outcome"} <= set(figures)
    assert all(set(entry) == {"figure", "value", "basis"} for entry in data["trail"])


def test_reference_data_supplies_the_rule_when_the_input_has_none(tmp_path: Path) -> None:
    # The shipped USMCA sample for 7610 excludes profiles of 76.04 as a shift source.
    case = with_(materials=[{"item": "profile", "value": 45, "origin": "CN", "hs": "7604.29"}])
    del case["rule"]
    code, out = run(tmp_path, case, "--json")
    assert code == 0, out
    data = json.loads(out)
    # No shift (excluded); 45 / 100 = 45 % > 10 % de minimis; RVC_TV = 55.00 < 60; RVC_NC = 45 / 90 = 50.00 >= 50.
    assert (data["tariff_shift"], data["de_minimis"]) == (False, False)
    assert (data["rvc_tv"], data["rvc_nc"], data["test_passed"]) == ("55.00", "50.00", "rvc-net-cost")
    sources = [e for e in data["trail"] if e["figure"] == "rule source"]
    assert sources[0]["value"] == "reference data"


def test_threshold_overrides_apply_and_appear_in_the_trail(tmp_path: Path) -> None:
    # A 10.01 % failure (bracket in heading 7610) is rescued only with de minimis raised to 11 %.
    materials = [{"item": "bracket", "value": "10.01", "origin": "CN", "hs": "7610.10"}]
    rule = {"shift": "heading", "combine": "shift"}
    code, out = run(tmp_path, with_(materials=materials, rule=rule), "--json")
    assert code == 0, out
    assert json.loads(out)["de_minimis"] is False
    code, out = run(tmp_path, with_(materials=materials, rule=rule, thresholds={"de_minimis": 11}), "--json")
    assert code == 0, out
    data = json.loads(out)
    assert (data["de_minimis"], data["test_passed"]) == (True, "tariff-shift with de minimis")
    assert any(e["figure"] == "override de_minimis" for e in data["trail"])


def test_cptpp_and_eu_jp_use_their_own_value_tests(tmp_path: Path) -> None:
    base = with_(
        good={"hs": "8479.89", "transaction_value": 200, "net_cost": 180, "currency": "JPY", "ex_works": 180},
        materials=[{"item": "motor", "value": 90, "origin": "CN", "hs": "8479.90"}],
        operations=[{"name": "assemble", "country": "JP", "confers_origin": True}],
    )
    del base["rule"]  # the shipped sample rules: CPTPP 84 = CTSH or BD 45 / BU 35; EU-JP 84 = CTH or MaxNOM 50
    code, out = run(tmp_path, {**base, "agreement": "CPTPP", "destination": "VN"}, "--json")
    assert code == 0, out
    cptpp = json.loads(out)
    # Build-down = (200 - 90) / 200 = 55.00 %; build-up = 0 / 200 = 0.00 %; and 8479.90 -> 8479.89 changes
    # subheading, so the CTSH shift already passes.
    assert (cptpp["build_down"], cptpp["build_up"], cptpp["test_passed"]) == ("55.00", "0.00", "tariff-shift")
    _, out = run(tmp_path, {**base, "agreement": "eu-jp", "destination": "DE"}, "--json")
    eu_jp = json.loads(out)
    # 8479.90 -> 8479.89 stays in heading 8479 (CTH fails; 90 / EXW 180 = 50 % is beyond the 10 % tolerance),
    # but MaxNOM = 90 / EXW 180 x 100 = 50.00 % <= 50.
    assert (eu_jp["agreement"], eu_jp["maxnom"], eu_jp["test_passed"]) == ("EU-JP", "50.00", "maxnom")


def test_no_agreement_gives_the_marking_and_the_claims_only(tmp_path: Path) -> None:
    case = with_(agreement=None)
    del case["rule"]
    code, out = run(tmp_path, case, "--json")
    assert code == 0, out
    data = json.loads(out)
    assert (data["agreement"], data["rvc_tv"], data["originating"]) == (None, None, False)
    assert data["non_preferential_origin"] == "US"
    assert len(data["claims"]) == 3


def test_missing_origin_is_undetermined_and_the_trail_says_so(tmp_path: Path) -> None:
    materials = [
        {"item": "paint", "value": 5, "hs": "3208.20"},
        {"item": "cap", "value": 2, "origin": "", "hs": "3926"},
    ]
    code, out = run(tmp_path, with_(materials=materials), "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["vnm"] == "7"
    undetermined = [e for e in data["trail"] if e["value"] == "undetermined"]
    assert len(undetermined) == 2
    assert all("undetermined origin: counted as non-originating" in e["basis"] for e in undetermined)


def test_table_output_shows_figures_trail_claims_and_the_sign_off(tmp_path: Path) -> None:
    code, out = run(tmp_path, CASE)
    assert code == 0, out
    for text in ("Origin indication: USMCA", "65.00 %", "Trail", "Claims", "qualified_only", "signs off"):
        assert text in out


def test_reference_data_loads_with_members_and_a_fallback_rule() -> None:
    agreements = load_agreements()
    assert set(agreements) == {"USMCA", "CPTPP", "EU-JP"}
    assert agreements["EU-JP"].de_minimis_base == "ex-works"
    for agreement in agreements.values():
        assert agreement.rule_for("3926.90") is not None  # the '*' fallback
        assert {"73", "76", "84", "94"} <= {r.hs for r in agreement.rules}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{not json", "--input: invalid JSON"),
        ([], "input: expected a JSON object"),
        ({k: v for k, v in CASE.items() if k != "good"}, "good: missing"),
        (with_(good={**CASE["good"], "net_cost": None}), "good.net_cost: missing"),
        (
            with_(materials=[{"item": "sheet", "value": -3, "origin": "CN", "hs": "7606"}]),
            "materials[0].value: expected",
        ),
        (with_(materials=[{"item": "sheet", "value": "lots", "hs": "7606"}]), "materials[0].value: expected a number"),
        (with_(materials=[{"item": "sheet", "value": 1, "origin": "China"}]), "materials[0].origin: expected an ISO"),
        (with_(agreement="NAFTA"), "agreement: unknown 'NAFTA'; known: CPTPP, EU-JP, USMCA"),
        (with_(operations=[]), "operations: expected at least one"),
        (with_(operations=[{"name": "weld"}]), "operations[0].country: missing"),
        (with_(good={**CASE["good"], "hs": 761090}), "good.hs: expected a string"),
        (with_(good={**CASE["good"], "colour": "red"}), "good.colour: unknown field"),
        (with_(rule={"shift": "heading"}), "rule.combine: missing"),
        (with_(rule={"combine": "maybe"}), "rule.combine: expected one of"),
        (with_(rule={"hs": "76", "combine": "shift", "shift": "heading"}), "rule.hs: not allowed here"),
        (with_(thresholds={"rvc_tv": 160}), "thresholds.rvc_tv: expected a percent in [0, 100]"),
        (with_(agreement=None), "rule: needs an agreement"),
        (
            with_(materials=[{"item": "x", "value": 1, "indirect": "yes"}]),
            "materials[0].indirect: expected true or false",
        ),
    ],
)
def test_bad_input_is_one_line_naming_the_field_and_status_2(tmp_path: Path, data: object, message: str) -> None:
    code, out = run(tmp_path, data if isinstance(data, str | dict) else json.dumps(data), "--json")
    assert code == 2, out
    assert out.startswith("error: ")
    assert message in out
    assert "Traceback" not in out
    assert len(out.strip().splitlines()) == 1


def test_missing_input_file_is_status_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["origin", "--input", str(tmp_path / "nope.json"), "--json"])
    assert result.exit_code == 2
    assert "--input: no such file" in result.output

"""`microfab product`: options, check, explain, count, derive on a Product file (CliRunner on the sub-app)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from microfab.cli.product import app
from tests.unit.configurator.conftest import PRODUCTS

STAND = str(PRODUCTS / "laptop-stand.yaml")
runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.output


def test_options_json_lists_the_valid_values() -> None:
    code, out = run("options", STAND, "--set", "material=walnut", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["valid"]["finish"] == ["oiled", "natural"]
    assert data["valid"]["engraving"] == {"lengths": list(range(25))}
    assert data["conflict"] is None


def test_options_table_and_dead_end() -> None:
    code, out = run("options", STAND)
    assert code == 0
    assert "250–400 mm step 10" in out
    code, out = run("options", STAND, "--set", "material=walnut", "--set", "usb_hub=true")
    assert code == 1
    assert "usb-hub-needs-aluminium" in out


def test_check() -> None:
    code, out = run("check", STAND, "--config", '{"width": 300}', "--json")
    assert code == 0
    assert json.loads(out)["valid"] is True
    code, out = run("check", STAND, "--config", '{"material": "walnut", "width": 250, "finish": "oiled"}', "--json")
    assert code == 1
    assert [v["rule"] for v in json.loads(out)["violations"]] == ["walnut-width"]


def test_explain_and_repair() -> None:
    code, out = run("explain", STAND, "--set", "material=walnut", "--set", "usb_hub=yes", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["conflict"]["choices"] == {"material": "walnut", "usb_hub": True}
    assert data["repair"]["changed"] in (["material"], ["usb_hub"])
    code, out = run("explain", STAND, "--set", "material=walnut")
    assert (code, "no conflict" in out) == (0, True)


def test_count_and_derive() -> None:
    code, out = run("count", STAND, "--json")
    assert (code, json.loads(out)["valid"]) == (0, 2756)
    code, out = run("derive", STAND, "--config", '{"usb_hub": true}', "--json")
    assert code == 0
    data = json.loads(out)
    assert data["price"] == {"amount": "114.00", "currency": "USD"}
    assert "fit-usb-hub" in [op["name"] for op in data["routing"]]
    code, out = run("derive", STAND, "--config", '{"material": "walnut"}')
    assert code == 1
    assert "finish-per-material" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("options", "missing.yaml"), "no such file"),
        (("options", STAND, "--set", "colour=red"), "no option 'colour'"),
        (("options", STAND, "--set", "width"), "OPTION=VALUE"),
        (("check", STAND, "--config", "{bad"), "expected a JSON object"),
        (("check", STAND, "--config", "[1]"), "expected a JSON object"),
        (("check", STAND, "--config", '{"width": 255}'), "255 is not offered"),
        (("derive", STAND, "--config", '{"engraving": "' + "A" * 30 + '"}'), "30 characters"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(args: tuple[str, ...], words: str) -> None:
    code, out = run(*args)
    assert code == 1
    assert words in out
    assert "Traceback" not in out


def test_a_bad_formula_in_a_file_names_its_line(tmp_path: Path) -> None:
    text = Path(STAND).read_text().replace("expr: engrave_chars * 15 <= width - 40", "expr: width.__class__")
    bad = tmp_path / "stand.yaml"
    bad.write_text(text)
    code, out = run("count", str(bad))
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "width.__class__" in t)
    assert code == 1
    assert f"stand.yaml:{line}:" in out
    assert "attribute access" in out


def test_a_product_name_in_the_applied_network(tmp_path: Path) -> None:
    code, out = run("count", "laptop-stand", "--db", f"sqlite:///{tmp_path}/empty.db")
    assert code == 1
    assert "no network applied yet" in out

"""``microfab plan expand``: the example's plan, its Module documents accepted by ``validate``, bad forecasts named."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from microfab.cli.main import app
from microfab.manifests import load_network, load_resources
from tests.e2e.conftest import EXAMPLE, ROOT

pytestmark = pytest.mark.e2e
runner = CliRunner()
FORECAST = ROOT / "examples" / "forecast" / "forecast.yaml"


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def expand(*args: str) -> dict[str, Any]:
    code, out = invoke("plan", "expand", "--json", *args)
    assert code == 0, out
    document: dict[str, Any] = json.loads(out)
    return document


def network_with(modules: Path, tmp_path: Path) -> Path:
    """The example network with its Module documents replaced by the plan's."""
    folder = tmp_path / "network"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("modules"))
    shutil.copytree(modules, folder / "modules", ignore=shutil.ignore_patterns("*.json"))
    return folder


def test_the_example_plan_deploys_an_anodizing_line_in_vietnam_and_round_trips(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    plan = expand(
        "--forecast", str(FORECAST), "--network", str(EXAMPLE), "--out", str(out),
        "--replications", "3", "--twin-periods", "1",
    )  # fmt: skip
    assert plan["status"] == "optimal"
    assert plan["gap"] <= 1e-4
    deploys = [a for a in plan["actions"] if a["action"] == "deploy"]
    assert [(a["site"], a["module_type"], a["count"], a["period"]) for a in deploys] == [
        ("vietnam", "anodizing", 1, "2027-07")
    ]
    assert deploys[0]["order_by"].startswith("2027-05-02")  # 60 days of lead time before July
    assert float(plan["costs"]["deploy"]) == 45000
    twin = plan["twin"]
    assert twin["replications"] == 3
    assert twin["service_level"]["n"] == 3
    assert 0.9 <= twin["service_level"]["mean"] <= 1.0
    assert twin["service_level"]["half_width"] is not None
    assert set(twin["oee"]) == {"bavaria", "japan", "monterrey", "ohio", "vietnam"}
    assert sorted(p.name for p in out.iterdir()) == [
        "bavaria.yaml", "japan.yaml", "monterrey.yaml", "ohio.yaml", "plan.json", "vietnam.yaml",
    ]  # fmt: skip
    assert json.loads((out / "plan.json").read_text())["actions"] == plan["actions"]

    folder = network_with(out, tmp_path)
    code, text = invoke("validate", str(folder))
    assert code == 0, text
    assert "56 modules" in text
    network = load_network(folder)
    assert network.modules["vietnam-anodizing-2027-07-1"].module_type == "anodizing"
    written = (out / "vietnam.yaml").read_text()
    assert "microfab.dev/productive-from: '2027-07-01'" in written
    assert "microfab.dev/order-by: '2027-05-02'" in written


def test_the_plan_of_the_applied_network_is_the_same(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'log.db'}"
    code, out = invoke("apply", str(EXAMPLE), "--db", db)
    assert code == 0, out
    plan = expand("--forecast", str(FORECAST), "--db", db, "--replications", "0")
    assert [(a["site"], a["module_type"], a["period"]) for a in plan["actions"]] == [
        ("vietnam", "anodizing", "2027-07")
    ]
    assert plan["twin"] is None


def test_retirements_lower_replicas_and_the_documents_still_validate(tmp_path: Path) -> None:
    forecast = tmp_path / "falling.yaml"
    forecast.write_text(
        "start: 2027-01\nperiods: 4\nretire: true\n"
        "families: [{product: laptop-stand}]\n"
        "demand: [{market: us, family: stands, ramp: {from: 900, to: 100}}]\n",
        encoding="utf-8",
    )
    out = tmp_path / "plan"
    plan = expand("--forecast", str(forecast), "--network", str(EXAMPLE), "--out", str(out), "--replications", "0")
    retired = [a for a in plan["actions"] if a["action"] == "retire"]
    assert retired, plan["actions"]
    folder = network_with(out, tmp_path)
    code, text = invoke("validate", str(folder))
    assert code == 0, text
    before = load_network(EXAMPLE).modules
    after = load_network(folder).modules
    gone = {m for a in retired for m in a["modules"]}
    assert set(before) - set(after) == gone
    assert len(load_resources(folder)) < len(load_resources(EXAMPLE))  # whole documents went too


@pytest.mark.parametrize(
    ("text", "suffix", "expected"),
    [
        (
            "start: 2027-01\nperiods: 2\nfamilies: [{product: laptop-stand}]\n"
            "demand:\n  - {market: us, family: stands, units: [10]}\n  - {market: zz, family: stands, units: [1, 2]}\n",
            ".yaml",
            [r":5:\d+: demand\[0\]\.units: expected 2 numbers", r":6:\d+: demand\[1\]\.market: unknown market 'zz'"],
        ),
        (
            '{"start": "2027-01", "periods": 2, "families": [{"product": "laptop-stand"}],\n'
            ' "demand": [{"market": "us", "family": "stands", "units": [1, "lots"]}]}\n',
            ".json",
            [r":2:\d+: demand\[0\]\.units\[1\]: expected a decimal number"],
        ),
        (
            "start: 2027-01\nperiods: 2\nfamilies: [{product: laptop-stand}\n",
            ".yaml",
            [r":\d+:\d+: invalid YAML or JSON"],
        ),
        (
            "periods: 2\nfamilies: []\ndemand: []\n",
            ".yaml",
            [r":1:1: start: missing", r":2:\d+: families: expected at least one"],
        ),
    ],
)
def test_a_bad_forecast_is_named_and_nothing_is_written(
    tmp_path: Path, text: str, suffix: str, expected: list[str]
) -> None:
    forecast = tmp_path / f"forecast{suffix}"
    forecast.write_text(text, encoding="utf-8")
    out = tmp_path / "plan"
    code, output = invoke("plan", "expand", "--forecast", str(forecast), "--network", str(EXAMPLE), "--out", str(out))
    assert code == 1
    for pattern in expected:
        assert re.search(re.escape(str(forecast)) + pattern, output), output
    assert "nothing was planned" in output
    assert not out.exists()

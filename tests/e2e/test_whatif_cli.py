"""``microfab whatif``: a tiny study through the CLI — the JSON's shape, deltas that point the right way, the chart."""

from __future__ import annotations

import io
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from microfab.cli.main import app
from microfab.cli.whatif import delta_table
from microfab.control.whatif import summarize
from microfab.control.whatif_scenario import DemandModel, Scenario, Setup, WhatIf
from tests.e2e.conftest import EXAMPLE

pytestmark = pytest.mark.e2e
runner = CliRunner()

# Two markets for three days, two seeds: Bavaria (the only site with an open lane to Germany) down
# for the whole horizon, and a 30 % duty on everything entering the US from the first day.
STUDY = f"""\
apiVersion: microfab.dev/v1
kind: WhatIf
metadata:
  name: tiny
spec:
  baseline: {{manifests: {EXAMPLE}}}
  start: 2027-01-04T00:00:00+00:00
  horizon: 3d
  seeds: 2
  demand:
    ordersPerDay: {{de: 4, us: 3}}
    mix: [{{product: laptop-stand, share: "1"}}]
    samples: 2
    quantity: {{min: 2, max: 6}}
    dueIn: 4d
  allocation: {{timeLimit: 2s}}
  scenarios:
    - name: bavaria-down
      changes:
        - siteOutage: {{site: bavaria, from: 0d, to: 3d}}
    - name: us-tariff
      changes:
        - tariffChange: {{market: us, hsPrefix: "*", rate: "0.30", effective: 0d}}
"""
ESTIMATE = {"mean", "half_width", "low", "high", "n"}
T0 = datetime(2027, 1, 4, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("whatif") / "tiny.yaml"
    path.write_text(STUDY, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run(study: Path) -> tuple[dict[str, Any], Path]:
    chart = study.parent / "out" / "tiny.html"
    result = runner.invoke(app, ["whatif", str(study), "--json", "--workers", "1", "--chart", str(chart)])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document, chart


def test_the_json_has_every_scenario_figure_and_run(run: tuple[dict[str, Any], Path]) -> None:
    document, _ = run
    assert set(document) == {"name", "currency", "start", "horizon_h", "seeds", "method", "scenarios", "runs"}
    assert (document["name"], document["currency"], document["horizon_h"]) == ("tiny", "USD", 72.0)
    assert document["start"] == "2027-01-04T00:00:00+00:00"
    assert document["seeds"] == [1, 2]
    assert [s["name"] for s in document["scenarios"]] == ["bavaria-down", "us-tariff"]
    assert [(r["variant"], r["seed"]) for r in document["runs"]] == [
        ("baseline", 1), ("baseline", 2), ("bavaria-down", 1), ("bavaria-down", 2), ("us-tariff", 1), ("us-tariff", 2),
    ]  # fmt: skip
    for scenario in document["scenarios"]:
        metrics = scenario["metrics"]
        headline = {"cost:total", "cost:duty", "cost:rejection", "on_time", "on_time_demanded", "service_level"}
        headline |= {"lost_sales_units", "delivered_orders", "on_time_orders"}
        assert headline | {"throughput_per_day", "oee:network", "oee:bavaria", "load_h:bavaria"} <= set(metrics)
        for metric in metrics.values():
            assert set(metric) == {"label", "unit", "baseline", "variant", "delta"}
            assert set(metric["delta"]) == ESTIMATE
            assert metric["delta"]["n"] == 2
        assert metrics["cost:total"]["unit"] == "USD"
        assert metrics["on_time"]["unit"] == "share"
    assert document["scenarios"][0]["changes"] == [
        "site bavaria down 2027-01-04T00:00:00+00:00 → 2027-01-07T00:00:00+00:00"
    ]


def test_an_outage_does_not_improve_delivery_and_a_tariff_rise_raises_duty(run: tuple[dict[str, Any], Path]) -> None:
    document, _ = run
    runs = {(r["variant"], r["seed"]): r for r in document["runs"]}
    outage, tariff = (s["metrics"] for s in document["scenarios"])
    for seed in (1, 2):
        base, down = runs["baseline", seed], runs["bavaria-down", seed]
        assert down["on_time"] <= base["on_time"]
        assert down["service_level"] <= base["service_level"]
        assert down["orders"] == base["orders"]  # common random numbers: the same orders
        assert down["on_time_demanded"] <= base["on_time_demanded"]
        for row in (base, down):  # on-time of the orders demanded counts the rejected ones against it
            assert row["on_time_demanded"] == pytest.approx(row["on_time_orders"] / row["orders"])
            assert row["on_time_demanded"] <= row["on_time"]
        assert runs["us-tariff", seed]["cost:duty"] > base["cost:duty"]
    assert outage["on_time"]["delta"]["mean"] < 0  # seed 1 loses on-time orders; seed 2's catch up after day 3
    assert outage["service_level"]["delta"]["mean"] < 0
    assert outage["throughput_per_day"]["delta"]["mean"] < 0
    assert outage["cost:duty"]["delta"]["mean"] == 0  # an outage changes no duty rate
    assert tariff["cost:duty"]["delta"]["mean"] > 0
    assert tariff["cost:total"]["delta"]["mean"] > 0


def test_the_chart_is_one_self_contained_html_file(run: tuple[dict[str, Any], Path]) -> None:
    _, chart = run
    page = chart.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert page.count("<svg") >= 6
    assert "bavaria-down" in page
    assert "us-tariff" in page
    assert "on-time delivery (orders delivered)" in page
    for remote in ("http://", "https://", "<script", "<link", "<img"):
        assert remote not in page


def test_the_table_marks_intervals_and_a_bad_file_names_its_line(study: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["whatif", str(study), "--seeds", "1", "--workers", "1", "--manifests", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "tiny: variant − baseline, seeds 1" in result.stdout
    assert "on-time delivery (orders delivered)" in result.stdout
    assert "± n/a" in result.stdout  # one seed: no interval

    bad = tmp_path / "bad.yaml"
    bad.write_text(STUDY.replace("site: bavaria, from: 0d, to: 3d", "site: atlantis, from: 3d, to: 1d"))
    result = runner.invoke(app, ["whatif", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:20:24: spec.scenarios[0].changes[0].siteOutage.site: no Site named 'atlantis'" in result.output
    assert f"{bad}:20:50: spec.scenarios[0].changes[0].siteOutage.to: expected a time after from" in result.output
    assert "2 error(s); nothing was run." in result.output


def test_ray_without_the_extra_names_it(study: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # importing it raises ImportError
    result = runner.invoke(app, ["whatif", str(study), "--ray", "local", "--seeds", "1"])
    assert result.exit_code == 1
    assert "--ray needs Ray, an optional extra: pip install 'microfab[ray]'" in result.output


def test_help_lists_the_options() -> None:
    result = runner.invoke(app, ["whatif", "--help"], env={"COLUMNS": "160"})
    assert result.exit_code == 0
    for option in ("--seeds", "--workers", "--ray", "--chart", "--json", "--manifests", "--db", "--all"):
        assert option in result.output


def test_grid_scenario_names_survive_the_table() -> None:
    setup = Setup(T0, 3 * DAY, DAY, DemandModel({}, (), 1, 1, DAY))
    study = WhatIf("grid[x]", "grid.yaml", setup, 2, (Scenario("tariff[rate=0.25]", ()),))
    names = ("baseline", "tariff[rate=0.25]")
    data = [{"variant": v, "seed": s, "cost:total": 10.0 * s + (v != "baseline")} for v in names for s in (1, 2)]
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(delta_table(summarize(study, data, "USD")))
    text = console.export_text()
    assert "tariff[rate=0.25]" in text  # not taken for console markup
    assert "grid[x]: variant − baseline" in text
    assert "+1.00 ± 0.00 USD*" in text

"""The planner's what-if form and job page, and the examples the planner's forms start with (shipped in the package)."""

from __future__ import annotations

import fnmatch
import html
import re
import tomllib
from importlib.resources import files

import pytest
from fastapi.testclient import TestClient
from ruamel.yaml import YAML

from microfab.api.app import ApiSettings
from microfab.api.web import planner
from tests.api.conftest import Keys
from tests.api.test_plan_whatif import TINY
from tests.api.test_planner_pages import signed_in
from tests.api.test_planner_stress_expand_pages import finished, table
from tests.e2e.conftest import ROOT

PACKAGED = files("microfab.api.web") / "examples"


@pytest.fixture
def api_settings() -> ApiSettings:
    return ApiSettings(order_rate_per_s=50.0, order_burst=50)


def test_the_forms_start_with_the_examples_shipped_in_the_package() -> None:
    assert planner.example("stress-network.json") == (ROOT / "examples/stress/network.json").read_text("utf-8")
    assert planner.example("forecast.yaml") == (ROOT / "examples/forecast/forecast.yaml").read_text("utf-8")
    assert planner.example("nothing.yaml") == ""
    # The what-if example is the CLI's Bavaria outage made small (2 seeds) and without a baseline folder.
    yaml = YAML(typ="safe")
    small = yaml.load(planner.example("whatif.yaml"))
    cli = yaml.load((ROOT / "examples/whatif/bavaria-outage.yaml").read_text("utf-8"))
    assert small["spec"].pop("seeds") == 2
    assert "baseline" in cli["spec"]
    del cli["spec"]["baseline"], cli["spec"]["seeds"]
    assert small == cli


def test_the_examples_are_package_data() -> None:
    """Every file of ``api/web/examples`` matches a ``package-data`` pattern, so an installed package has them."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["package-data"]
    shipped = [f"api/web/examples/{f.name}" for f in PACKAGED.iterdir()]
    assert len(shipped) == 3
    for name in shipped:
        assert any(fnmatch.fnmatch(name, p) for p in patterns["microfab"]), name


def test_the_planner_page_offers_the_what_if_form(client: TestClient, keys: Keys) -> None:
    page = signed_in(client, keys.planner).get("/planner")
    assert page.status_code == 200
    assert 'id="whatif-form"' in page.text
    assert 'action="/planner/whatifs"' in page.text
    form = page.text.split('id="whatif-form"', 1)[1].split("</form>", 1)[0]
    assert "siteOutage: {site: bavaria, from: 2d, to: 9d}" in html.unescape(form)
    assert "seeds: 2" in form
    assert "baseline:" not in form.split("<textarea", 1)[1]
    assert 'name="seeds" type="number" min="1" max="20" value=""' in form


def test_a_study_from_the_form_shows_the_deltas_the_chart_and_the_variants(client: TestClient, keys: Keys) -> None:
    signed_in(client, keys.planner)
    queued = client.post("/planner/whatifs", data={"scenario": TINY, "seeds": "", "time_limit": "3"},
                         follow_redirects=False)  # fmt: skip
    assert queued.status_code == 303, queued.text[:500]
    page = finished(client, queued.headers["location"])
    assert 'id="job-status" class="status succeeded"' in page, page[:2000]
    assert "seeds=2" in page  # the file's
    assert "time_limit=3.0" in page  # the form's
    assert 'id="whatif-seeds">1..2<' in page
    deltas = table(page, "whatif-deltas")
    rows = dict(re.findall(r'<tr data-key="([^"]+)"(?: class="significant")?>(.*?)</tr>', deltas, re.S))
    assert list(rows)[:9] == [
        "cost:total", "cost:duty", "cost:rejection", "on_time", "service_level", "lost_sales_units", "late_units",
        "throughput_per_day", "oee:network",
    ]  # fmt: skip
    assert {"oee:bavaria", "load_h:ohio"} <= set(rows)  # then OEE and load per site
    on_time = rows["on_time"]
    assert "on-time delivery (orders delivered)" in on_time
    assert re.search(r"<td class=\"num\" style=\"color: #c62828[^>]*>-\d+\.\d ± \d+\.\d pts<b>\*</b></td>", on_time)
    assert '<tr data-key="on_time" class="significant">' in deltas
    assert re.search(r"\d,?\d*\.\d\d USD", rows["cost:total"])
    significant = int(re.search(r'id="whatif-significant">(\d+)<', page).group(1))  # type: ignore[union-attr]
    assert significant == deltas.count('class="significant"') >= 1
    chart = re.search(r'<svg id="whatif-chart".*?</svg>', page, re.S)
    assert chart is not None
    assert chart.group(0).count('<g transform="translate(0, 18)">') == 9  # one panel per headline figure
    assert chart.group(0).count('class="whisker"') == 9  # two seeds: every bar has its interval
    assert 'fill="#c62828" fill-opacity="1.0"' in chart.group(0)  # a significant change for the worse, solid
    variants = table(page, "whatif-variants")
    assert "<th>baseline</th><th>tiny-outage</th>" in variants
    assert re.search(r'<tr data-key="service:de">.*?<td class="num">\d+\.\d % ± \d+\.\d</td>', variants, re.S)
    assert table(page, "whatif-runs").count("<tr>") == 5  # the header and 4 runs


def test_the_job_page_speaks_the_planners_language(client: TestClient, keys: Keys) -> None:
    signed_in(client, keys.planner)
    queued = client.post("/planner/whatifs", data={"scenario": TINY, "seeds": "1"}, follow_redirects=False)
    page = finished(client, queued.headers["location"] + "?lang=de")
    assert 'id="job-status" class="status succeeded"' in page, page[:2000]
    assert "Differenzen (Variante − Basis)" in page
    assert "Termintreue (gelieferte Aufträge)" in page
    assert "OEE bavaria" in page
    assert "k. A." in page  # one seed: no interval
    assert 'class="whisker"' not in page


def test_a_bad_study_comes_back_with_its_lines(client: TestClient, keys: Keys) -> None:
    signed_in(client, keys.planner)
    text = TINY.replace("site: bavaria", "site: atlantis").replace("spec:\n", "spec:\n  baseline: {manifests: /etc}\n")
    page = client.post("/planner/whatifs", data={"scenario": text, "seeds": "3"})
    assert page.status_code == 422
    errors = re.search(r'<div id="whatif-errors".*?</div>', page.text, re.S)
    assert errors is not None
    listed = html.unescape(errors.group(0))
    assert "scenario:6:3: spec.baseline: not allowed over HTTP: the baseline is the applied network" in listed
    assert re.search(r"scenario:20:\d+: spec\.changes\[0\]\.siteOutage\.site: no Site named 'atlantis'", listed)
    assert "site: atlantis" in page.text.split('id="scenario"', 1)[1]  # what was typed is kept
    assert 'name="seeds" type="number" min="1" max="20" value="3"' in page.text
    assert client.get("/planner").text.count("/planner/jobs/job-") == 0  # nothing was queued


def test_only_planners_and_admins_run_them(client: TestClient, keys: Keys) -> None:
    for key in (keys.operator, keys.alice):
        signed_in(client, key)
        answer = client.post("/planner/whatifs", data={"scenario": TINY}, follow_redirects=False)
        assert answer.status_code == 403
    signed_in(client, keys.admin)
    assert client.post("/planner/whatifs", data={"scenario": TINY, "seeds": "99"}).status_code == 422
    assert client.post("/planner/whatifs", data={"scenario": TINY, "time_limit": "60"}).status_code == 422


def test_a_large_network_typed_into_the_stress_form_passes_the_body_limit(client: TestClient, keys: Keys) -> None:
    signed_in(client, keys.planner)
    text = (ROOT / "examples/stress/network.json").read_text("utf-8").replace('"inventory": 400', '"inventory": -400')
    page = client.post("/planner/stress", data={"network": text + " " * 100_000})  # over 64 KiB, under 1 MiB
    assert page.status_code == 422  # read, and refused for its one error
    assert "nodes[4].inventory" in page.text

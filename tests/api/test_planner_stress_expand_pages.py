"""The planner's pages: a stress test and a capacity expansion from their forms to the job page's tables and charts."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient

from microfab.api.app import ApiSettings
from tests.api.conftest import Keys
from tests.api.test_plan_stress_expand import FORECAST, STRESS
from tests.api.test_planner_pages import signed_in


@pytest.fixture
def api_settings() -> ApiSettings:
    return ApiSettings(order_rate_per_s=50.0, order_burst=50)


def finished(client: TestClient, location: str, timeout: float = 90.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        page = client.get(location)
        if 'http-equiv="refresh"' not in page.text or time.monotonic() > deadline:
            return page.text
        time.sleep(0.2)


def table(html: str, table_id: str) -> str:
    found = re.search(rf'<table id="{table_id}".*?</table>', html, re.S)
    assert found is not None, f"no table {table_id}"
    return found.group(0)


def test_the_planner_page_offers_both_forms_filled_with_the_examples(client: TestClient, keys: Keys) -> None:
    page = signed_in(client, keys.planner).get("/planner")
    assert page.status_code == 200
    for form in ('id="allocate-form"', 'id="stress-form"', 'id="expansion-form"'):
        assert form in page.text
    assert "springs-suzhou" in page.text  # the stress example
    assert "deliveryWindow: 7d" in page.text  # the forecast example
    assert 'action="/planner/stress"' in page.text
    assert 'action="/planner/expansions"' in page.text


def test_a_stress_test_from_the_form_shows_the_nodes_by_rei(client: TestClient, keys: Keys) -> None:
    signed_in(client, keys.planner)
    queued = client.post("/planner/stress", data={"network": STRESS.read_text()}, follow_redirects=False)
    assert queued.status_code == 303, queued.text[:500]
    html = finished(client, queued.headers["location"])
    assert 'id="job-status" class="status succeeded"' in html, html[:2000]
    nodes = table(html, "stress-nodes")
    rows = re.findall(r'<tr( class="at-risk"[^>]*)? data-node="([^"]+)"', nodes)
    assert [node for _, node in rows][:2] == ["ohio", "springs-suzhou"]  # by REI
    assert [node for risky, node in rows if risky] == [
        "ohio", "springs-suzhou", "casting", "arm-joint", "hinges-taichung", "alu-monterrey", "monitor-arm",
    ]  # fmt: skip
    assert "≥ 90" in nodes  # nuevo-leon: TTS unbounded
    assert 'id="stress-at-risk">7<' in html
    assert html.count("<rect") - html.count('fill="#eceff1"') == 14  # one REI bar per node
    assert html.count('fill="#d9534f"') == 7  # the at-risk ones in red
    mitigations = table(html, "mitigations")
    assert "qualify a second source of gas-spring for monitor-arm" in mitigations


def test_a_bad_network_comes_back_with_its_errors(client: TestClient, keys: Keys) -> None:
    signed_in(client, keys.planner)
    text = STRESS.read_text().replace('"inventory": 400', '"inventory": -400')
    page = client.post("/planner/stress", data={"network": text})
    assert page.status_code == 422
    errors = re.search(r'<div id="stress-errors".*?</div>', page.text, re.S)
    assert errors is not None
    assert "nodes[4].inventory: part &#39;extrusion&#39;: expected a number &gt;= 0, got -400" in errors.group(0)
    assert "-400" in page.text.split('id="network"', 1)[1]  # what was typed is kept
    page = client.post("/planner/stress", data={"network": "{not json"})
    assert page.status_code == 422
    assert "Invalid JSON" in page.text
    page = client.post("/planner/stress", data={"network": text.replace('"kind": "raw"', '"kind": "widget"', 1)})
    assert page.status_code == 422
    assert "nodes[8].kind: Input should be" in page.text
    page = client.post("/planner/stress", data={"network": text.replace("-400", "1" + "0" * 400)})
    assert page.status_code == 422
    assert "nodes[4].inventory: Input should be a finite number" in page.text


def test_an_expansion_from_the_form_shows_deployments_costs_and_the_twin(client: TestClient, keys: Keys) -> None:
    signed_in(client, keys.planner)
    form = {"forecast": FORECAST, "time_limit": "5", "replications": "2", "twin_periods": ""}
    queued = client.post("/planner/expansions", data=form, follow_redirects=False)
    assert queued.status_code == 303, queued.text[:500]
    location = queued.headers["location"]
    html = finished(client, location)
    assert 'id="job-status" class="status succeeded"' in html, html[:2000]
    assert "twin_periods=None" in html  # empty: the whole horizon
    deployments = table(html, "deployments")
    assert re.search(r"<td>vietnam</td><td>anodizing</td><td class=\"num\">1</td><td>2027-07</td><td>2027-05-02</td>",
                     deployments)  # fmt: skip
    assert 'id="deploy-chart"' in html
    assert "<title>vietnam 2027-07: +1</title>" in html
    assert 'id="cost-chart"' in html
    assert "45,000.00" in table(html, "costs")  # the deploy cost
    twin = table(html, "twin")
    assert "service level" in twin
    assert re.search(r"\d+\.\d % – \d+\.\d %", twin)  # a confidence interval
    job_id = location.rsplit("/", 1)[1]
    assert f'href="/v1/plans/jobs/{job_id}/manifests.yaml"' in html
    download = client.get(f"/v1/plans/jobs/{job_id}/manifests.yaml")  # the page's cookie is enough
    assert download.status_code == 200
    assert "name: vietnam-anodizing-2027-07" in download.text


def test_a_bad_forecast_comes_back_with_its_lines(client: TestClient, keys: Keys) -> None:
    signed_in(client, keys.planner)
    text = FORECAST.replace("market: mx", "market: zz")
    page = client.post("/planner/expansions", data={"forecast": text, "replications": "0"})
    assert page.status_code == 422
    errors = re.search(r'<div id="expansion-errors".*?</div>', page.text, re.S)
    assert errors is not None
    assert re.search(r"forecast:\d+:\d+: demand\[2\]\.market: unknown market &#39;zz&#39;", errors.group(0))
    assert "market: zz" in page.text  # what was typed is kept
    assert 'name="replications" type="number" min="0" max="20" value="0"' in page.text


def test_only_planners_and_admins_run_them(client: TestClient, keys: Keys) -> None:
    for key in (keys.operator, keys.alice):
        signed_in(client, key)
        assert client.post("/planner/stress", data={"network": "{}"}, follow_redirects=False).status_code == 403
        answer = client.post("/planner/expansions", data={"forecast": "x: 1"}, follow_redirects=False)
        assert answer.status_code == 403
    signed_in(client, keys.admin)
    assert client.post("/planner/expansions", data={"forecast": FORECAST, "replications": "99"}).status_code == 422

"""Stress tests and capacity expansion as planning jobs over HTTP: roles, 422s naming the field, the CLI's results."""

from __future__ import annotations

import copy
import io
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ruamel.yaml import YAML

from microfab.api import create_app
from microfab.api.app import ApiSettings
from microfab.control import access, operations
from microfab.control.bootstrap import Services, bootstrap
from microfab.domain.access import Role
from microfab.manifests import load_network, load_resources
from microfab.settings import Settings
from tests.api.conftest import AT, Keys, auth
from tests.api.test_plans_api import poll
from tests.e2e.conftest import EXAMPLE, ROOT

STRESS = ROOT / "examples" / "stress" / "network.json"
NETWORK: dict[str, Any] = json.loads(STRESS.read_text(encoding="utf-8"))
FORECAST_FILE = ROOT / "examples" / "forecast" / "forecast.yaml"
FORECAST = FORECAST_FILE.read_text(encoding="utf-8")
QUICK = {"replications": 0, "time_limit": 2.0}  # an expansion that only solves (roles and queue tests)
TIMINGS = {"runtime_s"}  # what differs between two runs of the same input


@pytest.fixture
def api_settings() -> ApiSettings:
    return ApiSettings(order_rate_per_s=50.0, order_burst=50)  # the default body limit: a forecast is ~2.5 KB


@pytest.fixture(scope="module")
def planner() -> Iterator[tuple[TestClient, str]]:
    """One app and a planner's key for the tests that are refused before any job is queued (they change nothing)."""
    services = bootstrap(Settings(db="memory://"))
    operations.apply_plan(services, operations.plan_apply(services, load_resources(EXAMPLE)))
    key = access.create_key(services.state, services.log, role=Role.PLANNER, customer=None, market=None,
                            label="test", at=AT)[1]  # fmt: skip
    with TestClient(create_app(services=services)) as client:
        yield client, key
    services.close()


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


def cli_json(*args: str) -> dict[str, Any]:
    """``microfab plan ARGS --json`` in a process of its own, as a planning job runs (HiGHS keeps per-process state)."""
    code = "from microfab.cli.main import app; app()"
    command = [sys.executable, "-c", code, "plan", *args, "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def untimed(document: dict[str, Any], *drop: str) -> dict[str, Any]:
    out = {k: v for k, v in document.items() if k not in TIMINGS and k not in drop}
    if isinstance(out.get("twin"), dict):
        out["twin"] = {k: v for k, v in out["twin"].items() if k != "wall_s"}
    return out


ROUTES = {
    "stress": ("/v1/plans/stress", NETWORK),
    "expansions": ("/v1/plans/expansions", {"forecast": FORECAST, **QUICK}),
}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_planners_and_admins_submit_others_may_not(client: TestClient, keys: Keys, route: str) -> None:
    path, body = ROUTES[route]
    for key in (keys.planner, keys.admin):
        answer = client.post(path, json=body, headers=auth(key))
        assert answer.status_code == 202, answer.text
        job = answer.json()
        assert answer.headers["location"] == f"/v1/plans/jobs/{job['id']}"
        assert job["kind"] == {"stress": "stress", "expansions": "expansion"}[route]
        assert job["status"] in ("queued", "running")
    for key in (keys.operator, keys.alice):
        assert client.post(path, json=body, headers=auth(key)).status_code == 403
    unauthorized = client.post(path, json=body)
    assert unauthorized.status_code == 401
    assert unauthorized.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (node_with(4, inventory=-5), "body.nodes.4.inventory", "part 'extrusion': expected a number >= 0, got -5"),
        (
            with_(bom=[*NETWORK["bom"], {"parent": "extrusion", "part": "laptop-stand", "qty": 1}]),
            "body.bom.10",
            "cycle through 'laptop-stand': laptop-stand -> extrusion -> laptop-stand",
        ),
        (
            with_(sources=[s for s in NETWORK["sources"] if s["part"] != "gas-spring"]),
            "body.nodes.6",
            "part 'gas-spring' has no source",
        ),
        (node_with(2, capacity=-1), "body.nodes.2.capacity", "site 'ohio': expected units/day >= 0"),
        (node_with(1, weight=0), "body.nodes.1.weight", "expected money per unit > 0, got 0"),
        (node_with(4, weight=2), "body.nodes.4.weight", "a weight is the margin lost per unit of a product"),
        (without(10, "capacity"), "body.nodes.10.capacity", "raw 'alu-monterrey': missing (units per day"),
        (with_(demand={"hinge": 3}), "body.demand.hinge", "'hinge' is a part: only products have demand"),
        (with_(demand={"desk": 3}), "body.demand.desk", "unknown node 'desk'"),
        (with_(horizon_days=0), "body.horizon_days", "expected a number of days > 0, got 0"),
        (with_(currency="EURO"), "body.currency", "expected an ISO 4217 currency code"),
        (
            with_(sources=[*NETWORK["sources"], {"part": "hinge", "parent": "laptop-stand", "supplier": "acme"}]),
            "body.sources.7.supplier",
            "unknown node 'acme'",
        ),
        (with_(nodes=[*NETWORK["nodes"], NETWORK["nodes"][0]]), "body.nodes.14.id", "duplicate id 'laptop-stand'"),
        # the shape, checked by the request's schema
        (node_with(1, kind="widget"), "body.nodes.1.kind", ""),
        (node_with(1, colour="red"), "body.nodes.1.colour", ""),
        (node_with(0, ttr_days="soon"), "body.nodes.0.ttr_days", ""),
        (node_with(0, inventory=True), "body.nodes.0.inventory", ""),
        (with_(bom=[{"parent": "laptop-stand", "part": "ohio"}]), "body.bom.0.qty", ""),
        ({k: v for k, v in NETWORK.items() if k != "demand"}, "body.demand", ""),
        (with_(solver="cplex"), "body.solver", ""),
    ],
)
def test_a_bad_network_is_a_422_naming_the_field(
    planner: tuple[TestClient, str], body: dict[str, Any], field: str, message: str
) -> None:
    client, key = planner
    answer = client.post("/v1/plans/stress", json=body, headers=auth(key))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    errors = answer.json()["errors"]
    assert errors[0]["field"] == field, errors
    assert message in errors[0]["message"]
    assert client.get("/v1/plans/jobs", headers=auth(key)).json()["items"] == []  # nothing was queued


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"forecast": FORECAST.replace("ramp: {from: 600, to: 600}", "units: [1, 2]")},
            r"body\.forecast:\d+:\d+:demand\[4\]\.units",
            "expected 12 numbers (one per period), got 2",
        ),
        (
            {"forecast": FORECAST.replace("market: mx", "market: zz")},
            r"body\.forecast:\d+:\d+:demand\[2\]\.market",
            "unknown market 'zz'",
        ),
        ({"forecast": "start: 2027-01\nperiods: [oops\n"}, r"body\.forecast:\d+:\d+:", "invalid YAML or JSON"),
        ({"forecast": "[" * 40 + "]" * 40}, r"body\.forecast:1:\d+:", "nested deeper than 32 levels"),
        (
            {
                "forecast": "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                + "".join(
                    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
                    for p, c in zip("abcdef", "bcdefg", strict=True)
                )
            },
            r"body\.forecast:\d+:\d+:",
            "holds more than 50000 values once aliases are expanded",
        ),
        ({"forecast": ""}, r"body\.forecast", ""),
        ({"forecast": 5}, r"body\.forecast", ""),
        ({"forecast": FORECAST, "time_limit": 1000}, r"body\.time_limit", ""),
        ({"forecast": FORECAST, "replications": -1}, r"body\.replications", ""),
        ({"forecast": FORECAST, "replications": "2"}, r"body\.replications", ""),
        ({"forecast": FORECAST, "twin_periods": 0}, r"body\.twin_periods", ""),
        ({"forecast": FORECAST, "solver": "cplex"}, r"body\.solver", ""),
        ({}, r"body\.forecast", ""),
    ],
)
def test_a_bad_forecast_is_a_422_naming_the_field_and_line(
    planner: tuple[TestClient, str], body: dict[str, Any], field: str, message: str
) -> None:
    client, key = planner
    answer = client.post("/v1/plans/expansions", json=body, headers=auth(key))
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert any(re.fullmatch(field, e["field"]) and message in e["message"] for e in errors), errors
    assert client.get("/v1/plans/jobs", headers=auth(key)).json()["items"] == []


def test_the_stress_job_answers_what_the_cli_prints(client: TestClient, keys: Keys) -> None:
    asked = client.post("/v1/plans/stress", json=NETWORK, headers=auth(keys.planner))
    assert asked.status_code == 202, asked.text
    assert asked.json()["params"] == {"nodes": 14, "horizon_days": 90.0, "currency": "EUR"}
    job = poll(client, asked.headers["location"], keys.planner)
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert untimed(result) == untimed(cli_json("stress", "--input", str(STRESS)))
    nodes = {n["id"]: n for n in result["nodes"]}
    assert (nodes["ohio"]["tts_days"], nodes["ohio"]["ttr_impact"], nodes["ohio"]["rank"]) == (2, 91600, 1)
    assert result["at_risk"][:2] == ["ohio", "springs-suzhou"]
    assert nodes["nuevo-leon"]["unbounded"] is True
    no_manifests = client.get(f"{asked.headers['location']}/manifests.yaml", headers=auth(keys.planner))
    assert no_manifests.status_code == 404


def test_the_expansion_job_answers_what_the_cli_prints_and_its_manifests_apply(
    client: TestClient, keys: Keys, tmp_path: Path
) -> None:
    options = {"replications": 2, "twin_periods": 2, "time_limit": 5.0, "seed": 0}
    asked = client.post("/v1/plans/expansions", json={"forecast": FORECAST, **options}, headers=auth(keys.planner))
    assert asked.status_code == 202, asked.text
    location = asked.headers["location"]
    assert asked.json()["params"]["periods"] == 12
    early = client.get(f"{location}/manifests.yaml", headers=auth(keys.admin))
    assert early.status_code == 409  # not finished yet: the job takes seconds
    job = poll(client, location, keys.planner)
    assert job["status"] == "succeeded", job
    result = job["result"]
    printed = cli_json(
        "expand", "--forecast", str(FORECAST_FILE), "--network", str(EXAMPLE),
        "--replications", "2", "--twin-periods", "2", "--time-limit", "5", "--seed", "0",
    )  # fmt: skip
    assert untimed(result, "manifests_yaml") == untimed(printed, "out")
    assert [(a["site"], a["module_type"], a["count"], a["period"]) for a in result["actions"]] == [
        ("vietnam", "anodizing", 1, "2027-07")
    ]
    assert result["twin"]["replications"] == 2
    assert result["twin"]["service_level"]["half_width"] is not None

    download = client.get(f"{location}/manifests.yaml", headers=auth(keys.planner))
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/yaml")
    assert "attachment" in download.headers["content-disposition"]
    assert download.text == result["manifests_yaml"]
    documents = list(YAML(typ="safe").load_all(io.StringIO(download.text)))
    new = next(d for d in documents if d["metadata"]["name"] == "vietnam-anodizing-2027-07")
    assert new["spec"] == {"type": "anodizing", "site": "vietnam", "replicas": 1}
    assert new["metadata"]["labels"]["microfab.dev/order-by"] == "2027-05-02"
    # With the rest of the network, the one file is a whole network: the example's modules plus the new one.
    folder = tmp_path / "network"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("modules"))
    (folder / "modules").mkdir()
    (folder / "modules" / "planned.yaml").write_text(download.text, encoding="utf-8")
    planned = load_network(folder)
    assert len(planned.modules) == len(load_network(EXAMPLE).modules) + 1
    assert planned.modules["vietnam-anodizing-2027-07-1"].site == "vietnam"
    assert len(load_resources(folder)) == len(load_resources(EXAMPLE)) + 1


@pytest.fixture
def empty() -> Iterator[tuple[Services, str]]:
    services = bootstrap(Settings(db="memory://"))
    key = access.create_key(services.state, services.log, role=Role.PLANNER, customer=None, market=None,
                            label="test", at=AT)[1]  # fmt: skip
    yield services, key
    services.close()


def test_an_expansion_needs_an_applied_network(empty: tuple[Services, str]) -> None:
    services, key = empty
    with TestClient(create_app(services=services)) as client:
        answer = client.post("/v1/plans/expansions", json={"forecast": FORECAST}, headers=auth(key))
    assert answer.status_code == 409, answer.text
    assert "no network applied" in answer.json()["detail"]


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_full_queue_is_a_429(services: Services, keys: Keys, route: str) -> None:
    path, body = ROUTES[route]
    with TestClient(create_app(services=services, api=ApiSettings(plan_queue=0))) as client:
        answer = client.post(path, json=body, headers=auth(keys.planner))
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "10"


def test_manifests_of_an_unknown_job_are_a_404(client: TestClient, keys: Keys) -> None:
    answer = client.get("/v1/plans/jobs/job-00001-deadbeef/manifests.yaml", headers=auth(keys.planner))
    assert answer.status_code == 404
    assert (
        client.get("/v1/plans/jobs/job-00001-deadbeef/manifests.yaml", headers=auth(keys.operator)).status_code == 403
    )

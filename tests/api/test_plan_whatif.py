"""What-if studies as planning jobs over HTTP: roles, 422s naming line and field, no baseline path, the CLI's result."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from microfab.api import create_app
from microfab.api.app import ApiSettings
from microfab.api.schemas import WhatIfRequest
from microfab.control import access, operations
from microfab.control.bootstrap import Services, bootstrap
from microfab.control.plan_jobs import WHATIF_MAX_SEEDS, WHATIF_MAX_TIME_LIMIT
from microfab.domain.access import Role
from microfab.manifests import load_resources
from microfab.settings import Settings
from tests.api.conftest import AT, Keys, auth
from tests.api.test_plan_stress_expand import FORECAST, NETWORK
from tests.api.test_plans_api import poll
from tests.e2e.conftest import EXAMPLE, ROOT

# Two days of orders for two markets, Bavaria (the only site serving Germany) out for both: about 2 s as a job.
TINY = """\
apiVersion: microfab.dev/v1
kind: WhatIf
metadata:
  name: tiny-outage
spec:
  start: 2027-01-04T00:00:00+00:00
  horizon: 2d
  seeds: 2
  demand:
    seed: 7
    ordersPerDay: {us: 4, de: 4}
    mix:
      - {product: laptop-stand, share: "1"}
    quantity: {min: 2, max: 6}
    dueIn: 2d
  allocation: {timeLimit: 2s}
  twin: {breakdowns: false}
  changes:
    - siteOutage: {site: bavaria, from: 0d, to: 2d}
"""
ROUTE = "/v1/plans/whatifs"


@pytest.fixture
def api_settings() -> ApiSettings:
    return ApiSettings(order_rate_per_s=50.0, order_burst=50)  # the default body limits


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


def line_of(text: str, needle: str) -> int:
    """The 1-based line of *text* holding *needle*."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_planners_and_admins_submit_others_may_not(client: TestClient, keys: Keys) -> None:
    for key in (keys.planner, keys.admin):
        answer = client.post(ROUTE, json={"scenario": TINY}, headers=auth(key))
        assert answer.status_code == 202, answer.text
        job = answer.json()
        assert answer.headers["location"] == f"/v1/plans/jobs/{job['id']}"
        assert (job["kind"], job["status"] in ("queued", "running")) == ("whatif", True)
        assert job["params"] == {"name": "tiny-outage", "scenarios": 1, "seeds": 2, "runs": 4, "horizon_h": 48.0,
                                 "orders_per_run": 16, "time_limit": 2.0}  # fmt: skip
    for key in (keys.operator, keys.alice):
        assert client.post(ROUTE, json={"scenario": TINY}, headers=auth(key)).status_code == 403
    unauthorized = client.post(ROUTE, json={"scenario": TINY})
    assert unauthorized.status_code == 401
    assert unauthorized.headers["content-type"] == "application/problem+json"


def _bomb() -> str:
    rows = "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdef", "bcdefg", strict=True)
    )
    return "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + rows


BAD_TEXTS = [
    (
        TINY.replace("site: bavaria", "site: atlantis"),
        rf"body\.scenario:{line_of(TINY, 'siteOutage')}:\d+:spec\.changes\[0\]\.siteOutage\.site",
        "no Site named 'atlantis'; expected one of bavaria, japan, monterrey, ohio, vietnam",
    ),
    (
        TINY.replace("ordersPerDay: {us: 4, de: 4}", "ordersPerDay: {us: 4, zz: 4}"),
        rf"body\.scenario:{line_of(TINY, 'ordersPerDay')}:\d+:spec\.demand\.ordersPerDay\.zz",
        "no Market named 'zz'",
    ),
    (TINY.replace("kind: WhatIf", "kind: Network"), r"body\.scenario:2:\d+:kind", "expected 'WhatIf'"),
    (TINY.replace("  horizon: 2d\n", ""), r"body\.scenario:\d+:\d+:spec\.horizon", ""),
    (TINY.replace("horizon: 2d", "horizon: soon"), rf"body\.scenario:{line_of(TINY, 'horizon')}:\d+:spec\.horizon", ""),
    (TINY.replace("to: 2d", "to: 0d"), r"body\.scenario:\d+:\d+:spec\.changes\[0\]\.siteOutage\.to", "after from"),
    (TINY + "  oops: [\n", r"body\.scenario:\d+:\d+:", ""),  # YAML syntax
    ("[" * 40 + "]" * 40, r"body\.scenario:1:\d+:", "nested deeper than 32 levels"),
    (_bomb(), r"body\.scenario:\d+:\d+:", "holds more than 50000 values once aliases are expanded"),
    # what a job will not run
    (TINY.replace("seeds: 2", "seeds: 50"), r"body\.scenario:8:3:spec\.seeds", "at most 20 seeds"),
    (
        TINY.replace("timeLimit: 2s", "timeLimit: 2m"),
        rf"body\.scenario:{line_of(TINY, 'timeLimit')}:\d+:spec\.allocation\.timeLimit",
        "expected at most 30s in a planning job, got 2m",
    ),
    (
        TINY.replace("{us: 4, de: 4}", "{us: 4000, de: 4000}"),
        r"body\.scenario:\d+:\d+:spec\.demand\.ordersPerDay",
        "about 64,000 orders over the study's 4 runs: at most 30,000",
    ),
    (TINY.replace("horizon: 2d", "horizon: 2d\n  bucket: 5m"), r"body\.scenario:\d+:\d+:spec\.bucket", "at most 400"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "field", "message"), BAD_TEXTS)
def test_a_bad_study_is_a_422_naming_the_line_and_field(
    planner: tuple[TestClient, str], text: str, field: str, message: str
) -> None:
    client, key = planner
    answer = client.post(ROUTE, json={"scenario": text}, headers=auth(key))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    errors = answer.json()["errors"]
    assert any(re.fullmatch(field, e["field"]) and message in e["message"] for e in errors), errors
    assert client.get("/v1/plans/jobs", headers=auth(key)).json()["items"] == []  # nothing was queued


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scenario": ""}, "body.scenario"),
        ({"scenario": 5}, "body.scenario"),
        ({}, "body.scenario"),
        ({"scenario": TINY, "seeds": 0}, "body.seeds"),
        ({"scenario": TINY, "seeds": 21}, "body.seeds"),
        ({"scenario": TINY, "seeds": "2"}, "body.seeds"),
        ({"scenario": TINY, "time_limit": 31}, "body.time_limit"),
        ({"scenario": TINY, "workers": 2}, "body.workers"),
        ({"scenario": TINY, "manifests": "/etc"}, "body.manifests"),
    ],
)
def test_a_bad_body_is_a_422_naming_the_field(
    planner: tuple[TestClient, str], body: dict[str, Any], field: str
) -> None:
    client, key = planner
    answer = client.post(ROUTE, json=body, headers=auth(key))
    assert answer.status_code == 422, answer.text
    assert field in [e["field"] for e in answer.json()["errors"]]


def test_the_request_caps_are_the_jobs() -> None:
    fields = WhatIfRequest.model_fields
    assert any(getattr(m, "le", None) == WHATIF_MAX_SEEDS for m in fields["seeds"].metadata)
    assert any(getattr(m, "le", None) == WHATIF_MAX_TIME_LIMIT for m in fields["time_limit"].metadata)


def test_the_options_cap_a_study_to_the_jobs_time(planner: tuple[TestClient, str]) -> None:
    client, key = planner
    body = {"scenario": TINY.replace("timeLimit: 2s", "timeLimit: 20s"), "seeds": 20}
    answer = client.post(ROUTE, json=body, headers=auth(key))  # 40 runs x 20 s of MILP > 300 s
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert re.fullmatch(r"body\.scenario:\d+:\d+:spec\.allocation\.timeLimit", error["field"])
    assert "40 runs x 20 s of MILP may take 800 s, over the 300 s a planning job may spend on them" in error["message"]


@pytest.mark.parametrize(
    "baseline",
    [
        "{manifests: ../network}",  # the CLI example's
        f"{{manifests: {EXAMPLE}}}",  # a real folder on the server
        "{manifests: /nonexistent}",
    ],
)
def test_a_baseline_path_is_refused_the_applied_network_is_the_baseline(
    planner: tuple[TestClient, str], baseline: str
) -> None:
    client, key = planner
    text = TINY.replace("spec:\n", f"spec:\n  baseline: {baseline}\n")
    answer = client.post(ROUTE, json={"scenario": text}, headers=auth(key))
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert error["field"] == "body.scenario:6:3:spec.baseline"
    assert error["message"] == "not allowed over HTTP: the baseline is the applied network (remove spec.baseline)"


def test_the_cli_example_is_refused_only_for_its_baseline(planner: tuple[TestClient, str]) -> None:
    client, key = planner
    text = (ROOT / "examples" / "whatif" / "bavaria-outage.yaml").read_text(encoding="utf-8")
    answer = client.post(ROUTE, json={"scenario": text}, headers=auth(key))
    assert answer.status_code == 422
    assert [e["field"].rsplit(":", 1)[1] for e in answer.json()["errors"]] == ["spec.baseline"]


@pytest.fixture
def empty() -> Iterator[tuple[Services, str]]:
    services = bootstrap(Settings(db="memory://"))
    key = access.create_key(services.state, services.log, role=Role.PLANNER, customer=None, market=None,
                            label="test", at=AT)[1]  # fmt: skip
    yield services, key
    services.close()


def test_a_study_needs_an_applied_network(empty: tuple[Services, str]) -> None:
    services, key = empty
    with TestClient(create_app(services=services)) as client:
        answer = client.post(ROUTE, json={"scenario": TINY}, headers=auth(key))
    assert answer.status_code == 409, answer.text
    assert "no network applied" in answer.json()["detail"]


def test_a_full_queue_is_a_429(services: Services, keys: Keys) -> None:
    with TestClient(create_app(services=services, api=ApiSettings(plan_queue=0))) as client:
        answer = client.post(ROUTE, json={"scenario": TINY}, headers=auth(keys.planner))
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "10"


def cli_whatif(path: Path) -> dict[str, Any]:
    """``microfab whatif PATH --manifests examples/network --workers 1 --json`` in a process of its own."""
    code = "from microfab.cli.main import app; app()"
    command = [sys.executable, "-c", code, "whatif", str(path), "--manifests", str(EXAMPLE), "--workers", "1", "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def untimed(document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "runs": [{k: v for k, v in r.items() if k != "wall_s"} for r in document["runs"]]}


def test_a_tiny_study_is_done_with_the_deltas_the_cli_prints(client: TestClient, keys: Keys, tmp_path: Path) -> None:
    asked = client.post(ROUTE, json={"scenario": TINY, "time_limit": 5}, headers=auth(keys.planner))
    assert asked.status_code == 202, asked.text
    assert asked.json()["params"]["time_limit"] == 5.0
    job = poll(client, asked.headers["location"], keys.planner)
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert (result["name"], result["seeds"], result["currency"]) == ("tiny-outage", [1, 2], "USD")
    [scenario] = result["scenarios"]
    assert scenario["changes"] == ["site bavaria down 2027-01-04T00:00:00+00:00 → 2027-01-06T00:00:00+00:00"]
    on_time = scenario["metrics"]["on_time"]
    assert set(on_time) == {"label", "unit", "baseline", "variant", "delta"}
    delta = on_time["delta"]
    assert delta["n"] == 2
    assert delta["mean"] == pytest.approx(on_time["variant"]["mean"] - on_time["baseline"]["mean"])
    assert delta["high"] < 0  # Germany waits for Bavaria: significantly fewer orders on time
    assert [(r["variant"], r["seed"]) for r in result["runs"]] == [
        ("baseline", 1), ("baseline", 2), ("tiny-outage", 1), ("tiny-outage", 2)
    ]  # fmt: skip
    scenario_file = tmp_path / "tiny.yaml"
    scenario_file.write_text(TINY.replace("timeLimit: 2s", "timeLimit: 5s"), encoding="utf-8")
    assert untimed(result) == untimed(cli_whatif(scenario_file))  # the study as `microfab whatif --db` runs it


def test_texts_up_to_a_mebibyte_pass_the_body_limit(planner: tuple[TestClient, str]) -> None:
    """The text-carrying plan routes take the manifests' 1 MiB, not the 64 KiB of the others."""
    client, key = planner
    padding = "#" + "x" * 99 + "\n"  # 680 of them: 68,000 characters, over 64 KiB and under the texts' 80,000
    big = {
        "/v1/plans/whatifs": {"scenario": TINY.replace("site: bavaria", "site: atlantis") + padding * 680},
        "/v1/plans/expansions": {"forecast": FORECAST.replace("market: mx", "market: zz") + padding * 650},
        "/v1/plans/stress": json.dumps({**NETWORK, "horizon_days": 0}) + " " * 900_000,
    }
    for path, body in big.items():
        content = body if isinstance(body, str) else json.dumps(body)
        assert 64 * 1024 < len(content) < 1024 * 1024
        answer = client.post(path, content=content, headers={**auth(key), "Content-Type": "application/json"})
        assert answer.status_code == 422, (path, answer.text[:300])  # read, and refused for its one error
        too_big = client.post(path, content=content + " " * 1024 * 1024, headers=auth(key))
        assert too_big.status_code == 413, path
    allocation = client.post("/v1/plans/allocations", content=" " * 70_000, headers=auth(key))
    assert allocation.status_code == 413  # the other routes keep 64 KiB


@pytest.mark.parametrize("route", ["/v1/plans/whatifs", "/v1/plans/expansions"])
def test_a_text_over_its_limit_is_a_422_however_it_is_escaped(planner: tuple[TestClient, str], route: str) -> None:
    client, key = planner
    field = "scenario" if route.endswith("whatifs") else "forecast"
    body = json.dumps({field: "\U0001f3ed" * 80_001})  # 12 bytes a character in JSON: 960 KB
    answer = client.post(route, content=body, headers={**auth(key), "Content-Type": "application/json"})
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == [f"body.{field}"]

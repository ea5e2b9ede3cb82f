"""Planning jobs over HTTP: 202 + Location, poll to the result; roles; a full queue is a 429."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from microfab.api import create_app
from microfab.api.app import ApiSettings
from microfab.control import operations
from microfab.control.bootstrap import Services
from microfab.domain.commands import PlaceOrder
from tests.api.conftest import Keys, auth


def poll(client: TestClient, location: str, key: str, timeout: float = 90.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(location, headers=auth(key)).json()
        if job["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def test_a_planner_allocates_the_backlog_in_a_job(client: TestClient, keys: Keys, services: Services) -> None:
    for n, market in enumerate(("de", "us", "jp", "mx", "vn", "de")):
        operations.place(services, PlaceOrder(f"c{n}", "laptop-stand", {}, 1 + n % 3, market))
    asked = client.post(
        "/v1/plans/allocations", json={"buckets": "day", "horizon": 10, "time_limit": 5}, headers=auth(keys.planner)
    )
    assert asked.status_code == 202, asked.text
    location = asked.headers["location"]
    assert location == f"/v1/plans/jobs/{asked.json()['id']}"
    assert asked.json()["params"]["orders"] == 6
    job = poll(client, location, keys.planner)
    assert job["status"] == "succeeded", job
    plan = job["result"]
    assert plan["orders_total"] == 6
    assert plan["served"] + plan["rejected"] == 6
    assert {o["order"] for o in plan["orders"]} == set(services.state.orders)
    assert len(plan["buckets"]) == 10
    for order in plan["orders"]:
        for share in order.get("shares", ()):
            assert share["site"] in services.state.network.sites
    listed = client.get("/v1/plans/jobs", headers=auth(keys.admin)).json()["items"]
    assert [j["id"] for j in listed] == [job["id"]]
    assert listed[0]["result"] is None  # lists leave results out


def test_planning_is_for_planners_and_admins(client: TestClient, keys: Keys) -> None:
    for key in (keys.operator, keys.alice):
        assert client.post("/v1/plans/allocations", json={}, headers=auth(key)).status_code == 403
        assert client.get("/v1/plans/jobs", headers=auth(key)).status_code == 403
    assert client.get("/v1/plans/jobs/job-00001-deadbeef", headers=auth(keys.planner)).status_code == 404


def test_bad_planning_requests_are_422_naming_the_field(client: TestClient, keys: Keys) -> None:
    for body, field in (
        ({"buckets": "week"}, "body.buckets"),
        ({"horizon": 0}, "body.horizon"),
        ({"time_limit": 1000}, "body.time_limit"),
        ({"gap": -1}, "body.gap"),
        ({"solver": "cplex"}, "body.solver"),
    ):
        answer = client.post("/v1/plans/allocations", json=body, headers=auth(keys.planner))
        assert answer.status_code == 422, body
        assert answer.json()["errors"][0]["field"] == field


def test_a_full_queue_is_a_429(services: Services, keys: Keys) -> None:
    settings = ApiSettings(plan_queue=0)
    with TestClient(create_app(services=services, api=settings)) as client:
        answer = client.post("/v1/plans/allocations", json={}, headers=auth(keys.planner))
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "10"


def test_planning_numbers_are_not_coerced_from_other_types(client: TestClient, keys: Keys) -> None:
    for body in ({"gap": "0.1"}, {"gap": True}, {"horizon": "5"}, {"time_limit": "2"}):
        answer = client.post("/v1/plans/allocations", json=body, headers=auth(keys.planner))
        assert answer.status_code == 422, body


def test_a_full_queue_is_a_429_from_the_planner_page_too(services: Services, keys: Keys) -> None:
    settings = ApiSettings(plan_queue=0)
    with TestClient(create_app(services=services, api=settings)) as client:
        client.cookies.set("mf_key", keys.planner)
        answer = client.post("/planner/allocations", data={"buckets": "day", "time_limit": "5"}, follow_redirects=False)
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "10"

"""The planner's pages: run an allocation as a job, follow it to the result's tables and chart."""

from __future__ import annotations

import re
import time

from fastapi.testclient import TestClient

from microfab.control import operations
from microfab.control.bootstrap import Services
from microfab.domain.commands import PlaceOrder
from tests.api.conftest import Keys


def signed_in(client: TestClient, key: str) -> TestClient:
    client.cookies.set("mf_key", key)
    return client


def test_a_planner_runs_an_allocation_and_reads_the_result(client: TestClient, keys: Keys, services: Services) -> None:
    for n, market in enumerate(("de", "us", "jp", "mx")):
        operations.place(services, PlaceOrder(f"c{n}", "laptop-stand", {}, 2, market))
    page = signed_in(client, keys.planner).get("/planner")
    assert page.status_code == 200
    assert 'id="allocate-form"' in page.text
    assert 'href="/planner"' in page.text  # the nav link
    queued = client.post("/planner/allocations", data={"buckets": "day", "time_limit": "5"}, follow_redirects=False)
    assert queued.status_code == 303
    location = queued.headers["location"]
    assert re.fullmatch(r"/planner/jobs/job-\d{5}-[0-9a-f]{8}", location)
    deadline = time.monotonic() + 90
    while True:
        job = client.get(location)
        if 'http-equiv="refresh"' not in job.text or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert 'id="job-status" class="status succeeded"' in job.text, job.text[:2000]
    assert 'id="cost-chart"' in job.text
    assert "4 / 4" in job.text
    grid = re.search(r'<table id="load-grid".*?</table>', job.text, re.S)
    assert grid is not None
    assert sum(int(n) for n in re.findall(r'<td class="num"[^>]*>(\d+)</td>', grid.group(0))) == 4
    listing = client.get("/planner").text
    assert location.rsplit("/", 1)[1] in listing


def test_only_planners_and_admins_plan(client: TestClient, keys: Keys) -> None:
    for key in (keys.operator, keys.alice):
        assert signed_in(client, key).get("/planner").status_code == 403
        assert client.post("/planner/allocations", data={}, follow_redirects=False).status_code == 403
    assert signed_in(client, keys.operator).get("/console").text.count('href="/planner"') == 0
    assert signed_in(client, keys.admin).get("/planner/jobs/nope").status_code == 404
    assert client.post("/planner/allocations", data={"buckets": "week"}).status_code == 422
    assert client.post("/planner/allocations", data={"time_limit": "0"}).status_code == 422

"""The planner in a real browser: the stress example from the planner page to the at-risk table, and an expansion."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn

from microfab.api import create_app
from microfab.control import access, operations
from microfab.control.bootstrap import bootstrap
from microfab.domain.access import Role
from microfab.manifests import load_resources
from microfab.settings import Settings
from tests.api.conftest import AT
from tests.browser.conftest import _free_port, shot
from tests.e2e.conftest import EXAMPLE

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
JOB_PAGE = re.compile(r".*/planner/jobs/job-\d{5}-[0-9a-f]{8}$")


@dataclass
class Planning:
    url: str
    key: str


@pytest.fixture(scope="module")
def planning() -> Iterator[Planning]:
    """A server on the applied example network (nothing simulated: plans need no history) and a planner's key."""
    services = bootstrap(Settings(db="memory://", seed=2))
    operations.apply_plan(services, operations.plan_apply(services, load_resources(EXAMPLE)))
    key = access.create_key(services.state, services.log, role=Role.PLANNER, customer=None, market=None,
                            label="browser", at=AT)[1]  # fmt: skip
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(services=services), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield Planning(f"http://127.0.0.1:{port}", key)
    server.should_exit = True
    thread.join(timeout=10)
    services.close()


def open_planner(page: object, planning: Planning) -> None:
    page.goto(planning.url + "/planner")  # type: ignore[attr-defined]
    if "/login" in page.url:  # type: ignore[attr-defined]
        page.fill("#key", planning.key)  # type: ignore[attr-defined]
        page.click("button[type=submit]")  # type: ignore[attr-defined]
        page.wait_for_url(planning.url + "/planner")  # type: ignore[attr-defined]


def test_a_planner_stress_tests_the_example_and_sees_the_nodes_at_risk(page: object, planning: Planning) -> None:
    open_planner(page, planning)
    assert "springs-suzhou" in page.input_value("#network")  # type: ignore[attr-defined]  # the example, filled in
    shot(page, "planner-forms")
    page.click("#stress-form button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(JOB_PAGE)  # type: ignore[attr-defined]
    page.wait_for_selector("#stress-nodes", timeout=90_000)  # type: ignore[attr-defined]  # it reloads until done
    at_risk = page.locator("#stress-nodes tr.at-risk")  # type: ignore[attr-defined]
    assert at_risk.count() == 7
    assert at_risk.first.get_attribute("data-node") == "ohio"  # the highest REI first
    assert "AT RISK" in at_risk.first.inner_text()
    assert page.locator("#rei-chart rect[fill='#d9534f']").count() == 7  # type: ignore[attr-defined]
    assert page.locator("#mitigations").is_visible()  # type: ignore[attr-defined]
    assert "second source of gas-spring" in page.locator("#mitigations").inner_text()  # type: ignore[attr-defined]
    shot(page, "planner-stress")


def test_a_planner_plans_the_expansion_and_sees_the_deployments(page: object, planning: Planning) -> None:
    open_planner(page, planning)
    assert "deliveryWindow" in page.input_value("#forecast")  # type: ignore[attr-defined]
    page.fill("#replications", "2")  # type: ignore[attr-defined]
    page.click("#expansion-form button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(JOB_PAGE)  # type: ignore[attr-defined]
    page.wait_for_selector("#deployments", timeout=90_000)  # type: ignore[attr-defined]
    row = page.locator("#deployments tr.deploy").first  # type: ignore[attr-defined]
    assert "vietnam" in row.inner_text()
    assert "anodizing" in row.inner_text()
    assert page.locator("#deploy-chart").is_visible()  # type: ignore[attr-defined]
    assert page.locator("#twin").is_visible()  # type: ignore[attr-defined]
    link = page.locator("#manifests-link").get_attribute("href")  # type: ignore[attr-defined]
    assert link is not None
    assert link.endswith("/manifests.yaml")
    shot(page, "planner-expansion")

"""A real server (uvicorn on a free port) and a real browser (Debian's chromium via Playwright)."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from microfab.api import create_app
from microfab.control import access, operations
from microfab.control.bootstrap import Services, bootstrap
from microfab.domain.access import Role
from microfab.domain.commands import PlaceOrder
from microfab.domain.quantities import Duration
from microfab.manifests import load_resources
from microfab.settings import Settings
from tests.api.conftest import AT
from tests.e2e.conftest import EXAMPLE, ROOT

CHROMIUM = os.environ.get("MICROFAB_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"


@dataclass
class Site:
    url: str
    db: str
    services: Services
    operator: str
    customer: str
    other_customer: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    db = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'log.db'}"
    services = bootstrap(Settings(db=db, schedule_time_limit=0.1, seed=2))
    operations.apply_plan(services, operations.plan_apply(services, load_resources(EXAMPLE)))

    def key(role: Role, customer: str | None = None) -> str:
        return access.create_key(services.state, services.log, role=role, customer=customer, market=None,
                                 label="browser", at=AT)[1]  # fmt: skip

    operator, customer, other = key(Role.OPERATOR), key(Role.CUSTOMER, "anna"), key(Role.CUSTOMER, "ben")
    operations.place(services, PlaceOrder("anna", "laptop-stand", {}, 2, "de"))
    operations.place(services, PlaceOrder("ben", "laptop-stand", {}, 1, "us"))
    # Playwright's sync API keeps an event loop on this thread: simulate on another one.
    runner = threading.Thread(
        target=lambda: asyncio.run(operations.run(services, Duration.parse("3d"), breakdowns=False))
    )
    runner.start()
    runner.join()
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
    yield Site(f"http://127.0.0.1:{port}", db, services, operator, customer, other)
    server.should_exit = True
    thread.join(timeout=10)
    services.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} not found: `apt-get install chromium` (make test does it when it can)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only with the browser present

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def shot(page: object, name: str) -> None:
    """Keep a screenshot of the page as a test artefact."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]

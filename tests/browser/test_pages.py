"""Pages in a real browser: sign-in, the live console, a site's Gantt, order tracking and passports."""

from __future__ import annotations

from datetime import timedelta

import pytest

from microfab.control.bootstrap import bootstrap
from microfab.control.escalation import Escalation
from microfab.domain.alerts import AlertCleared, AlertRaised
from microfab.domain.events import ModuleFaulted, ModuleRepaired
from microfab.settings import Settings
from microfab.store import open_event_log
from tests.browser.conftest import Site, shot

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
MODULE = "ohio-press-brake"


def sign_in(page: object, site: Site, key: str, path: str) -> None:
    page.goto(site.url + path)  # type: ignore[attr-defined]
    assert "/login" in page.url  # type: ignore[attr-defined]
    page.fill("#key", key)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(site.url + path)  # type: ignore[attr-defined]


def test_a_wrong_key_is_refused(page: object, site: Site) -> None:
    page.goto(site.url + "/login")  # type: ignore[attr-defined]
    page.fill("#key", "mfk_000000000000_nope")  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    assert page.locator(".error").is_visible()  # type: ignore[attr-defined]


def test_operator_sees_a_fault_appear_and_clear_live(page: object, site: Site) -> None:
    sign_in(page, site, site.operator, "/console")
    assert page.locator("section.site").count() == 5  # type: ignore[attr-defined]
    assert page.locator("ul.modules li.chip").count() == len(site.services.state.network.modules)  # type: ignore[attr-defined]
    assert page.locator("#all-clear").is_visible()  # type: ignore[attr-defined]
    shot(page, "console")

    # Another process (a site controller) records a fault: the page must show it without a reload.
    writer = open_event_log(site.db)
    stream = f"module-{MODULE}"
    at = site.services.now() + timedelta(minutes=1)
    writer.append(
        stream, [ModuleFaulted(at, MODULE, "spindle overload")], expected_version=writer.stream_version(stream)
    )
    page.wait_for_selector(f"#module-{MODULE}.down")  # type: ignore[attr-defined]
    page.wait_for_selector(f'#down-list li[data-module="{MODULE}"]')  # type: ignore[attr-defined]
    assert not page.locator("#all-clear").is_visible()  # type: ignore[attr-defined]
    shot(page, "console-fault")

    writer.append(
        stream, [ModuleRepaired(at + timedelta(minutes=30), MODULE)], expected_version=writer.stream_version(stream)
    )
    writer.close()
    page.wait_for_selector(f"#module-{MODULE}.idle")  # type: ignore[attr-defined]
    page.wait_for_selector("#all-clear", state="visible")  # type: ignore[attr-defined]
    assert page.locator("#down-list li").count() == 0  # type: ignore[attr-defined]


def test_operator_takes_an_alert_on_and_sees_it_clear(page: object, site: Site) -> None:
    """A repair that runs long raises an alert (no policy covers it); the operator takes it on; the repair clears it."""
    sign_in(page, site, site.operator, "/console")
    # The site controller is another process: its own log connection and its own escalation watcher.
    watcher = bootstrap(Settings(db=site.db))
    watcher.state.catch_up(watcher.log)
    escalation = Escalation(watcher.state, watcher.log)
    module = "ohio-laser-cutter-1"
    stream = f"module-{module}"
    down = watcher.now() + timedelta(minutes=5)
    watcher.log.append(
        stream, [ModuleFaulted(down, module, "laser source")], expected_version=watcher.log.stream_version(stream)
    )
    mttr = watcher.state.network.module_types[watcher.state.network.modules[module].module_type].mttr.to_timedelta()
    raised = [e for e in escalation.poll(down + 5 * mttr) if isinstance(e, AlertRaised) and e.subject == module]
    assert [e.kind for e in raised] == ["module-long-repair"]
    item = f'#alert-list li[data-alert="{raised[0].alert_id}"]'
    page.wait_for_selector(item)  # type: ignore[attr-defined]
    assert module in page.inner_text(item)  # type: ignore[attr-defined]
    assert not page.locator("#all-clear").is_visible()  # type: ignore[attr-defined]
    shot(page, "console-alert")

    page.click(f"{item} button")  # type: ignore[attr-defined]
    page.wait_for_url(site.url + "/console")  # type: ignore[attr-defined]
    page.wait_for_selector(f"{item} .taken")  # type: ignore[attr-defined]
    assert "browser" in page.inner_text(f"{item} .taken")  # type: ignore[attr-defined]
    assert page.locator(f"{item} button").count() == 0  # type: ignore[attr-defined]
    shot(page, "console-alert-taken")

    repaired = down + 6 * mttr
    watcher.log.append(stream, [ModuleRepaired(repaired, module)], expected_version=watcher.log.stream_version(stream))
    cleared = [e for e in escalation.poll(repaired) if isinstance(e, AlertCleared)]
    assert [e.alert_id for e in cleared] == [raised[0].alert_id]
    watcher.close()
    page.wait_for_selector(item, state="detached")  # type: ignore[attr-defined]
    page.wait_for_selector(f"#module-{module}.idle")  # type: ignore[attr-defined]


def test_site_page_shows_gantt_and_oee(page: object, site: Site) -> None:
    sign_in(page, site, site.operator, "/console/sites/bavaria")
    assert page.locator("svg.gantt rect").count() > 0  # type: ignore[attr-defined]
    assert page.locator('svg.gantt rect[fill="#37474f"]').count() > 0  # type: ignore[attr-defined]  # planned
    assert "OEE" in page.inner_text("main")  # type: ignore[attr-defined]
    bars = page.locator("#oee-chart rect[fill='#2e7d32']").count()  # type: ignore[attr-defined]
    assert bars == len(site.services.state.network.modules_at("bavaria"))
    shot(page, "site-bavaria")


def test_customer_follows_its_order_to_delivery_with_a_passport(page: object, site: Site) -> None:
    sign_in(page, site, site.customer, "/orders")
    rows = page.locator("table tr")  # type: ignore[attr-defined]
    assert rows.count() == 2, "only anna's own order (plus the header)"
    assert "anna" in rows.nth(1).inner_text()
    page.click("table a")  # type: ignore[attr-defined]
    page.wait_for_selector("table.passport")  # type: ignore[attr-defined]
    assert "Delivered" in page.inner_text("h1")  # type: ignore[attr-defined] - the status in the customer's words
    assert page.locator("h1 .status.delivered").count() == 1  # type: ignore[attr-defined]
    assert page.locator("table.passport").count() == 2  # type: ignore[attr-defined]
    assert "OrderDelivered" in page.inner_text("ol.timeline")  # type: ignore[attr-defined]
    shot(page, "order-passport")
    page.goto(site.url + "/console")  # type: ignore[attr-defined]
    assert "Forbidden" in page.inner_text("body")  # type: ignore[attr-defined]

"""The planner's what-if study in a real browser: the form filled with a tiny study, then the deltas and their chart."""

from __future__ import annotations

import pytest

from tests.api.test_plan_whatif import TINY
from tests.browser.conftest import shot
from tests.browser.test_planner_stress import JOB_PAGE, Planning, open_planner, planning

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
__all__ = ["planning"]  # the module's server fixture, shared with the stress and expansion tests


def test_a_planner_runs_a_what_if_study_and_reads_the_deltas(page: object, planning: Planning) -> None:
    open_planner(page, planning)
    example = page.input_value("#scenario")  # type: ignore[attr-defined]
    assert "siteOutage: {site: bavaria, from: 2d, to: 9d}" in example  # the packaged example, filled in
    page.locator("#whatif-form").scroll_into_view_if_needed()  # type: ignore[attr-defined]
    shot(page, "planner-whatif-form")
    page.fill("#scenario", TINY)  # type: ignore[attr-defined]  # a tiny study: two days, two seeds
    page.click("#whatif-form button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(JOB_PAGE)  # type: ignore[attr-defined]
    page.wait_for_selector("#whatif-deltas", timeout=90_000)  # type: ignore[attr-defined]  # it reloads until done
    assert page.inner_text("#job-status") == "succeeded"  # type: ignore[attr-defined]
    on_time = page.locator("#whatif-deltas tr[data-key='on_time']")  # type: ignore[attr-defined]
    assert "on-time delivery (orders delivered)" in on_time.inner_text()
    assert on_time.get_attribute("class") == "significant"
    assert "*" in on_time.locator("td").last.inner_text()  # the interval excludes zero
    assert page.locator("#whatif-deltas tr.significant").count() >= 1  # type: ignore[attr-defined]
    chart = page.locator("#whatif-chart")  # type: ignore[attr-defined]
    assert chart.is_visible()
    assert chart.locator("line.whisker").count() == 9  # a 95 % interval per headline figure
    assert page.locator("#whatif-variants").is_visible()  # type: ignore[attr-defined]
    assert "tiny-outage" in page.inner_text("#whatif-scenarios")  # type: ignore[attr-defined]
    shot(page, "planner-whatif")

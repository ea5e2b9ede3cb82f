"""The portal's quote page in a real browser: German and Japanese prices, re-quoting when an option changes."""

from __future__ import annotations

import asyncio
import re
import threading

import pytest

from microfab.control import operations
from microfab.domain.quantities import Duration
from tests.browser.conftest import Site, shot

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
EURO = re.compile(r"^\d{1,3}(\.\d{3})*,\d{2}\s€$")  # German: dot thousands, comma decimals, sign after
YEN = re.compile(r"^￥\d{1,3}(,\d{3})*$")  # Japanese: full-width yen sign, no decimals


def sign_in(page: object, site: Site, key: str, path: str) -> None:
    page.goto(site.url + path)  # type: ignore[attr-defined]
    assert "/login" in page.url  # type: ignore[attr-defined]
    page.fill("#key", key)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(re.escape(site.url) + r"/quote"))  # type: ignore[attr-defined]


def price(page: object) -> str:
    return str(page.inner_text("#price")).strip()  # type: ignore[attr-defined]


def test_german_quote_requotes_when_the_finish_changes(page: object, site: Site) -> None:
    sign_in(page, site, site.customer, "/quote")
    page.goto(site.url + "/quote?product=laptop-stand&market=de&lang=de")  # type: ignore[attr-defined]
    assert page.get_attribute("html", "lang") == "de"  # type: ignore[attr-defined]
    first = price(page)
    assert EURO.match(first), first
    assert page.inner_text("#price-label") == "Preis inkl. USt"  # type: ignore[attr-defined]
    assert "19" in page.inner_text("#tax-note")  # type: ignore[attr-defined]
    assert page.inner_text("#made-in") == "Made in Germany"  # type: ignore[attr-defined]
    assert page.locator("#sites tr.chosen").inner_text().startswith("bavaria")  # type: ignore[attr-defined]
    shot(page, "quote-de")

    # Choosing another finish re-quotes at once (the form is submitted on change).
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.select_option("#opt-finish", "anodized-black")  # type: ignore[attr-defined]
    assert "finish=anodized-black" in page.url  # type: ignore[attr-defined]
    black = price(page)
    assert EURO.match(black), black
    assert black != first
    assert page.input_value("#opt-finish") == "anodized-black"  # type: ignore[attr-defined]
    # Anodized black is aluminium only: the other materials are greyed, still there to choose.
    greyed = page.locator("#opt-material option[data-incompatible]").all_inner_texts()  # type: ignore[attr-defined]
    assert [t.split(" — ")[0] for t in greyed] == ["walnut", "recycled-pet"]
    assert "nicht mit Ihrer übrigen Auswahl" in greyed[0]

    # Walnut does not come anodized: the rule's message instead of a price, and a way out.
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.select_option("#opt-material", "walnut")  # type: ignore[attr-defined]
    assert page.locator("#price").count() == 0  # type: ignore[attr-defined]
    assert "the anodized-black finish is not offered in walnut" in page.inner_text("#problems")  # type: ignore[attr-defined]
    shot(page, "quote-de-rule")
    page.click("#nearest")  # type: ignore[attr-defined]
    page.wait_for_selector("#price")  # type: ignore[attr-defined]
    assert EURO.match(price(page))


def test_japanese_quote_in_yen_and_without_javascript(browser: object, site: Site) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, site, site.customer, "/quote")
        page.goto(site.url + "/quote?product=laptop-stand&market=jp&lang=ja")
        assert page.get_attribute("html", "lang") == "ja"
        first = price(page)
        assert YEN.match(first), first
        assert page.inner_text("#made-in") == "日本製"
        shot(page, "quote-ja")
        # Without JavaScript the button submits the same GET form.
        page.select_option("#opt-finish", "anodized-silver")
        with page.expect_navigation():
            page.click("#quote-form button[type=submit]")
        silver = price(page)
        assert YEN.match(silver), silver
        assert silver != first
    finally:
        context.close()


def test_a_german_customer_orders_from_the_quote_and_follows_it_to_delivery(page: object, site: Site) -> None:
    sign_in(page, site, site.customer, "/quote")
    page.goto(site.url + "/quote?product=laptop-stand&market=de&lang=de&finish=anodized-silver")  # type: ignore[attr-defined]
    assert page.inner_text("#price-label") == "Preis inkl. USt"  # type: ignore[attr-defined]
    assert EURO.match(price(page))
    shot(page, "quote-de-order")
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.click("#order")  # type: ignore[attr-defined]
    assert re.search(r"/orders/ord-[0-9a-f]{12}$", page.url)  # type: ignore[attr-defined]
    order_id = page.url.rsplit("/", 1)[1]  # type: ignore[attr-defined]
    order = site.services.state.orders[order_id]
    assert order.customer == "anna"
    assert order.config["finish"] == "anodized-silver"
    assert "Zugestellt" not in page.inner_text("h1")  # type: ignore[attr-defined]
    assert EURO.match(page.inner_text("#order-total"))  # type: ignore[attr-defined]

    # The twin makes it (in this process, on another thread: Playwright's sync API owns this one).
    runner = threading.Thread(
        target=lambda: asyncio.run(operations.run(site.services, Duration.parse("5d"), breakdowns=False))
    )
    runner.start()
    runner.join()
    page.reload()  # type: ignore[attr-defined]
    assert "Zugestellt" in page.inner_text("h1")  # type: ignore[attr-defined]
    assert page.locator("table.passport").count() == 1  # type: ignore[attr-defined]
    assert "OrderDelivered" in page.inner_text("ol.timeline")  # type: ignore[attr-defined]
    shot(page, "order-de-delivered")

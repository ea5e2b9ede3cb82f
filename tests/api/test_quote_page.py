"""The portal's quote page, server-rendered: the form, the localized quote, rule messages instead of a price."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Keys


def signed_in(client: TestClient, key: str) -> TestClient:
    client.cookies.set("mf_key", key)
    return client


def text_of(page: str, element_id: str) -> str | None:
    found = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', page)
    return html.unescape(found.group(1)).strip() if found else None


def test_the_page_needs_a_signed_in_user_and_comes_back_to_the_same_configuration(
    client: TestClient, keys: Keys
) -> None:
    response = client.get("/quote?product=monitor-riser&finish=anodized-black", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/quote%3Fproduct%3Dmonitor-riser%26finish%3Danodized-black"
    back = "/quote?product=monitor-riser&finish=anodized-black"
    failed = client.post("/login", data={"key": "mfk_000000000000_nope", "next": back}, follow_redirects=False)
    assert failed.headers["location"] == response.headers["location"] + "&failed=1"
    signed = client.post("/login", data={"key": keys.operator, "next": back}, follow_redirects=False)
    assert signed.headers["location"] == back


def test_a_customer_sees_its_own_market_in_its_language(client: TestClient, keys: Keys) -> None:
    page = signed_in(client, keys.alice).get("/quote?product=laptop-stand&lang=de")
    assert page.status_code == 200
    assert '<html lang="de">' in page.text
    assert 'name="market"' in page.text
    assert '<select id="market"' not in page.text, "a key bound to a market has no market to choose"
    price = text_of(page.text, "price")
    assert price is not None
    assert re.fullmatch(r"\d{1,3}(\.\d{3})*,\d{2}\s€", price), price
    assert text_of(page.text, "price-label") == "Preis inkl. USt"
    assert "19" in (text_of(page.text, "tax-note") or "")
    assert text_of(page.text, "made-in") == "Made in Germany"
    assert (text_of(page.text, "delivery") or "").startswith("Lieferung bis")
    assert page.text.count("<tr data-site=") == 5
    assert '<tr data-site="bavaria" class="chosen">' in page.text
    forbidden = client.get("/quote?market=jp")
    assert forbidden.status_code == 403
    assert "'de' only" in forbidden.json()["detail"]


def test_staff_choose_the_market_and_yen_have_no_decimals(client: TestClient, keys: Keys) -> None:
    page = signed_in(client, keys.operator).get("/quote?market=jp&lang=ja")
    assert '<select id="market"' in page.text
    price = text_of(page.text, "price")
    assert price is not None
    assert re.fullmatch(r"￥\d{1,3}(,\d{3})*", price), price
    assert text_of(page.text, "made-in") == "日本製"


@pytest.mark.parametrize("language", ["en", "es", "de", "ja", "vi"])
def test_the_page_in_every_language(client: TestClient, keys: Keys, language: str) -> None:
    page = signed_in(client, keys.operator).get(f"/quote?market=mx&lang={language}")
    assert page.status_code == 200
    assert f'<html lang="{language}">' in page.text
    assert text_of(page.text, "price")
    assert 'id="quote-form"' in page.text
    assert 'id="sites"' in page.text


def test_every_option_kind_has_its_input(client: TestClient, keys: Keys) -> None:
    page = signed_in(client, keys.operator).get("/quote?product=laptop-stand&market=de").text
    assert '<input id="opt-width" name="width" type="number" min="250" max="400" step="10" value="300"' in page
    assert '<select id="opt-finish" name="finish">' in page
    assert '<option value="anodized-black">anodized-black</option>' in page
    assert '<input id="opt-engraving" name="engraving" type="text" minlength="0" maxlength="24"' in page
    assert '<input type="hidden" name="usb_hub" value="false">' in page
    assert '<input id="opt-usb_hub" type="checkbox" name="usb_hub" value="true">' in page
    labelled = client.get("/quote?product=monitor-riser&market=de").text
    assert '<option value="dual">Dual monitor (100 cm)</option>' in labelled


def test_changing_an_option_requotes(client: TestClient, keys: Keys) -> None:
    signed_in(client, keys.operator)
    raw = text_of(client.get("/quote?market=de&lang=en&finish=raw").text, "price")
    black = text_of(client.get("/quote?market=de&lang=en&finish=anodized-black").text, "price")
    hub = client.get("/quote?market=de&lang=en&finish=raw&usb_hub=false&usb_hub=true").text
    assert raw
    assert black
    assert raw != black
    assert text_of(hub, "price") not in (raw, black), "the checked box (the last value) wins"
    assert 'name="usb_hub" value="true" checked>' in hub


def test_a_broken_rule_shows_its_messages_and_the_nearest_valid_configuration(client: TestClient, keys: Keys) -> None:
    page = signed_in(client, keys.alice).get("/quote?material=walnut&finish=raw&width=250&lang=de")
    assert page.status_code == 200
    assert 'id="price"' not in page.text
    assert 'id="sites"' not in page.text
    assert '<div id="problems" class="card problems" role="alert">' in page.text
    messages = html.unescape(page.text)
    assert "the raw finish is not offered in walnut" in messages
    assert "walnut stands are 300 to 400 mm wide, not 250 mm" in messages
    nearest = re.search(r'<a id="nearest" href="([^"]+)"', page.text)
    assert nearest is not None
    fixed = client.get(html.unescape(nearest.group(1)))
    assert text_of(fixed.text, "price"), "the nearest valid configuration has a price"


def test_values_the_product_does_not_offer_are_named_not_a_500(client: TestClient, keys: Keys) -> None:
    page = signed_in(client, keys.operator).get("/quote?market=de&width=255&usb_hub=maybe&engraving=%3Cb%3E")
    assert page.status_code == 200
    messages = html.unescape(page.text)
    assert "option 'width': '255' is not offered" in messages
    assert "option 'usb_hub': 'maybe' is not offered" in messages
    assert "option 'engraving': '<>' not allowed" in messages
    assert "<b>" not in page.text, "what the user typed is escaped"


def test_us_buyers_choose_where_the_goods_go_for_sales_tax(client: TestClient, keys: Keys) -> None:
    page = signed_in(client, keys.operator).get("/quote?market=us&lang=en&ship_to=US-NY-NYC").text
    assert '<option value="US-NY-NYC" selected>' in page
    assert text_of(page, "price-label") == "Price excl. Sales tax"
    assert "8.875%" in (text_of(page, "tax-note") or "")
    elsewhere = client.get("/quote?market=us&lang=en&ship_to=DE").text
    assert '<option value="US-OH-FRANKLIN" selected>' in elsewhere, "a jurisdiction of another country is ignored"


def test_business_buyers_see_net_prices(client: TestClient, keys: Keys) -> None:
    page = signed_in(client, keys.alice).get("/quote?lang=de&b2b=true").text
    assert text_of(page, "price-label") == "Preis exkl. USt"
    assert '<input id="b2b" type="checkbox" name="b2b" value="true" checked>' in page
    consumer = client.get("/quote?lang=de").text
    assert text_of(consumer, "price-label") == "Preis inkl. USt"
    assert text_of(page, "price") != text_of(consumer, "price")


@pytest.mark.parametrize(
    ("query", "status"),
    [("product=flux-capacitor", 404), ("market=mars", 404), ("qty=0", 422), ("qty=many", 422)],
)
def test_bad_addresses_are_problems_not_500s(client: TestClient, keys: Keys, query: str, status: int) -> None:
    response = signed_in(client, keys.operator).get(f"/quote?{query}")
    assert response.status_code == status


def test_language_links_keep_the_configuration(client: TestClient, keys: Keys) -> None:
    page = signed_in(client, keys.operator).get("/quote?market=jp&finish=anodized-black&lang=en").text
    assert 'href="/quote?market=jp&amp;finish=anodized-black&amp;lang=ja"' in page


def _options(page: str, select_id: str) -> dict[str, bool]:
    """Each option value of a select and whether it is greyed as incompatible."""
    block = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', page, re.S)
    assert block is not None
    return {
        m.group(1): "data-incompatible" in m.group(0)
        for m in re.finditer(r'<option value="([^"]*)"[^>]*>', block.group(1))
    }


def test_values_that_conflict_with_the_other_choices_are_greyed_not_hidden(client: TestClient, keys: Keys) -> None:
    page = signed_in(client, keys.operator).get("/quote?product=laptop-stand&market=us&material=walnut&finish=oiled")
    finishes = _options(page.text, "opt-finish")
    # finish-per-material: walnut takes oiled or natural only; every finish stays selectable
    assert {f for f, grey in finishes.items() if not grey} == {"oiled", "natural"}
    assert len(finishes) == 7
    # materials with finish=oiled: only walnut has it
    assert {m for m, grey in _options(page.text, "opt-material").items() if not grey} == {"walnut"}
    # walnut-width: 300 to 400 mm
    assert text_of(page.text, "opt-width-range") == "with your other choices: 300 to 400 mm"


def test_greying_follows_the_usb_hub(client: TestClient, keys: Keys) -> None:
    page = signed_in(client, keys.operator).get("/quote?product=laptop-stand&market=us&usb_hub=true")
    # usb-hub-needs-aluminium: with a hub, walnut and PET grey out; the raw finish keeps aluminium's three
    assert {m for m, grey in _options(page.text, "opt-material").items() if not grey} == {"aluminium"}
    assert {f for f, grey in _options(page.text, "opt-finish").items() if not grey} == {
        "raw",
        "anodized-silver",
        "anodized-black",
    }
    assert text_of(page.text, "opt-width-range") is None  # aluminium takes every width


def test_greyed_values_in_german(client: TestClient, keys: Keys) -> None:
    page = signed_in(client, keys.operator).get(
        "/quote?product=laptop-stand&market=de&lang=de&material=walnut&finish=oiled"
    )
    assert "nicht mit Ihrer übrigen Auswahl" in page.text


def _order_form(page: str) -> dict[str, str]:
    form = re.search(r'<form id="order-form".*?</form>', page, re.S)
    assert form is not None, "no order form"
    return {
        m.group(1): html.unescape(m.group(2))
        for m in re.finditer(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(0))
    }


def test_a_customer_orders_what_the_quote_page_shows_once(client: TestClient, keys: Keys, services: object) -> None:
    page = signed_in(client, keys.alice).get("/quote?product=laptop-stand&lang=de&finish=anodized-black&qty=2").text
    fields = _order_form(page)
    assert fields["finish"] == "anodized-black"
    assert fields["qty"] == "2"
    assert fields["locale"] == "de-DE"
    assert len(fields["token"]) >= 16
    placed = client.post("/quote/order", data=fields, follow_redirects=False)
    assert placed.status_code == 303, placed.text
    location = placed.headers["location"]
    order = client.get(location.replace("/orders/", "/v1/orders/")).json()
    assert order["customer"] == "alice"
    assert order["quantity"] == 2
    assert order["config"]["finish"] == "anodized-black"
    again = client.post("/quote/order", data=fields, follow_redirects=False)  # a double click
    assert again.headers["location"] == location
    assert len(client.get("/v1/orders").json()["items"]) == 1
    fresh = _order_form(client.get("/quote?product=laptop-stand&lang=de").text)
    assert fresh["token"] != fields["token"]  # a new page, a new order


def test_who_may_order_from_the_quote_page(client: TestClient, keys: Keys) -> None:
    planner_page = signed_in(client, keys.planner).get("/quote?product=laptop-stand&market=us").text
    assert 'id="order-form"' not in planner_page
    staff_page = signed_in(client, keys.operator).get("/quote?product=laptop-stand&market=us").text
    assert 'id="order-customer"' in staff_page
    fields = _order_form(staff_page)
    no_customer = client.post("/quote/order", data=fields, follow_redirects=False)
    assert no_customer.status_code == 422
    for_carol = client.post("/quote/order", data={**fields, "customer": "carol"}, follow_redirects=False)
    assert for_carol.status_code == 303
    signed_in(client, keys.planner)
    assert client.post("/quote/order", data={**fields, "customer": "carol"}).status_code == 403


def test_bad_order_forms_are_4xx_and_place_nothing(client: TestClient, keys: Keys) -> None:
    fields = _order_form(signed_in(client, keys.alice).get("/quote?product=laptop-stand&lang=de").text)
    for change in ({"token": "short"}, {"finish": "gold"}, {"qty": "0"}, {"market": "us"}, {"product": "nope"}):
        answer = client.post("/quote/order", data={**fields, **change}, follow_redirects=False)
        assert 400 <= answer.status_code < 500, change
    assert client.get("/v1/orders").json()["items"] == []

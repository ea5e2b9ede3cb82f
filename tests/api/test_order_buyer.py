"""Orders carry the buyer an invoice names; a malformed buyer is a 422 naming the field."""

from __future__ import annotations

from fastapi.testclient import TestClient

from microfab.control.bootstrap import Services
from microfab.domain.events import OrderPlaced
from tests.api.conftest import Keys, auth

BUYER = {
    "name": "Werkbank München GmbH",
    "address": {"street": "Landsberger Str. 110", "postal_code": "80339", "city": "München", "country": "DE"},
    "tax_ids": {"de-vat-id": "DE281935743"},
}


def test_a_business_order_records_its_buyer(client: TestClient, keys: Keys, services: Services) -> None:
    body = {"product": "laptop-stand", "quantity": 2, "b2b": True, "buyer": BUYER}
    placed = client.post("/v1/orders", json=body, headers=auth(keys.alice))
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    (first, *_) = services.log.read_stream(f"order-{order_id}")
    assert isinstance(first.event, OrderPlaced)
    assert first.event.b2b
    assert first.event.buyer is not None
    assert first.event.buyer.name == "Werkbank München GmbH"
    assert first.event.buyer.tax_ids == {"de-vat-id": "DE281935743"}
    assert first.event.buyer.address.city == "München"


def test_a_malformed_buyer_is_a_422_naming_the_field(client: TestClient, keys: Keys) -> None:
    bad = {**BUYER, "address": {**BUYER["address"], "country": "Germany"}}  # type: ignore[dict-item]
    placed = client.post(
        "/v1/orders", json={"product": "laptop-stand", "quantity": 1, "buyer": bad}, headers=auth(keys.alice)
    )
    assert placed.status_code == 422
    assert "buyer" in placed.text
    assert "country" in placed.text


def test_a_customer_reorders_the_same_configuration_for_the_same_buyer(client: TestClient, keys: Keys) -> None:
    body = {"product": "laptop-stand", "quantity": 2, "config": {"width": 320}, "b2b": True, "buyer": BUYER}
    first = client.post("/v1/orders", json=body, headers=auth(keys.alice)).json()
    again = client.post(f"/v1/orders/{first['id']}/reorder", headers=auth(keys.alice))
    assert again.status_code == 201, again.text
    second = again.json()
    assert second["id"] != first["id"]
    assert (second["config"], second["quantity"], second["market"]) == (first["config"], 2, "de")
    # Someone else's order is not found, not forbidden (no existence leak).
    other = client.post(f"/v1/orders/{first['id']}/reorder", headers=auth(keys.bob))
    assert other.status_code == 404


def test_the_tracking_page_speaks_for_the_markets_brand(client: TestClient, keys: Keys) -> None:
    order = client.post("/v1/orders", json={"product": "laptop-stand", "quantity": 1}, headers=auth(keys.alice)).json()
    client.cookies.set("mf_key", keys.alice)
    page = client.get(f"/orders/{order['id']}?lang=de")
    assert page.status_code == 200, page.text
    assert "microfab" in page.text.lower()
    assert 'class="brand"' in page.text
    assert 'class="brand-footer"' in page.text

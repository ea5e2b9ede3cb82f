"""The configurator over HTTP: valid values, check, explain, derive; bad values are 422 naming the option."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Keys, auth

URL = "/v1/products/laptop-stand"


def post(client: TestClient, key: str, action: str, config: dict[str, object]) -> object:
    return client.post(f"{URL}/{action}", json={"config": config}, headers=auth(key))


def test_valid_values_never_lead_into_a_dead_end(client: TestClient, keys: Keys) -> None:
    answer = post(client, keys.alice, "valid-values", {"material": "walnut"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["chosen"] == {"material": "walnut"}
    assert body["valid"]["finish"] == ["oiled", "natural"]
    assert body["valid"]["usb_hub"] == [False]
    assert min(body["valid"]["width"]) == 300
    assert "material" not in body["valid"]
    assert body["conflict"] is None


def test_conflicting_choices_are_explained_with_the_nearest_valid_configuration(client: TestClient, keys: Keys) -> None:
    config = {"material": "walnut", "usb_hub": True}
    dead = post(client, keys.alice, "valid-values", config).json()
    assert not any(dead["valid"].values())
    conflict = dead["conflict"]
    assert conflict["choices"] == config
    assert [r["rule"] for r in conflict["rules"]] == ["usb-hub-needs-aluminium"]
    assert conflict["nearest"] is not None
    assert len(conflict["changed"]) == 1
    assert post(client, keys.alice, "explain", config).json() == conflict
    assert post(client, keys.alice, "explain", {"material": "walnut"}).json() is None


def test_check_fills_defaults_and_names_broken_rules(client: TestClient, keys: Keys) -> None:
    ok = post(client, keys.operator, "check", {}).json()
    assert ok["valid"] is True
    assert ok["config"]["width"] == 300
    broken = post(client, keys.operator, "check", {"material": "recycled-pet", "width": 400}).json()
    assert broken["valid"] is False
    rules = {v["rule"] for v in broken["violations"]}
    assert rules == {"pet-width", "finish-per-material"}  # raw finish is aluminium only; PET is at most 350 mm
    assert any("350" in v["message"] for v in broken["violations"])


def test_derive_gives_bom_routing_price_and_mass(client: TestClient, keys: Keys) -> None:
    answer = post(client, keys.alice, "derive", {"width": 300, "finish": "anodized-black", "usb_hub": True})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    steps = [s["name"] for s in body["routing"]]
    assert "anodize" in steps
    assert "fit-usb-hub" in steps
    assert "mill-walnut" not in steps
    # 79 + (300 - 250) * 0.2 + 15 (anodized black) + 25 (USB hub) = 129 USD
    assert body["list_price"] == {"amount": "129.00", "currency": "USD"}
    assert body["bom"]
    assert all(line["cost"]["currency"] == "USD" for line in body["bom"])
    assert body["mass_kg"].startswith("1.")


def test_derive_refuses_an_invalid_configuration(client: TestClient, keys: Keys) -> None:
    answer = post(client, keys.alice, "derive", {"material": "walnut", "finish": "raw"})
    assert answer.status_code == 422
    assert "finish-per-material" in answer.json()["errors"][0]["message"]


@pytest.mark.parametrize("action", ["valid-values", "check", "explain", "derive"])
@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"material": "gold"}, "body.config.material"),
        ({"width": 255}, "body.config.width"),
        ({"colour": "red"}, "body.config.colour"),
        ({"engraving": "<script>"}, "body.config.engraving"),
    ],
)
def test_values_the_product_does_not_offer_are_422_naming_the_option(
    client: TestClient, keys: Keys, action: str, config: dict[str, object], field: str
) -> None:
    answer = post(client, keys.alice, action, config)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == field


def test_unknown_products_and_bad_bodies(client: TestClient, keys: Keys) -> None:
    headers = auth(keys.alice)
    assert client.post("/v1/products/nope/check", json={}, headers=headers).status_code == 404
    extra = client.post(f"{URL}/check", json={"config": {}, "x": 1}, headers=headers)
    assert extra.status_code == 422
    nested = client.post(f"{URL}/check", json={"config": {"width": [1]}}, headers=headers)
    assert nested.status_code == 422
    assert client.post(f"{URL}/check", json={}).status_code == 401

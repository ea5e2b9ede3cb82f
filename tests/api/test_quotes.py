"""POST /v1/quotes: every role, customers in their own market, each bad input a 4xx naming its field, JSON shapes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microfab.api import create_app
from microfab.api.schemas import QuotePublic
from microfab.commerce.export import quote_json
from microfab.control import access, operations
from microfab.control.bootstrap import Services, bootstrap
from microfab.domain.access import Role
from microfab.manifests import load_resources
from microfab.settings import Settings
from tests.api.conftest import AT, Keys, auth
from tests.e2e.conftest import EXAMPLE

PROBLEM = "application/problem+json"
WHOLE = re.compile(r"^\d+$")
CENTS = re.compile(r"^\d+\.\d{2}$")


def quote(client: TestClient, key: str, **body: Any) -> Any:
    body.setdefault("product", "laptop-stand")
    body.setdefault("quantity", 1)
    return client.post("/v1/quotes", json=body, headers=auth(key))


def amounts(q: dict[str, Any]) -> list[str]:
    """Every money amount of a quote: the price block, the tax and each eligible site's figures."""
    found = [q["unit_net"], q["net"], q["gross"], q["shown"], q["tax"]["amount"]]
    for site in q["sites"]:
        if site["eligible"]:
            found += [site[k] for k in ("materials", "production", "freight", "duty", "import_vat", "landed_cost")]
            found += [d["amount"] for d in site["duty_lines"]]
    return found


@pytest.mark.parametrize("who", ["admin", "operator", "planner", "alice", "bob"])
def test_every_role_may_quote(client: TestClient, keys: Keys, who: str) -> None:
    response = quote(client, getattr(keys, who), market="de")
    assert response.status_code == 200, response.text
    assert response.json()["market"] == "de"


def test_a_quote_needs_a_valid_key(client: TestClient) -> None:
    response = client.post("/v1/quotes", json={"product": "laptop-stand", "quantity": 1, "market": "de"})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM


def test_a_customer_key_bound_to_a_market_quotes_there_only(client: TestClient, keys: Keys) -> None:
    elsewhere = quote(client, keys.alice, market="us")
    assert elsewhere.status_code == 403
    assert elsewhere.headers["content-type"] == PROBLEM
    assert "'de' only" in elsewhere.json()["detail"]
    assert elsewhere.json()["errors"] == [{"field": "body.market", "message": "must be de"}]
    own = quote(client, keys.alice)
    assert own.status_code == 200, "a bound key may omit its market"
    assert (own.json()["market"], own.json()["currency"]) == ("de", "EUR")
    assert quote(client, keys.bob, market="us").status_code == 200, "an unbound customer quotes anywhere"
    missing = quote(client, keys.bob)
    assert missing.status_code == 422
    assert missing.json()["errors"] == [{"field": "body.market", "message": "required"}]
    assert quote(client, keys.operator).status_code == 422, "staff name the market"


@pytest.mark.parametrize(
    ("body", "status", "field", "message"),
    [
        ({"product": "flux-capacitor"}, 404, "body.product", "unknown product 'flux-capacitor'"),
        ({"market": "mars"}, 404, "body.market", "unknown market 'mars'"),
        ({"config": {"finish": "oiled"}}, 422, "body.config", "finish-per-material: the oiled finish is not offered"),
        (
            {"config": {"material": "walnut", "finish": "oiled", "usb_hub": True}},
            422,
            "body.config",
            "usb-hub-needs-aluminium",
        ),
        ({"config": {"width": 255}}, 422, "body.config", "option 'width': 255 is not offered"),
        ({"config": {"colour": "red"}}, 422, "body.config", "has no option 'colour'"),
        ({"currency": "XYZ"}, 422, "body.currency", "ISO 4217"),
        ({"currency": "CHF"}, 422, "body.currency", "no FX rate from USD to CHF"),
        ({"currency": "euro"}, 422, "body.currency", "pattern"),
        ({"tax_jurisdiction": "FR"}, 422, "body.tax_jurisdiction", "no tax jurisdiction 'FR' is declared"),
        ({"quantity": 0}, 422, "body.quantity", "greater than or equal to 1"),
        ({"b2b": "perhaps"}, 422, "body.b2b", "boolean"),
        ({"colour": "red"}, 422, "body.colour", "Extra inputs"),
    ],
)
def test_bad_inputs_are_4xx_problems_naming_the_field(
    client: TestClient, keys: Keys, body: dict[str, Any], status: int, field: str, message: str
) -> None:
    response = quote(client, keys.operator, **{"market": "de", **body})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == status
    assert problem["instance"] == "/v1/quotes"
    errors = {e["field"]: e["message"] for e in problem["errors"]}
    assert field in errors, errors
    assert message in errors[field] or message in problem["detail"]


@pytest.fixture
def unreachable() -> Iterator[TestClient]:
    """The example network without a lane to market vn: no site can serve it."""
    cut = bootstrap(Settings(db="memory://", schedule_time_limit=0.2, seed=1))
    resources = [r for r in load_resources(EXAMPLE) if not (r.kind == "Lane" and r.spec.get("to") == "vn")]
    operations.apply_plan(cut, operations.plan_apply(cut, resources))
    with TestClient(create_app(services=cut)) as client:
        yield client
    cut.close()


def test_no_eligible_site_is_a_422_naming_the_market(unreachable: TestClient) -> None:
    services: Services = unreachable.app.state.services  # type: ignore[attr-defined]
    key = access.create_key(
        services.state, services.log, role=Role.PLANNER, customer=None, market=None, label="t", at=AT
    )[1]
    response = quote(unreachable, key, market="vn")
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "body.market"
    assert "no site can serve market 'vn'" in response.json()["detail"]
    assert "no open lane to market vn" in response.json()["detail"]


def test_yen_amounts_have_no_decimals(client: TestClient, keys: Keys) -> None:
    q = quote(client, keys.operator, market="jp", quantity=3).json()
    assert (q["currency"], q["locale"], q["tax_jurisdiction"]) == ("JPY", "ja-JP", "JP")
    assert all(WHOLE.match(a) for a in amounts(q)), amounts(q)
    assert q["tax"] == {"name": "消費税", "rate": "0.10", "amount": q["tax"]["amount"]}
    assert Decimal(q["net"]) == 3 * Decimal(q["unit_net"])
    assert Decimal(q["gross"]) == Decimal(q["net"]) + Decimal(q["tax"]["amount"])


def test_germany_taxes_19_percent_included_for_consumers_and_excluded_for_businesses(
    client: TestClient, keys: Keys
) -> None:
    consumer = quote(client, keys.alice, quantity=2).json()
    assert (consumer["currency"], consumer["tax_jurisdiction"], consumer["b2b"]) == ("EUR", "DE", False)
    assert consumer["tax"]["name"] == "USt"
    assert consumer["tax"]["rate"] == "0.19"
    price_block = [consumer[k] for k in ("unit_net", "net", "gross", "shown")]
    assert all(CENTS.match(a) for a in [*price_block, consumer["tax"]["amount"]]), consumer
    net, tax = Decimal(consumer["net"]), Decimal(consumer["tax"]["amount"])
    assert tax == (net * Decimal("0.19")).quantize(Decimal("0.01"))
    assert consumer["display"] == "inclusive"
    assert consumer["shown"] == consumer["gross"] == str(net + tax)
    assert consumer["chosen_site"] == "bavaria"
    business = quote(client, keys.alice, quantity=2, b2b=True).json()
    assert (business["display"], business["shown"]) == ("exclusive", business["net"])
    assert business["gross"] == consumer["gross"]


def test_us_sales_tax_is_a_separate_line_even_for_consumers(client: TestClient, keys: Keys) -> None:
    q = quote(client, keys.bob, market="us").json()
    assert (q["currency"], q["tax_jurisdiction"], q["tax"]["name"]) == ("USD", "US-OH-FRANKLIN", "Sales tax")
    assert q["display"] == "exclusive"
    assert q["shown"] == q["net"] != q["gross"]
    assert Decimal(q["tax"]["amount"]) > 0
    assert Decimal(q["gross"]) == Decimal(q["net"]) + Decimal(q["tax"]["amount"])
    nyc = quote(client, keys.bob, market="us", tax_jurisdiction="US-NY-NYC").json()
    assert (nyc["tax_jurisdiction"], nyc["tax"]["rate"]) == ("US-NY-NYC", "0.08875")
    oregon = quote(client, keys.bob, market="us", tax_jurisdiction="us-or").json()
    assert (oregon["tax_jurisdiction"], oregon["tax"]["amount"]) == ("US-OR", "0.00")


def test_currency_and_locale_are_the_buyers_choices(client: TestClient, keys: Keys) -> None:
    q = quote(client, keys.alice, currency="usd", locale="en-US").json()
    assert (q["currency"], q["locale"], q["tax_jurisdiction"], q["warnings"]) == ("USD", "en-US", "DE", [])
    assert (q["fx"]["base"], q["fx"]["quote"], q["fx"]["rate"]) == ("USD", "USD", "1")
    unknown = quote(client, keys.alice, locale="xx").json()
    assert unknown["locale"] == "de-DE"
    assert unknown["warnings"] == ["unknown locale 'xx': quoting in the market's de-DE"]


def test_the_body_is_the_quote_json_of_the_cli(client: TestClient, keys: Keys, services: Services) -> None:
    body = {"config": {"width": 340, "finish": "anodized-black", "engraving": "Ada"}, "quantity": 4}
    response = quote(client, keys.operator, market="mx", **body)
    assert response.status_code == 200, response.text
    expected = quote_json(operations.quote_order(services, "laptop-stand", body["config"], 4, "mx"))  # type: ignore[arg-type]
    assert response.json() == QuotePublic.model_validate(expected).model_dump(mode="json")
    assert set(response.json()) == set(expected)
    eligible = next(s for s in response.json()["sites"] if s["eligible"])
    assert set(eligible) == set(next(s for s in expected["sites"] if s["eligible"]))
    ineligible = [s for s in response.json()["sites"] if not s["eligible"]]
    assert all(set(s) == {"site", "country", "eligible", "reason"} for s in ineligible)


def test_a_quote_records_nothing(client: TestClient, keys: Keys, services: Services) -> None:
    before = len(services.log.read_all())
    assert quote(client, keys.alice).status_code == 200
    assert len(services.log.read_all()) == before


def test_openapi_documents_quotes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/v1/quotes"]["post"]
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/QuotePublic"}
    assert {"404", "422", "403"} <= set(operation["responses"])
    quote_schema = spec["components"]["schemas"]["QuotePublic"]
    assert set(quote_schema["required"]) == set(QuotePublic.model_fields)


def test_orders_take_the_buyers_choices_and_answer_with_site_and_tax(client: TestClient, keys: Keys) -> None:
    body = {"product": "laptop-stand", "quantity": 2, "market": "us", "tax_jurisdiction": "US-NY-NYC", "b2b": True}
    placed = client.post("/v1/orders", json=body, headers={**auth(keys.bob), "Idempotency-Key": "nyc-1"})
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert (order["site"], order["tax_jurisdiction"]) == ("ohio", "US-NY-NYC")
    assert order["tax"]["currency"] == "USD"
    assert Decimal(order["tax"]["amount"]) == (Decimal(order["total"]["amount"]) * Decimal("0.08875")).quantize(
        Decimal("0.01")
    )
    replayed = client.post("/v1/orders", json=body, headers={**auth(keys.bob), "Idempotency-Key": "nyc-1"})
    assert replayed.status_code == 200
    assert (replayed.json()["id"], replayed.json()["tax"]) == (order["id"], order["tax"])
    other_state = {**body, "tax_jurisdiction": "US-TX"}
    reused = client.post("/v1/orders", json=other_state, headers={**auth(keys.bob), "Idempotency-Key": "nyc-1"})
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["field"] == "header.Idempotency-Key"
    tracked = client.get(f"/v1/orders/{order['id']}", headers=auth(keys.bob)).json()
    assert (tracked["tax"], tracked["tax_jurisdiction"]) == (order["tax"], "US-NY-NYC")  # the order keeps its tax


def test_orders_in_another_currency_and_their_errors(client: TestClient, keys: Keys) -> None:
    placed = client.post(
        "/v1/orders", json={"product": "laptop-stand", "quantity": 1, "currency": "USD"}, headers=auth(keys.alice)
    )
    assert placed.status_code == 201, placed.text
    assert placed.json()["total"]["currency"] == placed.json()["tax"]["currency"] == "USD"
    assert placed.json()["tax_jurisdiction"] == "DE"
    for field, value in (("currency", "CHF"), ("tax_jurisdiction", "FR")):
        refused = client.post(
            "/v1/orders", json={"product": "laptop-stand", "quantity": 1, field: value}, headers=auth(keys.alice)
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == f"body.{field}"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(
        st.sampled_from(["product", "quantity", "config", "market", "locale", "currency", "tax_jurisdiction", "b2b"]),
        st.one_of(
            st.none(),
            st.integers(),
            st.text(max_size=30),
            st.booleans(),
            st.sampled_from(["laptop-stand", "de", "us", "jp", "EUR", "JPY", "US-TX", "de-DE", "ja"]),
            st.dictionaries(
                st.sampled_from(["width", "material", "finish", "engraving", "usb_hub", "x"]),
                st.one_of(st.integers(), st.text(max_size=8), st.booleans()),
                max_size=4,
            ),
        ),
    )
)
def test_no_quote_body_ever_gets_a_500(client: TestClient, keys: Keys, body: dict[str, object]) -> None:
    response = client.post("/v1/quotes", content=json.dumps(body), headers=auth(keys.planner))
    assert response.status_code < 500, response.text
    assert response.status_code in (200, 403, 404, 422), response.text

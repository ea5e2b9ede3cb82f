"""REST API: authentication, roles, tenant isolation, idempotency, limits, problem+json, SSE."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microfab.api import create_app
from microfab.api.app import ApiSettings
from microfab.control import operations
from microfab.control.bootstrap import Services
from microfab.domain.quantities import Duration
from tests.api.conftest import Keys, auth

PROBLEM = "application/problem+json"


def place(client: TestClient, key: str, **body: object) -> object:
    body.setdefault("product", "laptop-stand")
    body.setdefault("quantity", 1)
    return client.post("/v1/orders", json=body, headers=auth(key))


def test_health_needs_no_key(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}, {"X-API-Key": "mfk_000000000000_x"}],
)
def test_requests_without_a_valid_key_are_401_problems(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/v1/sites", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 401


def test_x_api_key_header_works_too(client: TestClient, keys: Keys) -> None:
    assert client.get("/v1/sites", headers={"X-API-Key": keys.operator}).status_code == 200


def test_a_customer_places_an_order_in_its_market(client: TestClient, keys: Keys) -> None:
    response = place(client, keys.alice, quantity=2)
    assert response.status_code == 201, response.text
    order = response.json()
    assert response.headers["Location"] == f"/v1/orders/{order['id']}"
    assert (order["customer"], order["market"], order["status"]) == ("alice", "de", "allocated")
    assert order["total"]["currency"] == "EUR"
    assert isinstance(order["total"]["amount"], str)
    assert len(order["units"]) == 2


def test_customers_see_only_their_own_orders(client: TestClient, keys: Keys) -> None:
    mine = place(client, keys.alice).json()["id"]
    theirs = place(client, keys.bob, market="us").json()["id"]
    assert [o["id"] for o in client.get("/v1/orders", headers=auth(keys.alice)).json()["items"]] == [mine]
    hidden = client.get(f"/v1/orders/{theirs}", headers=auth(keys.alice))
    missing = client.get("/v1/orders/ord-99999", headers=auth(keys.alice))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"].replace(theirs, "X") == missing.json()["detail"].replace("ord-99999", "X")
    serial = place(client, keys.bob, market="us").json()["units"][0]["serial"]
    assert client.get(f"/v1/units/{serial}/passport", headers=auth(keys.alice)).status_code == 404
    staff = client.get("/v1/orders", headers=auth(keys.operator)).json()["items"]
    assert {mine, theirs} <= {o["id"] for o in staff}


def test_a_customer_key_cannot_order_for_someone_else_or_elsewhere(client: TestClient, keys: Keys) -> None:
    assert place(client, keys.alice, customer="bob").status_code == 403
    assert place(client, keys.alice, market="us").status_code == 403
    no_market = place(client, keys.bob)
    assert no_market.status_code == 422
    assert no_market.json()["errors"][0]["field"] == "body.market"


def test_a_replayed_idempotency_key_returns_the_first_result_and_creates_nothing(
    client: TestClient, keys: Keys, services: Services
) -> None:
    headers = {**auth(keys.alice), "Idempotency-Key": "checkout-42"}
    first = client.post("/v1/orders", json={"product": "laptop-stand", "quantity": 3}, headers=headers)
    assert first.status_code == 201
    count = len(services.log.read_all())
    again = client.post("/v1/orders", json={"product": "laptop-stand", "quantity": 3}, headers=headers)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert len(services.log.read_all()) == count
    other = client.post("/v1/orders", json={"product": "laptop-stand", "quantity": 4}, headers=headers)
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "header.Idempotency-Key"
    bob = client.post(
        "/v1/orders",
        json={"product": "laptop-stand", "quantity": 3, "market": "de"},
        headers={**auth(keys.bob), "Idempotency-Key": "checkout-42"},
    )
    assert bob.status_code == 201, "keys are scoped per customer"
    assert bob.json()["id"] != first.json()["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"product": "laptop-stand", "quantity": 0}, "body.quantity"),
        ({"product": "laptop-stand", "quantity": "many"}, "body.quantity"),
        ({"product": "laptop-stand", "quantity": 1, "colour": "red"}, "body.colour"),
        ({"quantity": 1}, "body.product"),
        ({"product": "Laptop Stand!", "quantity": 1}, "body.product"),
        ({"product": "flux-capacitor", "quantity": 1}, "body.product"),
        ({"product": "laptop-stand", "quantity": 1, "due": "2026-12-01T10:00:00"}, "body.due"),
    ],
)
def test_invalid_bodies_are_422_problems_naming_the_field(
    client: TestClient, keys: Keys, body: dict[str, object], field: str
) -> None:
    response = client.post("/v1/orders", json=body, headers=auth(keys.alice))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert field in [e["field"] for e in response.json()["errors"]]


def test_unoffered_option_values_are_422_and_write_nothing(client: TestClient, keys: Keys, services: Services) -> None:
    before = len(services.log.read_all())
    response = place(client, keys.alice, config={"no-such-option": "x"})
    assert response.status_code == 422
    assert len(services.log.read_all()) == before


def test_oversized_bodies_are_413(client: TestClient, keys: Keys) -> None:
    huge = {"product": "laptop-stand", "quantity": 1, "customer": "x" * 10_000}
    response = client.post("/v1/orders", json=huge, headers=auth(keys.operator))
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


def test_order_placement_is_rate_limited_per_key(services: Services, keys: Keys) -> None:
    with TestClient(create_app(services=services, api=ApiSettings(order_rate_per_s=0.01, order_burst=2))) as c:
        statuses = [place(c, keys.alice).status_code for _ in range(3)]
        assert statuses == [201, 201, 429]
        limited = place(c, keys.alice)
        assert int(limited.headers["Retry-After"]) >= 1
        assert place(c, keys.bob, market="us").status_code == 201, "other keys have their own bucket"


ROUTES = [
    ("GET", "/v1/sites"),
    ("GET", "/v1/modules"),
    ("GET", "/v1/products"),
    ("POST", "/v1/products/laptop-stand/valid-values"),
    ("POST", "/v1/products/laptop-stand/derive"),
    ("POST", "/v1/quotes"),
    ("GET", "/v1/orders"),
    ("GET", "/v1/events"),
    ("GET", "/v1/alerts"),
    ("GET", "/v1/kpis"),
    ("GET", "/v1/sites/ohio/schedule"),
    ("GET", "/v1/plans/jobs"),
    ("GET", "/v1/keys"),
    ("POST", "/v1/manifests/validate"),
    ("POST", "/v1/manifests/plan"),
    ("POST", "/v1/manifests/apply"),
]
ALLOWED = {
    "/v1/sites": {"admin", "operator", "planner", "alice"},
    "/v1/modules": {"admin", "operator", "planner"},
    "/v1/products": {"admin", "operator", "planner", "alice"},
    "/v1/products/laptop-stand/valid-values": {"admin", "operator", "planner", "alice"},
    "/v1/products/laptop-stand/derive": {"admin", "operator", "planner", "alice"},
    "/v1/quotes": {"admin", "operator", "planner", "alice"},
    "/v1/orders": {"admin", "operator", "planner", "alice"},
    "/v1/events": {"admin", "operator"},
    "/v1/alerts": {"admin", "operator", "planner"},
    "/v1/kpis": {"admin", "operator", "planner"},
    "/v1/sites/ohio/schedule": {"admin", "operator", "planner"},
    "/v1/plans/jobs": {"admin", "planner"},
    "/v1/keys": {"admin"},
    "/v1/manifests/validate": {"admin"},
    "/v1/manifests/plan": {"admin"},
    "/v1/manifests/apply": {"admin"},
}
PASSED = {path: 415 for path in ALLOWED if path.startswith("/v1/manifests/")}  # past the role check: no YAML body
BODIES: dict[str, object] = {
    "/v1/quotes": {"product": "laptop-stand", "quantity": 1, "market": "de"},
    "/v1/products/laptop-stand/valid-values": {"config": {}},
    "/v1/products/laptop-stand/derive": {"config": {}},
}


@pytest.mark.parametrize("who", ["admin", "operator", "planner", "alice"])
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_authorization_matrix(client: TestClient, keys: Keys, who: str, method: str, path: str) -> None:
    response = client.request(method, path, headers=auth(getattr(keys, who)), json=BODIES.get(path))
    expected = PASSED.get(path, 200) if who in ALLOWED[path] else 403
    assert response.status_code == expected, response.text


def test_staff_place_orders_for_customers_but_planners_do_not(client: TestClient, keys: Keys) -> None:
    assert place(client, keys.operator, customer="carol", market="jp").status_code == 201
    assert place(client, keys.planner, customer="carol", market="jp").status_code == 403
    missing = place(client, keys.operator)
    assert {e["field"] for e in missing.json()["errors"]} == {"body.customer", "body.market"}


def test_keys_are_issued_once_listed_without_secrets_and_revoked(client: TestClient, keys: Keys) -> None:
    created = client.post(
        "/v1/keys", json={"role": "customer", "customer": "dora", "market": "jp"}, headers=auth(keys.admin)
    )
    assert created.status_code == 201
    secret, key_id = created.json()["secret"], created.json()["key_id"]
    assert client.get("/v1/orders", headers=auth(secret)).status_code == 200
    listed = client.get("/v1/keys", headers=auth(keys.admin)).json()
    assert all(k["secret"] is None for k in listed)
    assert client.delete(f"/v1/keys/{key_id}", headers=auth(keys.admin)).status_code == 204
    assert client.get("/v1/orders", headers=auth(secret)).status_code == 401
    bad = client.post("/v1/keys", json={"role": "customer"}, headers=auth(keys.admin))
    assert bad.status_code == 422
    unknown_market = client.post(
        "/v1/keys", json={"role": "customer", "customer": "e", "market": "mars"}, headers=auth(keys.admin)
    )
    assert unknown_market.status_code == 404


def test_passport_after_the_twin_ran(client: TestClient, keys: Keys, services: Services) -> None:
    order = place(client, keys.alice).json()
    asyncio.run(operations.run(services, Duration.parse("4d")))
    tracked = client.get(f"/v1/orders/{order['id']}", headers=auth(keys.alice)).json()
    assert tracked["status"] == "delivered"
    passport = client.get(f"/v1/units/{order['units'][0]['serial']}/passport", headers=auth(keys.alice)).json()
    assert passport["steps"]
    assert all(s["module"] and s["good"] for s in passport["steps"])


def test_events_page_and_sse_stream_resume_from_last_event_id(client: TestClient, keys: Keys) -> None:
    place(client, keys.alice)
    page = client.get("/v1/events", params={"stream": "order-", "limit": 2}, headers=auth(keys.operator)).json()
    assert len(page["items"]) == 2
    assert page["next_cursor"] == str(page["items"][1]["position"])
    with client.stream(
        "GET",
        "/v1/events/stream",
        params={"stream": "order-", "limit": 3},
        headers={**auth(keys.operator), "Last-Event-ID": page["next_cursor"]},
    ) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        ids = [int(line[4:]) for line in stream.iter_lines() if line.startswith("id: ")]
    assert len(ids) == 3
    assert ids[0] > int(page["next_cursor"])
    assert ids == sorted(ids)
    bad = client.get("/v1/events", params={"type": "NoSuchEvent"}, headers=auth(keys.operator))
    assert bad.status_code == 422


def test_openapi_documents_every_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in (
        "/v1/sites",
        "/v1/modules",
        "/v1/products",
        "/v1/quotes",
        "/v1/products/{name}/valid-values",
        "/v1/products/{name}/check",
        "/v1/products/{name}/explain",
        "/v1/products/{name}/derive",
        "/v1/orders",
        "/v1/orders/{order_id}",
        "/v1/units/{serial}/passport",
        "/v1/events",
        "/v1/events/stream",
        "/v1/alerts",
        "/v1/alerts/{alert_id}/acknowledge",
        "/v1/kpis",
        "/v1/sites/{site}/schedule",
        "/v1/plans/allocations",
        "/v1/plans/jobs",
        "/v1/plans/jobs/{job_id}",
        "/v1/keys",
        "/v1/keys/{key_id}",
        "/v1/manifests/validate",
        "/v1/manifests/plan",
        "/v1/manifests/apply",
    ):
        assert path in spec["paths"], path


def test_unknown_routes_and_methods_are_problems(client: TestClient, keys: Keys) -> None:
    assert client.get("/v1/nowhere", headers=auth(keys.admin)).headers["content-type"] == PROBLEM
    assert client.put("/v1/sites", headers=auth(keys.admin)).status_code == 405


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(
        st.sampled_from(["product", "quantity", "config", "market", "customer", "due", "x"]),
        st.one_of(
            st.none(),
            st.integers(),
            st.text(max_size=30),
            st.booleans(),
            st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
        ),
    )
)
def test_no_body_ever_gets_a_500(client: TestClient, keys: Keys, body: dict[str, object]) -> None:
    response = client.post("/v1/orders", content=json.dumps(body), headers=auth(keys.operator))
    assert response.status_code < 500, response.text

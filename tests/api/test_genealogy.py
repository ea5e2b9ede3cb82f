"""GET /v1/modules/{name}/units: which units a module worked on in a window (operators), paged, problem+json."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from microfab.control import operations
from microfab.control.bootstrap import Services
from microfab.control.state import order_stream
from microfab.domain.commands import PlaceOrder
from microfab.domain.events import Event, OperationCompleted, OperationStarted
from microfab.domain.quantities import Duration
from tests.api.conftest import AT, Keys, auth

PROBLEM = "application/problem+json"
CUTTER = "ohio-laser-cutter-1"
URL = f"/v1/modules/{CUTTER}/units"


@pytest.fixture(autouse=True)
def worked(services: Services) -> list[str]:
    """Three units cut on the cutter at AT + 0, 10, 20 minutes (10 minutes each); the last one failed inspection."""
    order = operations.place(services, PlaceOrder("acme", "laptop-stand", {}, 3, "us")).order
    events: list[Event] = []
    serials = sorted(order.units)
    for i, serial in enumerate(serials):
        start = AT + timedelta(minutes=10 * i)
        op = f"{serial}#00"
        events.append(OperationStarted(start, order.id, op, serial, CUTTER, Duration(0)))
        events.append(
            OperationCompleted(start + timedelta(minutes=10), order.id, op, serial, CUTTER, i < 2, Duration(540), 1)
        )
    services.log.append(order_stream(order.id), events, expected_version=services.state.orders[order.id].version)
    services.state.catch_up(services.log)
    return serials


def test_an_operator_lists_the_units_of_a_window(client: TestClient, keys: Keys, worked: list[str]) -> None:
    since, until = (AT + timedelta(minutes=12)).isoformat(), (AT + timedelta(minutes=25)).isoformat()
    response = client.get(URL, params={"since": since, "until": until}, headers=auth(keys.operator))
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(i["serial"], i["step"], i["module"], i["good"]) for i in items] == [
        (worked[1], "cut", CUTTER, True),
        (worked[2], "cut", CUTTER, False),
    ]
    assert items[0]["started_at"].startswith("2026-11-30T08:10:00")
    assert response.json()["next_cursor"] is None


def test_pages_follow_the_cursor(client: TestClient, keys: Keys, worked: list[str]) -> None:
    first = client.get(URL, params={"limit": 2}, headers=auth(keys.admin)).json()
    assert [i["serial"] for i in first["items"]] == worked[:2]
    assert first["next_cursor"] == "2"
    second = client.get(URL, params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth(keys.admin)).json()
    assert [i["serial"] for i in second["items"]] == worked[2:]
    assert second["next_cursor"] is None


def test_without_a_key_401_and_other_roles_403(client: TestClient, keys: Keys) -> None:
    assert client.get(URL).status_code == 401
    for key in (keys.planner, keys.alice, keys.bob):
        response = client.get(URL, headers=auth(key))
        assert response.status_code == 403
        assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2026-11-30T08:00:00"}, "query.since"),  # no offset
        ({"since": "yesterday"}, "query.since"),
        ({"until": "2026-13-01T00:00:00+00:00"}, "query.until"),
        ({"since": "2026-11-30T09:00:00+00:00", "until": "2026-11-30T08:00:00+00:00"}, "query.until"),
        ({"limit": 0}, "query.limit"),
        ({"cursor": -1}, "query.cursor"),
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(
    client: TestClient, keys: Keys, params: dict[str, object], field: str
) -> None:
    response = client.get(URL, params=params, headers=auth(keys.operator))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_an_unknown_module_is_404(client: TestClient, keys: Keys) -> None:
    response = client.get("/v1/modules/ohio-warp-drive/units", headers=auth(keys.operator))
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert "ohio-warp-drive" in response.json()["detail"]

"""Alerts (listed, acknowledged), KPIs and a site's schedule over HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from microfab.control import operations
from microfab.control.bootstrap import Services
from microfab.control.escalation import Escalation
from microfab.domain.alerts import AlertRaised
from microfab.domain.commands import PlaceOrder
from microfab.domain.events import ModuleFaulted, ModuleRepaired
from microfab.domain.quantities import Duration
from tests.api.conftest import Keys, auth

MODULE = "ohio-laser-cutter-1"


def long_repair(services: Services, module: str = MODULE) -> tuple[str, object]:
    """Fault a module and let 5 MTTRs pass: the escalation raises a long-repair alert; its id and the fault time."""
    services.state.catch_up(services.log)
    down = services.now() + timedelta(minutes=5)
    stream = f"module-{module}"
    services.log.append(
        stream, [ModuleFaulted(down, module, "laser source")], expected_version=services.log.stream_version(stream)
    )
    mttr = services.state.network.module_types["laser-cutter"].mttr.to_timedelta()
    raised = [e for e in Escalation(services.state, services.log).poll(down + 5 * mttr) if isinstance(e, AlertRaised)]
    assert [(e.kind, e.subject) for e in raised] == [("module-long-repair", module)]
    return raised[0].alert_id, down + 6 * mttr


def test_alerts_are_listed_acknowledged_once_and_cleared(client: TestClient, keys: Keys, services: Services) -> None:
    alert_id, repaired_at = long_repair(services)
    listed = client.get("/v1/alerts", headers=auth(keys.planner)).json()
    assert [a["alert_id"] for a in listed["items"]] == [alert_id]
    assert listed["items"][0]["open"] is True
    assert listed["items"][0]["acknowledged_by"] is None

    assert client.post(f"/v1/alerts/{alert_id}/acknowledge", headers=auth(keys.planner)).status_code == 403
    taken = client.post(f"/v1/alerts/{alert_id}/acknowledge", json={"by": "maria"}, headers=auth(keys.operator))
    assert taken.status_code == 200, taken.text
    assert taken.json()["acknowledged_by"] == "maria"
    again = client.post(f"/v1/alerts/{alert_id}/acknowledge", json={"by": "maria"}, headers=auth(keys.operator))
    assert again.status_code == 200
    assert len(list(services.log.read_all(types=["AlertAcknowledged"]))) == 1  # the replay recorded nothing
    other = client.post(f"/v1/alerts/{alert_id}/acknowledge", headers=auth(keys.admin))
    assert other.status_code == 409
    assert "maria" in other.json()["detail"]

    stream = f"module-{MODULE}"
    services.log.append(
        stream, [ModuleRepaired(repaired_at, MODULE)], expected_version=services.log.stream_version(stream)
    )
    Escalation(services.state, services.log).poll(repaired_at)
    assert client.get("/v1/alerts", headers=auth(keys.operator)).json()["items"] == []
    everything = client.get("/v1/alerts", params={"status": "all"}, headers=auth(keys.operator)).json()["items"]
    assert [(a["alert_id"], a["open"], a["acknowledged_by"]) for a in everything] == [(alert_id, False, "maria")]
    assert everything[0]["cleared_because"]


def test_acknowledge_defaults_to_the_key_and_names_bad_input(
    client: TestClient, keys: Keys, services: Services
) -> None:
    alert_id, _ = long_repair(services)
    taken = client.post(f"/v1/alerts/{alert_id}/acknowledge", headers=auth(keys.operator)).json()
    assert taken["acknowledged_by"].startswith("test (")  # the key's label and id
    assert client.post("/v1/alerts/nope/acknowledge", headers=auth(keys.operator)).status_code == 404
    extra = client.post(f"/v1/alerts/{alert_id}/acknowledge", json={"who": "x"}, headers=auth(keys.operator))
    assert extra.status_code == 422
    bad = client.get("/v1/alerts", params={"status": "closed"}, headers=auth(keys.operator))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.status"
    assert client.get("/v1/alerts", params={"limit": 0}, headers=auth(keys.operator)).status_code == 422


def test_alert_pages(client: TestClient, keys: Keys, services: Services) -> None:
    first, _ = long_repair(services)
    second, _ = long_repair(services, "ohio-laser-cutter-2")
    headers = auth(keys.operator)
    page = client.get("/v1/alerts", params={"limit": 1}, headers=headers).json()
    assert [a["alert_id"] for a in page["items"]] == [first]
    assert page["next_cursor"] == "1"
    rest = client.get("/v1/alerts", params={"limit": 1, "cursor": page["next_cursor"]}, headers=headers).json()
    assert [a["alert_id"] for a in rest["items"]] == [second]
    assert rest["next_cursor"] is None


def test_kpis_and_schedule_after_a_run(client: TestClient, keys: Keys, services: Services) -> None:
    for market in ("de", "us"):
        created = client.post(
            "/v1/orders",
            json={"customer": "carol", "product": "laptop-stand", "quantity": 2, "market": market},
            headers=auth(keys.operator),
        )
        assert created.status_code == 201, created.text
    asyncio.run(operations.run(services, Duration.parse("4d"), breakdowns=False))

    kpi = client.get("/v1/kpis", headers=auth(keys.operator)).json()
    assert kpi["delivery"]["orders"] == 2
    assert kpi["delivery"]["delivered"] == 2
    assert {s["name"] for s in kpi["sites"]} == set(services.state.network.sites)
    assert any(m["produced"] > 0 for m in kpi["modules"])
    assert all(0 <= (m["oee"] or 0) <= 1 for m in kpi["modules"])
    site = next(o.site for o in services.state.orders.values())
    assert site is not None
    one = client.get("/v1/kpis", params={"site": site}, headers=auth(keys.operator)).json()
    assert [s["name"] for s in one["sites"]] == [site]

    schedule = client.get(f"/v1/sites/{site}/schedule", headers=auth(keys.planner)).json()
    assert schedule["made_at"] is not None
    assert schedule["planned"]
    assert schedule["actual"]
    assert {b["kind"] for b in schedule["planned"]} == {"planned"}
    modules = {m.name for m in services.state.network.modules_at(site)}
    assert {b["module"] for b in schedule["planned"] + schedule["actual"]} <= modules


def test_kpi_window_and_site_errors_are_4xx(client: TestClient, keys: Keys) -> None:
    headers = auth(keys.operator)
    assert client.get("/v1/kpis", params={"site": "atlantis"}, headers=headers).status_code == 404
    assert client.get("/v1/sites/atlantis/schedule", headers=headers).status_code == 404
    naive = client.get("/v1/kpis", params={"since": "2026-11-30T08:00:00"}, headers=headers)
    assert naive.status_code == 422
    assert naive.json()["errors"][0]["field"] == "query.since"
    backwards = client.get(
        "/v1/kpis", params={"since": "2026-12-02T08:00:00Z", "until": "2026-12-01T08:00:00Z"}, headers=headers
    )
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "query.until"
    empty = client.get("/v1/sites/ohio/schedule", headers=headers).json()
    assert empty["made_at"] is None
    assert empty["planned"] == []


def test_kpi_times_must_be_iso_8601_with_an_offset(client: TestClient, keys: Keys) -> None:
    headers = auth(keys.operator)
    for bad in ("0.5", "1700000000", "2026-02-30T08:00:00Z", "yesterday"):
        answer = client.get("/v1/kpis", params={"since": bad}, headers=headers)
        assert answer.status_code == 422, bad
        assert answer.json()["errors"][0]["field"] == "query.since"
    ok = client.get("/v1/kpis", params={"since": "2026-11-30T08:00:00+01:00"}, headers=headers)
    assert ok.status_code == 200
    assert datetime.fromisoformat(ok.json()["start"]) == datetime(2026, 11, 30, 7, tzinfo=UTC)


def test_the_site_page_charts_oee_and_the_downtime_pareto(client: TestClient, keys: Keys, services: Services) -> None:
    operations.place(services, PlaceOrder("carol", "laptop-stand", {}, 1, "us"))  # the KPI window opens here
    _, repaired_at = long_repair(services)
    second = "ohio-laser-cutter-2"
    services.log.append(
        f"module-{second}",
        [ModuleFaulted(repaired_at, second, "chiller"), ModuleRepaired(repaired_at + timedelta(hours=1), second)],
        expected_version=services.log.stream_version(f"module-{second}"),
    )
    stream = f"module-{MODULE}"
    services.log.append(
        stream, [ModuleRepaired(repaired_at, MODULE)], expected_version=services.log.stream_version(stream)
    )
    client.cookies.set("mf_key", keys.operator)
    page = client.get("/console/sites/ohio").text
    assert 'id="oee-chart"' in page
    pareto = page[page.index('id="pareto-chart"') :]
    # the laser-source repair took 6 x the laser cutter's MTTR (1.5 h) = 9 h, first; then the 1 h chiller:
    # cumulative 9 / 10 = 90 %, then 100 %
    assert services.state.network.module_types["laser-cutter"].mttr.seconds == 5400
    assert pareto.index("laser source") < pareto.index("chiller")
    assert "9.0 h · 90 %" in pareto
    assert "1.0 h · 100 %" in pareto

"""The console's modules-as-code page: plan, then apply one Module document change; stale or bad plans refused."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from microfab.control.bootstrap import Services
from microfab.manifests import load_resources
from tests.api.conftest import Keys
from tests.api.test_planner_pages import signed_in
from tests.e2e.conftest import EXAMPLE

PAGE = "/console/sites/ohio/modules"


def plan(client: TestClient, **form: str) -> tuple[int, str]:
    page = client.post(f"{PAGE}/plan", data=form)
    return page.status_code, page.text


def apply_form(html: str) -> dict[str, str]:
    found = re.search(r'<form method="post" action="/console/sites/ohio/modules/apply">(.*?)</form>', html, re.S)
    assert found is not None, html[:2000]
    return dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', found.group(1)))


def test_staff_see_the_documents_and_only_admins_the_forms(client: TestClient, keys: Keys) -> None:
    page = signed_in(client, keys.operator).get(PAGE)
    assert page.status_code == 200
    assert 'id="doc-ohio-cnc-mill"' in page.text
    assert "ohio-cnc-mill-2" in page.text
    assert 'id="deploy-form"' not in page.text
    assert plan(client, action="retire", name="ohio-cnc-mill")[0] == 403
    page = signed_in(client, keys.admin).get(PAGE)
    assert 'id="deploy-form"' in page.text
    assert re.search(r'id="slots">\d+ / 16 ', page.text)
    assert signed_in(client, keys.alice).get(PAGE).status_code == 403
    assert signed_in(client, keys.admin).get("/console/sites/atlantis/modules").status_code == 404


def test_scaling_up_is_planned_then_applied_and_the_module_runs(
    client: TestClient, keys: Keys, services: Services
) -> None:
    signed_in(client, keys.admin)
    status, html = plan(client, action="scale", name="ohio-cnc-mill", replicas="3")
    assert status == 200, html[:1000]
    assert re.search(r'id="plan-deployed">ohio-cnc-mill-3<', html)
    assert "replicas: 3" in html  # the document to copy into the manifests folder
    assert "ohio-cnc-mill-3" not in services.state.network.modules  # planning records nothing
    applied = client.post(f"{PAGE}/apply", data=apply_form(html), follow_redirects=False)
    assert applied.status_code == 303
    assert applied.headers["location"] == f"{PAGE}?applied=1"
    services.state.catch_up(services.log)
    assert services.state.network.modules["ohio-cnc-mill-3"].module_type == "cnc-mill"
    assert [e.event.module for e in services.log.read_stream("network") if type(e.event).__name__ == "ModuleDeployed"][
        -1:
    ] == ["ohio-cnc-mill-3"]
    assert 'id="applied"' in client.get(applied.headers["location"]).text


def test_retiring_a_document_retires_every_module_it_declares(
    client: TestClient, keys: Keys, services: Services
) -> None:
    signed_in(client, keys.admin)
    status, html = plan(client, action="retire", name="ohio-laser-cutter")
    assert status == 200
    assert re.search(r'id="plan-retired">ohio-laser-cutter-1, ohio-laser-cutter-2<', html)
    assert client.post(f"{PAGE}/apply", data=apply_form(html), follow_redirects=False).status_code == 303
    services.state.catch_up(services.log)
    assert not any(m.startswith("ohio-laser-cutter") for m in services.state.network.modules)


def test_a_deployment_beyond_the_sites_slots_is_refused_with_the_manifest_error(
    client: TestClient, keys: Keys, services: Services
) -> None:
    signed_in(client, keys.admin)
    before = services.state.network_version
    status, html = plan(client, action="deploy", name="ohio-anodizing-extra", module_type="anodizing", replicas="5")
    assert status == 422
    assert "containerSlots" in html
    assert 'id="errors"' in html
    status, html = plan(client, action="deploy", name="ohio-cnc-mill", module_type="cnc-mill")
    assert status == 422
    assert "exists already" in html
    status, html = plan(client, action="deploy", name="ohio-warp", module_type="warp-drive")
    assert status == 422
    assert "warp-drive" in html
    status, _ = plan(client, action="scale", name="bavaria-cnc-mill", replicas="1")  # another site's document
    assert status == 422
    assert plan(client, action="deploy", name="Bad Name!", module_type="cnc-mill")[0] == 422
    assert plan(client, action="explode", name="ohio-cnc-mill")[0] == 422
    assert services.state.network_version == before  # nothing recorded


def test_a_plan_made_before_someone_elses_apply_is_refused(client: TestClient, keys: Keys, services: Services) -> None:
    signed_in(client, keys.admin)
    _, html = plan(client, action="scale", name="ohio-cnc-mill", replicas="1")
    form = apply_form(html)
    # Someone applies a change in between (here: the example folder without the packing module).
    from microfab.control import operations  # noqa: PLC0415 - only this test applies directly

    resources = [r for r in load_resources(EXAMPLE) if r.name != "ohio-packing"]
    operations.apply_plan(services, operations.plan_apply(services, resources))
    stale = client.post(f"{PAGE}/apply", data=form, follow_redirects=False)
    assert stale.status_code == 409
    assert "plan again" in stale.text
    services.state.catch_up(services.log)
    assert "ohio-cnc-mill-2" in services.state.network.modules  # the stale change was not applied

"""REST API for manifests: validate, plan and apply the whole network (admin only), like ``microfab apply DIR``."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from microfab.api.app import ApiSettings
from microfab.control.bootstrap import Services
from tests.api.conftest import Keys, auth
from tests.e2e.conftest import EXAMPLE

PROBLEM = "application/problem+json"
LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9)
)  # 9**10 values once expanded, in 500 bytes
PATHS = ["/v1/manifests/validate", "/v1/manifests/plan", "/v1/manifests/apply"]
Files = dict[str, str]


@pytest.fixture
def api_settings() -> ApiSettings:
    """The default body limit: the example network must fit in it."""
    return ApiSettings(order_rate_per_s=50.0, order_burst=50)


def example() -> Files:
    """The example network's files by path below its folder (``modules/ohio.yaml``)."""
    return {p.relative_to(EXAMPLE).as_posix(): p.read_text(encoding="utf-8") for p in sorted(EXAMPLE.rglob("*.yaml"))}


def form(files: Files) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (name, text.encode(), "application/yaml")) for name, text in files.items()]


def with_replicas(files: Files, module: str, replicas: int) -> Files:
    """*files* with Module *module* (of the Ohio site) declaring *replicas*."""
    name = "modules/ohio.yaml"
    changed, count = re.subn(rf"(name: {module}\n(?:.*\n)*?  replicas: )\d+", rf"\g<1>{replicas}", files[name], count=1)
    assert count == 1
    return {**files, name: changed}


def post(client: TestClient, key: str, path: str, files: Files, **headers: str) -> Any:
    return client.post(path, files=form(files), headers={**auth(key), **headers})


def test_the_example_network_is_valid_sent_as_files_or_as_one_stream(client: TestClient, keys: Keys) -> None:
    files = example()
    as_files = post(client, keys.admin, "/v1/manifests/validate", files)
    assert as_files.status_code == 200, as_files.text
    body = as_files.json()
    assert body["valid"] is True
    assert body["network"] == "demo"
    assert body["counts"]["Network"] == 1
    assert body["counts"]["Site"] == 5
    assert body["modules"] >= body["counts"]["Module"]
    stream = "\n---\n".join(files.values())
    as_stream = client.post(
        "/v1/manifests/validate", content=stream, headers={**auth(keys.admin), "Content-Type": "application/yaml"}
    )
    assert as_stream.status_code == 200, as_stream.text
    assert as_stream.json() == body
    text_yaml = client.post(
        "/v1/manifests/validate", content=stream, headers={**auth(keys.admin), "Content-Type": "text/yaml"}
    )
    assert text_yaml.status_code == 200


def test_broken_manifests_are_one_422_listing_every_error_at_file_line_field(
    client: TestClient, keys: Keys, services: Services
) -> None:
    files = example()
    ohio = files["modules/ohio.yaml"].replace("replicas: 2", "replicas: lots", 1)
    line = ohio.splitlines().index("  replicas: lots") + 1
    files = {**files, "modules/ohio.yaml": ohio, "zz-broken.yaml": "apiVersion: microfab.dev/v1\nkind: Site\n  x: [\n"}
    before = len(services.log.read_all())
    for path in PATHS:
        response = post(client, keys.admin, path, files)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        assert problem["title"] == "Invalid manifests"
        errors = problem["errors"]
        assert {"file": "modules/ohio.yaml", "line": line, "column": 3, "field": "spec.replicas"}.items() <= {
            **next(e for e in errors if e["file"] == "modules/ohio.yaml")
        }.items()
        broken = [e for e in errors if e["file"] == "zz-broken.yaml"]
        assert broken
        assert broken[0]["message"].startswith("invalid YAML")
        assert broken[0]["line"] > 0
    assert len(services.log.read_all()) == before, "nothing is recorded"


def test_a_network_without_a_network_document_is_422_at_the_request(client: TestClient, keys: Keys) -> None:
    files = {k: v for k, v in example().items() if k != "network.yaml"}
    response = post(client, keys.admin, "/v1/manifests/validate", files)
    assert response.status_code == 422
    assert any(e["file"] == "<request>" and "no Network document" in e["message"] for e in response.json()["errors"])


def test_plan_right_after_the_fixture_applied_the_same_network_is_empty(
    client: TestClient, keys: Keys, services: Services
) -> None:
    before = len(services.log.read_all())
    response = post(client, keys.admin, "/v1/manifests/plan", example())
    assert response.status_code == 200, response.text
    plan = response.json()
    assert (plan["empty"], plan["changes"], plan["deploy"], plan["retire"]) == (True, [], [], [])
    assert plan["unchanged"] > 0
    assert plan["base_version"] == services.state.network_version
    assert response.headers["ETag"] == f'"network-{services.state.network_version}"'
    assert len(services.log.read_all()) == before


def test_a_changed_module_count_is_planned_then_applied(client: TestClient, keys: Keys, services: Services) -> None:
    files = with_replicas(example(), "ohio-cnc-mill", 3)
    before = len(services.log.read_all())
    planned = post(client, keys.admin, "/v1/manifests/plan", files)
    assert planned.status_code == 200, planned.text
    plan = planned.json()
    assert plan["changes"] == [{"kind": "Module", "name": "ohio-cnc-mill", "action": "change"}]
    assert (plan["deploy"], plan["retire"], plan["empty"]) == (["ohio-cnc-mill-3"], [], False)
    assert len(services.log.read_all()) == before, "a plan records nothing"

    applied = post(client, keys.admin, "/v1/manifests/apply", files, **{"If-Match": planned.headers["ETag"]})
    assert applied.status_code == 201, applied.text
    result = applied.json()
    assert result["applied"] is True
    assert result["events"] == len(services.log.read_all()) - before == 2  # the resource, the deployed module
    assert result["changes"] == plan["changes"]
    assert result["version"] == services.state.network_version == plan["base_version"] + 2
    assert applied.headers["ETag"] == f'"network-{result["version"]}"'
    modules = client.get("/v1/modules", params={"site": "ohio"}, headers=auth(keys.admin)).json()
    assert "ohio-cnc-mill-3" in {m["name"] for m in modules}

    again = post(client, keys.admin, "/v1/manifests/apply", files)
    assert again.status_code == 200
    assert (again.json()["applied"], again.json()["events"], again.json()["changes"]) == (False, 0, [])
    assert post(client, keys.admin, "/v1/manifests/plan", files).json()["empty"] is True


def test_leaving_resources_out_deletes_them_and_retires_their_modules(client: TestClient, keys: Keys) -> None:
    files = example()
    ohio = files["modules/ohio.yaml"].split("\n---\n")
    files["modules/ohio.yaml"] = "\n---\n".join(d for d in ohio if "name: ohio-press-brake\n" not in d)
    plan = post(client, keys.admin, "/v1/manifests/plan", files).json()
    assert plan["changes"] == [{"kind": "Module", "name": "ohio-press-brake", "action": "delete"}]
    assert plan["retire"] == [{"module": "ohio-press-brake", "site": "ohio"}]


def test_a_stale_etag_is_412_and_records_nothing(client: TestClient, keys: Keys, services: Services) -> None:
    mine = with_replicas(example(), "ohio-cnc-mill", 3)
    etag = post(client, keys.admin, "/v1/manifests/plan", mine).headers["ETag"]
    theirs = with_replicas(example(), "ohio-laser-cutter", 3)
    assert post(client, keys.admin, "/v1/manifests/apply", theirs).status_code == 201
    before = len(services.log.read_all())
    stale = post(client, keys.admin, "/v1/manifests/apply", mine, **{"If-Match": etag})
    assert stale.status_code == 412, stale.text
    assert stale.headers["content-type"] == PROBLEM
    assert stale.headers["ETag"] == f'"network-{services.state.network_version}"' != etag
    assert stale.json()["errors"][0]["field"] == "header.If-Match"
    assert len(services.log.read_all()) == before
    weak = post(client, keys.admin, "/v1/manifests/apply", mine, **{"If-Match": f"W/{stale.headers['ETag']}"})
    assert weak.status_code == 412, "If-Match compares strong tags only"
    fresh = post(client, keys.admin, "/v1/manifests/apply", mine, **{"If-Match": f'"x", {stale.headers["ETag"]}'})
    assert fresh.status_code == 201, fresh.text
    assert post(client, keys.admin, "/v1/manifests/apply", example(), **{"If-Match": "*"}).status_code == 201


@pytest.mark.parametrize("who", ["operator", "planner", "alice", "bob"])
@pytest.mark.parametrize("path", PATHS)
def test_only_admins_handle_manifests(client: TestClient, keys: Keys, services: Services, who: str, path: str) -> None:
    before = len(services.log.read_all())
    response = post(client, getattr(keys, who), path, with_replicas(example(), "ohio-cnc-mill", 3))
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert len(services.log.read_all()) == before


@pytest.mark.parametrize("path", PATHS)
def test_manifests_need_a_key(client: TestClient, path: str) -> None:
    response = client.post(path, files=form(example()))
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("path", PATHS)
def test_bodies_over_the_limit_are_413(client: TestClient, keys: Keys, path: str) -> None:
    # Manifests get their own, wider limit (1 MiB): 70,000 bytes pass the size check, 1.1 MB do not.
    fits = "# padding\n" * 7000
    response = client.post(path, content=fits, headers={**auth(keys.admin), "Content-Type": "application/yaml"})
    assert response.status_code != 413
    huge = "# padding\n" * 110_000
    response = client.post(path, content=huge, headers={**auth(keys.admin), "Content-Type": "application/yaml"})
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    chunks = (b"# padding\n" * 10_000 for _ in range(11))  # no Content-Length: counted as it arrives
    streamed = client.post(path, content=chunks, headers={**auth(keys.admin), "Content-Type": "application/yaml"})
    assert streamed.status_code == 413


def test_other_media_types_are_415_and_text_fields_422(client: TestClient, keys: Keys) -> None:
    as_json = client.post("/v1/manifests/validate", json={"files": example()}, headers=auth(keys.admin))
    assert as_json.status_code == 415
    assert as_json.headers["content-type"] == PROBLEM
    urlencoded = client.post("/v1/manifests/validate", data={"sites.yaml": "kind: Site"}, headers=auth(keys.admin))
    assert urlencoded.status_code == 415
    field = client.post(
        "/v1/manifests/validate", data={"sites.yaml": "kind: Site"}, files=form(example()), headers=auth(keys.admin)
    )
    assert field.status_code == 422
    assert field.json()["errors"][0]["field"] == "body.sites.yaml"


def test_a_file_sent_twice_or_not_utf8_is_a_manifest_error(client: TestClient, keys: Keys) -> None:
    files = form(example())
    files.append(("files", ("sites.yaml", b"\xff\xfe not text", "application/yaml")))
    response = client.post("/v1/manifests/validate", files=files, headers=auth(keys.admin))
    assert response.status_code == 422
    assert any(e["file"] == "sites.yaml" and "twice" in e["message"] for e in response.json()["errors"])
    files[-1] = ("files", ("other.yaml", b"\xff\xfe not text", "application/yaml"))
    response = client.post("/v1/manifests/validate", files=files, headers=auth(keys.admin))
    assert [e["file"] for e in response.json()["errors"]] == ["other.yaml"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 5000 + "]" * 5000, "nested deeper"),
        (LAUGHS, "aliases are expanded"),
        ("kind: Site\n  x: [\n---\n" + LAUGHS, "aliases are expanded"),
    ],
    ids=["deep", "billion-laughs", "laughs-after-a-syntax-error"],
)
def test_yaml_that_would_exhaust_the_reader_is_refused_before_reading(
    client: TestClient, keys: Keys, text: str, message: str
) -> None:
    response = client.post(
        "/v1/manifests/validate", content=text, headers={**auth(keys.admin), "Content-Type": "application/yaml"}
    )
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert any(e["file"] == "manifests.yaml" and message in e["message"] for e in errors)

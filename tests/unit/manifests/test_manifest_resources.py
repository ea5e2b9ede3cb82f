"""Resources: plain specs, stable digests, and networks rebuilt from resources stored in the event log."""

from __future__ import annotations

import json
import shutil
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from microfab.manifests import ManifestErrors, Resource, build_network, digest_of, load_network, load_resources

EXAMPLES = Path(__file__).parents[3] / "examples" / "network"
US = (
    "apiVersion: microfab.dev/v1\nkind: Market\nmetadata: {name: us}\nspec: {country: US, locale: en-US, currency: USD}"
)


def rebuilt(resource: Resource) -> Resource:
    """The resource as the control layer gets it back from the event log: JSON spec, no positions."""
    spec = json.loads(json.dumps(resource.spec))
    return Resource(resource.kind, resource.name, spec, "<log>", resource.line, resource.digest)


def test_resources_are_sorted_by_file_then_document(tmp_path: Path) -> None:
    resources = load_resources(EXAMPLES)
    files = [r.file for r in resources]
    assert files == sorted(files)
    assert [Path(f).name for f in dict.fromkeys(files)][:3] == ["entities.yaml", "lanes.yaml", "markets.yaml"]
    sites = [r.name for r in resources if r.kind == "Site"]
    assert sites == ["ohio", "monterrey", "bavaria", "japan", "vietnam"]
    first_site = next(r for r in resources if r.kind == "Site")
    assert first_site.line == 4  # the document starts after the file's comments


def test_a_single_file_and_yml_suffix(tmp_path: Path) -> None:
    single = tmp_path / "one.yml"
    shutil.copy(EXAMPLES / "markets.yaml", single)
    assert [r.name for r in load_resources(single)] == ["us", "mx", "de", "jp", "vn"]
    (tmp_path / ".hidden").mkdir()
    shutil.copy(EXAMPLES / "sites.yaml", tmp_path / ".hidden" / "sites.yaml")
    (tmp_path / "notes.txt").write_text("not a manifest")
    assert len(load_resources(tmp_path)) == 5


def test_spec_is_plain_json_data_as_written() -> None:
    resources = {(r.kind, r.name): r for r in load_resources(EXAMPLES)}
    network = resources[("Network", "demo")].spec
    assert network["fxRates"][0] == {
        "base": "USD",
        "quote": "EUR",
        "rate": "0.92",
        "asOf": "2026-11-02",
        "source": "ECB reference",
    }
    stand = resources[("Product", "laptop-stand")].spec
    assert stand["routing"][5]["when"] == 'finish in ("anodized-silver", "anodized-black")'
    assert stand["options"][0] == {
        "name": "width",
        "type": "int",
        "min": 250,
        "max": 400,
        "step": 10,
        "default": 300,
        "unit": "mm",
    }
    for resource in resources.values():
        assert json.loads(json.dumps(resource.spec)) == resource.spec
        assert _plain_types_only(resource.spec)


def _plain_types_only(value: object) -> bool:
    if isinstance(value, dict):
        return type(value) is dict and all(type(k) is str and _plain_types_only(v) for k, v in value.items())
    if isinstance(value, list):
        return type(value) is list and all(_plain_types_only(v) for v in value)
    return value is None or type(value) in {str, int, float, bool}


def test_digest_is_sha256_of_canonical_json() -> None:
    resource = next(r for r in load_resources(EXAMPLES) if r.kind == "Market")
    expected = digest_of(resource.kind, resource.name, resource.spec)
    assert resource.digest == expected
    assert len(expected) == 64
    assert digest_of("Market", "us", {"currency": "USD", "country": "US"}) == digest_of(
        "Market", "us", {"country": "US", "currency": "USD"}
    )


def test_digests_are_stable_across_reads_and_layout(tmp_path: Path) -> None:
    text = US + "\n"
    reordered = textwrap.dedent("""\
        # same market, other layout and key order
        kind: Market
        apiVersion: microfab.dev/v1
        metadata:
          name: us
          labels: {team: sales}
        spec:
          currency: USD   # comments do not count
          locale: en-US
          country: US
        """)
    (tmp_path / "a.yaml").write_text(text)
    (tmp_path / "b.yaml").write_text(reordered)
    first, second = load_resources(tmp_path / "a.yaml")[0], load_resources(tmp_path / "b.yaml")[0]
    assert first.digest == second.digest
    assert first == replace(second, file=first.file, line=first.line)


def test_digest_changes_when_the_spec_changes(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(US)
    before = load_resources(path)[0].digest
    path.write_text(path.read_text().replace("en-US", "es-US"))
    assert load_resources(path)[0].digest != before


def test_build_from_loaded_resources_equals_load_network() -> None:
    assert build_network(load_resources(EXAMPLES)) == load_network(EXAMPLES)


def test_build_from_resources_rebuilt_from_the_log() -> None:
    resources = [rebuilt(r) for r in load_resources(EXAMPLES)]
    assert resources == [replace(r, file="<log>") for r in load_resources(EXAMPLES)]  # positions are not compared
    assert build_network(resources) == load_network(EXAMPLES)


def test_errors_about_log_resources_fall_back_to_the_resource_line() -> None:
    resources = [rebuilt(r) for r in load_resources(EXAMPLES)]
    broken = [
        replace(r, spec={**r.spec, "leadTime": "two days"}) if (r.kind, r.name) == ("Lane", "ohio-mx") else r
        for r in resources
    ]
    line = next(r.line for r in resources if r.name == "ohio-mx")

    with pytest.raises(ManifestErrors) as caught:
        build_network(broken)

    [error] = caught.value.errors
    assert (error.file, error.line, error.column, error.field) == ("<log>", line, 1, "spec.leadTime")
    assert "got 'two days'" in error.message


def test_no_network_among_log_resources() -> None:
    resources = [rebuilt(r) for r in load_resources(EXAMPLES) if r.kind != "Network"]
    with pytest.raises(ManifestErrors) as caught:
        build_network(resources)
    assert [(e.file, e.line, e.field) for e in caught.value.errors] == [("<log>", 0, "kind")]


def test_a_syntax_error_in_one_document_hides_nothing_else(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "net")
    markets = tmp_path / "net" / "markets.yaml"
    text = markets.read_text().replace("locale: de-DE", "locale: [de-DE")
    markets.write_text(text)
    (tmp_path / "net" / "lanes.yaml").write_text(
        (EXAMPLES / "lanes.yaml").read_text().replace("to: jp", "to: japan", 1)
    )

    with pytest.raises(ManifestErrors) as caught:
        load_network(tmp_path / "net")

    # The markets after the broken one are read; lanes to the broken 'de' are not reported.
    found = [(Path(e.file).name, e.line, e.field) for e in caught.value.errors]
    lanes_line = next(
        n for n, line in enumerate((tmp_path / "net" / "lanes.yaml").read_text().splitlines(), 1) if "to: japan" in line
    )
    assert found == [
        ("lanes.yaml", lanes_line, "spec.to"),
        ("markets.yaml", text.splitlines().index("  currency: EUR") + 1, ""),
    ]
    assert "known: de, jp, mx, us, vn" in caught.value.errors[0].message


def test_yaml_values_json_cannot_hold(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "apiVersion: microfab.dev/v1\nkind: Market\nmetadata: {name: us}\nspec:\n  country: !custom US\n  x: .inf\n"
    )
    with pytest.raises(ManifestErrors) as caught:
        load_resources(path)
    found = [e for e in caught.value.errors if e.line > 0]  # line 0: this lone file has no Network document
    assert [(e.line, e.field) for e in found] == [(5, "spec.country"), (6, "spec.x")]
    assert "tagged !custom" in found[0].message

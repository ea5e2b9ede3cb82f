"""tests/data/bad_network holds exactly five seeded mistakes; one pass must report all five."""

from __future__ import annotations

from pathlib import Path

import pytest

from microfab.manifests import ManifestErrors, load_network, load_resources

BAD = Path(__file__).parents[2] / "data" / "bad_network"

EXPECTED = [
    # (file, line, column, field, words the message must contain)
    ("lanes.yaml", 17, 3, "spec.to", "unknown Market 'usa'"),
    ("markets.yaml", 17, 3, "spec.language", "unknown field 'language'"),
    (
        "module-types.yaml",
        21,
        3,
        "spec.setupTime",
        "expected a duration like '90s', '15m', '1h30m', '2d', got '15 minutes'",
    ),
    ("modules.yaml", 14, 3, "spec.type", "unknown ModuleType 'cnc-miller'"),
    ("sites.yaml", 1, 1, "apiVersion", "expected 'microfab.dev/v1', got 'microfab.dev/v2'"),
]


def test_all_five_mistakes_are_reported_at_once() -> None:
    with pytest.raises(ManifestErrors) as caught:
        load_network(BAD)

    found = [(Path(e.file).name, e.line, e.column, e.field) for e in caught.value.errors]
    assert found == [expected[:4] for expected in EXPECTED]
    for error, expected in zip(caught.value.errors, EXPECTED, strict=True):
        assert expected[4] in error.message


def test_messages_name_file_line_field_and_suggest_a_fix() -> None:
    with pytest.raises(ManifestErrors) as caught:
        load_network(BAD)

    lines = str(caught.value).splitlines()
    assert len(lines) == 5
    assert lines[0].endswith("lanes.yaml:17:3: spec.to: unknown Market 'usa' (did you mean 'us'?); known: mx, us")
    assert "did you mean 'cnc-mill'?" in lines[3]


def test_load_resources_reports_all_five_too() -> None:
    # The CLI calls load_resources then build_network: the envelope mistake must not hide the others.
    with pytest.raises(ManifestErrors) as caught:
        load_resources(BAD)

    assert [(Path(e.file).name, e.line, e.field) for e in caught.value.errors] == [
        (file, line, field) for file, line, _, field, _ in EXPECTED
    ]

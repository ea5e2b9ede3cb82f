"""Each kind of manifest mistake is reported with its file, exact line, field and what was expected."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from microfab.manifests import ManifestError, ManifestErrors, load_network, load_resources, mapping

HEADER = "apiVersion: microfab.dev/v1\n"

MINIMAL = {
    "network.yaml": """\
        apiVersion: microfab.dev/v1
        kind: Network
        metadata:
          name: tiny
        spec:
          baseCurrency: USD
          fxRates:
            - {base: USD, quote: EUR, rate: "0.92", asOf: 2026-11-02}
        """,
    "sites.yaml": """\
        apiVersion: microfab.dev/v1
        kind: Site
        metadata:
          name: bavaria
        spec:
          country: DE
          region: Bavaria
          timezone: Europe/Berlin
          currency: EUR
          containerSlots: 4
        """,
    "markets.yaml": """\
        apiVersion: microfab.dev/v1
        kind: Market
        metadata:
          name: de
        spec:
          country: DE
          locale: de-DE
          currency: EUR
        """,
    "lanes.yaml": """\
        apiVersion: microfab.dev/v1
        kind: Lane
        metadata:
          name: bavaria-de
        spec:
          from: bavaria
          to: de
          leadTime: 1d
          costPerKg: 0.45 USD
        """,
    "module-types.yaml": """\
        apiVersion: microfab.dev/v1
        kind: ModuleType
        metadata:
          name: cutter
        spec:
          capabilities: [laser-cut, engrave]
          setupTime: 10m
          mtbf: 400h
          mttr: 1h
          yield: 0.99
          costPerHour: 70 USD
          deployLeadTime: 30d
          slots: 2
        """,
    "modules.yaml": """\
        apiVersion: microfab.dev/v1
        kind: Module
        metadata:
          name: bavaria-cutter
        spec:
          type: cutter
          site: bavaria
        """,
    "products.yaml": """\
        apiVersion: microfab.dev/v1
        kind: Product
        metadata:
          name: tag
        spec:
          family: tags
          currency: USD
          price: '9 + (2 if engraving == "name" else 0)'
          mass: "0.05"
          options:
            - name: engraving
              type: enum
              values: [none, name]
              default: none
          routing:
            - {name: cut, capability: laser-cut, duration: 2m}
            - {name: engrave, capability: engrave, duration: 1m, when: 'engraving == "name"'}
          bom:
            - {item: steel-sheet, quantity: "0.05", unit: kg, unitCost: 1.10 USD}
        """,
}


def write(folder: Path, **overrides: str | None) -> Path:
    """Write MINIMAL with *overrides* (file name with '_' for '-' and '.'; None removes the file)."""
    files = dict(MINIMAL)
    for key, text in overrides.items():
        name = key.replace("__", ".").replace("_", "-")
        if text is None:
            files.pop(name)
        else:
            files[name] = text
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def errors(folder: Path) -> list[ManifestError]:
    with pytest.raises(ManifestErrors) as caught:
        load_network(folder)
    return caught.value.errors


def line_of(folder: Path, name: str, needle: str, nth: int = 1) -> int:
    """1-based line of the *nth* line of *name* that contains *needle*."""
    hits = [n for n, line in enumerate((folder / name).read_text().splitlines(), 1) if needle in line]
    return hits[nth - 1]


def only(found: list[ManifestError]) -> ManifestError:
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


def replace(name: str, old: str, new: str) -> str:
    text = textwrap.dedent(MINIMAL[name])
    assert old in text
    return text.replace(old, new)


def test_the_minimal_network_is_valid(tmp_path: Path) -> None:
    network = load_network(write(tmp_path))
    assert network.name == "tiny"
    tag = network.product("tag")
    assert tag.routing_for(tag.configure({"engraving": "name"}))[1].name == "engrave"


# --- YAML and document envelope ------------------------------------------------------------------


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    write(tmp_path, sites__yaml=replace("sites.yaml", "region: Bavaria", "region: [Bavaria"))
    error = only(errors(tmp_path))
    assert Path(error.file).name == "sites.yaml"
    assert error.line == line_of(tmp_path, "sites.yaml", "timezone")
    assert error.field == ""
    assert error.message.startswith("invalid YAML")
    assert str(error) == f"{error.file}:{error.line}:{error.column}: {error.message}"


def test_syntax_errors_of_several_files_come_together_with_other_errors(tmp_path: Path) -> None:
    write(
        tmp_path,
        sites__yaml="a: [1\n",
        markets__yaml="b: {x: 1\n",
        lanes__yaml=replace("lanes.yaml", "leadTime: 1d", "leadTime: soon"),
    )
    found = errors(tmp_path)
    names = [Path(e.file).name for e in found]
    assert names == sorted(names)
    assert {"sites.yaml", "markets.yaml", "lanes.yaml"} <= set(names)


def test_duplicate_yaml_key_is_a_syntax_error(tmp_path: Path) -> None:
    write(tmp_path, markets__yaml=replace("markets.yaml", "  currency: EUR\n", "  currency: EUR\n  currency: USD\n"))
    error = only(errors(tmp_path))
    assert error.line == line_of(tmp_path, "markets.yaml", "currency: USD")
    assert "duplicate key" in error.message


def test_a_document_that_is_not_a_mapping(tmp_path: Path) -> None:
    write(tmp_path, markets__yaml=textwrap.dedent(MINIMAL["markets.yaml"]) + "---\n- just\n- a list\n--- 3\n")
    found = errors(tmp_path)
    assert [e.line for e in found] == [
        line_of(tmp_path, "markets.yaml", "- just"),
        line_of(tmp_path, "markets.yaml", "--- 3"),
    ]
    assert found[1].message.endswith("got 3")
    error = found[0]
    assert "expected a mapping with apiVersion, kind, metadata and spec, got a list" in error.message


def test_missing_api_version(tmp_path: Path) -> None:
    write(tmp_path, markets__yaml=replace("markets.yaml", HEADER, ""))
    error = only(errors(tmp_path))
    assert (error.line, error.field) == (1, "apiVersion")
    assert "missing: expected apiVersion: microfab.dev/v1" in error.message


def test_unknown_kind_lists_the_known_kinds(tmp_path: Path) -> None:
    write(tmp_path, markets__yaml=replace("markets.yaml", "kind: Market", "kind: Markt"))
    error = only(errors(tmp_path))
    assert (error.line, error.field) == (2, "kind")
    assert "unknown kind 'Markt' (did you mean 'Market'?)" in error.message
    assert "Network, Site, Market, Lane, ModuleType, Module, Product" in error.message


def test_unknown_top_level_field(tmp_path: Path) -> None:
    write(tmp_path, markets__yaml=replace("markets.yaml", "kind: Market\n", "kind: Market\nstatus: {}\n"))
    error = only(errors(tmp_path))
    assert (error.line, error.field) == (3, "status")


def test_missing_metadata_name(tmp_path: Path) -> None:
    write(tmp_path, markets__yaml=replace("markets.yaml", "  name: de\n", "  labels: {tier: one}\n"))
    found = errors(tmp_path)
    missing = [e for e in found if e.field == "metadata.name"]
    assert missing
    assert missing[0].line == line_of(tmp_path, "markets.yaml", "metadata:")


@pytest.mark.parametrize("name", ["Bavaria", "-x", "x-", "a_b", "a" * 64])
def test_bad_metadata_name(tmp_path: Path, name: str) -> None:
    write(tmp_path, lanes__yaml=replace("lanes.yaml", "name: bavaria-de", f"name: {name}"))
    error = only(errors(tmp_path))
    assert (error.line, error.field) == (4, "metadata.name")
    assert "expected lowercase letters, digits and '-'" in error.message


def test_missing_spec(tmp_path: Path) -> None:
    text = textwrap.dedent(MINIMAL["markets.yaml"])
    write(tmp_path, markets__yaml=text[: text.index("spec:")])
    error = only(errors(tmp_path))  # the Lane to 'de' is not reported: the market is declared
    assert (error.field, error.message) == ("spec", "expected a mapping, got nothing")


def test_duplicate_kind_and_name_names_both_places(tmp_path: Path) -> None:
    write(tmp_path, more_markets__yaml=MINIMAL["markets.yaml"])
    error = only(errors(tmp_path))
    assert (Path(error.file).name, error.line, error.field) == ("more-markets.yaml", 4, "metadata.name")
    assert f"duplicate Market 'de': already declared at {tmp_path / 'markets.yaml'}:1" in error.message


def test_load_resources_reports_duplicates_too(tmp_path: Path) -> None:
    write(tmp_path, more_markets__yaml=MINIMAL["markets.yaml"])
    with pytest.raises(ManifestErrors) as caught:
        load_resources(tmp_path)
    assert [e.field for e in caught.value.errors] == ["metadata.name"]


def test_no_network_document(tmp_path: Path) -> None:
    write(tmp_path, network__yaml=None)
    error = only(errors(tmp_path))
    assert (error.file, error.line, error.field) == (str(tmp_path), 0, "kind")
    assert "no Network document" in error.message


def test_two_network_documents(tmp_path: Path) -> None:
    write(tmp_path, other_network__yaml=replace("network.yaml", "name: tiny", "name: huge"))
    error = only(errors(tmp_path))
    assert (Path(error.file).name, error.line, error.field) == ("other-network.yaml", 2, "kind")
    assert "a second Network document" in error.message


# --- spec shapes and values -----------------------------------------------------------------------


def test_unknown_spec_field_points_at_the_key(tmp_path: Path) -> None:
    write(tmp_path, sites__yaml=replace("sites.yaml", "  region: Bavaria\n", "  region: Bavaria\n  regoin: x\n"))
    error = only(errors(tmp_path))
    assert (error.line, error.column, error.field) == (8, 3, "spec.regoin")
    assert "unknown field 'regoin' (did you mean 'region'?)" in error.message


def test_unknown_nested_field(tmp_path: Path) -> None:
    text = replace("products.yaml", "unitCost: 1.10 USD}", "unitCost: 1.10 USD, colour: red}")
    write(tmp_path, products__yaml=text)
    error = only(errors(tmp_path))
    assert error.field == "spec.bom[0].colour"
    assert error.line == line_of(tmp_path, "products.yaml", "colour")
    assert "expected one of: item, quantity, unit, unitCost, origin, hsCode, when" in error.message


def test_missing_required_field_says_what_to_write(tmp_path: Path) -> None:
    write(tmp_path, sites__yaml=replace("sites.yaml", "  timezone: Europe/Berlin\n", ""))
    error = only(errors(tmp_path))
    assert (error.line, error.field) == (line_of(tmp_path, "sites.yaml", "spec:"), "spec.timezone")
    assert error.message == "missing: expected an IANA time zone like 'America/Monterrey'"


@pytest.mark.parametrize(
    ("file", "old", "new", "field", "expected"),
    [
        ("sites.yaml", "containerSlots: 4", "containerSlots: four", "spec.containerSlots", "expected a valid integer"),
        ("sites.yaml", "containerSlots: 4", "containerSlots: -1", "spec.containerSlots", "greater than or equal to 0"),
        ("sites.yaml", "country: DE", "country: Germany", "spec.country", "ISO 3166-1 alpha-2"),
        ("sites.yaml", "timezone: Europe/Berlin", "timezone: Europe/Munich", "spec.timezone", "IANA time zone"),
        ("sites.yaml", "currency: EUR", "currency: XYZ", "spec.currency", "ISO 4217"),
        ("markets.yaml", "locale: de-DE", "locale: german", "spec.locale", "BCP 47"),
        ("lanes.yaml", "leadTime: 1d", "leadTime: 1d\n  open: 'no'", "spec.open", "expected a valid boolean"),
        ("lanes.yaml", "costPerKg: 0.45 USD", "costPerKg: 0.45", "spec.costPerKg", "expected money like '38.50 USD'"),
        ("lanes.yaml", "costPerKg: 0.45 USD", "costPerKg: 0.45 ABC", "spec.costPerKg", "ISO 4217 currency code"),
        ("lanes.yaml", "costPerKg: 0.45 USD", "costPerKg: -1 USD", "spec.costPerKg", "expected an amount >= 0"),
        ("lanes.yaml", "leadTime: 1d", "leadTime: 1 day", "spec.leadTime", "expected a duration like"),
        ("module-types.yaml", "yield: 0.99", "yield: 1.5", "spec.yield", "expected a share in (0, 1]"),
        ("module-types.yaml", "mtbf: 400h", "mtbf: 0s", "spec.mtbf", "expected a duration > 0"),
        ("module-types.yaml", "slots: 2", "slots: 0", "spec.slots", "greater than or equal to 1"),
        ("module-types.yaml", "[laser-cut, engrave]", "laser-cut", "spec.capabilities", "expected a valid list"),
        ("products.yaml", 'mass: "0.05"', "mass: 0.05 kg", "spec.mass", "expected a formula in the product language"),
        ("products.yaml", 'quantity: "0.05"', "quantity: lots", "spec.bom[0].quantity", "unknown option 'lots'"),
        ("products.yaml", 'mass: "0.05"', "mass: weight.kg", "spec.mass", "uses attribute access"),
        ("products.yaml", 'mass: "0.05"', "mass: 2 ** 99", "spec.mass", "constant exponent"),
        ("products.yaml", 'mass: "0.05"', "mass: __import__('os')", "spec.mass", "calls __import__"),
        ("products.yaml", "duration: 2m", "duration: 2 minutes", "spec.routing[0].duration", "got '2 minutes'"),
        ("network.yaml", "asOf: 2026-11-02", "asOf: yesterday", "spec.fxRates[0].asOf", "expected a date"),
        ("network.yaml", 'rate: "0.92"', 'rate: "-0.92"', "spec.fxRates[0].rate", "expected a number > 0"),
    ],
)
def test_wrong_values(tmp_path: Path, file: str, old: str, new: str, field: str, expected: str) -> None:
    write(tmp_path, **{file.replace(".", "__").replace("-", "_"): replace(file, old, new)})
    error = only(errors(tmp_path))
    assert (Path(error.file).name, error.field) == (file, field)
    assert error.line == line_of(tmp_path, file, new.splitlines()[-1].strip())
    assert expected in error.message


def test_yaml_floats_for_decimals_go_through_str(tmp_path: Path) -> None:
    network = load_network(write(tmp_path, network__yaml=replace("network.yaml", '"0.92"', "0.1")))
    assert str(network.fx.rate("USD", "EUR")) == "0.1"
    assert str(network.module_types["cutter"].yield_rate) == "0.99"


# --- references across resources -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "old", "new", "field", "expected"),
    [
        (
            "modules.yaml",
            "type: cutter",
            "type: cuter",
            "spec.type",
            "unknown ModuleType 'cuter' (did you mean 'cutter'?)",
        ),
        ("modules.yaml", "site: bavaria", "site: saxony", "spec.site", "unknown Site 'saxony'; known: bavaria"),
        ("lanes.yaml", "from: bavaria", "from: ohio", "spec.from", "unknown Site 'ohio'"),
        ("lanes.yaml", "to: de", "to: at", "spec.to", "unknown Market 'at'; known: de"),
        ("products.yaml", "default: none", "default: nothing", "spec.options[0].default", "'nothing' is not a value"),
        (
            "products.yaml",
            """when: 'engraving == "name"'""",
            """when: 'engrave == "name"'""",
            "spec.routing[1].when",
            "unknown option 'engrave' (did you mean 'engraving'?); known: engraving",
        ),
        (
            "products.yaml",
            """when: 'engraving == "name"'""",
            """when: 'engraving == "logo"'""",
            "spec.routing[1].when",
            "option 'engraving' has no value 'logo'; values: none, name",
        ),
        (
            "products.yaml",
            "capability: engrave",
            "capability: etch",
            "spec.routing[1].capability",
            "no ModuleType offers",
        ),
        ("products.yaml", "unitCost: 1.10 USD", "unitCost: 1.10 EUR", "spec.bom[0].unitCost", "USD"),
        ("sites.yaml", "containerSlots: 4", "containerSlots: 1", "spec.containerSlots", "need 2 slots"),
    ],
)
def test_dangling_references(tmp_path: Path, file: str, old: str, new: str, field: str, expected: str) -> None:
    write(tmp_path, **{file.replace(".", "__").replace("-", "_"): replace(file, old, new)})
    error = only(errors(tmp_path))
    assert (Path(error.file).name, error.field) == (file, field)
    assert error.line == line_of(tmp_path, file, new.splitlines()[-1].strip())
    assert expected in error.message


def test_rules_are_checked_at_their_lines(tmp_path: Path) -> None:
    rules = (
        "  rules:\n"
        "    - {id: r1, type: linear, message: 'too many', expr: 'engraving_count > 3'}\n"
        "    - {id: r2, type: table, message: 'm', options: [engraving], rows: [[logo]]}\n"
        "  routing:"
    )
    text = replace("products.yaml", "  routing:", rules)
    found = errors(write(tmp_path, products__yaml=text))
    assert [(e.field, e.line) for e in found] == [
        ("spec.rules[0].expr", line_of(tmp_path, "products.yaml", "id: r1")),
        ("spec.rules[1].rows[0]", line_of(tmp_path, "products.yaml", "id: r2")),
    ]
    assert "unknown option 'engraving_count'" in found[0].message
    assert "option 'engraving' has no value 'logo'" in found[1].message


def test_rules_that_admit_nothing_are_an_error(tmp_path: Path) -> None:
    rules = (
        "  rules:\n"
        "    - {id: named, type: implies, message: 'always named', when: ['True'], then: 'engraving == \"name\"'}\n"
        "    - {id: plain, type: linear, message: 'never named', expr: 'engraving != \"name\"'}\n"
        "  routing:"
    )
    error = only(errors(write(tmp_path, products__yaml=replace("products.yaml", "  routing:", rules))))
    assert error.field == "spec.rules"
    assert "admit no configuration" in error.message
    assert "named" in error.message
    assert "plain" in error.message


def test_missing_fx_rate_for_a_currency_in_use(tmp_path: Path) -> None:
    write(tmp_path, markets__yaml=replace("markets.yaml", "currency: EUR", "currency: CHF"))
    error = only(errors(tmp_path))
    assert (Path(error.file).name, error.field) == ("markets.yaml", "spec.currency")
    assert "no FX rate between CHF and USD" in error.message


def test_replicas_expand_and_colliding_names_are_reported(tmp_path: Path) -> None:
    modules = replace("modules.yaml", "site: bavaria", "site: bavaria\n  replicas: 2")
    network = load_network(write(tmp_path, modules__yaml=modules, sites__yaml=replace("sites.yaml", ": 4", ": 8")))
    assert sorted(network.modules) == ["bavaria-cutter-1", "bavaria-cutter-2"]

    clash = replace("modules.yaml", "name: bavaria-cutter", "name: bavaria-cutter-2")
    write(tmp_path, modules__yaml=modules, more_modules__yaml=clash, sites__yaml=replace("sites.yaml", ": 4", ": 8"))
    error = only(errors(tmp_path))
    assert error.field == "metadata.name"
    assert "'bavaria-cutter-2' is already used by Module/bavaria-cutter" in error.message


def test_duplicate_option_is_reported_once(tmp_path: Path) -> None:
    text = textwrap.dedent(MINIMAL["products.yaml"])
    options = text[text.index("    - name: engraving") : text.index("  routing:")]
    write(tmp_path, products__yaml=text.replace(options, options * 2))
    error = only(errors(tmp_path))
    assert (error.field, error.line) == (
        "spec.options[1].name",
        line_of(tmp_path, "products.yaml", "name: engraving", 2),
    )


def test_a_broken_document_does_not_cascade(tmp_path: Path) -> None:
    broken = replace("module-types.yaml", "mtbf: 400h", "mtbf: [400h]")
    error = only(errors(write(tmp_path, module_types__yaml=broken)))
    assert error.field == "spec.mtbf"


def test_domain_value_errors_surface_at_their_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str, spec: object) -> object:
        raise ValueError("container_slots: expected an even number, got 4")

    monkeypatch.setattr(mapping, "_site", refuse)
    error = only(errors(write(tmp_path)))
    assert (error.field, error.line, error.message) == (
        "spec.containerSlots",
        line_of(tmp_path, "sites.yaml", "containerSlots"),
        "expected an even number, got 4",
    )


def test_all_errors_of_all_files_sorted_by_file_then_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        sites__yaml=replace("sites.yaml", "currency: EUR", "currency: euro").replace("Berlin", "Paris!"),
        lanes__yaml=replace("lanes.yaml", "to: de", "to: fr"),
        products__yaml=replace("products.yaml", "duration: 2m", "duration: 2 min").replace(
            "duration: 1m", "duration: x"
        ),
    )
    found = errors(tmp_path)
    assert [(Path(e.file).name, e.field) for e in found] == [
        ("lanes.yaml", "spec.to"),
        ("products.yaml", "spec.routing[0].duration"),
        ("products.yaml", "spec.routing[1].duration"),
        ("sites.yaml", "spec.timezone"),
        ("sites.yaml", "spec.currency"),
    ]
    assert found == sorted(found, key=lambda e: (e.file, e.line))


def test_manifest_errors_lists_one_error_per_line() -> None:
    errors_ = ManifestErrors(
        [ManifestError("b.yaml", 3, 1, "spec.x", "bad"), ManifestError("a.yaml", 9, 2, "kind", "worse")]
    )
    assert str(errors_) == "a.yaml:9:2: kind: worse\nb.yaml:3:1: spec.x: bad"
    assert [e.file for e in errors_.errors] == ["a.yaml", "b.yaml"]


def test_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(ManifestErrors) as caught:
        load_network(tmp_path / "nowhere")
    assert only(caught.value.errors).message == "no such file or folder"


LANE = textwrap.dedent(MINIMAL["lanes.yaml"])


@pytest.mark.parametrize(
    ("text", "line", "field", "expected"),
    [
        (LANE.replace("kind: Lane\n", ""), 1, "kind", "missing: expected one of Network, Site"),
        (LANE.replace("metadata:\n  name: bavaria-de", "metadata: bavaria-de"), 3, "metadata", "expected a mapping"),
        (LANE.replace("name: bavaria-de", "name: 42"), 4, "metadata.name", "expected text, got 42"),
        (LANE.replace("name: bavaria-de", "name: bavaria-de\n  labels: [a]"), 5, "metadata.labels", "text to text"),
        (LANE.replace("name: bavaria-de", "name: bavaria-de\n  labels: {a: 1}"), 5, "metadata.labels.a", "got 1"),
        (LANE[: LANE.index("spec:")] + "spec: [from, to]\n", 5, "spec", "expected a mapping, got ['from', 'to']"),
        (LANE.replace("  to: de", "  to: de\n  7: seven"), 8, "spec.7", "expected a text key, got 7"),
    ],
)
def test_envelope_mistakes(tmp_path: Path, text: str, line: int, field: str, expected: str) -> None:
    error = only(errors(write(tmp_path, lanes__yaml=text)))
    assert (error.line, error.field) == (line, field)
    assert expected in error.message


def test_empty_documents_and_comment_only_files_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, lanes__yaml="---\n" + LANE + "---\n", notes__yaml="# nothing here yet\n")
    assert len(load_network(tmp_path).lanes) == 1


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    write(tmp_path)
    (tmp_path / "latin1.yaml").write_bytes("region: Nürnberg\n".encode("latin-1"))
    error = only(errors(tmp_path))
    assert (Path(error.file).name, error.line) == ("latin1.yaml", 0)
    assert "cannot read the file" in error.message


def test_routing_step_and_value_names_are_unique(tmp_path: Path) -> None:
    text = replace("products.yaml", "{name: engrave,", "{name: cut,").replace(
        "values: [none, name]", "values: [none, none]"
    )
    found = errors(write(tmp_path, products__yaml=text))
    assert [(e.field, e.message.split(": ")[-1]) for e in found] == [
        ("spec.price", "none, none"),
        ("spec.options[0].values", "option 'engraving' lists a value twice"),
        ("spec.routing[1].name", "step name 'cut' is used twice in the routing"),
        ("spec.routing[1].when", "none, none"),
    ]


def test_a_billion_laughs_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    bomb = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    bomb += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    (tmp_path / "bomb.yaml").write_text("\n".join(bomb) + "\n", encoding="utf-8")
    (tmp_path / "deep.yaml").write_text("[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ManifestErrors) as caught:
        load_resources(tmp_path)
    text = str(caught.value)
    assert "bomb.yaml:" in text
    assert "values once aliases are expanded" in text
    assert "deep.yaml:1:" in text
    assert "nested deeper than 64 levels" in text

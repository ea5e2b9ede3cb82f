"""Legal entities in manifests: registrations checked offline, brands per market, each mistake at file:line:field."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from microfab.domain.entities import Scheme
from microfab.domain.network import Network
from microfab.manifests import ManifestErrors, load_network
from microfab.manifests.entity_mapping import check_number

EXAMPLES = Path(__file__).parents[3] / "examples" / "network"

Edit = tuple[str, str, str]  # (file, old text, new text): the first occurrence is replaced


@pytest.fixture(scope="module")
def network() -> Network:
    return load_network(EXAMPLES)


def _folder(tmp_path: Path, *edits: Edit, extra: str = "") -> Path:
    folder = tmp_path / "network"
    shutil.copytree(EXAMPLES, folder)
    for file, old, new in edits:
        path = folder / file
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} is not in {file}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    if extra:
        (folder / "extra.yaml").write_text(extra, encoding="utf-8")
    return folder


def _errors(folder: Path) -> list[tuple[str, int, str, str]]:
    with pytest.raises(ManifestErrors) as caught:
        load_network(folder)
    return [(Path(e.file).name, e.line, e.field, e.message) for e in caught.value.errors]


def _line(folder: Path, file: str, text: str, after: str = "", nth: int = 0) -> int:
    """The 1-based line of the *nth* *text* in *file* (after the first line holding *after*)."""
    lines = (folder / file).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return [i for i, line in enumerate(lines) if i >= start and text in line][nth] + 1


# ---------------------------------------------------------------- the example


def test_the_example_entities_map_to_the_domain(network: Network) -> None:
    assert sorted(network.entities) == ["microfab-de", "microfab-jp", "microfab-mx", "microfab-us", "microfab-vn"]
    de = network.entity("microfab-de")
    assert (de.legal_name, de.country, de.currency) == ("Microfab Deutschland GmbH", "DE", "EUR")
    assert de.address.lines() == ("Leopoldstraße 120", "80802 München", "Bayern", "DE")
    assert de.registration(Scheme.DE_VAT_ID) == "DE314782650"
    assert de.registration(Scheme.DE_STEUERNUMMER) == "14324760318"  # compacted from 143/247/60318
    assert de.series_named("invoice").format(2026, 42) == "RE2026-00042"
    us = network.entity("microfab-us")
    assert us.registration(Scheme.US_EIN) == "352718294"
    assert us.registration(Scheme.US_SALES_TAX_PERMIT, "OH") == "25-0451873"
    assert [(s.name, s.prefix) for s in us.series] == [("invoice", "INV"), ("credit", "CR")]  # the defaults
    assert us.series_named("credit").format(2026, 7) == "CR-2026-000007"
    mx = network.entity("microfab-mx")
    assert (mx.registration(Scheme.MX_RFC), mx.registration(Scheme.MX_REGIMEN_FISCAL)) == ("MFM240115K72", "601")
    jp = network.entity("microfab-jp")
    assert jp.legal_name == "株式会社マイクロファブ・ジャパン"
    assert jp.registration(Scheme.JP_INVOICE_REGISTRATION) == "T" + str(jp.registration(Scheme.JP_CORPORATE_NUMBER))
    assert network.entity("microfab-vn").registration(Scheme.VN_TAX_CODE) == "2300975314"
    assert all(not e.missing_registrations() for e in network.entities.values())


def test_markets_and_sites_name_their_entities(network: Network) -> None:
    assert {m.name: m.entity for m in network.markets.values()} == {
        "us": "microfab-us",
        "mx": "microfab-mx",
        "de": "microfab-de",
        "jp": "microfab-jp",
        "vn": "microfab-vn",
    }
    assert {s.name: s.entity for s in network.sites.values()} == {
        "ohio": "microfab-us",
        "monterrey": "microfab-mx",
        "bavaria": "microfab-de",
        "japan": "microfab-jp",
        "vietnam": "microfab-vn",
    }


def test_brands_per_market_and_locale(network: Network) -> None:
    assert {m.name: sorted(m.brands) for m in network.markets.values()} == {
        "us": ["en-US"],
        "mx": ["en-US", "es-MX"],
        "de": ["de-DE", "en-US"],
        "jp": ["en-US", "ja-JP"],
        "vn": ["en-US", "vi-VN"],
    }
    for market in network.markets.values():
        brand = market.brands[market.locale]
        assert brand.name
        assert brand.tagline
        assert brand.support
        assert brand.legal_footer
    german = network.market("de").brands["de-DE"]
    assert "Amtsgericht München, HRB" in german.legal_footer
    assert "USt-IdNr.: DE314782650" in german.legal_footer
    assert "登録番号：T9180001045217" in network.market("jp").brands["ja-JP"].legal_footer
    assert "Mã số thuế: 2300975314" in network.market("vn").brands["vi-VN"].legal_footer
    assert "RFC MFM240115K72" in network.market("mx").brands["es-MX"].legal_footer


def test_transfer_markups_per_family(network: Network) -> None:
    assert network.transfer.markup("stands") == Decimal("0.15")
    assert network.transfer.markup("risers") == Decimal("0.12")
    assert network.transfer.markup("planters") == Decimal("0.10")


def test_the_example_numbers_pass_stdnum() -> None:
    assert check_number(Scheme.MX_RFC, "MFM 240115 K72") == "MFM240115K72"
    assert check_number(Scheme.DE_VAT_ID, "DE 314 782 650") == "DE314782650"
    assert check_number(Scheme.DE_STEUERNUMMER, "9143024760318", "BY") == "9143024760318"  # the federal form
    assert check_number(Scheme.JP_INVOICE_REGISTRATION, "T-9180-0010-4521-7") == "T9180001045217"
    assert check_number(Scheme.US_EIN, "35-2718294") == "352718294"


def test_a_network_without_entities_keeps_working(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "entities.yaml").unlink()
    for file in ("markets.yaml", "sites.yaml"):
        path = folder / file
        path.write_text(re.sub(r"(?m)^  entity: .*\n", "", path.read_text(encoding="utf-8")), encoding="utf-8")
    network = load_network(folder)
    assert not network.entities
    assert {m.entity for m in network.markets.values()} == {s.entity for s in network.sites.values()} == {""}


# ---------------------------------------------------------------- bad registrations


@pytest.mark.parametrize(
    ("good", "bad", "scheme", "reason"),
    [
        ('"MFM240115K72"', '"MFM240115K73"', "mx-rfc", "invalid checksum"),
        ('"DE314782650"', '"DE314782651"', "de-vat-id", "invalid checksum"),
        ('"9180001045217"}', '"8180001045217"}', "jp-corporate-number", "invalid checksum"),
        ('"T9180001045217"', '"T9180001045218"', "jp-invoice-registration", "invalid checksum"),
        ('"T9180001045217"', '"9180001045217"', "jp-invoice-registration", "starts with 'T'"),
        ('"2300975314"', '"2300975315"', "vn-tax-code", "invalid checksum"),
        ('"35-2718294"', '"352-718294"', "us-ein", "invalid format"),
        ('"35-2718294"', '"07-2718294"', "us-ein", "no IRS campus issues the prefix '07'"),
        ('"143/247/60318"', '"143/247/6031"', "de-steuernummer", "invalid format"),
        ('"601"', '"699"', "mx-regimen-fiscal", "c_RegimenFiscal"),
    ],
)
def test_an_invalid_number_is_reported_at_its_line(
    tmp_path: Path, good: str, bad: str, scheme: str, reason: str
) -> None:
    folder = _folder(tmp_path, ("entities.yaml", f"number: {good}", f"number: {bad}"))
    (error,) = _errors(folder)
    file, line, field, message = error
    assert (file, line) == ("entities.yaml", _line(folder, "entities.yaml", f"scheme: {scheme},"))
    assert re.fullmatch(r"spec\.registrations\[\d\]\.number", field)
    written = bad.strip('"}')
    assert f"expected a valid {scheme}, got {written!r}" in message
    assert reason in message


def test_a_t_number_must_be_t_plus_the_corporate_number(tmp_path: Path) -> None:
    other = check_number(Scheme.JP_CORPORATE_NUMBER, "6180301045217")
    folder = _folder(tmp_path, ("entities.yaml", '"T9180001045217"', f'"T{other}"'))
    (error,) = _errors(folder)
    assert error[:3] == ("entities.yaml", _line(folder, "entities.yaml", f"T{other}"), "spec.registrations[1].number")
    assert "expected 'T9180001045217'" in error[3]


def test_a_sales_tax_permit_needs_a_us_state(tmp_path: Path) -> None:
    folder = _folder(tmp_path, ("entities.yaml", "us-sales-tax-permit, region: OH,", "us-sales-tax-permit,"))
    (error,) = _errors(folder)
    assert error[:3] == (
        "entities.yaml",
        _line(folder, "entities.yaml", "us-sales-tax-permit"),
        "spec.registrations[1].region",
    )
    assert "expected the US state that issued the permit, like 'OH'" in error[3]


def test_an_unquoted_number_is_refused_before_yaml_drops_its_zeros(tmp_path: Path) -> None:
    folder = _folder(tmp_path, ("entities.yaml", 'number: "2300975314"', "number: 0300975314"))
    (error,) = _errors(folder)
    assert error[2] == "spec.registrations[0].number"
    assert "expected the number as quoted text" in error[3]


def test_an_unknown_scheme_is_named_with_a_suggestion(tmp_path: Path) -> None:
    folder = _folder(tmp_path, ("entities.yaml", "scheme: vn-tax-code", "scheme: vn-tax-id"))
    (error,) = _errors(folder)
    assert error[:3] == ("entities.yaml", _line(folder, "entities.yaml", "vn-tax-id"), "spec.registrations[0].scheme")
    assert "expected a registration scheme, one of us-ein" in error[3]
    assert "(did you mean 'vn-tax-code'?)" in error[3]


def test_an_entity_without_the_registration_its_country_requires(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path, ("entities.yaml", '    - {scheme: jp-invoice-registration, number: "T9180001045217"}', "")
    )
    (error,) = _errors(folder)
    line = _line(folder, "entities.yaml", "registrations:", after="name: microfab-jp")
    assert error[:3] == ("entities.yaml", line, "spec.registrations")
    assert error[3] == "a JP entity needs jp-invoice-registration"


def test_a_registration_declared_twice(tmp_path: Path) -> None:
    twice = '    - {scheme: vn-tax-code, number: "2300975314"}'
    folder = _folder(tmp_path, ("entities.yaml", twice, f"{twice}\n{twice}"))
    (error,) = _errors(folder)
    assert error[2] == "spec.registrations[1].scheme"
    assert "vn-tax-code is already registered at registrations[0]" in error[3]


def test_a_yearly_series_needs_the_year_in_its_pattern(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        (
            "entities.yaml",
            'prefix: RE, pattern: "{prefix}{year}-{number:05d}"',
            'prefix: RE, pattern: "{prefix}-{number:05d}"',
        ),
    )
    (error,) = _errors(folder)
    assert error[:3] == ("entities.yaml", _line(folder, "entities.yaml", "prefix: RE"), "spec.invoiceSeries[0].pattern")
    assert "needs {year}" in error[3]


# ---------------------------------------------------------------- references and brands


def test_an_unknown_entity_is_named_with_a_suggestion(tmp_path: Path) -> None:
    folder = _folder(tmp_path, ("sites.yaml", "entity: microfab-mx", "entity: microfab-mex"))
    (error,) = _errors(folder)
    assert error[:3] == ("sites.yaml", _line(folder, "sites.yaml", "microfab-mex"), "spec.entity")
    assert error[3].startswith("unknown Entity 'microfab-mex' (did you mean 'microfab-mx'?); known: microfab-de,")


def test_a_market_without_a_selling_entity(tmp_path: Path) -> None:
    folder = _folder(tmp_path, ("markets.yaml", "  entity: microfab-de\n", ""))
    (error,) = _errors(folder)
    assert error[:3] == ("markets.yaml", _line(folder, "markets.yaml", "spec:", after="name: de"), "spec")
    assert error[3].startswith("a market needs a selling entity: add spec.entity, one of microfab-de")


def test_a_site_without_an_operating_entity(tmp_path: Path) -> None:
    folder = _folder(tmp_path, ("sites.yaml", "  entity: microfab-jp\n", ""))
    (error,) = _errors(folder)
    assert error[:3] == ("sites.yaml", _line(folder, "sites.yaml", "spec:", after="name: japan"), "spec")
    assert error[3].startswith("a site needs an operating entity: add spec.entity")


def test_brands_need_one_per_locale_and_the_markets_own(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        (
            "markets.yaml",
            "    - locale: en-US\n      name: Microfab Vietnam",
            "    - locale: vi-VN\n      name: Microfab Vietnam",
        ),
        ("markets.yaml", "    - locale: es-MX\n", "    - locale: es-ES\n"),
    )
    errors = _errors(folder)
    assert [e[:3] for e in errors] == [
        ("markets.yaml", _line(folder, "markets.yaml", "brands:", after="name: mx"), "spec.brands"),
        (
            "markets.yaml",
            _line(folder, "markets.yaml", "- locale: vi-VN", after="name: vn", nth=1),
            "spec.brands[1].locale",
        ),
    ]
    assert "a brand for the market's locale es-MX is missing (brands for: es-ES, en-US)" in errors[0][3]
    assert "a brand for vi-VN is already declared" in errors[1][3]


def test_transfer_pricing_mistakes(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        ("network.yaml", '{family: stands, markup: "0.15"}', '{family: stand, markup: "0.15"}'),
        ("network.yaml", '{family: risers, markup: "0.12"}', '{family: risers, markup: "1.5"}'),
    )
    errors = {e[2]: e for e in _errors(folder)}
    assert set(errors) == {"spec.transferPricing[0].family", "spec.transferPricing[1].markup"}
    family = errors["spec.transferPricing[0].family"]
    assert family[1] == _line(folder, "network.yaml", "family: stand,")
    assert "unknown product family 'stand' (did you mean 'stands'?)" in family[3]
    assert "expected a share in [0, 1], like '0.10', got '1.5'" in errors["spec.transferPricing[1].markup"][3]


def test_every_entity_mistake_is_reported_at_once(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        ("entities.yaml", '"MFM240115K72"', '"MFM240115K73"'),
        ("entities.yaml", '"DE314782650"', '"DE314782651"'),
        ("entities.yaml", "scheme: vn-tax-code", "scheme: vn-tax"),
        ("markets.yaml", "entity: microfab-jp", "entity: microfab-japan"),
        ("sites.yaml", "  entity: microfab-us    #", "  #"),
    )
    errors = _errors(folder)
    assert {(file, field) for file, _, field, _ in errors} == {
        ("entities.yaml", "spec.registrations[0].number"),
        ("entities.yaml", "spec.registrations[0].scheme"),
        ("markets.yaml", "spec.entity"),
        ("sites.yaml", "spec"),
    }
    assert len(errors) == 5  # two entities have a bad number at registrations[0]

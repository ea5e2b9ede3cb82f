"""Trade data in manifests: tax jurisdictions, tariffs, agreements and FX rates; each mistake at file:line:field."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from microfab.domain.trade import Combine, CustomsBasis, PriceDisplay, RoundingLevel, ShiftLevel, ValueMethod
from microfab.manifests import ManifestErrors, load_network

EXAMPLES = Path(__file__).parents[3] / "examples" / "network"


def _network_with(tmp_path: Path, extra: str, *, replace: tuple[str, str, str] | None = None) -> Path:
    folder = tmp_path / "network"
    shutil.copytree(EXAMPLES, folder)
    (folder / "extra.yaml").write_text(extra, encoding="utf-8")
    if replace is not None:
        path = folder / replace[0]
        path.write_text(path.read_text(encoding="utf-8").replace(replace[1], replace[2], 1), encoding="utf-8")
    return folder


def _errors(folder: Path) -> list[tuple[str, int, str, str]]:
    with pytest.raises(ManifestErrors) as caught:
        load_network(folder)
    return [(Path(e.file).name, e.line, e.field, e.message) for e in caught.value.errors]


def test_the_example_trade_data_maps_to_the_domain() -> None:
    trade = load_network(EXAMPLES).trade
    de = trade.tax.resolve("DE")
    assert (de.tax_name, de.display_b2c, de.display_b2b) == ("USt", PriceDisplay.INCLUSIVE, PriceDisplay.EXCLUSIVE)
    jp = trade.tax.resolve("JP")
    assert jp.rounding_level == RoundingLevel.DOCUMENT
    assert not trade.tax.resolve("US-OH").import_vat
    usmca = next(a for a in trade.agreements if a.name == "USMCA")
    rule = usmca.rule_for("7616.99")
    assert rule is not None
    assert (rule.combine, rule.shift) == (Combine.SHIFT_OR_VALUE, ShiftLevel.HEADING)
    assert rule.values[ValueMethod.NET_COST] == Decimal(50)
    us = trade.tariff_for("US")
    assert us is not None
    assert us.basis == CustomsBasis.FOB
    assert {e.name for e in us.extra} >= {"Section 301 (China)", "IEEPA (Mexico)"}


OVERLAP = """apiVersion: microfab.dev/v1
kind: TaxJurisdiction
metadata:
  name: us-ca
spec:
  code: US-CA
  taxName: Sales tax
  importVat: false
  rates:
    - {category: "*", rate: "0.0725", from: 2017-01-01}
    - {category: "*", rate: "0.075", from: 2026-01-01}
"""


def test_overlapping_tax_rates_are_a_manifest_error(tmp_path: Path) -> None:
    errors = _errors(_network_with(tmp_path, OVERLAP))
    assert len(errors) == 1
    file, line, field, message = errors[0]
    assert (file, line, field) == ("extra.yaml", 9, "spec.rates")
    assert "'*' has overlapping effective dates 2017-01-01.. and 2026-01-01.." in message


def test_overlapping_fx_rates_are_a_manifest_error(tmp_path: Path) -> None:
    twice = '    - {base: USD, quote: EUR, rate: "0.92", asOf: 2026-11-02, source: "ECB reference"}\n'
    folder = _network_with(tmp_path, "", replace=("network.yaml", twice, twice + twice.replace("0.92", "0.93")))
    (errors,) = _errors(folder)
    assert errors[:3] == ("network.yaml", 19, "spec.fxRates")
    assert "USD/EUR" in errors[3]
    assert "2026-11-02" in errors[3]


def test_a_market_in_an_undeclared_jurisdiction_is_named(tmp_path: Path) -> None:
    folder = _network_with(tmp_path, "", replace=("markets.yaml", "US-OH-FRANKLIN", "US-WA-SEATTLE"))
    (error,) = _errors(folder)
    assert error[:3] == ("markets.yaml", 14, "spec.taxJurisdiction")
    assert "no tax jurisdiction 'US-WA-SEATTLE' is declared" in error[3]


BAD_TRADE = """apiVersion: microfab.dev/v1
kind: TradeAgreement
metadata:
  name: eu-vn
spec:
  members: [VN, DE]
  rules:
    - {hs: "7616", combine: shift-or-value, values: {maxnom: 50}}
---
apiVersion: microfab.dev/v1
kind: Tariff
metadata:
  name: ca
spec:
  countries: [CA]
  basis: DDP
  currency: CAD
---
apiVersion: microfab.dev/v1
kind: TaxJurisdiction
metadata:
  name: germany-again
spec:
  code: de
  taxName: MwSt
  rates:
    - {category: "*", rate: "nineteen", from: 2007-01-01}
"""


def test_each_trade_mistake_is_reported_at_its_field(tmp_path: Path) -> None:
    errors = {(e[0], e[1], e[2]): e[3] for e in _errors(_network_with(tmp_path, BAD_TRADE))}
    assert "names no shift level" in errors[("extra.yaml", 7, "spec.rules")]
    assert "FOB" in errors[("extra.yaml", 16, "spec.basis")]
    assert "decimal number" in errors[("extra.yaml", 27, "spec.rates[0].rate")]

"""``microfab quote``: the localized table in the buyer's language, JSON with exact amounts, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from microfab.cli.main import app
from tests.e2e.conftest import EXAMPLE

pytestmark = pytest.mark.e2e
runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('quote') / 'log.db'}"
    result = runner.invoke(app, ["apply", str(EXAMPLE), "--db", url])
    assert result.exit_code == 0, result.output
    return url


def invoke(db: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["quote", *args, "--db", db])
    return result.exit_code, result.output


def test_a_german_consumer_sees_a_german_quote_with_vat_included(db: str) -> None:
    code, out = invoke(db, "laptop-stand", "--market", "de", "--b2c", "--qty", "2")
    assert code == 0, out
    assert "Preis inkl. USt" in out or "Price incl. USt" in out  # the catalog may still be filling in
    assert "194,87\xa0€" in out  # 2 x 81.88 = 163.76 + 19 % (31.11)
    assert "bavaria ✔" in out
    assert "Made in Germany" in out


def test_json_carries_every_site_and_exact_amounts(db: str) -> None:
    code, out = invoke(db, "laptop-stand", "--market", "jp", "--b2c", "--config", '{"width": 300}', "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["currency"] == "JPY"
    assert data["unit_net"] == "13279"
    assert data["tax"] == {"name": "消費税", "rate": "0.10", "amount": "1327"}
    assert data["display"] == "inclusive"
    assert data["chosen_site"] == "japan"
    sites = {s["site"]: s for s in data["sites"]}
    assert sites["vietnam"]["agreement"] == "CPTPP"
    assert sites["vietnam"]["originating"] is True
    assert sites["bavaria"] == {
        "site": "bavaria",
        "country": "DE",
        "eligible": False,
        "reason": "no open lane to market jp",
    }
    assert "sign" in sites["japan"]["review_note"]


def test_a_us_business_buyer_in_new_york_pays_new_york_sales_tax_on_a_separate_line(db: str) -> None:
    code, out = invoke(db, "laptop-stand", "--market", "us", "--tax-jurisdiction", "US-NY-NYC")
    assert code == 0, out
    assert "Price excl. Sales tax: $89.00" in out
    assert "plus 8.875% Sales tax: $7.90" in out


def test_an_unknown_locale_falls_back_with_a_notice(db: str) -> None:
    code, out = invoke(db, "laptop-stand", "--market", "mx", "--locale", "xx-NOPE", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["locale"] == "es-MX"
    assert "xx-NOPE" in data["warnings"][0]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("laptop-stand", "--market", "fr"), "unknown market 'fr'"),
        (("laptop-stand", "--market", "de", "--currency", "XYZ"), "ISO 4217"),
        (("laptop-stand", "--market", "de", "--currency", "GBP"), "no FX rate"),
        (("laptop-stand", "--market", "us", "--tax-jurisdiction", "US-WA"), "no tax jurisdiction 'US-WA'"),
        (("laptop-stand", "--market", "de", "--config", "{width: 300"), "--config: expected a JSON object"),
        (("laptop-stand", "--market", "de", "--config", '{"usb_hub": true, "material": "walnut"}'), "usb-hub"),
    ],
)
def test_bad_input_is_one_clear_line(db: str, args: tuple[str, ...], words: str) -> None:
    code, out = invoke(db, *args)
    assert code == 1, out
    assert out.startswith("error: ")
    assert words in out
    assert "Traceback" not in out


def test_quote_writes_nothing(db: str, tmp_path: Path) -> None:
    from microfab.store import open_event_log  # noqa: PLC0415

    log = open_event_log(db)
    before = len(log.read_all())
    log.close()
    assert invoke(db, "laptop-stand", "--market", "vn")[0] == 0
    log = open_event_log(db)
    assert len(log.read_all()) == before
    log.close()

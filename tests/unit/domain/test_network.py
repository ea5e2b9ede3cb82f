"""Sites, markets, FX rates and the network's lookups."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfoNotFoundError

import pytest

from microfab.domain.errors import NoFxRateError, UnknownReferenceError
from microfab.domain.modules import Module, ModuleType
from microfab.domain.network import FxRate, Lane, Market, Network, RateTable, Site
from microfab.domain.quantities import Duration, Money

DAY = date(2025, 3, 1)


def fx(base: str, quote: str, rate: str) -> FxRate:
    return FxRate(base, quote, Decimal(rate), DAY)


@pytest.fixture
def table() -> RateTable:
    return RateTable((fx("USD", "EUR", "0.92"), fx("USD", "JPY", "150"), fx("EUR", "GBP", "0.85")))


def test_rate_direct_inverse_and_same(table: RateTable) -> None:
    assert table.rate("USD", "EUR") == Decimal("0.92")
    assert table.rate("JPY", "USD") == 1 / Decimal(150)
    assert table.rate("VND", "VND") == 1


def test_rate_via_a_pivot(table: RateTable) -> None:
    assert table.rate("EUR", "JPY") == (1 / Decimal("0.92")) * 150
    assert table.rate("USD", "GBP") == Decimal("0.92") * Decimal("0.85")


def test_missing_rate_raises(table: RateTable) -> None:
    with pytest.raises(NoFxRateError, match="JPY to GBP"):
        table.rate("JPY", "GBP")  # two pivots away
    with pytest.raises(LookupError, match="CHF"):
        RateTable().rate("CHF", "USD")


def test_convert_quantizes_to_the_target_minor_unit(table: RateTable) -> None:
    assert table.convert(Money(Decimal("38.50"), "USD"), "JPY") == Money(Decimal(5775), "JPY")
    assert table.convert(Money(Decimal("10"), "USD"), "EUR") == Money(Decimal("9.20"), "EUR")
    assert table.convert(Money(Decimal("1000"), "JPY"), "USD") == Money(Decimal("6.67"), "USD")
    assert table.convert(Money(Decimal("1.005"), "USD"), "USD") == Money(Decimal("1.00"), "USD")


_PIVOT_SCRIPT = """
from datetime import date
from decimal import Decimal as D
from microfab.domain.network import FxRate, RateTable
d = date(2025, 3, 1)
t = RateTable((FxRate("USD", "EUR", D("0.9"), d), FxRate("USD", "GBP", D("0.8"), d),
               FxRate("EUR", "JPY", D("160"), d), FxRate("GBP", "JPY", D("190"), d)))
print(t.rate("USD", "JPY"))
"""


def test_pivot_choice_does_not_depend_on_hash_order() -> None:
    """Two pivots disagree (144 via EUR, 152 via GBP): every run must pick the same one."""
    answers = set()
    for seed in ("0", "1", "2", "3", "4", "5"):
        env = os.environ | {"PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", _PIVOT_SCRIPT], env=env, capture_output=True, text=True, check=True)
        answers.add(run.stdout.strip())
    assert answers == {"144.0"}


@pytest.mark.parametrize(
    ("base", "quote", "rate", "field"),
    [
        ("usd", "EUR", "1", "base"),
        ("USD", "XYZ", "1", "quote"),
        ("USD", "EUR", "0", "rate"),
        ("USD", "EUR", "-1", "rate"),
    ],
)
def test_fx_rate_validation(base: str, quote: str, rate: str, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        fx(base, quote, rate)


def site(**overrides: object) -> Site:
    fields: dict[str, object] = {
        "name": "porto",
        "country": "PT",
        "region": "eu-west",
        "timezone": "Europe/Lisbon",
        "currency": "EUR",
        "container_slots": 4,
    }
    return Site(**(fields | overrides))  # type: ignore[arg-type]


def test_site_is_valid_and_knows_its_zone() -> None:
    assert site().zone.key == "Europe/Lisbon"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"country": "PRT"}, "country"),
        ({"country": "pt"}, "country"),
        ({"currency": "EURO"}, "currency"),
        ({"container_slots": -1}, "container_slots"),
    ],
)
def test_site_validation_names_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        site(**overrides)


def test_site_rejects_an_unknown_time_zone() -> None:
    with pytest.raises(ZoneInfoNotFoundError):
        site(timezone="Mars/Olympus_Mons")


def test_market_validation() -> None:
    assert Market("jp", "JP", "ja-JP", "JPY").currency == "JPY"
    with pytest.raises(ValueError, match="country"):
        Market("jp", "JPN", "ja-JP", "JPY")
    with pytest.raises(ValueError, match="currency"):
        Market("jp", "JP", "ja-JP", "YEN")


@pytest.fixture
def network() -> Network:
    def module_type(name: str, caps: set[str]) -> ModuleType:
        return ModuleType(
            name, frozenset(caps), Decimal(1), Duration(0), Duration.parse("100h"), Duration.parse("2h"),
            Decimal(1), Money(Decimal(10), "EUR"), Duration.parse("4w"),
        )  # fmt: skip

    eur = Money(Decimal("0.5"), "EUR")
    return Network(
        name="demo",
        base_currency="USD",
        sites={"porto": site(), "osaka": site(name="osaka", country="JP", timezone="Asia/Tokyo", currency="JPY")},
        markets={"jp": Market("jp", "JP", "ja-JP", "JPY")},
        lanes={
            "porto-jp": Lane("porto-jp", "porto", "jp", Duration.parse("7d"), eur),
            "osaka-jp": Lane("osaka-jp", "osaka", "jp", Duration.parse("1d"), eur),
            "closed-jp": Lane("closed-jp", "porto", "jp", Duration.parse("3d"), eur, open=False),
        },
        module_types={"mill": module_type("mill", {"mill"}), "cell": module_type("cell", {"assemble", "inspect"})},
        modules={
            "m2": Module("m2", "cell", "porto"),
            "m1": Module("m1", "mill", "porto"),
            "m3": Module("m3", "mill", "osaka"),
        },
    )


def test_network_lookups(network: Network) -> None:
    assert network.site("osaka").currency == "JPY"
    assert network.market("jp").locale == "ja-JP"
    assert [m.name for m in network.modules_at("porto")] == ["m1", "m2"]
    assert network.capabilities_at("porto") == {"mill", "assemble", "inspect"}
    assert network.capabilities_at("nowhere") == frozenset()
    assert [lane.name for lane in network.lanes_to("jp")] == ["osaka-jp", "porto-jp"]


def test_unknown_reference_lists_the_known_names(network: Network) -> None:
    with pytest.raises(UnknownReferenceError, match="unknown site 'lisbon'; known: osaka, porto") as info:
        network.site("lisbon")
    assert (info.value.kind, info.value.name) == ("site", "lisbon")
    with pytest.raises(LookupError, match="unknown product 'x'"):
        network.product("x")


def test_network_checks_its_base_currency() -> None:
    with pytest.raises(ValueError, match="base_currency"):
        Network(name="n", base_currency="DOLLAR")

"""The demo world in examples/network loads and is able to serve every market."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import pytest

from microfab.domain.network import Network
from microfab.domain.quantities import Duration, Mass, Money
from microfab.manifests import build_network, load_network, load_resources

EXAMPLES = Path(__file__).parents[3] / "examples" / "network"


@pytest.fixture(scope="module")
def network() -> Network:
    return load_network(EXAMPLES)


def test_counts(network: Network) -> None:
    assert network.name == "demo"
    assert network.base_currency == "USD"
    assert sorted(network.sites) == ["bavaria", "japan", "monterrey", "ohio", "vietnam"]
    assert sorted(network.markets) == ["de", "jp", "mx", "us", "vn"]
    assert len(network.module_types) == 8
    assert len(network.modules) == 55
    assert {site: len(network.modules_at(site)) for site in network.sites} == {
        "ohio": 12,
        "monterrey": 11,
        "bavaria": 11,
        "japan": 11,
        "vietnam": 10,
    }
    assert sorted(network.products) == ["laptop-stand", "monitor-riser", "planter-box", "shelving-unit"]


def test_sites_and_markets(network: Network) -> None:
    monterrey = network.site("monterrey")
    assert (monterrey.country, monterrey.region, monterrey.timezone, monterrey.currency) == (
        "MX",
        "Nuevo León",
        "America/Monterrey",
        "MXN",
    )
    assert network.market("mx").locale == "es-MX"
    assert all(8 <= site.container_slots <= 16 for site in network.sites.values())


def test_replicas_expand_to_numbered_modules(network: Network) -> None:
    assert {"ohio-cnc-mill-1", "ohio-cnc-mill-2", "ohio-press-brake"} <= set(network.modules)
    assert "ohio-cnc-mill" not in network.modules
    module = network.modules["ohio-cnc-mill-2"]
    assert (module.module_type, module.site, module.endpoint) == ("cnc-mill", "ohio", None)


def test_laptop_stand_routing_for_a_configuration(network: Network) -> None:
    stand = network.product("laptop-stand")
    config = stand.configure({"finish": "anodized-black", "engraving": "ACME"})

    steps = stand.routing_for(config)

    assert [s.name for s in steps] == [
        "cut",
        "bend",
        "drill-holes",
        "anodize",
        "engrave",
        "assemble",
        "inspect",
        "pack",
    ]
    assert sum((s.duration for s in steps), Duration(0)) == Duration.parse("1h8m")
    assert stand.unit_price(config) == Money(Decimal(107), "USD")
    raw = stand.configure({})
    assert [s.name for s in stand.routing_for(raw)] == ["cut", "bend", "drill-holes", "assemble", "inspect", "pack"]
    assert stand.unit_mass(stand.configure({"width": 400})) == Mass(Decimal("1.9"))
    assert [line.quantity for line in stand.bom_for(raw) if line.item == "aluminium-sheet-3mm"] == [Decimal("1.26")]


def test_products_differ_in_family(network: Network) -> None:
    assert {p.family for p in network.products.values()} == {"stands", "risers", "planters", "shelving"}


def test_the_large_example_has_at_least_1e8_raw_combinations(network: Network) -> None:
    shelving = network.product("shelving-unit")
    assert math.prod(len(o.domain()) for o in shelving.options) >= 10**8


def test_fx_rates_are_exact_decimals(network: Network) -> None:
    assert network.fx.rate("USD", "EUR") == Decimal("0.92")
    assert network.fx.convert(Money(Decimal(100), "USD"), "JPY") == Money(Decimal(14920), "JPY")


def test_every_market_has_a_site_with_an_open_lane_and_every_capability(network: Network) -> None:
    stand = network.product("laptop-stand")
    needed = {step.capability for step in stand.routing_for(stand.configure({}))}
    for market in network.markets:
        sites = {lane.site for lane in network.lanes_to(market)}
        assert any(needed <= network.capabilities_at(site) for site in sites), market
    anodizers = {s for s in network.sites if "anodize" in network.capabilities_at(s)}
    for market in network.markets:
        assert anodizers & {lane.site for lane in network.lanes_to(market)}, market


def test_domestic_lanes_are_cheapest_and_one_lane_is_closed(network: Network) -> None:
    closed = [lane.name for lane in network.lanes.values() if not lane.open]
    assert closed == ["ohio-de"]
    for market in network.markets.values():
        lanes = network.lanes_to(market.name)
        domestic = [lane for lane in lanes if network.site(lane.site).country == market.country]
        assert domestic
        assert min(lanes, key=lambda lane: lane.cost_per_kg.amount) in domestic


def test_sites_have_room_and_two_modules_for_busy_capabilities(network: Network) -> None:
    for site in network.sites.values():
        modules = network.modules_at(site.name)
        assert sum(network.module_types[m.module_type].slots for m in modules) <= site.container_slots
        for capability in ("laser-cut", "mill", "assemble"):
            offering = [m for m in modules if capability in network.module_types[m.module_type].capabilities]
            assert len(offering) >= 2, (site.name, capability)


def test_build_from_resources_equals_load(network: Network) -> None:
    assert build_network(load_resources(EXAMPLES)) == network

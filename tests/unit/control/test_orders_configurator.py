"""Placing an order goes through the configurator: rules validated, routing and BOM derived, version and hash kept."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from microfab import configurator
from microfab.control import operations
from microfab.control.bootstrap import Services, bootstrap
from microfab.control.scenarios import random_configuration
from microfab.domain.commands import PlaceOrder
from microfab.domain.errors import InvalidConfigurationError
from microfab.domain.products import config_hash
from microfab.manifests import load_resources
from microfab.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "network"


@pytest.fixture(scope="module")
def services() -> Iterator[Services]:
    services = bootstrap(Settings(db="memory://", schedule_time_limit=0.2, seed=3))
    operations.apply_plan(services, operations.plan_apply(services, load_resources(EXAMPLE)))
    yield services
    services.close()


def test_a_configuration_that_breaks_a_rule_is_refused_and_nothing_is_written(services: Services) -> None:
    before = len(services.state.orders)
    bad = {"material": "walnut", "finish": "oiled", "usb_hub": True, "width": 250}
    with pytest.raises(InvalidConfigurationError) as caught:
        operations.place(services, PlaceOrder("acme", "laptop-stand", bad, 1, "us"))
    assert "usb-hub-needs-aluminium: a USB hub needs the aluminium body, not walnut" in str(caught.value)
    assert "walnut-width: walnut stands are 300 to 400 mm wide, not 250 mm" in str(caught.value)
    assert len(services.state.orders) == before


def test_an_order_carries_its_configuration_version_hash_and_derived_routing(services: Services) -> None:
    chosen = {"material": "walnut", "finish": "oiled", "width": 340, "engraving": "MAYA"}
    placed = operations.place(services, PlaceOrder("acme", "laptop-stand", chosen, 2, "de"))
    order = placed.order
    product = services.state.network.product("laptop-stand")
    derived = configurator.derive(product, chosen)
    assert order.config == derived.config
    assert order.product_version == product.version
    assert order.config_hash == config_hash(derived.config)
    for unit in order.units.values():
        entries = list(unit.passport.values())
        assert [(e.step, e.capability, e.standard, e.family) for e in entries] == [
            (op.name, op.capability, op.duration, op.family) for op in derived.routing
        ]
    assert placed.quote.unit_price.currency == "EUR"


def test_random_configurations_are_always_valid(services: Services) -> None:
    rng = random.Random(5)
    for product in services.state.network.products.values():
        for _ in range(3):
            config = random_configuration(product, rng)
            assert configurator.validate(product, config) == []

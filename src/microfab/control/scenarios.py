"""Demand scenarios: seeded streams of orders for demos and studies."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from microfab.configurator import valid_values
from microfab.domain.commands import PlaceOrder
from microfab.domain.network import Network
from microfab.domain.products import ConfigValue, ProductTemplate, TextOption
from microfab.planning import site_options

_CUSTOMERS = {
    "us": ["acme-columbus", "lakeside-studio", "northwind-it"],
    "mx": ["grupo-alfa-it", "oficinas-garza", "taller-norte"],
    "de": ["bavaria-office-gmbh", "kontor-hamburg", "werkbank-muenchen"],
    "jp": ["kaizen-works", "nagoya-design", "tokyo-cowork"],
    "vn": ["hanoi-tech", "saigon-studio", "bac-ninh-labs"],
}


def random_orders(
    network: Network, *, count: int, start: datetime, spread: timedelta, seed: int = 0, max_quantity: int = 6
) -> list[tuple[datetime, PlaceOrder]]:
    """*count* orders over every market, arriving uniformly over ``[start, start + spread]``.

    Configurations are drawn option by option from the configurator's valid values (so a
    draw never reaches a dead end) and kept only when some site can serve them in that market,
    so every order is placeable.
    """
    rng = random.Random(seed)
    markets = sorted(network.markets)
    products = sorted(network.products)
    orders: list[tuple[datetime, PlaceOrder]] = []
    for _ in range(count * 50):
        if len(orders) == count:
            break
        market = markets[len(orders) % len(markets)]
        product = network.products[rng.choice(products)]
        config = random_configuration(product, rng)
        quantity = rng.randint(1, max_quantity)
        if not any(o.eligible for o in site_options(network, product.name, config, quantity, market)):
            continue
        at = start + timedelta(seconds=rng.uniform(0, spread.total_seconds()))
        customer = rng.choice(_CUSTOMERS.get(market, ["customer"]))
        orders.append((at.replace(microsecond=0), PlaceOrder(customer, product.name, config, quantity, market)))
    else:
        raise ValueError(f"count: could not draw {count} servable orders; can every market be served?")
    return sorted(orders, key=lambda pair: pair[0])


def random_configuration(product: ProductTemplate, rng: random.Random) -> dict[str, ConfigValue]:
    """A random valid configuration: each option drawn from the values that still extend to a valid one."""
    config: dict[str, ConfigValue] = {}
    for option in product.options:
        values = valid_values(product, config)[option.name]
        if not values:
            raise ValueError(f"product {product.name!r}: its rules admit no configuration")
        choice = rng.choice(values)
        if isinstance(option, TextOption):
            letters = sorted(option.allowed - {" "}) or ["x"]
            config[option.name] = "".join(rng.choice(letters) for _ in range(int(choice)))
        else:
            config[option.name] = choice
    return config

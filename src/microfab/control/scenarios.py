"""Demand scenarios: seeded streams of orders for demos and studies."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from microfab.domain.commands import PlaceOrder
from microfab.domain.network import Network
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

    Configurations are drawn from the products' offered values and kept only when some
    site can serve them in that market, so every order is placeable.
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
        config = {o.name: rng.choice(o.choices).value for o in product.options}
        quantity = rng.randint(1, max_quantity)
        if not any(o.eligible for o in site_options(network, product.name, config, quantity, market)):
            continue
        at = start + timedelta(seconds=rng.uniform(0, spread.total_seconds()))
        customer = rng.choice(_CUSTOMERS.get(market, ["customer"]))
        orders.append((at.replace(microsecond=0), PlaceOrder(customer, product.name, config, quantity, market)))
    else:
        raise ValueError(f"count: could not draw {count} servable orders; can every market be served?")
    return sorted(orders, key=lambda pair: pair[0])

"""Demand scenarios: seeded streams of orders for demos and studies."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from microfab.configurator import valid_values
from microfab.domain.buyers import Buyer
from microfab.domain.commands import PlaceOrder
from microfab.domain.entities import Address
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


_BUSINESSES = {
    "us": Buyer("Acme Columbus LLC", Address("200 Civic Center Dr", "43215", "Columbus", "US", "OH")),
    "mx": Buyer(
        "Grupo Alfa IT S.A. de C.V.",
        Address("Av. Constitución 400", "64000", "Monterrey", "MX", "NLE"),
        {"mx-rfc": "GAL190522AB3"},
        mx_regimen="601",
        mx_uso_cfdi="G03",
    ),
    "de": Buyer(
        "Werkbank München GmbH",
        Address("Landsberger Str. 110", "80339", "München", "DE", "BY"),
        {"de-vat-id": "DE281935743"},
    ),
    "jp": Buyer(
        "株式会社名古屋デザイン",
        Address("中区栄3-1-1", "460-0008", "名古屋市", "JP", "愛知県"),
        {"jp-corporate-number": "8418000104522"},
    ),
    "vn": Buyer(
        "Công ty TNHH Hà Nội Tech", Address("12 Phố Huế", "100000", "Hà Nội", "VN"), {"vn-tax-code": "0312654784"}
    ),
}
"""One business buyer per market (fictitious; every tax number passes its checksum)."""

_CONSUMERS = {
    "us": Buyer("Jordan Lee", Address("55 Summit St", "43215", "Columbus", "US", "OH")),
    "mx": Buyer("María Fernanda Garza", Address("Calle Padre Mier 120", "64000", "Monterrey", "MX", "NLE")),
    "de": Buyer("Anna Schneider", Address("Schillerstraße 12", "80336", "München", "DE", "BY")),
    "jp": Buyer("佐藤 花子", Address("千種区今池1-2-3", "464-0850", "名古屋市", "JP", "愛知県")),
    "vn": Buyer("Nguyễn Thị Lan", Address("45 Lý Thái Tổ", "16000", "Bắc Ninh", "VN")),
}
"""One private buyer per market (fictitious)."""


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
        b2b = rng.random() < 0.5
        buyer = (_BUSINESSES if b2b else _CONSUMERS).get(market)
        cmd = PlaceOrder(customer, product.name, config, quantity, market, b2b=b2b, buyer=buyer)
        orders.append((at.replace(microsecond=0), cmd))
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

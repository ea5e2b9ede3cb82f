"""The skeleton's quote: the product's price formula, converted once at the table's rate and rounded.

Pure: a function of the product, the configuration, the market and the rate table.
The localization issue adds tax, locale formatting, FX locks and landed cost per site.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from microfab.domain.network import Market, RateTable
from microfab.domain.products import Configuration, ProductTemplate
from microfab.domain.quantities import Money


@dataclass(frozen=True, slots=True)
class Quote:
    """A price for *quantity* units in the market's currency, with the FX rate used."""

    product: str
    config: dict[str, str | int | bool]
    quantity: int
    market: str
    unit_price: Money
    total: Money
    fx_rate: Decimal
    list_currency: str


def quote(product: ProductTemplate, config: Configuration, quantity: int, market: Market, fx: RateTable) -> Quote:
    """Price *quantity* units of *product* configured as *config* for *market*.

    The unit price is converted once and rounded to the market currency's minor unit; the
    total is that rounded unit price times the quantity, so lines always add up.

    Raises
    ------
    InvalidConfigurationError
        When *config* names an option or value the product does not offer (rules are the
        configurator's: `microfab.control.orders` validates them before quoting).
    NoFxRateError
        When the rate table cannot convert to the market's currency.
    """
    if quantity < 1:
        raise ValueError(f"quantity: expected >= 1, got {quantity}")
    full = product.configure(config)
    list_unit = product.unit_price(full)
    rate = fx.rate(list_unit.currency, market.currency)
    unit = Money(list_unit.amount * rate, market.currency).quantize()
    return Quote(product.name, full, quantity, market.name, unit, unit * quantity, rate, list_unit.currency)

from __future__ import annotations

from decimal import Decimal

import pytest

from microfab.commerce import quote
from microfab.domain.errors import InvalidConfigurationError
from microfab.domain.quantities import Money
from tests.support.network import tiny_network


def test_quote_converts_once_and_rounds_to_the_market_currency() -> None:
    net = tiny_network()
    q = quote(net.product("stand"), {"finish": "anodized"}, 3, net.market("de"), net.fx)
    # (89 + 12) USD x 0.92 = 92.92 EUR a unit; the total is the rounded unit price x 3.
    assert q.unit_price == Money(Decimal("92.92"), "EUR")
    assert q.total == Money(Decimal("278.76"), "EUR")
    assert q.fx_rate == Decimal("0.92")
    assert q.config == {"finish": "anodized"}


def test_quote_fills_defaults_in_the_list_currency() -> None:
    net = tiny_network()
    q = quote(net.product("stand"), {}, 1, net.market("us"), net.fx)
    assert q.unit_price == Money.parse("89.00 USD")
    assert q.config == {"finish": "raw"}


def test_quote_rejects_an_unoffered_value_and_a_zero_quantity() -> None:
    net = tiny_network()
    with pytest.raises(InvalidConfigurationError, match="raw, anodized"):
        quote(net.product("stand"), {"finish": "gold"}, 1, net.market("us"), net.fx)
    with pytest.raises(ValueError, match="quantity"):
        quote(net.product("stand"), {}, 0, net.market("us"), net.fx)

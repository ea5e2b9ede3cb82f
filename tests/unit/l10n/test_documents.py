"""The order confirmation and tracking texts come from the market's brand, in the buyer's language."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from microfab.commerce import quote
from microfab.control import operations
from microfab.control.bootstrap import bootstrap
from microfab.domain.commands import PlaceOrder
from microfab.domain.network import Network
from microfab.domain.orders import OrderStatus
from microfab.l10n.documents import confirmation, status_label
from microfab.l10n.quote_view import brand_for, quote_view
from microfab.manifests import load_network, load_resources
from microfab.settings import Settings

EXAMPLES = Path(__file__).parents[3] / "examples" / "network"
AT = datetime(2026, 11, 25, 10, tzinfo=UTC)


@cache
def demo() -> Network:
    return load_network(EXAMPLES)


def test_a_german_confirmation_is_german_and_signed_by_the_german_brand() -> None:
    services = bootstrap(Settings(db="memory://", seed=1))
    try:
        operations.apply_plan(services, operations.plan_apply(services, load_resources(EXAMPLES)))
        placed = operations.place(services, PlaceOrder("acme", "laptop-stand", {}, 3, "de"))
    finally:
        services.close()
    market = demo().market("de")
    brand = brand_for(market.brands, "de", market.locale)
    assert brand is not None
    text = confirmation(placed.order, placed.quote, brand=brand).text
    assert text.startswith(f"{brand.name}: ")
    assert "Vielen Dank" in text
    assert "3 Stück" in text or "3 Einheiten" in text
    assert brand.legal_footer in text


def test_status_words_follow_the_language_and_brands_fall_back_to_the_market_locale() -> None:
    assert status_label(OrderStatus.SHIPPED, "en") == "Shipped"
    assert status_label(OrderStatus.SHIPPED, "ja") != "Shipped"
    market = demo().market("jp")
    assert brand_for(market.brands, "ja", market.locale) is market.brands["ja-JP"]
    assert brand_for(market.brands, "fr", market.locale) is market.brands["ja-JP"]


def test_a_quote_in_japanese_names_its_tax_and_delivery_in_japanese() -> None:
    net = demo()
    q = quote(net.product("laptop-stand"), {}, 1, net.market("jp"), network=net, at=AT)
    market = net.market("jp")
    view = quote_view(q, brand=brand_for(market.brands, "ja", market.locale))
    assert view.brand is market.brands["ja-JP"]
    assert "消費税" in view.price_label
    assert "営業日" in view.delivery

"""Orders keep typed configurations, the product version and a hash; logs written before still decode."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from microfab.domain.codec import decode, encode
from microfab.domain.events import OperationReleased, OrderPlaced
from microfab.domain.quantities import Duration, Money

T0 = datetime(2026, 11, 30, 8, tzinfo=UTC)


def placed() -> OrderPlaced:
    usd = Money(Decimal("89.00"), "USD")
    config = {"width": 300, "material": "walnut", "usb_hub": False, "engraving": "ACME"}
    return OrderPlaced(T0, "o-1", "acme", "laptop-stand", config, 1, "us", T0, usd, usd, Decimal(1), "a6f8", "3c9d")


def test_typed_configuration_version_and_hash_round_trip() -> None:
    event = placed()
    name, data = encode(event)
    assert data["config"] == {"width": 300, "material": "walnut", "usb_hub": False, "engraving": "ACME"}
    assert decode(name, data) == event


def test_events_from_before_the_configurator_still_decode() -> None:
    name, data = encode(placed())
    del data["product_version"], data["config_hash"]
    old = decode(name, data)
    assert isinstance(old, OrderPlaced)
    assert (old.product_version, old.config_hash) == ("", "")
    released = OperationReleased(T0, "o-1", "s#01", "s", 0, "cut", "laser-cut", Duration(600), (), "stands")
    name, data = encode(released)
    assert decode(name, data) == released
    del data["family"]
    assert decode(name, data) == OperationReleased(T0, "o-1", "s#01", "s", 0, "cut", "laser-cut", Duration(600), ())

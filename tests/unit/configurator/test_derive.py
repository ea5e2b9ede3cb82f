"""derive: BOM, routing, price and cost snapshots for a few configurations."""

from __future__ import annotations

from decimal import Decimal

import pytest

from microfab import configurator
from microfab.domain.errors import InvalidConfigurationError
from microfab.domain.products import ProductTemplate
from microfab.domain.quantities import Duration, Mass, Money


def usd(text: str) -> Money:
    return Money(Decimal(text), "USD")


def test_default_laptop_stand(stand: ProductTemplate) -> None:
    result = configurator.derive(stand, {})
    assert [(b.item, b.quantity, str(b.cost)) for b in result.bom] == [
        ("aluminium-sheet-3mm", Decimal("1.26"), "5.29 USD"),
        ("hinge-pin-m6", Decimal(2), "0.70 USD"),
        ("silicone-foot", Decimal(4), "0.80 USD"),
        ("carton-box-m", Decimal(1), "0.90 USD"),
    ]
    assert [(op.name, op.capability, str(op.duration)) for op in result.routing] == [
        ("cut", "laser-cut", "9m"),
        ("bend", "bend", "6m"),
        ("drill-holes", "drill", "12m"),
        ("assemble", "assemble", "10m"),
        ("inspect", "inspect", "5m"),
        ("pack", "pack", "4m"),
    ]
    assert (result.price, result.cost, result.mass) == (usd("89.00"), usd("7.69"), Mass(Decimal("1.65")))


def test_walnut_stand_with_engraving(stand: ProductTemplate) -> None:
    result = configurator.derive(
        stand, {"material": "walnut", "finish": "oiled", "width": 360, "engraving": "ACME LABS"}
    )
    assert [op.name for op in result.routing] == [
        "mill-walnut",
        "sand",
        "drill-holes",
        "engrave",
        "assemble",
        "inspect",
        "pack",
    ]
    assert result.routing[0].family == "stands-walnut"
    assert result.routing[0].duration == Duration.parse("28m24s")
    assert result.routing[3].duration == Duration.parse("5m15s")
    assert result.price == usd("137.75")
    assert result.cost == usd("13.16")  # board 0.108 m2 x 95 + pins 0.70 + feet 0.80 + oil 0.50 + box 0.90
    assert result.bom[0].quantity == Decimal("0.108")


def test_planter_dimensions_drive_bom_and_times(planter: ProductTemplate) -> None:
    small = configurator.derive(planter, {"length": 400, "width": 200, "height": 150})
    large = configurator.derive(planter, {"length": 1000, "width": 500, "height": 400})
    assert small.bom[0].quantity < large.bom[0].quantity
    assert sum((op.duration for op in small.routing), Duration(0)) < sum(
        (op.duration for op in large.routing), Duration(0)
    )
    assert large.price > small.price
    assert large.price.currency == "USD"
    assert large.price.amount == large.price.amount.quantize(Decimal("0.01"))


def test_shelving_snapshot(shelving: ProductTemplate) -> None:
    config = {
        "material": "oak",
        "finish": "oiled",
        "width": 1000,
        "doors": 2,
        "drawers": 1,
        "lighting": True,
        "back_panel": True,
    }
    assert configurator.validate(shelving, config) == []
    result = configurator.derive(shelving, config)
    assert [b.item for b in result.bom] == [
        "oak-board-18mm",
        "back-panel-hdf",
        "door-hinge",
        "drawer-slide-pair",
        "led-strip",
        "carton-box-xl",
    ]
    assert result.price == usd("745.00")  # 120 + 120 + 90 + 5 x 14 + 2 x 45 + 60 + 90 + 35 + 70


def test_derive_rejects_bad_values(stand: ProductTemplate) -> None:
    with pytest.raises(InvalidConfigurationError, match="width"):
        configurator.derive(stand, {"width": 1000})

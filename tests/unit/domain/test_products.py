"""Parametric products: typed options with domains, defaults, rules, and formulas for routing, BOM, price, mass."""

from __future__ import annotations

from decimal import Decimal

import pytest

from microfab.domain.errors import InvalidConfigurationError
from microfab.domain.formula import parse
from microfab.domain.products import (
    BomLine,
    BoolOption,
    Derived,
    EnumOption,
    ImpliesRule,
    IntOption,
    LinearRule,
    ProductTemplate,
    RoutingStep,
    TableRule,
    TextOption,
    Violation,
    config_hash,
    expand_charset,
)
from microfab.domain.quantities import Duration, Mass, Money


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def bracket(**changes: object) -> ProductTemplate:
    parts: dict[str, object] = {
        "name": "bracket",
        "family": "brackets",
        "currency": "USD",
        "options": (
            EnumOption("material", ("alu", "steel"), default="alu"),
            IntOption("length", 100, 300, 50, default=150, unit="mm"),
            BoolOption("anodised", default=False),
            TextOption("label", 10, "A-Z ", default=""),
        ),
        "derived": (Derived("chars", parse("len(label)")),),
        "rules": (
            ImpliesRule(
                "anodise-alu", "{material} cannot be anodised", (parse("anodised"),), parse('material == "alu"')
            ),
            LinearRule("label-fits", "{chars} letters do not fit on {length} mm", parse("chars * 20 <= length")),
            TableRule(
                "steel-lengths", "steel comes {length} mm? no", ("material", "length"), (("alu", "*"), ("steel", 200))
            ),
        ),
        "routing": (
            RoutingStep("mill", "mill", parse("5 + length / 10")),
            RoutingStep("anodise", "anodise", parse("60"), family="anodising", when=parse("anodised")),
            RoutingStep("engrave", "laser-engrave", parse("1 + chars * 0.5"), when=parse("chars > 0")),
        ),
        "bom": (
            BomLine("alu-bar", parse("length * 0.004"), "kg", usd("4.20"), "CA", "7604.29", parse('material == "alu"')),
            BomLine(
                "steel-bar", parse("length * 0.008"), "kg", usd("1.10"), "US", "7214.99", parse('material == "steel"')
            ),
            BomLine("screw-m4", parse("4"), "pcs", usd("0.05")),
        ),
        "price": parse('20 + length * 0.1 + (4 if material == "steel" else 0) + (3.25 if anodised else 0)'),
        "mass": parse("length * 0.002 + 0.05"),
    }
    parts.update(changes)
    return ProductTemplate(**parts)  # type: ignore[arg-type]


def test_configure_fills_defaults_and_coerces_text_input() -> None:
    product = bracket()
    assert product.configure({}) == {"material": "alu", "length": 150, "anodised": False, "label": ""}
    assert product.configure({"length": "200", "anodised": "yes"})["length"] == 200
    assert product.configure({"anodised": "true"})["anodised"] is True


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"colour": "red"}, "no option 'colour'; options: material, length, anodised, label"),
        ({"material": "gold"}, "'gold' is not offered; choose one of alu, steel"),
        ({"length": 175}, "175 is not offered; expected 100–300 mm step 50"),
        ({"length": "long"}, "'long' is not offered"),
        ({"anodised": "maybe"}, "expected true or false"),
        ({"label": "ABCDEFGHIJK"}, "11 characters; expected 0 to 10"),
        ({"label": "abc"}, "'abc' not allowed; allowed characters: A-Z "),
        ({"label": 42}, "expected text"),
    ],
)
def test_bad_values_name_the_option(config: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidConfigurationError, match=message.replace("?", r"\?")):
        bracket().configure(config)  # type: ignore[arg-type]


def test_violations_render_the_messages_with_the_chosen_values() -> None:
    product = bracket()
    config = product.configure({"material": "steel", "anodised": True, "label": "ABCDEFGHIJ"})
    assert product.violations(config) == [
        Violation("anodise-alu", "steel cannot be anodised"),
        Violation("label-fits", "10 letters do not fit on 150 mm"),
        Violation("steel-lengths", "steel comes 150 mm? no"),
    ]
    assert product.violations(product.configure({})) == []


def test_routing_durations_families_and_conditions() -> None:
    product = bracket()
    steps = product.routing_for(product.configure({"anodised": True, "label": "AB"}))
    assert [(s.name, s.duration, s.family) for s in steps] == [
        ("mill", Duration.parse("20m"), "brackets"),
        ("anodise", Duration.parse("1h"), "anodising"),
        ("engrave", Duration.parse("2m"), "brackets"),
    ]


def test_bom_price_and_mass() -> None:
    product = bracket()
    config = product.configure({"material": "steel", "length": 200})
    bom = product.bom_for(config)
    assert [(b.item, b.quantity, b.cost) for b in bom] == [
        ("steel-bar", Decimal("1.6"), usd("1.76")),
        ("screw-m4", Decimal(4), usd("0.20")),
    ]
    assert product.unit_price(config) == usd("44.00")
    assert product.unit_mass(config) == Mass(Decimal("0.45"))


def test_construction_checks_names() -> None:
    with pytest.raises(ValueError, match="rule 'r' refers to unknown option 'colour'"):
        bracket(rules=(LinearRule("r", "m", parse("colour > 1")),))
    with pytest.raises(ValueError, match="only as len"):
        bracket(price=parse("label == 'A'"))
    with pytest.raises(ValueError, match="message names unknown option 'nope'"):
        bracket(rules=(LinearRule("r", "{nope}", parse("length > 1")),))
    rule = LinearRule("r", "m", parse("length > 1"))
    with pytest.raises(ValueError, match="rule id twice"):
        bracket(rules=(rule, rule))
    with pytest.raises(ValueError, match="at least one step"):
        bracket(routing=())


def test_option_validation() -> None:
    with pytest.raises(ValueError, match="twice"):
        EnumOption("o", ("x", "x"))
    with pytest.raises(ValueError, match="default"):
        IntOption("o", 0, 10, 5, default=3)
    with pytest.raises(ValueError, match="below min"):
        IntOption("o", 10, 0)
    assert expand_charset("a-c-") == frozenset("abc-")
    assert TextOption("t", 3, "A-B").sample(3) == "AAA"


def test_config_hash_is_stable_and_order_free() -> None:
    assert config_hash({"a": 1, "b": "x"}) == config_hash({"b": "x", "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})
    assert len(config_hash({})) == 16

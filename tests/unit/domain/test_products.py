"""Product templates: configuration with defaults, conditional routing and BOM, price and mass."""

from __future__ import annotations

from decimal import Decimal

import pytest

from microfab.domain.errors import InvalidConfigurationError
from microfab.domain.products import ALWAYS, BomLine, Choice, Condition, Option, ProductTemplate, RoutingStep
from microfab.domain.quantities import Duration, Mass, Money


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


@pytest.fixture
def bracket() -> ProductTemplate:
    anodised = Condition({"finish": frozenset({"anodised", "anodised-black"})})
    return ProductTemplate(
        name="bracket",
        family="brackets",
        options=(
            Option(
                "material",
                (
                    Choice("alu", "Aluminium"),
                    Choice("steel", "Steel", price_delta=usd("4.00"), mass_delta=Mass(Decimal("0.35"))),
                ),
                default="alu",
            ),
            Option(
                "finish",
                (
                    Choice("raw"),
                    Choice("anodised", price_delta=usd("2.50")),
                    Choice("anodised-black", price_delta=usd("3.25")),
                ),
                default="raw",
            ),
            Option("engraving", (Choice("none"), Choice("logo", price_delta=usd("-0.50"))), default="none"),
        ),
        routing=(
            RoutingStep("mill", "mill", Duration.parse("15m")),
            RoutingStep("anodise", "anodise", Duration.parse("1h"), when=anodised),
            RoutingStep(
                "engrave", "laser-engrave", Duration.parse("5m"), when=Condition({"engraving": frozenset({"logo"})})
            ),
            RoutingStep("inspect", "inspect", Duration.parse("2m")),
        ),
        bom=(
            BomLine("alu-bar", Decimal("0.4"), "kg", when=Condition({"material": frozenset({"alu"})})),
            BomLine("steel-bar", Decimal("0.8"), "kg", when=Condition({"material": frozenset({"steel"})})),
            BomLine("screw-m4", Decimal(4), "pcs"),
        ),
        list_price=usd("38.50"),
        mass=Mass.parse("250 g"),
    )


def test_configure_fills_defaults(bracket: ProductTemplate) -> None:
    assert bracket.configure({}) == {"material": "alu", "finish": "raw", "engraving": "none"}
    assert bracket.configure({"finish": "anodised"}) == {"material": "alu", "finish": "anodised", "engraving": "none"}


def test_unknown_option_names_the_options(bracket: ProductTemplate) -> None:
    with pytest.raises(InvalidConfigurationError, match="no option 'colour'; options: material, finish, engraving"):
        bracket.configure({"colour": "red"})


def test_unknown_value_names_the_offered_values(bracket: ProductTemplate) -> None:
    with pytest.raises(
        InvalidConfigurationError, match="'gold' is not offered; choose one of raw, anodised, anodised-black"
    ):
        bracket.configure({"finish": "gold"})


def test_invalid_configuration_is_a_value_error(bracket: ProductTemplate) -> None:
    with pytest.raises(ValueError, match="titanium"):
        bracket.configure({"material": "titanium"})


def test_routing_for_keeps_the_steps_whose_condition_holds(bracket: ProductTemplate) -> None:
    def names(config: dict[str, str]) -> list[str]:
        return [s.name for s in bracket.routing_for(bracket.configure(config))]

    assert names({}) == ["mill", "inspect"]
    assert names({"finish": "anodised"}) == ["mill", "anodise", "inspect"]
    assert names({"finish": "anodised-black", "engraving": "logo"}) == ["mill", "anodise", "engrave", "inspect"]


def test_bom_for(bracket: ProductTemplate) -> None:
    assert [b.item for b in bracket.bom_for(bracket.configure({}))] == ["alu-bar", "screw-m4"]
    assert [b.item for b in bracket.bom_for(bracket.configure({"material": "steel"}))] == ["steel-bar", "screw-m4"]


def test_unit_price_adds_the_deltas(bracket: ProductTemplate) -> None:
    assert bracket.unit_price(bracket.configure({})) == usd("38.50")
    config = bracket.configure({"material": "steel", "finish": "anodised-black", "engraving": "logo"})
    assert bracket.unit_price(config) == usd("45.25")


def test_unit_mass_adds_the_deltas(bracket: ProductTemplate) -> None:
    assert bracket.unit_mass(bracket.configure({})) == Mass(Decimal("0.25"))
    assert bracket.unit_mass(bracket.configure({"material": "steel"})) == Mass(Decimal("0.6"))


def test_conditions() -> None:
    assert ALWAYS.holds({})
    both = Condition({"a": frozenset({"1"}), "b": frozenset({"2", "3"})})
    assert both.holds({"a": "1", "b": "3"})
    assert not both.holds({"a": "1", "b": "4"})
    assert not both.holds({"b": "2"})


@pytest.mark.parametrize(
    ("choices", "default", "message"),
    [
        ((), "x", "at least one choice"),
        ((Choice("x"), Choice("x")), "x", "twice"),
        ((Choice("x"),), "y", "default"),
    ],
)
def test_option_validation(choices: tuple[Choice, ...], default: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Option("o", choices, default)


def test_product_validation(bracket: ProductTemplate) -> None:
    with pytest.raises(ValueError, match="routing"):
        ProductTemplate("p", "f", (), (), (), usd("1"), Mass(Decimal(1)))
    option = Option("o", (Choice("x"),), "x")
    step = RoutingStep("s", "mill", Duration(1))
    with pytest.raises(ValueError, match="options"):
        ProductTemplate("p", "f", (option, option), (step,), (), usd("1"), Mass(Decimal(1)))
    with pytest.raises(ValueError, match="duration"):
        RoutingStep("s", "mill", Duration(0))

"""Product templates: options with choices, a conditional routing, a BOM and a list price.

This is the skeleton's product model: fixed options with enumerated choices and conditions
of the form "option in {values}". The configurator issue replaces it with parametric options,
constraints and formulas.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from microfab.domain.errors import InvalidConfigurationError
from microfab.domain.quantities import Duration, Mass, Money

Configuration = Mapping[str, str]
"""Chosen value per option name."""


@dataclass(frozen=True, slots=True)
class Condition:
    """True when every named option has one of the listed values (an empty condition is always true)."""

    requires: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def holds(self, config: Configuration) -> bool:
        """Whether *config* satisfies the condition."""
        return all(config.get(option) in values for option, values in self.requires.items())


ALWAYS = Condition()


@dataclass(frozen=True, slots=True)
class Choice:
    """One offered value of an option, with what it adds to price and mass."""

    value: str
    label: str = ""
    price_delta: Money | None = None
    mass_delta: Mass | None = None


@dataclass(frozen=True, slots=True)
class Option:
    """A product option with its offered choices and default."""

    name: str
    choices: tuple[Choice, ...]
    default: str

    def __post_init__(self) -> None:
        values = [c.value for c in self.choices]
        if not values:
            raise ValueError(f"choices: option {self.name!r} needs at least one choice")
        if len(set(values)) != len(values):
            raise ValueError(f"choices: option {self.name!r} lists a value twice")
        if self.default not in values:
            raise ValueError(f"default: {self.default!r} is not a choice of option {self.name!r}")

    def choice(self, value: str) -> Choice:
        """The choice called *value*, or `InvalidConfigurationError` listing the offered values."""
        for choice in self.choices:
            if choice.value == value:
                return choice
        offered = ", ".join(c.value for c in self.choices)
        raise InvalidConfigurationError(f"option {self.name!r}: {value!r} is not offered; choose one of {offered}")


@dataclass(frozen=True, slots=True)
class RoutingStep:
    """One capability step of the routing, at standard time, done when its condition holds."""

    name: str
    capability: str
    duration: Duration
    when: Condition = ALWAYS

    def __post_init__(self) -> None:
        if self.duration.seconds <= 0:
            raise ValueError(f"duration: step {self.name!r} needs a duration > 0")


@dataclass(frozen=True, slots=True)
class BomLine:
    """A material line of the bill of materials, used when its condition holds."""

    item: str
    quantity: Decimal
    unit: str
    when: Condition = ALWAYS


@dataclass(frozen=True, slots=True)
class ProductTemplate:
    """A configurable product: options, routing, BOM, list price, shipping mass and setup family."""

    name: str
    family: str
    options: tuple[Option, ...]
    routing: tuple[RoutingStep, ...]
    bom: tuple[BomLine, ...]
    list_price: Money
    mass: Mass
    description: str = ""

    def __post_init__(self) -> None:
        if not self.routing:
            raise ValueError(f"routing: product {self.name!r} needs at least one step")
        names = [o.name for o in self.options]
        if len(set(names)) != len(names):
            raise ValueError(f"options: product {self.name!r} declares an option twice")

    def option(self, name: str) -> Option:
        """The option called *name*, or `InvalidConfigurationError`."""
        for option in self.options:
            if option.name == name:
                return option
        known = ", ".join(o.name for o in self.options) or "none"
        raise InvalidConfigurationError(f"product {self.name!r} has no option {name!r}; options: {known}")

    def configure(self, chosen: Configuration) -> dict[str, str]:
        """Complete *chosen* with defaults and check every value is offered."""
        for name in chosen:
            self.option(name)
        config = {o.name: chosen.get(o.name, o.default) for o in self.options}
        for option in self.options:
            option.choice(config[option.name])
        return config

    def routing_for(self, config: Configuration) -> tuple[RoutingStep, ...]:
        """The steps done for *config*, in order."""
        return tuple(step for step in self.routing if step.when.holds(config))

    def bom_for(self, config: Configuration) -> tuple[BomLine, ...]:
        """The BOM lines used for *config*."""
        return tuple(line for line in self.bom if line.when.holds(config))

    def unit_price(self, config: Configuration) -> Money:
        """List price plus the price deltas of the chosen values, in the list-price currency."""
        price = self.list_price
        for option in self.options:
            delta = option.choice(config[option.name]).price_delta
            if delta is not None:
                price = price + delta
        return price

    def unit_mass(self, config: Configuration) -> Mass:
        """Shipping mass of one unit for *config*."""
        mass = self.mass
        for option in self.options:
            delta = option.choice(config[option.name]).mass_delta
            if delta is not None:
                mass = mass + delta
        return mass

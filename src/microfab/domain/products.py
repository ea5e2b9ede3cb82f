"""Parametric products: typed options, derived values, declarative rules, and formulas for BOM, routing, price.

A `ProductTemplate` never lists its variants: a configuration is a value per option, checked
against the option domains (`ProductTemplate.configure`) and the rules (`ProductTemplate.violations`);
routing, BOM, price and mass are computed from it with formulas (`microfab.domain.formula`).
The configurator engine (`microfab.configurator`) answers the questions that need search:
valid values, explanations, repairs and counts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar, Final

from microfab.domain.errors import InvalidConfigurationError
from microfab.domain.formula import Formula, FormulaError, Value, placeholders, render
from microfab.domain.linear import LinearKinds
from microfab.domain.quantities import Duration, Mass, Money

ConfigValue = str | int | bool
"""A chosen value: enum and text options take text, int options whole numbers, bool options truth values."""

Configuration = Mapping[str, ConfigValue]
"""Chosen value per option name."""

_TRUE: Final = {"true", "yes", "1", "on"}
_FALSE: Final = {"false", "no", "0", "off"}


def expand_charset(spec: str) -> frozenset[str]:
    """The characters of a charset like ``"A-Za-z0-9 .-"`` (``X-Y`` is a range; a first or last ``-`` is literal)."""
    chars: set[str] = set()
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            low, high = spec[i], spec[i + 2]
            if ord(high) < ord(low):
                raise ValueError(f"charset: range {low}-{high} is reversed")
            chars.update(chr(c) for c in range(ord(low), ord(high) + 1))
            i += 3
        else:
            chars.add(spec[i])
            i += 1
    return frozenset(chars)


@dataclass(frozen=True, slots=True)
class EnumOption:
    """An option with a list of text values."""

    name: str
    values: tuple[str, ...]
    default: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    kind: ClassVar[str] = "enum"

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError(f"values: option {self.name!r} needs at least one value")
        if len(set(self.values)) != len(self.values):
            raise ValueError(f"values: option {self.name!r} lists a value twice")
        if self.default is not None and self.default not in self.values:
            raise ValueError(f"default: {self.default!r} is not a value of option {self.name!r}")

    def parse(self, value: object) -> ConfigValue:
        """*value* if offered, else `InvalidConfigurationError` listing the offered values."""
        if isinstance(value, str) and value in self.values:
            return value
        offered = ", ".join(self.values)
        raise InvalidConfigurationError(f"option {self.name!r}: {value!r} is not offered; choose one of {offered}")

    def domain(self) -> tuple[ConfigValue, ...]:
        """Every value of the option."""
        return self.values

    def describe(self) -> str:
        """The domain in a few words."""
        return "/".join(self.values)


@dataclass(frozen=True, slots=True)
class IntOption:
    """A whole number from *min* to *max* in steps of *step* (from *min*)."""

    name: str
    min: int
    max: int
    step: int = 1
    default: int | None = None
    unit: str = ""
    kind: ClassVar[str] = "int"

    def __post_init__(self) -> None:
        if self.step < 1:
            raise ValueError(f"step: option {self.name!r} needs a step >= 1, got {self.step}")
        if self.max < self.min:
            raise ValueError(f"max: option {self.name!r} has max {self.max} below min {self.min}")
        if self.default is not None and not self.offers(self.default):
            raise ValueError(f"default: {self.default} is not in option {self.name!r}: {self.describe()}")

    def offers(self, value: int) -> bool:
        """Whether *value* is in the domain."""
        return self.min <= value <= self.max and (value - self.min) % self.step == 0

    def parse(self, value: object) -> ConfigValue:
        """*value* (or its text) as an offered whole number, else `InvalidConfigurationError`."""
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
            number = int(value.strip())
        if number is None or not self.offers(number):
            raise InvalidConfigurationError(
                f"option {self.name!r}: {value!r} is not offered; expected {self.describe()}"
            )
        return number

    def domain(self) -> tuple[ConfigValue, ...]:
        """Every value of the option."""
        return tuple(range(self.min, self.max + 1, self.step))

    def describe(self) -> str:
        """The domain in a few words."""
        unit = f" {self.unit}" if self.unit else ""
        step = f" step {self.step}" if self.step != 1 else ""
        return f"{self.min}–{self.max}{unit}{step}"


@dataclass(frozen=True, slots=True)
class BoolOption:
    """A yes/no option."""

    name: str
    default: bool | None = None
    kind: ClassVar[str] = "bool"

    def parse(self, value: object) -> ConfigValue:
        """*value* as a truth value (``true``/``false``, ``yes``/``no`` are read too)."""
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise InvalidConfigurationError(f"option {self.name!r}: {value!r} is not offered; expected true or false")

    def domain(self) -> tuple[ConfigValue, ...]:
        """Both truth values."""
        return (False, True)

    def describe(self) -> str:
        """The domain in a few words."""
        return "yes/no"


@dataclass(frozen=True, slots=True)
class TextOption:
    """Free text of *min_len* to *max_len* characters from *charset*; rules see only its length."""

    name: str
    max_len: int
    charset: str = ""
    min_len: int = 0
    default: str | None = ""
    kind: ClassVar[str] = "text"
    allowed: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0 <= self.min_len <= self.max_len:
            raise ValueError(f"max_len: option {self.name!r} needs 0 <= minLen <= maxLen")
        object.__setattr__(self, "allowed", expand_charset(self.charset) if self.charset else frozenset())
        if self.default is not None:
            self.parse(self.default)

    def parse(self, value: object) -> ConfigValue:
        """*value* when its length and characters are allowed, else `InvalidConfigurationError`."""
        if not isinstance(value, str):
            raise InvalidConfigurationError(f"option {self.name!r}: expected text, got {value!r}")
        if not self.min_len <= len(value) <= self.max_len:
            raise InvalidConfigurationError(
                f"option {self.name!r}: {value!r} has {len(value)} characters; "
                f"expected {self.min_len} to {self.max_len}"
            )
        bad = sorted({c for c in value if self.allowed and c not in self.allowed})
        if bad:
            raise InvalidConfigurationError(
                f"option {self.name!r}: {''.join(bad)!r} not allowed; allowed characters: {self.charset}"
            )
        return value

    def domain(self) -> tuple[ConfigValue, ...]:
        """The allowed lengths (text is counted and solved by its length)."""
        return tuple(range(self.min_len, self.max_len + 1))

    def sample(self, length: int) -> str:
        """A text of *length* allowed characters (the representative of its length class)."""
        char = min(self.allowed - {" "}) if self.allowed - {" "} else "x"
        return char * length

    def describe(self) -> str:
        """The domain in a few words."""
        return f"text ≤ {self.max_len}" + (f" [{self.charset}]" if self.charset else "")


Option = EnumOption | IntOption | BoolOption | TextOption
"""Any option kind."""


@dataclass(frozen=True, slots=True)
class Derived:
    """A named integer value computed from options, like ``engrave_chars: len(engraving)``."""

    name: str
    formula: Formula


@dataclass(frozen=True, slots=True)
class TableRule:
    """Only the listed combinations of *options* are allowed (``"*"`` in a row matches any value)."""

    id: str
    message: str
    options: tuple[str, ...]
    rows: tuple[tuple[ConfigValue, ...], ...]
    kind: ClassVar[str] = "table"

    @property
    def names(self) -> frozenset[str]:
        """The options and derived values the rule reads."""
        return frozenset(self.options)

    def holds(self, env: Mapping[str, Value]) -> bool:
        """Whether *env* matches a row."""
        chosen = tuple(env[o] for o in self.options)
        return any(all(v in ("*", c) for v, c in zip(row, chosen, strict=True)) for row in self.rows)


@dataclass(frozen=True, slots=True)
class ImpliesRule:
    """When every condition of *when* holds, *then* must hold."""

    id: str
    message: str
    when: tuple[Formula, ...]
    then: Formula
    kind: ClassVar[str] = "implies"

    @property
    def names(self) -> frozenset[str]:
        """The options and derived values the rule reads."""
        return frozenset().union(*(f.names for f in (*self.when, self.then)))

    def holds(self, env: Mapping[str, Value]) -> bool:
        """Whether the implication holds in *env*."""
        return not all(f.truth(env) for f in self.when) or self.then.truth(env)


@dataclass(frozen=True, slots=True)
class LinearRule:
    """A linear comparison over int and bool options and derived values, like ``engrave_chars * 15 <= width``."""

    id: str
    message: str
    expr: Formula
    kind: ClassVar[str] = "linear"

    @property
    def names(self) -> frozenset[str]:
        """The options and derived values the rule reads."""
        return self.expr.names

    def holds(self, env: Mapping[str, Value]) -> bool:
        """Whether the comparison holds in *env*."""
        return self.expr.truth(env)


Rule = TableRule | ImpliesRule | LinearRule
"""Any rule kind."""


@dataclass(frozen=True, slots=True)
class Violation:
    """A rule a configuration breaks, with its message rendered with the chosen values."""

    rule_id: str
    message: str


@dataclass(frozen=True, slots=True)
class OriginFlags:
    """What a routing step means for origin: it confers origin, is significant processing, or is essential."""

    confers_origin: bool = False
    significant: bool = False
    essential: bool = False


@dataclass(frozen=True, slots=True)
class MaterialFlags:
    """What a material means for origin and claims.

    ``indirect``: used in production but not physically in the good (counts as originating
    under USMCA); ``essential``: a component the good could not work without (FTC);
    ``unavailable_domestically``: not obtainable in the US (California's 10 % allowance);
    ``preferential``: the supplier's origin proof lets it enter duty-free under an agreement.
    """

    indirect: bool = False
    essential: bool = False
    unavailable_domestically: bool = False
    preferential: bool = False


@dataclass(frozen=True, slots=True)
class RoutingStep:
    """One routing operation: capability, a duration formula in minutes, a setup family, a condition."""

    name: str
    capability: str
    duration: Formula
    family: str = ""
    when: Formula | None = None
    origin: OriginFlags = OriginFlags()


@dataclass(frozen=True, slots=True)
class Operation:
    """A routing step for one configuration, at standard time (what the scheduler receives)."""

    name: str
    capability: str
    duration: Duration
    family: str
    origin: OriginFlags = OriginFlags()


@dataclass(frozen=True, slots=True)
class BomLine:
    """A material line: quantity formula, unit, unit cost, origin country, HS code, condition."""

    item: str
    quantity: Formula
    unit: str
    unit_cost: Money
    origin: str = ""
    hs_code: str = ""
    when: Formula | None = None
    flags: MaterialFlags = MaterialFlags()


@dataclass(frozen=True, slots=True)
class BomItem:
    """A BOM line for one configuration: the quantity computed, the line cost rounded to the minor unit."""

    item: str
    quantity: Decimal
    unit: str
    unit_cost: Money
    cost: Money
    origin: str
    hs_code: str
    flags: MaterialFlags = MaterialFlags()


@dataclass(frozen=True)
class ProductTemplate:
    """A parametric product: options, derived values, rules, and formulas for routing, BOM, price and mass.

    Parameters
    ----------
    price
        List price formula in *currency* (exact decimal, quantized to the minor unit).
    mass
        Shipping mass formula in kg.
    version
        The definition's version (the manifest digest): orders record it beside the configuration.
    """

    name: str
    family: str
    currency: str
    options: tuple[Option, ...]
    rules: tuple[Rule, ...]
    routing: tuple[RoutingStep, ...]
    bom: tuple[BomLine, ...]
    price: Formula
    mass: Formula
    derived: tuple[Derived, ...] = ()
    description: str = ""
    version: str = ""
    hs_code: str = ""
    tax_category: str = "general"

    def __hash__(self) -> int:
        # Identity hash (equality stays by value): engines cache compiled models per product object.
        return id(self)

    def __post_init__(self) -> None:
        if not self.routing:
            raise ValueError(f"routing: product {self.name!r} needs at least one step")
        names = [o.name for o in self.options] + [d.name for d in self.derived]
        if len(set(names)) != len(names):
            raise ValueError(f"options: product {self.name!r} declares an option or derived value twice")
        ids = [r.id for r in self.rules]
        if len(set(ids)) != len(ids):
            raise ValueError(f"rules: product {self.name!r} declares a rule id twice")
        self._check_names()

    def _check_names(self) -> None:
        known = {o.name for o in self.options}
        for derived in self.derived:
            _check_formula_names(derived.formula, known, self.texts, f"derived {derived.name!r}")
            known.add(derived.name)
        for rule in self.rules:
            missing = sorted(rule.names - known)
            if missing:
                raise ValueError(f"rules: rule {rule.id!r} refers to unknown option {missing[0]!r}")
            for name in placeholders(rule.message):
                if name not in known:
                    raise ValueError(f"rules: rule {rule.id!r} message names unknown option {name!r}")
        formulas = [self.price, self.mass]
        formulas += [f for s in self.routing for f in (s.duration, s.when) if f is not None]
        formulas += [f for b in self.bom for f in (b.quantity, b.when) if f is not None]
        for formula in formulas:
            _check_formula_names(formula, known, self.texts, "formula")

    @property
    def texts(self) -> frozenset[str]:
        """Names of the text options."""
        return frozenset(o.name for o in self.options if isinstance(o, TextOption))

    def kinds(self) -> LinearKinds:
        """What the linearizer needs to know about this product's names."""
        return LinearKinds(
            {o.name: o.kind for o in self.options},
            {o.name: o.values for o in self.options if isinstance(o, EnumOption)},
            {d.name: d.formula for d in self.derived},
        )

    def option(self, name: str) -> Option:
        """The option called *name*, or `InvalidConfigurationError`."""
        for option in self.options:
            if option.name == name:
                return option
        known = ", ".join(o.name for o in self.options) or "none"
        raise InvalidConfigurationError(f"product {self.name!r} has no option {name!r}; options: {known}")

    def parse(self, partial: Configuration) -> dict[str, ConfigValue]:
        """Check and coerce the chosen values of *partial* (no defaults added)."""
        return {name: self.option(name).parse(value) for name, value in partial.items()}

    def configure(self, chosen: Configuration) -> dict[str, ConfigValue]:
        """Complete *chosen* with defaults and check every value is in its option's domain (not the rules)."""
        config = self.parse(chosen)
        for option in self.options:
            if option.name not in config:
                if option.default is None:
                    raise InvalidConfigurationError(f"option {option.name!r} needs a value: it has no default")
                config[option.name] = option.default
        return {o.name: config[o.name] for o in self.options}

    def environment(self, config: Configuration) -> dict[str, Value]:
        """Options and derived values of a complete configuration, for formulas."""
        env: dict[str, Value] = dict(config)
        for derived in self.derived:
            env[derived.name] = derived.formula.evaluate(env)
        return env

    def violations(self, config: Configuration) -> list[Violation]:
        """Every rule a complete, domain-checked configuration breaks, messages rendered with its values."""
        env = self.environment(config)
        return [Violation(r.id, render(r.message, env)) for r in self.rules if not r.holds(env)]

    def routing_for(self, config: Configuration) -> tuple[Operation, ...]:
        """The operations for *config*, in order, with durations from the formulas (minutes)."""
        env = self.environment(config)
        operations = []
        for step in self.routing:
            if step.when is not None and not step.when.truth(env):
                continue
            minutes = step.duration.number(env)
            seconds = int((minutes * 60).to_integral_value())
            if seconds <= 0:
                raise FormulaError(f"routing step {step.name!r}: duration {step.duration} gives {minutes} min")
            family = step.family or self.family
            operations.append(Operation(step.name, step.capability, Duration(seconds), family, step.origin))
        return tuple(operations)

    def bom_for(self, config: Configuration) -> tuple[BomItem, ...]:
        """The BOM lines used for *config*, with quantities and line costs."""
        env = self.environment(config)
        items = []
        for line in self.bom:
            if line.when is not None and not line.when.truth(env):
                continue
            quantity = _tidy(line.quantity.number(env))
            if quantity <= 0:
                continue
            cost = Money(line.unit_cost.amount * quantity, line.unit_cost.currency).quantize()
            items.append(
                BomItem(line.item, quantity, line.unit, line.unit_cost, cost, line.origin, line.hs_code, line.flags)
            )
        return tuple(items)

    def unit_price(self, config: Configuration) -> Money:
        """List price of one unit for *config*, in the product currency, rounded to its minor unit."""
        return Money(self.price.number(self.environment(config)), self.currency).quantize()

    def unit_mass(self, config: Configuration) -> Mass:
        """Shipping mass of one unit for *config*."""
        return Mass(self.mass.number(self.environment(config)).quantize(Decimal("0.001")))

    def describe_options(self) -> str:
        """One line listing each option and its domain."""
        return "; ".join(f"{o.name}: {o.describe()}" for o in self.options)


def _tidy(number: Decimal) -> Decimal:
    """Round to 4 decimal places, dropping trailing zeros (``12.5000`` -> ``12.5``, ``10.0`` -> ``10``)."""
    rounded = number.quantize(Decimal("0.0001"))
    if rounded == rounded.to_integral_value():
        return Decimal(int(rounded))
    return rounded.normalize()


def _check_formula_names(formula: Formula, known: set[str], texts: frozenset[str], where: str) -> None:
    missing = sorted(formula.names - known)
    if missing:
        raise ValueError(f"formula: {where} {formula.source!r} refers to unknown option {missing[0]!r}")
    for text in formula.names & texts:
        if not _only_in_len(formula, text):
            raise ValueError(f"formula: {where} {formula.source!r} may use text option {text!r} only as len({text})")


def _only_in_len(formula: Formula, name: str) -> bool:
    import ast  # noqa: PLC0415 - only needed here

    inside = {
        id(call.args[0])
        for call in ast.walk(formula.tree)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "len" and call.args
    }
    return all(id(n) in inside for n in ast.walk(formula.tree) if isinstance(n, ast.Name) and n.id == name)


def config_hash(config: Configuration) -> str:
    """A short SHA-256 of the canonical JSON of a complete configuration (stored on the order)."""
    text = json.dumps(dict(config), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

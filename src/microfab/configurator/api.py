"""The configurator's public functions: validate, valid values, explain, repair, count, derive.

Small products (raw space up to `BRUTE_LIMIT` combinations) may be answered by the plain-Python
reference path; everything else goes through CP-SAT. ``method`` picks one explicitly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from microfab.configurator import brute, search
from microfab.configurator.cpsat import SolverModel
from microfab.domain.errors import InvalidConfigurationError
from microfab.domain.formula import FormulaError, Value, render
from microfab.domain.products import Configuration, ConfigValue, ProductTemplate, TextOption, Violation

BRUTE_LIMIT: Final = 20_000
"""Raw combinations up to which ``method="auto"`` counts by plain enumeration."""
TABLE_LIMIT: Final = 100_000
"""Raw combinations up to which ``method="auto"`` answers valid values from a compiled table."""

Method = Literal["auto", "cpsat", "brute", "table", "dp"]
ValidValues = dict[str, tuple[ConfigValue, ...]]
"""Per open option, the values that still extend to a valid configuration (text options: lengths)."""


@dataclass(frozen=True, slots=True)
class Conflict:
    """A minimal set of the user's choices and rules that admit no valid configuration together."""

    choices: dict[str, ConfigValue]
    rules: tuple[Violation, ...]

    def __str__(self) -> str:
        chosen = ", ".join(f"{k}={v!r}" for k, v in self.choices.items()) or "no choice"
        rules = "; ".join(f"{r.rule_id}: {r.message}" for r in self.rules)
        return f"{chosen} conflict with {rules}" if rules else f"{chosen}: no valid configuration"


@dataclass(frozen=True, slots=True)
class Repair:
    """The nearest valid configuration and the chosen options it had to change."""

    config: dict[str, ConfigValue]
    changed: tuple[str, ...]


def raw_space(product: ProductTemplate) -> int:
    """The number of raw combinations of option values (text counted by length)."""
    return math.prod(len(o.domain()) for o in product.options)


def validate(product: ProductTemplate, config: Configuration) -> list[Violation]:
    """Every rule *config* (completed with defaults) breaks, with messages rendered with its values.

    Raises
    ------
    InvalidConfigurationError
        An unknown option, a value outside its option's domain, text too long or outside the charset.
    """
    return product.violations(product.configure(config))


def valid_values(product: ProductTemplate, partial: Configuration, *, method: Method = "auto") -> ValidValues:
    """For every option not in *partial*, exactly the values that extend to a complete valid configuration.

    Text options answer with their allowed lengths. An empty tuple for every option means *partial*
    has no completion: `explain` says why.
    """
    chosen = product.parse(partial)
    if method == "brute":
        return brute.brute_values(product, chosen)
    if method == "table" or (method == "auto" and raw_space(product) <= TABLE_LIMIT):
        return search.table_values(product, chosen)
    return search.solver_values(product, chosen)


def explain(product: ProductTemplate, partial: Configuration) -> Conflict | None:
    """A minimal conflicting set of *partial*'s choices and the rules, or None when *partial* extends.

    Minimal: removing any one choice or rule from the set leaves a feasible set.
    """
    chosen = product.parse(partial)
    core = search.conflict(product, chosen)
    if core is None:
        return None
    env = _known_values(product, chosen)
    by_id = {r.id: r for r in product.rules}
    rules = tuple(Violation(rid, render(by_id[rid].message, env, lambda n: f"<{n}>")) for rid in core.rules)
    return Conflict(core.choices, rules)


def _known_values(product: ProductTemplate, chosen: Mapping[str, ConfigValue]) -> dict[str, Value]:
    """The chosen values and every derived value they determine (for rendering messages)."""
    env: dict[str, Value] = dict(chosen)
    for derived in product.derived:
        if derived.formula.names <= env.keys():
            try:
                env[derived.name] = derived.formula.evaluate(env)
            except FormulaError:
                continue
    return env


def repair(
    product: ProductTemplate,
    partial: Configuration,
    objective: Literal["fewest_changes", "cheapest"] = "fewest_changes",
) -> Repair:
    """The nearest valid complete configuration to *partial*.

    ``fewest_changes`` keeps as many choices as possible (then the smallest numeric moves, then
    defaults for open options); ``cheapest`` breaks the ties by the lowest list price instead.
    A text option is only ever shortened.

    Raises
    ------
    InvalidConfigurationError
        Bad input, or the product admits no configuration at all.
    """
    if objective not in ("fewest_changes", "cheapest"):
        raise InvalidConfigurationError(f"objective: expected fewest_changes or cheapest, got {objective!r}")
    chosen = product.parse(partial)
    found = search.repair(product, chosen, cheapest=objective == "cheapest")
    if found is None:
        raise InvalidConfigurationError(f"product {product.name!r}: its rules admit no configuration")
    solution, changed = found
    config: dict[str, ConfigValue] = {}
    for option in product.options:
        value = solution[option.name]
        if isinstance(option, TextOption):
            text = str(chosen.get(option.name, option.default or ""))
            value = text[: int(value)] if len(text) >= int(value) else option.sample(int(value))
        config[option.name] = value
    return Repair(config, tuple(changed))


def count(product: ProductTemplate, *, method: Method = "auto") -> int:
    """The exact number of valid configurations; a text option counts once per admissible length.

    ``brute`` enumerates in plain Python, ``cpsat`` enumerates each rule-linked group of options
    with CP-SAT and multiplies, ``dp`` backtracks with memoisation (``auto``: brute for small
    spaces, else dp).
    """
    if method == "brute" or (method == "auto" and raw_space(product) <= BRUTE_LIMIT):
        return brute.brute_count(product)
    if method == "cpsat":
        return search.solver_count(product)
    if method == "table":
        return len(search.table(product))
    return brute.dp_count(product)


def check_product(product: ProductTemplate) -> str | None:
    """Why the product cannot be configured (a rule the solver cannot model, or rules admitting nothing), or None."""
    try:
        SolverModel.build(product)
    except (FormulaError, ValueError) as exc:
        return str(exc)
    core = search.conflict(product, {})
    if core is None:
        return None
    by_id = {r.id: r for r in product.rules}
    listed = "; ".join(f"{rid} ({render(by_id[rid].message, {}, lambda n: f'<{n}>')})" for rid in core.rules)
    return f"the rules admit no configuration at all; these conflict: {listed}"

"""The reference path: plain-Python backtracking over every option, checking rules with the evaluator.

It shares no code with the CP-SAT path except the product definition, so it is the test oracle
for small products. Text options range over their lengths (one representative text per length,
`~microfab.domain.products.TextOption.sample`): rules and derived values only see the length.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from microfab.domain.formula import Value
from microfab.domain.products import ConfigValue, Option, ProductTemplate, Rule, TextOption


def _domain(option: Option, partial: Mapping[str, ConfigValue]) -> list[ConfigValue]:
    if option.name in partial:
        return [partial[option.name]]
    if isinstance(option, TextOption):
        return [option.sample(n) for n in range(option.min_len, option.max_len + 1)]
    return list(option.domain())


def _depends(product: ProductTemplate) -> dict[str, set[str]]:
    """Options each option or derived name depends on."""
    deps: dict[str, set[str]] = {o.name: {o.name} for o in product.options}
    for derived in product.derived:
        deps[derived.name] = set().union(*(deps.get(n, set()) for n in derived.formula.names))
    return deps


def solutions(
    product: ProductTemplate, partial: Mapping[str, ConfigValue] | None = None
) -> Iterator[dict[str, ConfigValue]]:
    """Every valid complete configuration that extends *partial* (text: one text per length)."""
    partial = partial or {}
    options = list(product.options)
    deps = _depends(product)
    level = {o.name: i for i, o in enumerate(options)}
    checks: list[list[Rule]] = [[] for _ in options]
    for rule in product.rules:
        needed = set().union(*(deps[n] for n in rule.names))
        at = max((level[n] for n in needed), default=0)
        checks[at].append(rule)
    derived_at: list[list[str]] = [[] for _ in options]
    for derived in product.derived:
        at = max((level[n] for n in deps[derived.name]), default=0)
        derived_at[at].append(derived.name)
    formulas = {d.name: d.formula for d in product.derived}
    domains = [_domain(o, partial) for o in options]
    env: dict[str, Value] = {}

    def walk(i: int) -> Iterator[dict[str, ConfigValue]]:
        if i == len(options):
            yield {o.name: env[o.name] for o in options}  # type: ignore[misc]
            return
        name = options[i].name
        for value in domains[i]:
            env[name] = value
            for derived in derived_at[i]:
                env[derived] = formulas[derived].evaluate(env)
            if all(rule.holds(env) for rule in checks[i]):
                yield from walk(i + 1)

    if options:
        yield from walk(0)
    elif all(rule.holds({}) for rule in product.rules):
        yield {}


def _key(option: Option, value: ConfigValue) -> ConfigValue:
    return len(str(value)) if isinstance(option, TextOption) else value


def brute_values(product: ProductTemplate, partial: Mapping[str, ConfigValue]) -> dict[str, tuple[ConfigValue, ...]]:
    """For each option not in *partial*, the values (text: lengths) some valid completion takes."""
    open_options = [o for o in product.options if o.name not in partial]
    found: dict[str, set[ConfigValue]] = {o.name: set() for o in open_options}
    for config in solutions(product, partial):
        for option in open_options:
            found[option.name].add(_key(option, config[option.name]))
    return {o.name: tuple(v for v in o.domain() if v in found[o.name]) for o in open_options}


def brute_count(product: ProductTemplate) -> int:
    """The number of valid configurations, text counted by length."""
    return sum(1 for _ in solutions(product))


def _order(product: ProductTemplate, scopes: list[set[str]]) -> list[Option]:
    """A variable order that keeps the frontier small: next, the option sharing most rules with those placed."""
    placed: list[Option] = []
    left = list(product.options)
    while left:

        def score(option: Option, placed_names: set[str]) -> tuple[int, int]:
            shared = sum(1 for scope in scopes if option.name in scope and scope & placed_names)
            return (-shared, len(option.domain()))

        names = {o.name for o in placed}
        best = min(left, key=lambda o: score(o, names))
        placed.append(best)
        left.remove(best)
    return placed


def dp_count(product: ProductTemplate) -> int:
    """The number of valid configurations by backtracking with memoisation on the frontier.

    At each level the count of completions depends only on the already-chosen options that a
    rule still to be checked reads (the frontier), so equal frontiers are counted once. Exact;
    text options range over their lengths.
    """
    deps = _depends(product)
    scopes = [set().union(*(deps[n] for n in rule.names)) for rule in product.rules]
    options = _order(product, scopes)
    level = {o.name: i for i, o in enumerate(options)}
    checks: list[list[Rule]] = [[] for _ in options]
    for rule, scope in zip(product.rules, scopes, strict=True):
        checks[max((level[n] for n in scope), default=0)].append(rule)
    derived_at: list[list[str]] = [[] for _ in options]
    for derived in product.derived:
        derived_at[max((level[n] for n in deps[derived.name]), default=0)].append(derived.name)
    frontier: list[tuple[str, ...]] = []
    for i in range(len(options) + 1):
        later = set().union(*(scopes[k] for k, rule in enumerate(product.rules) if level_of(rule, checks) >= i))
        frontier.append(tuple(o.name for o in options[:i] if o.name in later))
    formulas = {d.name: d.formula for d in product.derived}
    domains = [_domain(o, {}) for o in options]
    env: dict[str, Value] = {}
    memo: dict[tuple[int, tuple[Value, ...]], int] = {}

    def walk(i: int) -> int:
        if i == len(options):
            return 1
        key = (i, tuple(env[n] for n in frontier[i]))
        if key in memo:
            return memo[key]
        total = 0
        for value in domains[i]:
            env[options[i].name] = value
            for derived in derived_at[i]:
                env[derived] = formulas[derived].evaluate(env)
            if all(rule.holds(env) for rule in checks[i]):
                total += walk(i + 1)
        memo[key] = total
        return total

    if not options:
        return 1 if all(rule.holds({}) for rule in product.rules) else 0
    return walk(0)


def level_of(rule: Rule, checks: list[list[Rule]]) -> int:
    """The level at which *rule* is checked."""
    for i, listed in enumerate(checks):
        if any(r is rule for r in listed):
            return i
    return 0

"""Questions answered with CP-SAT: valid values, minimal conflicts, repairs and counts.

Each function clones the product's cached base model (`base_model`) and adds what the
question needs, so a call costs a clone and a few solves, not a model build.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model

from microfab.configurator.cpsat import SolverModel, decode, domain_of, encode, new_solver, rule_options
from microfab.domain.formula import NotLinearError
from microfab.domain.linear import linearize
from microfab.domain.products import ConfigValue, EnumOption, Option, ProductTemplate, TextOption

_FEASIBLE = (cp_model.OPTIMAL, cp_model.FEASIBLE)
_BASE: weakref.WeakKeyDictionary[ProductTemplate, SolverModel] = weakref.WeakKeyDictionary()


def base_model(product: ProductTemplate) -> SolverModel:
    """The product's model with rule literals free (cached per product object)."""
    built = _BASE.get(product)
    if built is None:
        built = SolverModel.build(product)
        _BASE[product] = built
    return built


def solver_values(product: ProductTemplate, partial: Mapping[str, ConfigValue]) -> dict[str, tuple[ConfigValue, ...]]:
    """For each option not in *partial*, the values (text: lengths) that extend to a valid configuration.

    Solution reuse: every solution found marks one value of each option as supported; each round
    asks for a solution where as many options as possible take a value not yet supported, until
    no option can (then every value still unsupported has no valid extension).
    """
    fixed = base_model(product).clone()
    fixed.fix_rules()
    fixed.fix(partial)
    open_options = [o for o in product.options if o.name not in partial]
    supported: dict[str, set[ConfigValue]] = {o.name: set() for o in open_options}
    solver = new_solver()
    solver.parameters.cp_model_presolve = False  # tiny models, many solves: presolve costs more than it saves
    for round_no in range(10**6):
        unknown = {o.name: [v for v in domain_of(o) if v not in supported[o.name]] for o in open_options}
        unknown = {name: values for name, values in unknown.items() if values}
        if not unknown:
            break
        built = fixed.clone()
        _ask_for_new_values(built, unknown, round_no)
        if solver.solve(built.model) not in _FEASIBLE or solver.objective_value < 1:
            break
        for name, value in built.read(solver).items():
            if name in supported:
                supported[name].add(value)
    return {o.name: tuple(v for v in domain_of(o) if v in supported[o.name]) for o in open_options}


def _ask_for_new_values(built: SolverModel, unknown: Mapping[str, list[ConfigValue]], round_no: int) -> None:
    """Maximise the number of options that take one of their unknown values; hint towards them."""
    model = built.model
    wants = []
    for name, values in unknown.items():
        option = built.product.option(name)
        want = model.new_bool_var(f"new:{name}")
        wants.append(want)
        pick = values[(round_no * 7) % len(values)]
        if isinstance(option, EnumOption):
            model.add_bool_or([built.onehot[name][str(v)] for v in values]).only_enforce_if(want)
            model.add_hint(built.onehot[name][str(pick)], 1)
        else:
            numbers = [encode(option, v) for v in values]
            domain = cp_model.Domain.from_values(numbers)
            model.add_linear_expression_in_domain(built.var[name], domain).only_enforce_if(want)
            model.add_hint(built.var[name], encode(option, pick))
    model.maximize(sum(wants))


_TABLES: weakref.WeakKeyDictionary[ProductTemplate, list[tuple[int, ...]]] = weakref.WeakKeyDictionary()


def table(product: ProductTemplate) -> list[tuple[int, ...]]:
    """Every valid configuration as solver integers, enumerated once per product object and cached.

    Only for small spaces (the caller checks): a compiled answer table, never stored anywhere.
    """
    rows = _TABLES.get(product)
    if rows is None:
        rows = sorted(enumerate_solutions(product))
        _TABLES[product] = rows
    return rows


def table_values(product: ProductTemplate, partial: Mapping[str, ConfigValue]) -> dict[str, tuple[ConfigValue, ...]]:
    """`solver_values` answered by filtering the product's compiled `table`."""
    fixed = [(i, encode(o, partial[o.name])) for i, o in enumerate(product.options) if o.name in partial]
    open_at = [(i, o) for i, o in enumerate(product.options) if o.name not in partial]
    seen: list[set[int]] = [set() for _ in open_at]
    for row in table(product):
        if all(row[i] == v for i, v in fixed):
            for k, (i, _) in enumerate(open_at):
                seen[k].add(row[i])
    return {o.name: tuple(decode(o, n) for n in sorted(seen[k])) for k, (_, o) in enumerate(open_at)}


def feasible(product: ProductTemplate, partial: Mapping[str, ConfigValue]) -> dict[str, ConfigValue] | None:
    """One valid completion of *partial* (text: lengths), or None."""
    built = base_model(product).clone()
    built.fix_rules()
    built.fix(partial)
    solver = new_solver()
    if solver.solve(built.model) not in _FEASIBLE:
        return None
    return built.read(solver)


@dataclass(frozen=True, slots=True)
class Core:
    """A minimal conflicting set: the user's choices and the rule ids."""

    choices: dict[str, ConfigValue]
    rules: tuple[str, ...]


def conflict(product: ProductTemplate, partial: Mapping[str, ConfigValue]) -> Core | None:
    """A minimal set of choices and rules with no valid completion, or None when *partial* extends.

    CP-SAT returns a sufficient set of assumptions (``SufficientAssumptionsForInfeasibility``);
    deletion filtering then drops each element whose removal keeps the set infeasible, so every
    element of the result is necessary (removing any one makes the rest feasible).
    """
    built = base_model(product).clone()
    choices: dict[int, tuple[str, ConfigValue]] = {}
    lits: dict[int, Any] = {}
    for option in product.options:
        if option.name in partial:
            lit = built.equals(option, partial[option.name])
            choices[lit.index] = (option.name, partial[option.name])
            lits[lit.index] = lit
    rule_ids = {lit.index: rule_id for rule_id, lit in built.rule_lit.items()}
    lits.update({lit.index: lit for lit in built.rule_lit.values()})
    solver = new_solver()
    if _solve_with(built, solver, list(lits.values())):
        return None
    core = [i for i in solver.sufficient_assumptions_for_infeasibility() if i in lits] or list(lits)
    for index in list(core):
        rest = [i for i in core if i != index]
        if not _solve_with(built, solver, [lits[i] for i in rest]):
            core = rest
    chosen = dict(choices[i] for i in core if i in choices)
    return Core(chosen, tuple(rule_ids[i] for i in core if i in rule_ids))


def _solve_with(built: SolverModel, solver: cp_model.CpSolver, assumptions: list[Any]) -> bool:
    built.model.clear_assumptions()
    built.model.add_assumptions(assumptions)
    return solver.solve(built.model) in _FEASIBLE


def repair(
    product: ProductTemplate, partial: Mapping[str, ConfigValue], *, cheapest: bool
) -> tuple[dict[str, ConfigValue], list[str]] | None:
    """The nearest valid configuration (text: lengths, never longer than chosen) and the options changed.

    First fewest changed choices (then smallest numeric moves); then, for *cheapest*, the lowest
    list price (when the price formula is linear over the options) or else the defaults of the
    options left open. None when the rules admit nothing.
    """
    built = base_model(product).clone()
    built.fix_rules()
    model = built.model
    changes, moves = [], []
    for option in product.options:
        if option.name not in partial:
            continue
        value = partial[option.name]
        if isinstance(option, TextOption):
            model.add(built.var[option.name] <= len(str(value)))
        changes.append(1 - built.equals(option, value))
        if not isinstance(option, EnumOption):
            distance = model.new_int_var(0, 10**9, f"move:{option.name}")
            model.add_abs_equality(distance, built.var[option.name] - encode(option, value))
            moves.append(distance)
    solver = new_solver()
    model.minimize(sum(changes) * 10**6 + sum(moves))
    if solver.solve(model) not in _FEASIBLE:
        return None
    best = round(solver.objective_value)
    if changes:
        model.add(sum(changes) == best // 10**6)
    if moves:
        model.add(sum(moves) <= best % 10**6)
    model.minimize(_secondary(built, product, partial, cheapest=cheapest))
    if solver.solve(model) not in _FEASIBLE:  # pragma: no cover - the first solution stays feasible
        return None
    result = built.read(solver)
    changed = [name for name in partial if result.get(name) != _solver_value(product.option(name), partial[name])]
    return result, changed


def _solver_value(option: Option, value: ConfigValue) -> ConfigValue:
    return decode(option, encode(option, value))


def _secondary(
    built: SolverModel, product: ProductTemplate, partial: Mapping[str, ConfigValue], *, cheapest: bool
) -> Any:
    if cheapest:
        try:
            form = linearize(product.price, product.kinds())
        except NotLinearError:
            form = None
        if form is not None and form.terms:
            scale = 1
            for coef in form.terms.values():
                scale = scale * coef.denominator // _gcd(scale, coef.denominator)
            return sum(int(c * scale) * built.atom(a) for a, c in form.terms.items())
    away = []
    for option in product.options:
        if option.name in partial or option.default is None:
            continue
        away.append(1 - built.equals(option, option.default))
    return sum(away)


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


class _Collector(cp_model.CpSolverSolutionCallback):
    """Collects the distinct projections of every solution onto the option variables."""

    def __init__(self, built: SolverModel) -> None:
        super().__init__()
        self.built = built
        self.seen: set[tuple[int, ...]] = set()

    def on_solution_callback(self) -> None:
        self.seen.add(tuple(int(self.value(self.built.var[o.name])) for o in self.built.options))


def enumerate_solutions(product: ProductTemplate, options: list[str] | None = None) -> set[tuple[int, ...]]:
    """Every valid assignment of *options* (default all) as solver integers, by CP-SAT enumeration."""
    built = SolverModel.build(product, options)
    built.fix_rules()
    solver = new_solver(time_limit=600.0)
    solver.parameters.enumerate_all_solutions = True
    collector = _Collector(built)
    solver.solve(built.model, collector)
    return collector.seen


def components(product: ProductTemplate) -> list[list[str]]:
    """Groups of options linked by rules (each group can be counted on its own)."""
    parent = {o.name: o.name for o in product.options}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for rule in product.rules:
        linked = sorted(rule_options(product, rule))
        for other in linked[1:]:
            parent[root(other)] = root(linked[0])
    groups: dict[str, list[str]] = {}
    for option in product.options:
        groups.setdefault(root(option.name), []).append(option.name)
    return list(groups.values())


def solver_count(product: ProductTemplate) -> int:
    """The number of valid configurations: the product of each rule-linked group's enumerated count."""
    total = 1
    for group in components(product):
        if len(group) == 1 and not any(group[0] in rule_options(product, r) for r in product.rules):
            total *= len(domain_of(product.option(group[0])))
        else:
            total *= len(enumerate_solutions(product, group))
        if total == 0:
            return 0
    return total

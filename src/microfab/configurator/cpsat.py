"""The CP-SAT model of a product: one variable per option, one enforcement literal per rule.

Encoding: an enum option is a one-hot set of literals, an int option an integer variable on its
stepped domain, a bool option a literal, a text option the integer variable of its length (text
never enters the solver). A rule ``r`` is posted under its own literal, so a caller either fixes
every rule literal (the normal case) or passes them as assumptions (``explain``). Comparisons are
linear forms from `microfab.domain.linear.linearize`, scaled to integers.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ortools.sat.python import cp_model

from microfab.domain.linear import Atom, Comparison, Linear, LinearKinds, node_comparisons
from microfab.domain.products import (
    BoolOption,
    ConfigValue,
    EnumOption,
    ImpliesRule,
    IntOption,
    LinearRule,
    Option,
    ProductTemplate,
    Rule,
    TableRule,
    TextOption,
)

_NEGATION = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}


def encode(option: Option, value: ConfigValue) -> int:
    """The solver integer of a value (text: its length, or a length itself; enum: its index)."""
    if isinstance(option, EnumOption):
        return option.values.index(str(value))
    if isinstance(option, TextOption):
        return value if isinstance(value, int) and not isinstance(value, bool) else len(str(value))
    return int(value)


def decode(option: Option, number: int) -> ConfigValue:
    """The option value of a solver integer (text: the length itself)."""
    if isinstance(option, EnumOption):
        return option.values[number]
    if isinstance(option, BoolOption):
        return bool(number)
    return number


def domain_of(option: Option) -> tuple[ConfigValue, ...]:
    """The values the solver ranges over (text: lengths)."""
    return option.domain()


@dataclass
class SolverModel:
    """A CP-SAT model of (part of) a product, with the handles to read and constrain it."""

    product: ProductTemplate
    options: tuple[Option, ...]
    rules: tuple[Rule, ...]
    model: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    var: dict[str, Any] = field(default_factory=dict)
    onehot: dict[str, dict[str, Any]] = field(default_factory=dict)
    rule_lit: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, product: ProductTemplate, options: Sequence[str] | None = None) -> SolverModel:
        """Model *product* (or only the named *options* and the rules that read nothing else)."""
        chosen = [o for o in product.options if options is None or o.name in options]
        names = {o.name for o in chosen}
        rules = tuple(r for r in product.rules if rule_options(product, r) <= names)
        built = cls(product, tuple(chosen), rules)
        for option in chosen:
            built.add_option(option)
        kinds = product.kinds()
        for rule in rules:
            built.rule_lit[rule.id] = built.model.new_bool_var(f"rule:{rule.id}")
            _Poster(built, kinds).post(rule, built.rule_lit[rule.id])
        return built

    def add_option(self, option: Option) -> None:
        """Create the variables of *option*."""
        m, name = self.model, option.name
        if isinstance(option, EnumOption):
            hot = {v: m.new_bool_var(f"{name}={v}") for v in option.values}
            m.add_exactly_one(hot.values())
            self.onehot[name] = hot
            self.var[name] = sum(i * b for i, b in enumerate(hot.values()))
        elif isinstance(option, BoolOption):
            self.var[name] = m.new_bool_var(name)
        elif isinstance(option, IntOption):
            values = [int(v) for v in option.domain()]
            self.var[name] = m.new_int_var_from_domain(cp_model.Domain.from_values(values), name)
        else:
            self.var[name] = m.new_int_var(option.min_len, option.max_len, f"len({name})")

    def atom(self, atom: Atom) -> Any:
        """The solver expression of an atom."""
        if atom[0] == "is":
            return self.onehot[atom[1]][atom[2]]
        return self.var[atom[1]]

    def fix_rules(self) -> None:
        """Make every rule hard."""
        for lit in self.rule_lit.values():
            self.model.add(lit == 1)

    def equals(self, option: Option, value: ConfigValue) -> Any:
        """A literal that is true exactly when *option* takes *value* (text: that length)."""
        if isinstance(option, EnumOption):
            return self.onehot[option.name][str(value)]
        lit = self.model.new_bool_var(f"{option.name}=={value}")
        number = encode(option, value)
        self.model.add(self.var[option.name] == number).only_enforce_if(lit)
        self.model.add(self.var[option.name] != number).only_enforce_if(lit.negated())
        return lit

    def fix(self, partial: Mapping[str, ConfigValue]) -> None:
        """Make the chosen values of *partial* hard."""
        for option in self.options:
            if option.name in partial:
                self.model.add(self.var[option.name] == encode(option, partial[option.name]))

    def read(self, solver: cp_model.CpSolver) -> dict[str, ConfigValue]:
        """The solution's value of every modelled option (text: its length)."""
        return {o.name: decode(o, int(solver.value(self.var[o.name]))) for o in self.options}

    def clone(self) -> SolverModel:
        """A copy whose model can be extended without touching this one (handles stay valid)."""
        copy = SolverModel(self.product, self.options, self.rules, self.model.clone())
        copy.var, copy.onehot, copy.rule_lit = self.var, self.onehot, self.rule_lit
        return copy


def rule_options(product: ProductTemplate, rule: Rule) -> set[str]:
    """The options a rule reads, derived values expanded."""
    derived = {d.name: d.formula.names for d in product.derived}
    pending, seen = list(rule.names), set[str]()
    options = {o.name for o in product.options}
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        pending.extend(derived.get(name, ()))
    return seen & options


def new_solver(*, time_limit: float = 10.0) -> cp_model.CpSolver:
    """A single-worker solver (assumption cores and enumeration need one worker; the models are small)."""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = time_limit
    return solver


class _Poster:
    """Posts rules on a `SolverModel` under enforcement literals."""

    def __init__(self, built: SolverModel, kinds: LinearKinds) -> None:
        self.built = built
        self.kinds = kinds
        self.model = built.model

    def post(self, rule: Rule, lit: Any) -> None:
        if isinstance(rule, TableRule):
            self.table(rule, lit)
        elif isinstance(rule, LinearRule):
            self.condition(rule.expr.tree, rule.expr.source, [lit])
        elif isinstance(rule, ImpliesRule):
            conditions = [self.literal(f.tree, f.source) for f in rule.when]
            self.condition(rule.then.tree, rule.then.source, [lit, *conditions])

    def table(self, rule: TableRule, lit: Any) -> None:
        options = [self.built.product.option(name) for name in rule.options]
        rows = []
        for index, row in enumerate(rule.rows):
            row_lit = self.model.new_bool_var(f"{rule.id}[{index}]")
            rows.append(row_lit)
            for option, value in zip(options, row, strict=True):
                if value == "*":
                    continue
                if isinstance(option, EnumOption):
                    self.model.add_implication(row_lit, self.built.onehot[option.name][str(value)])
                else:
                    parsed = option.parse(value)
                    self.model.add(self.built.var[option.name] == encode(option, parsed)).only_enforce_if(row_lit)
        self.model.add_bool_or([lit.negated(), *rows])

    def condition(self, node: ast.expr, source: str, enforce: list[Any]) -> None:
        """Post *node* as a hard condition under *enforce* (a conjunction posts each part directly)."""
        if isinstance(node, ast.BoolOp | ast.UnaryOp) and not _is_and(node):
            self.model.add_bool_or([*(x.negated() for x in enforce), self.literal(node, source)])
            return
        if _is_and(node):
            assert isinstance(node, ast.BoolOp)
            for value in node.values:
                self.condition(value, source, enforce)
            return
        for comparison in node_comparisons(node, self.kinds, source):
            self.post_comparison(comparison, enforce)

    def post_comparison(self, comparison: Comparison, enforce: list[Any], negate: bool = False) -> None:
        form, op = comparison
        expr, rhs = self.integer(form)
        op = _NEGATION[op] if negate else op
        constraint = self.model.add(_compare(expr, op, rhs))
        if enforce:
            constraint.only_enforce_if(enforce)

    def literal(self, node: ast.expr, source: str) -> Any:
        """A literal equivalent to the condition *node*."""
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return self.model.new_constant(int(node.value))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self.literal(node.operand, source).negated()
        if isinstance(node, ast.BoolOp):
            parts = [self.literal(v, source) for v in node.values]
            lit = self.model.new_bool_var(source)
            if isinstance(node.op, ast.And):
                self.model.add_bool_and(parts).only_enforce_if(lit)
                self.model.add_bool_or([lit, *(p.negated() for p in parts)])
            else:
                self.model.add_bool_or(parts).only_enforce_if(lit)
                self.model.add_bool_and([p.negated() for p in parts]).only_enforce_if(lit.negated())
            return lit
        found = node_comparisons(node, self.kinds, source)
        lits = [self.comparison_literal(c, source) for c in found]
        if len(lits) == 1:
            return lits[0]
        lit = self.model.new_bool_var(source)
        self.model.add_bool_and(lits).only_enforce_if(lit)
        self.model.add_bool_or([lit, *(p.negated() for p in lits)])
        return lit

    def comparison_literal(self, comparison: Comparison, source: str) -> Any:
        form, op = comparison
        shortcut = self.shortcut(form, op)
        if shortcut is not None:
            return shortcut
        lit = self.model.new_bool_var(source)
        self.post_comparison(comparison, [lit])
        self.post_comparison(comparison, [lit.negated()], negate=True)
        return lit

    def shortcut(self, form: Linear, op: str) -> Any:
        """``b - 1 == 0`` is ``b`` and ``b == 0`` is ``not b`` for a 0/1 atom (enum value or bool option)."""
        if op != "==" or len(form.terms) != 1:
            return None
        ((atom, coef),) = form.terms.items()
        boolean = atom[0] == "is" or self.kinds.kinds.get(atom[1]) == "bool"
        if not boolean or coef != 1:
            return None
        if form.const == -1:
            return self.built.atom(atom)
        if form.const == 0:
            return self.built.atom(atom).negated()
        return None

    def integer(self, form: Linear) -> tuple[Any, int]:
        """``(expr, rhs)`` with integer coefficients such that ``form op 0`` iff ``expr op rhs``."""
        scale = _lcm(c.denominator for c in (*form.terms.values(), form.const))
        expr = sum(int(c * scale) * self.built.atom(a) for a, c in form.terms.items())
        return expr, int(-form.const * scale)


def _is_and(node: ast.expr) -> bool:
    return isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And)


def _lcm(denominators: Iterable[int]) -> int:
    result = 1
    for d in denominators:
        result = math.lcm(result, d)
    return result


def _compare(expr: Any, op: str, rhs: int) -> Any:
    if op == "==":
        return expr == rhs
    if op == "!=":
        return expr != rhs
    if op == "<":
        return expr < rhs
    if op == "<=":
        return expr <= rhs
    if op == ">":
        return expr > rhs
    return expr >= rhs


def scaled_objective(built: SolverModel, form: Linear) -> tuple[Any, Fraction]:
    """An integer objective proportional to *form*: ``(expr, scale)`` with ``form = expr / scale + const``."""
    scale = _lcm(c.denominator for c in form.terms.values())
    expr = sum(int(c * scale) * built.atom(a) for a, c in form.terms.items())
    return expr, Fraction(scale)

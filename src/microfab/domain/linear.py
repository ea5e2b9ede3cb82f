"""Linear forms of formulas: what the configurator's solver can model.

A condition or number is linear over *atoms*: an int or bool option's value, a text option's
length, or the 0/1 indicator that an enum option takes a value. Coefficients are exact
fractions; the solver scales them to integers.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Final

from microfab.domain.formula import Formula, FormulaError, NotLinearError, arith, constant, number

Atom = tuple[str, ...]
"""A solver quantity: ``("val", option)`` (int or bool), ``("len", text option)``, ``("is", enum, value)``."""


@dataclass(frozen=True, slots=True)
class Linear:
    """``sum(coef * atom) + const`` with exact rational coefficients."""

    terms: Mapping[Atom, Fraction]
    const: Fraction = Fraction(0)

    def scaled(self, factor: Fraction) -> Linear:
        """The form multiplied by *factor*."""
        return Linear({a: c * factor for a, c in self.terms.items() if c * factor}, self.const * factor)

    def plus(self, other: Linear) -> Linear:
        """The sum of two forms."""
        terms = dict(self.terms)
        for atom, coef in other.terms.items():
            terms[atom] = terms.get(atom, Fraction(0)) + coef
        return Linear({a: c for a, c in terms.items() if c}, self.const + other.const)


@dataclass(frozen=True, slots=True)
class LinearKinds:
    """What the linearizer needs to know about names: option kinds, enum values, derived formulas."""

    kinds: Mapping[str, str]
    values: Mapping[str, tuple[str, ...]]
    derived: Mapping[str, Formula]


def linearize(formula: Formula, kinds: LinearKinds) -> Linear:
    """The linear form of a numeric formula, or `NotLinearError` saying which part is not linear."""
    return _Linearizer(kinds, formula.source).form(formula.tree)


Comparison = tuple[Linear, str]
"""``(form, op)`` meaning ``form op 0`` with op one of ``== != < <= > >=``."""


def comparisons(formula: Formula, kinds: LinearKinds) -> list[Comparison]:
    """A condition as a conjunction of linear comparisons (``and`` and chained comparisons split)."""
    return _Linearizer(kinds, formula.source).conjunction(formula.tree)


def node_comparisons(node: ast.expr, kinds: LinearKinds, source: str) -> list[Comparison]:
    """`comparisons` of one node of a formula's tree (for ``or`` and ``not`` handled by the caller)."""
    return _Linearizer(kinds, source).conjunction(node)


_OPS: Final[dict[type[ast.cmpop], str]] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}


class _Linearizer:
    def __init__(self, kinds: LinearKinds, source: str) -> None:
        self.kinds = kinds
        self.source = source

    def fail(self, what: str) -> NotLinearError:
        return NotLinearError(f"formula {self.source!r}: {what} is not linear over the options")

    def form(self, node: ast.expr) -> Linear:  # noqa: PLR0911 - one branch per node type
        if isinstance(node, ast.Constant):
            value = constant(node.value)
            if isinstance(value, str):
                raise self.fail(f"the text {value!r}")
            return Linear({}, Fraction(value))
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = self.form(node.operand)
            return inner.scaled(Fraction(-1)) if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return Linear({}, Fraction(1)).plus(self.indicator(node.operand).scaled(Fraction(-1)))
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len":
            arg = node.args[0]
            if len(node.args) == 1 and isinstance(arg, ast.Name) and self.kinds.kinds.get(arg.id) == "text":
                return Linear({("len", arg.id): Fraction(1)})
            raise self.fail("len() of something other than a text option")
        if isinstance(node, ast.IfExp):
            body, orelse = self.form(node.body), self.form(node.orelse)
            if body.terms or orelse.terms:
                raise self.fail("a conditional expression with non-constant branches")
            return Linear({}, orelse.const).plus(self.indicator(node.test).scaled(body.const - orelse.const))
        if isinstance(node, ast.Compare | ast.BoolOp):
            return self.indicator(node)
        raise self.fail(ast.unparse(node))

    def name(self, name: str) -> Linear:
        kind = self.kinds.kinds.get(name)
        if kind in ("int", "bool"):
            return Linear({("val", name): Fraction(1)})
        if name in self.kinds.derived:
            return _Linearizer(self.kinds, self.kinds.derived[name].source).form(self.kinds.derived[name].tree)
        if kind is None:
            raise FormulaError(f"formula {self.source!r}: unknown name {name!r}")
        raise self.fail(f"the {kind} option {name!r} used as a number")

    def binop(self, node: ast.BinOp) -> Linear:
        left, right = self.form(node.left), self.form(node.right)
        if isinstance(node.op, ast.Add):
            return left.plus(right)
        if isinstance(node.op, ast.Sub):
            return left.plus(right.scaled(Fraction(-1)))
        if isinstance(node.op, ast.Mult):
            if not left.terms:
                return right.scaled(left.const)
            if not right.terms:
                return left.scaled(right.const)
            raise self.fail("a product of two option-dependent values")
        if isinstance(node.op, ast.Div) and not right.terms and right.const:
            return left.scaled(1 / right.const)
        if not left.terms and not right.terms:
            value = arith(node.op, _fraction_value(left.const), _fraction_value(right.const))
            return Linear({}, Fraction(number(value)))
        raise self.fail(ast.unparse(node))

    def indicator(self, node: ast.expr) -> Linear:
        """A 0/1 form for a condition on one enum or bool option (the only linear conditions)."""
        if isinstance(node, ast.Name) and self.kinds.kinds.get(node.id) == "bool":
            return Linear({("val", node.id): Fraction(1)})
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return Linear({}, Fraction(1)).plus(self.indicator(node.operand).scaled(Fraction(-1)))
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.left, ast.Name):
            name = node.left.id
            if self.kinds.kinds.get(name) == "enum":
                chosen = self.enum_values(name, node.ops[0], node.comparators[0])
                return Linear({("is", name, v): Fraction(1) for v in chosen})
        raise self.fail(f"the condition {ast.unparse(node)!r} used as a number")

    def enum_values(self, name: str, op: ast.cmpop, right: ast.expr) -> list[str]:
        listed = right.elts if isinstance(right, ast.Tuple | ast.List) else [right]
        wanted = [e.value for e in listed if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        if len(wanted) != len(listed):
            raise self.fail(f"comparing option {name!r} with something other than text")
        offered = self.kinds.values[name]
        for value in wanted:
            if value not in offered:
                raise FormulaError(
                    f"formula {self.source!r}: option {name!r} has no value {value!r}; values: {', '.join(offered)}"
                )
        if isinstance(op, ast.Eq | ast.In):
            return wanted
        if isinstance(op, ast.NotEq | ast.NotIn):
            return [v for v in offered if v not in wanted]
        raise self.fail(f"ordering the enum option {name!r}")

    def conjunction(self, node: ast.expr) -> list[Comparison]:
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
            return [c for value in node.values for c in self.conjunction(value)]
        if isinstance(node, ast.Compare) and not self.is_enum_compare(node):
            result: list[Comparison] = []
            left = node.left
            for op, right in zip(node.ops, node.comparators, strict=True):
                if type(op) not in _OPS:
                    raise self.fail(f"'in' over the numeric value {ast.unparse(left)!r}")
                form = self.form(left).plus(self.form(right).scaled(Fraction(-1)))
                result.append((form, _OPS[type(op)]))
                left = right
            return result
        return [(self.indicator(node).plus(Linear({}, Fraction(-1))), "==")]

    def is_enum_compare(self, node: ast.Compare) -> bool:
        return isinstance(node.left, ast.Name) and self.kinds.kinds.get(node.left.id) == "enum"


def _fraction_value(value: Fraction) -> int | Decimal:
    if value.denominator == 1:
        return int(value)
    return Decimal(value.numerator) / Decimal(value.denominator)

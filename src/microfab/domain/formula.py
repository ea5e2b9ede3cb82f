"""The product formula language: a whitelisted subset of Python expressions, evaluated without ``eval``.

A formula is parsed with `ast.parse` (``mode="eval"``) and every node is checked against a
whitelist: numbers, text, ``True``/``False``, names of options and derived values, arithmetic
(``+ - * / // %``, ``**`` with a small constant exponent), comparisons (also ``in`` a literal
tuple), ``and``/``or``/``not``, the conditional expression ``a if c else b`` and the calls
``min``, ``max``, ``len`` and ``round``. Attribute access, subscripts, lambdas,
comprehensions, other calls and huge literals are rejected with a `FormulaError`.

Numbers are exact: integers stay ``int``, everything else is a `~decimal.Decimal` (money).
`microfab.domain.linear` turns a formula into a linear form over option atoms for the solver.
"""

from __future__ import annotations

import ast
import decimal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Final

Value = int | bool | str | Decimal
"""What a formula computes: a number, a truth value or text."""

MAX_SOURCE: Final = 2000
MAX_NODES: Final = 400
MAX_EXPONENT: Final = 8
MAX_LITERAL: Final = 10**12
MAX_TEXT: Final = 256
FUNCTIONS: Final = frozenset({"min", "max", "len", "round"})
_CONTEXT: Final = decimal.Context(prec=40, rounding=decimal.ROUND_HALF_EVEN)

_ALLOWED: Final = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Pow,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.IfExp,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Tuple,
    ast.List,
)
_FORBIDDEN_NAMES: Final = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.NamedExpr: "assignment expressions",
    ast.Starred: "starred arguments",
    ast.JoinedStr: "f-strings",
    ast.Await: "await",
    ast.Dict: "dict literals",
    ast.Set: "set literals",
}


class FormulaError(ValueError):
    """A formula uses a forbidden construct, an unknown name, or fails to evaluate."""


class NotLinearError(FormulaError):
    """A formula cannot be written as a linear expression over option atoms."""


@dataclass(frozen=True, slots=True)
class Formula:
    """A parsed and checked formula: its source text, its AST and the names it reads."""

    source: str
    tree: ast.expr = field(compare=False, repr=False)
    names: frozenset[str] = field(compare=False)

    def __str__(self) -> str:
        return self.source

    def evaluate(self, env: Mapping[str, Value]) -> Value:
        """The value of the formula with every name looked up in *env*."""
        return _Evaluator(env).eval(self.tree)

    def truth(self, env: Mapping[str, Value]) -> bool:
        """The formula's value as a condition (it must be a truth value or a number)."""
        value = self.evaluate(env)
        if isinstance(value, str):
            raise FormulaError(f"{self.source!r}: expected a condition, got text {value!r}")
        return bool(value)

    def number(self, env: Mapping[str, Value]) -> Decimal:
        """The formula's value as an exact number."""
        value = self.evaluate(env)
        if isinstance(value, str):
            raise FormulaError(f"{self.source!r}: expected a number, got text {value!r}")
        return Decimal(int(value)) if isinstance(value, int) else value


def parse(source: object) -> Formula:
    """Parse and check *source*; raise `FormulaError` naming the forbidden construct."""
    if isinstance(source, bool) or not isinstance(source, str | int | float | Decimal):
        raise FormulaError(f"expected a formula as text or a number, got {source!r}")
    text = str(source).strip()
    if not text:
        raise FormulaError("expected a formula, got an empty text")
    if len(text) > MAX_SOURCE:
        raise FormulaError(f"formula is too long ({len(text)} characters, at most {MAX_SOURCE})")
    return _parse_text(text)


@lru_cache(maxsize=4096)
def _parse_text(text: str) -> Formula:
    """Parse checked text once: a `Formula` is immutable, so every product that writes the same text shares it."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"invalid formula {text!r}: {exc.msg}") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise FormulaError(f"formula {text!r} is too large ({len(nodes)} nodes, at most {MAX_NODES})")
    names: set[str] = set()
    for node in nodes:
        _check_node(node, text)
        if isinstance(node, ast.Name) and node.id not in FUNCTIONS:
            names.add(node.id)
    return Formula(text, tree.body, frozenset(names))


def _check_node(node: ast.AST, text: str) -> None:  # noqa: C901 - one check per construct
    if not isinstance(node, _ALLOWED):
        what = _FORBIDDEN_NAMES.get(type(node), type(node).__name__)
        raise FormulaError(f"formula {text!r} uses {what}, which formulas do not allow")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            called = node.func.id if isinstance(node.func, ast.Name) else "an expression"
            allowed = ", ".join(sorted(FUNCTIONS))
            raise FormulaError(f"formula {text!r} calls {called}; only {allowed} may be called")
        if node.keywords or not node.args:
            raise FormulaError(f"formula {text!r}: {node.func.id}() takes positional arguments only")
    elif isinstance(node, ast.Name) and node.id in FUNCTIONS:
        pass  # checked where it is called; a bare function name fails in evaluation
    elif isinstance(node, ast.Constant):
        _checkconstant(node.value, text)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        exponent = node.right
        if not (
            isinstance(exponent, ast.Constant) and type(exponent.value) is int and 0 <= exponent.value <= MAX_EXPONENT
        ):
            raise FormulaError(f"formula {text!r}: ** needs a whole constant exponent from 0 to {MAX_EXPONENT}")
    elif isinstance(node, ast.Compare):
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn) and not isinstance(right, ast.Tuple | ast.List):
                raise FormulaError(f'formula {text!r}: \'in\' needs a literal list like ("a", "b")')
    elif isinstance(node, ast.Tuple | ast.List) and not all(isinstance(e, ast.Constant) for e in node.elts):
        raise FormulaError(f"formula {text!r}: a list may hold only constants")


def _checkconstant(value: object, text: str) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int) and abs(value) > MAX_LITERAL:
        raise FormulaError(f"formula {text!r}: the number {value} is too large (at most {MAX_LITERAL})")
    if isinstance(value, float) and not (abs(value) <= MAX_LITERAL):
        raise FormulaError(f"formula {text!r}: the number {value} is too large (at most {MAX_LITERAL})")
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise FormulaError(f"formula {text!r}: a text literal is longer than {MAX_TEXT} characters")
    if not isinstance(value, int | float | str):
        raise FormulaError(f"formula {text!r}: the literal {value!r} is not allowed")


def number(value: Value) -> int | Decimal:
    """*value* as a number (``True`` is 1); text is a `FormulaError`."""
    if isinstance(value, str):
        raise FormulaError(f"expected a number, got text {value!r}")
    return int(value) if isinstance(value, bool) else value


def arith(op: ast.operator, left: Value, right: Value) -> Value:  # noqa: PLR0911 - one branch per operator
    """``left op right`` exactly: integers stay integers, ``/`` and decimals give `~decimal.Decimal`."""
    a, b = number(left), number(right)
    both_int = isinstance(a, int) and isinstance(b, int)
    with decimal.localcontext(_CONTEXT):
        if isinstance(op, ast.Add):
            return a + b
        if isinstance(op, ast.Sub):
            return a - b
        if isinstance(op, ast.Mult):
            return a * b
        if isinstance(op, ast.Pow):
            return a**b if both_int else Decimal(a) ** int(b)
        if b == 0:
            raise FormulaError("division by zero")
        if isinstance(op, ast.Div):
            return Decimal(a) / Decimal(b)
        if isinstance(op, ast.FloorDiv):
            return a // b if both_int else Decimal(a) // Decimal(b)
        if isinstance(op, ast.Mod):
            return a % b if both_int else Decimal(a) % Decimal(b)
    raise FormulaError(f"operator {type(op).__name__} is not allowed")  # pragma: no cover - whitelist


def _compare(op: ast.cmpop, left: Value, right: Value | tuple[Value, ...]) -> bool:  # noqa: PLR0911
    if isinstance(op, ast.In):
        return isinstance(right, tuple) and left in right
    if isinstance(op, ast.NotIn):
        return isinstance(right, tuple) and left not in right
    if isinstance(right, tuple):
        raise FormulaError("a list may only follow 'in'")
    if isinstance(op, ast.Eq):
        return left == right
    if isinstance(op, ast.NotEq):
        return left != right
    if isinstance(left, str) != isinstance(right, str):
        raise FormulaError(f"cannot order {left!r} and {right!r}")
    if isinstance(op, ast.Lt):
        return left < right  # type: ignore[operator]
    if isinstance(op, ast.LtE):
        return left <= right  # type: ignore[operator]
    if isinstance(op, ast.Gt):
        return left > right  # type: ignore[operator]
    return left >= right  # type: ignore[operator]


def constant(value: object) -> Value:
    """A literal's value (a float literal becomes the `~decimal.Decimal` of its text)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    assert isinstance(value, int | str)
    return value


class _Evaluator:
    """Walks a checked AST; every node type is one of the whitelist."""

    def __init__(self, env: Mapping[str, Value]) -> None:
        self.env = env

    def eval(self, node: ast.expr) -> Value:  # noqa: PLR0911 - one branch per node type
        if isinstance(node, ast.Constant):
            return constant(node.value)
        if isinstance(node, ast.Name):
            try:
                return self.env[node.id]
            except KeyError:
                raise FormulaError(f"unknown name {node.id!r}") from None
        if isinstance(node, ast.BinOp):
            return arith(node.op, self.eval(node.left), self.eval(node.right))
        if isinstance(node, ast.UnaryOp):
            value = self.eval(node.operand)
            if isinstance(node.op, ast.Not):
                return not value
            operand = number(value)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BoolOp):
            return self.bool_op(node)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.IfExp):
            return self.eval(node.body) if self.eval(node.test) else self.eval(node.orelse)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise FormulaError(f"{type(node).__name__} is not allowed here")

    def bool_op(self, node: ast.BoolOp) -> bool:
        values = (bool(self.eval(v)) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)

    def compare(self, node: ast.Compare) -> bool:
        left = self.eval(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right: Value | tuple[Value, ...]
            if isinstance(comparator, ast.Tuple | ast.List):
                right = tuple(self.eval(e) for e in comparator.elts)
            else:
                right = self.eval(comparator)
            if not _compare(op, left, right):
                return False
            if not isinstance(right, tuple):
                left = right
        return True

    def call(self, node: ast.Call) -> Value:
        assert isinstance(node.func, ast.Name)
        args = [self.eval(a) for a in node.args]
        name = node.func.id
        if name == "len":
            if len(args) != 1 or not isinstance(args[0], str):
                raise FormulaError("len() takes one text option")
            return len(args[0])
        if name in {"min", "max"}:
            numbers = [number(a) for a in args]
            return min(numbers) if name == "min" else max(numbers)
        return _round(args)


def _round(args: list[Value]) -> Value:
    if len(args) not in (1, 2):
        raise FormulaError("round() takes a number and optional decimal places")
    amount = Decimal(number(args[0]))
    if len(args) == 1:
        return int(amount.quantize(Decimal(1), rounding=decimal.ROUND_HALF_EVEN))
    places = number(args[1])
    if not isinstance(places, int) or not 0 <= places <= 12:
        raise FormulaError("round(): decimal places must be a whole number from 0 to 12")
    return amount.quantize(Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_EVEN)


def render(template: str, env: Mapping[str, Value], placeholder: Callable[[str], str] | None = None) -> str:
    """Fill ``{name}`` placeholders of a rule message with *env*'s values (no format-string features)."""
    out: list[str] = []
    i = 0
    while i < len(template):
        start = template.find("{", i)
        if start < 0:
            out.append(template[i:])
            break
        end = template.find("}", start)
        if end < 0:
            out.append(template[i:])
            break
        out.append(template[i:start])
        name = template[start + 1 : end]
        if name in env:
            value = env[name]
            out.append(("yes" if value else "no") if isinstance(value, bool) else str(value))
        else:
            out.append(placeholder(name) if placeholder else template[start : end + 1])
        i = end + 1
    return "".join(out)


def placeholders(template: str) -> list[str]:
    """The ``{name}`` placeholders of a message template."""
    names: list[str] = []
    i = 0
    while (start := template.find("{", i)) >= 0:
        end = template.find("}", start)
        if end < 0:
            break
        names.append(template[start + 1 : end])
        i = end + 1
    return names

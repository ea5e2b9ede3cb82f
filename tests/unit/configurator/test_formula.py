"""The formula sandbox: a whitelist of nodes, exact numbers, no eval."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microfab.domain.formula import FormulaError, NotLinearError, parse, render
from microfab.domain.linear import LinearKinds, linearize


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("width.__class__", "attribute access"),
        ("().__class__.__bases__[0]", "subscripts"),
        ("width[0]", "subscripts"),
        ("(lambda: 1)()", "calls an expression"),
        ("[x for x in (1, 2)]", "comprehensions"),
        ("__import__('os')", "calls __import__"),
        ("open('x')", "calls open"),
        ("eval('1')", "calls eval"),
        ("2 ** 100", "constant exponent from 0 to 8"),
        ("2 ** width", "constant exponent"),
        ("10 ** 10 ** 10", "constant exponent"),
        ("99999999999999999999", "too large"),
        ("(x := 1)", "assignment expressions"),
        ("f'{width}'", "f-strings"),
        ("{1: 2}", "dict literals"),
        ("max(width, key=abs)", "positional arguments only"),
        ("width in other", "literal list"),
        ("1 +", "invalid formula"),
        ("", "empty"),
        ("x" * 3000, "too long"),
    ],
)
def test_forbidden_constructs_are_rejected(source: str, words: str) -> None:
    with pytest.raises(FormulaError, match=words):
        parse(source)


def test_evaluation_is_exact() -> None:
    env = {"width": 310, "finish": "raw", "hub": True, "text": "ABC"}
    assert parse("width / 100").evaluate(env) == Decimal("3.1")
    assert parse("0.1 + 0.2").evaluate(env) == Decimal("0.3")
    assert parse("width // 100 + width % 100").evaluate(env) == 13
    assert parse("2 ** 3 * -1").evaluate(env) == -8
    assert parse('12 if finish in ("raw", "x") else 0').evaluate(env) == 12
    assert parse("min(width, 300) + max(1, 2) + len(text)").evaluate(env) == 305
    assert parse("round(2.5) + round(3.14159, 2)").evaluate(env) == Decimal("5.14")
    assert parse("hub and not width > 400 or False").truth(env)
    assert parse("250 <= width < 400").truth(env)
    assert parse("hub + 1").evaluate(env) == 2
    assert parse("3").names == frozenset()
    assert parse("width + len(text)").names == {"width", "text"}


@pytest.mark.parametrize(
    ("source", "words"), [("1 / 0", "division by zero"), ("nope", "unknown name"), ("len(width)", "len")]
)
def test_evaluation_errors_are_formula_errors(source: str, words: str) -> None:
    with pytest.raises(FormulaError, match=words):
        parse(source).evaluate({"width": 3})


@given(st.integers(-1000, 1000), st.integers(-1000, 1000), st.integers(1, 50))
def test_arithmetic_agrees_with_fractions(a: int, b: int, c: int) -> None:
    value = parse("(a * 3 - b) / c + b // c").evaluate({"a": a, "b": b, "c": c})
    expected = Fraction(a * 3 - b, c) + b // c
    assert abs(Fraction(value) - expected) < Fraction(1, 10**30)


KINDS = LinearKinds(
    {"width": "int", "hub": "bool", "finish": "enum", "text": "text"},
    {"finish": ("raw", "black", "silver")},
    {"chars": parse("len(text)")},
)


def test_linear_forms() -> None:
    form = linearize(parse('width / 10 - 2 * chars + (5 if finish != "raw" else 1) + (3 if hub else 0)'), KINDS)
    assert form.const == 1
    assert form.terms == {
        ("val", "width"): Fraction(1, 10),
        ("len", "text"): -2,
        ("is", "finish", "black"): 4,
        ("is", "finish", "silver"): 4,
        ("val", "hub"): 3,
    }
    with pytest.raises(NotLinearError, match="product of two"):
        linearize(parse("width * width"), KINDS)
    with pytest.raises(NotLinearError, match="non-constant branches"):
        linearize(parse("width if hub else 0"), KINDS)
    with pytest.raises(FormulaError, match="no value 'gold'"):
        linearize(parse('3 if finish == "gold" else 0'), KINDS)


def test_messages_render_without_format_features() -> None:
    assert render("{width} mm, {hub}, {x.__class__}", {"width": 300, "hub": False}) == "300 mm, no, {x.__class__}"

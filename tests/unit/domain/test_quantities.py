"""Duration, Money and Mass: text forms, exact arithmetic, and what they refuse."""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microfab.domain.errors import CurrencyMismatchError
from microfab.domain.quantities import Duration, Mass, Money


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("15m", 900),
        ("1h30m", 5400),
        ("2.5h", 9000),
        ("1d", 86400),
        ("1w", 604800),
        ("1h 30m", 5400),
        ("0s", 0),
        ("1.5m", 90),
    ],
)
def test_duration_parses(text: str, seconds: int) -> None:
    assert Duration.parse(text) == Duration(seconds)


@pytest.mark.parametrize("text", ["15 minutes", "-1m", "0.5s", "", "15", "m", "1m30", "1.01m", "1y", "1,5h"])
def test_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text)):
        Duration.parse(text)


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (90, "1m30s"), (5400, "1h30m"), (90061, "1d1h1m1s")])
def test_duration_str(seconds: int, text: str) -> None:
    assert str(Duration(seconds)) == text


@given(st.integers(min_value=0, max_value=10**9))
def test_duration_str_parses_back(seconds: int) -> None:
    assert Duration.parse(str(Duration(seconds))) == Duration(seconds)


def test_duration_arithmetic_and_views() -> None:
    d = Duration.parse("1h30m")
    assert d + Duration(30) == Duration(5430)
    assert d - Duration(5400) == Duration(0)
    assert d * 2 == Duration.parse("3h")
    assert Duration.of(days=1, hours=2, minutes=3, seconds=4) == Duration(93784)
    assert d.hours == Decimal("1.5")
    assert d.to_timedelta() == timedelta(hours=1, minutes=30)
    assert Duration(1) < Duration(2)
    with pytest.raises(ValueError, match="seconds"):
        Duration(10) - Duration(11)


@pytest.mark.parametrize("bad", [1.5, True, "10"])
def test_duration_needs_whole_int_seconds(bad: object) -> None:
    with pytest.raises(TypeError, match="seconds"):
        Duration(bad)  # type: ignore[arg-type]


def test_duration_is_non_negative() -> None:
    with pytest.raises(ValueError, match="seconds"):
        Duration(-1)


# ---------------------------------------------------------------- Money


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def test_money_parses_and_prints() -> None:
    assert Money.parse("38.50 USD") == usd("38.5")
    assert Money.parse("  -3 EUR ") == Money(Decimal(-3), "EUR")
    assert str(usd("38.5")) == "38.50 USD"
    assert str(Money(Decimal("5790.4"), "JPY")) == "5790 JPY"
    assert Money.zero("VND") == Money(Decimal(0), "VND")


@pytest.mark.parametrize("text", ["38.50", "USD 38.50", "38.50 usd", "1e3 USD", "38.50 XXX", "abc"])
def test_money_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"money|currency"):
        Money.parse(text)


def test_money_arithmetic_is_exact() -> None:
    assert usd("0.1") + usd("0.2") == usd("0.3")
    assert usd("1") - usd("0.01") == usd("0.99")
    assert usd("1.10") * 3 == usd("3.30")
    assert 3 * usd("1.10") == usd("3.30")
    assert usd("10") * Decimal("0.075") == usd("0.75")
    assert -usd("2") == usd("-2")
    assert usd("1") < usd("2") <= usd("2") < usd("3")
    assert usd("3") > usd("2") >= usd("2")


@pytest.mark.parametrize("bad", [1.5, 2, "1.5"])
def test_money_refuses_non_decimal_amounts(bad: object) -> None:
    with pytest.raises(TypeError, match="amount"):
        Money(bad, "USD")  # type: ignore[arg-type]


def test_money_refuses_float_factors() -> None:
    with pytest.raises(TypeError, match="float"):
        usd("1") * 1.5  # type: ignore[operator]


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity"])
def test_money_refuses_non_finite(amount: str) -> None:
    with pytest.raises(ValueError, match="finite"):
        usd(amount)


def test_money_refuses_unknown_currency() -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(Decimal(1), "ABC")


@pytest.mark.parametrize("combine", [operator.add, operator.sub, operator.lt, operator.le, operator.gt, operator.ge])
def test_mixing_currencies_raises(combine: Callable[[Money, Money], object]) -> None:
    with pytest.raises(CurrencyMismatchError, match=r"USD.*EUR") as info:
        combine(usd("1"), Money(Decimal(1), "EUR"))
    assert (info.value.left, info.value.right) == ("USD", "EUR")


def test_money_plus_something_else_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="Money"):
        usd("1") + 1  # type: ignore[operator]


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("2.5", "JPY", "2"),
        ("3.5", "JPY", "4"),
        ("1234.5", "VND", "1234"),
        ("1235.5", "VND", "1236"),
        ("0.125", "USD", "0.12"),
        ("0.135", "USD", "0.14"),
        ("-0.125", "EUR", "-0.12"),
        ("7", "USD", "7.00"),
    ],
)
def test_quantize_rounds_half_even_to_the_minor_unit(amount: str, currency: str, expected: str) -> None:
    rounded = Money(Decimal(amount), currency).quantize()
    assert rounded == Money(Decimal(expected), currency)
    assert str(rounded.amount) == expected


def test_quantize_with_another_rounding() -> None:
    assert usd("0.125").quantize("ROUND_HALF_UP") == usd("0.13")


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=4), st.sampled_from(["USD", "JPY", "VND", "EUR"]))
def test_quantize_is_idempotent_and_close(amount: Decimal, currency: str) -> None:
    once = Money(amount, currency).quantize()
    assert once.quantize() == once
    assert abs(once.amount - amount) <= Decimal("0.5")


# ---------------------------------------------------------------- Mass


@pytest.mark.parametrize(
    ("text", "kg"), [("2.5 kg", "2.5"), ("300 g", "0.3"), ("1 t", "1000"), ("0kg", "0"), (" 12.75kg ", "12.75")]
)
def test_mass_parses(text: str, kg: str) -> None:
    assert Mass.parse(text) == Mass(Decimal(kg))


@pytest.mark.parametrize("text", ["2.5", "-1 kg", "2.5 lb", "kg", "1.5 KG"])
def test_mass_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="mass"):
        Mass.parse(text)


def test_mass_arithmetic_and_str() -> None:
    assert Mass.parse("300 g") + Mass.parse("2.2 kg") == Mass(Decimal("2.5"))
    assert Mass(Decimal("0.25")) * 4 == Mass(Decimal(1))
    assert str(Mass.parse("2.50 kg")) == "2.5 kg"
    assert str(Mass.parse("1 t")) == "1000 kg"
    assert Mass(Decimal(1)) < Mass(Decimal(2))
    with pytest.raises(TypeError, match="float"):
        Mass(Decimal(1)) * 0.5  # type: ignore[operator]
    with pytest.raises(TypeError, match="kg"):
        Mass(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kg"):
        Mass(Decimal(-1))


@pytest.mark.parametrize("text", ["1h1h", "30m2h", "5s1m"])
def test_duration_units_appear_once_largest_first(text: str) -> None:
    with pytest.raises(ValueError, match="largest first"):
        Duration.parse(text)

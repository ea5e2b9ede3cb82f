"""Property tests of the quantity text forms manifests use: round trips and rejection of anything else."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microfab.domain.quantities import MINOR_UNITS, Duration, Mass, Money
from microfab.manifests.fields import parse_decimal, parse_duration, parse_mass, parse_money

ASCII = st.text(alphabet=st.characters(codec="ascii"), max_size=20)
# Independent grammars of the valid forms (ASCII digits only), to filter the invalid ones.
DURATION = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?[smhdw])+")
MONEY = re.compile(r"\s*-?[0-9]+(?:\.[0-9]+)?\s*[A-Z]{3}\s*")
MASS = re.compile(r"\s*[0-9]+(?:\.[0-9]+)?\s*(?:g|kg|t)\s*")
TWO_DECIMALS = sorted(code for code, places in MINOR_UNITS.items() if places == 2)


@given(st.integers(min_value=0, max_value=10**9))
def test_duration_round_trips_through_text(seconds: int) -> None:
    duration = Duration(seconds)
    assert Duration.parse(str(duration)) == duration
    assert parse_duration(str(duration)) == duration


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=59))
def test_duration_parts_add_up(minutes: int, seconds: int) -> None:
    assert Duration.parse(f"{minutes}m{seconds}s") == Duration(minutes * 60 + seconds)


@given(ASCII.filter(lambda s: not DURATION.fullmatch(s.strip().replace(" ", ""))))
def test_duration_rejects_other_text(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        Duration.parse(text)
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(text)


@given(
    st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
    st.sampled_from(TWO_DECIMALS),
)
def test_money_round_trips_through_text(amount: Decimal, currency: str) -> None:
    money = Money(amount, currency)
    assert Money.parse(str(money)) == money
    assert parse_money(str(money)) == money


@given(ASCII.filter(lambda s: not MONEY.fullmatch(s)))
def test_money_rejects_other_text(text: str) -> None:
    with pytest.raises(ValueError, match="expected money"):
        Money.parse(text)


@given(st.decimals(min_value=0, max_value=10**6, places=6, allow_nan=False, allow_infinity=False))
def test_mass_round_trips_through_text(kg: Decimal) -> None:
    mass = Mass(kg)
    assert Mass.parse(str(mass)) == mass
    assert parse_mass(str(mass)) == mass


@given(ASCII.filter(lambda s: not MASS.fullmatch(s)))
def test_mass_rejects_other_text(text: str) -> None:
    with pytest.raises(ValueError, match="expected a mass"):
        Mass.parse(text)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_yaml_floats_become_decimals_through_their_text(number: float) -> None:
    assert parse_decimal(number) == Decimal(str(number))


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimal_text_is_exact(number: Decimal) -> None:
    assert parse_decimal(str(number)) == number

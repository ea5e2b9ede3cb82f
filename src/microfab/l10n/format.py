"""Display with CLDR (Babel): money, percentages, dates and country names in the buyer's locale.

Amounts arrive already rounded with `decimal` by the engines (Babel's own rounding is
half-even); these functions only display them, never round again.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

from microfab.domain.quantities import MINOR_UNITS, Money


def _locale(tag: str) -> Locale:
    return Locale.parse(tag.replace("-", "_"))


def money(amount: Money, tag: str) -> str:
    """``Money(1234.5, EUR)`` in ``de-DE`` → ``1.234,50 €``; JPY and VND show no decimals."""
    digits = MINOR_UNITS[amount.currency]
    exact = amount.amount.quantize(Decimal(1).scaleb(-digits))
    if exact != amount.amount:
        raise ValueError(f"amount: {amount} is not rounded to {amount.currency}'s minor unit; round before display")
    return format_currency(
        exact, amount.currency, locale=_locale(tag), currency_digits=True, decimal_quantization=False
    )


def percent(share: Decimal, tag: str) -> str:
    """``Decimal("0.19")`` in ``de-DE`` → ``19 %``; keeps every significant digit (``5,75 %``)."""
    return format_percent(share, locale=_locale(tag), decimal_quantization=False)


def number(value: Decimal | int, tag: str) -> str:
    """A plain decimal number with the locale's separators, every digit kept."""
    return format_decimal(value, locale=_locale(tag), decimal_quantization=False)


def day(value: date, tag: str, style: str = "long") -> str:
    """A calendar date (``25. November 2026``, ``2026年11月25日``)."""
    return format_date(value, format=style, locale=_locale(tag))


def country(code: str, tag: str) -> str:
    """The country's name in the locale's language (``US`` in ``de-DE`` → ``Vereinigte Staaten``)."""
    return str(_locale(tag).territories.get(code, code))


def language_name(tag: str) -> str:
    """The locale's own name for its language and territory (``Deutsch (Deutschland)``)."""
    return str(_locale(tag).display_name)

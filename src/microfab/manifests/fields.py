"""Pydantic field types for manifest values: quantities, decimals, codes, dates and names.

Each type parses the text form with the domain's own parser and fails with a
`~pydantic_core.PydanticCustomError` whose message says what was expected and what was
written, so the message reaches the operator unchanged.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, PlainValidator
from pydantic_core import PydanticCustomError

from microfab.domain.quantities import MINOR_UNITS, Duration, Mass, Money

_COUNTRY: Final = re.compile(r"[A-Z]{2}")
# BCP 47 as used for CLDR locales: language, optional script, optional region (es-MX, zh-Hant-TW, es-419).
_LOCALE: Final = re.compile(r"[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?")


def fail(kind: str, message: str) -> PydanticCustomError:
    """Build an error that pydantic reports with *message* as is (no context formatting)."""
    return PydanticCustomError(kind, message)


def _text(value: Any, expected: str) -> str:
    if isinstance(value, str):
        return value
    raise fail("text_type", f"expected {expected}, got {value!r}")


def parse_duration(value: Any) -> Duration:
    """Parse a duration like ``"15m"``; fail with the domain's message."""
    try:
        return Duration.parse(_text(value, "a duration like '90s', '15m', '1h30m', '2d'"))
    except ValueError as exc:
        raise fail("duration", str(exc)) from None


def parse_money(value: Any) -> Money:
    """Parse money like ``"38.50 USD"``."""
    text = _text(value, "money like '38.50 USD'")
    try:
        return Money.parse(text)
    except ValueError as exc:
        if "currency" in str(exc):
            raise fail("currency", f"expected an ISO 4217 currency code like 'USD' in {text!r}") from None
        raise fail("money", str(exc)) from None


def parse_mass(value: Any) -> Mass:
    """Parse a mass like ``"2.5 kg"``."""
    try:
        return Mass.parse(_text(value, "a mass like '2.5 kg' or '300 g'"))
    except ValueError as exc:
        raise fail("mass", str(exc)) from None


def parse_decimal(value: Any) -> Decimal:
    """Parse an exact decimal from text or a YAML number (via ``str``, never float arithmetic)."""
    expected = "a decimal number like '0.92' or 1.25"
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise fail("decimal", f"expected {expected}, got {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise fail("decimal", f"expected {expected}, got {value!r}") from None
    if not number.is_finite():
        raise fail("decimal", f"expected a finite number, got {value!r}")
    return number


def parse_date(value: Any) -> date:
    """Parse a date from ISO text ``2026-11-02``."""
    if isinstance(value, date):
        return value
    text = _text(value, "a date like 2026-11-02")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail("date", f"expected a date like 2026-11-02, got {text!r}") from None


def parse_currency(value: Any) -> str:
    """Check an ISO 4217 code the domain knows."""
    code = _text(value, "an ISO 4217 currency code like 'USD'")
    if code not in MINOR_UNITS:
        known = ", ".join(sorted(MINOR_UNITS))
        raise fail("currency", f"expected an ISO 4217 currency code (one of {known}), got {code!r}")
    return code


def parse_country(value: Any) -> str:
    """Check an ISO 3166-1 alpha-2 code (two capital letters)."""
    code = _text(value, "an ISO 3166-1 alpha-2 country code like 'MX'")
    if not _COUNTRY.fullmatch(code):
        raise fail("country", f"expected an ISO 3166-1 alpha-2 country code like 'MX', got {code!r}")
    return code


def parse_locale(value: Any) -> str:
    """Check a BCP 47 locale like ``es-MX``."""
    tag = _text(value, "a BCP 47 locale like 'es-MX'")
    if not _LOCALE.fullmatch(tag):
        raise fail("locale", f"expected a BCP 47 locale like 'es-MX' or 'de-DE', got {tag!r}")
    return tag


def parse_timezone(value: Any) -> str:
    """Check an IANA time zone name this machine knows."""
    name = _text(value, "an IANA time zone like 'Europe/Berlin'")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise fail("timezone", f"expected an IANA time zone like 'Europe/Berlin', got {name!r}") from None
    return name


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def parse_positive_duration(value: Any) -> Duration:
    """Parse a duration greater than zero."""
    duration = parse_duration(value)
    if duration.seconds <= 0:
        raise fail("duration", f"expected a duration > 0, got {value!r}")
    return duration


def parse_positive_decimal(value: Any) -> Decimal:
    """Parse a decimal greater than zero."""
    number = parse_decimal(value)
    if number <= 0:
        raise fail("decimal", f"expected a number > 0, got {value!r}")
    return number


def parse_share(value: Any) -> Decimal:
    """Parse a share in (0, 1], like a yield of ``0.99``."""
    number = parse_decimal(value)
    if not Decimal(0) < number <= 1:
        raise fail("decimal", f"expected a share in (0, 1], like '0.99', got {value!r}")
    return number


def parse_price(value: Any) -> Money:
    """Parse money that is not negative (a price or a cost)."""
    money = parse_money(value)
    if money.amount < 0:
        raise fail("money", f"expected an amount >= 0, got {value!r}")
    return money


DurationText = Annotated[Duration, PlainValidator(parse_duration)]
MoneyText = Annotated[Money, PlainValidator(parse_money)]
MassText = Annotated[Mass, PlainValidator(parse_mass)]
DecimalNumber = Annotated[Decimal, PlainValidator(parse_decimal)]
PositiveDuration = Annotated[Duration, PlainValidator(parse_positive_duration)]
PositiveDecimal = Annotated[Decimal, PlainValidator(parse_positive_decimal)]
Share = Annotated[Decimal, PlainValidator(parse_share)]
Price = Annotated[Money, PlainValidator(parse_price)]
DateText = Annotated[date, PlainValidator(parse_date)]
Currency = Annotated[str, PlainValidator(parse_currency)]
Country = Annotated[str, PlainValidator(parse_country)]
Locale = Annotated[str, PlainValidator(parse_locale)]
TimeZone = Annotated[str, PlainValidator(parse_timezone)]
Values = Annotated[list[str], BeforeValidator(_one_or_many)]
"""A list of text values; a single text value is read as a list of one."""

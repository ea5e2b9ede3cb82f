"""Quantities with explicit units: `Duration`, `Money` (Decimal + ISO 4217) and `Mass`.

Every quantity parses from the text form used in manifests (``"15m"``, ``"38.50 USD"``,
``"2.5 kg"``) and never accepts a float: money and masses are exact decimals, durations are
whole seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Final

from microfab.domain.errors import CurrencyMismatchError

Seconds = int
"""Simulated or real time span in whole seconds."""

_DURATION_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_DURATION_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+")


@dataclass(frozen=True, slots=True, order=True)
class Duration:
    """A non-negative span of time in whole seconds; parses ``"90s"``, ``"15m"``, ``"1h30m"``, ``"2.5h"``, ``"1d"``."""

    seconds: Seconds

    def __post_init__(self) -> None:
        if isinstance(self.seconds, bool) or not isinstance(self.seconds, int):
            raise TypeError(f"seconds: expected int, got {type(self.seconds).__name__}")
        if self.seconds < 0:
            raise ValueError(f"seconds: expected >= 0, got {self.seconds}")

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Parse a duration such as ``"15m"``, ``"1h30m"`` or ``"2.5h"`` (units s, m, h, d, w)."""
        compact = str(text).strip().replace(" ", "")
        if not compact or not _DURATION_WHOLE.fullmatch(compact):
            raise ValueError(f"expected a duration like '90s', '15m', '1h30m', '2d', got {text!r}")
        parts = _DURATION_PART.findall(compact)
        units = [unit for _, unit in parts]
        if len(set(units)) != len(units) or units != sorted(units, key=list(_DURATION_UNITS).index, reverse=True):
            raise ValueError(f"expected each unit once, largest first (like '1d2h30m'), got {text!r}")
        total = Decimal(0)
        for number, unit in parts:
            total += Decimal(number) * _DURATION_UNITS[unit]
        if total != total.to_integral_value():
            raise ValueError(f"expected whole seconds, {text!r} is {total} s")
        return cls(int(total))

    @classmethod
    def of(cls, *, days: int = 0, hours: int = 0, minutes: int = 0, seconds: int = 0) -> Duration:
        """Build a duration from integer parts."""
        return cls(((days * 24 + hours) * 60 + minutes) * 60 + seconds)

    @property
    def hours(self) -> Decimal:
        """The span in hours, exact."""
        return Decimal(self.seconds) / 3600

    def to_timedelta(self) -> timedelta:
        """The span as a `datetime.timedelta`."""
        return timedelta(seconds=self.seconds)

    def __add__(self, other: Duration) -> Duration:
        return Duration(self.seconds + other.seconds)

    def __sub__(self, other: Duration) -> Duration:
        return Duration(self.seconds - other.seconds)

    def __mul__(self, factor: int) -> Duration:
        return Duration(self.seconds * factor)

    def __str__(self) -> str:
        rest = self.seconds
        if rest == 0:
            return "0s"
        parts = []
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
            count, rest = divmod(rest, size)
            if count:
                parts.append(f"{count}{unit}")
        return "".join(parts)


# ISO 4217 codes with their minor units (decimal places). Extend as markets are added.
MINOR_UNITS: Final[dict[str, int]] = {
    "AUD": 2,
    "BRL": 2,
    "CAD": 2,
    "CHF": 2,
    "CNY": 2,
    "CZK": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "HUF": 2,
    "IDR": 2,
    "INR": 2,
    "JPY": 0,
    "KRW": 0,
    "MXN": 2,
    "MYR": 2,
    "NOK": 2,
    "NZD": 2,
    "PHP": 2,
    "PLN": 2,
    "SEK": 2,
    "SGD": 2,
    "THB": 2,
    "TRY": 2,
    "TWD": 2,
    "USD": 2,
    "VND": 0,
    "ZAR": 2,
}

_MONEY = re.compile(r"\s*(-?\d+(?:\.\d+)?)\s*([A-Z]{3})\s*")


def check_currency(code: str, field: str = "currency") -> str:
    """Return *code* if it is a known ISO 4217 code, else raise `ValueError` naming *field*."""
    if code not in MINOR_UNITS:
        raise ValueError(f"{field}: expected an ISO 4217 currency code, got {code!r}")
    return code


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one ISO 4217 currency; mixing currencies raises `CurrencyMismatchError`."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"amount: expected Decimal, got {type(self.amount).__name__}")
        if not self.amount.is_finite():
            raise ValueError(f"amount: expected a finite number, got {self.amount}")
        check_currency(self.currency)

    @classmethod
    def parse(cls, text: str) -> Money:
        """Parse ``"38.50 USD"``."""
        match = _MONEY.fullmatch(str(text))
        if not match:
            raise ValueError(f"expected money like '38.50 USD', got {text!r}")
        return cls(Decimal(match.group(1)), match.group(2))

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Zero in *currency*."""
        return cls(Decimal(0), currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"expected Money, got {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatchError(self.currency, other.currency)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, float):
            raise TypeError("factor: floats are not allowed with Money, use Decimal")
        return Money(self.amount * Decimal(factor), self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def quantize(self, rounding: str = ROUND_HALF_EVEN) -> Money:
        """Round to the currency's minor unit (JPY and VND have none)."""
        exponent = Decimal(1).scaleb(-MINOR_UNITS[self.currency])
        return Money(self.amount.quantize(exponent, rounding=rounding), self.currency)

    def __str__(self) -> str:
        return f"{self.quantize().amount} {self.currency}"


_MASS_UNITS: Final = {"g": Decimal("0.001"), "kg": Decimal(1), "t": Decimal(1000)}
_MASS = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(g|kg|t)\s*")


@dataclass(frozen=True, slots=True, order=True)
class Mass:
    """A non-negative mass, kept exactly in kilograms; parses ``"2.5 kg"``, ``"300 g"``, ``"1 t"``."""

    kg: Decimal

    def __post_init__(self) -> None:
        if not isinstance(self.kg, Decimal):
            raise TypeError(f"kg: expected Decimal, got {type(self.kg).__name__}")
        if not self.kg.is_finite() or self.kg < 0:
            raise ValueError(f"kg: expected a finite number >= 0, got {self.kg}")

    @classmethod
    def parse(cls, text: str) -> Mass:
        """Parse ``"2.5 kg"``, ``"300 g"`` or ``"1 t"``."""
        match = _MASS.fullmatch(str(text))
        if not match:
            raise ValueError(f"expected a mass like '2.5 kg' or '300 g', got {text!r}")
        try:
            return cls(Decimal(match.group(1)) * _MASS_UNITS[match.group(2)])
        except InvalidOperation as exc:  # pragma: no cover - regex admits only valid numbers
            raise ValueError(f"expected a mass, got {text!r}") from exc

    def __add__(self, other: Mass) -> Mass:
        return Mass(self.kg + other.kg)

    def __mul__(self, factor: Decimal | int) -> Mass:
        if isinstance(factor, float):
            raise TypeError("factor: floats are not allowed with Mass, use Decimal")
        return Mass(self.kg * Decimal(factor))

    def __str__(self) -> str:
        return f"{self.kg.normalize():f} kg"

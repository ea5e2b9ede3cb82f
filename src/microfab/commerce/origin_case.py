"""The case an origin or claims indication is computed for, the audit trail, and shared arithmetic.

A case is the derived bill of materials of one good (value, origin country, HS code and flags of
each line), its routing (operations in order, the site country of each, and whether the step
confers origin, is significant processing or is an essential manufacturing step), its values
and its destination. Amounts are exact `~decimal.Decimal` in the good's currency; never floats.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Final

from microfab.domain.quantities import check_currency
from microfab.domain.trade import hs_digits

REVIEW_NOTE: Final = (
    "Indication only, computed from the data given: a qualified person (customs broker or trade-compliance "
    "officer) reviews the figures and signs off before any origin declaration, certificate or marketing claim."
)
"""Stated on every origin result and every claim: the platform indicates, a person decides."""

HUNDRED: Final = Decimal(100)
_CENT: Final = Decimal("0.01")
_MICRO: Final = Decimal("0.000001")
_COUNTRY: Final = re.compile(r"[A-Z]{2}")


def check_country(code: str, field: str) -> str:
    """Return *code* if it looks like an ISO 3166-1 alpha-2 code (``US``), else raise `ValueError` naming *field*."""
    if not isinstance(code, str) or not _COUNTRY.fullmatch(code):
        raise ValueError(f"{field}: expected an ISO 3166-1 alpha-2 country code like 'US', got {code!r}")
    return code


def _check_amount(value: Decimal, field: str, *, positive: bool = False) -> None:
    if not isinstance(value, Decimal):
        raise TypeError(f"{field}: expected Decimal, got {type(value).__name__}")
    if not value.is_finite() or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{field}: expected a finite amount {bound}, got {value}")


@dataclass(frozen=True, slots=True)
class Material:
    """One derived BOM line: its value in the good's currency, origin country (None: undetermined) and HS code.

    ``indirect`` materials (consumables, tooling) count as originating under the agreements;
    ``essential`` marks a component the FTC treats as essential to the product; and
    ``unavailable_domestically`` records the showing that a foreign part cannot be obtained from
    a US source (California's 10 % exception).
    """

    item: str
    value: Decimal
    origin: str | None
    hs: str
    indirect: bool = False
    essential: bool = False
    unavailable_domestically: bool = False

    def __post_init__(self) -> None:
        if not self.item:
            raise ValueError("item: expected a name")
        _check_amount(self.value, "value")
        if self.origin is not None:
            check_country(self.origin, "origin")


@dataclass(frozen=True, slots=True)
class ProcessStep:
    """One routing operation at a site: its country and whether it confers origin, is significant or essential."""

    name: str
    country: str
    confers_origin: bool = False
    significant: bool = False
    essential: bool = False

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("name: expected a name")
        check_country(self.country, "country")


@dataclass(frozen=True, slots=True)
class Good:
    """The finished good: HS code (6 digits at least), transaction value ex freight, net cost and currency.

    ``ex_works`` is the ex-works price (EU–Japan MaxNOM and tolerance; the transaction value when
    None); ``wholesale_value`` is the final wholesale value (California; the transaction value when None).
    """

    hs: str
    transaction_value: Decimal
    net_cost: Decimal
    currency: str
    ex_works: Decimal | None = None
    wholesale_value: Decimal | None = None

    def __post_init__(self) -> None:
        if len(hs_digits(self.hs)) < 6:
            raise ValueError(f"hs: expected an HS code of at least 6 digits like '7610.90', got {self.hs!r}")
        _check_amount(self.transaction_value, "transaction_value", positive=True)
        _check_amount(self.net_cost, "net_cost", positive=True)
        check_currency(self.currency)
        if self.ex_works is not None:
            _check_amount(self.ex_works, "ex_works", positive=True)
        if self.wholesale_value is not None:
            _check_amount(self.wholesale_value, "wholesale_value", positive=True)


@dataclass(frozen=True, slots=True)
class OriginCase:
    """A good, its materials, its operations in routing order (the last is the final one) and its destination."""

    good: Good
    materials: tuple[Material, ...]
    operations: tuple[ProcessStep, ...]
    destination: str

    def __post_init__(self) -> None:
        if not self.operations:
            raise ValueError("operations: expected at least one routing operation")
        check_country(self.destination, "destination")

    def amount(self, value: Decimal) -> str:
        """*value* with the good's currency, for the trail: ``"35.00 USD"``."""
        return f"{value} {self.good.currency}"


@dataclass(frozen=True, slots=True)
class TrailEntry:
    """One figure of an indication: its name, its value and how it was obtained (formula, data, legal basis)."""

    figure: str
    value: str
    basis: str


class Trail:
    """Collects trail entries in the order the figures are computed."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: list[TrailEntry] = []

    def add(self, figure: str, value: object, basis: str) -> None:
        """Record one figure."""
        self._entries.append(TrailEntry(figure, str(value), basis))

    def entries(self) -> tuple[TrailEntry, ...]:
        """Every entry so far, in order."""
        return tuple(self._entries)


def percent(part: Decimal, whole: Decimal) -> Decimal:
    """``part / whole × 100``, exact to the context precision (28 digits); the tests compare this value."""
    return part / whole * HUNDRED


def shown(value: Decimal) -> Decimal:
    """A percent as reported: quantized to 0.01, half up."""
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def show_exact(value: Decimal) -> str:
    """``"64.29 %"``; with more decimals also the exact value, cut after six: ``"59.999999… % (shown 60.00)"``.

    Cutting (not rounding) keeps the figure on the same side of any threshold, which rounding to 0.01 may hide.
    """
    rounded = shown(value)
    if rounded == value:
        return f"{rounded} %"
    cut = value.quantize(_MICRO, rounding=ROUND_DOWN)
    text = f"{cut.normalize():f}" if cut == value else f"{cut}…"
    return f"{text} % (shown {rounded})"


def plain(value: Decimal) -> str:
    """A threshold or tolerance in percent without trailing zeros: ``Decimal("60.0")`` → ``"60"``."""
    return f"{value.normalize():f}"


def last_origin_step(operations: tuple[ProcessStep, ...]) -> ProcessStep | None:
    """The last operation that confers origin (the last substantial transformation), if any."""
    return next((op for op in reversed(operations) if op.confers_origin), None)

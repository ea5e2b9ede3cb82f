"""FX locks: a quote takes the rate in force when it is made, records where it came from, and holds it for a while.

Money is converted once, at the locked rate, and rounded to the target currency's minor unit
(JPY and VND have none) *before* tax is computed on it, so the tax base is an amount the buyer
can actually pay.

Rounding is ``ROUND_HALF_UP`` (commercial rounding: 0.5 of a minor unit goes away from zero),
which is what invoices, ERPs and tax authorities expect of a converted price. Babel's
half-even rounding applies only when an amount is *formatted* for display; it never changes
an amount computed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from microfab.domain.errors import CurrencyMismatchError
from microfab.domain.network import FxRate, RateTable
from microfab.domain.quantities import Money, check_currency


@dataclass(frozen=True, slots=True)
class FxLock:
    """A rate locked for a quote: 1 *base* = *rate* *quote*, held from *locked_at* through *valid_until*.

    Attributes
    ----------
    rate
        The combined rate (the product of the legs' rates for a pivot conversion).
    source
        Where the rate comes from; for a pivot both sources and the pivot, like
        ``"ECB reference + BoJ reference via USD"``.
    as_of
        The publication date of the rate, the oldest leg's for a pivot conversion.
    legs
        The stored rates used, for the audit trail (empty when base and quote are the same).
    """

    base: str
    quote: str
    rate: Decimal
    source: str
    as_of: date
    locked_at: datetime
    valid_until: datetime
    legs: tuple[FxRate, ...] = ()

    def __post_init__(self) -> None:
        check_currency(self.base, "base")
        check_currency(self.quote, "quote")
        if self.rate <= 0:
            raise ValueError(f"rate: expected > 0, got {self.rate}")
        _require_aware(self.locked_at, "locked_at")
        _require_aware(self.valid_until, "valid_until")
        if self.valid_until < self.locked_at:
            raise ValueError(f"valid_until: {self.valid_until} is before locked_at {self.locked_at}")

    def is_valid(self, at: datetime) -> bool:
        """Whether the lock holds at *at* (aware): from ``locked_at`` through ``valid_until``, both included."""
        _require_aware(at, "at")
        return self.locked_at <= at <= self.valid_until

    def convert(self, money: Money) -> Money:
        """Convert *money* (in ``base``) once and round half-up to the minor unit of ``quote``.

        Raises
        ------
        CurrencyMismatchError
            When *money* is not in the lock's base currency.
        """
        if money.currency != self.base:
            raise CurrencyMismatchError(money.currency, self.base)
        return Money(money.amount * self.rate, self.quote).quantize(ROUND_HALF_UP)


def lock_rate(
    table: RateTable, base: str, quote: str, *, at: datetime, validity: timedelta, on: date | None = None
) -> FxLock:
    """Lock the rate from *base* to *quote* in force at *at* for *validity*.

    The rate is the one in force on *on*, by default the UTC calendar date of *at* (so the
    choice does not depend on the buyer's or the server's time zone). The lock holds its rate
    for the whole validity even if the table publishes a newer rate meanwhile: that is the
    point of a quote.

    Raises
    ------
    ValueError
        When *at* is naive or *validity* is not positive.
    NoFxRateError
        When the table has no rate in force for the pair on that date.
    """
    _require_aware(at, "at")
    if validity <= timedelta(0):
        raise ValueError(f"validity: expected a positive duration, got {validity}")
    day = at.astimezone(UTC).date() if on is None else on
    legs = table.legs(base, quote, day)
    rate = table.rate(base, quote, day)
    if not legs:
        return FxLock(base, quote, Decimal(1), "same currency", day, at, at + validity)
    as_of = min(leg.as_of for leg in legs)
    return FxLock(base, quote, rate, _source(base, legs), as_of, at, at + validity, legs)


def _source(base: str, legs: tuple[FxRate, ...]) -> str:
    """One leg: its source; two: ``"A via USD"`` when both legs share source A, else ``"A + B via USD"``."""
    if len(legs) == 1:
        return legs[0].source
    first, second = legs
    pivot = first.quote if first.base == base else first.base
    sources = first.source if first.source == second.source else f"{first.source} + {second.source}"
    return f"{sources} via {pivot}"


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name}: expected a time-zone-aware datetime, got naive {moment.isoformat()}")

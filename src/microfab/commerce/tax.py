"""Consumption tax from data: one line, a whole document, and how a price is shown to the buyer.

Rates, rounding mode, rounding level and display rules come from the `TaxJurisdiction`
(``microfab.domain.trade``); nothing here knows a country. The tax category is per product
(Vietnam's temporary 8 % excludes metal products, so two goods sold in Hanoi on the same day
may pay different rates).

Amounts must already be in the currency's minor unit: tax is computed on what the buyer pays
(convert and round first, with `microfab.commerce.fx`, then tax).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

from microfab.domain.errors import CurrencyMismatchError
from microfab.domain.quantities import MINOR_UNITS, Money
from microfab.domain.trade import PriceDisplay, RoundingLevel, TaxJurisdiction, TaxRate


@dataclass(frozen=True, slots=True)
class TaxLine:
    """Tax on one net amount: ``gross = net + tax``."""

    category: str
    rate: TaxRate
    net: Money
    tax: Money
    gross: Money

    @classmethod
    def untaxed(cls, category: str, net: Money, label: str = "untaxed") -> TaxLine:
        """A line that bears no tax (no tax data declared, no import VAT): 0 %, ``gross == net``."""
        return cls(category, TaxRate(category, Decimal(0), label=label), net, Money.zero(net.currency).quantize(), net)


@dataclass(frozen=True, slots=True)
class RateTotal:
    """The lines of one document taxed at one rate, added up (a qualified invoice lists one per rate)."""

    rate: Decimal
    categories: tuple[str, ...]
    net: Money
    tax: Money
    gross: Money


@dataclass(frozen=True, slots=True)
class TaxSummary:
    """A taxed document: its lines, a total per rate (highest rate first) and the grand totals."""

    jurisdiction: str
    level: RoundingLevel
    lines: tuple[TaxLine, ...]
    by_rate: tuple[RateTotal, ...]
    net: Money
    tax: Money
    gross: Money


@dataclass(frozen=True, slots=True)
class PriceView:
    """What a buyer sees, as data (formatting is the caller's).

    ``shown`` is the price printed. With ``tax_included`` it is the gross and the note reads
    "incl. {rate_percent} % {tax_name}"; otherwise it is the net and ``tax`` is shown as its
    own line (``separate_tax_line``).
    """

    shown: Money
    tax_included: bool
    separate_tax_line: bool
    tax: Money
    tax_name: str
    rate_percent: Decimal


def tax_line(net: Money, jurisdiction: TaxJurisdiction, category: str, on: date) -> TaxLine:
    """Tax *net* at the rate for *category* in force on *on*, rounded with the jurisdiction's mode.

    Raises
    ------
    NoTaxRateError
        When no rate (the category's own or ``*``) is in force that day.
    ValueError
        When *net* has more decimals than its currency's minor unit.
    """
    _check_minor_unit(net, "net")
    rate = jurisdiction.rate_for(category, on)
    tax = (net * rate.rate).quantize(jurisdiction.rounding.decimal_mode)
    return TaxLine(category, rate, net, tax, net + tax)


def tax_line_from_gross(gross: Money, jurisdiction: TaxJurisdiction, category: str, on: date) -> TaxLine:
    """Split a tax-inclusive price (a German or Japanese shelf price) into net and tax.

    The tax is ``gross × rate / (1 + rate)`` rounded with the jurisdiction's mode; the net is
    the rest, so the gross is kept to the minor unit exactly.
    """
    _check_minor_unit(gross, "gross")
    rate = jurisdiction.rate_for(category, on)
    tax = (gross * (rate.rate / (1 + rate.rate))).quantize(jurisdiction.rounding.decimal_mode)
    return TaxLine(category, rate, gross - tax, tax, gross)


def tax_document(lines: Sequence[tuple[str, Money]], jurisdiction: TaxJurisdiction, on: date) -> TaxSummary:
    """Tax a document of ``(category, net)`` lines honouring the jurisdiction's rounding level.

    ``LINE``: each line's tax is rounded, totals are sums. ``DOCUMENT`` (Japan's qualified
    invoices): the nets of each rate are added up and the tax is rounded once per rate; that
    tax is then allocated back to the lines by largest remainder, so lines still add up.

    Raises
    ------
    ValueError
        When there are no lines, or a net has more decimals than its currency's minor unit.
    CurrencyMismatchError
        When the lines are not all in one currency.
    NoTaxRateError
        When a category has no rate in force on *on*.
    """
    if not lines:
        raise ValueError("lines: expected at least one line to tax")
    currency = lines[0][1].currency
    for _, net in lines:
        if net.currency != currency:
            raise CurrencyMismatchError(currency, net.currency)
    taxed = [tax_line(net, jurisdiction, category, on) for category, net in lines]
    if jurisdiction.rounding_level == RoundingLevel.DOCUMENT:
        taxed = _round_per_rate(taxed, jurisdiction)
    zero = Money.zero(currency)
    totals = tuple(_rate_total([t for t in taxed if t.rate.rate == r], zero) for r in _rates(taxed))
    net_total = sum((t.net for t in totals), zero)
    tax_total = sum((t.tax for t in totals), zero)
    return TaxSummary(
        jurisdiction.code,
        jurisdiction.rounding_level,
        tuple(taxed),
        totals,
        net_total,
        tax_total,
        net_total + tax_total,
    )


def _rates(lines: Sequence[TaxLine]) -> list[Decimal]:
    return sorted({t.rate.rate for t in lines}, reverse=True)


def _rate_total(lines: Sequence[TaxLine], zero: Money) -> RateTotal:
    net = sum((t.net for t in lines), zero)
    tax = sum((t.tax for t in lines), zero)
    categories = tuple(sorted({t.category for t in lines}))
    return RateTotal(lines[0].rate.rate, categories, net, tax, net + tax)


def _round_per_rate(lines: list[TaxLine], jurisdiction: TaxJurisdiction) -> list[TaxLine]:
    """Round the tax once per rate, then allocate it to the lines by largest remainder."""
    result = list(lines)
    unit = Decimal(1).scaleb(-MINOR_UNITS[lines[0].net.currency])
    for rate in _rates(lines):
        members = [i for i, t in enumerate(lines) if t.rate.rate == rate]
        raw = [lines[i].net.amount * rate for i in members]
        total = sum(raw, Decimal(0)).quantize(unit, rounding=jurisdiction.rounding.decimal_mode)
        floors = [r.quantize(unit, rounding=ROUND_DOWN) for r in raw]
        residuals = [r - f for r, f in zip(raw, floors, strict=True)]
        left = int((total - sum(floors, Decimal(0))) / unit)
        order = sorted(range(len(members)), key=lambda k: (-residuals[k] if left > 0 else residuals[k], k))
        for step in range(abs(left)):
            k = order[step % len(order)]
            floors[k] += unit if left > 0 else -unit
        for k, i in enumerate(members):
            tax = Money(floors[k], lines[i].net.currency)
            result[i] = TaxLine(lines[i].category, lines[i].rate, lines[i].net, tax, lines[i].net + tax)
    return result


def displayed_price(line: TaxLine, display: PriceDisplay) -> Money:
    """The price to show: the gross when tax is shown included, else the net."""
    return line.gross if display == PriceDisplay.INCLUSIVE else line.net


def price_view(line: TaxLine, jurisdiction: TaxJurisdiction, *, b2b: bool) -> PriceView:
    """How *line* is shown to a business (*b2b*) or a consumer buyer under the jurisdiction's display rules."""
    included = jurisdiction.display(b2b) == PriceDisplay.INCLUSIVE
    return PriceView(
        shown=displayed_price(line, jurisdiction.display(b2b)),
        tax_included=included,
        separate_tax_line=not included,
        tax=line.tax,
        tax_name=jurisdiction.tax_name,
        rate_percent=percent(line.rate.rate),
    )


def percent(share: Decimal) -> Decimal:
    """``Decimal("0.19")`` → ``19``, ``Decimal("0.0575")`` → ``5.75`` (no exponent, no trailing zeros)."""
    value = (share * 100).normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def _check_minor_unit(money: Money, name: str) -> None:
    if money.quantize().amount != money.amount:
        digits = MINOR_UNITS[money.currency]
        raise ValueError(
            f"{name}: {money.amount} {money.currency} has more than {digits} decimals; round it before taxing"
        )

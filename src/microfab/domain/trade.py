"""Trade data: tax rates, tariff schedules, trade agreements with their origin rules, claim policies.

Everything here is *data with effective dates*, declared in manifests and never hard-coded:
the engines (`microfab.commerce`) compute taxes, duties, origin and claims from it. Rates are
shares (``Decimal("0.19")`` is 19 %); periods are inclusive calendar dates.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Final

from microfab.domain.errors import DomainError

ANY: Final = "*"
"""Wildcard: any tax category, any HS code, any origin country."""


class NoTaxRateError(DomainError, LookupError):
    """No tax rate is in force for a jurisdiction, category and date."""


@dataclass(frozen=True, slots=True)
class Period:
    """Inclusive dates ``[start, end]``; ``end=None`` means open-ended."""

    start: date
    end: date | None = None

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"until: {self.end} is before from {self.start}")

    def contains(self, day: date) -> bool:
        """Whether *day* is inside the period."""
        return self.start <= day and (self.end is None or day <= self.end)

    def overlaps(self, other: Period) -> bool:
        """Whether the two periods share a day."""
        return (self.end is None or other.start <= self.end) and (other.end is None or self.start <= other.end)

    def __str__(self) -> str:
        return f"{self.start}..{self.end or ''}"


ALWAYS: Final = Period(date(1900, 1, 1))
"""A period that is always in force."""


def check_no_overlap(what: str, periods: Iterable[tuple[str, Period]]) -> None:
    """Raise `ValueError` when two periods of the same key overlap (the message names both)."""
    seen: dict[str, list[Period]] = {}
    for key, period in periods:
        for earlier in seen.get(key, []):
            if earlier.overlaps(period):
                raise ValueError(f"{what}: {key!r} has overlapping effective dates {earlier} and {period}")
        seen.setdefault(key, []).append(period)


# --------------------------------------------------------------------------------------------- tax


class PriceDisplay(enum.StrEnum):
    """How prices are shown to a buyer: with tax included, or net with tax as its own line."""

    INCLUSIVE = "inclusive"
    EXCLUSIVE = "exclusive"


class Rounding(enum.StrEnum):
    """How a tax amount is rounded to the currency's minor unit."""

    HALF_UP = "half-up"
    HALF_EVEN = "half-even"
    DOWN = "down"
    UP = "up"

    @property
    def decimal_mode(self) -> str:
        """The `decimal` rounding constant."""
        return _DECIMAL_MODES[self]


_DECIMAL_MODES: Final = {
    Rounding.HALF_UP: ROUND_HALF_UP,
    Rounding.HALF_EVEN: ROUND_HALF_EVEN,
    Rounding.DOWN: ROUND_DOWN,
    Rounding.UP: ROUND_UP,
}


class RoundingLevel(enum.StrEnum):
    """Where tax is rounded: on each line, or once per rate over the whole document (JP qualified invoices)."""

    LINE = "line"
    DOCUMENT = "document"


@dataclass(frozen=True, slots=True)
class TaxRate:
    """One rate: a product tax category (or ``*`` for every category not listed) in force over a period."""

    category: str
    rate: Decimal
    period: Period = ALWAYS
    label: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.rate < Decimal(1):
            raise ValueError(f"rate: expected a share in [0, 1) like '0.19', got {self.rate}")


@dataclass(frozen=True, slots=True)
class TaxJurisdiction:
    """Consumption tax of one place: country, or country + subdivision (+ locality), like ``US-OH-FRANKLIN``.

    A US locality's rate is the combined rate (state + county + city). ``display`` tells how
    prices are shown to consumers (``b2c``) and to businesses (``b2b``). ``import_vat`` is
    whether the tax is also levied on imports (VAT, IVA, consumption tax: yes; US sales tax: no).
    """

    code: str
    tax_name: str
    rates: tuple[TaxRate, ...]
    display_b2c: PriceDisplay = PriceDisplay.EXCLUSIVE
    display_b2b: PriceDisplay = PriceDisplay.EXCLUSIVE
    rounding: Rounding = Rounding.HALF_UP
    rounding_level: RoundingLevel = RoundingLevel.LINE
    import_vat: bool = True

    def __post_init__(self) -> None:
        if not jurisdiction_country(self.code).isalpha():
            raise ValueError(f"code: expected a country code then subdivisions like 'US-OH', got {self.code!r}")
        check_no_overlap("rates", ((r.category, r.period) for r in self.rates))

    @property
    def country(self) -> str:
        """The ISO 3166-1 alpha-2 country of the jurisdiction."""
        return jurisdiction_country(self.code)

    def rate_for(self, category: str, day: date) -> TaxRate:
        """The rate for *category* on *day*: the category's own row, else the ``*`` row."""
        for key in (category, ANY):
            for rate in self.rates:
                if rate.category == key and rate.period.contains(day):
                    return rate
        raise NoTaxRateError(f"{self.code}: no {self.tax_name} rate for category {category!r} on {day}")

    def display(self, b2b: bool) -> PriceDisplay:
        """How prices are shown to this buyer."""
        return self.display_b2b if b2b else self.display_b2c


def jurisdiction_country(code: str) -> str:
    """``"US-OH-FRANKLIN"`` → ``"US"``."""
    return code.split("-", 1)[0]


@dataclass(frozen=True, slots=True)
class TaxTable:
    """Every declared jurisdiction; a code without its own row falls back to its parent (``US-OH-X`` → ``US-OH``)."""

    jurisdictions: Mapping[str, TaxJurisdiction] = field(default_factory=dict)

    def resolve(self, code: str) -> TaxJurisdiction:
        """The jurisdiction for *code* or its nearest declared parent (case-insensitive), else `NoTaxRateError`."""
        by_code = {key.upper(): value for key, value in self.jurisdictions.items()}
        parts = code.upper().split("-")
        while parts:
            found = by_code.get("-".join(parts))
            if found is not None:
                return found
            parts.pop()
        known = ", ".join(sorted(self.jurisdictions)) or "none"
        raise NoTaxRateError(f"no tax jurisdiction {code!r} is declared (declared: {known})")


# ----------------------------------------------------------------------------------------- tariffs


class CustomsBasis(enum.StrEnum):
    """What duty is assessed on: FOB (the US: transaction value, freight excluded) or CIF (EU, JP: freight included)."""

    FOB = "FOB"
    CIF = "CIF"


def hs_digits(code: str) -> str:
    """``"7606.12"`` → ``"760612"``; ``*`` stays ``*``."""
    return code if code == ANY else "".join(ch for ch in code if ch.isdigit())


@dataclass(frozen=True, slots=True)
class TariffLine:
    """The MFN (most-favoured-nation) ad-valorem duty for an HS prefix (longest prefix wins)."""

    hs: str
    mfn: Decimal
    period: Period = ALWAYS


@dataclass(frozen=True, slots=True)
class ExtraDuty:
    """A duty stacked on top of MFN (Section 232/301, reciprocal, safeguard), by HS prefix and origin country.

    ``exempt_under`` names agreements whose originating goods do not pay it.
    """

    name: str
    rate: Decimal
    hs: tuple[str, ...] = (ANY,)
    origins: tuple[str, ...] = (ANY,)
    period: Period = ALWAYS
    exempt_under: tuple[str, ...] = ()

    def applies(self, hs_code: str, origin: str, day: date) -> bool:
        """Whether the duty hits a good of *hs_code* from *origin* on *day* (before exemptions)."""
        digits = hs_digits(hs_code)
        hs_hit = any(p == ANY or digits.startswith(hs_digits(p)) for p in self.hs)
        origin_hit = ANY in self.origins or origin in self.origins
        return hs_hit and origin_hit and self.period.contains(day)


@dataclass(frozen=True, slots=True)
class TariffSchedule:
    """The import duties of one customs territory (``US``, ``EU`` for Germany, ``JP`` …)."""

    name: str
    countries: tuple[str, ...]
    basis: CustomsBasis
    lines: tuple[TariffLine, ...]
    extra: tuple[ExtraDuty, ...] = ()
    currency: str = "USD"

    def __post_init__(self) -> None:
        check_no_overlap("lines", ((hs_digits(line.hs), line.period) for line in self.lines))

    def mfn_line(self, hs_code: str, day: date) -> TariffLine | None:
        """The longest-prefix MFN line in force on *day*, if any."""
        digits = hs_digits(hs_code)
        best: TariffLine | None = None
        for line in self.lines:
            prefix = hs_digits(line.hs)
            matches = (prefix == ANY or digits.startswith(prefix)) and line.period.contains(day)
            if matches and (best is None or _prefix_len(line.hs) > _prefix_len(best.hs)):
                best = line
        return best


def _prefix_len(hs: str) -> int:
    return -1 if hs == ANY else len(hs_digits(hs))


# ---------------------------------------------------------------------------------- origin rules


class ShiftLevel(enum.StrEnum):
    """Tariff-shift level: the HS chapter (2 digits), heading (4) or subheading (6) must change."""

    CHAPTER = "chapter"
    HEADING = "heading"
    SUBHEADING = "subheading"

    @property
    def digits(self) -> int:
        """How many leading HS digits must differ."""
        return {ShiftLevel.CHAPTER: 2, ShiftLevel.HEADING: 4, ShiftLevel.SUBHEADING: 6}[self]


class ValueMethod(enum.StrEnum):
    """A regional-value or non-originating-content test."""

    TRANSACTION_VALUE = "transaction-value"  # USMCA: (TV - VNM) / TV >= threshold
    NET_COST = "net-cost"  # USMCA: (NC - VNM) / NC >= threshold
    BUILD_DOWN = "build-down"  # CPTPP: (AV - VNM) / AV >= threshold
    BUILD_UP = "build-up"  # CPTPP: VOM / AV >= threshold
    MAXNOM = "maxnom"  # EU-Japan: VNM / EXW <= threshold


class ValueBase(enum.StrEnum):
    """The value a de minimis tolerance is a share of: the transaction value (USMCA, CPTPP) or the ex-works price."""

    TRANSACTION_VALUE = "transaction-value"
    EX_WORKS = "ex-works"  # EU-Japan Art. 3.6: the ex-works price (the transaction value when none is given)


class Combine(enum.StrEnum):
    """How a product-specific rule combines its tariff shift and its value tests."""

    SHIFT = "shift"
    VALUE = "value"
    SHIFT_OR_VALUE = "shift-or-value"
    SHIFT_AND_VALUE = "shift-and-value"


@dataclass(frozen=True, slots=True)
class OriginRule:
    """A product-specific rule of origin for an HS prefix (longest prefix wins).

    ``values`` maps each accepted value method to its threshold in percent (any one passing
    suffices); ``shift_except`` lists HS prefixes that do not count as a shift source.
    """

    hs: str
    combine: Combine
    shift: ShiftLevel | None = None
    shift_except: tuple[str, ...] = ()
    values: Mapping[ValueMethod, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        needs_shift = self.combine != Combine.VALUE
        needs_value = self.combine != Combine.SHIFT
        if needs_shift and self.shift is None:
            raise ValueError(f"shift: rule for {self.hs} combines '{self.combine}' but names no shift level")
        if needs_value and not self.values:
            raise ValueError(f"values: rule for {self.hs} combines '{self.combine}' but names no value test")


@dataclass(frozen=True, slots=True)
class TradeAgreement:
    """A preferential agreement: members, origin rules, de minimis tolerance, the preferential duty."""

    name: str
    members: tuple[str, ...]
    rules: tuple[OriginRule, ...]
    de_minimis: Decimal = Decimal("0.10")
    preferential_rate: Decimal = Decimal(0)
    period: Period = ALWAYS
    de_minimis_base: ValueBase = ValueBase.TRANSACTION_VALUE

    def covers(self, exporter: str, importer: str, day: date) -> bool:
        """Whether goods made in *exporter* can enter *importer* under the agreement on *day*."""
        return (
            exporter != importer and exporter in self.members and importer in self.members and self.period.contains(day)
        )

    def rule_for(self, hs_code: str) -> OriginRule | None:
        """The longest-prefix rule for *hs_code*, if any."""
        digits = hs_digits(hs_code)
        matches = [r for r in self.rules if r.hs == ANY or digits.startswith(hs_digits(r.hs))]
        return max(matches, key=lambda r: _prefix_len(r.hs), default=None)


@dataclass(frozen=True, slots=True)
class ClaimPolicy:
    """Thresholds of origin claims, as shares of the relevant value (policy, not law: a person signs off)."""

    ftc_foreign_share_max: Decimal = Decimal("0.02")
    california_foreign_share_max: Decimal = Decimal("0.05")
    california_unavailable_share_max: Decimal = Decimal("0.10")


@dataclass(frozen=True, slots=True)
class TradeRules:
    """All trade data of a network."""

    tax: TaxTable = field(default_factory=TaxTable)
    tariffs: tuple[TariffSchedule, ...] = ()
    agreements: tuple[TradeAgreement, ...] = ()
    claims: ClaimPolicy = field(default_factory=ClaimPolicy)

    def tariff_for(self, importer: str) -> TariffSchedule | None:
        """The schedule whose territory includes *importer*."""
        return next((t for t in self.tariffs if importer in t.countries), None)

    def agreements_between(self, exporter: str, importer: str, day: date) -> Sequence[TradeAgreement]:
        """Agreements that cover the pair on *day*, by name."""
        return sorted((a for a in self.agreements if a.covers(exporter, importer, day)), key=lambda a: a.name)

"""The network one operator runs: sites, markets, lanes, module types, modules, products, FX rates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import TypeVar
from zoneinfo import ZoneInfo

from microfab.domain.entities import Brand, LegalEntity, TransferPolicy
from microfab.domain.errors import NoFxRateError, UnknownReferenceError
from microfab.domain.modules import Module, ModuleType
from microfab.domain.products import ProductTemplate
from microfab.domain.quantities import Duration, Money, check_currency
from microfab.domain.trade import TradeRules

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Site:
    """A place that hosts container modules (ISA-95 *site*)."""

    name: str
    country: str
    region: str
    timezone: str
    currency: str
    container_slots: int
    subdivision: str | None = None
    entity: str = ""  # the LegalEntity that operates the site ("" in networks without entities)

    def __post_init__(self) -> None:
        if len(self.country) != 2 or not self.country.isupper():
            raise ValueError(f"country: expected an ISO 3166-1 alpha-2 code, got {self.country!r}")
        ZoneInfo(self.timezone)  # raises ZoneInfoNotFoundError (a KeyError) on an unknown zone
        check_currency(self.currency)
        if self.container_slots < 0:
            raise ValueError(f"container_slots: expected >= 0, got {self.container_slots}")

    @property
    def zone(self) -> ZoneInfo:
        """The site's time zone."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class Market:
    """Where customers are: country, default locale (BCP 47), currency, tax jurisdiction and time zone.

    A quote may override each of locale, currency and tax jurisdiction independently; these
    are the market's defaults. ``tax_jurisdiction`` defaults to the country (``"US-OH"`` for a
    state, ``"US-OH-FRANKLIN"`` for a locality).
    """

    name: str
    country: str
    locale: str
    currency: str
    timezone: str = "UTC"
    tax_jurisdiction: str = ""
    entity: str = ""  # the LegalEntity that sells in the market ("" in networks without entities)
    brands: Mapping[str, Brand] = field(default_factory=dict)  # by locale tag, like "de-DE"

    def __post_init__(self) -> None:
        if len(self.country) != 2 or not self.country.isupper():
            raise ValueError(f"country: expected an ISO 3166-1 alpha-2 code, got {self.country!r}")
        check_currency(self.currency)
        ZoneInfo(self.timezone)
        if not self.tax_jurisdiction:
            object.__setattr__(self, "tax_jurisdiction", self.country)
        elif self.tax_jurisdiction.split("-", 1)[0] != self.country:
            raise ValueError(
                f"tax_jurisdiction: expected a jurisdiction in {self.country}, got {self.tax_jurisdiction!r}"
            )

    @property
    def zone(self) -> ZoneInfo:
        """The market's default time zone for dates shown to buyers."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class Lane:
    """Transport from a site to a market."""

    name: str
    site: str
    market: str
    lead_time: Duration
    cost_per_kg: Money
    open: bool = True


@dataclass(frozen=True, slots=True)
class FxRate:
    """One exchange rate: 1 *base* = *rate* *quote*, published on *as_of* by *source*.

    The rate is in force from *as_of* until the day before the next ``as_of`` of the same pair
    (either direction), or through *valid_until* when that is given (a gap may follow it).
    """

    base: str
    quote: str
    rate: Decimal
    as_of: date
    source: str = "manifest"
    valid_until: date | None = None

    def __post_init__(self) -> None:
        check_currency(self.base, "base")
        check_currency(self.quote, "quote")
        if self.quote == self.base:
            raise ValueError(f"quote: expected a currency other than the base {self.base}")
        if self.rate <= 0:
            raise ValueError(f"rate: expected > 0, got {self.rate}")
        if self.valid_until is not None and self.valid_until < self.as_of:
            raise ValueError(f"valid_until: {self.valid_until} is before as_of {self.as_of}")

    @property
    def pair(self) -> str:
        """``"USD/EUR"``."""
        return f"{self.base}/{self.quote}"

    def towards(self, base: str, quote: str) -> Decimal:
        """Units of *quote* per unit of *base* from this rate, read directly or inverted."""
        if (base, quote) == (self.base, self.quote):
            return self.rate
        if (base, quote) == (self.quote, self.base):
            return 1 / self.rate
        raise ValueError(f"base: the {self.pair} rate cannot convert {base} to {quote}")


@dataclass(frozen=True, slots=True)
class RateTable:
    """FX rates with effective dates; converts directly, through the inverse, or through one pivot currency.

    Without a date, each pair uses its latest ``as_of``; with one, the rate in force that day.
    Two rates of one pair (either direction) in force on the same day are an error.
    """

    rates: tuple[FxRate, ...] = ()

    def __post_init__(self) -> None:
        for group in self._pairs().values():
            for earlier, later in pairwise(group):
                if earlier.as_of == later.as_of or (earlier.valid_until or date.min) >= later.as_of:
                    raise ValueError(
                        f"fxRates: {earlier.pair} has two rates in force on {later.as_of} "
                        f"({earlier.pair} {earlier.rate} from {earlier.as_of}"
                        f"{f' until {earlier.valid_until}' if earlier.valid_until else ''} by {earlier.source}; "
                        f"{later.pair} {later.rate} from {later.as_of} by {later.source})"
                    )

    def _pairs(self) -> dict[tuple[str, str], list[FxRate]]:
        """Rates per unordered currency pair, by ``as_of``."""
        pairs: dict[tuple[str, str], list[FxRate]] = {}
        for r in sorted(self.rates, key=lambda r: r.as_of):
            pairs.setdefault(self._key(r.base, r.quote), []).append(r)
        return pairs

    def in_force(self, base: str, quote: str, on: date | None = None) -> FxRate | None:
        """The stored rate of the pair (either direction) in force on *on*, or the latest one when *on* is None."""
        group = self._pairs().get(self._key(base, quote), [])
        if on is None:
            return group[-1] if group else None
        started = [r for r in group if r.as_of <= on]
        if not started or (started[-1].valid_until is not None and started[-1].valid_until < on):
            return None
        return started[-1]

    def legs(self, base: str, quote: str, on: date | None = None) -> tuple[FxRate, ...]:
        """The stored rates a conversion uses: none (same currency), one (direct or inverse), or two (via a pivot).

        The pivot is the first currency in alphabetical order that has both legs in force, so the
        choice never depends on declaration or hash order.

        Raises
        ------
        NoFxRateError
            When no rate, inverse or one-pivot chain is in force (the message names the pair and date).
        """
        if base == quote:
            return ()
        direct = self.in_force(base, quote, on)
        if direct is not None:
            return (direct,)
        currencies = {r.base for r in self.rates} | {r.quote for r in self.rates}
        for pivot in sorted(currencies - {base, quote}):
            first, second = self.in_force(base, pivot, on), self.in_force(pivot, quote, on)
            if first is not None and second is not None:
                return (first, second)
        raise NoFxRateError(self._missing(base, quote, on))

    def _missing(self, base: str, quote: str, on: date | None) -> str:
        if on is None:
            return f"no FX rate from {base} to {quote}"
        group = self._pairs().get(self._key(base, quote), [])
        known = "; ".join(
            f"{r.pair} from {r.as_of}" + (f" until {r.valid_until}" if r.valid_until else "") for r in group
        )
        return f"no FX rate from {base} to {quote} in force on {on}" + (f" (declared: {known})" if known else "")

    def rate(self, base: str, quote: str, on: date | None = None) -> Decimal:
        """Units of *quote* for one unit of *base*, on *on* (latest rates when None); see `legs`."""
        return self.chain(base, self.legs(base, quote, on))

    def convert(self, money: Money, currency: str, on: date | None = None) -> Money:
        """Convert *money* to *currency* and round to its minor unit (half-even; quotes lock with `commerce.fx`)."""
        return Money(money.amount * self.rate(money.currency, currency, on), currency).quantize()

    @staticmethod
    def chain(base: str, legs: Sequence[FxRate]) -> Decimal:
        """The combined rate of converting *base* through *legs* in order (1 with no legs)."""
        result: Decimal | None = None
        current = base
        for leg in legs:
            target = leg.quote if leg.base == current else leg.base
            step = leg.towards(current, target)
            result = step if result is None else result * step
            current = target
        return Decimal(1) if result is None else result

    @staticmethod
    def _key(base: str, quote: str) -> tuple[str, str]:
        """The unordered pair: USD/EUR and EUR/USD are one pair."""
        return (base, quote) if base < quote else (quote, base)


@dataclass(frozen=True, slots=True)
class Network:
    """Everything one operator runs, as declared (read-only mappings keyed by name)."""

    name: str
    base_currency: str
    sites: Mapping[str, Site] = field(default_factory=dict)
    markets: Mapping[str, Market] = field(default_factory=dict)
    lanes: Mapping[str, Lane] = field(default_factory=dict)
    module_types: Mapping[str, ModuleType] = field(default_factory=dict)
    modules: Mapping[str, Module] = field(default_factory=dict)
    products: Mapping[str, ProductTemplate] = field(default_factory=dict)
    fx: RateTable = field(default_factory=RateTable)
    trade: TradeRules = field(default_factory=TradeRules)
    entities: Mapping[str, LegalEntity] = field(default_factory=dict)
    transfer: TransferPolicy = field(default_factory=TransferPolicy)
    quote_validity: Duration = field(default_factory=lambda: Duration(72 * 3600))

    def __post_init__(self) -> None:
        check_currency(self.base_currency, "base_currency")

    def product(self, name: str) -> ProductTemplate:
        """The product called *name*, or `UnknownReferenceError`."""
        return _get(self.products, "product", name)

    def market(self, name: str) -> Market:
        """The market called *name*, or `UnknownReferenceError`."""
        return _get(self.markets, "market", name)

    def entity(self, name: str) -> LegalEntity:
        """The legal entity called *name*, or `UnknownReferenceError`."""
        return _get(self.entities, "entity", name)

    def site(self, name: str) -> Site:
        """The site called *name*, or `UnknownReferenceError`."""
        return _get(self.sites, "site", name)

    def modules_at(self, site: str) -> list[Module]:
        """Modules deployed at *site*, by name."""
        return sorted((m for m in self.modules.values() if m.site == site), key=lambda m: m.name)

    def capabilities_at(self, site: str) -> frozenset[str]:
        """Every capability some module at *site* offers."""
        caps: set[str] = set()
        for module in self.modules_at(site):
            caps |= self.module_types[module.module_type].capabilities
        return frozenset(caps)

    def lanes_to(self, market: str) -> list[Lane]:
        """Open lanes that reach *market*, by name."""
        return sorted(
            (lane for lane in self.lanes.values() if lane.market == market and lane.open), key=lambda x: x.name
        )


def _get(mapping: Mapping[str, _T], kind: str, name: str) -> _T:
    try:
        return mapping[name]
    except KeyError:
        raise UnknownReferenceError(kind, name, list(mapping)) from None

"""The network one operator runs: sites, markets, lanes, module types, modules, products, FX rates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo

from microfab.domain.errors import NoFxRateError, UnknownReferenceError
from microfab.domain.modules import Module, ModuleType
from microfab.domain.products import ProductTemplate
from microfab.domain.quantities import Duration, Money, check_currency

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
    """Where customers are: country, locale (BCP 47), currency."""

    name: str
    country: str
    locale: str
    currency: str

    def __post_init__(self) -> None:
        if len(self.country) != 2 or not self.country.isupper():
            raise ValueError(f"country: expected an ISO 3166-1 alpha-2 code, got {self.country!r}")
        check_currency(self.currency)


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
    """One exchange rate: 1 *base* = *rate* *quote*."""

    base: str
    quote: str
    rate: Decimal
    as_of: date
    source: str = "manifest"

    def __post_init__(self) -> None:
        check_currency(self.base, "base")
        check_currency(self.quote, "quote")
        if self.rate <= 0:
            raise ValueError(f"rate: expected > 0, got {self.rate}")


@dataclass(frozen=True, slots=True)
class RateTable:
    """FX rates; converts directly, through the inverse, or through one pivot currency."""

    rates: tuple[FxRate, ...] = ()

    def rate(self, base: str, quote: str) -> Decimal:
        """Units of *quote* for one unit of *base*."""
        if base == quote:
            return Decimal(1)
        direct = self._direct(base, quote)
        if direct is not None:
            return direct
        # sorted: with rates that disagree, the first pivot found must not depend on hash order
        for pivot in sorted({r.quote for r in self.rates} | {r.base for r in self.rates}):
            first, second = self._direct(base, pivot), self._direct(pivot, quote)
            if first is not None and second is not None:
                return first * second
        raise NoFxRateError(f"no FX rate from {base} to {quote}")

    def _direct(self, base: str, quote: str) -> Decimal | None:
        for r in self.rates:
            if r.base == base and r.quote == quote:
                return r.rate
            if r.base == quote and r.quote == base:
                return 1 / r.rate
        return None

    def convert(self, money: Money, currency: str) -> Money:
        """Convert *money* to *currency* and round to its minor unit."""
        return Money(money.amount * self.rate(money.currency, currency), currency).quantize()


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

    def __post_init__(self) -> None:
        check_currency(self.base_currency, "base_currency")

    def product(self, name: str) -> ProductTemplate:
        """The product called *name*, or `UnknownReferenceError`."""
        return _get(self.products, "product", name)

    def market(self, name: str) -> Market:
        """The market called *name*, or `UnknownReferenceError`."""
        return _get(self.markets, "market", name)

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

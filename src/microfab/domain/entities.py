"""Legal entities: who sells in a market, who operates a site, their tax registrations, brands and invoice series.

A customer in Germany buys from a German company even when the product is made in Ohio: each
`Market` names the entity that sells there, each `Site` the entity that operates it. When the
two differ, the producing entity sells to the selling one at a transfer price (`TransferPolicy`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final


class Scheme(enum.StrEnum):
    """A tax registration scheme (what the number is)."""

    US_EIN = "us-ein"  # federal employer identification number
    US_SALES_TAX_PERMIT = "us-sales-tax-permit"  # per state (``region``)
    MX_RFC = "mx-rfc"  # Registro Federal de Contribuyentes
    MX_REGIMEN_FISCAL = "mx-regimen-fiscal"  # SAT catalogue c_RegimenFiscal, like 601
    DE_VAT_ID = "de-vat-id"  # Umsatzsteuer-Identifikationsnummer, DE + 9 digits
    DE_STEUERNUMMER = "de-steuernummer"  # tax number at the local tax office
    JP_CORPORATE_NUMBER = "jp-corporate-number"  # 法人番号, 13 digits
    JP_INVOICE_REGISTRATION = "jp-invoice-registration"  # 適格請求書発行事業者登録番号, T + 13 digits
    VN_TAX_CODE = "vn-tax-code"  # mã số thuế, 10 or 13 digits


REQUIRED: Final[Mapping[str, tuple[tuple[Scheme, ...], ...]]] = {
    "US": ((Scheme.US_EIN,),),
    "MX": ((Scheme.MX_RFC,), (Scheme.MX_REGIMEN_FISCAL,)),
    "DE": ((Scheme.DE_VAT_ID, Scheme.DE_STEUERNUMMER),),
    "JP": ((Scheme.JP_CORPORATE_NUMBER,), (Scheme.JP_INVOICE_REGISTRATION,)),
    "VN": ((Scheme.VN_TAX_CODE,),),
}
"""Per country, the registrations an entity must hold: each inner tuple is "one of these"."""


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address."""

    street: str
    postal_code: str
    city: str
    country: str
    region: str = ""

    def lines(self) -> tuple[str, ...]:
        """The address as printed lines (country code last)."""
        place = " ".join(p for p in (self.postal_code, self.city) if p)
        return tuple(p for p in (self.street, place, self.region, self.country) if p)


@dataclass(frozen=True, slots=True)
class Registration:
    """One tax registration: scheme, number (normalized), and for state permits the state."""

    scheme: Scheme
    number: str
    region: str = ""


@dataclass(frozen=True, slots=True)
class InvoiceSeries:
    """A numbering series: ``pattern`` formats ``{prefix}``, ``{year}``, ``{number}``; gapless per year."""

    name: str
    prefix: str
    pattern: str = "{prefix}-{year}-{number:06d}"
    yearly: bool = True

    def format(self, year: int, number: int) -> str:
        """The printed number, like ``RE-2026-000042``."""
        return self.pattern.format(prefix=self.prefix, year=year, number=number)


@dataclass(frozen=True, slots=True)
class LegalEntity:
    """A company: legal name, country, address, tax registrations, currency and invoice series."""

    name: str
    legal_name: str
    country: str
    address: Address
    registrations: tuple[Registration, ...]
    currency: str
    series: tuple[InvoiceSeries, ...] = ()
    email: str = ""

    def __post_init__(self) -> None:
        missing = [" or ".join(s.value for s in group) for group in self.missing_registrations()]
        if missing:
            raise ValueError(f"registrations: a {self.country} entity needs {', '.join(missing)}")

    def missing_registrations(self) -> list[tuple[Scheme, ...]]:
        """The required registration groups of the entity's country that it does not hold."""
        held = {r.scheme for r in self.registrations}
        return [group for group in REQUIRED.get(self.country, ()) if not held.intersection(group)]

    def registration(self, scheme: Scheme, region: str = "") -> str | None:
        """The number registered under *scheme* (and *region* for state permits), if any."""
        for reg in self.registrations:
            if reg.scheme == scheme and (not region or reg.region == region):
                return reg.number
        return None

    def series_named(self, name: str) -> InvoiceSeries:
        """The invoice series called *name*; `LookupError` naming the known ones."""
        for series in self.series:
            if series.name == name:
                return series
        known = ", ".join(s.name for s in self.series) or "none"
        raise LookupError(f"entity {self.name!r} has no invoice series {name!r}; series: {known}")


@dataclass(frozen=True, slots=True)
class Brand:
    """How a market's entity presents itself in one locale: name, tagline, support contact, legal footer."""

    locale: str
    name: str
    tagline: str = ""
    support: str = ""
    legal_footer: str = ""


@dataclass(frozen=True, slots=True)
class TransferPolicy:
    """Transfer prices between entities: cost plus a markup per product family (``*``: every other family)."""

    markups: Mapping[str, Decimal] = field(default_factory=lambda: {"*": Decimal("0.10")})

    def markup(self, family: str) -> Decimal:
        """The markup share for *family*."""
        return self.markups.get(family, self.markups.get("*", Decimal(0)))

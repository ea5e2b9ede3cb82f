"""Who buys: the legal name, address and tax numbers an invoice prints for the customer.

A consumer may give nothing (the invoice then names a generic consumer in the shipping
country); a business buyer gives its legal name, address and tax numbers by scheme:
``vat-id`` (an EU VAT identification number, any member state, like ``ATU12345678``),
``de-vat-id``, ``mx-rfc``, ``vn-tax-code``, ``jp-invoice-registration`` … A Mexican business
buyer also states its régimen fiscal and the uso CFDI it needs on the invoice.

This module imports only `microfab.domain.entities`, so `microfab.domain.events` may carry a
`Buyer` on ``OrderPlaced`` without an import cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from microfab.domain.entities import Address

VAT_ID: Final = "vat-id"
"""The scheme key of an EU VAT identification number of any member state."""

EU_VAT_COUNTRIES: Final = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
        "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip
"""EU member states (ISO 3166-1 alpha-2); Greece's VAT numbers start with ``EL``."""

_VAT_PREFIX_COUNTRY: Final = {"EL": "GR"}


@dataclass(frozen=True, slots=True)
class Buyer:
    """The customer as an invoice names it.

    Parameters
    ----------
    name
        Full legal name (a person's or a company's).
    address
        Postal (for MX: fiscal) address; its postal code is the CFDI ``DomicilioFiscalReceptor``.
    tax_ids
        Tax numbers by scheme (``vat-id``, ``de-vat-id``, ``mx-rfc``, ``vn-tax-code`` …).
    mx_regimen
        SAT c_RegimenFiscal of a Mexican buyer, like ``601`` (general de ley personas morales).
    mx_uso_cfdi
        SAT c_UsoCFDI the buyer asked for, like ``G03`` (gastos en general); default per buyer kind.
    """

    name: str
    address: Address
    tax_ids: Mapping[str, str] = field(default_factory=dict)
    email: str = ""
    mx_regimen: str = ""
    mx_uso_cfdi: str = ""

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("name: a buyer needs a legal name")

    def tax_id(self, *schemes: str) -> str | None:
        """The first of the buyer's numbers under *schemes*, if any."""
        for scheme in schemes:
            number = self.tax_ids.get(scheme)
            if number:
                return number
        return None

    @property
    def eu_vat_id(self) -> str | None:
        """The buyer's EU VAT identification number (``vat-id`` or any ``xx-vat-id``), if any."""
        direct = self.tax_id(VAT_ID)
        if direct:
            return normalize_vat_id(direct)
        for scheme, number in sorted(self.tax_ids.items()):
            if scheme.endswith("-vat-id") and number:
                return normalize_vat_id(number)
        return None


def normalize_vat_id(number: str) -> str:
    """``"atu 1234-5678"`` → ``"ATU12345678"`` (spaces, dots and dashes dropped, upper case)."""
    return "".join(ch for ch in number.upper() if ch.isalnum())


def vat_id_country(number: str) -> str | None:
    """The EU member state that issued a VAT number (``EL…`` → ``GR``), or None if it is not an EU number."""
    prefix = normalize_vat_id(number)[:2]
    country = _VAT_PREFIX_COUNTRY.get(prefix, prefix)
    return country if country in EU_VAT_COUNTRIES and prefix != "GR" else None

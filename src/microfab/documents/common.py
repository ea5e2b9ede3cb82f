"""What every output of an invoice needs: the seller's local time, VAT categories, units, amounts, file names.

Conventions read from an `Invoice` (written by ``commerce.invoicing``):

- ``fields["timezone"]`` is the IANA zone of the seller's place of issue; without it the
  market's zone of the invoice's country (`ZONES`).
- A line's VAT category (EN 16931 / UNTDID 5305) is its ``codes["vat-category"]``, or
  `CATEGORY_BY_TAX_CATEGORY` of its ``tax_category`` (``reverse-charge`` → AE,
  ``intra-community`` → K, ``export`` → G, ``exempt`` → E, ``zero-rated`` → Z,
  ``outside-scope`` → O); otherwise S when taxed, and for an untaxed line AE when the invoice is reverse charge
  (``fields["reverse_charge"]`` true, ``fields["vat_category"] == "AE"``, or a note naming the
  Steuerschuldnerschaft des Leistungsempfängers / reverse charge), else Z.
- Credit notes may carry their amounts positive or negative: the XML formats state the
  magnitude (`magnitude`) and let the document type say it is a credit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from microfab.domain.invoices import CREDIT_NOTE, Invoice, InvoiceLine, Party
from microfab.domain.quantities import MINOR_UNITS, Money

ZONES: Final[Mapping[str, str]] = {
    "US": "America/New_York",
    "MX": "America/Mexico_City",
    "DE": "Europe/Berlin",
    "JP": "Asia/Tokyo",
    "VN": "Asia/Ho_Chi_Minh",
}
"""The market's time zone per country (``examples/network/markets.yaml``), when the invoice names none."""

CATEGORY_BY_TAX_CATEGORY: Final[Mapping[str, str]] = {
    "reverse-charge": "AE",
    "intra-community": "K",
    "export": "G",
    "exempt": "E",
    "zero-rated": "Z",
    "outside-scope": "O",
}
"""EN 16931 VAT category codes of the tax categories that say more than their rate."""

EXEMPTION: Final[Mapping[str, tuple[str, str]]] = {
    "AE": ("VATEX-EU-AE", "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge)"),
    "K": ("VATEX-EU-IC", "Steuerfreie innergemeinschaftliche Lieferung"),
    "G": ("VATEX-EU-G", "Steuerfreie Ausfuhrlieferung"),
    "E": ("", "Steuerbefreit"),
    "O": ("VATEX-EU-O", "Nicht steuerbar"),
}
"""Per exempt VAT category: the VATEX reason code and the reason's text (German: used for DE invoices)."""

VAT_ID_SCHEMES: Final = ("vat-id", "eu-vat-id")
"""Schemes of ``Party.tax_ids`` that hold an EU VAT identification number (besides any ``xx-vat-id``)."""

_TRUE = {"1", "true", "yes", "ja", "y"}
_REVERSE_CHARGE_NOTES = ("steuerschuldnerschaft des leistungsempfängers", "reverse charge", "reverse-charge")

UNIT_CODES: Final[Mapping[str, str]] = {
    "": "C62",
    "unit": "C62",
    "units": "C62",
    "ea": "C62",
    "each": "C62",
    "one": "C62",
    "pc": "H87",
    "pcs": "H87",
    "piece": "H87",
    "pieces": "H87",
    "stk": "H87",
    "stück": "H87",
    "pieza": "H87",
    "個": "H87",
    "cái": "H87",
    "chiếc": "H87",
    "set": "SET",
    "h": "HUR",
    "hour": "HUR",
    "hours": "HUR",
    "kg": "KGM",
    "g": "GRM",
    "m": "MTR",
    "l": "LTR",
    "service": "E48",
}
"""UN/ECE Recommendation 20 codes (shared by EN 16931 and the SAT's c_ClaveUnidad) for common unit names."""


def local_time(invoice: Invoice) -> datetime:
    """When the invoice was issued, in the seller's zone (aware); a naive ``issued_at`` is read as UTC."""
    zone = ZoneInfo(invoice.fields.get("timezone") or ZONES.get(invoice.country, "UTC"))
    issued = invoice.issued_at
    if issued.tzinfo is None:
        issued = issued.replace(tzinfo=ZoneInfo("UTC"))
    return issued.astimezone(zone)


def is_credit_note(invoice: Invoice) -> bool:
    """Whether *invoice* is a credit note."""
    return invoice.kind == CREDIT_NOTE


def is_reverse_charge(invoice: Invoice) -> bool:
    """Whether the invoice as a whole says the buyer owes the VAT (field, category or note)."""
    if invoice.fields.get("reverse_charge", "").strip().lower() in _TRUE:
        return True
    if invoice.fields.get("vat_category", "").strip().upper() == "AE":
        return True
    if any(CATEGORY_BY_TAX_CATEGORY.get(line.tax_category) == "AE" for line in invoice.lines):
        return True
    return any(marker in note.lower() for note in invoice.notes for marker in _REVERSE_CHARGE_NOTES)


def vat_category(line: InvoiceLine, invoice: Invoice) -> str:
    """The line's EN 16931 VAT category code (S, AE, K, G, E, Z, O)."""
    explicit = line.codes.get("vat-category") or CATEGORY_BY_TAX_CATEGORY.get(line.tax_category)
    if explicit:
        return explicit.upper()
    if line.tax_rate > 0:
        return "S"
    return "AE" if is_reverse_charge(invoice) else "Z"


def exemption(category: str, invoice: Invoice) -> tuple[str, str]:
    """The VATEX code and reason text of an untaxed VAT category (``fields["exemption_reason"]`` overrides the text)."""
    code, reason = EXEMPTION.get(category, ("", ""))
    return code, invoice.fields.get("exemption_reason") or reason


def exemption_notes(invoice: Invoice) -> list[tuple[str, str]]:
    """(category, reason) for each exempt or reverse-charge category of the lines that no note already states."""
    stated = " ".join(invoice.notes).lower()
    categories = sorted({vat_category(line, invoice) for line in invoice.lines} & set(EXEMPTION))
    notes = []
    for category in categories:
        reason = exemption(category, invoice)[1]
        if reason and reason.split(" (")[0].lower() not in stated:
            notes.append((category, reason))
    return notes


def unit_code(line: InvoiceLine) -> str:
    """The UN/ECE Rec. 20 unit code of the line: ``codes["unece-unit"]``, ``codes["sat-unit"]``, or by unit name."""
    code = line.codes.get("unece-unit") or line.codes.get("sat-unit")
    if code:
        return code
    return UNIT_CODES.get(line.unit.strip().rstrip(".").lower(), "C62")


def magnitude(amount: Money) -> Decimal:
    """The amount without sign, quantized to its currency's minor unit (a credit note states magnitudes)."""
    return abs(amount.amount).quantize(Decimal(1).scaleb(-MINOR_UNITS[amount.currency]))


def decimal_text(value: Decimal) -> str:
    """A decimal in plain notation without trailing zeros (``2``, ``0.5``, ``19``), never exponent form."""
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", ""} else text


def percent_text(rate: Decimal) -> str:
    """A rate share as a percentage number (``0.19`` → ``19``, ``0.0575`` → ``5.75``)."""
    return decimal_text(rate * 100)


def tax_id(party: Party, *schemes: str) -> str:
    """The party's first tax number among *schemes*, or ``""``."""
    for scheme in schemes:
        number = party.tax_ids.get(scheme, "")
        if number:
            return number
    return ""


def vat_id(party: Party) -> str:
    """The party's EU VAT identification number: ``vat-id``, ``eu-vat-id``, then any ``xx-vat-id`` (``de-vat-id`` …)."""
    direct = tax_id(party, *VAT_ID_SCHEMES)
    if direct:
        return direct
    return next((n for scheme, n in sorted(party.tax_ids.items()) if scheme.endswith("-vat-id") and n), "")


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_FOLD = str.maketrans({"đ": "d", "Đ": "D", "ß": "ss", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "æ": "ae", "Æ": "AE"})


def safe_filename(number: str) -> str:
    """A file name stem for an invoice number: ASCII letters, digits, ``.-_`` only, no leading dot."""
    folded = number.translate(_FOLD)
    ascii_text = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode("ascii")
    stem = _UNSAFE.sub("_", ascii_text).strip("._-")
    if not stem:
        raise ValueError(f"number: {number!r} gives no usable file name")
    return stem[:120]

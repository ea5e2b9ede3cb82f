"""Invoices, credit notes and intercompany sales as recorded facts.

An invoice is issued by the market's selling entity when the order ships, numbered gaplessly
per entity, series and year, and never changed afterwards: a correction is a credit note that
refers to it. When the producing site's entity differs from the selling entity, an
intercompany sale at the transfer price is recorded first; its value is the customs value of
the import. Amounts are Decimal money in the document currency, rounded per the country's rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from microfab.domain.entities import Address
from microfab.domain.events import Event
from microfab.domain.quantities import Money

INVOICE = "invoice"
CREDIT_NOTE = "credit-note"


@dataclass(frozen=True, slots=True)
class Party:
    """Seller or buyer as printed: legal name, address, tax numbers by scheme (``de-vat-id``, ``mx-rfc`` …)."""

    name: str
    address: Address
    tax_ids: Mapping[str, str] = field(default_factory=dict)
    email: str = ""


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One line: what, how many, unit price and amounts; the tax rate and whether it is a reduced rate.

    ``codes`` carries classification keys a country needs (``sat-product``, ``sat-unit`` for a
    CFDI, ``hs`` for customs).
    """

    description: str
    quantity: Decimal
    unit: str
    unit_net: Money
    net: Money
    tax_category: str
    tax_rate: Decimal
    tax: Money
    reduced: bool = False
    codes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RateSummary:
    """Net and tax per tax rate (a qualified invoice states one per rate, rounded once)."""

    rate: Decimal
    net: Money
    tax: Money


@dataclass(frozen=True, slots=True)
class Invoice:
    """An issued invoice or credit note; ``fields`` holds country-specific items (CFDI uso, método de pago …)."""

    number: str
    sequence: int
    series: str
    kind: str
    entity: str
    order_id: str
    issued_at: datetime
    supplied_on: date
    country: str
    language: str
    currency: str
    seller: Party
    buyer: Party
    lines: tuple[InvoiceLine, ...]
    rates: tuple[RateSummary, ...]
    net: Money
    tax: Money
    gross: Money
    b2b: bool
    notes: tuple[str, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)
    corrects: str | None = None


@dataclass(frozen=True, slots=True)
class InvoiceIssued(Event):
    """The selling entity issued an invoice (immutable from now on)."""

    invoice: Invoice


@dataclass(frozen=True, slots=True)
class CreditNoteIssued(Event):
    """A credit note corrected an issued invoice (its own number, in the same entity's credit series)."""

    credit_note: Invoice


@dataclass(frozen=True, slots=True)
class IntercompanySaleRecorded(Event):
    """The producing entity sold the order's goods to the selling entity at the transfer price.

    ``transfer_price`` = ``cost`` x (1 + ``markup``); it is the customs value of the import, on
    which ``duty`` was assessed.
    """

    order_id: str
    seller: str
    buyer: str
    cost: Money
    markup: Decimal
    transfer_price: Money
    duty: Money
    supplied_on: date

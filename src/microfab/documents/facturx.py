"""Factur-X / ZUGFeRD, profile EN 16931: the invoice as UN/CEFACT CII D16B XML, embedded in a PDF/A-3.

For German B2B invoices (an E-Rechnung in the sense of § 14 Abs. 1 UStG since 2025): the
`facturx_xml` document carries the same data as the printed PDF and is checked against the
profile's XSD (shipped in the ``factur-x`` package) before `facturx_pdf` embeds it as
``factur-x.xml`` into the PDF/A-3b that `microfab.documents.pdf` renders.

Mapping (business terms of EN 16931 in brackets):

- type code 380 invoice, 381 credit note (BT-3); a credit note refers to the corrected
  invoice (BT-25) and states positive amounts;
- seller and buyer with name, postal address and VAT IDs (schemeID ``VA``; the seller's
  Steuernummer as ``FC``), the seller's order number (BT-14), the delivery date (BT-72);
- one line per invoice line: name, net unit price, billed quantity with its UN/ECE Rec. 20
  unit code (C62 one, H87 piece …), VAT category and rate, line net amount;
- one ``ApplicableTradeTax`` per VAT category and rate; S is standard rated, AE reverse
  charge (rate 0, with exemption reason and VATEX code), see `microfab.documents.common`;
- payment terms (BT-20) from ``fields["payment_terms"]``, otherwise a due date (BT-9) from
  ``fields["due_date"]`` or, without either, the issue date (due on receipt): EN 16931 asks
  for one of them when an amount is due (BR-CO-25).

The XSD is checked here; the EN 16931 Schematron (XSLT 2) needs a Saxon server and is not run.
"""

from __future__ import annotations

import gettext
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

import facturx as facturx_lib  # type: ignore[import-untyped]
from lxml import etree  # type: ignore[import-untyped]

from microfab.documents import common
from microfab.documents.pdf import html_to_pdf, render_invoice_html
from microfab.domain.entities import Address, Brand
from microfab.domain.invoices import Invoice, InvoiceLine, Party

RSM: Final = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM: Final = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT: Final = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT: Final = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
GUIDELINE: Final = "urn:cen.eu:en16931:2017"
FLAVOR: Final = "factur-x"
LEVEL: Final = "en16931"

INVOICE_TYPE: Final = "380"
CREDIT_NOTE_TYPE: Final = "381"


def _ram(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{RAM}}}{tag}", **attributes)
    if text is not None:
        element.text = text
    return element


def _date(parent: etree._Element, tag: str, day: date) -> None:
    holder = _ram(parent, tag)
    etree.SubElement(holder, f"{{{UDT}}}DateTimeString", format="102").text = day.strftime("%Y%m%d")


def _amount(value: Decimal) -> str:
    return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else common.decimal_text(value)


def _address(parent: etree._Element, address: Address) -> None:
    node = _ram(parent, "PostalTradeAddress")
    if address.postal_code:
        _ram(node, "PostcodeCode", address.postal_code)
    if address.street:
        _ram(node, "LineOne", address.street)
    if address.city:
        _ram(node, "CityName", address.city)
    _ram(node, "CountryID", address.country)
    if address.region:
        _ram(node, "CountrySubDivisionName", address.region)


def _party(parent: etree._Element, tag: str, party: Party, *, seller: bool) -> None:
    node = _ram(parent, tag)
    _ram(node, "Name", party.name)
    _address(node, party.address)
    if party.email:
        _ram(_ram(node, "URIUniversalCommunication"), "URIID", party.email, schemeID="EM")
    vat_id = common.vat_id(party)
    if vat_id:
        _ram(_ram(node, "SpecifiedTaxRegistration"), "ID", vat_id, schemeID="VA")
    steuernummer = party.tax_ids.get("de-steuernummer", "")
    if seller and steuernummer:
        _ram(_ram(node, "SpecifiedTaxRegistration"), "ID", steuernummer, schemeID="FC")


def _line_tax(parent: etree._Element, category: str, rate: Decimal) -> None:
    tax = _ram(parent, "ApplicableTradeTax")
    _ram(tax, "TypeCode", "VAT")
    _ram(tax, "CategoryCode", category)
    _ram(tax, "RateApplicablePercent", common.percent_text(rate))


def _line(parent: etree._Element, index: int, line: InvoiceLine, invoice: Invoice) -> None:
    item = _ram(parent, "IncludedSupplyChainTradeLineItem")
    _ram(_ram(item, "AssociatedDocumentLineDocument"), "LineID", str(index))
    product = _ram(item, "SpecifiedTradeProduct")
    if line.codes.get("sku"):
        _ram(product, "SellerAssignedID", line.codes["sku"])
    _ram(product, "Name", line.description)
    agreement = _ram(item, "SpecifiedLineTradeAgreement")
    _ram(_ram(agreement, "NetPriceProductTradePrice"), "ChargeAmount", _amount(abs(line.unit_net.amount)))
    delivery = _ram(item, "SpecifiedLineTradeDelivery")
    _ram(delivery, "BilledQuantity", common.decimal_text(abs(line.quantity)), unitCode=common.unit_code(line))
    settlement = _ram(item, "SpecifiedLineTradeSettlement")
    _line_tax(settlement, common.vat_category(line, invoice), line.tax_rate)
    summation = _ram(settlement, "SpecifiedTradeSettlementLineMonetarySummation")
    _ram(summation, "LineTotalAmount", _amount(common.magnitude(line.net)))


def _tax_breakdown(invoice: Invoice) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    """(category, rate, basis, tax) per VAT category and rate, highest rate first.

    The tax of a standard-rated group is the invoice's own figure for that rate (what the PDF
    prints); only a rate the invoice does not summarise is computed, half-up to the cent.
    """
    basis: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    for line in invoice.lines:
        basis[common.vat_category(line, invoice), line.tax_rate] += common.magnitude(line.net)
    tax_by_rate = {summary.rate: common.magnitude(summary.tax) for summary in invoice.rates}
    rows = []
    for (category, rate), amount in sorted(basis.items(), key=lambda item: (-item[0][1], item[0][0])):
        if category != "S":
            tax = Decimal("0.00")
        elif rate in tax_by_rate:
            tax = tax_by_rate[rate]
        else:
            tax = (amount * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        rows.append((category, rate, amount, tax))
    return rows


def _document(root: etree._Element, invoice: Invoice, issue_day: date) -> None:
    context = etree.SubElement(root, f"{{{RSM}}}ExchangedDocumentContext")
    _ram(_ram(context, "GuidelineSpecifiedDocumentContextParameter"), "ID", GUIDELINE)
    document = etree.SubElement(root, f"{{{RSM}}}ExchangedDocument")
    _ram(document, "ID", invoice.number)
    _ram(document, "TypeCode", CREDIT_NOTE_TYPE if common.is_credit_note(invoice) else INVOICE_TYPE)
    _date(document, "IssueDateTime", issue_day)
    for note in invoice.notes:
        _ram(_ram(document, "IncludedNote"), "Content", note)


def _agreement_and_delivery(transaction: etree._Element, invoice: Invoice) -> None:
    agreement = _ram(transaction, "ApplicableHeaderTradeAgreement")
    if invoice.fields.get("buyer_reference"):
        _ram(agreement, "BuyerReference", invoice.fields["buyer_reference"])
    _party(agreement, "SellerTradeParty", invoice.seller, seller=True)
    _party(agreement, "BuyerTradeParty", invoice.buyer, seller=False)
    if invoice.order_id:
        _ram(_ram(agreement, "SellerOrderReferencedDocument"), "IssuerAssignedID", invoice.order_id)
    delivery = _ram(transaction, "ApplicableHeaderTradeDelivery")
    if any(common.vat_category(line, invoice) == "K" for line in invoice.lines):
        # BR-IC-12: an intra-Community supply names the country delivered to (the buyer's address).
        ship_to = _ram(delivery, "ShipToTradeParty")
        _ram(ship_to, "Name", invoice.buyer.name)
        _address(ship_to, invoice.buyer.address)
    _date(_ram(delivery, "ActualDeliverySupplyChainEvent"), "OccurrenceDateTime", invoice.supplied_on)


def _header_taxes(settlement: etree._Element, invoice: Invoice) -> Decimal:
    """One ``ApplicableTradeTax`` per VAT category and rate; return the tax total."""
    rows = _tax_breakdown(invoice)
    for category, rate, basis, tax in rows:
        node = _ram(settlement, "ApplicableTradeTax")
        _ram(node, "CalculatedAmount", _amount(tax))
        _ram(node, "TypeCode", "VAT")
        code, reason = common.exemption(category, invoice)
        if category != "S" and reason:
            _ram(node, "ExemptionReason", reason)
        _ram(node, "BasisAmount", _amount(basis))
        _ram(node, "CategoryCode", category)
        if category != "S" and code:
            _ram(node, "ExemptionReasonCode", code)
        _ram(node, "RateApplicablePercent", common.percent_text(rate))
    return sum((tax for *_, tax in rows), Decimal("0.00"))


def _payment_terms(settlement: etree._Element, invoice: Invoice, issue_day: date) -> None:
    terms = _ram(settlement, "SpecifiedTradePaymentTerms")
    if invoice.fields.get("payment_terms"):
        _ram(terms, "Description", invoice.fields["payment_terms"])
    else:
        due = date.fromisoformat(invoice.fields["due_date"]) if invoice.fields.get("due_date") else issue_day
        _date(terms, "DueDateDateTime", due)


def facturx_xml(invoice: Invoice) -> bytes:
    """The invoice or credit note as Factur-X EN 16931 CII XML (UTF-8 bytes), valid against the profile's XSD."""
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap={"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT})
    issue_day = common.local_time(invoice).date()
    _document(root, invoice, issue_day)
    transaction = etree.SubElement(root, f"{{{RSM}}}SupplyChainTradeTransaction")
    for index, line in enumerate(invoice.lines, 1):
        _line(transaction, index, line, invoice)
    _agreement_and_delivery(transaction, invoice)

    settlement = _ram(transaction, "ApplicableHeaderTradeSettlement")
    _ram(settlement, "InvoiceCurrencyCode", invoice.currency)
    tax_total = _header_taxes(settlement, invoice)
    _payment_terms(settlement, invoice, issue_day)
    line_total = sum((common.magnitude(line.net) for line in invoice.lines), Decimal("0.00"))
    grand = line_total + tax_total
    if grand != common.magnitude(invoice.gross):
        raise ValueError(
            f"Factur-X of {invoice.number}: lines and taxes add up to {grand}, the invoice's gross is "
            f"{invoice.gross.amount}"
        )
    summation = _ram(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation")
    _ram(summation, "LineTotalAmount", _amount(line_total))
    _ram(summation, "TaxBasisTotalAmount", _amount(line_total))
    _ram(summation, "TaxTotalAmount", _amount(tax_total), currencyID=invoice.currency)
    _ram(summation, "GrandTotalAmount", _amount(grand))
    _ram(summation, "DuePayableAmount", _amount(grand))
    if common.is_credit_note(invoice) and invoice.corrects:
        _ram(_ram(settlement, "InvoiceReferencedDocument"), "IssuerAssignedID", invoice.corrects)
    body: bytes = etree.tostring(root, encoding="UTF-8", pretty_print=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def check_xsd(xml: bytes) -> None:
    """Raise if *xml* is not valid against the Factur-X EN 16931 XSD (the ``factur-x`` package's check)."""
    facturx_lib.xml_check_xsd(xml, flavor=FLAVOR, level=LEVEL)


def facturx_pdf(
    invoice: Invoice,
    *,
    translations: gettext.NullTranslations,
    brand: Brand | None = None,
    language: str | None = None,
    xml: bytes | None = None,
) -> bytes:
    """The invoice as a Factur-X PDF: the PDF/A-3b rendering with ``factur-x.xml`` (EN 16931) embedded."""
    data = xml if xml is not None else facturx_xml(invoice)
    html = render_invoice_html(invoice, translations=translations, brand=brand, language=language)
    pdf = html_to_pdf(html, pdfa=True)
    title = f"{invoice.seller.name}: {invoice.number}"
    metadata = {
        "author": invoice.seller.name,
        "keywords": "Factur-X, EN 16931, " + ("credit note" if common.is_credit_note(invoice) else "invoice"),
        "title": title,
        "subject": f"{invoice.number} {invoice.issued_at.date().isoformat()} {invoice.seller.name}",
    }
    result: bytes = facturx_lib.generate_from_binary(
        pdf,
        data,
        flavor=FLAVOR,
        level=LEVEL,
        check_xsd=True,
        pdf_metadata=metadata,
        lang=language or invoice.language,
    )
    return result

"""Factur-X EN 16931: the CII XML passes the profile's XSD, adds up, and travels inside a PDF/A-3."""

from __future__ import annotations

import gettext
import io
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import facturx as facturx_lib
import pytest
from lxml import etree
from pypdf import PdfReader

from microfab.documents import write_invoice_files
from microfab.documents.facturx import check_xsd, facturx_pdf, facturx_xml
from microfab.domain.quantities import Money
from tests.unit.documents import sample

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
NULL = gettext.NullTranslations()


def parse(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


def texts(root: etree._Element, path: str) -> list[str]:
    return [str(value) for value in root.xpath(path + "/text()", namespaces=NS)]


def one(root: etree._Element, path: str) -> str:
    values = texts(root, path)
    assert len(values) == 1, (path, values)
    return values[0]


SETTLEMENT = "//ram:ApplicableHeaderTradeSettlement"
SUMMATION = SETTLEMENT + "/ram:SpecifiedTradeSettlementHeaderMonetarySummation"


@pytest.fixture(scope="module")
def invoice_xml() -> bytes:
    return facturx_xml(sample.german())


@pytest.fixture(scope="module")
def facturx_document() -> bytes:
    return facturx_pdf(sample.german(), translations=NULL, brand=sample.BRAND)


@pytest.mark.parametrize(
    "build",
    [
        sample.german,
        sample.german_reverse_charge,
        lambda: sample.credit_note(sample.german(), "RK-2026-000003"),
    ],
    ids=["invoice", "reverse-charge", "credit-note"],
)
def test_xml_passes_the_en16931_xsd(build) -> None:  # type: ignore[no-untyped-def]
    xml = build()
    document = facturx_xml(xml)
    check_xsd(document)
    assert facturx_lib.xml_check_xsd(document, flavor="factur-x", level="en16931")
    assert facturx_lib.get_level(parse(document), "factur-x") == "en16931"


def test_header_context_parties_and_dates(invoice_xml: bytes) -> None:
    root = parse(invoice_xml)
    assert one(root, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == "urn:cen.eu:en16931:2017"
    assert one(root, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID") == "RE-2026-000042"
    assert one(root, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert one(root, "//rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString") == "20261125"
    assert one(root, "//ram:ActualDeliverySupplyChainEvent//udt:DateTimeString") == "20261124"
    seller = "//ram:SellerTradeParty"
    assert one(root, seller + "/ram:Name") == "Microfab Deutschland GmbH"
    assert one(root, seller + "/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "DE136695976"
    assert one(root, seller + "/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='FC']") == "22/123/45678"
    assert one(root, seller + "/ram:PostalTradeAddress/ram:CountryID") == "DE"
    assert one(root, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "DE811907980"
    assert one(root, "//ram:SellerOrderReferencedDocument/ram:IssuerAssignedID") == "ORD-2026-0815"
    assert one(root, SETTLEMENT + "/ram:InvoiceCurrencyCode") == "EUR"


def test_lines_carry_name_price_quantity_unit_and_vat(invoice_xml: bytes) -> None:
    root = parse(invoice_xml)
    items = root.xpath("//ram:IncludedSupplyChainTradeLineItem", namespaces=NS)
    assert len(items) == 2
    first = items[0]
    assert one(first, "ram:SpecifiedTradeProduct/ram:Name") == "Laptopständer Aluminium, eloxiert"
    assert one(first, ".//ram:NetPriceProductTradePrice/ram:ChargeAmount") == "89.00"
    quantity = first.xpath(".//ram:BilledQuantity", namespaces=NS)[0]
    assert (quantity.text, quantity.get("unitCode")) == ("2", "H87")  # "Stk." is a piece
    assert one(first, ".//ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode") == "S"
    assert one(first, ".//ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:RateApplicablePercent") == "19"
    assert one(first, ".//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount") == "178.00"


def test_totals_add_up_per_rate_and_overall(invoice_xml: bytes) -> None:
    root = parse(invoice_xml)
    taxes = root.xpath(SETTLEMENT + "/ram:ApplicableTradeTax", namespaces=NS)
    breakdown = {
        one(t, "ram:RateApplicablePercent"): (
            one(t, "ram:CategoryCode"),
            Decimal(one(t, "ram:BasisAmount")),
            Decimal(one(t, "ram:CalculatedAmount")),
        )
        for t in taxes
    }
    assert breakdown == {
        "19": ("S", Decimal("178.00"), Decimal("33.82")),
        "7": ("S", Decimal("12.50"), Decimal("0.88")),
    }
    lines = sum(
        Decimal(v) for v in texts(root, "//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount")
    )
    line_total = Decimal(one(root, SUMMATION + "/ram:LineTotalAmount"))
    basis = Decimal(one(root, SUMMATION + "/ram:TaxBasisTotalAmount"))
    tax_total = root.xpath(SUMMATION + "/ram:TaxTotalAmount", namespaces=NS)[0]
    grand = Decimal(one(root, SUMMATION + "/ram:GrandTotalAmount"))
    assert lines == line_total == basis == Decimal("190.50")  # BR-CO-10, BR-CO-13
    assert tax_total.get("currencyID") == "EUR"
    assert Decimal(tax_total.text) == sum(c for _, _, c in breakdown.values()) == Decimal("34.70")  # BR-CO-14
    assert grand == basis + Decimal(tax_total.text) == Decimal("225.20")  # BR-CO-15
    assert Decimal(one(root, SUMMATION + "/ram:DuePayableAmount")) == grand
    assert one(root, SETTLEMENT + "/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString")


def test_reverse_charge_is_category_ae_with_an_exemption_reason() -> None:
    root = parse(facturx_xml(sample.german_reverse_charge()))
    assert texts(root, "//ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode") == ["AE"]
    header = root.xpath(SETTLEMENT + "/ram:ApplicableTradeTax", namespaces=NS)
    assert len(header) == 1
    tax = header[0]
    assert one(tax, "ram:CategoryCode") == "AE"
    assert one(tax, "ram:RateApplicablePercent") == "0"
    assert one(tax, "ram:CalculatedAmount") == "0.00"
    assert one(tax, "ram:BasisAmount") == "760.00"
    assert one(tax, "ram:ExemptionReasonCode") == "VATEX-EU-AE"
    assert "Steuerschuldnerschaft des Leistungsempfängers" in one(tax, "ram:ExemptionReason")
    assert one(root, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "ATU13585627"
    assert root.xpath("//ram:BilledQuantity", namespaces=NS)[0].get("unitCode") == "HUR"
    assert "Steuerschuldnerschaft" in one(root, "//rsm:ExchangedDocument/ram:IncludedNote/ram:Content")


@pytest.mark.parametrize(
    ("tax_category", "fields", "category", "code"),
    [
        ("intra-community", {}, "K", "VATEX-EU-IC"),
        ("export", {}, "G", "VATEX-EU-G"),
        ("general", {"reverse_charge": "true"}, "AE", "VATEX-EU-AE"),
        ("general", {}, "Z", None),
    ],
)
def test_untaxed_lines_get_their_vat_category(
    tax_category: str, fields: dict[str, str], category: str, code: str | None
) -> None:
    base = sample.german_reverse_charge()
    invoice = replace(
        base,
        lines=tuple(replace(line, tax_category=tax_category) for line in base.lines),
        notes=(),
        fields=fields,
    )
    xml = facturx_xml(invoice)
    check_xsd(xml)
    root = parse(xml)
    assert texts(root, "//ram:CategoryCode") == [category, category]
    assert texts(root, SETTLEMENT + "/ram:ApplicableTradeTax/ram:ExemptionReasonCode") == ([code] if code else [])


def test_credit_note_is_type_381_referring_to_the_invoice() -> None:
    root = parse(facturx_xml(sample.credit_note(sample.german(), "RK-2026-000003")))
    assert one(root, "//rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert one(root, SETTLEMENT + "/ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == "RE-2026-000042"
    assert one(root, SUMMATION + "/ram:GrandTotalAmount") == "225.20"  # a credit note states positive amounts


def test_negative_credit_note_amounts_are_stated_as_magnitudes() -> None:
    note = sample.credit_note(sample.german(), "RK-2026-000004")
    negative = replace(
        note,
        lines=tuple(replace(line, net=-line.net, tax=-line.tax) for line in note.lines),
        rates=tuple(replace(rate, net=-rate.net, tax=-rate.tax) for rate in note.rates),
        net=-note.net,
        tax=-note.tax,
        gross=Money(-note.gross.amount, "EUR"),
    )
    assert facturx_xml(negative) == facturx_xml(note)


def test_inconsistent_invoice_is_refused() -> None:
    broken = replace(sample.german(), gross=Money(Decimal("999.99"), "EUR"))
    with pytest.raises(ValueError, match="gross"):
        facturx_xml(broken)


def test_pdf_embeds_factur_x_xml(facturx_document: bytes, invoice_xml: bytes) -> None:
    name, embedded = facturx_lib.get_xml_from_pdf(facturx_document, check_xsd=True)
    assert name == "factur-x.xml"
    assert embedded == invoice_xml
    reader = PdfReader(io.BytesIO(facturx_document))
    assert "Rechnung" in reader.pages[0].extract_text()
    metadata = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b"pdfaid" in metadata
    assert b"<pdfaid:part>3</pdfaid:part>" in metadata or b'pdfaid:part="3"' in metadata
    assert b"factur-x" in metadata.lower()


def test_german_b2b_writes_the_factur_x_pdf_and_the_xml(tmp_path: Path, invoice_xml: bytes) -> None:
    written = write_invoice_files(sample.german(), tmp_path, translations=NULL, brand=sample.BRAND)
    assert [p.name for p in written] == ["RE-2026-000042.pdf", "RE-2026-000042.xml"]
    assert written[1].read_bytes() == invoice_xml
    name, embedded = facturx_lib.get_xml_from_pdf(written[0].read_bytes(), check_xsd=False)
    assert (name, embedded) == ("factur-x.xml", invoice_xml)


def test_german_consumer_gets_a_plain_pdf(tmp_path: Path) -> None:
    written = write_invoice_files(sample.german(b2b=False), tmp_path, translations=NULL, brand=None)
    assert [p.name for p in written] == ["RE-2026-000042.pdf"]

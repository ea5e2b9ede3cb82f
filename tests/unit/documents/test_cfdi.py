"""CFDI 4.0: valid against the SAT's XSD (seal attributes aside), totals that add up, the general public's RFC."""

from __future__ import annotations

import gettext
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from microfab.documents import write_invoice_files
from microfab.documents.cfdi import NS, PUBLICO_EN_GENERAL, SEAL_ATTRIBUTES, cfdi_xml, validate_cfdi, xsd_path
from microfab.domain.quantities import Money
from tests.unit.documents import sample

C = {"cfdi": NS}
NULL = gettext.NullTranslations()
UUID = "5FB2822E-396D-4725-8521-CDC4BDD20CCF"


@pytest.fixture(scope="module")
def business() -> bytes:
    return cfdi_xml(sample.mexican())


@pytest.fixture(scope="module")
def consumer() -> bytes:
    return cfdi_xml(sample.mexican(consumer=True))


@pytest.fixture(scope="module")
def credit() -> bytes:
    return cfdi_xml(sample.credit_note(sample.mexican(), "NC-2026-000001"))


def root_of(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


def test_invoices_are_valid_against_the_sat_xsd(business: bytes, consumer: bytes, credit: bytes) -> None:
    assert xsd_path().name == "cfdv40.xsd"
    for xml in (business, consumer, credit):
        assert validate_cfdi(xml) == []


def test_only_the_seal_attributes_are_missing_before_sealing(business: bytes) -> None:
    root = root_of(business)
    for name in SEAL_ATTRIBUTES:
        assert root.get(name) is None
    assert b"NOT SEALED, NOT STAMPED" in business
    assert b"TimbreFiscalDigital" not in business.split(b"-->", 1)[1]
    schema = etree.XMLSchema(etree.parse(str(xsd_path()), etree.XMLParser(no_network=True)))
    assert not schema.validate(root)
    missing = {error.message.split("'")[3] for error in schema.error_log}
    assert missing == set(SEAL_ATTRIBUTES)


def test_header_of_an_income_cfdi(business: bytes) -> None:
    root = root_of(business)
    assert root.tag == f"{{{NS}}}Comprobante"
    assert root.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation").endswith("cfd/4/cfdv40.xsd")
    expected = {
        "Version": "4.0",
        "Serie": "A",
        "Folio": "A-2026-000015",
        "Fecha": "2026-11-25T09:30:00",  # 15:30 UTC in Monterrey's zone, without an offset
        "FormaPago": "03",
        "MetodoPago": "PUE",
        "SubTotal": "3400.00",
        "Moneda": "MXN",
        "Total": "3944.00",
        "TipoDeComprobante": "I",
        "Exportacion": "01",
        "LugarExpedicion": "64000",
    }
    assert {name: root.get(name) for name in expected} == expected
    emisor = root.find("cfdi:Emisor", C)
    assert dict(emisor.attrib) == {"Rfc": "MME200101AB1", "Nombre": "MICROFAB MEXICO", "RegimenFiscal": "601"}
    receptor = root.find("cfdi:Receptor", C)
    assert receptor.get("Rfc") == "IDN150315KM7"
    assert receptor.get("UsoCFDI") == "G03"
    assert receptor.get("DomicilioFiscalReceptor") == "06600"


def test_concepts_carry_sat_keys_and_iva(business: bytes) -> None:
    conceptos = root_of(business).findall("cfdi:Conceptos/cfdi:Concepto", C)
    assert [(c.get("ClaveProdServ"), c.get("ClaveUnidad"), c.get("Cantidad")) for c in conceptos] == [
        ("56101700", "H87", "2"),
        ("81111500", "E48", "1"),
    ]
    first = conceptos[0]
    assert (first.get("ValorUnitario"), first.get("Importe"), first.get("ObjetoImp")) == ("1450.00", "2900.00", "02")
    traslado = first.find("cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado", C)
    assert dict(traslado.attrib) == {
        "Base": "2900.00",
        "Impuesto": "002",
        "TipoFactor": "Tasa",
        "TasaOCuota": "0.160000",
        "Importe": "464.00",
    }


def test_totals_and_iva_breakdown_add_up(business: bytes) -> None:
    root = root_of(business)
    conceptos = root.findall("cfdi:Conceptos/cfdi:Concepto", C)
    line_taxes = root.findall("cfdi:Conceptos/cfdi:Concepto/cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado", C)
    header = root.findall("cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado", C)
    subtotal = sum(Decimal(c.get("Importe")) for c in conceptos)
    assert Decimal(root.get("SubTotal")) == subtotal
    assert len(header) == 1
    assert Decimal(header[0].get("Base")) == sum(Decimal(t.get("Base")) for t in line_taxes) == subtotal
    assert Decimal(header[0].get("Importe")) == sum(Decimal(t.get("Importe")) for t in line_taxes)
    total_tax = Decimal(root.find("cfdi:Impuestos", C).get("TotalImpuestosTrasladados"))
    assert total_tax == Decimal(header[0].get("Importe")) == Decimal("544.00")
    assert Decimal(root.get("Total")) == subtotal + total_tax == sample.mexican().gross.amount


def test_consumer_is_the_general_public(consumer: bytes) -> None:
    root = root_of(consumer)
    receptor = root.find("cfdi:Receptor", C)
    assert dict(receptor.attrib) == {
        "Rfc": PUBLICO_EN_GENERAL,
        "Nombre": "PUBLICO EN GENERAL",
        "DomicilioFiscalReceptor": root.get("LugarExpedicion"),
        "RegimenFiscalReceptor": "616",
        "UsoCFDI": "S01",
    }
    assert PUBLICO_EN_GENERAL == "XAXX010101000"


def test_credit_note_is_an_egreso_whose_relation_waits_for_the_uuid(credit: bytes) -> None:
    root = root_of(credit)
    assert root.get("TipoDeComprobante") == "E"
    assert root.find("cfdi:CfdiRelacionados", C) is None
    comments = [node.text for node in root.iter(etree.Comment)]
    assert any("A-2026-000015" in text and "TipoRelacion=01" in text for text in comments)
    assert root.find("cfdi:Receptor", C).get("UsoCFDI") == "G03"


def test_credit_note_relates_to_the_stamped_original_when_its_uuid_is_known() -> None:
    note = sample.credit_note(sample.mexican(), "NC-2026-000002")
    note = replace(note, fields={**note.fields, "uuid_relacionado": UUID, "uso_cfdi": "G02"})
    xml = cfdi_xml(note)
    assert validate_cfdi(xml) == []
    relation = root_of(xml).find("cfdi:CfdiRelacionados", C)
    assert relation.get("TipoRelacion") == "01"
    assert relation.find("cfdi:CfdiRelacionado", C).get("UUID") == UUID
    assert root_of(xml).find("cfdi:Receptor", C).get("UsoCFDI") == "G02"


def test_validation_reports_catalogue_and_arithmetic_errors(business: bytes) -> None:
    bad = business.replace(b'ClaveUnidad="H87"', b'ClaveUnidad="XYZ1"').replace(b'Total="3944.00"', b'Total="3944.01"')
    errors = validate_cfdi(bad)
    assert len(errors) == 2
    assert "ClaveUnidad" in errors[0]
    assert "not in the SAT catalogue" in errors[0]
    assert len(errors[0]) < 300
    assert errors[1].startswith("Total 3944.01")
    assert validate_cfdi(b"<not-xml")[0].startswith("not well-formed")


def test_missing_sat_data_is_refused() -> None:
    invoice = sample.mexican()
    no_keys = replace(invoice, lines=(replace(invoice.lines[0], codes={}),))
    with pytest.raises(ValueError, match=r"line 1: codes\['sat-product'\], line 1: codes\['sat-unit'\]"):
        cfdi_xml(no_keys)
    no_form = replace(invoice, fields={k: v for k, v in invoice.fields.items() if k != "forma_pago"})
    with pytest.raises(ValueError, match="forma_pago"):
        cfdi_xml(no_form)
    with pytest.raises(ValueError, match="a CFDI is for Mexican invoices"):
        cfdi_xml(sample.german())


def test_totals_that_do_not_match_the_invoice_are_refused() -> None:
    invoice = sample.mexican()
    with pytest.raises(ValueError, match="rounds IVA per concept"):
        cfdi_xml(replace(invoice, gross=Money(Decimal("3944.01"), "MXN")))


def test_mexico_writes_the_pdf_and_the_cfdi(tmp_path: Path, business: bytes) -> None:
    written = write_invoice_files(sample.mexican(), tmp_path, translations=NULL, brand=None)
    assert [p.name for p in written] == ["A-2026-000015.pdf", "A-2026-000015.xml"]
    assert written[0].read_bytes().startswith(b"%PDF-")
    assert written[1].read_bytes() == business

"""CFDI 4.0 XML (Anexo 20 of the SAT) for Mexican invoices and credit notes, before sealing and stamping.

What this module writes is the ``cfdi:Comprobante`` as the issuer prepares it; what it cannot
write is everything that needs the issuer's CSD (certificado de sello digital) or a PAC:

- ``Sello``, ``NoCertificado`` and ``Certificado`` are required by ``cfdv40.xsd`` but only exist
  after sealing with the issuer's CSD. The written XML **leaves them out** (no fake values)
  and starts with a comment saying it is not sealed and not stamped.
- The ``tfd:TimbreFiscalDigital`` (the UUID) is added by an authorised PAC when it stamps the
  CFDI; that happens outside this system.
- A credit note (``TipoDeComprobante`` E) must relate to the original invoice by its UUID
  (``CfdiRelacionados TipoRelacion="01"``). Before stamping there is no UUID: when
  ``fields["uuid_relacionado"]`` holds the original's UUID the relation is written, otherwise
  it is left out and an XML comment names the original invoice and the element to add.

`validate_cfdi` checks a document against the SAT's XSD as shipped in the ``satcfdi``
package (loaded offline with lxml): on a copy, it fills exactly the three seal attributes
with placeholders when they are missing (``Sello=""``, ``NoCertificado`` twenty zeros,
``Certificado=""``), so that every other rule of the schema is checked; the written file
stays honest. It also checks the arithmetic the schema cannot (``SubTotal``, ``Total`` and
the IVA totals against the concepts).

Invoice conventions read here (written by ``commerce.invoicing``): ``fields`` uso_cfdi,
metodo_pago, forma_pago, regimen_fiscal_emisor, regimen_fiscal_receptor, lugar_expedicion,
exportacion, tipo_cambio (when the currency is not MXN), uuid_relacionado; line ``codes``
sat-product and sat-unit. A buyer without an ``mx-rfc`` is the general public: RFC
XAXX010101000, Nombre "PUBLICO EN GENERAL", régimen 616, uso S01, DomicilioFiscalReceptor =
LugarExpedicion (the SAT's rules for the generic RFC). The buyer's ``Nombre`` must be the
name registered with the SAT (without "S.A. de C.V."): that is the invoice data's business.
"""

from __future__ import annotations

import importlib.util
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Final

from lxml import etree  # type: ignore[import-untyped]

from microfab.documents import common
from microfab.domain.invoices import Invoice, InvoiceLine

NS: Final = "http://www.sat.gob.mx/cfd/4"
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION: Final = "http://www.sat.gob.mx/cfd/4 http://www.sat.gob.mx/sitio_internet/cfd/4/cfdv40.xsd"
DECLARATION: Final = b'<?xml version="1.0" encoding="UTF-8"?>\n'
PUBLICO_EN_GENERAL: Final = "XAXX010101000"
GENERIC_RFCS: Final = (PUBLICO_EN_GENERAL, "XEXX010101000")
"""The SAT's generic RFCs: the general public, and a foreign buyer without a Mexican RFC."""
SEAL_ATTRIBUTES: Final = ("Sello", "NoCertificado", "Certificado")
PLACEHOLDERS: Final = {"Sello": "", "NoCertificado": "0" * 20, "Certificado": ""}
"""The values `validate_cfdi` puts, on a copy only, into missing seal attributes."""

NOT_STAMPED: Final = (
    " NOT SEALED, NOT STAMPED: Sello, NoCertificado and Certificado are added when the issuer seals this CFDI "
    "with its CSD, and the TimbreFiscalDigital (UUID) when an authorised PAC stamps it. Until then this XML has "
    "no fiscal validity. "
)

_UUID = re.compile(r"[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}")
_XSD_PATH: Final = ("transform", "schemas", "www.sat.gob.mx", "sitio_internet", "cfd", "4", "cfdv40.xsd")


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


@dataclass(frozen=True, slots=True)
class Receptor:
    """The CFDI's receiver as the SAT wants it (the generic RFC for the general public)."""

    rfc: str
    nombre: str
    domicilio: str
    regimen: str
    uso: str

    @property
    def general_public(self) -> bool:
        """Whether this is the generic RFC of the general public."""
        return self.rfc == PUBLICO_EN_GENERAL


def lugar_expedicion(invoice: Invoice) -> str:
    """The postal code of the place of issue."""
    return invoice.fields.get("lugar_expedicion") or invoice.seller.address.postal_code


def receptor(invoice: Invoice) -> Receptor:
    """The receiver as the invoice states it (``fields`` ``rfc_receptor`` …), else from the buyer.

    A buyer without an RFC is the general public: XAXX010101000, "PUBLICO EN GENERAL", régimen
    616, uso S01, the place of issue as fiscal address. The generic RFCs (XAXX…, XEXX…) always
    get régimen 616 and uso S01.
    """
    fields = invoice.fields
    rfc = fields.get("rfc_receptor") or invoice.buyer.tax_ids.get("mx-rfc", "")
    if not rfc or rfc == PUBLICO_EN_GENERAL:
        name = fields.get("nombre_receptor") or "PUBLICO EN GENERAL"
        return Receptor(PUBLICO_EN_GENERAL, name, lugar_expedicion(invoice), "616", "S01")
    if rfc in GENERIC_RFCS:
        domicilio = fields.get("domicilio_fiscal_receptor") or lugar_expedicion(invoice)
        return Receptor(rfc, fields.get("nombre_receptor") or invoice.buyer.name, domicilio, "616", "S01")
    regimen = fields.get("regimen_fiscal_receptor") or invoice.buyer.tax_ids.get("mx-regimen-fiscal", "")
    uso = fields.get("uso_cfdi") or ("G02" if common.is_credit_note(invoice) else "G03")
    domicilio = fields.get("domicilio_fiscal_receptor") or invoice.buyer.address.postal_code
    return Receptor(rfc, fields.get("nombre_receptor") or invoice.buyer.name, domicilio, regimen, uso)


def serie_folio(invoice: Invoice) -> tuple[str, str]:
    """``Serie`` (≤ 25 characters) and ``Folio`` (≤ 40): the invoice's ``fields``, else its series and number."""
    serie = invoice.fields.get("serie") or invoice.series
    return serie[:25], (invoice.fields.get("folio") or invoice.number)[:40]


def emisor(invoice: Invoice) -> tuple[str, str, str]:
    """The issuer's RFC, name and régimen fiscal (``fields`` first, then the seller's registrations)."""
    fields, seller = invoice.fields, invoice.seller
    return (
        fields.get("rfc_emisor") or seller.tax_ids.get("mx-rfc", ""),
        fields.get("nombre_emisor") or seller.name,
        fields.get("regimen_fiscal_emisor") or seller.tax_ids.get("mx-regimen-fiscal", ""),
    )


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _rate(line: InvoiceLine) -> str:
    return f"{line.tax_rate:.6f}"


def _exempt(line: InvoiceLine) -> bool:
    return common.CATEGORY_BY_TAX_CATEGORY.get(line.tax_category) == "E"


def _require(invoice: Invoice) -> None:
    missing = []
    rfc, _, regimen = emisor(invoice)
    if not rfc:
        missing.append("seller.tax_ids['mx-rfc']")
    if not regimen:
        missing.append("fields['regimen_fiscal_emisor']")
    if invoice.fields.get("metodo_pago", "PUE") == "PUE" and not invoice.fields.get("forma_pago"):
        missing.append("fields['forma_pago']")
    if invoice.currency != "MXN" and not invoice.fields.get("tipo_cambio"):
        missing.append("fields['tipo_cambio']")
    for index, line in enumerate(invoice.lines, 1):
        missing += [f"line {index}: codes[{key!r}]" for key in ("sat-product", "sat-unit") if not line.codes.get(key)]
    if receptor(invoice).regimen == "":
        missing.append("fields['regimen_fiscal_receptor']")
    if missing:
        raise ValueError(f"CFDI of {invoice.number}: missing {', '.join(missing)}")


def _concepto(parent: etree._Element, line: InvoiceLine) -> tuple[str, str, Decimal, Decimal]:
    """Write one Concepto; return its tax group (TipoFactor, TasaOCuota), base and IVA."""
    base = common.magnitude(line.net)
    tax = common.magnitude(line.tax)
    concepto = etree.SubElement(
        parent,
        _q("Concepto"),
        ClaveProdServ=line.codes["sat-product"],
        Cantidad=common.decimal_text(abs(line.quantity)),
        ClaveUnidad=line.codes["sat-unit"],
    )
    if line.unit:
        concepto.set("Unidad", line.unit[:20])
    concepto.set("Descripcion", line.description)
    concepto.set("ValorUnitario", _money(common.magnitude(line.unit_net)))
    concepto.set("Importe", _money(base))
    concepto.set("ObjetoImp", line.codes.get("objeto-imp", "02"))
    traslados = etree.SubElement(etree.SubElement(concepto, _q("Impuestos")), _q("Traslados"))
    traslado = etree.SubElement(traslados, _q("Traslado"), Base=_money(base), Impuesto="002")
    if _exempt(line):
        traslado.set("TipoFactor", "Exento")
        return "Exento", "", base, Decimal(0)
    traslado.set("TipoFactor", "Tasa")
    traslado.set("TasaOCuota", _rate(line))
    traslado.set("Importe", _money(tax))
    return "Tasa", _rate(line), base, tax


def _comprobante(invoice: Invoice, subtotal: Decimal) -> etree._Element:
    """The root with its attributes in the schema's order (``Total`` is filled in once the IVA is added up)."""
    fields = invoice.fields
    root = etree.Element(_q("Comprobante"), nsmap={"cfdi": NS, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)
    root.set("Version", "4.0")
    serie, folio = serie_folio(invoice)
    if serie:
        root.set("Serie", serie)
    root.set("Folio", folio)
    root.set("Fecha", common.local_time(invoice).strftime("%Y-%m-%dT%H:%M:%S"))
    root.set("FormaPago", fields.get("forma_pago") or "99")
    root.set("SubTotal", _money(subtotal))
    root.set("Moneda", invoice.currency)
    if invoice.currency != "MXN":
        root.set("TipoCambio", fields["tipo_cambio"])
    root.set("Total", "")
    root.set("TipoDeComprobante", "E" if common.is_credit_note(invoice) else "I")
    root.set("Exportacion", fields.get("exportacion", "01"))
    root.set("MetodoPago", fields.get("metodo_pago", "PUE"))
    root.set("LugarExpedicion", lugar_expedicion(invoice))
    return root


def _relation(root: etree._Element, invoice: Invoice) -> None:
    """A credit note's ``CfdiRelacionados`` (TipoRelacion 01) by the original's UUID, or a comment while it has none."""
    related = invoice.fields.get("uuid_relacionado", "")
    if related and _UUID.fullmatch(related):
        relacionados = etree.SubElement(root, _q("CfdiRelacionados"), TipoRelacion="01")
        etree.SubElement(relacionados, _q("CfdiRelacionado"), UUID=related)
        return
    root.append(
        etree.Comment(
            f" CfdiRelacionados TipoRelacion=01 pending: this credit note corrects {invoice.corrects or '?'}, "
            'whose UUID exists only once it is stamped; add <cfdi:CfdiRelacionados TipoRelacion="01">'
            '<cfdi:CfdiRelacionado UUID="..."/></cfdi:CfdiRelacionados> before sealing. '
        )
    )


def _parties(root: etree._Element, invoice: Invoice) -> None:
    rfc, nombre, regimen = emisor(invoice)
    etree.SubElement(root, _q("Emisor"), Rfc=rfc, Nombre=nombre, RegimenFiscal=regimen)
    rec = receptor(invoice)
    etree.SubElement(
        root,
        _q("Receptor"),
        Rfc=rec.rfc,
        Nombre=rec.nombre,
        DomicilioFiscalReceptor=rec.domicilio,
        RegimenFiscalReceptor=rec.regimen,
        UsoCFDI=rec.uso,
    )


def _impuestos(root: etree._Element, groups: dict[tuple[str, str], list[Decimal]]) -> Decimal:
    """The document's IVA per rate (sums of the concepts'); return the total transferred."""
    taxed = {key: value for key, value in groups.items() if key[0] != "Exento"}
    total_tax = sum((tax for _, tax in taxed.values()), Decimal("0.00"))
    impuestos = etree.SubElement(root, _q("Impuestos"))
    if taxed:
        impuestos.set("TotalImpuestosTrasladados", _money(total_tax))
    traslados = etree.SubElement(impuestos, _q("Traslados"))
    for (factor, rate), (base, tax) in sorted(groups.items(), key=lambda item: item[0][1], reverse=True):
        traslado = etree.SubElement(traslados, _q("Traslado"), Base=_money(base), Impuesto="002", TipoFactor=factor)
        if factor == "Tasa":
            traslado.set("TasaOCuota", rate)
            traslado.set("Importe", _money(tax))
    return total_tax


def cfdi_xml(invoice: Invoice) -> bytes:
    """The invoice (I) or credit note (E) as CFDI 4.0 XML, UTF-8, without seal and stamp (see the module)."""
    if invoice.country != "MX":
        raise ValueError(f"country: a CFDI is for Mexican invoices, {invoice.number} is {invoice.country}")
    _require(invoice)
    subtotal = sum((common.magnitude(line.net) for line in invoice.lines), Decimal("0.00"))
    root = _comprobante(invoice, subtotal)
    if common.is_credit_note(invoice):
        _relation(root, invoice)
    _parties(root, invoice)
    conceptos = etree.SubElement(root, _q("Conceptos"))
    groups: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal("0.00"), Decimal("0.00")])
    for line in invoice.lines:
        factor, rate, base, tax = _concepto(conceptos, line)
        groups[factor, rate][0] += base
        groups[factor, rate][1] += tax
    total = subtotal + _impuestos(root, groups)
    if total != common.magnitude(invoice.gross) or subtotal != common.magnitude(invoice.net):
        raise ValueError(
            f"CFDI of {invoice.number}: the concepts add up to SubTotal {subtotal} and Total {total}, the invoice "
            f"says net {invoice.net.amount} and gross {invoice.gross.amount}; a CFDI rounds IVA per concept"
        )
    root.set("Total", _money(total))
    root.addprevious(etree.Comment(NOT_STAMPED))
    body: bytes = etree.tostring(root.getroottree(), encoding="UTF-8", pretty_print=True)
    return DECLARATION + body


def xsd_path() -> Path:
    """The SAT's ``cfdv40.xsd`` inside the installed ``satcfdi`` package (found without importing it)."""
    spec = importlib.util.find_spec("satcfdi")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("validating a CFDI needs the SAT's XSD from the satcfdi package (test extra)")
    for location in spec.submodule_search_locations:
        path = Path(location).joinpath(*_XSD_PATH)
        if path.is_file():
            return path
    raise FileNotFoundError(f"cfdv40.xsd not found in satcfdi at {list(spec.submodule_search_locations)}")


@cache
def _schema() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(xsd_path()), parser))


def _arithmetic(root: etree._Element) -> list[str]:
    """What the schema cannot check: SubTotal, Total and IVA totals against the concepts."""
    errors = []

    def amount(element: etree._Element, name: str) -> Decimal:
        return Decimal(element.get(name, "0"))

    conceptos = root.findall(f"{_q('Conceptos')}/{_q('Concepto')}")
    subtotal = sum((amount(c, "Importe") for c in conceptos), Decimal(0))
    if subtotal != amount(root, "SubTotal"):
        errors.append(f"SubTotal {root.get('SubTotal')} is not the sum of the concepts' Importe {subtotal}")
    by_rate: dict[tuple[str | None, str | None], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for traslado in root.iterfind(f"{_q('Conceptos')}/{_q('Concepto')}/{_q('Impuestos')}/{_q('Traslados')}/*"):
        key = (traslado.get("Impuesto"), traslado.get("TasaOCuota"))
        by_rate[key][0] += amount(traslado, "Base")
        by_rate[key][1] += amount(traslado, "Importe")
    header = root.findall(f"{_q('Impuestos')}/{_q('Traslados')}/{_q('Traslado')}")
    for traslado in header:
        key = (traslado.get("Impuesto"), traslado.get("TasaOCuota"))
        base, tax = by_rate.get(key, [Decimal(0), Decimal(0)])
        if (amount(traslado, "Base"), amount(traslado, "Importe")) != (base, tax):
            errors.append(f"Traslado {key}: Base/Importe are not the concepts' sums {base}/{tax}")
    impuestos = root.find(_q("Impuestos"))
    total_tax = amount(impuestos, "TotalImpuestosTrasladados") if impuestos is not None else Decimal(0)
    if total_tax != sum((amount(t, "Importe") for t in header), Decimal(0)):
        errors.append(f"TotalImpuestosTrasladados {total_tax} is not the sum of the Traslados")
    if amount(root, "Total") != amount(root, "SubTotal") - amount(root, "Descuento") + total_tax:
        errors.append(f"Total {root.get('Total')} is not SubTotal - Descuento + TotalImpuestosTrasladados")
    return errors


def validate_cfdi(xml: bytes) -> list[str]:
    """Errors of a CFDI 4.0 document against the SAT's XSD and its own totals; empty when valid.

    Missing ``Sello``, ``NoCertificado`` and ``Certificado`` (not sealed yet) are filled with
    `PLACEHOLDERS` on a copy before the schema check; nothing else is filled in.
    """
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    if root.tag != _q("Comprobante"):
        return [f"root element is {root.tag}, expected {_q('Comprobante')}"]
    copy = etree.fromstring(etree.tostring(root), parser)
    for name in SEAL_ATTRIBUTES:
        if copy.get(name) is None:
            copy.set(name, PLACEHOLDERS[name])
    schema = _schema()
    errors = [] if schema.validate(copy) else [f"line {e.line}: {_short(e.message)}" for e in schema.error_log]
    return errors + _arithmetic(root)


_ENUMERATION = re.compile(r"\[facet 'enumeration'\] The value '([^']*)' is not an element of the set \{.*\}\.?", re.S)


def _short(message: str) -> str:
    """A schema message without the catalogue's thousands of allowed values."""
    return _ENUMERATION.sub(r"the value '\1' is not in the SAT catalogue.", message)

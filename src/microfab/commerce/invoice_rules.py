"""What an invoice must state in each country, as data: one named predicate per legal item.

`missing_items` checks an invoice against `MANDATORY`; `microfab.commerce.invoicing` refuses to
issue an invoice or credit note that misses any (DE §14 Abs. 4 UStG, JP 消費税法 §57-4 qualified
invoice items, MX CFDI 4.0 Anexo 20, US sales tax line, VN Decree 123/2020 Art. 10).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from microfab.domain.invoices import CREDIT_NOTE, Invoice, Party
from microfab.domain.quantities import MINOR_UNITS, Money
from microfab.domain.trade import Rounding

SAT_PRODUCT_DEFAULT: Final = "56101700"
"""SAT c_ClaveProdServ used when a line names none: 56101700 "Muebles de oficina" (office furniture,
UNSPSC class 561017) — the stands, risers and shelves of the demo; a product overrides it with the
line code ``sat-product``."""
SAT_UNIT_DEFAULT: Final = "H87"
"""SAT c_ClaveUnidad used when a line names none: H87 "Pieza"."""
SAT_CREDIT_PRODUCT: Final = "84111506"
"""c_ClaveProdServ of a credit note's concept (CFDI de egreso): "Servicios de facturación"."""
SAT_CREDIT_UNIT: Final = "ACT"
"""c_ClaveUnidad of a credit note's concept: "Actividad"."""
MX_PUBLIC_RFC: Final = "XAXX010101000"
"""RFC genérico for a sale to the general public (a consumer who gave no RFC)."""
MX_FOREIGN_RFC: Final = "XEXX010101000"
"""RFC genérico for a foreign buyer."""

UNITS: Final[Mapping[str, str]] = {"DE": "Stk.", "JP": "個", "MX": "Pieza", "US": "ea", "VN": "cái"}
"""The unit printed for a piece, per seller country (other countries: ``pc``)."""

TITLES: Final[Mapping[str, tuple[str, str]]] = {
    "DE": ("Rechnung", "Rechnungskorrektur"),  # a "Gutschrift" is self-billing in German VAT law
    "JP": ("適格請求書", "適格返還請求書"),
    "MX": ("Factura (CFDI 4.0, ingreso)", "Nota de crédito (CFDI 4.0, egreso)"),
    "US": ("Invoice", "Credit memo"),
    "VN": ("HÓA ĐƠN GIÁ TRỊ GIA TĂNG", "HÓA ĐƠN ĐIỀU CHỈNH GIẢM"),
}
"""Document titles (invoice, credit note) per seller country."""

DE_INTRA_EU_NOTE: Final = "Steuerfreie innergemeinschaftliche Lieferung (§ 4 Nr. 1 Buchst. b i. V. m. § 6a UStG)"
DE_REVERSE_CHARGE_NOTE: Final = "Steuerschuldnerschaft des Leistungsempfängers (reverse charge)"
EU_INTRA_EU_NOTE: Final = "Exempt intra-Community supply (Art. 138 Directive 2006/112/EC); reverse charge"
JP_REDUCED_MARKER: Final = "※"
JP_REDUCED_NOTE: Final = "※は軽減税率対象品目です"

RFC_PATTERN = re.compile(r"[A-ZÑ&]{3,4}\d{6}[A-Z0-9]{3}")
JP_REGISTRATION_PATTERN = re.compile(r"T\d{13}")
VN_TAX_CODE_PATTERN = re.compile(r"\d{10}(-?\d{3})?")
VN_NUMBER_PATTERN = re.compile(r"[1-9]\d{0,7}")
VN_SYMBOL_PATTERN = re.compile(r"[CK]\d{2}[TDLMNBGH][A-Z]{2}")
MX_POSTAL_PATTERN = re.compile(r"\d{5}")
SAT_PRODUCT_PATTERN = re.compile(r"\d{8}")

# ------------------------------------------------------------------------------ mandatory items


@dataclass(frozen=True, slots=True)
class Requirement:
    """One item the law requires on an invoice, and how to tell it is there."""

    item: str
    check: Callable[[Invoice], bool]


def _field(*names: str) -> Callable[[Invoice], bool]:
    return lambda inv: all(inv.fields.get(n) for n in names)


def _matches(name: str, pattern: re.Pattern[str]) -> Callable[[Invoice], bool]:
    return lambda inv: bool(pattern.fullmatch(inv.fields.get(name, "")))


def _full_address(party: Party) -> bool:
    a = party.address
    return bool(party.name and a.street and a.postal_code and a.city and a.country)


def _lines_described(inv: Invoice) -> bool:
    return bool(inv.lines) and all(line.description and line.quantity > 0 for line in inv.lines)


def _rates_add_up(inv: Invoice) -> bool:
    zero = Money.zero(inv.currency)
    return (
        bool(inv.rates)
        and sum((r.net for r in inv.rates), zero) == inv.net
        and sum((r.tax for r in inv.rates), zero) == inv.tax
    )


def _tax_stated(inv: Invoice) -> bool:
    exempt = inv.fields.get("innergemeinschaftliche_lieferung") == "true"
    return _rates_add_up(inv) and all(r.rate > 0 or exempt for r in inv.rates)


def _de_intra_eu_ids(inv: Invoice) -> bool:
    if inv.fields.get("innergemeinschaftliche_lieferung") != "true":
        return True
    ids = bool(inv.fields.get("ust_idnr") and inv.fields.get("ust_idnr_empfaenger"))
    return ids and DE_INTRA_EU_NOTE in inv.notes


def _rounded_once_per_rate(inv: Invoice) -> bool:
    mode = rounding_mode(inv)
    unit = Decimal(1).scaleb(-MINOR_UNITS[inv.currency])
    if inv.kind == CREDIT_NOTE:
        return _rates_add_up(inv)
    return _rates_add_up(inv) and all(
        r.tax.amount == (r.net.amount * r.rate).quantize(unit, rounding=mode) for r in inv.rates
    )


def rounding_mode(inv: Invoice) -> str:
    """The decimal rounding mode the invoice was taxed with (half-up when it does not say)."""
    try:
        return Rounding(inv.fields.get("rounding", Rounding.HALF_UP.value)).decimal_mode
    except ValueError:
        return ROUND_HALF_UP


def _reduced_marked(inv: Invoice) -> bool:
    return not any(line.reduced for line in inv.lines) or JP_REDUCED_NOTE in inv.notes


def _sat_keys(inv: Invoice) -> bool:
    return all(
        SAT_PRODUCT_PATTERN.fullmatch(line.codes.get("sat-product", "")) and line.codes.get("sat-unit")
        for line in inv.lines
    )


def _buyer_named(inv: Invoice) -> bool:
    return bool(inv.buyer.name)


def _de_buyer(inv: Invoice) -> bool:
    return _full_address(inv.buyer) if inv.b2b else bool(inv.buyer.name and inv.buyer.address.country)


def _vn_buyer(inv: Invoice) -> bool:
    if not inv.b2b:
        return True  # Art. 10(5): a retail buyer's name, address and tax code may be left out
    return _full_address(inv.buyer) and bool(VN_TAX_CODE_PATTERN.fullmatch(inv.fields.get("mst_nguoi_mua", "")))


def _vn_lines(inv: Invoice) -> bool:
    return _lines_described(inv) and all(line.unit for line in inv.lines)


_COMMON: Final = (
    Requirement("seller name and address", lambda inv: _full_address(inv.seller)),
    Requirement("buyer name", _buyer_named),
    Requirement("number and sequence", lambda inv: bool(inv.number) and inv.sequence >= 1),
    Requirement("lines with quantity and description", _lines_described),
)

MANDATORY: Final[Mapping[str, tuple[Requirement, ...]]] = {
    "DE": (
        Requirement(
            "§14 Abs. 4 Nr. 1: Name und Anschrift des leistenden Unternehmers", lambda i: _full_address(i.seller)
        ),
        Requirement("§14 Abs. 4 Nr. 1: Name und Anschrift des Leistungsempfängers", _de_buyer),
        Requirement(
            "§14 Abs. 4 Nr. 2: Steuernummer oder USt-IdNr.",
            lambda i: bool(i.fields.get("ust_idnr") or i.fields.get("steuernummer")),
        ),
        Requirement("§14 Abs. 4 Nr. 3: Ausstellungsdatum", _field("rechnungsdatum")),
        Requirement("§14 Abs. 4 Nr. 4: fortlaufende Rechnungsnummer", lambda i: bool(i.number) and i.sequence >= 1),
        Requirement("§14 Abs. 4 Nr. 5: Menge und Art der Lieferung", _lines_described),
        Requirement("§14 Abs. 4 Nr. 6: Zeitpunkt der Lieferung", _field("leistungsdatum")),
        Requirement("§14 Abs. 4 Nr. 7: Entgelt nach Steuersätzen aufgeschlüsselt", _rates_add_up),
        Requirement("§14 Abs. 4 Nr. 8: Steuersatz und Steuerbetrag oder Hinweis auf die Befreiung", _tax_stated),
        Requirement("§14a Abs. 3: USt-IdNr. beider Parteien bei innergemeinschaftlicher Lieferung", _de_intra_eu_ids),
    ),
    "JP": (
        Requirement("適格請求書発行事業者の名称", lambda i: bool(i.seller.name)),
        Requirement("登録番号 (T + 13 digits)", _matches("registration_number", JP_REGISTRATION_PATTERN)),
        Requirement("取引年月日", _field("transaction_date")),
        Requirement("取引内容", _lines_described),
        Requirement("軽減税率の対象品目である旨", _reduced_marked),
        Requirement("税率ごとに区分した対価の額、適用税率、消費税額 (端数処理は税率ごとに1回)", _rounded_once_per_rate),
        Requirement("書類の交付を受ける事業者の氏名又は名称", _buyer_named),
    ),
    "MX": (
        Requirement("RFC del emisor", _matches("rfc_emisor", RFC_PATTERN)),
        Requirement("nombre y régimen fiscal del emisor", _field("nombre_emisor", "regimen_fiscal_emisor")),
        Requirement("lugar de expedición (código postal)", _matches("lugar_expedicion", MX_POSTAL_PATTERN)),
        Requirement("RFC del receptor", _matches("rfc_receptor", RFC_PATTERN)),
        Requirement(
            "nombre, domicilio fiscal y régimen fiscal del receptor",
            _field("nombre_receptor", "regimen_fiscal_receptor"),
        ),
        Requirement(
            "domicilio fiscal del receptor (código postal)", _matches("domicilio_fiscal_receptor", MX_POSTAL_PATTERN)
        ),
        Requirement("uso CFDI", _field("uso_cfdi")),
        Requirement("método y forma de pago", _field("metodo_pago", "forma_pago")),
        Requirement("tipo de comprobante, exportación y moneda", _field("tipo_comprobante", "exportacion", "moneda")),
        Requirement(
            "tipo de cambio (moneda distinta de MXN)", lambda i: i.currency == "MXN" or _field("tipo_cambio")(i)
        ),
        Requirement("claves SAT de producto o servicio y de unidad por concepto", _sat_keys),
        Requirement(
            "desglose de impuestos (impuesto, tipo factor, tasa)",
            lambda i: _field("impuesto", "tipo_factor")(i) and _rates_add_up(i),
        ),
    ),
    "US": (
        *_COMMON,
        Requirement("sales tax jurisdiction", _field("tax_jurisdiction")),
        Requirement("sales tax on its own line", lambda i: _field("sales_tax_line")(i) and _rates_add_up(i)),
    ),
    "VN": (
        Requirement("tên hóa đơn", _field("ten_hoa_don")),
        Requirement(
            "ký hiệu mẫu số và ký hiệu hóa đơn",
            lambda i: i.fields.get("mau_so") == "1" and _matches("ky_hieu", VN_SYMBOL_PATTERN)(i),
        ),
        Requirement("số hóa đơn (tối đa 8 chữ số)", _matches("so_hoa_don", VN_NUMBER_PATTERN)),
        Requirement(
            "tên, địa chỉ, mã số thuế người bán",
            lambda i: _full_address(i.seller) and _matches("mst_nguoi_ban", VN_TAX_CODE_PATTERN)(i),
        ),
        Requirement("tên, địa chỉ, mã số thuế người mua", _vn_buyer),
        Requirement("tên, đơn vị tính, số lượng, đơn giá hàng hóa", _vn_lines),
        Requirement("thuế suất, tiền thuế GTGT theo từng thuế suất, tổng tiền thanh toán", _rates_add_up),
        Requirement("thời điểm lập hóa đơn", _field("ngay_lap")),
        Requirement("đơn vị tiền tệ", _field("don_vi_tien_te")),
        Requirement("hình thức thanh toán", _field("hinh_thuc_thanh_toan")),
    ),
}
"""Per seller country, the legal items an invoice must carry (other countries: the common ones)."""


def missing_items(invoice: Invoice) -> list[str]:
    """The items of `MANDATORY` (for the invoice's country) the invoice lacks; empty when complete."""
    return [r.item for r in MANDATORY.get(invoice.country, _COMMON) if not r.check(invoice)]


def require_complete(invoice: Invoice) -> None:
    """Raise `ValueError` listing every mandatory item *invoice* lacks."""
    missing = missing_items(invoice)
    if missing:
        what = "credit note" if invoice.kind == CREDIT_NOTE else "invoice"
        raise ValueError(
            f"{what} for order {invoice.order_id} ({invoice.country}) lacks what the law requires: {'; '.join(missing)}"
        )

"""Invoices as each country's law requires them: mandatory items as data, per-rate totals, credit notes.

Entities, buyers and tax jurisdictions are built here from domain types, as manifests would
declare them; expected amounts are worked by hand in the comments.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from microfab.commerce.invoice_rules import (
    DE_INTRA_EU_NOTE,
    DE_REVERSE_CHARGE_NOTE,
    JP_REDUCED_NOTE,
    MANDATORY,
    SAT_PRODUCT_DEFAULT,
    missing_items,
)
from microfab.commerce.invoicing import (
    DocumentNumber,
    Sale,
    SaleLine,
    build_credit_note,
    build_invoice,
    invoice_json,
    is_intra_eu_supply,
    remaining,
    transfer_duty,
    transfer_price,
    vn_symbol,
)
from microfab.domain.buyers import Buyer, vat_id_country
from microfab.domain.codec import decode, encode
from microfab.domain.entities import Address, InvoiceSeries, LegalEntity, Registration, Scheme
from microfab.domain.invoices import CREDIT_NOTE, INVOICE, Invoice, InvoiceIssued
from microfab.domain.quantities import Money
from microfab.domain.trade import (
    ANY,
    CustomsBasis,
    Period,
    Rounding,
    RoundingLevel,
    TariffLine,
    TariffSchedule,
    TaxJurisdiction,
    TaxRate,
)

D = Decimal
SUPPLIED = date(2026, 11, 20)
BERLIN, TOKYO, MEXICO, NEW_YORK, HANOI = (
    ZoneInfo(z) for z in ("Europe/Berlin", "Asia/Tokyo", "America/Mexico_City", "America/New_York", "Asia/Ho_Chi_Minh")
)


def money(text: str) -> Money:
    return Money.parse(text)


# ------------------------------------------------------------------------------- entities and tax

DE_SELLER = LegalEntity(
    "microfab-de",
    "Microfab Deutschland GmbH",
    "DE",
    Address("Leopoldstraße 12", "80802", "München", "DE"),
    (Registration(Scheme.DE_VAT_ID, "DE123456789"), Registration(Scheme.DE_STEUERNUMMER, "143/123/45678")),
    "EUR",
    (InvoiceSeries("invoice", "RE"), InvoiceSeries("credit", "RK")),
)
JP_SELLER = LegalEntity(
    "microfab-jp",
    "マイクロファブ株式会社",
    "JP",
    Address("名駅1-1-1", "450-0002", "名古屋市", "JP", "愛知県"),
    (
        Registration(Scheme.JP_CORPORATE_NUMBER, "1234567890123"),
        Registration(Scheme.JP_INVOICE_REGISTRATION, "T1234567890123"),
    ),
    "JPY",
)
MX_SELLER = LegalEntity(
    "microfab-mx",
    "Microfab México S.A. de C.V.",
    "MX",
    Address("Av. Constitución 100", "64000", "Monterrey", "MX", "NLE"),
    (Registration(Scheme.MX_RFC, "MME200101AB1"), Registration(Scheme.MX_REGIMEN_FISCAL, "601")),
    "MXN",
)
US_SELLER = LegalEntity(
    "microfab-us",
    "Microfab Inc.",
    "US",
    Address("100 N High St", "43215", "Columbus", "US", "OH"),
    (Registration(Scheme.US_EIN, "12-3456789"), Registration(Scheme.US_SALES_TAX_PERMIT, "98765432", "OH")),
    "USD",
)
VN_SELLER = LegalEntity(
    "microfab-vn",
    "Công ty TNHH Microfab Việt Nam",
    "VN",
    Address("KCN Quế Võ, phường Phương Liễu", "790000", "Bắc Ninh", "VN"),
    (Registration(Scheme.VN_TAX_CODE, "2301234567"),),
    "VND",
    (InvoiceSeries("invoice", "MF", "{number:08d}"),),
)

DE_TAX = TaxJurisdiction("DE", "USt", (TaxRate(ANY, D("0.19")), TaxRate("reduced", D("0.07"))))
JP_TAX = TaxJurisdiction(
    "JP",
    "消費税",
    (TaxRate(ANY, D("0.10")), TaxRate("reduced", D("0.08"))),
    rounding=Rounding.DOWN,
    rounding_level=RoundingLevel.DOCUMENT,
)
MX_TAX = TaxJurisdiction("MX", "IVA", (TaxRate(ANY, D("0.16")),))
US_OH = TaxJurisdiction("US-OH-FRANKLIN", "Sales tax", (TaxRate(ANY, D("0.075")),), import_vat=False)
VN_TAX = TaxJurisdiction(
    "VN",
    "VAT",
    (
        TaxRate(ANY, D("0.08"), Period(date(2025, 7, 1), date(2026, 12, 31))),
        TaxRate("metal-products", D("0.10")),
    ),
)

AUSTRIAN_BUYER = Buyer(
    "Alpen Büro GmbH", Address("Mariahilfer Straße 1", "1060", "Wien", "AT"), {"vat-id": "ATU12345678"}
)
GERMAN_BUYER = Buyer(
    "Kontor Schmidt KG", Address("Hafenstraße 3", "20457", "Hamburg", "DE"), {"de-vat-id": "DE987654321"}
)
MX_BUYER = Buyer(
    "Oficinas del Norte S.A. de C.V.",
    Address("Calle Hidalgo 5", "66220", "San Pedro Garza García", "MX"),
    {"mx-rfc": "ONO0101015K3"},
    mx_regimen="601",
)
VN_BUYER = Buyer(
    "Công ty Cổ phần Văn phòng Xanh",
    Address("12 Lý Thường Kiệt", "100000", "Hà Nội", "VN"),
    {"vn-tax-code": "0101234567"},
)


def numbered(sequence: int, zone: ZoneInfo, prefix: str = "RE", series: str = "invoice") -> DocumentNumber:
    issued = datetime(2026, 11, 21, 10, 30, tzinfo=zone)
    return DocumentNumber(f"{prefix}-2026-{sequence:06d}", sequence, series, issued, prefix)


def stand_sale(net: str, *, b2b: bool = False, quantity: int = 2, category: str = "general") -> Sale:
    total = money(net)
    unit = Money(total.amount / quantity, total.currency)
    line = SaleLine("laptop-stand (finish=anodized)", D(quantity), unit, category, net=total)
    return Sale("ord-00001", (line,), b2b, SUPPLIED, "de-DE")


# ------------------------------------------------------------------------------------------- DE


def test_a_german_invoice_carries_every_item_of_section_14_ustg() -> None:
    invoice = build_invoice(stand_sale("200.00 EUR", b2b=True), DE_SELLER, GERMAN_BUYER, DE_TAX, numbered(7, BERLIN))
    assert missing_items(invoice) == []
    assert len(MANDATORY["DE"]) == 10
    # Nr. 1: full names and addresses of both parties
    assert invoice.seller.name == "Microfab Deutschland GmbH"
    assert invoice.seller.address.lines() == ("Leopoldstraße 12", "80802 München", "DE")
    assert (invoice.buyer.name, invoice.buyer.address.city) == ("Kontor Schmidt KG", "Hamburg")
    # Nr. 2: the seller's tax number and VAT ID; the buyer's VAT ID on a B2B invoice
    assert invoice.fields["ust_idnr"] == "DE123456789"
    assert invoice.fields["steuernummer"] == "143/123/45678"
    assert invoice.fields["ust_idnr_empfaenger"] == "DE987654321"
    # Nr. 3, 4, 6: date of issue, sequential number, date of supply
    assert invoice.fields["rechnungsdatum"] == "2026-11-21"
    assert (invoice.number, invoice.sequence) == ("RE-2026-000007", 7)
    assert invoice.fields["leistungsdatum"] == "2026-11-20"
    # Nr. 5: quantity and description
    assert [(line.description, line.quantity, line.unit) for line in invoice.lines] == [
        ("laptop-stand (finish=anodized)", D(2), "Stk.")
    ]
    # Nr. 7, 8: net by rate, the rate and the tax: 200.00 x 19 % = 38.00
    assert [(r.rate, r.net, r.tax) for r in invoice.rates] == [(D("0.19"), money("200.00 EUR"), money("38.00 EUR"))]
    assert (invoice.net, invoice.tax, invoice.gross) == (money("200.00 EUR"), money("38.00 EUR"), money("238.00 EUR"))
    assert invoice.notes == ()
    assert (invoice.kind, invoice.country, invoice.currency, invoice.entity) == (INVOICE, "DE", "EUR", "microfab-de")


def test_net_amounts_are_split_by_tax_rate() -> None:
    lines = (
        SaleLine("Stand", D(1), money("100.00 EUR")),
        SaleLine("Handbuch", D(3), money("9.99 EUR"), "reduced"),  # 29.97 x 7 % = 2.0979 -> 2.10
    )
    sale = Sale("ord-00002", lines, False, SUPPLIED)
    invoice = build_invoice(sale, DE_SELLER, None, DE_TAX, numbered(1, BERLIN))
    assert [(r.rate, r.net.amount, r.tax.amount) for r in invoice.rates] == [
        (D("0.19"), D("100.00"), D("19.00")),
        (D("0.07"), D("29.97"), D("2.10")),
    ]
    assert invoice.buyer.name == "Consumer"
    assert invoice.buyer.address.country == "DE"
    assert missing_items(invoice) == []


def test_an_intra_eu_b2b_supply_to_an_austrian_business_is_exempt_with_the_reverse_charge_note() -> None:
    invoice = build_invoice(stand_sale("500.00 EUR", b2b=True), DE_SELLER, AUSTRIAN_BUYER, DE_TAX, numbered(8, BERLIN))
    assert DE_REVERSE_CHARGE_NOTE in invoice.notes
    assert "Steuerschuldnerschaft des Leistungsempfängers" in DE_REVERSE_CHARGE_NOTE
    assert DE_INTRA_EU_NOTE in invoice.notes
    assert invoice.fields["innergemeinschaftliche_lieferung"] == "true"
    assert invoice.fields["ust_idnr_empfaenger"] == "ATU12345678"
    assert invoice.fields["ust_idnr"] == "DE123456789"
    assert [(r.rate, r.tax) for r in invoice.rates] == [(D(0), money("0.00 EUR"))]
    assert invoice.gross == money("500.00 EUR")
    assert missing_items(invoice) == []
    # for the e-invoice formats: EN 16931 category K (intra-Community supply) and its reason
    assert [line.codes["vat-category"] for line in invoice.lines] == ["K"]
    assert invoice.fields["exemption_reason"] == DE_INTRA_EU_NOTE
    assert invoice.fields["timezone"] == "Europe/Berlin"


@pytest.mark.parametrize(
    ("buyer", "b2b"),
    [
        (AUSTRIAN_BUYER, False),  # a consumer pays German VAT
        (Buyer("Hofer KG", Address("Ring 1", "1010", "Wien", "AT")), True),  # no VAT ID given
        (Buyer("Alpen GmbH", Address("Ring 1", "1010", "Wien", "AT"), {"vat-id": "ATU1", "de-vat-id": "DE1"}), True),
        (Buyer("Filiale", Address("Marienplatz 1", "80331", "München", "DE"), {"vat-id": "ATU12345678"}), True),
    ],
)
def test_no_reverse_charge_without_a_foreign_eu_vat_id_or_for_a_consumer(buyer: Buyer, b2b: bool) -> None:
    assert not is_intra_eu_supply("DE", buyer, b2b=b2b)
    invoice = build_invoice(stand_sale("100.00 EUR", b2b=b2b), DE_SELLER, buyer, DE_TAX, numbered(1, BERLIN))
    assert invoice.tax == money("19.00 EUR")
    assert DE_REVERSE_CHARGE_NOTE not in invoice.notes


def test_vat_ids_name_their_member_state() -> None:
    assert vat_id_country("ATU12345678") == "AT"
    assert vat_id_country("el 123 456 789") == "GR"
    assert vat_id_country("GB123456789") is None
    assert Buyer("X", Address("", "", "", "AT"), {"at-vat-id": "atu-1234.5678"}).eu_vat_id == "ATU12345678"


def test_a_german_b2b_invoice_without_the_buyers_name_and_address_is_refused() -> None:
    with pytest.raises(ValueError, match="Name und Anschrift des Leistungsempfängers"):
        build_invoice(stand_sale("100.00 EUR", b2b=True), DE_SELLER, None, DE_TAX, numbered(1, BERLIN))


# ------------------------------------------------------------------------------------------- JP


def test_a_qualified_invoice_rounds_the_tax_once_per_rate() -> None:
    lines = (
        SaleLine("モニター台", D(1), money("999 JPY")),
        SaleLine("ノートPCスタンド", D(1), money("999 JPY")),
        SaleLine("お茶", D(1), money("1001 JPY"), "reduced"),
    )
    sale = Sale("ord-00003", lines, True, SUPPLIED, "ja-JP")
    buyer = Buyer("株式会社サンプル", Address("丸の内1-1", "100-0005", "千代田区", "JP"))
    invoice = build_invoice(sale, JP_SELLER, buyer, JP_TAX, numbered(1, TOKYO, "INV"))
    # 10 %: (999 + 999) x 0.10 = 199.8 -> 199 once; rounded per line it would be 99 + 99 = 198.
    # 8 %: 1001 x 0.08 = 80.08 -> 80.
    assert [(r.rate, r.net.amount, r.tax.amount) for r in invoice.rates] == [
        (D("0.10"), D(1998), D(199)),
        (D("0.08"), D(1001), D(80)),
    ]
    assert sum(line.tax.amount for line in invoice.lines if not line.reduced) == 199
    assert invoice.fields["registration_number"] == "T1234567890123"
    assert invoice.fields["transaction_date"] == "2026-11-20"
    assert [line.reduced for line in invoice.lines] == [False, False, True]
    assert invoice.fields["reduced_marker"] == "※"
    assert JP_REDUCED_NOTE in invoice.notes
    assert invoice.fields["title"] == "適格請求書"
    assert missing_items(invoice) == []


def test_japan_rounds_per_rate_even_when_the_data_says_per_line() -> None:
    line_level = TaxJurisdiction("JP", "消費税", (TaxRate(ANY, D("0.10")),), rounding=Rounding.DOWN)
    lines = (SaleLine("a", D(1), money("999 JPY")), SaleLine("b", D(1), money("999 JPY")))
    invoice = build_invoice(Sale("o", lines, True, SUPPLIED), JP_SELLER, None, line_level, numbered(1, TOKYO))
    assert invoice.tax == money("199 JPY")


def test_a_qualified_invoice_needs_the_registration_number() -> None:
    unregistered = LegalEntity(
        "jp-2",
        "株式会社",
        "JP",
        JP_SELLER.address,
        (Registration(Scheme.JP_CORPORATE_NUMBER, "1"), Registration(Scheme.JP_INVOICE_REGISTRATION, "1234")),
        "JPY",
    )
    with pytest.raises(ValueError, match="登録番号"):
        build_invoice(stand_sale("1000 JPY"), unregistered, None, JP_TAX, numbered(1, TOKYO))


# ------------------------------------------------------------------------------------------- MX


def test_a_cfdi_carries_rfc_regimen_uso_sat_keys_payment_and_the_iva_breakdown() -> None:
    sale = Sale("ord-00004", stand_sale("1000.00 MXN").lines, True, SUPPLIED, "es-MX")
    invoice = build_invoice(sale, MX_SELLER, MX_BUYER, MX_TAX, numbered(12, MEXICO, "A"))
    f = invoice.fields
    assert (f["version"], f["tipo_comprobante"], f["exportacion"], f["moneda"]) == ("4.0", "I", "01", "MXN")
    assert (f["rfc_emisor"], f["nombre_emisor"], f["regimen_fiscal_emisor"]) == (
        "MME200101AB1",
        "Microfab México S.A. de C.V.",
        "601",
    )
    assert (f["rfc_receptor"], f["regimen_fiscal_receptor"], f["domicilio_fiscal_receptor"]) == (
        "ONO0101015K3",
        "601",
        "66220",
    )
    assert f["uso_cfdi"] == "G03"
    assert (f["metodo_pago"], f["forma_pago"]) == ("PUE", "03")
    assert f["lugar_expedicion"] == "64000"
    assert (f["serie"], f["folio"], f["fecha"]) == ("A", "12", "2026-11-21T10:30:00")
    assert (f["impuesto"], f["tipo_factor"]) == ("002", "Tasa")
    assert [dict(line.codes) for line in invoice.lines] == [
        {"sat-product": SAT_PRODUCT_DEFAULT, "sat-unit": "H87", "objeto-imp": "02"}
    ]
    assert SAT_PRODUCT_DEFAULT == "56101700"
    # 1000.00 x 16 % = 160.00
    assert [(r.rate, r.net.amount, r.tax.amount) for r in invoice.rates] == [(D("0.16"), D("1000.00"), D("160.00"))]
    assert missing_items(invoice) == []


def test_a_consumer_cfdi_goes_to_the_general_public() -> None:
    invoice = build_invoice(stand_sale("100.00 MXN"), MX_SELLER, None, MX_TAX, numbered(1, MEXICO, "A"))
    f = invoice.fields
    assert (f["rfc_receptor"], f["nombre_receptor"], f["regimen_fiscal_receptor"], f["uso_cfdi"]) == (
        "XAXX010101000",
        "PUBLICO EN GENERAL",
        "616",
        "S01",
    )
    assert f["domicilio_fiscal_receptor"] == "64000"
    assert missing_items(invoice) == []


def test_a_business_cfdi_without_the_buyers_rfc_is_refused() -> None:
    with pytest.raises(ValueError, match="RFC del receptor"):
        build_invoice(stand_sale("100.00 MXN", b2b=True), MX_SELLER, None, MX_TAX, numbered(1, MEXICO))


def test_a_cfdi_in_dollars_states_the_exchange_rate() -> None:
    sale = stand_sale("100.00 USD")
    with pytest.raises(ValueError, match="tipo de cambio"):
        build_invoice(sale, MX_SELLER, None, MX_TAX, numbered(1, MEXICO))
    priced = Sale(sale.order_id, sale.lines, False, SUPPLIED, terms={"tipo_cambio": "18.250000"})
    invoice = build_invoice(priced, MX_SELLER, None, MX_TAX, numbered(1, MEXICO))
    assert (invoice.fields["moneda"], invoice.fields["tipo_cambio"]) == ("USD", "18.250000")


def test_product_codes_override_the_sat_defaults() -> None:
    line = SaleLine("Repisa", D(1), money("100.00 MXN"), codes={"sat-product": "56101519", "sat-unit": "XBX"})
    invoice = build_invoice(Sale("o", (line,), False, SUPPLIED), MX_SELLER, None, MX_TAX, numbered(1, MEXICO))
    assert (invoice.lines[0].codes["sat-product"], invoice.lines[0].codes["sat-unit"]) == ("56101519", "XBX")


# ------------------------------------------------------------------------------------------- US


def test_a_us_invoice_shows_the_sales_tax_of_the_jurisdiction_on_its_own_line() -> None:
    invoice = build_invoice(stand_sale("89.00 USD", quantity=1), US_SELLER, None, US_OH, numbered(3, NEW_YORK))
    assert invoice.fields["tax_jurisdiction"] == "US-OH-FRANKLIN"
    assert invoice.fields["sales_tax_line"] == "Sales tax (US-OH-FRANKLIN) 7.5 %"
    assert invoice.fields["sales_tax_permit"] == "98765432"
    assert dict(invoice.seller.tax_ids) == {"us-ein": "12-3456789", "us-sales-tax-permit": "98765432"}
    # 89.00 x 7.5 % = 6.675 -> 6.68 (half-up)
    assert [(r.rate, r.tax.amount) for r in invoice.rates] == [(D("0.075"), D("6.68"))]
    assert invoice.gross == money("95.68 USD")
    assert missing_items(invoice) == []


# ------------------------------------------------------------------------------------------- VN


def test_a_vietnamese_e_invoice_has_the_fields_of_decree_123() -> None:
    lines = (
        SaleLine("Giá đỡ laptop", D(2), money("500000 VND")),
        SaleLine("Kệ thép", D(1), money("1000000 VND"), "metal-products"),
    )
    sale = Sale("ord-00005", lines, True, SUPPLIED, "vi-VN")
    number = DocumentNumber("00000001", 1, "invoice", datetime(2026, 11, 21, 9, tzinfo=HANOI), "MF")
    invoice = build_invoice(sale, VN_SELLER, VN_BUYER, VN_TAX, number)
    f = invoice.fields
    assert (f["ten_hoa_don"], f["mau_so"], f["ky_hieu"], f["so_hoa_don"]) == (
        "HÓA ĐƠN GIÁ TRỊ GIA TĂNG",
        "1",
        "C26TMF",
        "1",  # Arabic digits, at most 8: the letters and the year are in the symbol
    )
    assert (f["mst_nguoi_ban"], f["mst_nguoi_mua"]) == ("2301234567", "0101234567")
    assert (f["ngay_lap"], f["don_vi_tien_te"], f["hinh_thuc_thanh_toan"]) == ("2026-11-21", "VND", "TM/CK")
    assert [line.unit for line in invoice.lines] == ["cái", "cái"]
    # metal products keep 10 % (1,000,000 -> 100,000); the rest pays the temporary 8 % (1,000,000 -> 80,000)
    assert [(r.rate, r.net.amount, r.tax.amount) for r in invoice.rates] == [
        (D("0.10"), D(1000000), D(100000)),
        (D("0.08"), D(1000000), D(80000)),
    ]
    assert invoice.gross == money("2180000 VND")
    assert missing_items(invoice) == []


def test_a_vietnamese_b2b_invoice_needs_the_buyers_tax_code() -> None:
    buyer = Buyer("Công ty A", Address("1 Tràng Tiền", "100000", "Hà Nội", "VN"))
    number = DocumentNumber("00000001", 1, "invoice", datetime(2026, 11, 21, 9, tzinfo=HANOI), "MF")
    with pytest.raises(ValueError, match="mã số thuế người mua"):
        build_invoice(stand_sale("1000000 VND", b2b=True), VN_SELLER, buyer, VN_TAX, number)


def test_the_vietnamese_symbol_follows_the_year_and_the_series_prefix() -> None:
    assert vn_symbol("MF", 2027) == "C27TMF"
    assert vn_symbol("", 2026) == "C26TAA"


# ---------------------------------------------------------------------------------- credit notes


def de_invoice() -> Invoice:
    return build_invoice(stand_sale("200.00 EUR"), DE_SELLER, None, DE_TAX, numbered(1, BERLIN))


def credit_number(sequence: int) -> DocumentNumber:
    return numbered(sequence, BERLIN, "RK", "credit")


def test_a_full_credit_note_repeats_the_lines_with_positive_amounts_and_refers_to_the_invoice() -> None:
    invoice = de_invoice()
    note = build_credit_note(invoice, [], credit_number(1), amount=None, reason="Rücksendung")
    assert (note.kind, note.corrects, note.number) == (CREDIT_NOTE, "RE-2026-000001", "RK-2026-000001")
    assert note.lines == invoice.lines
    assert (note.net, note.tax, note.gross) == (invoice.net, invoice.tax, invoice.gross)
    assert note.fields["title"] == "Rechnungskorrektur"
    assert note.notes[-1] == "Korrektur der Rechnung Nr. RE-2026-000001 vom 2026-11-21: Rücksendung"
    assert missing_items(note) == []
    assert remaining(invoice, [note]) == money("0.00 EUR")


def test_a_partial_credit_splits_the_gross_into_net_and_tax() -> None:
    invoice = de_invoice()  # gross 238.00
    note = build_credit_note(invoice, [], credit_number(1), amount=money("23.80 EUR"), reason="Kratzer")
    # 23.80 gross at 19 %: tax = 23.80 x 0.19 / 1.19 = 3.80, net 20.00
    assert [(r.rate, r.net.amount, r.tax.amount) for r in note.rates] == [(D("0.19"), D("20.00"), D("3.80"))]
    assert remaining(invoice, [note]) == money("214.20 EUR")
    second = build_credit_note(invoice, [note], credit_number(2), amount=None, reason="Storno")
    assert second.gross == money("214.20 EUR")
    assert remaining(invoice, [note, second]) == money("0.00 EUR")


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("238.01 EUR", r"credit of 238\.01 EUR exceeds the 238\.00 EUR still creditable"),
        ("0.00 EUR", "positive"),
        ("10.00 USD", "in EUR, not USD"),
        ("10.001 EUR", "more decimals"),
    ],
)
def test_a_credit_note_larger_than_the_invoice_or_malformed_is_refused(amount: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_credit_note(de_invoice(), [], credit_number(1), amount=money(amount), reason="x")


def test_earlier_credit_notes_count_against_what_is_left() -> None:
    invoice = de_invoice()
    first = build_credit_note(invoice, [], credit_number(1), amount=money("200.00 EUR"), reason="a")
    with pytest.raises(ValueError, match=r"exceeds the 38\.00 EUR still creditable"):
        build_credit_note(invoice, [first], credit_number(2), amount=money("38.01 EUR"), reason="b")
    rest = build_credit_note(invoice, [first], credit_number(2), amount=None, reason="b")
    with pytest.raises(ValueError, match="fully credited"):
        build_credit_note(invoice, [first, rest], credit_number(3), amount=None, reason="c")


def test_a_credit_note_needs_a_reason_and_an_invoice() -> None:
    invoice = de_invoice()
    with pytest.raises(ValueError, match="reason"):
        build_credit_note(invoice, [], credit_number(1), amount=None, reason=" ")
    note = build_credit_note(invoice, [], credit_number(1), amount=None, reason="x")
    with pytest.raises(ValueError, match="is a credit note"):
        build_credit_note(note, [], credit_number(2), amount=None, reason="x")


def test_a_mexican_credit_note_is_a_cfdi_de_egreso_related_to_the_invoice() -> None:
    invoice = build_invoice(stand_sale("1000.00 MXN", b2b=True), MX_SELLER, MX_BUYER, MX_TAX, numbered(1, MEXICO, "A"))
    note = build_credit_note(
        invoice, [], numbered(1, MEXICO, "NC", "credit"), amount=money("116.00 MXN"), reason="descuento"
    )
    f = note.fields
    assert (f["tipo_comprobante"], f["tipo_relacion"], f["cfdi_relacionado"], f["uso_cfdi"]) == (
        "E",
        "01",
        "A-2026-000001",
        "G02",
    )
    assert [(line.codes["sat-product"], line.codes["sat-unit"]) for line in note.lines] == [("84111506", "ACT")]
    assert [(r.net.amount, r.tax.amount) for r in note.rates] == [(D("100.00"), D("16.00"))]
    assert missing_items(note) == []


def test_a_japanese_return_rounds_its_tax_down_per_rate() -> None:
    invoice = build_invoice(stand_sale("1998 JPY"), JP_SELLER, None, JP_TAX, numbered(1, TOKYO))
    note = build_credit_note(invoice, [], numbered(1, TOKYO, "CN", "credit"), amount=money("1000 JPY"), reason="返品")
    # 1000 x 0.10 / 1.10 = 90.9 -> 90 (down), net 910
    assert [(r.net.amount, r.tax.amount) for r in note.rates] == [(D(910), D(90))]
    assert note.fields["title"] == "適格返還請求書"


def test_an_invoice_round_trips_through_the_event_codec() -> None:
    invoice = build_invoice(stand_sale("500.00 EUR", b2b=True), DE_SELLER, AUSTRIAN_BUYER, DE_TAX, numbered(2, BERLIN))
    event = InvoiceIssued(datetime(2026, 11, 21, 9, 30, tzinfo=timezone(timedelta(hours=1))), invoice)
    assert decode(*encode(event)) == event
    data = invoice_json(invoice)
    assert (data["number"], data["gross"]) == ("RE-2026-000002", {"amount": "500.00", "currency": "EUR"})


# --------------------------------------------------------------------------------- intercompany


def test_the_transfer_price_is_cost_plus_markup_and_customs_adds_freight_on_cif() -> None:
    assert transfer_price(money("44.00 USD"), D("0.15")) == money("50.60 USD")
    assert transfer_price(money("10.01 USD"), D("0.15")) == money("11.51 USD")  # 11.5115 -> 11.51
    with pytest.raises(ValueError, match="markup"):
        transfer_price(money("1.00 USD"), D("-0.1"))
    eu = TariffSchedule("eu", ("DE", "AT"), CustomsBasis.CIF, (TariffLine("7616.99", D("0.06")),), currency="EUR")
    duty = transfer_duty(eu, "7616.99.90", "US", money("46.55 EUR"), money("11.04 EUR"), SUPPLIED)
    # CIF: 46.55 + 11.04 = 57.59; 6 % = 3.4554 -> 3.46
    assert (duty.lines[0].base, duty.total) == (money("57.59 EUR"), money("3.46 EUR"))
    fob = TariffSchedule("us", ("US",), CustomsBasis.FOB, (TariffLine("7616.99", D("0.025")),))
    assert transfer_duty(fob, "7616.99", "DE", money("100.00 USD"), money("30.00 USD"), SUPPLIED).total == money(
        "2.50 USD"
    )

"""Realistic invoices per country, built directly (independent of how ``commerce.invoicing`` builds them).

Amounts are worked by hand: net per line, tax per rate rounded half-up to the cent (JP: yen,
cut off once per rate), gross = net + tax.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from microfab.domain.entities import Address, Brand
from microfab.domain.invoices import CREDIT_NOTE, INVOICE, Invoice, InvoiceLine, Party, RateSummary
from microfab.domain.quantities import Money

D = Decimal


def _line(
    description: str,
    quantity: str,
    unit: str,
    unit_net: str,
    rate: str,
    tax: str,
    currency: str,
    *,
    category: str = "general",
    reduced: bool = False,
    codes: dict[str, str] | None = None,
) -> InvoiceLine:
    net = (D(quantity) * D(unit_net)).quantize(D(1) if currency in {"JPY", "VND"} else D("0.01"))
    return InvoiceLine(
        description=description,
        quantity=D(quantity),
        unit=unit,
        unit_net=Money(D(unit_net), currency),
        net=Money(net, currency),
        tax_category=category,
        tax_rate=D(rate),
        tax=Money(D(tax), currency),
        reduced=reduced,
        codes=codes or {},
    )


def _rates(lines: tuple[InvoiceLine, ...], taxes: dict[str, str], currency: str) -> tuple[RateSummary, ...]:
    rates = sorted({line.tax_rate for line in lines}, reverse=True)
    out = []
    for rate in rates:
        net = sum((line.net.amount for line in lines if line.tax_rate == rate), D(0))
        out.append(RateSummary(rate, Money(net, currency), Money(D(taxes[str(rate)]), currency)))
    return tuple(out)


def _invoice(
    country: str,
    language: str,
    currency: str,
    number: str,
    seller: Party,
    buyer: Party,
    lines: tuple[InvoiceLine, ...],
    taxes: dict[str, str],
    *,
    b2b: bool,
    series: str = "invoice",
    notes: tuple[str, ...] = (),
    fields: dict[str, str] | None = None,
) -> Invoice:
    rates = _rates(lines, taxes, currency)
    net = sum((r.net.amount for r in rates), D(0))
    tax = sum((r.tax.amount for r in rates), D(0))
    return Invoice(
        number=number,
        sequence=int(number.rsplit("-", 1)[-1]),
        series=series,
        kind=INVOICE,
        entity=seller.name,
        order_id="ORD-2026-0815",
        issued_at=datetime(2026, 11, 25, 15, 30, tzinfo=UTC),
        supplied_on=date(2026, 11, 24),
        country=country,
        language=language,
        currency=currency,
        seller=seller,
        buyer=buyer,
        lines=lines,
        rates=rates,
        net=Money(net, currency),
        tax=Money(tax, currency),
        gross=Money(net + tax, currency),
        b2b=b2b,
        notes=notes,
        fields=fields or {},
    )


def german(*, b2b: bool = True) -> Invoice:
    """Two lines at 19 % and one at 7 %: 190.50 net, 34.70 USt, 225.20 gross."""
    seller = Party(
        "Microfab Deutschland GmbH",
        Address("Hafenstraße 12", "20457", "Hamburg", "DE"),
        {"de-vat-id": "DE136695976", "de-steuernummer": "22/123/45678"},
        "rechnung@microfab.example",
    )
    buyer = Party(
        "Kunde Maschinenbau AG" if b2b else "Erika Mustermann",
        Address("Industriestraße 5", "70565", "Stuttgart", "DE"),
        {"de-vat-id": "DE811907980"} if b2b else {},
    )
    lines = (
        _line("Laptopständer Aluminium, eloxiert", "2", "Stk.", "89.00", "0.19", "33.82", "EUR"),
        _line("Bedienungsanleitung (gedruckt)", "1", "Stk.", "12.50", "0.07", "0.88", "EUR", category="reduced"),
    )
    return _invoice(
        "DE", "de", "EUR", "RE-2026-000042", seller, buyer, lines, {"0.19": "33.82", "0.07": "0.88"}, b2b=b2b
    )


def german_reverse_charge() -> Invoice:
    """Assembly service for an Austrian company: the buyer owes the VAT (reverse charge, 0 %)."""
    base = german()
    buyer = Party(
        "Wiener Werkstätten GmbH",
        Address("Mariahilfer Straße 1", "1060", "Wien", "AT"),
        {"eu-vat-id": "ATU13585627"},
    )
    lines = (_line("Montage der Fertigungszelle", "8", "h", "95.00", "0", "0.00", "EUR", category="reverse-charge"),)
    return _invoice(
        "DE",
        "de",
        "EUR",
        "RE-2026-000043",
        base.seller,
        buyer,
        lines,
        {"0": "0.00"},
        b2b=True,
        notes=("Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, Art. 196 MwStSystRL).",),
    )


def japanese() -> Invoice:
    """¥17,600 at 10 % (¥1,760) and ¥3,600 at the reduced 8 % (¥288): ¥23,248."""
    seller = Party(
        "マイクロファブ株式会社",
        Address("丸の内1-1-1", "100-0005", "千代田区", "JP", "東京都"),
        {"jp-corporate-number": "1234567890123", "jp-invoice-registration": "T1234567890123"},
    )
    buyer = Party("株式会社サンプル商事", Address("梅田2-2-2", "530-0001", "大阪市北区", "JP", "大阪府"))
    lines = (
        _line("ノートPCスタンド", "2", "台", "8800", "0.10", "1760", "JPY"),
        _line("緑茶（ペットボトル）", "24", "本", "150", "0.08", "288", "JPY", category="reduced", reduced=True),
    )
    return _invoice(
        "JP", "ja", "JPY", "INV-2026-000007", seller, buyer, lines, {"0.10": "1760", "0.08": "288"}, b2b=True
    )


MX_FIELDS = {
    "uso_cfdi": "G03",
    "metodo_pago": "PUE",
    "forma_pago": "03",
    "regimen_fiscal_emisor": "601",
    "regimen_fiscal_receptor": "601",
    "lugar_expedicion": "64000",
    "exportacion": "01",
}


def mexican(*, consumer: bool = False) -> Invoice:
    """2 × 1,450.00 + 1 × 500.00 at IVA 16 %: 3,400.00 + 544.00 = 3,944.00 MXN."""
    seller = Party(
        "MICROFAB MEXICO",
        Address("Av. Constitución 100", "64000", "Monterrey", "MX", "NL"),
        {"mx-rfc": "MME200101AB1", "mx-regimen-fiscal": "601"},
    )
    if consumer:
        buyer = Party("Juan Pérez", Address("Calle Roble 7", "44100", "Guadalajara", "MX", "JAL"))
    else:
        buyer = Party(
            "INDUSTRIAS DEL NORTE",
            Address("Paseo de la Reforma 50", "06600", "Ciudad de México", "MX", "CDMX"),
            {"mx-rfc": "IDN150315KM7", "mx-regimen-fiscal": "601"},
        )
    lines = (
        _line(
            "Soporte para laptop de aluminio",
            "2",
            "Pieza",
            "1450.00",
            "0.16",
            "464.00",
            "MXN",
            codes={"sat-product": "56101700", "sat-unit": "H87"},
        ),
        _line(
            "Servicio de instalación",
            "1",
            "Servicio",
            "500.00",
            "0.16",
            "80.00",
            "MXN",
            codes={"sat-product": "81111500", "sat-unit": "E48"},
        ),
    )
    fields = dict(MX_FIELDS)
    if consumer:
        fields.update(uso_cfdi="S01", regimen_fiscal_receptor="616", forma_pago="04")
    return _invoice(
        "MX",
        "es",
        "MXN",
        "A-2026-000015",
        seller,
        buyer,
        lines,
        {"0.16": "544.00"},
        b2b=not consumer,
        series="A",
        fields=fields,
    )


def american() -> Invoice:
    """2 × $129.00 taxed at Franklin County's combined 8 %: $258.00 + $20.64 = $278.64."""
    seller = Party(
        "Microfab US Inc.",
        Address("100 Fabrication Way", "43215", "Columbus", "US", "OH"),
        {"us-ein": "12-3456789"},
    )
    buyer = Party("Jane Doe", Address("42 Elm Street", "43004", "Columbus", "US", "OH"))
    lines = (_line("Aluminum laptop stand", "2", "ea", "129.00", "0.08", "20.64", "USD"),)
    return _invoice(
        "US",
        "en",
        "USD",
        "INV-2026-000031",
        seller,
        buyer,
        lines,
        {"0.08": "20.64"},
        b2b=False,
        fields={"tax_jurisdiction_name": "Ohio, Franklin County"},
    )


def vietnamese() -> Invoice:
    """2 × 1,000,000 ₫ at 8 % (160,000 ₫) and a metal part at 10 %: 2,500,000 + 210,000 = 2,710,000 ₫."""
    seller = Party(
        "CÔNG TY TNHH MICROFAB VIỆT NAM",
        Address("Số 1 Đường Láng Hạ, Phường Thành Công", "100000", "Quận Ba Đình", "VN", "Hà Nội"),
        {"vn-tax-code": "0101234567"},
    )
    buyer = Party(
        "CÔNG TY CỔ PHẦN CƠ KHÍ SÀI GÒN",
        Address("12 Nguyễn Huệ, Phường Bến Nghé", "700000", "Quận 1", "VN", "TP. Hồ Chí Minh"),
        {"vn-tax-code": "0309876543"},
    )
    lines = (
        _line("Giá đỡ máy tính xách tay", "2", "Cái", "1000000", "0.08", "160000", "VND"),
        _line("Khung thép gia công", "1", "Bộ", "500000", "0.10", "50000", "VND", category="metal-products"),
    )
    return _invoice(
        "VN",
        "vi",
        "VND",
        "HD-2026-000123",
        seller,
        buyer,
        lines,
        {"0.08": "160000", "0.10": "50000"},
        b2b=True,
        fields={"ky_hieu": "1C26TMF", "mau_so": "1", "hinh_thuc_thanh_toan": "TM/CK"},
    )


def credit_note(original: Invoice, number: str) -> Invoice:
    """A full credit of *original* (same lines and amounts, positive) with its own number."""
    return replace(
        original,
        number=number,
        sequence=int(number.rsplit("-", 1)[-1]),
        series="credit",
        kind=CREDIT_NOTE,
        corrects=original.number,
        issued_at=datetime(2026, 12, 2, 9, 0, tzinfo=UTC),
    )


BUILDERS = {"DE": german, "JP": japanese, "MX": mexican, "US": american, "VN": vietnamese}

BRAND = Brand(
    locale="de-DE",
    name="Microfab",
    tagline="Gefertigt in Mikrofabriken",
    support="hilfe@microfab.example",
    legal_footer="Microfab Deutschland GmbH · Amtsgericht Hamburg HRB 123456 · Geschäftsführer: A. Beispiel",
)

"""Invoice PDFs per country: the items each country's law asks for are printed, offline, in local fonts.

Each invoice of `sample` is rendered once per module (WeasyPrint takes a few tenths of a
second per page); the checks read the PDF's text back with pypdf.
"""

from __future__ import annotations

import gettext
import io
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader

from microfab.documents import files_for, write_invoice_files
from microfab.documents.common import safe_filename
from microfab.documents.pdf import (
    _fc_match,
    families,
    font_faces,
    render_invoice_html,
    render_invoice_pdf,
    url_fetcher,
)
from microfab.domain.invoices import Invoice
from tests.unit.documents import sample

NULL = gettext.NullTranslations()
CREDIT_NUMBERS = {
    "DE": "RK-2026-000003",
    "JP": "CN-2026-000002",
    "MX": "NC-2026-000001",
    "US": "CM-2026-000004",
    "VN": "DC-2026-000005",
}


class Marked(gettext.NullTranslations):
    """A catalog that marks every message it translates, to see which texts went through gettext."""

    def gettext(self, message: str) -> str:
        return f"«{message}»"


def text_of(pdf: bytes) -> str:
    """The PDF's text with every kind of space made one plain space."""
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"[ \t\u00a0\u202f\u2009]+", " ", text)


def fonts_of(pdf: bytes) -> set[str]:
    """The base names of the fonts the PDF's pages use."""
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.values():
            names.add(str(ref.get_object()["/BaseFont"]))
    return names


@pytest.fixture(scope="module")
def invoices() -> dict[str, Invoice]:
    return {country: build() for country, build in sample.BUILDERS.items()}


@pytest.fixture(scope="module")
def pdfs(invoices: dict[str, Invoice]) -> dict[str, bytes]:
    return {c: render_invoice_pdf(inv, translations=NULL, brand=sample.BRAND) for c, inv in invoices.items()}


@pytest.fixture(scope="module")
def texts(pdfs: dict[str, bytes]) -> dict[str, str]:
    return {country: text_of(pdf) for country, pdf in pdfs.items()}


@pytest.fixture(scope="module")
def credit_texts(invoices: dict[str, Invoice]) -> dict[str, str]:
    out = {}
    for country, invoice in invoices.items():
        note = sample.credit_note(invoice, CREDIT_NUMBERS[country])
        out[country] = text_of(render_invoice_pdf(note, translations=NULL))
    return out


def test_every_country_renders_a_one_page_pdf(pdfs: dict[str, bytes]) -> None:
    for country, pdf in pdfs.items():
        assert pdf.startswith(b"%PDF-"), country
        assert len(PdfReader(io.BytesIO(pdf)).pages) == 1, country


def test_german_invoice_prints_every_item_of_section_14_ustg(texts: dict[str, str]) -> None:
    text = texts["DE"]
    for item in (
        "Rechnung",
        # full name and address of seller and buyer
        "Microfab Deutschland GmbH",
        "Hafenstraße 12",
        "20457 Hamburg",
        "Kunde Maschinenbau AG",
        "Industriestraße 5",
        "70565 Stuttgart",
        # the seller's USt-IdNr. and Steuernummer, the buyer's USt-IdNr. (B2B)
        "USt-IdNr. DE136695976",
        "Steuernummer 22/123/45678",
        "USt-IdNr. DE811907980",
        # dates and the sequential number
        "Rechnungsnummer RE-2026-000042",
        "Rechnungsdatum 25.11.2026",
        "Leistungsdatum 24.11.2026",
        # quantity and description
        "Laptopständer Aluminium, eloxiert 2 Stk.",
        "Bedienungsanleitung (gedruckt) 1 Stk.",
        # net by rate, rate and tax, gross
        "Nettobetrag zu 19 % 178,00 €",
        "Umsatzsteuer 19 % 33,82 €",
        "Nettobetrag zu 7 % 12,50 €",
        "Umsatzsteuer 7 % 0,88 €",
        "Summe netto 190,50 €",
        "Summe Umsatzsteuer 34,70 €",
        "Gesamtbetrag 225,20 €",
    ):
        assert item in text, item


def test_german_consumer_invoice_has_no_buyer_vat_id() -> None:
    text = text_of(render_invoice_pdf(sample.german(b2b=False), translations=NULL))
    assert "Erika Mustermann" in text
    assert text.count("USt-IdNr.") == 1  # the seller's only


def test_reverse_charge_is_stated_with_both_vat_ids() -> None:
    text = text_of(render_invoice_pdf(sample.german_reverse_charge(), translations=NULL))
    assert "Steuerschuldnerschaft des Leistungsempfängers" in text
    assert "USt-IdNr. ATU13585627" in text
    assert "USt-IdNr. DE136695976" in text
    assert "Österreich" in text  # the foreign buyer's country, in the reader's language
    assert "Umsatzsteuer 0 % 0,00 €" in text


@pytest.mark.parametrize(
    ("tax_category", "notes", "statement", "count"),
    [
        ("reverse-charge", sample.german_reverse_charge().notes, "Steuerschuldnerschaft des Leistungsempfängers", 1),
        ("reverse-charge", (), "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge)", 1),
        ("intra-community", (), "Steuerfreie innergemeinschaftliche Lieferung", 1),
    ],
)
def test_untaxed_german_lines_state_why(tax_category: str, notes: tuple[str, ...], statement: str, count: int) -> None:
    base = sample.german_reverse_charge()
    invoice = replace(base, lines=tuple(replace(line, tax_category=tax_category) for line in base.lines), notes=notes)
    html = render_invoice_html(invoice, translations=NULL)
    assert html.count(statement) == count


def test_japanese_qualified_invoice(texts: dict[str, str], pdfs: dict[str, bytes]) -> None:
    text = texts["JP"]
    for item in (
        "適格請求書",
        "マイクロファブ株式会社",
        "登録番号 T1234567890123",
        "株式会社サンプル商事 御中",
        "取引年月日 2026年11月24日",
        "発行日 2026年11月26日",  # 15:30 UTC is the next morning in Tokyo
        "緑茶（ペットボトル） ※",
        "※は軽減税率対象",
        "10%対象（税抜） ￥17,600",
        "消費税（10%） ￥1,760",
        "8%対象（税抜） ￥3,600",
        "消費税（8%） ￥288",
        "合計（税込） ￥23,248",
    ):
        assert item in text, item
    assert "ノートPCスタンド ※" not in text  # only reduced-rate items are marked
    assert any("Noto-Sans-CJK-JP" in name for name in fonts_of(pdfs["JP"]))


def test_mexican_printed_representation_says_it_is_not_stamped(texts: dict[str, str]) -> None:
    text = texts["MX"]
    for item in (
        "Factura",
        "Representación impresa de un CFDI",
        "no ha sido timbrado",
        "Timbre Fiscal Digital",
        "RFC MME200101AB1",
        "RFC IDN150315KM7",
        "Régimen fiscal: 601",
        "Uso CFDI: G03 – Gastos en general",
        "Forma de pago 03",
        "Método de pago PUE",
        "Lugar de expedición 64000",
        "Fecha de expedición 2026-11-25T09:30:00",
        "56101700 2 H87",
        "81111500 1 E48",
        "IVA trasladado 16% sobre $3,400.00 $544.00",
        "Total $3,944.00",
    ):
        assert item in text, item


def test_mexican_consumer_is_the_general_public() -> None:
    text = text_of(render_invoice_pdf(sample.mexican(consumer=True), translations=NULL))
    assert "PUBLICO EN GENERAL" in text
    assert "RFC XAXX010101000" in text
    assert "Cliente Juan Pérez" in text.replace(":", "")


def test_us_invoice_shows_sales_tax_with_its_jurisdiction_on_its_own_line(texts: dict[str, str]) -> None:
    lines = texts["US"].splitlines()
    for item in ("Microfab US Inc.", "Jane Doe", "42 Elm Street", "Aluminum laptop stand 2 ea $129.00 $258.00"):
        assert any(item in line for line in lines), item
    assert "Subtotal $258.00" in lines
    assert "Sales tax 8% (Ohio, Franklin County) $20.64" in lines
    assert "Total $278.64" in lines


def test_vietnamese_vat_invoice(texts: dict[str, str], pdfs: dict[str, bytes]) -> None:
    text = texts["VN"]
    for item in (
        "HÓA ĐƠN GIÁ TRỊ GIA TĂNG",
        "Ký hiệu 1C26TMF",
        "Mẫu số 1",
        "Số 123",
        "Ngày 25 tháng 11 năm 2026",
        "Đơn vị bán hàng: CÔNG TY TNHH MICROFAB VIỆT NAM",
        "Mã số thuế: 0101234567",
        "Địa chỉ: Số 1 Đường Láng Hạ",
        "Tên đơn vị: CÔNG TY CỔ PHẦN CƠ KHÍ SÀI GÒN",
        "Mã số thuế: 0309876543",
        "Hình thức thanh toán: TM/CK",
        "STT Tên hàng hóa, dịch vụ ĐVT Số lượng Đơn giá Thuế suất Thành tiền",
        "1 Giá đỡ máy tính xách tay Cái 2 1.000.000 8% 2.000.000",
        "Tiền thuế GTGT 8% 160.000 ₫",
        "Tiền thuế GTGT 10% 50.000 ₫",
        "Tổng cộng tiền thanh toán 2.710.000 ₫",
        "Số tiền viết bằng chữ: Hai triệu bảy trăm mười nghìn đồng",
    ):
        assert item in text, item
    assert any("DejaVu-Sans" in name for name in fonts_of(pdfs["VN"]))


def test_brand_legal_footer_is_printed(texts: dict[str, str]) -> None:
    for country, text in texts.items():
        assert "Amtsgericht Hamburg HRB 123456" in text, country


@pytest.mark.parametrize(
    ("country", "title", "reference"),
    [
        ("DE", "Rechnungskorrektur", "Korrektur der Rechnung Nr. RE-2026-000042"),
        ("JP", "返品・値引き等の適格返還請求書", "対象の請求書番号 INV-2026-000007"),
        ("MX", "Nota de crédito (CFDI de egreso)", "A-2026-000015"),
        ("US", "Credit memo", "Corrects invoice INV-2026-000031"),
        ("VN", "Hóa đơn điều chỉnh giảm", "Điều chỉnh giảm cho hóa đơn số HD-2026-000123"),
    ],
)
def test_credit_note_title_refers_to_the_corrected_invoice(
    credit_texts: dict[str, str], country: str, title: str, reference: str
) -> None:
    text = " ".join(credit_texts[country].split())
    assert title in text
    assert reference in text
    assert CREDIT_NUMBERS[country] in text or CREDIT_NUMBERS[country].rsplit("-", 1)[-1].lstrip("0") in text


def test_mexican_credit_note_is_an_egreso() -> None:
    note = sample.credit_note(sample.mexican(), "NC-2026-000001")
    html = render_invoice_html(note, translations=NULL)
    assert "E – Egreso" in html
    assert "UUID pendiente de timbrado" in html


def test_labels_go_through_gettext() -> None:
    html = render_invoice_html(sample.american(), translations=Marked())
    for message in ("Invoice", "Invoice number", "Bill to", "Subtotal", "Total"):
        assert f"«{message}»" in html, message
    assert "«Sales tax %(rate)s (%(jurisdiction)s)»" not in html  # newstyle gettext fills the placeholders


def test_fixed_legal_terms_get_a_translation_beside_them_for_other_readers() -> None:
    german_reader = render_invoice_html(sample.german(), translations=Marked(), language="de")
    english_reader = render_invoice_html(sample.german(), translations=Marked(), language="en")
    assert "Rechnungsdatum" in german_reader
    assert "«Invoice date»" not in german_reader
    assert "Rechnungsdatum" in english_reader
    assert "«Invoice date»" in english_reader
    tagged = render_invoice_html(sample.german(), translations=Marked(), language="de-DE")
    assert "«Invoice date»" not in tagged
    assert '<html lang="de">' in tagged


def test_rendering_never_reaches_the_network() -> None:
    html = render_invoice_html(sample.japanese(), translations=NULL, brand=sample.BRAND)
    urls = re.findall(r"url\(\"([^\"]+)\"\)", html)
    assert urls
    assert all(url.startswith("file:///") for url in urls)
    assert "http://" not in html
    assert "https://" not in html
    fetcher = url_fetcher()
    for url in ("http://example.invalid/logo.png", "https://example.invalid/font.ttf", "ftp://example.invalid/x"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            fetcher.fetch(url)


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="fontconfig's fc-match is not installed")
def test_fontconfig_finds_the_families_and_refuses_a_substitute() -> None:
    found = _fc_match("DejaVu Sans", "bold")
    assert found is not None
    assert found.is_file()
    assert _fc_match("No Such Family Microfab", "regular") is None


def test_fonts_are_local_files_of_the_right_family() -> None:
    faces = font_faces(families("en", "JP"))
    assert [(face.family, face.weight) for face in faces] == [
        ("Noto Sans CJK JP", "normal"),
        ("Noto Sans CJK JP", "bold"),
        ("DejaVu Sans", "normal"),
        ("DejaVu Sans", "bold"),
    ]
    assert all(face.url.startswith("file:///") for face in faces)
    assert families("de", "DE") == ("DejaVu Sans",)
    assert families("ja", "US")[0] == "Noto Sans CJK JP"


def test_unknown_country_is_refused() -> None:
    with pytest.raises(ValueError, match="no invoice template for 'FR'"):
        render_invoice_html(replace(sample.german(), country="FR"), translations=NULL)


def test_file_names_are_safe() -> None:
    assert safe_filename("RE/2026/000042") == "RE_2026_000042"
    assert safe_filename("../../etc/passwd") == "etc_passwd"
    assert safe_filename("Hóa đơn 1") == "Hoa_don_1"
    with pytest.raises(ValueError, match="no usable file name"):
        safe_filename("//")


def test_us_invoice_is_written_as_pdf_only(tmp_path: Path) -> None:
    invoice = sample.american()
    written = write_invoice_files(invoice, tmp_path / "out", translations=NULL, brand=None)
    assert [p.name for p in written] == ["INV-2026-000031.pdf"] == list(files_for(invoice))
    assert written[0].read_bytes().startswith(b"%PDF-")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["INV-2026-000031.pdf"]  # no temporary left

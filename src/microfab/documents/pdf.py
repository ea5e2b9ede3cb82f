"""Invoices and credit notes as HTML and PDF, one template per country (``templates/invoice_<cc>.html.j2``).

Each country's template prints what its law asks of an invoice:

- DE, § 14 Abs. 4 UStG: names and addresses of seller and buyer, the seller's USt-IdNr. or
  Steuernummer, the buyer's USt-IdNr. (B2B), Rechnungsdatum, Leistungsdatum, Rechnungsnummer,
  quantity and description, net amounts by rate, rate and tax amount, gross, notes (reverse
  charge). A seller's credit note is a "Rechnungskorrektur": since 2013 "Gutschrift" means
  self-billing by the buyer (§ 14 Abs. 4 Nr. 10 UStG) and is not used for it.
- JP, 適格請求書 (消費税法 57 条の 4): issuer and 登録番号, 取引年月日, description with ※ on
  reduced-rate items and the legend "※は軽減税率対象", net total and 消費税額 per rate, recipient.
  A credit note is a 返品・値引き等の適格返還請求書.
- MX: a "Representación impresa de un CFDI" of the CFDI 4.0 that `microfab.documents.cfdi`
  writes, stating plainly that it is not stamped (no UUID, no Timbre Fiscal Digital: stamping
  by an authorised PAC happens outside this system). A credit note is a CFDI de egreso.
- US: seller, buyer, lines, subtotal, sales tax with its jurisdiction on its own line, total;
  a credit note is a credit memo.
- VN, Nghị định 123/2020/NĐ-CP: "HÓA ĐƠN GIÁ TRỊ GIA TĂNG" with ký hiệu, mẫu số, số, ngày,
  seller's MST and address, buyer's name and MST, lines (STT, tên hàng hóa, ĐVT, số lượng,
  đơn giá, thành tiền), VAT rate and amount, total in figures and in words (`vietnamese`). A
  credit note is a "Hóa đơn điều chỉnh giảm".

Legal terms and labels of DE, JP, MX and VN are fixed text in the country's language (the
law or the tax office expects them there); when the reader's language differs, the template
adds the translation of the English msgid after it. The US template is translated throughout.
Translations come in as a `gettext.NullTranslations` (the caller wires ``microfab.l10n``).
Numbers, money and dates are formatted with Babel in the locale of the fixed text (de-DE,
ja-JP, es-MX, vi-VN: a legal document keeps one convention, and Vietnamese law prescribes
its digit grouping) and, for the US, in the reader's language.

Fonts are local files only (Noto Sans CJK JP for Japanese, DejaVu Sans otherwise, found with
``fc-match`` or at Debian's paths) and WeasyPrint gets a URL fetcher that refuses anything but
``file:`` URLs: rendering never touches the network.
"""

from __future__ import annotations

import gettext
import shutil
import subprocess
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Final

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from jinja2 import Environment, PackageLoader, select_autoescape

from microfab.documents import cfdi, common
from microfab.documents.vietnamese import vnd_in_words
from microfab.domain.entities import Address, Brand
from microfab.domain.invoices import Invoice
from microfab.domain.quantities import MINOR_UNITS, Money

COUNTRIES: Final = ("DE", "JP", "MX", "US", "VN")
"""Countries with an invoice template."""

LEGAL_LANGUAGE: Final[Mapping[str, str]] = {"DE": "de", "JP": "ja", "MX": "es", "VN": "vi"}
"""The language each country's fixed legal text is in (the US template is translated throughout)."""

_FONT_FILES: Final[Mapping[tuple[str, str], tuple[str, ...]]] = {
    ("Noto Sans CJK JP", "regular"): (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJKjp-Regular.otf",
    ),
    ("Noto Sans CJK JP", "bold"): (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJKjp-Bold.otf",
    ),
    ("DejaVu Sans", "regular"): ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",),
    ("DejaVu Sans", "bold"): ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",),
}
"""Debian's paths of the fonts, used when ``fc-match`` is missing or finds another family."""

_MX_NAMES: Final[Mapping[str, Mapping[str, str]]] = {
    "regimen": {
        "601": "General de Ley Personas Morales",
        "603": "Personas Morales con Fines no Lucrativos",
        "605": "Sueldos y Salarios e Ingresos Asimilados a Salarios",
        "606": "Arrendamiento",
        "612": "Personas Físicas con Actividades Empresariales y Profesionales",
        "616": "Sin obligaciones fiscales",
        "621": "Incorporación Fiscal",
        "625": "Régimen de las Actividades Empresariales con ingresos a través de Plataformas Tecnológicas",
        "626": "Régimen Simplificado de Confianza",
    },
    "uso": {
        "G01": "Adquisición de mercancías",
        "G02": "Devoluciones, descuentos o bonificaciones",
        "G03": "Gastos en general",
        "I04": "Equipo de cómputo y accesorios",
        "I08": "Otra maquinaria y equipo",
        "S01": "Sin efectos fiscales",
        "CP01": "Pagos",
    },
    "forma": {
        "01": "Efectivo",
        "02": "Cheque nominativo",
        "03": "Transferencia electrónica de fondos",
        "04": "Tarjeta de crédito",
        "28": "Tarjeta de débito",
        "31": "Intermediario pagos",
        "99": "Por definir",
    },
    "metodo": {"PUE": "Pago en una sola exhibición", "PPD": "Pago en parcialidades o diferido"},
    "exportacion": {"01": "No aplica", "02": "Definitiva con clave A1", "03": "Temporal"},
}
"""Descriptions of the SAT catalogue keys an invoice commonly uses (a key not listed prints alone)."""


@dataclass(frozen=True, slots=True)
class FontFace:
    """One ``@font-face``: family, weight and the font file's ``file:`` URL."""

    family: str
    weight: str
    url: str


def _fc_match(family: str, style: str) -> Path | None:
    """The file fontconfig picks for *family* in *style*, if it is really that family."""
    program = shutil.which("fc-match")
    if program is None:
        return None
    pattern = family if style == "regular" else f"{family}:{style}"
    try:
        found = subprocess.run(
            [program, "-f", "%{file}\n%{family}", pattern], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = found.stdout.splitlines()
    if found.returncode != 0 or len(lines) < 2 or family.lower() not in lines[1].lower():
        return None
    path = Path(lines[0])
    return path if path.is_file() else None


def _font_file(family: str, style: str) -> Path | None:
    for candidate in _FONT_FILES.get((family, style), ()):
        if Path(candidate).is_file():
            return Path(candidate)
    return _fc_match(family, style)


CJK_FAMILY: Final = "Noto Sans CJK JP"
LATIN_FAMILY: Final = "DejaVu Sans"


def families(language: str, country: str) -> tuple[str, ...]:
    """The font families of a document, first choice first: Noto Sans CJK JP when Japanese is read or written."""
    return (CJK_FAMILY, LATIN_FAMILY) if "ja" in {language, LEGAL_LANGUAGE.get(country)} else (LATIN_FAMILY,)


@cache
def font_faces(names: tuple[str, ...]) -> tuple[FontFace, ...]:
    """The ``@font-face`` rules of the families *names*, regular and bold, each by its local file's URL.

    Known Debian paths come first (they are what fontconfig would find here), then
    ``fc-match``; a face with no file is left out and the CSS falls back on the installed
    family of that name.
    """
    faces = []
    for family in names:
        for style, weight in (("regular", "normal"), ("bold", "bold")):
            path = _font_file(family, style)
            if path is not None:
                faces.append(FontFace(family, weight, path.resolve().as_uri()))
    return tuple(faces)


def url_fetcher() -> Any:
    """A WeasyPrint URL fetcher that opens ``file:`` URLs only: any other scheme raises `ValueError`."""
    from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]  # noqa: PLC0415 (heavy import)

    return URLFetcher(allowed_protocols={"file"}, allow_redirects=False)


def _locale(language: str, country: str) -> Locale:
    """The CLDR locale of the reader's *language* in the invoice's *country* (``de`` + ``AT`` → ``de_AT``)."""
    tag = language.replace("-", "_")
    base = tag.split("_")[0]
    for candidate in (tag if "_" in tag else f"{tag}_{country}", base, "en"):
        try:
            return Locale.parse(candidate)
        except (ValueError, UnknownLocaleError):
            continue
    raise LookupError(f"no CLDR locale for {language!r}")  # pragma: no cover - "en" always exists


@dataclass(frozen=True, slots=True)
class Display:
    """Numbers, money and dates as the reader reads them (Babel, in the reader's language and the invoice's country)."""

    locale: Locale

    def money(self, amount: Money) -> str:
        """An amount with its currency, in the currency's minor unit (``1.234,50 €``, ``￥1,000``)."""
        digits = MINOR_UNITS[amount.currency]
        exact = amount.amount.quantize(Decimal(1).scaleb(-digits))
        return format_currency(exact, amount.currency, locale=self.locale, currency_digits=True)

    def amount(self, amount: Money) -> str:
        """An amount without its currency sign, with the currency's minor digits (``1.234,50``)."""
        digits = MINOR_UNITS[amount.currency]
        exact = amount.amount.quantize(Decimal(1).scaleb(-digits))
        return format_decimal(exact, format="#,##0" + ("." + "0" * digits if digits else ""), locale=self.locale)

    def number(self, value: Decimal | int) -> str:
        """A quantity with every significant digit and the locale's separators."""
        return format_decimal(value, locale=self.locale, decimal_quantization=False)

    def percent(self, share: Decimal) -> str:
        """A rate share as a percentage (``19 %``, ``5,75 %``)."""
        return format_percent(share, locale=self.locale, decimal_quantization=False)

    def day(self, value: date, style: str = "medium") -> str:
        """A calendar date (``25.11.2026``, ``2026/11/25``)."""
        return format_date(value, format=style, locale=self.locale)

    def country(self, code: str) -> str:
        """The country's name in the reader's language."""
        return str(self.locale.territories.get(code, code))


def address_lines(address: Address, display: Display, *, home: str) -> tuple[str, ...]:
    """The address as printed in its country's order; the country's name when it is not *home*."""
    foreign = (display.country(address.country),) if address.country != home else ()
    if address.country == "JP":
        postal = (f"〒{address.postal_code}",) if address.postal_code else ()
        return (*postal, f"{address.region}{address.city}{address.street}", *foreign)
    if address.country == "VN":
        return (", ".join(p for p in (address.street, address.city, address.region) if p), *foreign)
    if address.country == "US":
        state = " ".join(p for p in (address.region, address.postal_code) if p)
        return (address.street, ", ".join(p for p in (address.city, state) if p), *foreign)
    if address.country == "MX":
        place = ", ".join(p for p in (address.city, address.region) if p)
        return (address.street, " ".join(p for p in (f"C.P. {address.postal_code}", place) if p), *foreign)
    place = " ".join(p for p in (address.postal_code, address.city) if p)
    return tuple(p for p in (address.street, place, address.region, *foreign) if p)


@lru_cache(maxsize=16)
def _environment(translations: gettext.NullTranslations) -> Environment:
    env = Environment(
        loader=PackageLoader("microfab.documents", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    return env


def _mx_context(invoice: Invoice) -> dict[str, Any]:
    def named(kind: str, key: str) -> str:
        name = _MX_NAMES[kind].get(key, "")
        return f"{key} – {name}" if key and name else key

    fields = invoice.fields
    rec = cfdi.receptor(invoice)
    return {
        "tipo": "E – Egreso" if common.is_credit_note(invoice) else "I – Ingreso",
        "uso": named("uso", rec.uso),
        "forma": named("forma", fields.get("forma_pago", "")),
        "metodo": named("metodo", fields.get("metodo_pago", "")),
        "exportacion": named("exportacion", fields.get("exportacion", "01")),
        "serie": cfdi.serie_folio(invoice)[0],
        "folio": cfdi.serie_folio(invoice)[1],
        "rfc_emisor": cfdi.emisor(invoice)[0],
        "regimen_emisor": named("regimen", cfdi.emisor(invoice)[2]),
        "regimen_receptor": named("regimen", rec.regimen),
        "lugar": cfdi.lugar_expedicion(invoice),
        "receptor": rec,
    }


def _vn_context(invoice: Invoice) -> dict[str, Any]:
    fields = invoice.fields
    words = vnd_in_words(invoice.gross.amount) if invoice.currency == "VND" else ""
    number = fields.get("so_hoa_don", "")
    return {
        "ky_hieu": fields.get("ky_hieu", ""),
        "mau_so": fields.get("mau_so", ""),
        "so": number if number.isdigit() else str(invoice.sequence),
        "mst_ban": fields.get("mst_nguoi_ban") or invoice.seller.tax_ids.get("vn-tax-code", ""),
        "mst_mua": fields.get("mst_nguoi_mua") or invoice.buyer.tax_ids.get("vn-tax-code", ""),
        "payment": fields.get("hinh_thuc_thanh_toan") or fields.get("payment_method", ""),
        "ma_cqt": fields.get("ma_cqt", ""),
        "words": words,
    }


def _us_jurisdiction(invoice: Invoice) -> str:
    named = invoice.fields.get("tax_jurisdiction_name") or invoice.fields.get("tax_jurisdiction")
    if named:
        return named
    address = invoice.buyer.address
    return ", ".join(p for p in (address.region, address.country) if p)


def invoice_context(invoice: Invoice, *, language: str, brand: Brand | None) -> dict[str, Any]:
    """What the country's template renders: the invoice, display helpers and the country's extras.

    *language* is the reader's (a BCP 47 tag or a bare language: ``de``, ``de-DE``).
    """
    if invoice.country not in COUNTRIES:
        raise ValueError(f"country: no invoice template for {invoice.country!r}; templates: {', '.join(COUNTRIES)}")
    language = str(_locale(language, invoice.country).language)
    display = Display(_locale(LEGAL_LANGUAGE.get(invoice.country, language), invoice.country))
    issued = common.local_time(invoice)
    home = invoice.seller.address.country

    def address(a: Address) -> tuple[str, ...]:
        return address_lines(a, display, home=home)

    context: dict[str, Any] = {
        "inv": invoice,
        "seller": invoice.seller,
        "buyer": invoice.buyer,
        "language": language,
        "html_lang": language,
        "legal_language": LEGAL_LANGUAGE.get(invoice.country, language),
        "show_translation": LEGAL_LANGUAGE.get(invoice.country, language) != language,
        "fmt": display,
        "address": address,
        "issued": issued,
        "issue_date": issued.date(),
        "credit": common.is_credit_note(invoice),
        "reverse_charge": common.is_reverse_charge(invoice),
        "notes": invoice.notes,
        "brand": brand,
        "font_faces": font_faces(families(language, invoice.country)),
        "font_families": families(language, invoice.country),
        "page_size": "Letter" if invoice.country == "US" else "A4",
        "vat_category": lambda line: common.vat_category(line, invoice),
    }
    if invoice.country == "MX":
        context["mx"] = _mx_context(invoice)
    elif invoice.country == "VN":
        context["vn"] = _vn_context(invoice)
    elif invoice.country == "US":
        context["jurisdiction"] = _us_jurisdiction(invoice)
    elif invoice.country == "JP":
        context["registration"] = invoice.fields.get("registration_number") or invoice.seller.tax_ids.get(
            "jp-invoice-registration", ""
        )
        # The legend is printed under the lines; a note saying the same is not repeated.
        context["notes"] = tuple(note for note in invoice.notes if "軽減税率対象" not in note)
    elif invoice.country == "DE":
        fields = invoice.fields
        context["seller_vat_id"] = fields.get("ust_idnr") or invoice.seller.tax_ids.get("de-vat-id", "")
        context["seller_tax_number"] = fields.get("steuernummer") or invoice.seller.tax_ids.get("de-steuernummer", "")
        context["buyer_vat_id"] = fields.get("ust_idnr_empfaenger") or common.vat_id(invoice.buyer)
        context["exemption_notes"] = common.exemption_notes(invoice)
    return context


def render_invoice_html(
    invoice: Invoice,
    *,
    translations: gettext.NullTranslations,
    brand: Brand | None = None,
    language: str | None = None,
) -> str:
    """The invoice or credit note as one self-contained HTML page (inline CSS, fonts by ``file:`` URL).

    *translations* is the reader's gettext catalog; *language* (default: the invoice's) picks
    number and date formats and whether the fixed legal text gets a translation beside it.
    """
    chosen = language or invoice.language
    context = invoice_context(invoice, language=chosen, brand=brand)
    template = _environment(translations).get_template(f"invoice_{invoice.country.lower()}.html.j2")
    return template.render(**context)


def html_to_pdf(html: str, *, pdfa: bool = False, attachments: list[Any] | None = None) -> bytes:
    """Render *html* with WeasyPrint, offline; ``pdfa`` writes PDF/A-3b (what Factur-X embeds into)."""
    from weasyprint import HTML  # type: ignore[import-untyped]  # noqa: PLC0415 (heavy import)
    from weasyprint.text.fonts import FontConfiguration  # type: ignore[import-untyped]  # noqa: PLC0415

    options: dict[str, Any] = {"font_config": FontConfiguration()}
    if pdfa:
        options["pdf_variant"] = "pdf/a-3b"
    if attachments:
        options["attachments"] = attachments
    document = HTML(string=html, base_url=str(Path(__file__).parent), url_fetcher=url_fetcher())
    with warnings.catch_warnings():
        # WeasyPrint 70 opens its sRGB profile for the PDF/A output intent and never closes it.
        warnings.simplefilter("ignore", ResourceWarning)
        pdf: bytes = document.write_pdf(**options)
    return pdf


def render_invoice_pdf(
    invoice: Invoice,
    *,
    translations: gettext.NullTranslations,
    brand: Brand | None = None,
    language: str | None = None,
    pdfa: bool = False,
) -> bytes:
    """The invoice or credit note as PDF bytes (PDF/A-3b when *pdfa*)."""
    html = render_invoice_html(invoice, translations=translations, brand=brand, language=language)
    return html_to_pdf(html, pdfa=pdfa)

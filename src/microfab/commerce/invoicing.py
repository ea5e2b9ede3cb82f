"""Invoices and credit notes as data: per-rate totals from `tax_document`, and what each country's law asks for.

`build_invoice` turns a `Sale` (what shipped, at which net prices), the selling `LegalEntity`,
the `Buyer` and the tax jurisdiction into an `Invoice` with a number the caller reserved
(`microfab.control.invoicing` numbers gaplessly). Country rules add the items the seller's
country requires, as ``fields`` and ``notes``:

- DE (§ 14 Abs. 4 UStG): full names and addresses, the seller's USt-IdNr. or Steuernummer,
  issue and supply dates, the sequential number, quantity and description, net per tax rate,
  rate and tax; an intra-EU B2B supply (the buyer holds another member state's VAT ID) is tax
  exempt and says so, with both VAT IDs (§ 14a Abs. 3 UStG).
- JP (適格請求書, 消費税法 57条の4): registration number T + 13 digits, the transaction date,
  reduced-rate items marked ``※``, the total and the tax per rate, tax rounded once per rate.
- MX (CFDI 4.0, Anexo 20): RFC, name and régimen fiscal of issuer and receiver, the
  receiver's fiscal postal code, uso CFDI, método and forma de pago, lugar de expedición,
  exportación, the SAT product/service and unit keys of each line, and the IVA breakdown.
- US: the sales tax of the buyer's jurisdiction on its own line.
- VN (Nghị định 123/2020/NĐ-CP, Art. 10): invoice name, form number (mẫu số) and symbol (ký
  hiệu), number, seller and buyer names, addresses and tax codes (MST), unit, quantity, unit
  price, VAT rate and amount per rate, totals, date, currency and payment method.

`missing_items` checks an invoice against `MANDATORY` (data: one predicate per legal item);
`build_invoice` refuses to build an invoice that misses any, so nothing is numbered for it.

Amounts are `Decimal` money in the document currency. A credit note is an `Invoice` of kind
``credit-note`` whose amounts are **positive** (the amount credited) and whose ``corrects``
names the invoice; `build_credit_note` refuses to credit more than is left on the invoice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from microfab.commerce.invoice_rules import (
    DE_INTRA_EU_NOTE,
    DE_REVERSE_CHARGE_NOTE,
    EU_INTRA_EU_NOTE,
    JP_REDUCED_MARKER,
    JP_REDUCED_NOTE,
    MX_FOREIGN_RFC,
    MX_PUBLIC_RFC,
    SAT_CREDIT_PRODUCT,
    SAT_CREDIT_UNIT,
    SAT_PRODUCT_DEFAULT,
    SAT_UNIT_DEFAULT,
    TITLES,
    UNITS,
    require_complete,
    rounding_mode,
)
from microfab.commerce.tariffs import DutyAssessment, assess_duty, customs_value
from microfab.commerce.tax import percent, tax_document
from microfab.domain.buyers import EU_VAT_COUNTRIES, Buyer, vat_id_country
from microfab.domain.codec import encode
from microfab.domain.entities import Address, LegalEntity, Scheme
from microfab.domain.invoices import (
    CREDIT_NOTE,
    INVOICE,
    Invoice,
    InvoiceIssued,
    InvoiceLine,
    Party,
    RateSummary,
)
from microfab.domain.quantities import MINOR_UNITS, Money
from microfab.domain.trade import ANY, RoundingLevel, TariffSchedule, TaxJurisdiction, TaxRate, TradeAgreement

# ------------------------------------------------------------------------------------------ input


@dataclass(frozen=True, slots=True)
class SaleLine:
    """One line of what was sold: description, quantity, net unit price, tax category, classification codes.

    ``net`` is the line's net amount when it is not simply ``unit_net × quantity`` rounded (an
    order records its total); ``codes`` carries ``hs``, ``sat-product``, ``sat-unit`` ….
    """

    description: str
    quantity: Decimal
    unit_net: Money
    tax_category: str = "general"
    unit: str = ""
    codes: Mapping[str, str] = field(default_factory=dict)
    net: Money | None = None

    @property
    def amount(self) -> Money:
        """The line's net amount, in the currency's minor unit."""
        if self.net is not None:
            return self.net
        return (self.unit_net * self.quantity).quantize(ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Sale:
    """What an invoice bills: an order's lines, whether the buyer is a business, when it was supplied.

    ``terms`` holds payment data a country prints: ``forma_pago`` (SAT c_FormaPago, default
    ``03`` transferencia), ``metodo_pago`` (``PUE`` paid at once, or ``PPD``), ``tipo_cambio``
    (MXN per unit of a foreign invoice currency), ``hinh_thuc_thanh_toan`` (VN, default
    ``TM/CK``: cash or transfer).
    """

    order_id: str
    lines: tuple[SaleLine, ...]
    b2b: bool
    supplied_on: date
    language: str = ""
    terms: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DocumentNumber:
    """A number reserved in a series: printed number, sequence (1, 2, …), series name and prefix, issue time."""

    number: str
    sequence: int
    series: str
    issued_at: datetime
    prefix: str = ""

    def __post_init__(self) -> None:
        if self.sequence < 1:
            raise ValueError(f"sequence: expected >= 1, got {self.sequence}")
        if self.issued_at.tzinfo is None:
            raise ValueError("issued_at: expected a timezone-aware time")


# ------------------------------------------------------------------------------------- invoices


@dataclass(frozen=True, slots=True)
class _Context:
    """Everything a country rule may read."""

    sale: Sale
    seller: LegalEntity
    buyer: Buyer | None
    party: Party
    jurisdiction: TaxJurisdiction
    numbered: DocumentNumber
    intra_eu: bool


def build_invoice(
    sale: Sale,
    seller: LegalEntity,
    buyer: Buyer | None,
    jurisdiction: TaxJurisdiction,
    numbered: DocumentNumber,
) -> Invoice:
    """The invoice *seller* issues for *sale* to *buyer* (None: a consumer who gave no details).

    Tax is computed by `tax_document` on the supply date with the jurisdiction's rounding rule
    and level (Japan: once per rate, whatever the data says, as a qualified invoice must). An
    intra-EU B2B supply is taxed at 0 % with the exemption notes.

    Raises
    ------
    ValueError
        No lines, lines in several currencies, or an item the seller's country requires is
        missing (the message lists every one, like a Mexican business buyer without an RFC).
    NoTaxRateError
        A line's category has no rate in force on the supply date.
    """
    if not sale.lines:
        raise ValueError(f"invoice for order {sale.order_id}: no lines to invoice")
    country = seller.country
    intra_eu = is_intra_eu_supply(seller.country, buyer, b2b=sale.b2b)
    taxing = _exempt(jurisdiction) if intra_eu else jurisdiction
    if country == "JP":
        taxing = replace(taxing, rounding_level=RoundingLevel.DOCUMENT)
    summary = tax_document([(line.tax_category, line.amount) for line in sale.lines], taxing, sale.supplied_on)
    standard = _standard_rate(jurisdiction, sale.supplied_on)
    lines = tuple(
        InvoiceLine(
            description=line.description,
            quantity=line.quantity,
            unit=line.unit or UNITS.get(country, "pc"),
            unit_net=line.unit_net,
            net=taxed.net,
            tax_category=line.tax_category,
            tax_rate=taxed.rate.rate,
            tax=taxed.tax,
            reduced=standard is not None and Decimal(0) < taxed.rate.rate < standard,
            codes=_line_codes(country, line.codes, intra_eu=intra_eu),
        )
        for line, taxed in zip(sale.lines, summary.lines, strict=True)
    )
    party = buyer_party(buyer, jurisdiction.country, seller.country)
    context = _Context(sale, seller, buyer, party, jurisdiction, numbered, intra_eu)
    fields, notes = _RULES.get(country, _generic)(context, lines)
    fields["rounding"] = taxing.rounding.value
    fields["rounding_level"] = taxing.rounding_level.value
    if isinstance(numbered.issued_at.tzinfo, ZoneInfo):
        fields["timezone"] = numbered.issued_at.tzinfo.key
    if intra_eu:
        fields["exemption_reason"] = notes[0] if notes else EU_INTRA_EU_NOTE
    invoice = Invoice(
        number=numbered.number,
        sequence=numbered.sequence,
        series=numbered.series,
        kind=INVOICE,
        entity=seller.name,
        order_id=sale.order_id,
        issued_at=numbered.issued_at,
        supplied_on=sale.supplied_on,
        country=country,
        language=sale.language,
        currency=summary.net.currency,
        seller=seller_party(seller),
        buyer=party,
        lines=lines,
        rates=tuple(RateSummary(r.rate, r.net, r.tax) for r in summary.by_rate),
        net=summary.net,
        tax=summary.tax,
        gross=summary.gross,
        b2b=sale.b2b,
        notes=tuple(notes),
        fields=fields,
    )
    require_complete(invoice)
    return invoice


def seller_party(entity: LegalEntity) -> Party:
    """The entity as printed: legal name, address, registrations by scheme.

    A scheme registered more than once (sales tax permits in several states) keys its further
    numbers ``scheme:region``.
    """
    tax_ids: dict[str, str] = {}
    for reg in entity.registrations:
        key = reg.scheme.value if reg.scheme.value not in tax_ids else f"{reg.scheme.value}:{reg.region}"
        tax_ids.setdefault(key, reg.number)
    return Party(entity.legal_name, entity.address, tax_ids, entity.email)


def buyer_party(buyer: Buyer | None, country: str, seller_country: str = "") -> Party:
    """The buyer as printed; a consumer who gave no details is a generic consumer in *country*.

    A Mexican seller's generic consumer is "PUBLICO EN GENERAL" (the CFDI rule for RFC
    ``XAXX010101000``).
    """
    if buyer is None:
        name = "PUBLICO EN GENERAL" if seller_country == "MX" else "Consumer"
        return Party(name, Address("", "", "", country))
    return Party(buyer.name, buyer.address, dict(buyer.tax_ids), buyer.email)


def is_intra_eu_supply(seller_country: str, buyer: Buyer | None, *, b2b: bool) -> bool:
    """Whether a sale is an exempt intra-EU B2B supply (the buyer accounts for the tax: reverse charge).

    The seller is in the EU; the buyer is a business with a VAT ID of *another* member state,
    based outside the seller's country, and without a VAT ID of the seller's country.
    """
    if not b2b or buyer is None or seller_country not in EU_VAT_COUNTRIES:
        return False
    vat_id = buyer.eu_vat_id
    issuer = vat_id_country(vat_id) if vat_id else None
    if issuer is None or seller_country in (issuer, buyer.address.country):
        return False
    local = buyer.tax_id(f"{seller_country.lower()}-vat-id")
    return not local


def _exempt(jurisdiction: TaxJurisdiction) -> TaxJurisdiction:
    """The jurisdiction with every category at 0 % (an exempt supply keeps the rounding rules)."""
    return replace(jurisdiction, rates=(TaxRate(ANY, Decimal(0), label="exempt"),))


def _standard_rate(jurisdiction: TaxJurisdiction, day: date) -> Decimal | None:
    """The ``*`` rate in force on *day*: lower non-zero rates are reduced rates."""
    for rate in jurisdiction.rates:
        if rate.category == ANY and rate.period.contains(day):
            return rate.rate
    return None


def _line_codes(country: str, codes: Mapping[str, str], *, intra_eu: bool = False) -> dict[str, str]:
    result = {k: v for k, v in codes.items() if v}
    if intra_eu:
        result.setdefault("vat-category", "K")  # EN 16931: intra-Community supply (VATEX-EU-IC)
    if country == "MX":
        result.setdefault("sat-product", SAT_PRODUCT_DEFAULT)
        result.setdefault("sat-unit", SAT_UNIT_DEFAULT)
        result.setdefault("objeto-imp", "02")  # sí objeto de impuesto
    return result


# ------------------------------------------------------------------------------- country rules

_Rule = Callable[[_Context, tuple[InvoiceLine, ...]], tuple[dict[str, str], list[str]]]


def _generic(ctx: _Context, lines: tuple[InvoiceLine, ...]) -> tuple[dict[str, str], list[str]]:
    titles = TITLES.get(ctx.seller.country, ("Invoice", "Credit note"))
    return {"title": titles[0], "issue_date": _local_date(ctx.numbered.issued_at).isoformat()}, []


def _de(ctx: _Context, lines: tuple[InvoiceLine, ...]) -> tuple[dict[str, str], list[str]]:
    fields = {
        "title": TITLES["DE"][0],
        "rechnungsdatum": _local_date(ctx.numbered.issued_at).isoformat(),
        "leistungsdatum": ctx.sale.supplied_on.isoformat(),
    }
    _put(fields, "ust_idnr", ctx.seller.registration(Scheme.DE_VAT_ID))
    _put(fields, "steuernummer", ctx.seller.registration(Scheme.DE_STEUERNUMMER))
    if ctx.buyer is not None and ctx.sale.b2b:
        _put(fields, "ust_idnr_empfaenger", ctx.buyer.eu_vat_id)
    notes: list[str] = []
    if ctx.intra_eu:
        fields["innergemeinschaftliche_lieferung"] = "true"
        notes += [DE_INTRA_EU_NOTE, DE_REVERSE_CHARGE_NOTE]
    return fields, notes


def _eu_generic(ctx: _Context, lines: tuple[InvoiceLine, ...]) -> tuple[dict[str, str], list[str]]:
    fields, notes = _generic(ctx, lines)
    fields["supply_date"] = ctx.sale.supplied_on.isoformat()
    if ctx.intra_eu:
        fields["intra_eu_supply"] = "true"
        notes.append(EU_INTRA_EU_NOTE)
    return fields, notes


def _jp(ctx: _Context, lines: tuple[InvoiceLine, ...]) -> tuple[dict[str, str], list[str]]:
    fields = {
        "title": TITLES["JP"][0],
        "issue_date": _local_date(ctx.numbered.issued_at).isoformat(),
        "transaction_date": ctx.sale.supplied_on.isoformat(),
        "reduced_marker": JP_REDUCED_MARKER,
    }
    _put(fields, "registration_number", ctx.seller.registration(Scheme.JP_INVOICE_REGISTRATION))
    notes = [JP_REDUCED_NOTE] if any(line.reduced for line in lines) else []
    return fields, notes


def _mx(ctx: _Context, lines: tuple[InvoiceLine, ...]) -> tuple[dict[str, str], list[str]]:
    seller, buyer, terms = ctx.seller, ctx.buyer, ctx.sale.terms
    place = seller.address.postal_code
    fields = {
        "title": TITLES["MX"][0],
        "version": "4.0",
        "tipo_comprobante": "I",  # ingreso
        "fecha": ctx.numbered.issued_at.strftime("%Y-%m-%dT%H:%M:%S"),  # local time of the place of issue
        "serie": ctx.numbered.prefix or ctx.numbered.series,
        "folio": str(ctx.numbered.sequence),
        "lugar_expedicion": place,
        "exportacion": "01",  # no aplica
        "moneda": lines[0].net.currency if lines else "",
        "metodo_pago": terms.get("metodo_pago", "PUE"),
        "forma_pago": terms.get("forma_pago", "03"),
        "nombre_emisor": seller.legal_name,
        "rfc_emisor": seller.registration(Scheme.MX_RFC) or "",
        "regimen_fiscal_emisor": seller.registration(Scheme.MX_REGIMEN_FISCAL) or "",
        "impuesto": "002",  # IVA
        "tipo_factor": "Tasa",
    }
    fields.update(_mx_receiver(buyer, ctx.sale.b2b, place, ctx.party))
    if fields["moneda"] != "MXN":
        _put(fields, "tipo_cambio", terms.get("tipo_cambio"))  # MXN per unit of the currency (CFDI TipoCambio)
    return fields, []


def _mx_receiver(buyer: Buyer | None, b2b: bool, place: str, party: Party) -> dict[str, str]:
    """Receiver fields; a consumer without an RFC is the general public (foreign: the foreign generic RFC)."""
    rfc = buyer.tax_id(Scheme.MX_RFC.value) if buyer is not None else None
    if rfc:
        assert buyer is not None
        return {
            "rfc_receptor": rfc.upper(),
            "nombre_receptor": buyer.name,
            "domicilio_fiscal_receptor": buyer.address.postal_code,
            "regimen_fiscal_receptor": buyer.mx_regimen or buyer.tax_id(Scheme.MX_REGIMEN_FISCAL.value) or "",
            "uso_cfdi": buyer.mx_uso_cfdi or ("G03" if b2b else "S01"),
        }
    if b2b:  # a business must give its RFC: leave the fields empty so the invoice is refused
        return {"rfc_receptor": "", "nombre_receptor": party.name, "uso_cfdi": ""}
    foreign = party.address.country not in ("", "MX")
    return {
        "rfc_receptor": MX_FOREIGN_RFC if foreign else MX_PUBLIC_RFC,
        "nombre_receptor": party.name if buyer is not None else "PUBLICO EN GENERAL",
        "domicilio_fiscal_receptor": place,  # the rule for a generic RFC: the place of issue
        "regimen_fiscal_receptor": "616",  # sin obligaciones fiscales
        "uso_cfdi": "S01",  # sin efectos fiscales
    }


def _us(ctx: _Context, lines: tuple[InvoiceLine, ...]) -> tuple[dict[str, str], list[str]]:
    jurisdiction = ctx.jurisdiction
    rates = sorted({line.tax_rate for line in lines}, reverse=True)
    shown = ", ".join(f"{percent(r)} %" for r in rates)
    fields = {
        "title": TITLES["US"][0],
        "issue_date": _local_date(ctx.numbered.issued_at).isoformat(),
        "tax_jurisdiction": jurisdiction.code,
        "sales_tax_line": f"{jurisdiction.tax_name} ({jurisdiction.code}) {shown}",
    }
    _put(fields, "ein", ctx.seller.registration(Scheme.US_EIN))
    parts = jurisdiction.code.split("-")
    if len(parts) > 1:
        _put(fields, "sales_tax_permit", ctx.seller.registration(Scheme.US_SALES_TAX_PERMIT, parts[1]))
    return fields, []


def _vn(ctx: _Context, lines: tuple[InvoiceLine, ...]) -> tuple[dict[str, str], list[str]]:
    numbered = ctx.numbered
    fields = {
        "title": TITLES["VN"][0],
        "ten_hoa_don": TITLES["VN"][0],
        "mau_so": "1",  # hóa đơn giá trị gia tăng
        "ky_hieu": vn_symbol(numbered.prefix, _local_date(numbered.issued_at).year),
        "so_hoa_don": str(numbered.sequence),  # Arabic digits, at most 8, from 1 each year
        "ngay_lap": _local_date(numbered.issued_at).isoformat(),
        "mst_nguoi_ban": ctx.seller.registration(Scheme.VN_TAX_CODE) or "",
        "hinh_thuc_thanh_toan": ctx.sale.terms.get("hinh_thuc_thanh_toan", "TM/CK"),
        "don_vi_tien_te": lines[0].net.currency if lines else "",
    }
    if ctx.buyer is not None:
        _put(fields, "mst_nguoi_mua", ctx.buyer.tax_id(Scheme.VN_TAX_CODE.value))
    return fields, []


def vn_symbol(prefix: str, year: int) -> str:
    """The ký hiệu of a Vietnamese e-invoice with a tax authority code: ``C`` + year + ``T`` + two letters.

    The two letters are the series prefix's first two letters (``AA`` when it has none), as
    Circular 78/2021 leaves them to the seller.
    """
    letters = "".join(ch for ch in prefix.upper() if "A" <= ch <= "Z")[:2]
    return f"C{year % 100:02d}T{letters.ljust(2, 'A')}"


_RULES: Final[Mapping[str, _Rule]] = {
    "DE": _de,
    "JP": _jp,
    "MX": _mx,
    "US": _us,
    "VN": _vn,
    **{c: _eu_generic for c in EU_VAT_COUNTRIES if c != "DE"},
}


def _put(fields: dict[str, str], key: str, value: str | None) -> None:
    if value:
        fields[key] = value


def _local_date(moment: datetime) -> date:
    """The calendar date of *moment* in its own offset (callers pass issue times in the market's zone)."""
    return moment.date()


# --------------------------------------------------------------------------------- credit notes


def creditable(invoice: Invoice, earlier: Sequence[Invoice]) -> dict[Decimal, tuple[Money, Money]]:
    """Net and tax still creditable per tax rate, after the *earlier* credit notes of the invoice."""
    left = {r.rate: (r.net, r.tax) for r in invoice.rates}
    for note in earlier:
        for r in note.rates:
            net, tax = left.get(r.rate, (Money.zero(invoice.currency), Money.zero(invoice.currency)))
            left[r.rate] = (net - r.net, tax - r.tax)
    return left


def remaining(invoice: Invoice, earlier: Sequence[Invoice]) -> Money:
    """The gross amount still creditable on *invoice*."""
    zero = Money.zero(invoice.currency)
    return sum((net + tax for net, tax in creditable(invoice, earlier).values()), zero)


def build_credit_note(
    invoice: Invoice,
    earlier: Sequence[Invoice],
    numbered: DocumentNumber,
    *,
    amount: Money | None,
    reason: str,
) -> Invoice:
    """A credit note correcting *invoice* by the gross *amount* (None: everything still creditable).

    Amounts are stored positive (the amount credited). A full credit of an invoice without
    earlier credit notes repeats its lines; otherwise there is one line per tax rate, the
    amount split over the rates in proportion to what is left of each, and each part into net
    and tax at its rate (tax = part × rate / (1 + rate), rounded as the invoice was).

    Raises
    ------
    ValueError
        *invoice* is itself a credit note, *reason* is empty, *amount* is not positive, is in
        another currency, or exceeds what is left to credit (the message says how much is left).
    """
    if invoice.kind != INVOICE:
        raise ValueError(f"{invoice.number} is a credit note: credit the invoice it corrects")
    if not reason.strip():
        raise ValueError("reason: a credit note needs a reason")
    left = remaining(invoice, earlier)
    wanted = left if amount is None else amount
    if wanted.currency != invoice.currency:
        raise ValueError(f"amount: invoice {invoice.number} is in {invoice.currency}, not {wanted.currency}")
    if wanted.quantize(ROUND_HALF_UP).amount != wanted.amount:
        raise ValueError(f"amount: {wanted.amount} has more decimals than {invoice.currency} allows")
    if left.amount <= 0:
        raise ValueError(f"invoice {invoice.number} is fully credited already")
    if wanted.amount <= 0:
        raise ValueError(f"amount: expected a positive amount to credit, got {wanted}")
    if wanted > left:
        raise ValueError(
            f"credit of {wanted} exceeds the {left} still creditable on invoice {invoice.number} "
            f"(gross {invoice.gross}, credited {invoice.gross - left})"
        )
    if wanted == invoice.gross and not earlier:
        lines = tuple(replace(line, codes=_credit_codes(invoice.country, line.codes)) for line in invoice.lines)
    else:
        lines = _credit_lines(invoice, creditable(invoice, earlier), wanted, reason, rounding_mode(invoice))
    return _credit_note(invoice, numbered, lines, reason)


def _credit_lines(
    invoice: Invoice, left: dict[Decimal, tuple[Money, Money]], wanted: Money, reason: str, rounding: str
) -> tuple[InvoiceLine, ...]:
    rates = sorted((r for r in left if sum((m.amount for m in left[r]), Decimal(0)) > 0), reverse=True)
    parts = _allocate(wanted, [left[r][0] + left[r][1] for r in rates])
    categories = {line.tax_rate: line.tax_category for line in invoice.lines}
    reduced = {line.tax_rate: line.reduced for line in invoice.lines}
    lines = []
    for rate, part in zip(rates, parts, strict=True):
        if part.amount == 0:
            continue
        net_left, tax_left = left[rate]
        tax = (part * (rate / (1 + rate))).quantize(rounding)
        tax = min(max(tax, part - net_left), tax_left)
        net = part - tax
        lines.append(
            InvoiceLine(
                description=f"{reason} ({invoice.number})",
                quantity=Decimal(1),
                unit=UNITS.get(invoice.country, "pc"),
                unit_net=net,
                net=net,
                tax_category=categories.get(rate, "general"),
                tax_rate=rate,
                tax=tax,
                reduced=reduced.get(rate, False),
                codes=_credit_codes(invoice.country, {}),
            )
        )
    return tuple(lines)


def _allocate(total: Money, weights: Sequence[Money]) -> list[Money]:
    """Split *total* in proportion to *weights* in minor units (largest remainder; ties to the first)."""
    unit = Decimal(1).scaleb(-MINOR_UNITS[total.currency])
    whole = sum((w.amount for w in weights), Decimal(0))
    raw = [total.amount * w.amount / whole for w in weights]
    floors = [r.quantize(unit, rounding=ROUND_DOWN) for r in raw]
    left = int((total.amount - sum(floors, Decimal(0))) / unit)
    order = sorted(range(len(raw)), key=lambda k: (-(raw[k] - floors[k]), k))
    for k in order[:left]:
        floors[k] += unit
    return [Money(f, total.currency) for f in floors]


def _credit_codes(country: str, codes: Mapping[str, str]) -> dict[str, str]:
    result = dict(codes)
    if country == "MX":
        result.update({"sat-product": SAT_CREDIT_PRODUCT, "sat-unit": SAT_CREDIT_UNIT, "objeto-imp": "02"})
    return result


def _credit_note(invoice: Invoice, numbered: DocumentNumber, lines: tuple[InvoiceLine, ...], reason: str) -> Invoice:
    zero = Money.zero(invoice.currency)
    rates = tuple(
        RateSummary(
            rate,
            sum((line.net for line in lines if line.tax_rate == rate), zero),
            sum((line.tax for line in lines if line.tax_rate == rate), zero),
        )
        for rate in sorted({line.tax_rate for line in lines}, reverse=True)
    )
    net = sum((r.net for r in rates), zero)
    tax = sum((r.tax for r in rates), zero)
    fields, notes = _credit_fields(invoice, numbered, reason)
    note = Invoice(
        number=numbered.number,
        sequence=numbered.sequence,
        series=numbered.series,
        kind=CREDIT_NOTE,
        entity=invoice.entity,
        order_id=invoice.order_id,
        issued_at=numbered.issued_at,
        supplied_on=invoice.supplied_on,
        country=invoice.country,
        language=invoice.language,
        currency=invoice.currency,
        seller=invoice.seller,
        buyer=invoice.buyer,
        lines=lines,
        rates=rates,
        net=net,
        tax=tax,
        gross=net + tax,
        b2b=invoice.b2b,
        notes=(*[n for n in invoice.notes if n != JP_REDUCED_NOTE or any(ln.reduced for ln in lines)], *notes),
        fields=fields,
        corrects=invoice.number,
    )
    require_complete(note)
    return note


def _credit_fields(invoice: Invoice, numbered: DocumentNumber, reason: str) -> tuple[dict[str, str], list[str]]:
    """The invoice's fields with what a correcting document changes, and the notes that refer to the invoice."""
    issued = _local_date(numbered.issued_at).isoformat()
    original = _local_date(invoice.issued_at).isoformat()
    fields = dict(invoice.fields)
    titles = TITLES.get(invoice.country, ("Invoice", "Credit note"))
    fields.update({"title": titles[1], "reason": reason, "corrects": invoice.number, "original_issue_date": original})
    country = invoice.country
    if country == "DE":
        fields["rechnungsdatum"] = issued
        return fields, [f"Korrektur der Rechnung Nr. {invoice.number} vom {original}: {reason}"]
    if country == "MX":
        fields.update(
            {
                "tipo_comprobante": "E",  # egreso
                "tipo_relacion": "01",  # nota de crédito de los documentos relacionados
                "cfdi_relacionado": invoice.number,
                "fecha": numbered.issued_at.strftime("%Y-%m-%dT%H:%M:%S"),
                "serie": numbered.prefix or numbered.series,
                "folio": str(numbered.sequence),
                "metodo_pago": "PUE",
            }
        )
        if invoice.fields.get("uso_cfdi") not in ("S01", ""):
            fields["uso_cfdi"] = "G02"  # devoluciones, descuentos o bonificaciones
        return fields, []
    if country == "VN":
        fields.update(
            {
                "ten_hoa_don": titles[1],
                "ky_hieu": vn_symbol(numbered.prefix, _local_date(numbered.issued_at).year),
                "so_hoa_don": str(numbered.sequence),
                "ngay_lap": issued,
            }
        )
        symbol = f"{invoice.fields.get('mau_so', '1')}{invoice.fields.get('ky_hieu', '')}"
        return fields, [f"Điều chỉnh giảm cho hóa đơn mẫu số {symbol} số {invoice.number} ngày {original}: {reason}"]
    fields["issue_date"] = issued
    return fields, [f"Corrects invoice {invoice.number} of {original}: {reason}"]


# --------------------------------------------------------------------------------- intercompany


def transfer_price(cost: Money, markup: Decimal) -> Money:
    """Cost plus *markup* (a share: ``0.15`` is 15 %), rounded half-up to the minor unit.

    Raises
    ------
    ValueError
        A negative markup or cost.
    """
    if markup < 0:
        raise ValueError(f"markup: expected >= 0, got {markup}")
    if cost.amount < 0:
        raise ValueError(f"cost: expected >= 0, got {cost}")
    return (cost * (1 + markup)).quantize(ROUND_HALF_UP)


def transfer_duty(
    schedule: TariffSchedule,
    hs: str,
    origin: str,
    transaction_value: Money,
    freight: Money,
    on: date,
    *,
    originating_under: Sequence[str] = (),
    agreements: Sequence[TradeAgreement] = (),
) -> DutyAssessment:
    """Duty on an intercompany import: the transfer price is the transaction value of the customs value.

    Both amounts are in the schedule's currency; the customs value adds the freight on a CIF
    basis (EU, Japan) and not on FOB (the US), as `customs_value` does for a quote.
    """
    value = customs_value(transaction_value, freight, schedule.basis)
    return assess_duty(
        schedule, hs, origin, value, on, originating_under=tuple(originating_under), agreements=tuple(agreements)
    )


# -------------------------------------------------------------------------------------- export


def invoice_json(invoice: Invoice) -> dict[str, Any]:
    """The invoice as JSON data (the event codec's form: amounts as exact decimal strings)."""
    data = encode(InvoiceIssued(invoice.issued_at, invoice))[1]["invoice"]
    assert isinstance(data, dict)
    return data

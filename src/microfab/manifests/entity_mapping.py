"""Legal entities in manifests: tax-number checks, ``Entity`` documents, market brands and transfer pricing.

Tax numbers are checked offline with python-stdnum and stored in their compact form (separators
removed, letters in capitals): ``us-ein`` ``352718294``, ``de-vat-id`` ``DE314782650`` (with the
country prefix), ``jp-invoice-registration`` ``T9180001045217``. `check_number` and `check_region`
run while the spec is validated (`microfab.manifests.schema` calls them), so an invalid number is
reported at ``spec.registrations[i].number`` together with every other schema error.

Invoice series: an entity always has a series named ``invoice`` and one named ``credit``; a
series it does not declare gets the default of its country, pattern ``{prefix}-{year}-{number:06d}``
restarting every year:

====  =======  ======  ===========================================
      invoice  credit
====  =======  ======  ===========================================
US    INV      CR      invoice / credit memo
MX    F        NC      factura / nota de crédito (the CFDI *serie*)
DE    RE       RK      Rechnung / Rechnungskorrektur
JP    INV      CN      請求書 / 返還インボイス
VN    HD       DC      hóa đơn / hóa đơn điều chỉnh
other INV      CN      any other country
====  =======  ======  ===========================================

Transfer pricing: ``spec.transferPricing`` of the Network lists a markup share per product
family; ``*`` is every other family and is 0.10 unless declared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from stdnum.de import stnr as de_stnr
from stdnum.de import vat as de_vat
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.jp import cn as jp_cn
from stdnum.mx import rfc as mx_rfc
from stdnum.us import ein as us_ein
from stdnum.vn import mst as vn_mst

from microfab.domain.entities import Address, Brand, InvoiceSeries, LegalEntity, Registration, Scheme, TransferPolicy
from microfab.manifests.errors import FieldPath

if TYPE_CHECKING:  # the schema imports this module's number checks: no import cycle at run time
    from microfab.manifests.schema import BrandSpec, EntitySpec, InvoiceSeriesSpec, TransferMarkupSpec


class SpecProblemsError(ValueError):
    """Several problems of one spec, each at a path relative to the spec (``("brands", 1, "locale")``)."""

    def __init__(self, problems: Sequence[tuple[FieldPath, str]]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(message for _, message in self.problems))


# ---------------------------------------------------------------- tax numbers

# fmt: off
US_STATES: Final = frozenset({
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
    "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC",
    "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
})
# fmt: on
"""The states (and DC) a sales-tax permit may be issued by."""

DE_STATES: Final = {
    "BW": "Baden-Württemberg",
    "BY": "Bayern",
    "BE": "Berlin",
    "BB": "Brandenburg",
    "HB": "Bremen",
    "HH": "Hamburg",
    "HE": "Hessen",
    "MV": "Mecklenburg-Vorpommern",
    "NI": "Niedersachsen",
    "NW": "Nordrhein-Westfalen",
    "RP": "Rheinland-Pfalz",
    "SL": "Saarland",
    "SN": "Sachsen",
    "ST": "Sachsen-Anhalt",
    "SH": "Schleswig-Holstein",
    "TH": "Thüringen",
}
"""ISO 3166-2 codes of the German states and their names as stdnum knows them (the Steuernummer formats)."""

MX_REGIMENES: Final = {
    "601": "General de Ley Personas Morales",
    "603": "Personas Morales con Fines no Lucrativos",
    "605": "Sueldos y Salarios e Ingresos Asimilados a Salarios",
    "606": "Arrendamiento",
    "607": "Régimen de Enajenación o Adquisición de Bienes",
    "608": "Demás ingresos",
    "609": "Consolidación",
    "610": "Residentes en el Extranjero sin Establecimiento Permanente en México",
    "611": "Ingresos por Dividendos (socios y accionistas)",
    "612": "Personas Físicas con Actividades Empresariales y Profesionales",
    "614": "Ingresos por intereses",
    "615": "Régimen de los ingresos por obtención de premios",
    "616": "Sin obligaciones fiscales",
    "620": "Sociedades Cooperativas de Producción que optan por diferir sus ingresos",
    "621": "Incorporación Fiscal",
    "622": "Actividades Agrícolas, Ganaderas, Silvícolas y Pesqueras",
    "623": "Opcional para Grupos de Sociedades",
    "624": "Coordinados",
    "625": "Régimen de las Actividades Empresariales con ingresos a través de Plataformas Tecnológicas",
    "626": "Régimen Simplificado de Confianza",
    "628": "Hidrocarburos",
    "629": "De los Regímenes Fiscales Preferentes y de las Empresas Multinacionales",
    "630": "Enajenación de acciones en bolsa de valores",
}
"""The SAT catalogue c_RegimenFiscal (CFDI 4.0)."""

REGIONAL: Final = frozenset({Scheme.US_SALES_TAX_PERMIT, Scheme.DE_STEUERNUMMER})
"""Schemes whose registrations take a ``region``: the US state of a permit, the German state of a tax office."""

_EXPECTED: Final[Mapping[Scheme, str]] = {
    Scheme.US_EIN: "2 digits, a dash and 7 digits with an IRS campus prefix, like '12-3456789'",
    Scheme.US_SALES_TAX_PERMIT: "the permit number the state issued, like '25-123456'",
    Scheme.MX_RFC: (
        "3 letters (4 for a person), the date of incorporation YYMMDD and a 3-character homoclave "
        "ending in the check digit, like 'MAB930714 8T4'"
    ),
    Scheme.MX_REGIMEN_FISCAL: "a c_RegimenFiscal code of the SAT like '601' (General de Ley Personas Morales)",
    Scheme.DE_VAT_ID: "'DE' and 9 digits ending in an ISO 7064 mod 11,10 check digit, like 'DE136695976'",
    Scheme.DE_STEUERNUMMER: (
        "a regional number of 10 or 11 digits like '143/815/08155' or the federal 13-digit form like '9143081508155'"
    ),
    Scheme.JP_CORPORATE_NUMBER: "13 digits, the first a check digit, like '5835678256246'",
    Scheme.JP_INVOICE_REGISTRATION: "'T' and a 13-digit corporate number, like 'T5835678256246'",
    Scheme.VN_TAX_CODE: "10 digits, the tenth a check digit (13 for a branch), like '0100233488'",
}

_REASONS: Final = (
    (InvalidChecksum, "invalid checksum"),
    (InvalidLength, "invalid length"),
    (InvalidFormat, "invalid format"),
    (InvalidComponent, "invalid component"),
)


def check_region(scheme: Scheme, region: str) -> str:
    """The registration's region, normalized; ``ValueError`` when *scheme* needs another one.

    A US sales-tax permit needs the state (``OH``); a Steuernummer may name the German state of
    its tax office (``BY`` or ``Bayern``, kept as the ISO code) to check the regional format;
    other schemes take none.
    """
    region = region.strip()
    if scheme == Scheme.US_SALES_TAX_PERMIT:
        if region.upper() not in US_STATES:
            raise ValueError(f"expected the US state that issued the permit, like 'OH', got {region!r}")
        return region.upper()
    if scheme == Scheme.DE_STEUERNUMMER:
        if not region:
            return ""
        for code, name in DE_STATES.items():
            if region.upper() == code or region.casefold() == name.casefold():
                return code
        raise ValueError(f"expected a German state like 'BY' or 'Bayern', got {region!r}")
    if region:
        schemes = " and ".join(sorted(REGIONAL))
        raise ValueError(f"expected no region: only {schemes} registrations take one, got {region!r}")
    return ""


def check_number(scheme: Scheme, number: str, region: str = "") -> str:
    """Validate *number* under *scheme* offline (stdnum) and return it compacted.

    Raises
    ------
    ValueError
        Naming the scheme, the number, stdnum's reason (``invalid checksum``) and the expected form.
    """
    try:
        return _CHECKS[scheme](number, region)
    except ValidationError as exc:
        reason = next((text for kind, text in _REASONS if isinstance(exc, kind)), "invalid")
        detail = str(exc).rstrip(".")
        detail = detail[:1].lower() + detail[1:]
        raise ValueError(
            f"expected a valid {scheme.value}, got {number!r}: {reason} ({detail}); expected form: {_EXPECTED[scheme]}"
        ) from None


def _ein(number: str, region: str) -> str:
    try:
        return us_ein.validate(number)
    except InvalidComponent:
        raise InvalidComponent(f"no IRS campus issues the prefix {us_ein.compact(number)[:2]!r}") from None


def _sales_tax_permit(number: str, region: str) -> str:
    compact = " ".join(number.split())
    if not compact:
        raise InvalidFormat("the permit number is empty")
    return compact


def _rfc(number: str, region: str) -> str:
    return mx_rfc.validate(number, validate_check_digits=True)


def _regimen(number: str, region: str) -> str:
    code = number.strip()
    if code not in MX_REGIMENES:
        raise InvalidComponent(f"{code!r} is not in the SAT catalogue c_RegimenFiscal")
    return code


def _vat_id(number: str, region: str) -> str:
    return "DE" + de_vat.validate(number)


def _steuernummer(number: str, region: str) -> str:
    return de_stnr.validate(number, DE_STATES.get(region))


def _corporate_number(number: str, region: str) -> str:
    return jp_cn.validate(number)


def _invoice_registration(number: str, region: str) -> str:
    compact = jp_cn.compact(number).upper()
    if not compact.startswith("T"):
        raise InvalidFormat("a qualified-invoice registration number starts with 'T'")
    return "T" + jp_cn.validate(compact[1:])


def _tax_code(number: str, region: str) -> str:
    return vn_mst.validate(number)


_CHECKS: Final[Mapping[Scheme, Callable[[str, str], str]]] = {
    Scheme.US_EIN: _ein,
    Scheme.US_SALES_TAX_PERMIT: _sales_tax_permit,
    Scheme.MX_RFC: _rfc,
    Scheme.MX_REGIMEN_FISCAL: _regimen,
    Scheme.DE_VAT_ID: _vat_id,
    Scheme.DE_STEUERNUMMER: _steuernummer,
    Scheme.JP_CORPORATE_NUMBER: _corporate_number,
    Scheme.JP_INVOICE_REGISTRATION: _invoice_registration,
    Scheme.VN_TAX_CODE: _tax_code,
}


# ---------------------------------------------------------------- entities

DEFAULT_PREFIXES: Final[Mapping[str, tuple[str, str]]] = {
    "US": ("INV", "CR"),
    "MX": ("F", "NC"),
    "DE": ("RE", "RK"),
    "JP": ("INV", "CN"),
    "VN": ("HD", "DC"),
}
"""Per country, the prefixes of the default ``invoice`` and ``credit`` series."""

_OTHER_PREFIXES: Final = ("INV", "CN")


def default_series(country: str) -> tuple[InvoiceSeries, InvoiceSeries]:
    """The default ``invoice`` and ``credit`` series of an entity in *country*."""
    invoice, credit = DEFAULT_PREFIXES.get(country, _OTHER_PREFIXES)
    return InvoiceSeries("invoice", invoice), InvoiceSeries("credit", credit)


def legal_entity(name: str, spec: EntitySpec) -> LegalEntity:
    """An ``Entity`` document as a `LegalEntity` with its numbers compacted and default series added.

    Raises
    ------
    SpecProblemsError
        Registrations declared twice, a registration number that is not T + the corporate
        number, invoice series named twice, with an unusable pattern or printing another's numbers.
    ValueError
        ``"registrations: a DE entity needs ..."`` from the domain when a required one is missing.
    """
    problems = [*_registration_problems(spec), *_series_problems(spec.invoice_series)]
    if problems:
        raise SpecProblemsError(problems)
    declared = [InvoiceSeries(s.name, s.prefix, s.pattern, s.yearly) for s in spec.invoice_series]
    names = {s.name for s in declared}
    series = (*declared, *(s for s in default_series(spec.country) if s.name not in names))
    address = spec.address
    return LegalEntity(
        name=name,
        legal_name=spec.legal_name,
        country=spec.country,
        address=Address(address.street, address.postal_code, address.city, spec.country, address.region),
        registrations=tuple(Registration(r.scheme, r.number, r.region) for r in spec.registrations),
        currency=spec.currency,
        series=series,
        email=spec.email,
    )


def _registration_problems(spec: EntitySpec) -> Iterable[tuple[FieldPath, str]]:
    seen: dict[tuple[Scheme, str], int] = {}
    for index, registration in enumerate(spec.registrations):
        key = (registration.scheme, registration.region)
        if key in seen:
            where = f" for {registration.region}" if registration.region else ""
            first = f"registrations[{seen[key]}]"
            message = f"{registration.scheme.value}{where} is already registered at {first}; declare it once"
            yield ("registrations", index, "scheme"), message
        seen.setdefault(key, index)
    corporate = next((r.number for r in spec.registrations if r.scheme == Scheme.JP_CORPORATE_NUMBER), None)
    for index, registration in enumerate(spec.registrations):
        if registration.scheme == Scheme.JP_INVOICE_REGISTRATION and corporate and registration.number[1:] != corporate:
            message = (
                f"expected 'T{corporate}': a corporation's registration number is T + its corporate number "
                f"{corporate}, got {registration.number!r}"
            )
            yield ("registrations", index, "number"), message


def _series_problems(series: Sequence[InvoiceSeriesSpec]) -> Iterable[tuple[FieldPath, str]]:
    printed: dict[str, str] = {}
    names: set[str] = set()
    for index, spec in enumerate(series):
        path: FieldPath = ("invoiceSeries", index)
        if spec.name in names:
            yield (*path, "name"), f"invoice series {spec.name!r} is declared twice"
        names.add(spec.name)
        problem = _pattern_problem(InvoiceSeries(spec.name, spec.prefix, spec.pattern, spec.yearly))
        if problem:
            yield (*path, "pattern"), problem
            continue
        sample = spec.pattern.format(prefix=spec.prefix, year=2026, number=1)
        if sample in printed:
            yield (*path, "prefix"), f"series {spec.name!r} prints the same numbers as {printed[sample]!r} ({sample})"
        printed.setdefault(sample, spec.name)


def _pattern_problem(series: InvoiceSeries) -> str:
    """What is wrong with the series' pattern, or ``""``."""
    expected = "expected a pattern of {prefix}, {year} and {number}, like '{prefix}-{year}-{number:06d}'"
    try:
        first, second, next_year = (series.format(2026, 1), series.format(2026, 2), series.format(2027, 1))
    except (KeyError, IndexError, ValueError) as exc:
        return f"{expected}, got {series.pattern!r} ({type(exc).__name__}: {exc})"
    if first == second:
        return f"{expected}: {series.pattern!r} prints every number the same ({first})"
    if series.yearly and first == next_year:
        return f"{expected}: a yearly series restarts each year, so {series.pattern!r} needs {{year}}"
    return ""


# ---------------------------------------------------------------- brands and transfer pricing


def brands(specs: Sequence[BrandSpec], locale: str) -> dict[str, Brand]:
    """A market's brands by locale; one per locale, and one for the market's own *locale* when any is given.

    Raises
    ------
    SpecProblemsError
        At ``brands[i].locale`` for a locale given twice, at ``brands`` when the market's locale has none.
    """
    built: dict[str, Brand] = {}
    problems: list[tuple[FieldPath, str]] = []
    for index, spec in enumerate(specs):
        if spec.locale in built:
            problems.append((("brands", index, "locale"), f"a brand for {spec.locale} is already declared"))
            continue
        built[spec.locale] = Brand(spec.locale, spec.name, spec.tagline, spec.support, spec.legal_footer)
    if built and locale not in built:
        given = ", ".join(built)
        message = f"a brand for the market's locale {locale} is missing (brands for: {given}); add one"
        problems.append((("brands",), message))
    if problems:
        raise SpecProblemsError(problems)
    return built


def transfer_policy(specs: Sequence[TransferMarkupSpec]) -> TransferPolicy:
    """The network's transfer markups: the default ``*`` 0.10 overridden by what is declared.

    Raises
    ------
    SpecProblemsError
        At ``transferPricing[i]`` for a family given twice or a markup outside [0, 1].
    """
    markups: dict[str, Decimal] = dict(TransferPolicy().markups)
    declared: set[str] = set()
    problems: list[tuple[FieldPath, str]] = []
    for index, spec in enumerate(specs):
        path: FieldPath = ("transferPricing", index)
        if spec.family in declared:
            problems.append(((*path, "family"), f"family {spec.family!r} already has a markup"))
        if not Decimal(0) <= spec.markup <= 1:
            problems.append(((*path, "markup"), f"expected a share in [0, 1], like '0.10', got '{spec.markup}'"))
        declared.add(spec.family)
        markups[spec.family] = spec.markup
    if problems:
        raise SpecProblemsError(problems)
    return TransferPolicy(markups)

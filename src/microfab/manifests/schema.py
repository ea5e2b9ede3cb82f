"""Pydantic models of each kind's ``spec``: camelCase keys, unknown keys forbidden, strict types.

These models are the edge between YAML and the domain: they check shapes and parse quantities,
and `microfab.manifests.mapping` turns them into domain dataclasses. Each field's description
is what a "missing field" error tells the operator to write.
"""

from __future__ import annotations

import difflib
from decimal import Decimal
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

from microfab.domain.entities import Scheme
from microfab.domain.formula import Formula, FormulaError
from microfab.domain.formula import parse as parse_formula
from microfab.manifests import entity_mapping
from microfab.manifests.fields import (
    Country,
    Currency,
    DateText,
    DecimalNumber,
    DurationText,
    Locale,
    PositiveDecimal,
    PositiveDuration,
    Price,
    Share,
    TimeZone,
    Values,
    fail,
    parse_positive_duration,
)


class SpecModel(BaseModel):
    """Base of every spec model: camelCase aliases, ``extra="forbid"``, strict scalar types, frozen."""

    model_config = ConfigDict(extra="forbid", strict=True, alias_generator=to_camel, frozen=True)


class FxRateSpec(SpecModel):
    """``fxRates[]``: 1 *base* = *rate* *quote*."""

    base: Currency = Field(description="an ISO 4217 code like 'USD'")
    quote: Currency = Field(description="an ISO 4217 code like 'EUR'")
    rate: PositiveDecimal = Field(description="units of quote per unit of base, like '0.92'")
    as_of: DateText = Field(description="the rate's date, like 2026-11-02")
    source: str = "manifest"
    valid_until: DateText | None = None


class ClaimPolicySpec(SpecModel):
    """``claims``: thresholds of origin claims as shares, like '0.05'."""

    ftc_foreign_share_max: DecimalNumber = Field(default=Decimal("0.02"), validate_default=True)
    california_foreign_share_max: DecimalNumber = Field(default=Decimal("0.05"), validate_default=True)
    california_unavailable_share_max: DecimalNumber = Field(default=Decimal("0.10"), validate_default=True)


class TransferMarkupSpec(SpecModel):
    """``transferPricing[]``: the markup on cost when one entity sells a product family to another."""

    family: str = Field(description="a product family like 'stands', or '*' for every other")
    markup: DecimalNumber = Field(description="a share of the cost like '0.10'")


class NetworkSpec(SpecModel):
    """``kind: Network``."""

    base_currency: Currency = Field(description="the currency reports are kept in, like 'USD'")
    fx_rates: list[FxRateSpec] = []
    description: str = ""
    quote_validity: PositiveDuration | None = Field(default=None, description="how long a quote holds, like '72h'")
    claims: ClaimPolicySpec = ClaimPolicySpec()
    transfer_pricing: list[TransferMarkupSpec] = []


class SiteSpec(SpecModel):
    """``kind: Site``."""

    country: Country = Field(description="an ISO 3166-1 alpha-2 code like 'MX'")
    region: str = Field(description="a region like 'Nuevo León'")
    timezone: TimeZone = Field(description="an IANA time zone like 'America/Monterrey'")
    currency: Currency = Field(description="an ISO 4217 code like 'MXN'")
    container_slots: int = Field(ge=0, description="how many container slots the site has, like 12")
    subdivision: str | None = Field(default=None, description="the ISO 3166-2 subdivision for holidays, like 'BY'")
    entity: str = Field(default="", description="the Entity that operates the site, like 'microfab-de'")


def _parse_scheme(value: Any) -> Scheme:
    """A registration scheme by its value (``us-ein``), with a suggestion for a misspelling."""
    schemes = [s.value for s in Scheme]
    if isinstance(value, str) and value in schemes:
        return Scheme(value)
    close = difflib.get_close_matches(str(value), schemes, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise fail("scheme", f"expected a registration scheme, one of {', '.join(schemes)}; got {value!r}{hint}")


def _parse_tax_number(value: Any) -> str:
    """A tax number as quoted text: YAML reads unquoted digits as a number and drops leading zeros."""
    if isinstance(value, str):
        return value
    raise fail("text_type", f"expected the number as quoted text like '0100233488', got {value!r}")


SchemeText = Annotated[Scheme, PlainValidator(_parse_scheme)]
TaxNumberText = Annotated[str, PlainValidator(_parse_tax_number)]


class AddressSpec(SpecModel):
    """``address``: street, postal code, city and region; the country is the entity's."""

    street: str = Field(description="the street and number, like 'Leopoldstraße 120'")
    postal_code: str = Field(description="the postal code, like '80802'")
    city: str = Field(description="the city, like 'München'")
    region: str = ""


class RegistrationSpec(SpecModel):
    """``registrations[]``: a tax registration, checked offline (python-stdnum) and stored compacted.

    ``region`` is validated before ``number`` (field order), so the number check can use it.
    """

    scheme: SchemeText = Field(description="a registration scheme like 'us-ein'")
    region: str = Field(default="", validate_default=True)
    number: TaxNumberText = Field(description="the registration number, like '12-3456789'")

    @field_validator("region")
    @classmethod
    def _region(cls, value: str, info: ValidationInfo) -> str:
        scheme = info.data.get("scheme")
        if not isinstance(scheme, Scheme):
            return value
        try:
            return entity_mapping.check_region(scheme, value)
        except ValueError as exc:
            raise fail("region", str(exc)) from None

    @field_validator("number")
    @classmethod
    def _number(cls, value: str, info: ValidationInfo) -> str:
        scheme = info.data.get("scheme")
        if not isinstance(scheme, Scheme):
            return value
        try:
            return entity_mapping.check_number(scheme, value, info.data.get("region", ""))
        except ValueError as exc:
            raise fail("tax_number", str(exc)) from None


class InvoiceSeriesSpec(SpecModel):
    """``invoiceSeries[]``: a gapless numbering series."""

    name: str = Field(description="the series' name, like 'invoice' or 'credit'")
    prefix: str = Field(description="the printed prefix, like 'RE'")
    pattern: str = "{prefix}-{year}-{number:06d}"
    yearly: bool = True


class EntitySpec(SpecModel):
    """``kind: Entity``: a legal entity that sells in markets or operates sites."""

    legal_name: str = Field(min_length=1, description="the registered name, like 'Microfab Deutschland GmbH'")
    country: Country = Field(description="an ISO 3166-1 alpha-2 code like 'DE'")
    address: AddressSpec = Field(description="a mapping {street, postalCode, city, region}")
    currency: Currency = Field(description="the currency the entity keeps its books in, like 'EUR'")
    email: str = ""
    registrations: list[RegistrationSpec] = Field(
        description="a list of tax registrations {scheme, number}, like [{scheme: us-ein, number: '12-3456789'}]"
    )
    invoice_series: list[InvoiceSeriesSpec] = []


class BrandSpec(SpecModel):
    """``brands[]``: how the market's entity presents itself in one locale."""

    locale: Locale = Field(description="a BCP 47 locale like 'de-DE'")
    name: str = Field(description="the brand name in that locale, like 'Microfab Deutschland'")
    tagline: str = ""
    support: str = ""
    legal_footer: str = ""


class MarketSpec(SpecModel):
    """``kind: Market``."""

    country: Country = Field(description="an ISO 3166-1 alpha-2 code like 'MX'")
    locale: Locale = Field(description="a BCP 47 locale like 'es-MX'")
    currency: Currency = Field(description="an ISO 4217 code like 'MXN'")
    timezone: TimeZone = Field(default="UTC", description="an IANA time zone like 'America/Mexico_City'")
    tax_jurisdiction: str = Field(default="", description="a tax jurisdiction like 'US-OH' (default: the country)")
    entity: str = Field(default="", description="the Entity that sells in the market, like 'microfab-de'")
    brands: list[BrandSpec] = []


class LaneSpec(SpecModel):
    """``kind: Lane``: transport from a site to a market."""

    from_: str = Field(alias="from", description="the Site the lane starts at")
    to: str = Field(description="the Market the lane reaches")
    lead_time: DurationText = Field(description="a duration like '2d'")
    cost_per_kg: Price = Field(description="money like '1.20 USD'")
    open: bool = True


class ModuleTypeSpec(SpecModel):
    """``kind: ModuleType``: a container design."""

    capabilities: list[str] = Field(min_length=1, description="a list of capabilities like [mill, drill]")
    speed: PositiveDecimal = Field(default=1, validate_default=True)
    setup_time: DurationText = Field(description="a duration like '15m'")
    mtbf: PositiveDuration = Field(description="a duration like '300h'")
    mttr: DurationText = Field(description="a duration like '2h'")
    yield_rate: Share = Field(alias="yield", description="a share of good parts in (0, 1], like '0.99'")
    cost_per_hour: Price = Field(description="money like '85 USD'")
    deploy_lead_time: DurationText = Field(description="a duration like '30d'")
    slots: int = Field(default=1, ge=1)
    failure_clock: Literal["calendar", "busy"] = Field(default="calendar", description="'calendar' or 'busy'")
    repair_policy: Literal["resume", "restart"] = Field(default="resume", description="'resume' or 'restart'")
    capex_per_month: Price | None = Field(default=None, description="money per container-month like '4200 USD'")
    deploy_cost: Price | None = Field(
        default=None, description="one-off money to build and commission like '18000 USD'"
    )


class ModuleSpec(SpecModel):
    """``kind: Module``: one deployed module, or ``replicas`` of them named ``<name>-1..N``."""

    module_type: str = Field(alias="type", description="the ModuleType it runs")
    site: str = Field(description="the Site it is deployed at")
    endpoint: str | None = None
    replicas: int | None = Field(default=None, ge=1)


def _parse_formula(value: Any) -> Formula:
    """Parse a product formula (text or a number); fail with what the language forbids."""
    try:
        return parse_formula(value)
    except FormulaError as exc:
        raise fail("formula", f"expected a formula in the product language: {exc}") from None


def _parse_duration_formula(value: Any) -> Formula:
    """A duration like ``'12m'`` (a constant) or a formula giving minutes."""
    if isinstance(value, str) and value.strip() and value.strip()[-1] in "smhd" and value.strip()[0].isdigit():
        duration = parse_positive_duration(value)
        return parse_formula(str(Decimal(duration.seconds) / 60))
    return _parse_formula(value)


FormulaText = Annotated[Formula, PlainValidator(_parse_formula)]
DurationFormula = Annotated[Formula, PlainValidator(_parse_duration_formula)]
ConfigValueText = str | bool | int


class OptionSpec(SpecModel):
    """``options[]``: an ``enum``, ``int``, ``bool`` or ``text`` option."""

    name: str = Field(description="the option's name, like 'finish'")
    type: Literal["enum", "int", "bool", "text"] = Field(description="one of enum, int, bool, text")
    label: str = ""
    default: ConfigValueText | None = None
    values: list[str] | None = None
    labels: dict[str, str] = {}
    min: int | None = None
    max: int | None = None
    step: int = Field(default=1, ge=1)
    unit: str = ""
    min_len: int = Field(default=0, ge=0)
    max_len: int | None = Field(default=None, ge=0)
    charset: str = ""


class DerivedSpec(SpecModel):
    """``derived[]``: a named integer value over the options."""

    name: str = Field(description="the value's name, like 'engrave_chars'")
    formula: FormulaText = Field(description="a formula like 'len(engraving)'")


class RuleSpec(SpecModel):
    """``rules[]``: a ``table``, ``implies`` or ``linear`` rule with an id and a message template."""

    id: str = Field(description="the rule's id, like 'usb-hub-needs-aluminium'")
    type: Literal["table", "implies", "linear"] = Field(description="one of table, implies, linear")
    message: str = Field(description="a message like 'a USB hub needs aluminium, not {material}'")
    options: list[str] = []
    rows: list[list[ConfigValueText]] = []
    when: list[FormulaText] = []
    then: FormulaText | None = None
    expr: FormulaText | None = None


class RoutingStepSpec(SpecModel):
    """``routing[]``."""

    name: str = Field(description="the step's name, like 'cut'")
    capability: str = Field(description="the capability it needs, like 'laser-cut'")
    duration: DurationFormula = Field(description="a standard time like '12m' or a formula in minutes")
    family: str = ""
    when: FormulaText | None = None
    confers_origin: bool = False
    significant: bool = False
    essential: bool = False


class BomLineSpec(SpecModel):
    """``bom[]``."""

    item: str = Field(description="the material, like 'aluminium-sheet-3mm'")
    quantity: FormulaText = Field(description="a number or a formula like 'width * 0.004'")
    unit: str = Field(description="a unit like 'kg' or 'pcs'")
    unit_cost: Price = Field(description="money like '4.20 USD'")
    origin: Country | None = None
    hs_code: str = ""
    when: FormulaText | None = None
    indirect: bool = False
    essential: bool = False
    unavailable_domestically: bool = False
    preferential: bool = False


class ProductSpec(SpecModel):
    """``kind: Product``: a parametric product."""

    family: str = Field(description="the setup family, like 'stands'")
    description: str = ""
    currency: Currency = Field(description="the currency of the price formula, like 'USD'")
    price: FormulaText = Field(description="a list-price formula like '89 + (width - 300) / 10'")
    mass: FormulaText = Field(description="a shipping-mass formula in kg like '1.2 + width / 1000'")
    options: list[OptionSpec] = []
    derived: list[DerivedSpec] = []
    rules: list[RuleSpec] = []
    routing: list[RoutingStepSpec] = Field(min_length=1, description="a list of {name, capability, duration}")
    bom: list[BomLineSpec] = []
    hs_code: str = Field(default="", description="the finished good's HS code, like '7616.99'")
    tax_category: str = Field(default="general", description="the product's tax category, like 'metal-products'")


class TaxRateSpec(SpecModel):
    """``rates[]``: a tax rate for a product tax category (``*``: every other) over a period."""

    category: str = Field(description="a product tax category like 'reduced', or '*' for every other")
    rate: DecimalNumber = Field(description="a share like '0.19'")
    from_: DateText = Field(alias="from", description="the first day in force, like 2007-01-01")
    until: DateText | None = None
    label: str = ""
    note: str = ""


class PriceDisplaySpec(SpecModel):
    """``display``: prices shown tax-inclusive or exclusive, to consumers and to businesses."""

    b2c: Literal["inclusive", "exclusive"] = Field(default="exclusive", alias="b2c")
    b2b: Literal["inclusive", "exclusive"] = Field(default="exclusive", alias="b2b")


class TaxJurisdictionSpec(SpecModel):
    """``kind: TaxJurisdiction``: the consumption tax of a country or subdivision."""

    code: str = Field(description="a country, or country-subdivision like 'US-OH'")
    tax_name: str = Field(description="the tax's local name, like 'USt' or 'IVA'")
    display: PriceDisplaySpec = PriceDisplaySpec()
    rounding: Literal["half-up", "half-even", "down", "up"] = "half-up"
    rounding_level: Literal["line", "document"] = "line"
    import_vat: bool = Field(default=True, description="whether imports pay this tax (false for US sales tax)")
    rates: list[TaxRateSpec] = Field(min_length=1, description="a list of {category, rate, from}")


class TariffLineSpec(SpecModel):
    """``lines[]``: the MFN duty of an HS prefix."""

    hs: str = Field(description="an HS code or prefix like '7616.99' or '76', or '*'")
    mfn: DecimalNumber = Field(description="an ad-valorem share like '0.025'")
    from_: DateText | None = Field(default=None, alias="from")
    until: DateText | None = None


class ExtraDutySpec(SpecModel):
    """``extra[]``: a duty stacked on MFN by HS prefix and origin."""

    name: str = Field(description="the measure's name, like 'Section 301 (China)'")
    rate: DecimalNumber = Field(description="an ad-valorem share like '0.25'")
    hs: Values = ["*"]
    origins: Values = ["*"]
    from_: DateText | None = Field(default=None, alias="from")
    until: DateText | None = None
    exempt_under: Values = []


class TariffSpec(SpecModel):
    """``kind: Tariff``: the import duties of a customs territory."""

    countries: Values = Field(min_length=1, description="the countries of the territory, like [DE, FR]")
    basis: Literal["FOB", "CIF"] = Field(description="the customs value basis, FOB or CIF")
    currency: Currency = Field(description="the currency duties are assessed in, like 'EUR'")
    lines: list[TariffLineSpec] = []
    extra: list[ExtraDutySpec] = []


class OriginRuleSpec(SpecModel):
    """``rules[]``: a product-specific rule of origin."""

    hs: str = Field(description="an HS prefix like '7616', or '*'")
    combine: Literal["shift", "value", "shift-or-value", "shift-and-value"] = Field(
        description="one of shift, value, shift-or-value, shift-and-value"
    )
    shift: Literal["chapter", "heading", "subheading"] | None = None
    shift_except: Values = []
    values: dict[Literal["transaction-value", "net-cost", "build-down", "build-up", "maxnom"], DecimalNumber] = {}


class TradeAgreementSpec(SpecModel):
    """``kind: TradeAgreement``: members, origin rules, de minimis; named ``metadata.name`` in capitals."""

    members: Values = Field(min_length=2, description="the member countries, like [US, MX, CA]")
    de_minimis: DecimalNumber = Field(default=Decimal("0.10"), validate_default=True)
    de_minimis_base: Literal["transaction-value", "ex-works"] = "transaction-value"
    preferential_rate: DecimalNumber = Field(default=Decimal(0), validate_default=True)
    from_: DateText | None = Field(default=None, alias="from")
    until: DateText | None = None
    rules: list[OriginRuleSpec] = Field(min_length=1, description="a list of {hs, combine, ...}")


SPEC_MODELS: Final[dict[str, type[SpecModel]]] = {
    "Network": NetworkSpec,
    "Site": SiteSpec,
    "Entity": EntitySpec,
    "Market": MarketSpec,
    "Lane": LaneSpec,
    "ModuleType": ModuleTypeSpec,
    "Module": ModuleSpec,
    "Product": ProductSpec,
    "TaxJurisdiction": TaxJurisdictionSpec,
    "Tariff": TariffSpec,
    "TradeAgreement": TradeAgreementSpec,
}
"""The spec model of each kind."""

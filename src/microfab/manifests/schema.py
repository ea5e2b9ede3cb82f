"""Pydantic models of each kind's ``spec``: camelCase keys, unknown keys forbidden, strict types.

These models are the edge between YAML and the domain: they check shapes and parse quantities,
and `microfab.manifests.mapping` turns them into domain dataclasses. Each field's description
is what a "missing field" error tells the operator to write.
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from microfab.manifests.fields import (
    Country,
    Currency,
    DateText,
    DurationText,
    Locale,
    MassText,
    MoneyText,
    PositiveDecimal,
    PositiveDuration,
    Price,
    Share,
    TimeZone,
    Values,
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


class NetworkSpec(SpecModel):
    """``kind: Network``."""

    base_currency: Currency = Field(description="the currency reports are kept in, like 'USD'")
    fx_rates: list[FxRateSpec] = []
    description: str = ""


class SiteSpec(SpecModel):
    """``kind: Site``."""

    country: Country = Field(description="an ISO 3166-1 alpha-2 code like 'MX'")
    region: str = Field(description="a region like 'Nuevo León'")
    timezone: TimeZone = Field(description="an IANA time zone like 'America/Monterrey'")
    currency: Currency = Field(description="an ISO 4217 code like 'MXN'")
    container_slots: int = Field(ge=0, description="how many container slots the site has, like 12")


class MarketSpec(SpecModel):
    """``kind: Market``."""

    country: Country = Field(description="an ISO 3166-1 alpha-2 code like 'MX'")
    locale: Locale = Field(description="a BCP 47 locale like 'es-MX'")
    currency: Currency = Field(description="an ISO 4217 code like 'MXN'")


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


class ModuleSpec(SpecModel):
    """``kind: Module``: one deployed module, or ``replicas`` of them named ``<name>-1..N``."""

    module_type: str = Field(alias="type", description="the ModuleType it runs")
    site: str = Field(description="the Site it is deployed at")
    endpoint: str | None = None
    replicas: int | None = Field(default=None, ge=1)


class ChoiceSpec(SpecModel):
    """``options[].choices[]``."""

    value: str = Field(description="the value, like 'anodized-black'")
    label: str = ""
    price_delta: MoneyText | None = None
    mass_delta: MassText | None = None


class OptionSpec(SpecModel):
    """``options[]``."""

    name: str = Field(description="the option's name, like 'finish'")
    default: str = Field(description="one of the choices' values")
    choices: list[ChoiceSpec] = Field(min_length=1, description="a list of {value, label} choices")


class RoutingStepSpec(SpecModel):
    """``routing[]``."""

    name: str = Field(description="the step's name, like 'cut'")
    capability: str = Field(description="the capability it needs, like 'laser-cut'")
    duration: PositiveDuration = Field(description="a standard time like '12m'")
    when: dict[str, Values] = {}


class BomLineSpec(SpecModel):
    """``bom[]``."""

    item: str = Field(description="the material, like 'aluminium-sheet-3mm'")
    quantity: PositiveDecimal = Field(description="a number like '0.8'")
    unit: str = Field(description="a unit like 'kg' or 'pcs'")
    when: dict[str, Values] = {}


class ProductSpec(SpecModel):
    """``kind: Product``."""

    family: str = Field(description="the setup family, like 'stands'")
    description: str = ""
    list_price: Price = Field(description="money like '89 USD'")
    mass: MassText = Field(description="a mass like '1.8 kg'")
    options: list[OptionSpec] = []
    routing: list[RoutingStepSpec] = Field(min_length=1, description="a list of {name, capability, duration}")
    bom: list[BomLineSpec] = []


SPEC_MODELS: Final[dict[str, type[SpecModel]]] = {
    "Network": NetworkSpec,
    "Site": SiteSpec,
    "Market": MarketSpec,
    "Lane": LaneSpec,
    "ModuleType": ModuleTypeSpec,
    "Module": ModuleSpec,
    "Product": ProductSpec,
}
"""The spec model of each kind."""

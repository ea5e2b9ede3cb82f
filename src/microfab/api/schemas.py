"""Request and response bodies (``XCreate`` in, ``XPublic`` out); money as decimal strings, never floats."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from microfab.domain.buyers import Buyer
from microfab.domain.entities import Address
from microfab.domain.network import Network
from microfab.domain.orders import Order
from microfab.domain.quantities import Money

T = TypeVar("T")
_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_LOCALE = r"^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$"
_CURRENCY = r"^[A-Za-z]{3}$"
_JURISDICTION = r"^[A-Za-z]{2}(-[A-Za-z0-9]{1,20}){0,3}$"


class MoneyPublic(BaseModel):
    """An exact amount: decimal string and ISO 4217 code."""

    amount: str = Field(examples=["92.92"])
    currency: str = Field(examples=["EUR"])

    @classmethod
    def of(cls, money: Money) -> MoneyPublic:
        """From domain money, rounded to the currency's minor unit."""
        rounded = money.quantize()
        return cls(amount=str(rounded.amount), currency=rounded.currency)


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` as ``cursor`` for the next one (None at the end)."""

    items: list[T]
    next_cursor: str | None = None


class SitePublic(BaseModel):
    """A site and what its modules can do."""

    name: str
    country: str
    region: str
    timezone: str
    currency: str
    container_slots: int
    modules: int
    capabilities: list[str]

    @classmethod
    def list_of(cls, network: Network) -> list[SitePublic]:
        """Every site of *network*."""
        return [
            cls(
                name=s.name,
                country=s.country,
                region=s.region,
                timezone=s.timezone,
                currency=s.currency,
                container_slots=s.container_slots,
                modules=len(network.modules_at(s.name)),
                capabilities=sorted(network.capabilities_at(s.name)),
            )
            for s in network.sites.values()
        ]


class ModulePublic(BaseModel):
    """A module, its type and its last known condition."""

    name: str
    module_type: str
    site: str
    capabilities: list[str]
    state: str


class ProductPublic(BaseModel):
    """A product with its options (name, values, default)."""

    name: str
    family: str
    description: str
    list_price: MoneyPublic
    options: list[dict[str, Any]]


class AddressIn(BaseModel):
    """A postal address."""

    model_config = ConfigDict(extra="forbid")

    street: str = Field(min_length=1, max_length=200)
    postal_code: str = Field(min_length=1, max_length=20)
    city: str = Field(min_length=1, max_length=100)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2.")
    region: str = Field(default="", max_length=100)


class BuyerIn(BaseModel):
    """Who the invoice names: legal name, address, tax numbers by scheme (``de-vat-id``, ``vat-id``, ``mx-rfc`` …)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    address: AddressIn
    tax_ids: dict[str, str] = Field(default_factory=dict, max_length=8)
    email: str = Field(default="", max_length=200)
    mx_regimen: str = Field(default="", max_length=3, description="SAT c_RegimenFiscal, like 601 (Mexican buyers).")
    mx_uso_cfdi: str = Field(default="", max_length=4, description="SAT c_UsoCFDI, like G03 (Mexican buyers).")

    def to_domain(self) -> Buyer:
        """The domain buyer."""
        a = self.address
        return Buyer(
            self.name,
            Address(a.street, a.postal_code, a.city, a.country, a.region),
            dict(self.tax_ids),
            self.email,
            self.mx_regimen,
            self.mx_uso_cfdi,
        )


class OrderCreate(BaseModel):
    """Place an order. Customers may omit ``customer`` and ``market``: their key fixes them."""

    model_config = ConfigDict(extra="forbid")

    product: str = Field(pattern=_NAME, max_length=63)
    market: str | None = Field(default=None, pattern=_NAME, max_length=63)
    quantity: int = Field(ge=1, le=10_000)
    config: dict[str, str | int | bool] = Field(default_factory=dict, max_length=64)
    customer: str | None = Field(default=None, min_length=1, max_length=100)
    due: AwareDatetime | None = None
    locale: str | None = Field(default=None, pattern=_LOCALE, max_length=35, description="Default: the market's.")
    currency: str | None = Field(default=None, pattern=_CURRENCY, description="ISO 4217; default: the market's.")
    tax_jurisdiction: str | None = Field(
        default=None, pattern=_JURISDICTION, max_length=63, description="Like DE or US-NY-NYC; default: the market's."
    )
    b2b: bool = Field(default=False, description="A business buyer (prices per the jurisdiction's b2b display).")
    buyer: BuyerIn | None = Field(default=None, description="Bill-to details the invoice prints (required for B2B).")


class UnitPublic(BaseModel):
    """A unit and where it is."""

    serial: str
    status: str


class OrderPublic(BaseModel):
    """An order as its customer sees it."""

    id: str
    customer: str
    product: str
    config: dict[str, str | int | bool]
    quantity: int
    market: str
    status: str
    unit_price: MoneyPublic
    total: MoneyPublic
    placed_at: datetime
    due: datetime
    site: str | None
    shipped_at: datetime | None
    eta: datetime | None
    delivered_at: datetime | None
    on_time: bool | None
    units: list[UnitPublic]
    tax: MoneyPublic | None = Field(
        default=None, description="Tax on the net total as quoted (in placement responses; null elsewhere)."
    )
    tax_jurisdiction: str | None = Field(default=None, description="The jurisdiction taxed (in placement responses).")

    @classmethod
    def of(cls, order: Order, *, tax: Money | None = None, tax_jurisdiction: str | None = None) -> OrderPublic:
        """From the domain order (and, when placing, the tax its quote charged)."""
        return cls(
            id=order.id,
            customer=order.customer,
            product=order.product,
            config=order.config,
            quantity=order.quantity,
            market=order.market,
            status=order.status.value,
            unit_price=MoneyPublic.of(order.unit_price),
            total=MoneyPublic.of(order.total),
            placed_at=order.placed_at,
            due=order.due,
            site=order.site,
            shipped_at=order.shipped_at,
            eta=order.eta,
            delivered_at=order.delivered_at,
            on_time=order.on_time,
            units=[UnitPublic(serial=u.serial, status=u.status.value) for u in order.units.values()],
            tax=_money_or_none(tax or order.tax),
            tax_jurisdiction=tax_jurisdiction or order.tax_jurisdiction or None,
        )


def _money_or_none(money: Money | None) -> MoneyPublic | None:
    return None if money is None else MoneyPublic.of(money)


class PassportStep(BaseModel):
    """One step of a unit's passport."""

    operation_id: str
    step: str
    capability: str
    module: str | None
    started_at: datetime | None
    completed_at: datetime | None
    attempts: int
    good: bool | None


class PassportPublic(BaseModel):
    """A unit's digital passport."""

    serial: str
    order_id: str
    product: str
    config: dict[str, str | int | bool]
    site: str | None
    status: str
    steps: list[PassportStep]
    shipped_at: datetime | None
    delivered_at: datetime | None


class EventPublic(BaseModel):
    """A recorded event."""

    position: int
    stream: str
    version: int
    type: str
    at: datetime
    data: dict[str, Any]


class KeyCreate(BaseModel):
    """Issue an API key."""

    model_config = ConfigDict(extra="forbid")

    role: str = Field(pattern="^(customer|operator|planner|admin)$")
    customer: str | None = Field(default=None, min_length=1, max_length=100)
    market: str | None = Field(default=None, pattern=_NAME, max_length=63)
    label: str = Field(default="", max_length=200)


class KeyPublic(BaseModel):
    """An API key's identity; ``secret`` appears once, in the response that created it."""

    key_id: str
    role: str
    customer: str | None
    market: str | None
    label: str
    revoked: bool = False
    secret: str | None = None


class QuoteCreate(BaseModel):
    """Ask for a quote. Locale, currency and tax jurisdiction default to the market's, each on its own."""

    model_config = ConfigDict(extra="forbid")

    product: str = Field(pattern=_NAME, max_length=63)
    config: dict[str, str | int | bool] = Field(default_factory=dict, max_length=64)
    quantity: int = Field(ge=1, le=10_000)
    market: str | None = Field(
        default=None, pattern=_NAME, max_length=63, description="Required, except for a customer key bound to one."
    )
    locale: str | None = Field(default=None, pattern=_LOCALE, max_length=35, examples=["de-DE", "ja"])
    currency: str | None = Field(default=None, pattern=_CURRENCY, examples=["EUR"])
    tax_jurisdiction: str | None = Field(default=None, pattern=_JURISDICTION, max_length=63, examples=["US-NY-NYC"])
    b2b: bool = False


class FxPublic(BaseModel):
    """The exchange rate locked for the quote (list currency to quote currency)."""

    base: str
    quote: str
    rate: str = Field(examples=["0.92"])
    source: str
    as_of: date


class TaxPublic(BaseModel):
    """The tax line: its name in the jurisdiction (USt, 消費税, Sales tax), rate as a share, amount."""

    name: str
    rate: str = Field(examples=["0.19"])
    amount: str = Field(examples=["15.56"])


class DutyLinePublic(BaseModel):
    """One duty a site pays or its goods pay entering the market."""

    name: str
    rate: str
    amount: str
    exempt: bool
    reason: str


class ClaimPublic(BaseModel):
    """A "Made in …" claim indication and why."""

    name: str
    status: str
    reasons: list[str]


class SiteOfferPublic(BaseModel):
    """A site that can serve the quote: its landed cost (quote currency), lead time, origin and claims."""

    site: str
    country: str
    eligible: Literal[True]
    lane: str | None
    materials: str | None
    production: str | None
    freight: str | None
    duty: str | None
    duty_lines: list[DutyLinePublic]
    import_vat: str | None
    landed_cost: str | None
    production_days: int
    ship_date: date
    delivery: datetime
    agreement: str | None
    originating: bool
    origin_test: str | None
    non_preferential_origin: str | None
    claims: list[ClaimPublic]
    review_note: str


class IneligibleSitePublic(BaseModel):
    """A site that cannot serve the quote, and why."""

    site: str
    country: str
    eligible: Literal[False]
    reason: str


class QuotePublic(BaseModel):
    """A localized quote (the JSON of ``microfab quote --json``): amounts are decimal strings in ``currency``.

    ``net`` is unit_net x quantity, ``gross`` net plus tax, ``shown`` what the buyer's law wants as
    the price (``gross`` when ``display`` is inclusive, else ``net`` with tax as its own line).
    """

    product: str
    product_version: str
    config: dict[str, str | int | bool]
    quantity: int
    market: str
    locale: str = Field(examples=["de-DE"])
    warnings: list[str]
    currency: str = Field(examples=["EUR"])
    tax_jurisdiction: str = Field(examples=["DE"])
    b2b: bool
    at: datetime
    valid_until: datetime
    fx: FxPublic
    unit_net: str = Field(examples=["81.88"])
    net: str = Field(examples=["81.88"])
    tax: TaxPublic
    gross: str = Field(examples=["97.44"])
    display: Literal["inclusive", "exclusive"]
    shown: str = Field(examples=["97.44"])
    chosen_site: str
    sites: list[SiteOfferPublic | IneligibleSitePublic]


class ManifestErrorPublic(BaseModel):
    """One problem: a manifest error names its ``file``, 1-based ``line`` and ``column`` (0: the file as a whole).

    ``field`` is the dotted path in the document (``spec.replicas``; empty for YAML syntax errors).
    Errors about the request rather than a manifest (a header, say) have only ``field`` and ``message``.
    """

    file: str | None = Field(default=None, examples=["modules/ohio.yaml"])
    line: int | None = Field(default=None, examples=[13])
    column: int | None = Field(default=None, examples=[3])
    field: str = Field(examples=["spec.replicas"])
    message: str


class ManifestProblemPublic(BaseModel):
    """An RFC 9457 problem listing every error of the manifests at once, sorted by file then line."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[ManifestErrorPublic] | None = None


class ManifestValidationPublic(BaseModel):
    """Valid manifests: the network they declare and how many resources of each kind."""

    valid: Literal[True]
    network: str = Field(examples=["demo"])
    counts: dict[str, int] = Field(examples=[{"Network": 1, "Site": 5, "Module": 39}])
    modules: int = Field(description="Modules once ``replicas`` are expanded.")


class ManifestChangePublic(BaseModel):
    """One resource apply creates, changes or deletes."""

    kind: str = Field(examples=["Module"])
    name: str = Field(examples=["ohio-cnc-mill"])
    action: Literal["create", "change", "delete"]


class ModuleRetiredPublic(BaseModel):
    """A module apply retires, and the site it leaves."""

    module: str
    site: str


class ManifestPlanPublic(BaseModel):
    """What applying the manifests would do, against the network at ``base_version`` (also the ETag)."""

    base_version: int = Field(description="Version of the network stream the plan was made against.")
    empty: bool = Field(description="True when the manifests match the applied network: nothing to do.")
    changes: list[ManifestChangePublic]
    unchanged: int
    deploy: list[str] = Field(description="Modules to deploy (new, or moved to another type or site).")
    retire: list[ModuleRetiredPublic]


class ManifestApplyPublic(ManifestPlanPublic):
    """What apply recorded: the plan, the events written and the network's new version (also the ETag)."""

    applied: bool
    events: int
    version: int


class AlertPublic(BaseModel):
    """An alert raised by the escalation rules: what needs a person, and whether someone took it on."""

    alert_id: str
    kind: str = Field(examples=["repeated-faults"])
    subject: str = Field(examples=["ohio-cnc-mill-1"])
    message: str
    raised_at: datetime
    open: bool = Field(description="True while the condition holds.")
    acknowledged_by: str | None = None
    cleared_at: datetime | None = None
    cleared_because: str = ""


class AlertAcknowledge(BaseModel):
    """Take an alert on; ``by`` defaults to the key's label or id."""

    model_config = ConfigDict(extra="forbid")

    by: str | None = Field(default=None, min_length=1, max_length=120)


class OeePublic(BaseModel):
    """ISO 22400-2 figures of a module or a site over the window (ratios 0..1, null when undefined)."""

    name: str
    availability: float | None
    effectiveness: float | None
    quality: float | None
    oee: float | None
    utilisation: float | None
    produced: int
    good: int
    faults: int
    mtbf_h: float | None
    mttr_h: float | None
    down_h: float


class DeliveryPublic(BaseModel):
    """Orders over the window and how many arrived on time."""

    orders: int
    delivered: int
    on_time: int
    on_time_rate: float | None
    shipped: int
    in_production: int
    lead_time_median_h: float | None
    lead_time_p90_h: float | None


class DowntimePublic(BaseModel):
    """One bar of the downtime Pareto: a module and a reason."""

    module: str
    reason: str
    faults: int
    hours: float
    cumulative_share: float


class KpiPublic(BaseModel):
    """The KPI report over ``[start, end]``: delivery, OEE per site and module, downtime by reason."""

    start: datetime
    end: datetime
    site: str | None
    delivery: DeliveryPublic
    sites: list[OeePublic]
    modules: list[OeePublic]
    downtime: list[DowntimePublic]


class GanttBarPublic(BaseModel):
    """One bar: planned (``kind`` = planned) or what actually ran (setup, processing, scrap, down)."""

    module: str
    start: datetime
    end: datetime
    kind: str
    label: str
    order_id: str = ""


class SchedulePublic(BaseModel):
    """A site's last recorded schedule (planned) beside what actually ran over the KPI window."""

    site: str
    made_at: datetime | None
    status: str | None
    objective: int | None
    lower_bound: int | None
    planned: list[GanttBarPublic]
    actual: list[GanttBarPublic]


class ConfigIn(BaseModel):
    """A (partial) configuration: option name -> value; options left out are open (or defaulted, to check)."""

    model_config = ConfigDict(extra="forbid")

    config: dict[str, str | int | bool] = Field(default_factory=dict, max_length=64)


class RuleMessage(BaseModel):
    """A product rule and its message, rendered with the chosen values."""

    rule: str
    message: str


class ConflictPublic(BaseModel):
    """A minimal set of choices and rules that cannot hold together, and the nearest valid configuration."""

    choices: dict[str, str | int | bool]
    rules: list[RuleMessage]
    nearest: dict[str, str | int | bool] | None = None
    changed: list[str] = Field(default_factory=list, description="Options the nearest configuration changes.")


class ValidValuesPublic(BaseModel):
    """For every open option, exactly the values that still lead to a valid product (no dead ends)."""

    product: str
    chosen: dict[str, str | int | bool]
    valid: dict[str, list[str | int | bool]] = Field(
        description="Open options and their values that extend to a valid configuration; text options list "
        "their allowed lengths. Every list empty: the choices conflict (see ``conflict``)."
    )
    conflict: ConflictPublic | None = None


class CheckPublic(BaseModel):
    """Whether a configuration (defaults filled in) satisfies every rule."""

    product: str
    config: dict[str, str | int | bool]
    valid: bool
    violations: list[RuleMessage]


class BomLinePublic(BaseModel):
    """A material line of one unit."""

    item: str
    quantity: str = Field(description="Exact decimal.")
    unit: str
    unit_cost: MoneyPublic
    cost: MoneyPublic
    origin: str
    hs_code: str


class RoutingStepPublic(BaseModel):
    """A routing step of one unit at standard time."""

    name: str
    capability: str
    duration_s: int
    family: str


class DerivationPublic(BaseModel):
    """What a valid configuration means for the factory: BOM, routing, list price, material cost, mass."""

    product: str
    config: dict[str, str | int | bool]
    bom: list[BomLinePublic]
    routing: list[RoutingStepPublic]
    list_price: MoneyPublic
    material_cost: MoneyPublic
    mass_kg: str


class AllocationRequest(BaseModel):
    """Allocate the applied network's backlog (orders not started) over sites and time buckets."""

    model_config = ConfigDict(extra="forbid", strict=True)

    buckets: Literal["day", "shift"] = "day"
    horizon: int | None = Field(default=None, ge=1, le=180, description="Buckets (default 14 days or 42 shifts).")
    time_limit: float = Field(default=10.0, ge=0.1, le=120.0, description="Seconds for the solve.")
    gap: float = Field(default=0.01, ge=0.0, le=1.0, description="Relative gap to stop at.")


class JobPublic(BaseModel):
    """A planning job: queued, running, succeeded (with ``result``) or failed (with ``error``)."""

    id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed"]
    by: str
    submitted_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    result: dict[str, Any] | None = Field(default=None, description="The plan as JSON (only on the job itself).")
    error: str | None = None


class StressNodeIn(BaseModel):
    """A node of a stress test (``docs/stress-tests.md``): stock and capacity in units, times in days."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    id: str = Field(max_length=200, examples=["ohio"])
    kind: Literal["product", "part", "raw", "site"]
    inventory: float = Field(default=0.0, description="Units on hand.")
    pipeline: float = Field(default=0.0, description="Units on their way, arriving within the window.")
    capacity: float | None = Field(
        default=None,
        description="Units per day; null: unlimited. Required for raw and site; a product or part made from a BOM "
        "is unlimited when it is left out, a stock point 0.",
    )
    ttr_days: float = Field(description="Days to recover.")
    weight: float | None = Field(default=None, description="Products: money lost per unit of unmet demand.")


class StressBomLineIn(BaseModel):
    """*parent* consumes *qty* units of *part* per unit it makes."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    parent: str = Field(max_length=200)
    part: str = Field(max_length=200)
    qty: float


class StressSourceIn(BaseModel):
    """*supplier* may deliver *part* to *parent* instead of the part node itself."""

    model_config = ConfigDict(extra="forbid", strict=True)

    part: str = Field(max_length=200)
    parent: str = Field(max_length=200)
    supplier: str = Field(max_length=200)


class StressRequest(BaseModel):
    """A supply network to stress-test, as ``microfab plan stress --input`` reads it (``examples/stress``)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    nodes: list[StressNodeIn]  # lists are bounded by the request body's size limit
    demand: dict[str, float] = Field(description="Units per day by product.", examples=[{"laptop-stand": 40}])
    bom: list[StressBomLineIn]
    sources: list[StressSourceIn] = Field(default_factory=list)
    horizon_days: float = Field(default=90.0, description="Days the time to survive is capped at.")
    currency: str | None = Field(default=None, max_length=16, description="ISO 4217 code of the weights' money.")


PLAN_TEXT_CHARS = 80_000
"""Characters of a text a planning request carries (a forecast, a what-if file; the examples have 2,500).

So many fit the 1 MiB body limit of these routes however they are escaped (at most 12 bytes a
character in JSON): a text over the limit is always a 422 naming it, never a 413.
"""


class ExpansionRequest(BaseModel):
    """A demand forecast to plan the applied network's expansion for, and how hard to try."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    forecast: str = Field(
        min_length=1,
        max_length=PLAN_TEXT_CHARS,
        description="The forecast as YAML (or JSON) text, as `microfab plan expand --forecast` reads it "
        "(docs/expansion.md, examples/forecast/forecast.yaml).",
    )
    time_limit: float = Field(default=5.0, ge=0.1, le=120.0, description="Seconds for the MILP.")
    gap: float = Field(default=1e-4, ge=0.0, le=1.0, description="Relative gap to stop the MILP at.")
    replications: int = Field(default=2, ge=0, le=20, description="Twin replications checking the plan (0: none).")
    twin_periods: int | None = Field(default=None, ge=1, le=120, description="Simulate only the first N periods.")
    seed: int = Field(default=0, ge=0, le=2**31 - 1, description="Seed of sampled configurations and of the twin.")


class WhatIfRequest(BaseModel):
    """A what-if study of the applied network: the ``kind: WhatIf`` file as text, its seeds and MILP seconds."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    scenario: str = Field(
        min_length=1,
        max_length=PLAN_TEXT_CHARS,
        description="The what-if file as YAML text, as `microfab whatif SCENARIO.yaml` reads it (docs/whatif.md, "
        "examples/whatif/); the baseline is the applied network, so `spec.baseline` is refused.",
    )
    seeds: int | None = Field(
        default=None, ge=1, le=20, description="Replications (seeds 1..N) instead of the file's `spec.seeds`."
    )
    time_limit: float | None = Field(
        default=None,
        ge=0.1,
        le=30.0,
        description="Seconds for each run's allocation MILP instead of the file's `spec.allocation.timeLimit`.",
    )

"""Request and response bodies (``XCreate`` in, ``XPublic`` out); money as decimal strings, never floats."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from microfab.domain.network import Network
from microfab.domain.orders import Order
from microfab.domain.quantities import Money

T = TypeVar("T")
_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


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


class OrderCreate(BaseModel):
    """Place an order. Customers may omit ``customer`` and ``market``: their key fixes them."""

    model_config = ConfigDict(extra="forbid")

    product: str = Field(pattern=_NAME, max_length=63)
    market: str | None = Field(default=None, pattern=_NAME, max_length=63)
    quantity: int = Field(ge=1, le=10_000)
    config: dict[str, str | int | bool] = Field(default_factory=dict, max_length=64)
    customer: str | None = Field(default=None, min_length=1, max_length=100)
    due: AwareDatetime | None = None


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

    @classmethod
    def of(cls, order: Order) -> OrderPublic:
        """From the domain order."""
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
        )


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

"""Orders: place (idempotent, rate limited), list, track; units and their passports."""

from __future__ import annotations

import hashlib
import time
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from microfab.api.deps import LockDep, PrincipalDep, ServicesDep
from microfab.api.problems import Problem, quote_problem
from microfab.api.schemas import OrderCreate, OrderPublic, Page, PassportPublic, PassportStep
from microfab.control import operations, queries
from microfab.control.bootstrap import Services
from microfab.control.state import order_stream
from microfab.domain.access import Principal, Role
from microfab.domain.commands import PlaceOrder
from microfab.domain.errors import DomainError, UnknownReferenceError
from microfab.domain.events import OrderPlaced
from microfab.domain.orders import Order
from microfab.domain.products import ProductTemplate

router = APIRouter(prefix="/v1", tags=["orders"])
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200, pattern=r"^[\x21-\x7e]+$")]


class RateLimiter:
    """A token bucket per key: *rate* placements a second, bursts up to *burst*."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str) -> float:
        """0 when allowed now, else the seconds to wait."""
        now = time.monotonic()
        tokens, since = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - since) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate
        self._buckets[key] = (tokens - 1, now)
        return 0.0


_REPLAYED = {200: {"model": OrderPublic, "description": "A replayed Idempotency-Key: the first result"}}


@router.post("/orders", response_model=OrderPublic, status_code=201, responses=_REPLAYED)  # type: ignore[arg-type]
async def place_order(
    body: OrderCreate,
    request: Request,
    response: Response,
    services: ServicesDep,
    lock: LockDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> OrderPublic:
    """Quote, allocate and record an order; nothing is written when any check fails.

    ``locale``, ``currency``, ``tax_jurisdiction`` and ``b2b`` are the buyer's choices, as for a
    quote; the response names the chosen ``site`` and the ``tax`` charged on the net ``total``.
    """
    customer, market = who(body, principal)
    wait = request.app.state.rate_limiter.allow(principal.key_id)
    if wait:
        raise Problem(
            429, "Too many requests", "order placement rate exceeded", headers={"Retry-After": str(max(1, round(wait)))}
        )
    order_id = idempotent_id(customer, idempotency_key) if idempotency_key else None
    cmd = PlaceOrder(
        customer,
        body.product,
        body.config,
        body.quantity,
        market,
        body.due,
        order_id,
        locale=body.locale,
        currency=body.currency,
        tax_jurisdiction=body.tax_jurisdiction,
        b2b=body.b2b,
        buyer=body.buyer.to_domain() if body.buyer is not None else None,
    )
    async with lock:
        services.state.catch_up(services.log)
        if order_id is not None and order_id in services.state.orders:
            response.status_code = 200
            first = services.state.orders[order_id]
            placed = _placed(services, order_id)
            _replayed(first, placed, cmd, services)
            return OrderPublic.of(
                first,
                tax=placed.tax if placed else None,
                tax_jurisdiction=placed.tax_jurisdiction if placed else None,
            )
        try:
            placement = operations.place(services, cmd)
        except (DomainError, ValueError) as exc:
            raise quote_problem(exc, unknown_status=422) from None
    response.headers["Location"] = f"/v1/orders/{placement.order.id}"
    priced = placement.quote
    return OrderPublic.of(placement.order, tax=priced.tax.tax, tax_jurisdiction=priced.tax_jurisdiction)


@router.get("/orders", response_model=Page[OrderPublic])
async def list_orders(
    services: ServicesDep,
    principal: PrincipalDep,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[OrderPublic]:
    """The orders the caller may see, by id."""
    orders = queries.orders_for(services.state, principal, after=cursor, limit=limit + 1)
    more = len(orders) > limit
    items = [OrderPublic.of(o) for o in orders[:limit]]
    return Page[OrderPublic](items=items, next_cursor=items[-1].id if more and items else None)


@router.get("/orders/{order_id}", response_model=OrderPublic)
async def get_order(order_id: str, services: ServicesDep, principal: PrincipalDep) -> OrderPublic:
    """One order (404 also when it belongs to someone else)."""
    try:
        return OrderPublic.of(queries.order_for(services.state, principal, order_id))
    except UnknownReferenceError as exc:
        raise Problem(404, "Not found", str(exc)) from None


@router.post("/orders/{order_id}/reorder", response_model=OrderPublic, status_code=201)
async def reorder(
    order_id: str, request: Request, response: Response, services: ServicesDep, lock: LockDep, principal: PrincipalDep
) -> OrderPublic:
    """Order the same configuration again (quoted afresh: today's prices, taxes, site and lead time)."""
    try:
        queries.order_for(services.state, principal, order_id)
    except UnknownReferenceError as exc:
        raise Problem(404, "Not found", str(exc)) from None
    wait = request.app.state.rate_limiter.allow(principal.key_id)
    if wait:
        raise Problem(
            429, "Too many requests", "order placement rate exceeded", headers={"Retry-After": str(max(1, round(wait)))}
        )
    async with lock:
        services.state.catch_up(services.log)
        try:
            placement = operations.place(services, operations.reorder_command(services, order_id))
        except (DomainError, ValueError) as exc:
            raise quote_problem(exc, unknown_status=422) from None
    response.headers["Location"] = f"/v1/orders/{placement.order.id}"
    return OrderPublic.of(
        placement.order, tax=placement.quote.tax.tax, tax_jurisdiction=placement.quote.tax_jurisdiction
    )


@router.get("/units/{serial}/passport", response_model=PassportPublic)
async def get_passport(serial: str, services: ServicesDep, principal: PrincipalDep) -> PassportPublic:
    """A unit's digital passport: which module did which step, when, with what result."""
    try:
        order = queries.unit_for(services.state, principal, serial)
    except UnknownReferenceError as exc:
        raise Problem(404, "Not found", str(exc)) from None
    unit = order.units[serial]
    steps = [
        PassportStep(
            operation_id=e.operation_id,
            step=e.step,
            capability=e.capability,
            module=e.module,
            started_at=e.started_at,
            completed_at=e.completed_at,
            attempts=e.attempts,
            good=e.good,
        )
        for e in unit.passport.values()
    ]
    return PassportPublic(
        serial=serial,
        order_id=order.id,
        product=order.product,
        config=order.config,
        site=order.site,
        status=unit.status.value,
        steps=steps,
        shipped_at=order.shipped_at,
        delivered_at=order.delivered_at,
    )


def who(body: OrderCreate, principal: Principal) -> tuple[str, str]:
    """The customer and market of the order: a customer key fixes both; staff must name them."""
    if principal.role is Role.CUSTOMER:
        assert principal.customer is not None
        if body.customer not in (None, principal.customer):
            raise Problem(
                403,
                "Forbidden",
                "a customer key places orders for its own customer only",
                errors=[{"field": "body.customer", "message": "must be omitted or your own"}],
            )
        market = body.market or principal.market
        if principal.market is not None and market != principal.market:
            raise Problem(
                403,
                "Forbidden",
                f"this key orders in market {principal.market!r} only",
                errors=[{"field": "body.market", "message": f"must be {principal.market}"}],
            )
        if market is None:
            raise Problem(
                422, "Invalid request", "market is required", errors=[{"field": "body.market", "message": "required"}]
            )
        return principal.customer, market
    if principal.role not in (Role.OPERATOR, Role.ADMIN):
        raise Problem(403, "Forbidden", "planners do not place orders")
    missing = [f for f in ("customer", "market") if getattr(body, f) is None]
    if missing:
        raise Problem(
            422,
            "Invalid request",
            f"{' and '.join(missing)} required for a staff key",
            errors=[{"field": f"body.{f}", "message": "required"} for f in missing],
        )
    assert body.customer is not None and body.market is not None
    return body.customer, body.market


def idempotent_id(customer: str, key: str) -> str:
    """The same (customer, Idempotency-Key) always names the same order."""
    return "ord-" + hashlib.sha256(f"{customer}\x00{key}".encode()).hexdigest()[:12]


def _placed(services: Services, order_id: str) -> OrderPlaced | None:
    """The event that placed the order: the buyer's terms the order itself does not keep (tax, b2b)."""
    recorded = services.log.read_stream(order_stream(order_id))
    first = recorded[0].event if recorded else None
    return first if isinstance(first, OrderPlaced) else None


def _replayed(order: Order, placed: OrderPlaced | None, cmd: PlaceOrder, services: Services) -> None:
    """Check a replayed key asks for what it asked first (the locale only formats: not compared); 422 if not."""
    product = services.state.network.products.get(cmd.product)
    same = (
        product is not None
        and (order.product, order.quantity, order.market) == (cmd.product, cmd.quantity, cmd.market)
        and order.config == _configured(product, cmd)
        and (placed is None or _same_terms(order, placed, cmd, services))
    )
    if not same:
        raise Problem(
            422,
            "Idempotency key reused",
            "this Idempotency-Key was used for a different request",
            errors=[{"field": "header.Idempotency-Key", "message": "reused with another body"}],
        )


def _same_terms(order: Order, placed: OrderPlaced, cmd: PlaceOrder, services: Services) -> bool:
    """The same currency, business or consumer, and tax jurisdiction (or one below the one recorded)."""
    market = services.state.network.markets.get(cmd.market)
    if market is None:
        return False
    currency = (cmd.currency or market.currency).upper()
    asked = (cmd.tax_jurisdiction or market.tax_jurisdiction).upper()
    recorded = placed.tax_jurisdiction.upper()
    same_jurisdiction = not recorded or asked == recorded or asked.startswith(recorded + "-")
    return currency == order.total.currency and placed.b2b == cmd.b2b and same_jurisdiction


def _configured(product: ProductTemplate, cmd: PlaceOrder) -> dict[str, str | int | bool] | None:
    try:
        return product.configure(cmd.config)
    except DomainError:
        return None

"""Ordering from the quote page: the configured, quoted product becomes an order, then its tracking page.

The form carries the page's configuration and a one-time token made when the page was drawn:
the token is the order's Idempotency-Key, so a double click or a resubmitted form places one
order. Customers order for themselves in their market; operators and admins name the customer.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from microfab.api.deps import LockDep, ServicesDep
from microfab.api.problems import Problem, quote_problem
from microfab.api.routes.orders import idempotent_id, who
from microfab.api.schemas import OrderCreate
from microfab.api.web import portal
from microfab.api.web.session import PagePrincipal
from microfab.control import operations
from microfab.domain.access import Principal, Role
from microfab.domain.commands import PlaceOrder
from microfab.domain.errors import DomainError

router = APIRouter(include_in_schema=False)
ORDER_PATH = "/quote/order"


def new_token() -> str:
    """A one-time token for the order form (the order's Idempotency-Key)."""
    return secrets.token_urlsafe(18)


def may_order(principal: Principal) -> bool:
    """Customers order for themselves; operators and admins for a customer they name; planners do not."""
    return principal.role in (Role.CUSTOMER, Role.OPERATOR, Role.ADMIN)


@router.post(ORDER_PATH)
async def order_from_quote(  # noqa: PLR0913, PLR0917 - the form's own fields
    request: Request,
    services: ServicesDep,
    lock: LockDep,
    principal: PagePrincipal,
    product: Annotated[str, Form(max_length=63)],
    market: Annotated[str, Form(max_length=63)],
    token: Annotated[str, Form(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    qty: Annotated[int, Form(ge=1, le=10_000)] = 1,
    ship_to: Annotated[str | None, Form(max_length=63)] = None,
    b2b: Annotated[bool, Form()] = False,
    customer: Annotated[str | None, Form(max_length=100)] = None,
    locale: Annotated[str | None, Form(max_length=35, pattern=r"^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$")] = None,
) -> Response:
    """Place the order the quote page shows and go to its tracking page."""
    if not may_order(principal):
        raise Problem(403, "Forbidden", "planners do not place orders")
    network = services.state.network
    chosen = network.products.get(product)
    if chosen is None:
        raise Problem(404, "Not found", f"unknown product {product!r}")
    form = await request.form()
    config = {o.name: str(form[portal.param(o.name)]) for o in chosen.options if portal.param(o.name) in form}
    try:
        body = OrderCreate(
            product=product,
            market=market,
            quantity=qty,
            config=config,
            customer=(customer or None) if principal.role is not Role.CUSTOMER else None,
            tax_jurisdiction=ship_to or None,
            locale=locale,
            b2b=b2b,
        )
    except ValidationError as exc:
        errors = [{"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()]
        raise Problem(422, "Invalid request", "the order form is invalid", errors=errors) from None
    buyer, where = who(body, principal)
    wait = request.app.state.rate_limiter.allow(principal.key_id)
    if wait:
        raise Problem(
            429, "Too many requests", "order placement rate exceeded", headers={"Retry-After": str(max(1, round(wait)))}
        )
    order_id = idempotent_id(buyer, token)
    async with lock:
        services.state.catch_up(services.log)
        if order_id not in services.state.orders:
            cmd = PlaceOrder(
                buyer,
                product,
                config,
                qty,
                where,
                order_id=order_id,
                locale=locale,
                tax_jurisdiction=ship_to or None,
                b2b=b2b,
            )
            try:
                operations.place(services, cmd)
            except (DomainError, ValueError) as exc:
                raise quote_problem(exc, unknown_status=422) from None
    return RedirectResponse(f"/orders/{order_id}", status_code=303)

"""Read models scoped to the caller: tenant isolation lives here, not in the routes.

A customer sees only its own orders (in its own market, when its key is bound to one);
another customer's order is indistinguishable from one that does not exist.
"""

from __future__ import annotations

from microfab.control.state import State
from microfab.domain.access import Principal, Role
from microfab.domain.errors import UnknownReferenceError
from microfab.domain.orders import Order


def visible(order: Order, principal: Principal) -> bool:
    """Whether *principal* may see *order*."""
    if principal.role is not Role.CUSTOMER:
        return principal.role in (Role.OPERATOR, Role.ADMIN, Role.PLANNER)
    if order.customer != principal.customer:
        return False
    return principal.market is None or order.market == principal.market


def orders_for(state: State, principal: Principal, *, after: str | None = None, limit: int = 50) -> list[Order]:
    """Orders *principal* may see, by id, starting after the id *after* (keyset pagination)."""
    ids = sorted(i for i, o in state.orders.items() if visible(o, principal) and (after is None or i > after))
    return [state.orders[i] for i in ids[:limit]]


def order_for(state: State, principal: Principal, order_id: str) -> Order:
    """One order, or `UnknownReferenceError` when it does not exist *or* is not the caller's."""
    order = state.orders.get(order_id)
    if order is None or not visible(order, principal):
        raise UnknownReferenceError("order", order_id)
    return order


def unit_for(state: State, principal: Principal, serial: str) -> Order:
    """The order holding unit *serial*, under the same rule."""
    order_id = serial.rsplit("-", 1)[0]
    order = order_for(state, principal, order_id)
    if serial not in order.units:
        raise UnknownReferenceError("unit", serial)
    return order

"""Placing an order: check, quote (which chooses the site), expand the routing, record — all or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from microfab.commerce import Quote, quote
from microfab.configurator import derive, validate
from microfab.control.state import State, order_stream
from microfab.domain.commands import PlaceOrder
from microfab.domain.errors import DomainError, InvalidConfigurationError
from microfab.domain.events import Event, OperationReleased, OrderAllocated, OrderPlaced
from microfab.domain.operations import operation_id
from microfab.domain.orders import Order
from microfab.domain.products import config_hash
from microfab.store.base import ConcurrencyError, EventLog

_ID_RETRIES = 20


@dataclass(frozen=True, slots=True)
class Placement:
    """What placing an order decided: the localized quote (with the chosen site) and the recorded order."""

    order: Order
    quote: Quote

    @property
    def site(self) -> str:
        """The site that makes the order."""
        return self.quote.chosen.site

    @property
    def promised(self) -> datetime:
        """The delivery time promised to the customer (the due date unless the command set one)."""
        assert self.quote.chosen.lead_time is not None
        return self.quote.chosen.lead_time.delivery


def place_order(cmd: PlaceOrder, *, state: State, log: EventLog, at: datetime) -> Placement:
    """Place *cmd* at time *at*; nothing is written unless every check passes.

    Raises
    ------
    UnknownReferenceError
        Unknown product or market.
    InvalidConfigurationError
        An option or value the product does not offer, or a configuration that breaks the
        product's rules (the message lists every violated rule).
    NoEligibleSiteError
        No site has every capability and an open lane to the market.
    """
    network = state.network
    product = network.product(cmd.product)
    market = network.market(cmd.market)
    violations = validate(product, cmd.config)
    if violations:
        listed = "; ".join(f"{v.rule_id}: {v.message}" for v in violations)
        raise InvalidConfigurationError(f"{product.name}: the configuration breaks {listed}")
    priced = quote(
        product,
        cmd.config,
        cmd.quantity,
        market,
        network=network,
        at=at,
        locale=cmd.locale,
        currency=cmd.currency,
        tax_jurisdiction=cmd.tax_jurisdiction,
        b2b=cmd.b2b,
    )
    chosen = priced.chosen
    assert chosen.lane is not None and chosen.lead_time is not None
    assert chosen.production is not None and chosen.freight is not None
    due = cmd.due or chosen.lead_time.delivery
    steps = derive(product, priced.config).routing
    for attempt in range(_ID_RETRIES):
        order_id = cmd.order_id or _next_id(state, attempt)
        serials = tuple(f"{order_id}-{i:03d}" for i in range(1, cmd.quantity + 1))
        events: list[Event] = [
            OrderPlaced(
                at,
                order_id,
                cmd.customer,
                product.name,
                priced.config,
                cmd.quantity,
                market.name,
                due,
                priced.unit_price,
                priced.total,
                priced.fx_rate,
                product.version,
                config_hash(priced.config),
                priced.tax.tax,
                priced.tax_jurisdiction,
                priced.locale.tag,
                priced.b2b,
                priced.fx.source,
                cmd.buyer,
            ),
            OrderAllocated(at, order_id, chosen.site, chosen.lane, chosen.production, chosen.freight, serials),
        ]
        for serial in serials:
            for index, step in enumerate(steps):
                predecessors = (operation_id(serial, index - 1),) if index else ()
                events.append(
                    OperationReleased(
                        at,
                        order_id,
                        operation_id(serial, index),
                        serial,
                        index,
                        step.name,
                        step.capability,
                        step.duration,
                        predecessors,
                        step.family,
                    )
                )
        try:
            log.append(order_stream(order_id), events, expected_version=0)
        except ConcurrencyError:
            if cmd.order_id is not None:
                raise DomainError(f"order {cmd.order_id!r} exists already") from None
            continue
        for event in events:
            state.apply_event(order_stream(order_id), event)
        return Placement(state.orders[order_id], priced)
    raise DomainError("could not allocate an order id: too many concurrent placements")  # pragma: no cover


def _next_id(state: State, attempt: int) -> str:
    return f"ord-{len(state.orders) + 1 + attempt:05d}"

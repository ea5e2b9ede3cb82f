"""Billing when an order ships: the intercompany sale, the invoice, credit notes, gapless numbers, entity figures.

Streams
-------
``billing-<order>``
    The order's billing documents: `IntercompanySaleRecorded`, `InvoiceIssued`,
    `CreditNoteIssued`. Every write expects the stream's version, so an order gets at most one
    invoice and concurrent credit notes can never add up to more than the invoice.
``invoice-<entity>-<series>-<year>`` (``invoice-<entity>-<series>`` for a series that is not yearly)
    The register of a number range: the stream's version is the sequence of the last number.

A document is appended to its register *and* to the order's billing stream in one transaction
(`EventLog.append_batch`), expecting both versions; its sequence is the register's version + 1.
Stream versions are contiguous and unique, so numbers are gapless and unique, across threads
and processes, on every backend; a writer that lost a race re-reads and retries (bounded, with
jitter). Everything that can refuse a document (an order that has not shipped, missing legal
items, a credit larger than what is left) is checked before anything is appended: no number is
consumed by a refusal.

The producing site's entity sells to the market's entity at the transfer price (cost + the
product family's markup, `microfab.domain.entities.TransferPolicy`); the transfer price is the
transaction value of the import, on which the market's tariff schedule assesses duty. The
customer's invoice is then a domestic sale of the market's entity.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from microfab.commerce.invoicing import (
    DocumentNumber,
    Sale,
    SaleLine,
    build_credit_note,
    build_invoice,
    remaining,
    transfer_duty,
    transfer_price,
)
from microfab.commerce.offers import OfferInputs, convert, site_offer
from microfab.control.state import State, order_stream
from microfab.domain.buyers import Buyer
from microfab.domain.costing import site_options
from microfab.domain.entities import InvoiceSeries, LegalEntity
from microfab.domain.errors import DomainError
from microfab.domain.events import Event, OrderPlaced
from microfab.domain.invoices import CreditNoteIssued, IntercompanySaleRecorded, Invoice, InvoiceIssued
from microfab.domain.network import Market, Network, Site
from microfab.domain.orders import Order, OrderStatus
from microfab.domain.products import ProductTemplate
from microfab.domain.quantities import Money
from microfab.domain.trade import TaxJurisdiction
from microfab.store.base import ConcurrencyError, EventLog, RecordedEvent, StreamWrite

logger = logging.getLogger(__name__)

BILLING_PREFIX = "billing-"
REGISTER_PREFIX = "invoice-"
MAX_ATTEMPTS = 200
"""How often a writer retries a number it lost to another writer before giving up."""
_BACKOFF_S = 0.002
_BACKOFF_CAP_S = 0.05

DEFAULT_INVOICE_SERIES = InvoiceSeries("invoice", "INV")
"""The invoice series of an entity that declares none."""
DEFAULT_CREDIT_SERIES = InvoiceSeries("credit", "CN")
"""The credit note series of an entity that declares no series at all."""

_SHIPPED = (OrderStatus.SHIPPED, OrderStatus.DELIVERED)


def billing_stream(order_id: str) -> str:
    """The stream of an order's billing documents."""
    return f"{BILLING_PREFIX}{order_id}"


def register_stream(entity: str, series: InvoiceSeries, year: int) -> str:
    """The stream whose version is the last number of *entity*'s *series* (per *year* if the series is yearly)."""
    suffix = f"-{year}" if series.yearly else ""
    return f"{REGISTER_PREFIX}{entity}-{series.name}{suffix}"


def invoice_series(entity: LegalEntity) -> InvoiceSeries:
    """The series invoices are numbered in: the one named ``invoice``, else the first declared, else ``INV``."""
    named = {s.name: s for s in entity.series}
    return named.get("invoice") or (entity.series[0] if entity.series else DEFAULT_INVOICE_SERIES)


def credit_series(entity: LegalEntity) -> InvoiceSeries:
    """The series credit notes are numbered in: the one named ``credit``, else the invoice series (shared range).

    An entity that declares no series at all numbers credit notes in ``CN``.
    """
    named = {s.name: s for s in entity.series}
    if "credit" in named:
        return named["credit"]
    return invoice_series(entity) if entity.series else DEFAULT_CREDIT_SERIES


# ----------------------------------------------------------------------------------- projection


@dataclass(slots=True)
class OrderBilling:
    """An order's billing documents as its ``billing-`` stream holds them, and that stream's version."""

    order_id: str
    version: int = 0
    invoice: Invoice | None = None
    credit_notes: list[Invoice] = field(default_factory=list)
    intercompany: IntercompanySaleRecorded | None = None

    def apply(self, event: Event) -> None:
        """Fold one event of the order's billing stream."""
        self.version += 1
        if isinstance(event, InvoiceIssued):
            self.invoice = event.invoice
        elif isinstance(event, CreditNoteIssued):
            self.credit_notes.append(event.credit_note)
        elif isinstance(event, IntercompanySaleRecorded):
            self.intercompany = event

    @property
    def documents(self) -> list[Invoice]:
        """The invoice, then its credit notes in the order issued."""
        return ([self.invoice] if self.invoice else []) + self.credit_notes

    @property
    def creditable(self) -> Money | None:
        """The gross amount still creditable (None before the invoice)."""
        return None if self.invoice is None else remaining(self.invoice, self.credit_notes)


@dataclass(slots=True)
class BillingBook:
    """Every order's billing documents, projected from the ``billing-`` streams (for reports and the CLI)."""

    orders: dict[str, OrderBilling] = field(default_factory=dict)
    position: int = 0

    @classmethod
    def load(cls, log: EventLog) -> BillingBook:
        """Read every billing stream."""
        book = cls()
        book.catch_up(log)
        return book

    def catch_up(self, log: EventLog) -> int:
        """Fold in the billing events appended since the last call; return how many."""
        fresh = log.read_all(after_position=self.position, stream_prefix=BILLING_PREFIX)
        for recorded in fresh:
            self.apply(recorded)
        return len(fresh)

    def apply(self, recorded: RecordedEvent) -> None:
        """Fold one recorded billing event."""
        self.position = max(self.position, recorded.position)
        order_id = recorded.stream.removeprefix(BILLING_PREFIX)
        self.orders.setdefault(order_id, OrderBilling(order_id)).apply(recorded.event)

    def of(self, order_id: str) -> OrderBilling:
        """The billing of one order (empty if it has none)."""
        return self.orders.get(order_id) or OrderBilling(order_id)

    @property
    def invoices(self) -> dict[str, Invoice]:
        """Issued invoices by order."""
        return {o: b.invoice for o, b in self.orders.items() if b.invoice is not None}


def read_billing(log: EventLog, order_id: str) -> OrderBilling:
    """An order's billing documents, read fresh from its stream."""
    billing = OrderBilling(order_id)
    for recorded in log.read_stream(billing_stream(order_id)):
        billing.apply(recorded.event)
    return billing


# ------------------------------------------------------------------------------------ numbering


def _append_numbered(
    log: EventLog,
    order_id: str,
    register: str,
    existing: Callable[[OrderBilling], Invoice | None],
    make: Callable[[int, OrderBilling], Event],
    billing: OrderBilling | None = None,
) -> tuple[Invoice, bool]:
    """Number and append one document; return it and whether this call wrote it.

    *existing* returns the document when the billing stream already holds it (idempotence);
    *make* builds the event for a sequence number and may refuse (nothing is written then);
    *billing* is the order's billing as just read, if the caller has it.
    """
    version: int | None = None
    for attempt in range(MAX_ATTEMPTS):
        if billing is None:
            billing = read_billing(log, order_id)
            done = existing(billing)
            if done is not None:
                return done, False
        if version is None:
            version = log.stream_version(register)
        event = make(version + 1, billing)
        try:
            log.append_batch(
                [
                    StreamWrite(register, [event], expected_version=version),
                    StreamWrite(billing_stream(order_id), [event], expected_version=billing.version),
                ]
            )
        except ConcurrencyError as lost:
            # Another writer took the number: retry with the register's new version (no re-read);
            # if the order's billing moved, re-read it (it may hold the document now).
            if lost.stream == register:
                version = lost.actual
            else:
                billing, version = None, None
            time.sleep(random.uniform(0, min(_BACKOFF_CAP_S, _BACKOFF_S * 2 ** min(attempt, 6))))
            continue
        return _document(event), True
    raise DomainError(f"could not number a document for order {order_id}: {MAX_ATTEMPTS} concurrent writers won first")


def _document(event: Event) -> Invoice:
    if isinstance(event, InvoiceIssued):
        return event.invoice
    assert isinstance(event, CreditNoteIssued)
    return event.credit_note


# ------------------------------------------------------------------------------------- invoices


@dataclass(frozen=True, slots=True)
class _InvoicePlan:
    """What an order's invoice is built from, decided once before numbering."""

    sale: Sale
    seller: LegalEntity
    buyer: Buyer | None
    jurisdiction: TaxJurisdiction
    series: InvoiceSeries
    issued_at: datetime


def issue_invoice(order_id: str, *, state: State, log: EventLog, at: datetime, buyer: Buyer | None = None) -> Invoice:
    """Issue the invoice of a shipped order from the market's entity; an invoiced order returns its invoice.

    *buyer* overrides the buyer recorded on ``OrderPlaced`` (none recorded: a consumer).

    Raises
    ------
    DomainError
        Unknown order, an order that has not shipped, a market without a selling entity, no
        tax data, or too many concurrent writers. Nothing is appended, no number is consumed.
    ValueError
        The invoice would lack an item the seller's country requires (listed).
    """
    return _issue(order_id, state=state, log=log, at=at, buyer=buyer)[0]


def _issue(
    order_id: str, *, state: State, log: EventLog, at: datetime, buyer: Buyer | None = None
) -> tuple[Invoice, bool]:
    order = _shipped_order(state, order_id)
    billing = read_billing(log, order_id)
    if billing.invoice is not None:
        return billing.invoice, False
    plan = _invoice_plan(order, state.network, log, at, buyer)
    year = plan.issued_at.year
    register = register_stream(plan.seller.name, plan.series, year)

    def make(sequence: int, _billing: OrderBilling) -> Event:
        numbered = DocumentNumber(
            plan.series.format(year, sequence), sequence, plan.series.name, plan.issued_at, plan.series.prefix
        )
        invoice = build_invoice(plan.sale, plan.seller, plan.buyer, plan.jurisdiction, numbered)
        return InvoiceIssued(at, invoice)

    return _append_numbered(log, order_id, register, lambda b: b.invoice, make, billing)


def _shipped_order(state: State, order_id: str) -> Order:
    order = state.orders.get(order_id)
    if order is None:
        raise DomainError(f"unknown order {order_id!r}")
    if order.status not in _SHIPPED or order.shipped_at is None:
        raise DomainError(
            f"order {order_id} has not shipped (it is {order.status.value}): it is invoiced when it ships"
        )
    return order


def _invoice_plan(order: Order, network: Network, log: EventLog, at: datetime, buyer: Buyer | None) -> _InvoicePlan:
    market = network.market(order.market)
    seller = selling_entity(network, market)
    placed = placed_event(log, order.id)
    code = placed.tax_jurisdiction or market.tax_jurisdiction
    if not network.trade.tax.jurisdictions:
        raise DomainError(f"no tax jurisdiction is declared: cannot invoice order {order.id} in {code}")
    jurisdiction = network.trade.tax.resolve(code)
    product = network.product(order.product)
    assert order.shipped_at is not None
    issued_at = max(at, order.shipped_at).astimezone(market.zone)
    terms: dict[str, str] = {}
    currency = order.total.currency
    if seller.country == "MX" and currency != "MXN":  # a CFDI in another currency states the rate to MXN
        rate = network.fx.rate(currency, "MXN", issued_at.date())
        terms["tipo_cambio"] = str(rate.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP))
    sale = Sale(
        order_id=order.id,
        lines=(_order_line(order, product),),
        b2b=placed.b2b,
        supplied_on=order.shipped_at.astimezone(market.zone).date(),
        language=placed.locale or market.locale,
        terms=terms,
    )
    chosen = buyer if buyer is not None else recorded_buyer(placed)
    return _InvoicePlan(sale, seller, chosen, jurisdiction, invoice_series(seller), issued_at)


def _order_line(order: Order, product: ProductTemplate) -> SaleLine:
    options = ", ".join(_option(k, v) for k, v in sorted(order.config.items()) if v not in ("", False))
    description = f"{product.name} ({options})" if options else product.name
    codes = {str(k): str(v) for k, v in dict(getattr(product, "codes", None) or {}).items()}  # sat-product …
    if product.hs_code:
        codes.setdefault("hs", product.hs_code)
    return SaleLine(
        description=description,
        quantity=Decimal(order.quantity),
        unit_net=order.unit_price,
        tax_category=product.tax_category,
        codes=codes,
        net=order.total,
    )


def _option(name: str, value: str | int | bool) -> str:
    """``finish=raw``; a chosen yes/no option is its name (options left empty or off are not printed)."""
    return name if value is True else f"{name}={value}"


def selling_entity(network: Network, market: Market) -> LegalEntity:
    """The entity that sells in *market*; `DomainError` when the market names none."""
    if not market.entity:
        raise DomainError(f"market {market.name} names no selling entity: declare its `entity` to invoice")
    return network.entity(market.entity)


def placed_event(log: EventLog, order_id: str) -> OrderPlaced:
    """The ``OrderPlaced`` event that opened the order's stream."""
    first = log.read_stream(order_stream(order_id))[:1]
    if not first or not isinstance(first[0].event, OrderPlaced):
        raise DomainError(f"order {order_id}: its stream does not start with OrderPlaced")
    return first[0].event


def recorded_buyer(placed: OrderPlaced) -> Buyer | None:
    """The buyer recorded on the order, if the event carries one."""
    found = getattr(placed, "buyer", None)
    return found if isinstance(found, Buyer) else None


# --------------------------------------------------------------------------------- credit notes


def credit_invoice(
    order_id: str, amount: Money | None, reason: str, *, state: State, log: EventLog, at: datetime
) -> Invoice:
    """Issue a credit note on the order's invoice for the gross *amount* (None: all that is left).

    Numbered in the selling entity's credit series. The check against what is left happens
    against the billing stream's version, so two concurrent credit notes cannot over-credit.

    Raises
    ------
    DomainError
        Unknown order, or an order without an invoice. Nothing is appended.
    ValueError
        No reason, an amount in another currency, not positive, or larger than what is left to
        credit. Nothing is appended, no number is consumed.
    """
    order = state.orders.get(order_id)
    if order is None:
        raise DomainError(f"unknown order {order_id!r}")
    billing = read_billing(log, order_id)
    invoice = billing.invoice
    if invoice is None:
        raise DomainError(f"order {order_id} has no invoice to credit")
    seller = state.network.entity(invoice.entity)
    series = credit_series(seller)
    issued_at = max(at, invoice.issued_at).astimezone(state.network.market(order.market).zone)
    year = issued_at.year
    register = register_stream(seller.name, series, year)

    def make(sequence: int, billing: OrderBilling) -> Event:
        assert billing.invoice is not None
        numbered = DocumentNumber(series.format(year, sequence), sequence, series.name, issued_at, series.prefix)
        note = build_credit_note(billing.invoice, billing.credit_notes, numbered, amount=amount, reason=reason)
        return CreditNoteIssued(at, note)

    return _append_numbered(log, order_id, register, lambda _billing: None, make, billing)[0]


# --------------------------------------------------------------------------------- intercompany


def record_intercompany(order_id: str, *, state: State, log: EventLog, at: datetime) -> IntercompanySaleRecorded | None:
    """Record the producing entity's sale to the selling entity, when they differ; None when they don't.

    Idempotent: an order whose intercompany sale is recorded returns that record.

    Raises
    ------
    DomainError
        Unknown order, an order that has not shipped, a missing FX rate or entity.
    """
    return _intercompany(order_id, state=state, log=log, at=at)[0]


def _intercompany(
    order_id: str, *, state: State, log: EventLog, at: datetime
) -> tuple[IntercompanySaleRecorded | None, bool]:
    order = _shipped_order(state, order_id)
    network = state.network
    assert order.site is not None and order.shipped_at is not None
    site, market = network.site(order.site), network.market(order.market)
    if not site.entity or not market.entity or site.entity == market.entity:
        return None, False
    for _ in range(MAX_ATTEMPTS):
        billing = read_billing(log, order_id)
        if billing.intercompany is not None:
            return billing.intercompany, False
        event = intercompany_sale(network, order, site, market, at)
        try:
            log.append(billing_stream(order_id), [event], expected_version=billing.version)
        except ConcurrencyError:
            continue
        return event, True
    raise DomainError(f"could not record the intercompany sale of order {order_id}: too many concurrent writers")


def intercompany_sale(
    network: Network, order: Order, site: Site, market: Market, at: datetime
) -> IntercompanySaleRecorded:
    """The intercompany sale of a shipped *order* made at *site* for *market* (pure: nothing is written).

    Cost = materials + machine time in the producing entity's currency (the order's recorded
    production cost, converted at the placement day's rate); transfer price = cost × (1 +
    the family's markup); duty = the market's schedule on the transfer price (plus freight on a
    CIF basis), in the schedule's currency on the shipping day, with the origin's agreement
    when the good originates (as a quote decides it).
    """
    assert order.shipped_at is not None
    producer, importer = network.entity(site.entity), network.entity(market.entity)
    product = network.product(order.product)
    cost = production_cost(network, order, producer.currency)
    markup = network.transfer.markup(product.family)
    price = transfer_price(cost, markup)
    shipped_on = order.shipped_at.astimezone(site.zone).date()
    schedule = network.trade.tariff_for(market.country)
    if schedule is None:
        duty = Money.zero(importer.currency).quantize()
    else:
        freight = order.freight_cost or Money.zero(schedule.currency)
        duty = transfer_duty(
            schedule,
            product.hs_code,
            site.country,
            convert(network.fx, price, schedule.currency, shipped_on),
            convert(network.fx, freight, schedule.currency, shipped_on),
            shipped_on,
            originating_under=_originating(network, order, product, site, market),
            agreements=network.trade.agreements,
        ).total
    return IntercompanySaleRecorded(at, order.id, producer.name, importer.name, cost, markup, price, duty, shipped_on)


def production_cost(network: Network, order: Order, currency: str) -> Money:
    """Materials (the product's BOM for the order's configuration) + machine time, in *currency*.

    Converted at the rates of the placement day (the day the quote costed them), rounded half-up.
    """
    product = network.product(order.product)
    day = order.placed_at.date()
    total = Money.zero(currency)
    for item in product.bom_for(order.config):
        total = total + convert(network.fx, item.cost * order.quantity, currency, day)
    if order.production_cost is not None:
        total = total + convert(network.fx, order.production_cost, currency, day)
    return total.quantize(ROUND_HALF_UP)


def _originating(
    network: Network, order: Order, product: ProductTemplate, site: Site, market: Market
) -> tuple[str, ...]:
    """The agreement under which the good originates, as the quote's origin engine decides (none: MFN).

    Only evaluated when an agreement covers the pair; a site that could no longer serve the
    order (a lane closed since) claims nothing, which pays MFN: the conservative choice.
    """
    day = order.placed_at.date()
    if not product.hs_code or not network.trade.agreements_between(site.country, market.country, day):
        return ()
    full = product.configure(order.config)
    options = site_options(network, product.name, full, order.quantity, market.name)
    option = next((o for o in options if o.site == site.name and o.eligible), None)
    if option is None:
        return ()
    inputs = OfferInputs(
        network=network,
        product=product,
        config=full,
        quantity=order.quantity,
        at=order.placed_at,
        currency=order.total.currency,
        destination=None,
        market_country=market.country,
        buyer_zone=market.timezone,
        net=order.total,
        bom=product.bom_for(full),
        steps=product.routing_for(full),
    )
    offer = site_offer(inputs, option)
    if offer.origin is not None and offer.origin.originating and offer.agreement:
        return (offer.agreement,)
    return ()


# ------------------------------------------------------------------------------------- the hook


def on_shipped(order_id: str, *, state: State, log: EventLog, at: datetime) -> list[Event]:
    """What follows a shipment: the intercompany sale (if any), then the customer's invoice; the events written.

    Call it after ``OrderShipped`` is committed. It does nothing in a network whose market
    names no selling entity, and is idempotent (a second call writes nothing). A document that
    cannot be issued (missing buyer details the law requires, no tax data) is logged, not
    raised, so the controller keeps running: issue it later with ``microfab invoice issue``.
    """
    order = state.orders.get(order_id)
    if order is None or not state.network.market(order.market).entity:
        return []
    written: list[Event] = []
    try:
        sale, created = _intercompany(order_id, state=state, log=log, at=at)
        if sale is not None and created:
            written.append(sale)
        invoice, issued = _issue(order_id, state=state, log=log, at=at)
        if issued:
            written.append(InvoiceIssued(at, invoice))
    except (DomainError, ValueError, LookupError) as exc:
        logger.warning(
            "order %s shipped but is not invoiced: %s (issue it with `microfab invoice issue %s`)",
            order_id,
            exc,
            order_id,
        )
    return written


# ---------------------------------------------------------------------------------- the report


@dataclass(frozen=True, slots=True)
class EntityFigures:
    """One entity's figures in its own currency.

    ``revenue``: invoiced net to customers less credit notes. ``cost``: materials and machine
    time of the goods it made that shipped. ``intercompany_sales`` / ``_purchases``: transfer
    prices it charged / paid. ``intercompany_margin``: transfer prices charged less the cost of
    those goods. ``duties``: import duty it owes as the importer of intercompany purchases.
    """

    entity: str
    currency: str
    revenue: Money
    cost: Money
    intercompany_sales: Money
    intercompany_purchases: Money
    intercompany_margin: Money
    duties: Money

    @property
    def result(self) -> Money:
        """Revenue + intercompany sales - cost - intercompany purchases - duties."""
        return self.revenue + self.intercompany_sales - self.cost - self.intercompany_purchases - self.duties


@dataclass(slots=True)
class _Figures:
    currency: str
    values: dict[str, Money] = field(default_factory=dict)

    def add(self, name: str, money: Money, network: Network, day: date) -> None:
        amount = convert(network.fx, money, self.currency, day)
        self.values[name] = self.values.get(name, Money.zero(self.currency)) + amount

    def get(self, name: str) -> Money:
        return self.values.get(name, Money.zero(self.currency)).quantize(ROUND_HALF_UP)


def entity_report(state: State, log: EventLog) -> list[EntityFigures]:
    """Per legal entity: revenue, cost, intercompany sales, purchases and margin, duties (from the billing events).

    Amounts in another currency are converted at the rate of the document's day.
    """
    network = state.network
    figures: dict[str, _Figures] = {name: _Figures(e.currency) for name, e in network.entities.items()}

    def of(entity: str, currency: str) -> _Figures:
        return figures.setdefault(entity, _Figures(currency))

    for billing in BillingBook.load(log).orders.values():
        invoice, sale = billing.invoice, billing.intercompany
        if invoice is not None:
            seller = of(invoice.entity, invoice.currency)
            seller.add("revenue", invoice.net, network, invoice.issued_at.date())
            for note in billing.credit_notes:
                seller.add("revenue", -note.net, network, note.issued_at.date())
            order = state.orders.get(billing.order_id)
            if sale is None and order is not None:
                seller.add("cost", production_cost(network, order, seller.currency), network, order.placed_at.date())
        if sale is not None:
            producer, importer = of(sale.seller, sale.cost.currency), of(sale.buyer, sale.duty.currency)
            producer.add("cost", sale.cost, network, sale.supplied_on)
            producer.add("intercompany_sales", sale.transfer_price, network, sale.supplied_on)
            producer.add("intercompany_margin", sale.transfer_price - sale.cost, network, sale.supplied_on)
            importer.add("intercompany_purchases", sale.transfer_price, network, sale.supplied_on)
            importer.add("duties", sale.duty, network, sale.supplied_on)
    return [
        EntityFigures(
            name,
            f.currency,
            f.get("revenue"),
            f.get("cost"),
            f.get("intercompany_sales"),
            f.get("intercompany_purchases"),
            f.get("intercompany_margin"),
            f.get("duties"),
        )
        for name, f in sorted(figures.items())
    ]

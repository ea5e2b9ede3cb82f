"""Use cases the CLI and the API call: apply, place, run, report, demo. Thin wrappers over the controllers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from microfab.commerce import Quote, quote
from microfab.configurator import validate
from microfab.control.apply import ApplyPlan, plan, record
from microfab.control.bootstrap import Services, link_telemetry, mixed_controller, opcua_controller, sim_controller
from microfab.control.controller import Controller, RunSummary, horizon
from microfab.control.escalation import Alert, Escalation
from microfab.control.orders import Placement, place_order
from microfab.control.scenarios import random_orders
from microfab.domain.commands import PlaceOrder
from microfab.domain.errors import DomainError, InvalidConfigurationError
from microfab.domain.events import (
    Event,
    ModuleFaulted,
    ModuleRepaired,
    OperationCompleted,
    OperationStarted,
    OrderPlaced,
)
from microfab.domain.quantities import Duration
from microfab.kpi.report import Report, build_report
from microfab.manifests import Resource, load_resources
from microfab.report import write_html
from microfab.store import open_event_log

Progress = Callable[[datetime], None]


def plan_apply(services: Services, resources: Sequence[Resource]) -> ApplyPlan:
    """Validate the declared resources and diff them against the log."""
    return plan(resources, services.state)


def apply_plan(services: Services, applied: ApplyPlan) -> list[Event]:
    """Record the plan's changes at network time and fold them into the state."""
    events = record(applied, services.log, services.now())
    for event in events:
        services.state.apply_event("network", event)
    return events


def quote_order(  # noqa: PLR0913 - the order, then the buyer's independent choices, all by keyword
    services: Services,
    product: str,
    config: Mapping[str, str | int | bool],
    quantity: int,
    market: str,
    *,
    locale: str | None = None,
    currency: str | None = None,
    tax_jurisdiction: str | None = None,
    b2b: bool = False,
    at: datetime | None = None,
) -> Quote:
    """A localized quote against the applied network; the configuration is checked against the rules first."""
    network = services.state.network
    template = network.product(product)
    violations = validate(template, config)
    if violations:
        listed = "; ".join(f"{v.rule_id}: {v.message}" for v in violations)
        raise InvalidConfigurationError(f"{template.name}: the configuration breaks {listed}")
    return quote(
        template,
        config,
        quantity,
        network.market(market),
        network=network,
        at=at or services.now(),
        locale=locale,
        currency=currency,
        tax_jurisdiction=tax_jurisdiction,
        b2b=b2b,
    )


def place(services: Services, cmd: PlaceOrder) -> Placement:
    """Place one order at network time (it is scheduled when the network next runs)."""
    return place_order(cmd, state=services.state, log=services.log, at=services.now())


async def run(
    services: Services,
    span: Duration,
    *,
    breakdowns: bool = True,
    arrivals: Sequence[tuple[datetime, PlaceOrder]] = (),
    progress: Progress | None = None,
    driver: str = "sim",
    time_scale: float = 1.0,
    mqtt: str | None = None,
) -> RunSummary:
    """Run every site for *span* of network time, with escalation watching.

    *driver* ``sim`` is the in-process twin; ``opcua`` drives real modules (or module servers)
    over OPC UA, with network time running ``1 / time_scale`` times faster than the wall clock;
    ``mixed`` drives the modules with an endpoint over OPC UA and the others in the twin, on
    that clock. With *mqtt* (a broker URL) module deaths heard over Sparkplug B are faults too.
    """
    if driver == "opcua":
        controller = opcua_controller(services, time_scale=time_scale)
    elif driver == "mixed":
        controller = mixed_controller(services, time_scale=time_scale, breakdowns=breakdowns)
    elif driver == "sim":
        controller = sim_controller(services, breakdowns=breakdowns)
    else:
        raise ValueError(f"--driver: expected 'sim', 'opcua' or 'mixed', got {driver!r}")
    if mqtt is not None:
        controller.driver = link_telemetry(services, controller.driver, mqtt)
    try:
        start = controller.driver.now()
        await controller.start()
        end = horizon(start, span)
        escalation = Escalation(services.state, services.log)
        summary = await controller.run(end, arrivals=arrivals, progress=watched(escalation, progress))
        escalation.poll(end)
        return summary
    finally:
        await controller.driver.close()


def watched(escalation: Escalation, progress: Progress | None, every: timedelta = timedelta(minutes=15)) -> Progress:
    """A progress callback that also lets *escalation* poll, at most once per *every* of network time."""
    last: list[datetime] = []

    def tick(at: datetime) -> None:
        if not last or at - last[0] >= every:
            last[:] = [at]
            escalation.poll(at)
        if progress is not None:
            progress(at)

    return tick


def alerts(services: Services, *, include_cleared: bool = False) -> list[Alert]:
    """Alerts from the log: open ones, or all with *include_cleared*."""
    escalation = Escalation(services.state, services.log)
    escalation.poll(services.now())
    if include_cleared:
        return sorted(escalation.alerts.values(), key=lambda a: a.raised_at)
    return escalation.open_alerts()


def acknowledge(services: Services, alert_id: str, *, by: str) -> None:
    """Record that *by* took an alert on."""
    Escalation(services.state, services.log).acknowledge(alert_id, by=by, at=services.now())


def demand(services: Services, *, per_day: float, span: Duration) -> list[tuple[datetime, PlaceOrder]]:
    """Seeded new orders at *per_day* over the span, the last ones early enough to be made and shipped."""
    days = span.seconds / 86400
    spread = Duration(int(span.seconds * 0.75)) if days > 4 else span
    return random_orders(
        services.state.network,
        count=max(1, round(per_day * days)),
        start=services.now(),
        spread=spread.to_timedelta(),
        seed=services.settings.seed,
    )


def module_states(services: Services) -> dict[str, str]:
    """Each module's last known condition from the log: ``idle``, ``execute`` or ``down``."""
    states = dict.fromkeys(services.state.network.modules, "idle")
    for recorded in services.log.read_all(
        types=["OperationStarted", "OperationCompleted", "ModuleFaulted", "ModuleRepaired"]
    ):
        event = recorded.event
        module = getattr(event, "module", "")
        if module not in states:
            continue
        if isinstance(event, ModuleFaulted):
            states[module] = "down"
        elif isinstance(event, ModuleRepaired | OperationCompleted):
            states[module] = "idle"
        elif isinstance(event, OperationStarted):
            states[module] = "execute"
    return states


def report(
    services: Services,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    gantt_site: str | None = None,
    site: str | None = None,
) -> Report:
    """The report over the production window (first order placed to the last event), optionally of one site."""
    network = services.state.network
    if site is not None:
        network.site(site)  # UnknownReferenceError names the known sites
    events = [r.event for r in services.log.read_all()]
    placed = [e.at for e in events if type(e).__name__ == "OrderPlaced"]
    first = start or (min(placed) if placed else services.now())
    last = end or services.now()
    if last < first:
        raise ValueError(f"--since: {first:%Y-%m-%d %H:%M} is after the last event ({last:%Y-%m-%d %H:%M})")
    return build_report(
        network, services.state.orders.values(), events, start=first, end=last, gantt_site=gantt_site, site=site
    )


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What the demo did and the report it produced."""

    applied: int
    summary: RunSummary
    report: Report
    quotes: tuple[Quote, ...] = ()


DEMO_PRODUCT = "laptop-stand"
"""The product the demo quotes in every market, for a consumer, in the market's own language."""


async def demo(
    services: Services,
    directory: Path,
    *,
    orders: int,
    days: int,
    max_quantity: int = 6,
    progress: Progress | None = None,
    on_start: Callable[[datetime, datetime], None] | None = None,
) -> DemoResult:
    """Apply *directory*, place *orders* over the first days across every market, run *days*, report."""
    applied = apply_plan(services, plan_apply(services, load_resources(directory)))
    start = services.now()
    network = services.state.network
    quotes = tuple(
        quote_order(services, DEMO_PRODUCT, {}, 1, market, at=start)
        for market in sorted(network.markets)
        if DEMO_PRODUCT in network.products
    )
    arrivals = random_orders(
        services.state.network,
        count=orders,
        start=start,
        spread=Duration.of(days=max(1, days * 4 // 7)).to_timedelta(),
        seed=services.settings.seed,
        max_quantity=max_quantity,
    )
    end = horizon(start, Duration.of(days=days))
    if on_start is not None:
        on_start(start, end)
    controller: Controller = sim_controller(services)
    await controller.start()
    escalation = Escalation(services.state, services.log)
    summary = await controller.run(end, arrivals=arrivals, progress=watched(escalation, progress))
    escalation.poll(end)
    return DemoResult(len(applied), summary, report(services, start=start, end=end), quotes)


def write_report(result: DemoResult | Report, path: Path) -> Path:
    """Write the HTML report."""
    return write_html(result.report if isinstance(result, DemoResult) else result, path)


def reset_store(url: str) -> None:
    """Start the demo on an empty log: delete an SQLite file; refuse anything else that is not empty."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        return
    log = open_event_log(url)
    try:
        if log.read_all(limit=1):
            raise ValueError(f"--db {url}: the demo needs an empty event log")
    finally:
        log.close()


def write_invoice_documents(services: Services, order_id: str, folder: Path) -> list[Path]:
    """Write the order's invoice and credit notes (PDF; Factur-X for German B2B; CFDI XML for Mexico).

    Files go to ``folder/<entity>/`` (numbers are unique per entity, not across entities). Each
    document is in its own language with the selling market's brand for that language.

    Raises
    ------
    DomainError
        The order is unknown or has no invoice yet.
    """
    from microfab.control.invoicing import read_billing  # noqa: PLC0415 - WeasyPrint loads only when asked
    from microfab.documents import write_invoice_files  # noqa: PLC0415
    from microfab.l10n.languages import translations  # noqa: PLC0415

    order = services.state.orders.get(order_id)
    if order is None:
        raise DomainError(f"unknown order {order_id!r}")
    billing = read_billing(services.log, order_id)
    if billing.invoice is None:
        raise DomainError(f"order {order_id} has no invoice yet (it is {order.status.value}; invoiced when it ships)")
    market = services.state.network.market(order.market)
    written: list[Path] = []
    for document in billing.documents:
        brand = market.brands.get(order.locale or market.locale) or market.brands.get(market.locale)
        written += write_invoice_files(
            document,
            folder / document.entity,
            translations=translations(document.language),
            brand=brand,
            language=document.language,
        )
    return written


@dataclass(frozen=True, slots=True)
class InvoiceSample:
    """One market's invoice written by the demo."""

    market: str
    order_id: str
    number: str
    b2b: bool
    files: tuple[Path, ...]


def write_market_invoices(services: Services, folder: Path) -> list[InvoiceSample]:
    """Write one invoice per market (a business order where there is one: Factur-X in DE, CFDI in MX)."""
    from microfab.control.invoicing import BillingBook  # noqa: PLC0415

    book = BillingBook.load(services.log)
    samples = []
    for market in sorted(services.state.network.markets):
        invoiced = [
            (order, book.orders[order.id].invoice)
            for order in services.state.orders.values()
            if order.market == market and order.id in book.orders and book.orders[order.id].invoice is not None
        ]
        if not invoiced:
            continue
        order, invoice = min(invoiced, key=lambda pair: (not pair[0].b2b, pair[0].id))
        assert invoice is not None
        files = write_invoice_documents(services, order.id, folder)
        samples.append(InvoiceSample(market, order.id, invoice.number, order.b2b, tuple(files)))
    return samples


def reorder_command(services: Services, order_id: str, *, quantity: int | None = None) -> PlaceOrder:
    """The order to place again: same customer, product, configuration, market, buyer and buyer's choices.

    The new order is quoted afresh (today's rates, taxes, sites and lead time); *quantity*
    defaults to the original's.
    """
    order = services.state.orders.get(order_id)
    if order is None:
        raise DomainError(f"unknown order {order_id!r}")
    first = services.log.read_stream(f"order-{order_id}")[0].event
    if not isinstance(first, OrderPlaced):  # pragma: no cover - an order stream starts with OrderPlaced
        raise DomainError(f"order {order_id!r} has no OrderPlaced event")
    return PlaceOrder(
        order.customer,
        order.product,
        dict(order.config),
        quantity or order.quantity,
        order.market,
        locale=first.locale or None,
        currency=first.unit_price.currency,
        tax_jurisdiction=first.tax_jurisdiction or None,
        b2b=first.b2b,
        buyer=first.buyer,
    )

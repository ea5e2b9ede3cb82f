"""Rich output of the CLI: tables, plans, progress bars. Formatting only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from microfab.commerce import Quote
from microfab.control import operations
from microfab.control.apply import Action, ApplyPlan
from microfab.control.bootstrap import Services
from microfab.control.controller import RunSummary
from microfab.control.escalation import Alert
from microfab.control.invoicing import EntityFigures
from microfab.control.operations import InvoiceSample
from microfab.control.orders import Placement
from microfab.control.state import KeyRecord
from microfab.domain.codec import encode
from microfab.domain.commands import PlaceOrder
from microfab.domain.errors import DomainError
from microfab.domain.network import Network
from microfab.domain.orders import Order, Unit
from microfab.domain.quantities import Duration
from microfab.kpi.report import Report
from microfab.store.base import RecordedEvent

_SYMBOL = {Action.CREATE: "[green]+[/]", Action.CHANGE: "[yellow]~[/]", Action.DELETE: "[red]-[/]"}


def network_summary(network: Network) -> str:
    """One line: what the network holds."""
    return (
        f"network {network.name}: {len(network.sites)} sites, {len(network.markets)} markets, "
        f"{len(network.lanes)} lanes, {len(network.module_types)} module types, "
        f"{len(network.modules)} modules, {len(network.products)} products"
    )


def apply_plan(console: Console, plan: ApplyPlan) -> None:
    """Print the plan like ``terraform plan``."""
    for change in plan.changes:
        console.print(f"  {_SYMBOL[change.action]} {change.kind}/{change.name}", highlight=False)
    for name in plan.deployed:
        console.print(f"  [green]deploy[/] module {name}", highlight=False)
    for name, site in plan.retired:
        console.print(f"  [red]retire[/] module {name} at {site}", highlight=False)
    if plan.empty:
        console.print(f"No changes: {plan.unchanged} resources up to date.")
    else:
        console.print(
            f"Plan: {plan.count(Action.CREATE)} to create, {plan.count(Action.CHANGE)} to change, "
            f"{plan.count(Action.DELETE)} to delete, {plan.unchanged} unchanged; "
            f"{len(plan.deployed)} modules to deploy, {len(plan.retired)} to retire."
        )


def sites_table(network: Network) -> Table:
    """Sites with modules, slots and capabilities."""
    table = Table("site", "country", "region", "time zone", "currency", "modules", "slots", "capabilities")
    for site in network.sites.values():
        modules = network.modules_at(site.name)
        used = sum(network.module_types[m.module_type].slots for m in modules)
        table.add_row(
            site.name,
            site.country,
            site.region,
            site.timezone,
            site.currency,
            str(len(modules)),
            f"{used}/{site.container_slots}",
            ", ".join(sorted(network.capabilities_at(site.name))),
        )
    return table


def modules_table(network: Network, states: Mapping[str, str]) -> Table:
    """Modules with type, site and condition."""
    table = Table("module", "type", "site", "capabilities", "state")
    for module in sorted(network.modules.values(), key=lambda m: (m.site, m.name)):
        module_type = network.module_types[module.module_type]
        table.add_row(
            module.name,
            module.module_type,
            module.site,
            ", ".join(sorted(module_type.capabilities)),
            states.get(module.name, "idle"),
        )
    return table


def products_table(network: Network) -> Table:
    """Products with options and list price."""
    table = Table("product", "family", "default price", "options", "steps")
    for product in network.products.values():
        try:
            price = str(product.unit_price(product.configure({})))
        except DomainError:
            price = "-"
        table.add_row(product.name, product.family, price, product.describe_options(), str(len(product.routing)))
    return table


def orders_table(orders: Iterable[Order]) -> Table:
    """Orders with status, site, price, due and delivery."""
    table = Table("order", "customer", "market", "product", "qty", "total", "site", "status", "due", "delivered")
    for o in sorted(orders, key=lambda o: o.id):
        table.add_row(
            o.id,
            o.customer,
            o.market,
            o.product,
            str(o.quantity),
            str(o.total),
            o.site or "–",
            o.status.value,
            f"{o.due:%Y-%m-%d %H:%M}",
            f"{o.delivered_at:%Y-%m-%d %H:%M}" if o.delivered_at else "–",
        )
    return table


def keys_table(keys: Iterable[KeyRecord]) -> Table:
    """API keys without their secrets."""
    table = Table("key", "role", "customer", "market", "label", "revoked")
    for k in keys:
        table.add_row(k.key_id, k.role, k.customer or "–", k.market or "–", k.label, "yes" if k.revoked else "no")
    return table


def alerts_table(alerts: Iterable[Alert]) -> Table:
    """Alerts, oldest first."""
    table = Table("alert", "raised", "kind", "subject", "message", "acknowledged", "cleared")
    for a in alerts:
        cleared = f"{a.cleared_at:%m-%d %H:%M} {a.cleared_because}" if a.cleared_at else "–"
        table.add_row(
            a.alert_id, f"{a.raised_at:%Y-%m-%d %H:%M}", a.kind, a.subject, a.message, a.acknowledged_by or "–", cleared
        )
    return table


def alert_json(a: Alert) -> dict[str, Any]:
    """One alert as a JSON-ready dict."""
    return {
        "alert_id": a.alert_id,
        "kind": a.kind,
        "subject": a.subject,
        "message": a.message,
        "raised_at": a.raised_at.isoformat(),
        "acknowledged_by": a.acknowledged_by,
        "cleared_at": a.cleared_at.isoformat() if a.cleared_at else None,
        "cleared_because": a.cleared_because,
    }


def passport_json(order: Order, serial: str) -> dict[str, Any]:
    """A unit's passport as a JSON-ready dict."""
    unit = order.units[serial]
    return {
        "serial": serial,
        "order_id": order.id,
        "customer": order.customer,
        "product": order.product,
        "config": order.config,
        "market": order.market,
        "site": order.site,
        "status": unit.status.value,
        "shipped_at": _iso(order.shipped_at),
        "delivered_at": _iso(order.delivered_at),
        "steps": [
            {
                "operation_id": e.operation_id,
                "step": e.step,
                "capability": e.capability,
                "module": e.module,
                "started_at": _iso(e.started_at),
                "completed_at": _iso(e.completed_at),
                "attempts": e.attempts,
                "good": e.good,
            }
            for e in unit.passport.values()
        ],
    }


def passport(console: Console, order: Order, serial: str) -> None:
    """A unit's passport, readable."""
    unit = order.units[serial]
    console.print(
        f"[bold]unit {serial}[/] — {unit.status.value}; order {order.id} of {order.customer} "
        f"({order.market}); {order.product} {order.config}; made at {order.site}",
        highlight=False,
    )
    console.print(_passport_table(unit))
    console.print(f"shipped {_t(order.shipped_at)}, delivered {_t(order.delivered_at)}")


def _passport_table(unit: Unit, title: str | None = None) -> Table:
    """One row per step: capability, module, times, attempts, inspection result."""
    table = Table("operation", "step", "capability", "module", "started", "completed", "attempts", "good", title=title)
    for e in unit.passport.values():
        good = {True: "yes", False: "no", None: "–"}[e.good]
        table.add_row(
            e.operation_id,
            e.step,
            e.capability,
            e.module or "–",
            _t(e.started_at),
            _t(e.completed_at),
            str(e.attempts),
            good,
        )
    return table


def placement(console: Console, placed: Placement) -> None:
    """What an order placement decided: the order line, then the quote with every site considered."""
    from microfab.cli.quote import quote_table  # noqa: PLC0415 - keeps render importable without l10n
    from microfab.l10n.quote_view import quote_view  # noqa: PLC0415

    order = placed.order
    console.print(
        f"[green]placed[/] {order.id}: {order.quantity} × {order.product} {order.config} for market "
        f"{order.market} at {placed.site} — {placed.quote.unit_price} each, {order.total} net; "
        f"due {order.due:%Y-%m-%d %H:%M %Z}",
        highlight=False,
    )
    quote_table(console, quote_view(placed.quote))


def order_detail(console: Console, order: Order) -> None:
    """An order and each unit's passport."""
    console.print(orders_table([order]))
    for unit in order.units.values():
        console.print(_passport_table(unit, title=f"unit {unit.serial} — {unit.status.value}"))


def events_table(rows: Sequence[RecordedEvent]) -> Table:
    """Recorded events, oldest first."""
    table = Table("#", "at", "stream", "v", "type", "data")
    for r in rows:
        _, data = encode(r.event)
        data.pop("at", None)
        text = ", ".join(f"{k}={v}" for k, v in data.items() if k != "spec")
        table.add_row(str(r.position), f"{r.event.at:%Y-%m-%d %H:%M:%S}", r.stream, str(r.version), r.type, text[:100])
    return table


def events_json(rows: Sequence[RecordedEvent]) -> list[dict[str, Any]]:
    """Recorded events as JSON-ready dicts."""
    out = []
    for r in rows:
        type_name, data = encode(r.event)
        out.append({"position": r.position, "stream": r.stream, "version": r.version, "type": type_name, "data": data})
    return out


async def with_progress(
    console: Console,
    services: Services,
    span: Duration,
    *,
    breakdowns: bool,
    arrivals: Sequence[tuple[datetime, PlaceOrder]] = (),
    driver: str = "sim",
    time_scale: float = 1.0,
    mqtt: str | None = None,
) -> RunSummary:
    """Run the network with a progress bar over network time."""
    start = services.now()
    with _bar(console) as (progress, task):

        def tick(at: datetime) -> None:
            progress.update(task, completed=(at - start).total_seconds())

        progress.update(task, total=span.seconds)
        return await operations.run(
            services,
            span,
            breakdowns=breakdowns,
            arrivals=arrivals,
            progress=tick,
            driver=driver,
            time_scale=time_scale,
            mqtt=mqtt,
        )


async def demo(
    console: Console, services: Services, directory: Path, *, orders: int, days: int, max_quantity: int
) -> Report:
    """Run the demo with a progress bar and print its report."""
    with _bar(console) as (progress, task):
        origin: list[datetime] = []

        def started(start: datetime, end: datetime) -> None:
            origin.append(start)
            progress.update(task, total=(end - start).total_seconds())

        def tick(at: datetime) -> None:
            progress.update(task, completed=(at - origin[0]).total_seconds())

        result = await operations.demo(
            services, directory, orders=orders, days=days, max_quantity=max_quantity, progress=tick, on_start=started
        )
    quotes_table(console, result.quotes)
    console.print(
        f"applied {result.applied} events from {directory}; placed {result.summary.placed} orders "
        f"({len(result.summary.rejected)} rejected); {result.summary.events} driver events; "
        f"{result.summary.schedules} schedules solved."
    )
    report(console, result.report, modules=True)
    return result.report


def quotes_table(console: Console, quotes: Sequence[Quote]) -> None:
    """One consumer quote per market, each in the market's language, currency, tax display and calendar."""
    if not quotes:
        return
    from microfab.l10n.quote_view import quote_view  # noqa: PLC0415 - keeps render importable without l10n

    table = Table(
        "market", "locale", "price", "tax", "delivery", "label", "made at", title=f"{quotes[0].product}, quoted"
    )
    for q in quotes:
        view = quote_view(q)
        table.add_row(
            q.market,
            view.locale,
            f"{view.price_label}: {view.price}",
            view.tax_note,
            view.delivery,
            view.label or "",
            q.chosen.site,
        )
    console.print(table)


def entities(console: Console, figures: Sequence[EntityFigures]) -> None:
    """Per legal entity: revenue, cost, intercompany sales and purchases, margin, duties paid."""
    if not figures:
        return
    from microfab.cli.invoice import figures_table  # noqa: PLC0415

    console.print(figures_table(list(figures)))


def invoices(console: Console, samples: Sequence[InvoiceSample]) -> None:
    """The invoices the demo wrote, one per market."""
    if not samples:
        return
    table = Table("market", "order", "invoice", "buyer", "files", title="invoices written")
    for s in samples:
        table.add_row(
            s.market, s.order_id, s.number, "business" if s.b2b else "consumer", ", ".join(p.name for p in s.files)
        )
    console.print(table)
    console.print(f"invoices in {samples[0].files[0].parent.parent}/<entity>/", highlight=False)


def report(console: Console, r: Report, *, modules: bool = True) -> None:
    """Print delivery, sites and (optionally) modules."""
    d = r.delivery
    console.print(
        f"\n[bold]Delivery[/] {r.start:%Y-%m-%d %H:%M} → {r.end:%Y-%m-%d %H:%M} UTC: {d.orders} orders, "
        f"{d.delivered} delivered, {d.on_time} on time ({_pct(d.on_time_rate)}), {d.shipped} in transit, "
        f"{d.in_production} in production; lead time mean {_h(d.lead_time_mean_h)}, "
        f"median {_h(d.lead_time_median_h)}, p90 {_h(d.lead_time_p90_h)}",
        highlight=False,
    )
    markets = Table("market", "orders", "delivered", "on time", "lead time mean", "p90", title="by market")
    for name, k in r.markets.items():
        markets.add_row(
            name, str(k.orders), str(k.delivered), str(k.on_time), _h(k.lead_time_mean_h), _h(k.lead_time_p90_h)
        )
    console.print(markets)
    sites = r.sites if r.site else {**r.sites, "[bold]network[/]": r.total}
    console.print(_kpi_table("site", sites, None, "sites — ISO 22400 OEE (PBT = calendar time)", r.hours))
    if modules:
        console.print(_kpi_table("module", r.modules, r.site_of, "modules", r.hours))
    if r.downtime:
        pareto = Table("module", "reason", "faults", "down h", "cumulative", title="downtime Pareto (ISO 22400 ADOT)")
        for cause in r.downtime[:15]:
            pareto.add_row(
                cause.module,
                cause.reason,
                str(cause.faults),
                f"{cause.hours:.1f}",
                f"{100 * cause.cumulative_share:.0f} %",
            )
        console.print(pareto)


def _kpi_table(
    first: str, rows: Mapping[str, Any], site_of: Mapping[str, str] | None, title: str, hours: float
) -> Table:
    headers = [
        first,
        *(["site"] if site_of else []),
        "util.",
        "avail.",
        "effect.",
        "quality",
        "OEE",
        "ops",
        "scrap",
        "good/h",
        "faults",
        "MTBF h",
        "MTTR h",
        "down h",
    ]
    table = Table(*headers, title=title)
    for name, k in rows.items():
        cells = [name, *([site_of[name]] if site_of else [])]
        rate = k.throughput_per_hour(hours)
        cells += [
            _pct(k.utilisation),
            _pct(k.availability),
            _pct(k.effectiveness),
            _pct(k.quality),
            _pct(k.oee),
            str(k.produced),
            str(k.produced - k.good),
            "–" if rate is None else f"{rate:.2f}",
            str(k.faults),
            "–" if k.mtbf_hours is None else f"{k.mtbf_hours:.1f}",
            "–" if k.mttr_hours is None else f"{k.mttr_hours:.1f}",
            f"{k.adot / 3600:.1f}",
        ]
        table.add_row(*cells)
    return table


class _bar:  # noqa: N801 - used as a context manager function
    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("[bold]simulating[/]"),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f} %"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )

    def __enter__(self) -> tuple[Progress, Any]:
        self.progress.start()
        return self.progress, self.progress.add_task("run", total=1)

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def _iso(x: datetime | None) -> str | None:
    return x.isoformat() if x else None


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def _h(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f} h"


def _s(x: object) -> str:
    return "–" if x is None else str(x)


def _t(x: datetime | None) -> str:
    return "–" if x is None else f"{x:%m-%d %H:%M:%S}"

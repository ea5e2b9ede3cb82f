"""The ``microfab`` command: validate and apply manifests, place orders, run the network, read the log."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from microfab.cli import genealogy as genealogy_cli
from microfab.cli import invoice as invoice_cli
from microfab.cli import origin as origin_cli
from microfab.cli import plan as plan_cli
from microfab.cli import product, render
from microfab.cli import quote as quote_cli
from microfab.cli import schedule as schedule_cli
from microfab.cli import twin as twin_cli
from microfab.cli import whatif as whatif_cli
from microfab.commerce.export import quote_json
from microfab.control import access, operations
from microfab.control.bootstrap import Services, bootstrap
from microfab.control.figures import run_figures
from microfab.control.invoicing import entity_report
from microfab.domain.access import Role
from microfab.domain.commands import PlaceOrder
from microfab.domain.errors import DomainError
from microfab.domain.quantities import Duration
from microfab.kpi.report import report_json
from microfab.l10n.quote_view import brand_for, quote_view
from microfab.manifests import ManifestErrors, load_resources
from microfab.settings import Settings
from microfab.store.base import ConcurrencyError, StoreUnavailableError

app = typer.Typer(
    help="microfab: run a network of lights-out, container-based micro-factories.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
get_app = typer.Typer(help="List sites, modules, products or orders.", no_args_is_help=True)
keys_app = typer.Typer(help="Issue, list and revoke API keys.", no_args_is_help=True)
alerts_app = typer.Typer(help="What needs a person: open alerts (--all for cleared ones too); ack one.")
order_app = typer.Typer(help="Place and inspect orders.", no_args_is_help=True)
app.add_typer(get_app, name="get")
app.add_typer(order_app, name="order")
app.add_typer(keys_app, name="keys")
app.add_typer(alerts_app, name="alerts")
app.add_typer(product.app, name="product")
app.add_typer(twin_cli.app, name="twin")
app.add_typer(schedule_cli.app, name="schedule")
app.command("origin")(origin_cli.origin)
app.command("genealogy")(genealogy_cli.genealogy)
app.add_typer(invoice_cli.app, name="invoice")
app.add_typer(invoice_cli.entities_app, name="entities")
app.add_typer(plan_cli.app, name="plan")
app.command("whatif")(whatif_cli.whatif)
# Piped output (CI logs, `make demo | tee`) gets wide tables instead of Rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 150)
errors = Console(stderr=True, width=None if sys.stderr.isatty() else 150)


def _register_optional(root: typer.Typer) -> None:
    """Add the commands of optional extras, imported only when run; without the extra, name what to install."""
    missing = [name for name in ("asyncua", "paho") if importlib.util.find_spec(name) is None]

    @root.command(
        "module-server",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
        add_help_option=False,
    )
    def module_server_command(ctx: typer.Context) -> None:
        """Serve container modules over OPC UA with the PackML state machine (extras: opcua, mqtt)."""
        if missing:
            _fail(f"module-server needs {', '.join(missing)}: pip install 'microfab[opcua,mqtt]'")
        from microfab.cli import module_server  # noqa: PLC0415 - asyncua costs a second to import

        module_server.app(args=list(ctx.args), prog_name="microfab module-server")


_register_optional(app)
DbOption = Annotated[str | None, typer.Option("--db", envvar="MICROFAB_DB", help="Event log URL.", show_default=False)]
DirArgument = Annotated[Path, typer.Argument(help="A folder of manifests (or one file).")]


@contextmanager
def _services(db: str | None, **overrides: object) -> Iterator[Services]:
    """Open the store and turn every expected failure into one clear line and exit code 1."""
    services: Services | None = None
    try:
        settings = replace(Settings.from_env(db), **overrides)  # type: ignore[arg-type]
        services = bootstrap(settings)
        yield services
    except ManifestErrors as exc:
        for error in exc.errors:
            errors.print(f"[red]error[/]: {escape(str(error))}", highlight=False, soft_wrap=True)
        errors.print(f"{len(exc.errors)} error(s); nothing was applied.")
        raise typer.Exit(1) from None
    except (StoreUnavailableError, DomainError, ConcurrencyError, LookupError, ValueError) as exc:
        _fail(str(exc))
    finally:
        if services is not None:
            services.close()


@app.command()
def validate(directory: DirArgument) -> None:
    """Check a folder of manifests; list every error with file:line:field."""
    with _services("memory://") as services:
        plan = operations.plan_apply(services, load_resources(directory))
        console.print(f"[green]valid[/]: {render.network_summary(plan.network)}")


@app.command()
def apply(
    directory: DirArgument,
    db: DbOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan only.")] = False,
) -> None:
    """Show what will be created, changed and retired, then record it (re-applying is a no-op)."""
    with _services(db) as services:
        plan = operations.plan_apply(services, load_resources(directory))
        render.apply_plan(console, plan)
        if plan.empty or dry_run:
            return
        events = operations.apply_plan(services, plan)
        console.print(f"[green]applied[/]: {len(events)} events recorded.")


@get_app.command("sites")
def get_sites(db: DbOption = None) -> None:
    """Sites with their modules and capabilities."""
    with _services(db) as services:
        console.print(render.sites_table(services.state.network))


@get_app.command("modules")
def get_modules(db: DbOption = None) -> None:
    """Modules with their type, site and state."""
    with _services(db) as services:
        console.print(render.modules_table(services.state.network, operations.module_states(services)))


@get_app.command("products")
def get_products(db: DbOption = None) -> None:
    """Products with their options and list price."""
    with _services(db) as services:
        console.print(render.products_table(services.state.network))


@get_app.command("orders")
def get_orders(db: DbOption = None) -> None:
    """Orders with status, site, price and due date."""
    with _services(db) as services:
        console.print(render.orders_table(services.state.orders.values()))


@order_app.command("place")
def order_place(
    product: Annotated[str, typer.Option(help="Product name.")],
    market: Annotated[str, typer.Option(help="Market name.")],
    quantity: Annotated[int, typer.Option("--qty", min=1, help="Units.")] = 1,
    option: Annotated[list[str] | None, typer.Option("--option", "-o", help="OPTION=VALUE, repeatable.")] = None,
    customer: Annotated[str, typer.Option(help="Customer id.")] = "walk-in",
    due: Annotated[datetime | None, typer.Option(help="Due date (ISO 8601 with offset).")] = None,
    db: DbOption = None,
) -> None:
    """Quote, allocate and record one order; nothing is written if any check fails."""
    config = {}
    for item in option or []:
        name, sep, value = item.partition("=")
        if not sep:
            _fail(f"--option expects OPTION=VALUE, got {item!r}")
        config[name.strip()] = value.strip()
    with _services(db) as services:
        placement = operations.place(services, PlaceOrder(customer, product, config, quantity, market, due))
        render.placement(console, placement)


@app.command("quote")
def quote_command(  # noqa: PLR0913, PLR0917 - each buyer choice is its own option
    product_name: Annotated[str, typer.Argument(metavar="PRODUCT", help="Product name.")],
    market: Annotated[str, typer.Option(help="Market name, like 'de'.")],
    config: quote_cli.Config = "{}",
    quantity: Annotated[int, typer.Option("--qty", min=1, help="Units.")] = 1,
    locale: Annotated[str | None, typer.Option(help="Language and formats, like de_DE or ja-JP.")] = None,
    currency: Annotated[str | None, typer.Option(help="ISO 4217 currency (default: the market's).")] = None,
    tax_jurisdiction: Annotated[str | None, typer.Option(help="Like US-NY-NYC (default: the market's).")] = None,
    b2c: Annotated[bool, typer.Option("--b2c/--b2b", help="A consumer (prices per consumer display rules).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Quote a configured product in a market: price, tax, delivery date, and every candidate site's landed cost."""
    with _services(db) as services:
        priced = operations.quote_order(
            services,
            product_name,
            quote_cli.parse_config(config),
            quantity,
            market,
            locale=locale,
            currency=currency,
            tax_jurisdiction=tax_jurisdiction,
            b2b=not b2c,
        )
        if as_json:
            print(json.dumps(quote_json(priced), ensure_ascii=False, indent=2))  # noqa: T201
            return
        selling = services.state.network.market(priced.market)
        brand = brand_for(selling.brands, priced.locale.language, selling.locale)
        quote_cli.quote_table(console, quote_view(priced, brand=brand))


@order_app.command("reorder")
def order_reorder(
    order_id: Annotated[str, typer.Argument(metavar="ORDER", help="The order to repeat.")],
    quantity: Annotated[int | None, typer.Option("--qty", min=1, help="Units (default: as before).")] = None,
    db: DbOption = None,
) -> None:
    """Order the same configuration again, for the same buyer, quoted afresh."""
    with _services(db) as services:
        placement = operations.place(services, operations.reorder_command(services, order_id, quantity=quantity))
        render.placement(console, placement)


@order_app.command("show")
def order_show(order_id: str, db: DbOption = None) -> None:
    """One order with the passport of each unit."""
    with _services(db) as services:
        order = services.state.orders.get(order_id)
        if order is None:
            _fail(f"no order {order_id!r}")
        render.order_detail(console, order)


@app.command()
def run(  # noqa: PLR0913, PLR0917 - a Typer command: one parameter per option
    until: Annotated[str, typer.Option(help="How long to run, e.g. 8h, 7d.")] = "1d",
    breakdowns: Annotated[bool, typer.Option(help="Simulate module breakdowns.")] = True,
    demand: Annotated[float, typer.Option(min=0, help="New orders per day across all markets (seeded).")] = 0.0,
    driver: Annotated[
        str,
        typer.Option(
            help="sim (the in-process twin), opcua (every module on its endpoint) or mixed "
            "(modules with an endpoint over OPC UA, the others in the twin on the same clock)."
        ),
    ] = "sim",
    time_scale: Annotated[
        float, typer.Option(min=0.0, help="With --driver opcua or mixed: wall seconds per network second.")
    ] = 1.0,
    mqtt: Annotated[
        str | None,
        typer.Option(
            help="Sparkplug B broker, mqtt[s]://[user:pass@]host:port: a module's death certificate faults it.",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the demand and of the twin.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run's figures as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Run the network for a span of network time (the twin, OPC UA modules or both), optionally with demand."""
    span = _duration(until)
    overrides = {"seed": seed} if seed is not None else {}
    with _services(db, **overrides) as services:
        started, clock = services.now(), time.perf_counter()
        arrivals = operations.demand(services, per_day=demand, span=span) if demand else []
        out = errors if as_json else console
        summary = asyncio.run(
            render.with_progress(
                out,
                services,
                span,
                breakdowns=breakdowns,
                arrivals=arrivals,
                driver=driver,
                time_scale=time_scale,
                mqtt=mqtt,
            )
        )
        if as_json:
            report = operations.report(services, start=started)
            figures = run_figures(services, report, start=started, wall_s=time.perf_counter() - clock)
            print(json.dumps({"span": str(span), "placed": summary.placed, **figures}))  # noqa: T201 - machine output
        else:
            console.print(
                f"ran {span} of simulated time: {summary.placed} orders placed, {summary.events} driver events, "
                f"{summary.schedules} schedules."
            )


@app.command()
def events(
    stream: Annotated[str | None, typer.Option(help="Only streams starting with this.")] = None,
    type_: Annotated[list[str] | None, typer.Option("--type", help="Only these event types.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many (newest last).")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    db: DbOption = None,
) -> None:
    """Print the event log."""
    with _services(db) as services:
        rows = services.log.read_all(types=type_ or None, stream_prefix=stream)[-limit:]
        if as_json:
            for line in render.events_json(rows):
                console.print_json(json.dumps(line)) if console.is_terminal else print(json.dumps(line))  # noqa: T201
        else:
            console.print(render.events_table(rows))


@app.command()
def kpi(
    site: Annotated[str | None, typer.Option(help="Only this site's modules and orders.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Window start: an ISO 8601 time with offset, or a span back from now (7d).")
    ] = None,
    modules: Annotated[bool, typer.Option(help="Also list every module.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Delivery, OEE per site, module and network (with MTBF, MTTR, throughput), and a downtime Pareto."""
    with _services(db) as services:
        start = _since(since, services.now()) if since else None
        figures = operations.report(services, site=site, start=start)
        if as_json:
            typer.echo(json.dumps(report_json(figures)))
        else:
            render.report(console, figures, modules=modules)


@app.command()
def demo(
    orders: Annotated[int, typer.Option(help="Orders to place over the first days.")] = 40,
    max_quantity: Annotated[int, typer.Option(help="Largest batch of one order.")] = 12,
    days: Annotated[int, typer.Option(help="Simulated days to run.")] = 7,
    seed: Annotated[int, typer.Option(help="Seed of demand and of the twin.")] = 7,
    directory: Annotated[Path, typer.Option("--network", help="Manifests to apply.")] = Path("examples/network"),
    db: Annotated[str, typer.Option("--db", help="Event log URL (recreated).")] = "sqlite:///.microfab/demo.db",
    out: Annotated[Path, typer.Option(help="HTML report.")] = Path(".microfab/report.html"),
) -> None:
    """Apply the example network, place orders in five markets, run a simulated week, report."""
    operations.reset_store(db)
    with _services(db, seed=seed) as services:
        report = asyncio.run(
            render.demo(console, services, directory, orders=orders, days=days, max_quantity=max_quantity)
        )
        written = operations.write_report(report, out)
        render.entities(console, entity_report(services.state, services.log))
        render.invoices(console, operations.write_market_invoices(services, out.parent / "invoices"))
        console.print(f"HTML report with a Gantt chart of site [bold]{report.gantt_site}[/]: {written}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    db: DbOption = None,
) -> None:
    """Serve the REST API and the event stream (uvicorn) on the store given by --db."""
    try:
        import uvicorn  # noqa: PLC0415 - the api extra is optional

        from microfab.api import create_app  # noqa: PLC0415
    except ImportError:
        _fail("the API needs its extra: pip install 'microfab[api]'")
    with _services(db) as services:
        uvicorn.run(create_app(services=services), host=host, port=port, log_level="info")


@keys_app.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="customer, operator, planner or admin.")],
    customer: Annotated[str | None, typer.Option(help="The customer a customer key acts for.")] = None,
    market: Annotated[str | None, typer.Option(help="Bind a customer key to one market.")] = None,
    label: Annotated[str, typer.Option(help="A note on who holds the key.")] = "",
    db: DbOption = None,
) -> None:
    """Issue an API key; its secret is printed once and stored only as a digest."""
    with _services(db) as services:
        key_id, secret = access.create_key(
            services.state, services.log, role=role, customer=customer, market=market, label=label, at=services.now()
        )
        console.print(f"key {key_id} ({role.value}) created; the secret is shown only now:", highlight=False)
        print(secret)  # noqa: T201 - the secret goes to stdout alone, for scripts


@keys_app.command("list")
def keys_list(db: DbOption = None) -> None:
    """Every API key (never a secret)."""
    with _services(db) as services:
        console.print(render.keys_table(services.state.keys.values()))


@keys_app.command("revoke")
def keys_revoke(key_id: str, db: DbOption = None) -> None:
    """Revoke an API key."""
    with _services(db) as services:
        access.revoke_key(services.state, services.log, key_id, at=services.now())
        console.print(f"key {key_id} revoked")


@alerts_app.callback(invoke_without_command=True)
def alerts(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include cleared alerts.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
    db: DbOption = None,
) -> None:
    """List alerts raised by the escalation rules."""
    if ctx.invoked_subcommand is not None:
        return
    with _services(db) as services:
        found = operations.alerts(services, include_cleared=all_)
        if as_json:
            for alert in found:
                print(json.dumps(render.alert_json(alert)))  # noqa: T201 - machine output
        else:
            console.print(render.alerts_table(found))


@alerts_app.command("ack")
def alerts_ack(
    alert_id: str,
    by: Annotated[str, typer.Option(help="Who takes it on.")],
    db: DbOption = None,
) -> None:
    """Acknowledge an alert."""
    with _services(db) as services:
        operations.acknowledge(services, alert_id, by=by)
        console.print(f"alert {alert_id} acknowledged by {by}")


@app.command()
def passport(
    serial: str,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
    db: DbOption = None,
) -> None:
    """The digital passport of one unit: product, configuration, site, every step with its module and times."""
    with _services(db) as services:
        order_id = serial.rsplit("-", 1)[0]
        order = services.state.orders.get(order_id)
        if order is None or serial not in order.units:
            _fail(f"no unit {serial!r}")
        if as_json:
            print(json.dumps(render.passport_json(order, serial)))  # noqa: T201 - machine output
        else:
            render.passport(console, order, serial)


def _fail(message: str) -> NoReturn:
    """Print one error line (never wrapped, whitespace collapsed) and exit with status 1."""
    errors.print(f"[red]error[/]: {escape(' '.join(message.split()))}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _since(text: str, now: datetime) -> datetime:
    """An aware ISO 8601 time, or *now* minus a duration like ``7d``."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return now - _duration(text).to_timedelta()
    if moment.tzinfo is None:
        _fail(f"--since: {text!r} needs a UTC offset, e.g. {text}+00:00")
    return moment


def _duration(text: str) -> Duration:
    try:
        return Duration.parse(text)
    except ValueError as exc:
        _fail(f"--until: {exc}")


if __name__ == "__main__":
    app()

"""``microfab invoice show|issue|credit`` and ``microfab entities report``.

Invoices are issued by the market's selling entity when an order ships (the controller does
it); ``invoice issue`` issues one for a shipped order that has none yet (after fixing the data
that stopped it), ``invoice credit`` corrects one with a credit note. Every failure is one
line ``error: …`` and exit status 1, with nothing written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from microfab.cli.common import fail, services_for
from microfab.commerce.invoicing import invoice_json
from microfab.commerce.tax import percent
from microfab.control import operations
from microfab.control.bootstrap import Services
from microfab.control.invoicing import (
    EntityFigures,
    OrderBilling,
    credit_invoice,
    entity_report,
    issue_invoice,
    read_billing,
)
from microfab.domain.errors import DomainError
from microfab.domain.invoices import CREDIT_NOTE, IntercompanySaleRecorded, Invoice
from microfab.domain.orders import OrderStatus
from microfab.domain.quantities import Money

app = typer.Typer(help="Invoices and credit notes of shipped orders.", no_args_is_help=True)
entities_app = typer.Typer(help="Legal entities: revenue, cost, intercompany margin, duties.", no_args_is_help=True)

console = Console(width=None if sys.stdout.isatty() else 150)

DbOption = Annotated[str | None, typer.Option("--db", envvar="MICROFAB_DB", help="Event log URL.", show_default=False)]
OrderArgument = Annotated[str, typer.Argument(metavar="ORDER", help="The order id, like ord-00001.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def billing_of(services: Services, order_id: str) -> OrderBilling:
    """The order's billing documents; `DomainError` for an unknown order or one without an invoice."""
    order = services.state.orders.get(order_id)
    if order is None:
        raise DomainError(f"unknown order {order_id!r}")
    billing = read_billing(services.log, order_id)
    if billing.invoice is None:
        if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
            raise DomainError(f"order {order_id} has no invoice yet: issue it with `microfab invoice issue {order_id}`")
        raise DomainError(f"order {order_id} has no invoice yet (it is {order.status.value}; invoiced when it ships)")
    return billing


@app.command("show")
def show(order_id: OrderArgument, as_json: JsonOption = False, db: DbOption = None) -> None:
    """The order's invoice, its credit notes and its intercompany sale (issues nothing)."""
    with services_for(db) as services:
        billing = billing_of(services, order_id)
        if as_json:
            print(json.dumps(billing_json(billing), ensure_ascii=False, indent=2))  # noqa: T201 - machine output
            return
        for document in billing.documents:
            print_document(console, document)
        if billing.intercompany is not None:
            print_intercompany(console, billing.intercompany)
        left = billing.creditable
        if left is not None:
            console.print(f"Still creditable: {left}", highlight=False)


@app.command("issue")
def issue(order_id: OrderArgument, as_json: JsonOption = False, db: DbOption = None) -> None:
    """Issue the invoice of a shipped order that has none yet (an invoiced order shows its invoice)."""
    with services_for(db) as services:
        before = read_billing(services.log, order_id).invoice
        invoice = issue_invoice(order_id, state=services.state, log=services.log, at=services.now())
        if as_json:
            print(json.dumps(invoice_json(invoice), ensure_ascii=False, indent=2))  # noqa: T201 - machine output
            return
        if before is not None:
            console.print(f"[yellow]already issued[/]: invoice {invoice.number}", highlight=False)
        print_document(console, invoice)


@app.command("credit")
def credit(
    order_id: OrderArgument,
    reason: Annotated[str, typer.Option("--reason", help="Why the invoice is corrected (printed).")],
    amount: Annotated[
        str | None,
        typer.Option("--amount", help="Gross amount to credit, like '10.00 EUR' (default: all that is left)."),
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Correct the order's invoice with a credit note (its own number in the entity's credit series)."""
    with services_for(db) as services:
        money = Money.parse(amount) if amount is not None else None
        note = credit_invoice(order_id, money, reason, state=services.state, log=services.log, at=services.now())
        if as_json:
            print(json.dumps(invoice_json(note), ensure_ascii=False, indent=2))  # noqa: T201 - machine output
            return
        print_document(console, note)


@app.command("pdf")
def pdf(
    order_id: OrderArgument,
    out: Annotated[Path, typer.Option("--out", help="Folder to write into.")] = Path(".microfab/invoices"),
    db: DbOption = None,
) -> None:
    """Write the order's invoice and credit notes as PDF (German B2B: Factur-X PDF/A-3; Mexico: also the CFDI XML)."""
    with services_for(db) as services:
        for path in operations.write_invoice_documents(services, order_id, out):
            console.print(f"wrote {path}", highlight=False)


@app.command("xml")
def xml(
    order_id: OrderArgument,
    out: Annotated[Path, typer.Option("--out", help="Folder to write into.")] = Path(".microfab/invoices"),
    db: DbOption = None,
) -> None:
    """Write the order's structured invoice: Factur-X CII (German B2B) or CFDI 4.0 (Mexico, not stamped)."""
    with services_for(db) as services:
        written = [p for p in operations.write_invoice_documents(services, order_id, out) if p.suffix == ".xml"]
        if not written:
            fail(f"order {order_id}: its country has no structured invoice format here (the PDF is the invoice)")
        for path in written:
            console.print(f"wrote {path}", highlight=False)


@entities_app.callback()
def entities() -> None:
    """Legal entities: revenue, cost, intercompany margin, duties (a group, even with one command)."""


@entities_app.command("report")
def report(as_json: JsonOption = False, db: DbOption = None) -> None:
    """Per legal entity: revenue, cost, intercompany sales, purchases and margin, duties, result."""
    with services_for(db) as services:
        figures = entity_report(services.state, services.log)
        if as_json:
            print(json.dumps([figures_json(f) for f in figures], indent=2))  # noqa: T201 - machine output
            return
        console.print(figures_table(figures))


# ------------------------------------------------------------------------------ formatting


def billing_json(billing: OrderBilling) -> dict[str, Any]:
    """An order's billing documents as JSON data."""
    sale = billing.intercompany
    left = billing.creditable
    return {
        "order": billing.order_id,
        "invoice": invoice_json(billing.invoice) if billing.invoice else None,
        "credit_notes": [invoice_json(n) for n in billing.credit_notes],
        "creditable": _money(left) if left is not None else None,
        "intercompany": None
        if sale is None
        else {
            "seller": sale.seller,
            "buyer": sale.buyer,
            "cost": _money(sale.cost),
            "markup": str(sale.markup),
            "transfer_price": _money(sale.transfer_price),
            "duty": _money(sale.duty),
            "supplied_on": sale.supplied_on.isoformat(),
        },
    }


def figures_json(figures: EntityFigures) -> dict[str, Any]:
    """One entity's figures as JSON data (amounts as exact decimal strings)."""
    return {
        "entity": figures.entity,
        "currency": figures.currency,
        "revenue": str(figures.revenue.amount),
        "cost": str(figures.cost.amount),
        "intercompany_sales": str(figures.intercompany_sales.amount),
        "intercompany_purchases": str(figures.intercompany_purchases.amount),
        "intercompany_margin": str(figures.intercompany_margin.amount),
        "duties": str(figures.duties.amount),
        "result": str(figures.result.amount),
    }


def figures_table(figures: list[EntityFigures]) -> Table:
    """The entity report as a table."""
    table = Table("entity", "currency", "revenue", "cost", "IC sales", "IC purchases", "IC margin", "duties", "result")
    for f in figures:
        amounts = (f.revenue, f.cost, f.intercompany_sales, f.intercompany_purchases, f.intercompany_margin, f.duties)
        table.add_row(f.entity, f.currency, *(str(a.amount) for a in (*amounts, f.result)))
    return table


def print_document(out: Console, document: Invoice) -> None:
    """An invoice or credit note as text: header, parties, lines, totals per rate, notes, country fields."""
    kind = "Credit note" if document.kind == CREDIT_NOTE else "Invoice"
    title = document.fields.get("title", kind)
    out.print(
        f"[bold]{escape(title)} {escape(document.number)}[/] ({kind.lower()}, {document.entity})", highlight=False
    )
    if document.corrects:
        out.print(f"corrects {document.corrects}", highlight=False)
    out.print(
        f"issued {document.issued_at:%Y-%m-%d %H:%M %z}, supplied {document.supplied_on}, order {document.order_id}",
        highlight=False,
    )
    out.print(f"seller: {_party(document.seller.name, document.seller.address.lines(), document.seller.tax_ids)}")
    out.print(f"buyer:  {_party(document.buyer.name, document.buyer.address.lines(), document.buyer.tax_ids)}")
    lines = Table("description", "qty", "unit", "unit net", "net", "rate", "tax")
    for line in document.lines:
        marker = document.fields.get("reduced_marker", "") if line.reduced else ""
        lines.add_row(
            escape(f"{line.description} {marker}".strip()),
            str(line.quantity),
            line.unit,
            str(line.unit_net),
            str(line.net),
            f"{percent(line.tax_rate)} %",
            str(line.tax),
        )
    out.print(lines)
    for rate in document.rates:
        out.print(f"  {percent(rate.rate)} %: net {rate.net}, tax {rate.tax}", highlight=False)
    out.print(f"[bold]net {document.net}  tax {document.tax}  gross {document.gross}[/]", highlight=False)
    for note in document.notes:
        out.print(escape(note), highlight=False)
    skip = {"title", "reduced_marker"}
    for key, value in sorted(document.fields.items()):
        if key not in skip:
            out.print(f"[dim]{escape(key)}: {escape(value)}[/]", highlight=False)


def print_intercompany(out: Console, sale: IntercompanySaleRecorded) -> None:
    """The intercompany sale as one line."""
    out.print(
        f"intercompany: {sale.seller} → {sale.buyer} on {sale.supplied_on}: cost {sale.cost}, markup "
        f"{percent(sale.markup)} %, transfer price {sale.transfer_price}, duty {sale.duty}",
        highlight=False,
    )


def _party(name: str, address: tuple[str, ...], tax_ids: Any) -> str:
    ids = ", ".join(f"{k} {v}" for k, v in sorted(dict(tax_ids).items()))
    return escape(" · ".join(p for p in (name, ", ".join(address), ids) if p))


def _money(money: Money) -> dict[str, str]:
    return {"amount": str(money.amount), "currency": money.currency}

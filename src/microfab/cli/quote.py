"""``microfab quote``: a localized quote with one row per candidate site, in the buyer's language."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from microfab.l10n.quote_view import QuoteView


def quote_table(console: Console, view: QuoteView) -> None:
    """Print the quote: the price block, the delivery, the label, then every candidate site."""
    if view.brand is not None:
        tagline = f" — {view.brand.tagline}" if view.brand.tagline else ""
        console.print(f"[bold]{view.brand.name}[/]{tagline}", highlight=False)
    console.print(f"[bold]{view.title}[/]", highlight=False)
    lines = Table(show_header=False, box=None, pad_edge=False)
    lines.add_column(justify="left")
    lines.add_column(justify="right")
    for label, value in view.lines:
        lines.add_row(label, value)
    console.print(lines)
    console.print(f"[bold]{view.price_label}: {view.price}[/] ({view.tax_note})", highlight=False)
    console.print(view.delivery, highlight=False)
    if view.label:
        console.print(f"[green]{view.label}[/]", highlight=False)
    offers = Table(*view.headers, title=None)
    for row in view.offers:
        site = f"{row.site} ✔" if row.chosen else row.site
        if row.reason:
            offers.add_row(site, row.made_in, *(["–"] * 7), row.reason)
            continue
        offers.add_row(
            site,
            row.made_in,
            row.production,
            row.freight,
            row.duty,
            row.import_vat,
            row.landed_cost,
            row.delivery,
            row.origin,
            row.claims,
        )
    console.print(offers)
    for notice in view.notices:
        console.print(f"[dim]{notice}[/]", highlight=False)
    if view.brand is not None and view.brand.legal_footer:
        console.print(f"[dim]{view.brand.legal_footer}[/]", highlight=False)


Config = Annotated[str, typer.Option("--config", "-c", help="The configuration as JSON, like '{\"width\": 300}'.")]


def parse_config(text: str) -> dict[str, str | int | bool]:
    """A JSON object of option values; `ValueError` naming what is wrong otherwise."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--config: expected a JSON object like '{{\"width\": 300}}': {exc.msg}") from None
    if not isinstance(data, dict) or not all(isinstance(v, str | int | bool) for v in data.values()):
        raise ValueError("--config: expected a JSON object of option values (text, whole numbers, true/false)")
    return data

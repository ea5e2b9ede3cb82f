"""``microfab origin``: origin and claims indications for one good, from a JSON file, for planners and tests.

The input names an agreement (``USMCA``, ``CPTPP``, ``EU-JP`` or null for the non-preferential
origin only), the good, its materials and operations, the destination, and optionally the rule
for the good's HS code and threshold overrides. Without a rule, the reference data shipped in
``microfab/commerce/data/agreements.json`` (samples, indication only) supplies it. Percent
figures are printed as strings with two decimals (``"64.29"``) to keep them exact. Bad input is
one error line naming the field and exit status 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from microfab.cli.origin_input import parse_case, read_input, resolve_agreement
from microfab.commerce.claims import Claim, determine_claims
from microfab.commerce.origin import OriginCase, OriginResult, TrailEntry, determine_origin
from microfab.domain.trade import ClaimPolicy

__all__ = ["origin", "result_json"]

console = Console(width=None if sys.stdout.isatty() else 150)
errors = Console(stderr=True, width=None if sys.stderr.isatty() else 150)

_FIGURES = ("rvc_tv", "rvc_nc", "build_down", "build_up", "maxnom")


def origin(
    input_file: Annotated[Path, typer.Option("--input", "-i", help="The case as JSON (see docs/origin.md).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Origin (USMCA / CPTPP / EU-JP), non-preferential origin and Made-in claims: indications for sign-off."""
    try:
        data = read_input(input_file)
        case = parse_case(data)
        agreement, notes = resolve_agreement(data, case.good.hs)
        result = determine_origin(case, agreement)
    except (ValueError, TypeError, LookupError) as exc:
        _fail(str(exc))
    result = replace(result, trail=notes + result.trail)
    claims = determine_claims(case, ClaimPolicy())
    if as_json:
        sys.stdout.write(json.dumps(result_json(case, result, claims), ensure_ascii=False) + "\n")
    else:
        _render(case, result, claims)


def _fail(message: str) -> NoReturn:
    errors.print(f"[red]error[/]: {escape(' '.join(message.split()))}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


# ------------------------------------------------------------------------------------------ output


def result_json(case: OriginCase, result: OriginResult, claims: tuple[Claim, ...]) -> dict[str, Any]:
    """The output object: figures as strings with two decimals, booleans, the claims and the trail."""
    return {
        "agreement": result.agreement,
        "producer_country": result.producer_country,
        "destination": case.destination,
        "currency": case.good.currency,
        "vnm": _str(result.vnm),
        "vom": _str(result.vom),
        **{name: _str(getattr(result, name)) for name in _FIGURES},
        "tariff_shift": result.tariff_shift,
        "de_minimis": result.de_minimis,
        "originating": result.originating,
        "test_passed": result.test_passed,
        "non_preferential_origin": result.non_preferential_origin,
        "claims": {c.name: _claim_json(c) for c in claims},
        "trail": [_entry(e) for e in result.trail],
        "review_note": result.review_note,
    }


def _claim_json(claim: Claim) -> dict[str, Any]:
    return {
        "status": str(claim.status),
        "reasons": list(claim.reasons),
        "trail": [_entry(e) for e in claim.trail],
        "review_note": claim.review_note,
    }


def _entry(entry: TrailEntry) -> dict[str, str]:
    return {"figure": entry.figure, "value": entry.value, "basis": entry.basis}


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _render(case: OriginCase, result: OriginResult, claims: tuple[Claim, ...]) -> None:
    figures = Table(title=f"Origin indication: {result.agreement or 'no agreement'} → {case.destination}")
    figures.add_column("figure")
    figures.add_column("value", justify="right")
    shown = {name: getattr(result, name) for name in _FIGURES}
    rows: list[tuple[str, object]] = [("producer country", result.producer_country)]
    rows += [(name, f"{value} %") for name, value in shown.items() if value is not None]
    rows += [("tariff shift", result.tariff_shift), ("de minimis", result.de_minimis)]
    rows += [("originating", result.originating), ("test passed", result.test_passed)]
    rows += [("non-preferential origin", result.non_preferential_origin)]
    for name, value in rows:
        text = "-" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        figures.add_row(name, escape(text))
    console.print(figures)
    console.print(_trail_table("Trail", ((None, e) for e in result.trail), by_claim=False))
    table = Table(title="Claims")
    for column in ("claim", "status", "reasons"):
        table.add_column(column)
    for c in claims:
        table.add_row(c.name, str(c.status), escape("; ".join(c.reasons)))
    console.print(table)
    console.print(_trail_table("Claims trail", ((c.name, e) for c in claims for e in c.trail), by_claim=True))
    console.print(f"[bold]{escape(result.review_note)}[/]")


def _trail_table(title: str, rows: Iterable[tuple[str | None, TrailEntry]], *, by_claim: bool) -> Table:
    table = Table(title=title)
    for column in ("claim", "figure", "value", "basis") if by_claim else ("figure", "value", "basis"):
        table.add_column(column)
    for claim, entry in rows:
        cells = [escape(entry.figure), escape(entry.value), escape(entry.basis)]
        table.add_row(*([claim or ""] if by_claim else []), *cells)
    return table

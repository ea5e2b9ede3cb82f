"""``microfab genealogy``: what a module made between two times, or which modules made a unit, from the log.

Register with ``app.command("genealogy")(genealogy.genealogy)``. One row per attempt (a reworked
operation appears once per try, with its result); ``--json`` prints one document.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from microfab.cli.common import fail, services_for
from microfab.control.genealogy import WorkRecord, module_units, unit_modules
from microfab.domain.quantities import Duration

__all__ = ["genealogy", "moment", "record_json"]

console = Console(width=None if sys.stdout.isatty() else 150)

Moment = Annotated[
    str | None,
    typer.Option(help="With --module: an ISO 8601 time with offset, or a span back from now (7d).", show_default=False),
]


def genealogy(
    module: Annotated[str | None, typer.Option(help="The units this module worked on.", show_default=False)] = None,
    unit: Annotated[str | None, typer.Option(help="The modules that worked on this unit.", show_default=False)] = None,
    since: Moment = None,
    until: Moment = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
    db: Annotated[
        str | None, typer.Option("--db", envvar="MICROFAB_DB", help="Event log URL.", show_default=False)
    ] = None,
) -> None:
    """Traceability from the log: what a module made between two times, or which modules made a unit."""
    if (module is None) == (unit is None):
        fail("give --module NAME or --unit SERIAL (one of them)")
    if unit is not None and (since or until):
        fail("--since and --until go with --module (a unit's history is always whole)")
    with services_for(db) as services:
        now = services.now()
        start = moment(since, now, "--since") if since else None
        end = moment(until, now, "--until") if until else None
        if start is not None and end is not None and end < start:
            fail(f"--until: {end.isoformat()} is before --since ({start.isoformat()})")
        if module is not None:
            records = module_units(services.state, services.log, module, since=start, until=end)
        else:
            records = unit_modules(services.state, services.log, unit or "")
    if as_json:
        query = {"module": module, "unit": unit, "since": _iso(start), "until": _iso(end)}
        print(json.dumps({**query, "records": [record_json(r) for r in records]}))  # noqa: T201 - machine output
        return
    console.print(_table(records, f"module {module}" if module else f"unit {unit}"))
    units = len({r.serial for r in records})
    scrapped = sum(r.good is False for r in records)
    console.print(f"{units} unit(s), {len(records)} operation attempt(s), {scrapped} failed inspection.")


def moment(text: str, now: datetime, option: str) -> datetime:
    """An aware ISO 8601 time, or *now* minus a span like ``7d``; anything else fails naming *option*."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            return now - Duration.parse(text).to_timedelta()
        except ValueError:
            fail(f"{option}: expected an ISO 8601 time with a UTC offset or a span back from now like 7d, got {text!r}")
    if parsed.tzinfo is None:
        fail(f"{option}: {text!r} needs a UTC offset, e.g. {text}+00:00")
    return parsed


def record_json(record: WorkRecord) -> dict[str, Any]:
    """One attempt as JSON (times in ISO 8601)."""
    return {
        "serial": record.serial,
        "order_id": record.order_id,
        "product": record.product,
        "site": record.site,
        "operation_id": record.operation_id,
        "step": record.step,
        "module": record.module,
        "attempt": record.attempt,
        "started_at": _iso(record.started_at),
        "completed_at": _iso(record.completed_at),
        "good": record.good,
    }


def _table(records: Sequence[WorkRecord], title: str) -> Table:
    table = Table(title=f"Genealogy of {title}")
    for column in ("unit", "order", "product", "step", "module", "try", "started", "completed", "result"):
        table.add_column(column)
    for r in records:
        result = "running" if r.good is None else ("good" if r.good else "[red]failed[/]")
        table.add_row(
            r.serial,
            r.order_id,
            r.product,
            r.step,
            r.module,
            str(r.attempt),
            _short(r.started_at),
            _short(r.completed_at),
            result,
        )
    return table


def _short(at: datetime | None) -> str:
    return "" if at is None else at.strftime("%Y-%m-%d %H:%M:%S %Z")


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()

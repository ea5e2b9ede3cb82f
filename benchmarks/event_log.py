"""Event-log append and replay throughput: memory vs SQLite vs PostgreSQL, same events, same batches.

The peer here is the in-memory log (the ceiling); PostgreSQL is measured when reachable at
``MICROFAB_TEST_PG`` (a throwaway database is created and dropped).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

from microfab.domain.events import Event, OperationCompleted
from microfab.domain.quantities import Duration
from microfab.store import open_event_log

PG = os.environ.get("MICROFAB_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _events(n: int) -> list[Event]:
    t0 = datetime(2026, 11, 30, tzinfo=UTC)
    return [
        OperationCompleted(t0 + timedelta(seconds=i), f"o{i // 40}", f"s{i}#01", f"s{i}", "m1", True, Duration(600), 1)
        for i in range(n)
    ]


def _measure(url: str, events: list[Event], batch: int) -> tuple[float, float]:
    log = open_event_log(url)
    try:
        start = time.perf_counter()
        for i in range(0, len(events), batch):
            log.append(f"order-{i // batch}", events[i : i + batch], expected_version=0)
        appended = time.perf_counter() - start
        start = time.perf_counter()
        assert len(log.read_all()) == len(events)
        return appended, time.perf_counter() - start
    finally:
        log.close()


def _pg_database() -> tuple[str, str] | None:
    name = f"microfab_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(PG, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception:
        return None
    return name, PG.rsplit("/", 1)[0] + "/" + name


def _drop(name: str) -> None:
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main(*, quick: bool = False) -> None:
    n, batch, runs = (2_000, 50, 1) if quick else (10_000, 50, 3)
    events = _events(n)
    table = Table(
        "store",
        "events",
        "batch",
        "append ev/s",
        "replay ev/s",
        "append vs memory",
        title=f"event log, median of {runs}",
    )
    results: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        targets = {"memory": lambda i: "memory://", "sqlite": lambda i: f"sqlite:///{Path(tmp) / f'b{i}.db'}"}
        for label, url_for in targets.items():
            samples = [_measure(url_for(i), events, batch) for i in range(runs)]
            results[label] = (statistics.median(a for a, _ in samples), statistics.median(r for _, r in samples))
    samples = []
    for _ in range(runs):
        db = _pg_database()
        if db is None:
            break
        try:
            samples.append(_measure(db[1], events, batch))
        finally:
            _drop(db[0])
    if samples:
        results["postgresql"] = (statistics.median(a for a, _ in samples), statistics.median(r for _, r in samples))
    base = results["memory"][0]
    for label, (append, replay) in results.items():
        table.add_row(label, str(n), str(batch), f"{n / append:,.0f}", f"{n / replay:,.0f}", f"{base / append:.3f}")
    if "postgresql" not in results:
        table.add_row("postgresql", "–", "–", "unreachable", "–", "–")
    Console().print(table)

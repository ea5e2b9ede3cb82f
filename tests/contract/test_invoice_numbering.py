"""Invoice numbers are gapless and unique under concurrency, on every event log: threads and processes.

Each writer issues invoices through `issue_invoice` (the real path: order checks, numbering
from the register stream's version, one `append_batch` with the order's billing stream).
Afterwards the register must hold exactly the numbers 1..N, each once, and every order one invoice.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from microfab.control.invoicing import billing_stream, issue_invoice, register_stream
from microfab.control.state import State, order_stream
from microfab.domain.entities import Address, InvoiceSeries, LegalEntity, Registration, Scheme
from microfab.domain.events import OrderAllocated, OrderPlaced, OrderShipped
from microfab.domain.invoices import InvoiceIssued
from microfab.domain.network import Market, Network
from microfab.domain.quantities import Money
from microfab.domain.trade import ANY, TaxJurisdiction, TaxRate, TaxTable, TradeRules
from microfab.store import EventLog, open_event_log
from microfab.store.base import StreamWrite
from tests.support.network import tiny_network

T0 = datetime(2026, 11, 10, 9, tzinfo=UTC)
NOW = T0 + timedelta(days=4)
SERIES = InvoiceSeries("invoice", "RE")
REGISTER = register_stream("microfab-de", SERIES, 2026)


def network() -> Network:
    """The tiny network with one German entity that operates Bavaria and sells in the German market."""
    base = tiny_network()
    entity = LegalEntity(
        "microfab-de",
        "Microfab Deutschland GmbH",
        "DE",
        Address("Leopoldstraße 12", "80802", "München", "DE"),
        (Registration(Scheme.DE_VAT_ID, "DE123456789"),),
        "EUR",
        (SERIES,),
    )
    tax = TaxTable({"DE": TaxJurisdiction("DE", "USt", (TaxRate(ANY, Decimal("0.19")),))})
    return replace(
        base,
        sites={**base.sites, "bavaria": replace(base.sites["bavaria"], entity="microfab-de")},
        markets={"de": Market("de", "DE", "de-DE", "EUR", "Europe/Berlin", entity="microfab-de")},
        entities={"microfab-de": entity},
        trade=TradeRules(tax=tax),
    )


def order_ids(count: int) -> list[str]:
    return [f"ord-{n:05d}" for n in range(1, count + 1)]


def ship_orders(log: EventLog, ids: list[str]) -> None:
    """Write placed, allocated and shipped orders made in Bavaria for the German market, in one batch."""
    price = Money(Decimal("89.00"), "EUR")
    writes = [
        StreamWrite(
            order_stream(order_id),
            [
                OrderPlaced(T0, order_id, "acme", "stand", {"finish": "raw"}, 1, "de", NOW, price, price, Decimal(1)),
                OrderAllocated(T0, order_id, "bavaria", "bavaria-de", price, price, (f"{order_id}-001",)),
                OrderShipped(T0 + timedelta(days=1), order_id, "bavaria-de", NOW),
            ],
            expected_version=0,
        )
        for order_id in ids
    ]
    log.append_batch(writes)


def state_of(log: EventLog) -> State:
    state = State(_network=network())
    for recorded in log.read_all():
        state.apply(recorded)
    return state


def assert_gapless(log: EventLog, ids: list[str]) -> None:
    """The register holds 1..N once each, the printed number matches, and every order has one invoice."""
    recorded = log.read_stream(REGISTER)
    invoices = [r.event.invoice for r in recorded if isinstance(r.event, InvoiceIssued)]
    assert len(invoices) == len(recorded) == len(ids)
    assert [r.version for r in recorded] == list(range(1, len(ids) + 1))
    assert [i.sequence for i in invoices] == list(range(1, len(ids) + 1))
    assert [i.number for i in invoices] == [f"RE-2026-{n:06d}" for n in range(1, len(ids) + 1)]
    assert sorted(i.order_id for i in invoices) == sorted(ids)
    for order_id in ids:
        assert [r.type for r in log.read_stream(billing_stream(order_id))] == ["InvoiceIssued"]


def run_threads(count: int, work: Any) -> list[list[str]]:
    barrier = threading.Barrier(count)
    results: list[list[str]] = [[] for _ in range(count)]
    failures: list[BaseException] = []

    def target(n: int) -> None:
        try:
            barrier.wait()
            results[n] = work(n)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    return results


def test_eight_threads_issue_two_hundred_invoices_without_gap_or_duplicate(log: EventLog) -> None:
    ids = order_ids(200)
    ship_orders(log, ids)
    state = state_of(log)

    def work(n: int) -> list[str]:
        return [issue_invoice(o, state=state, log=log, at=NOW).number for o in ids[n * 25 : (n + 1) * 25]]

    numbers = [number for chunk in run_threads(8, work) for number in chunk]
    assert sorted(numbers) == [f"RE-2026-{n:06d}" for n in range(1, 201)]
    assert_gapless(log, ids)


def test_threads_racing_for_the_same_orders_get_one_invoice_each(log: EventLog) -> None:
    ids = order_ids(25)
    ship_orders(log, ids)
    state = state_of(log)

    def work(n: int) -> list[str]:
        mine = random.Random(n).sample(ids, len(ids))
        return [f"{o}:{issue_invoice(o, state=state, log=log, at=NOW).number}" for o in mine]

    seen = {pair for chunk in run_threads(8, work) for pair in chunk}
    assert len(seen) == 25  # every thread saw the same number for each order
    assert_gapless(log, ids)


def process_context() -> Any:
    """Fresh interpreters, not forks of this one (no inherited connections or threads).

    ``forkserver`` where the platform has it: one clean server process imports microfab once
    and forks every worker from it, so the workers start in milliseconds instead of the
    second and a half a ``spawn`` child takes to import; ``spawn`` elsewhere.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__, "microfab.store.sql", "psycopg"])
    return context


def _issue_in_process(url: str, ids: list[str], barrier: Any, results: Any) -> None:
    """A process of its own: open the log by URL, rebuild the state, wait for the others, issue."""
    log = open_event_log(url)
    try:
        state = state_of(log)
        barrier.wait(timeout=60)
        results.put([issue_invoice(o, state=state, log=log, at=NOW).number for o in ids])
    except BaseException as exc:
        results.put(repr(exc))
        raise
    finally:
        log.close()


def test_four_processes_issue_forty_invoices_without_gap_or_duplicate(sql_url: str) -> None:
    ids = order_ids(40)
    setup = open_event_log(sql_url)
    try:
        ship_orders(setup, ids)
    finally:
        setup.close()
    context = process_context()
    barrier, results = context.Barrier(4), context.Queue()
    processes = [
        context.Process(target=_issue_in_process, args=(sql_url, ids[n * 10 : (n + 1) * 10], barrier, results))
        for n in range(4)
    ]
    for process in processes:
        process.start()
    try:
        outcomes = [results.get(timeout=120) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
    assert all(isinstance(o, list) for o in outcomes), outcomes
    assert sorted(n for o in outcomes for n in o) == [f"RE-2026-{n:06d}" for n in range(1, 41)]
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]
    check = open_event_log(sql_url)
    try:
        assert_gapless(check, ids)
    finally:
        check.close()

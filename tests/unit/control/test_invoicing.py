"""Billing when an order ships: refusals that consume no number, idempotent issue, credit notes, intercompany sales.

The network is the tiny two-site network with legal entities added from domain types (Ohio
is operated by the US entity, Bavaria by the German one); orders are written to the log as
events, so each test controls exactly what shipped.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from microfab.cli.invoice import app as invoice_app
from microfab.cli.invoice import entities_app
from microfab.commerce.tariffs import assess_duty, customs_value
from microfab.control.invoicing import (
    BillingBook,
    billing_stream,
    credit_invoice,
    entity_report,
    issue_invoice,
    on_shipped,
    read_billing,
    record_intercompany,
    register_stream,
)
from microfab.control.state import State, order_stream
from microfab.domain.buyers import Buyer
from microfab.domain.entities import Address, InvoiceSeries, LegalEntity, Registration, Scheme, TransferPolicy
from microfab.domain.errors import DomainError
from microfab.domain.events import Event, OrderAllocated, OrderPlaced, OrderShipped
from microfab.domain.formula import parse
from microfab.domain.invoices import IntercompanySaleRecorded, InvoiceIssued
from microfab.domain.network import Market, Network
from microfab.domain.products import BomLine
from microfab.domain.quantities import Money
from microfab.domain.trade import (
    ANY,
    Combine,
    CustomsBasis,
    OriginRule,
    ShiftLevel,
    TariffLine,
    TariffSchedule,
    TaxJurisdiction,
    TaxRate,
    TaxTable,
    TradeAgreement,
    TradeRules,
)
from microfab.store import MemoryEventLog, open_event_log
from microfab.store.base import EventLog
from tests.support.network import tiny_network

D = Decimal
T0 = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
SHIPPED = T0 + timedelta(days=3)
NOW = SHIPPED + timedelta(hours=1)
EU_TARIFF = TariffSchedule("eu", ("DE", "AT"), CustomsBasis.CIF, (TariffLine("7616.99", D("0.06")),), currency="EUR")
US_TARIFF = TariffSchedule("us", ("US",), CustomsBasis.FOB, (TariffLine("7616.99", D("0.025")),), currency="USD")


def money(text: str) -> Money:
    return Money.parse(text)


def entities() -> dict[str, LegalEntity]:
    de = LegalEntity(
        "microfab-de",
        "Microfab Deutschland GmbH",
        "DE",
        Address("Leopoldstraße 12", "80802", "München", "DE"),
        (Registration(Scheme.DE_VAT_ID, "DE123456789"),),
        "EUR",
        (InvoiceSeries("invoice", "RE"), InvoiceSeries("credit", "RK")),
    )
    us = LegalEntity(
        "microfab-us",
        "Microfab Inc.",
        "US",
        Address("100 N High St", "43215", "Columbus", "US", "OH"),
        (Registration(Scheme.US_EIN, "12-3456789"),),
        "USD",
    )
    return {"microfab-de": de, "microfab-us": us}


def network() -> Network:
    base = tiny_network()
    sheet = BomLine("sheet", parse("1"), "pc", money("12.00 USD"), origin="US", hs_code="7606")
    product = replace(base.products["stand"], hs_code="7616.99", bom=(sheet,))
    tax = TaxTable(
        {
            "DE": TaxJurisdiction("DE", "USt", (TaxRate(ANY, D("0.19")),)),
            "US-OH": TaxJurisdiction("US-OH", "Sales tax", (TaxRate(ANY, D("0.0575")),), import_vat=False),
        }
    )
    return replace(
        base,
        sites={
            "ohio": replace(base.sites["ohio"], entity="microfab-us"),
            "bavaria": replace(base.sites["bavaria"], entity="microfab-de"),
        },
        markets={
            "us": Market("us", "US", "en-US", "USD", "America/New_York", "US-OH", entity="microfab-us"),
            "de": Market("de", "DE", "de-DE", "EUR", "Europe/Berlin", entity="microfab-de"),
        },
        products={"stand": product},
        entities=entities(),
        transfer=TransferPolicy({"stands": D("0.15"), "*": D("0.10")}),
        trade=TradeRules(tax=tax, tariffs=(EU_TARIFF, US_TARIFF)),
    )


def write_order(
    log: EventLog,
    order_id: str,
    *,
    site: str = "ohio",
    market: str = "de",
    shipped: bool = True,
    b2b: bool = False,
    unit: str = "101.00 EUR",
    production: str = "18.40 EUR",
    freight: str = "11.04 EUR",
) -> None:
    unit_price = money(unit)
    lane = f"{site}-{market}"
    events: list[Event] = [
        OrderPlaced(
            T0,
            order_id,
            "acme",
            "stand",
            {"finish": "raw"},
            2,
            market,
            T0 + timedelta(days=10),
            unit_price,
            unit_price * 2,
            D("0.92"),
            tax_jurisdiction="DE" if market == "de" else "US-OH",
            locale="de-DE" if market == "de" else "en-US",
            b2b=b2b,
        ),
        OrderAllocated(
            T0, order_id, site, lane, money(production), money(freight), (f"{order_id}-001", f"{order_id}-002")
        ),
    ]
    if shipped:
        events.append(OrderShipped(SHIPPED, order_id, lane, SHIPPED + timedelta(days=6)))
    log.append(order_stream(order_id), events, expected_version=0)


def state_of(log: EventLog) -> State:
    state = State(_network=network())
    for recorded in log.read_all():
        state.apply(recorded)
    return state


@pytest.fixture
def log() -> MemoryEventLog:
    return MemoryEventLog()


# ------------------------------------------------------------------------------------ refusals


def test_an_order_that_has_not_shipped_gets_no_invoice_and_consumes_no_number(log: MemoryEventLog) -> None:
    write_order(log, "ord-1", shipped=False)
    before = log.read_all()
    with pytest.raises(DomainError, match="order ord-1 has not shipped"):
        issue_invoice("ord-1", state=state_of(log), log=log, at=NOW)
    with pytest.raises(DomainError, match="has not shipped"):
        record_intercompany("ord-1", state=state_of(log), log=log, at=NOW)
    assert log.read_all() == before
    assert log.streams() == ["order-ord-1"]
    write_order(log, "ord-2")
    assert issue_invoice("ord-2", state=state_of(log), log=log, at=NOW).number == "RE-2026-000001"


def test_an_unknown_order_is_refused(log: MemoryEventLog) -> None:
    with pytest.raises(DomainError, match="unknown order 'nope'"):
        issue_invoice("nope", state=state_of(log), log=log, at=NOW)


def test_an_invoice_missing_legal_items_consumes_no_number(log: MemoryEventLog) -> None:
    write_order(log, "ord-1", site="bavaria", b2b=True)
    state = state_of(log)
    with pytest.raises(ValueError, match="Name und Anschrift des Leistungsempfängers"):
        issue_invoice("ord-1", state=state, log=log, at=NOW)
    assert log.streams() == ["order-ord-1"]
    buyer = Buyer("Kontor Schmidt KG", Address("Hafenstraße 3", "20457", "Hamburg", "DE"), {"de-vat-id": "DE987654321"})
    invoice = issue_invoice("ord-1", state=state, log=log, at=NOW, buyer=buyer)
    assert (invoice.number, invoice.buyer.name, invoice.fields["ust_idnr_empfaenger"]) == (
        "RE-2026-000001",
        "Kontor Schmidt KG",
        "DE987654321",
    )


# ------------------------------------------------------------------------------------- invoices


def test_issue_is_idempotent_and_numbers_follow_the_register(log: MemoryEventLog) -> None:
    write_order(log, "ord-1", site="bavaria")
    write_order(log, "ord-2", site="bavaria")
    state = state_of(log)
    first = issue_invoice("ord-1", state=state, log=log, at=NOW)
    count = len(log.read_all())
    assert issue_invoice("ord-1", state=state, log=log, at=NOW + timedelta(days=1)) == first
    assert len(log.read_all()) == count
    second = issue_invoice("ord-2", state=state, log=log, at=NOW)
    assert [(first.number, first.sequence), (second.number, second.sequence)] == [
        ("RE-2026-000001", 1),
        ("RE-2026-000002", 2),
    ]
    register = register_stream("microfab-de", InvoiceSeries("invoice", "RE"), 2026)
    assert register == "invoice-microfab-de-invoice-2026"
    assert [r.event.invoice.number for r in log.read_stream(register) if isinstance(r.event, InvoiceIssued)] == [
        "RE-2026-000001",
        "RE-2026-000002",
    ]
    assert [r.type for r in log.read_stream(billing_stream("ord-1"))] == ["InvoiceIssued"]
    # issued by the market's entity in the market's time zone; supplied the day it shipped (Berlin)
    assert (first.entity, first.issued_at.utcoffset(), first.supplied_on) == (
        "microfab-de",
        timedelta(hours=1),
        date(2026, 11, 13),
    )
    # 2 x 101.00 = 202.00 net, 19 % = 38.38
    assert (first.net, first.tax, first.gross) == (money("202.00 EUR"), money("38.38 EUR"), money("240.38 EUR"))
    assert first.lines[0].description == "stand (finish=raw)"
    assert first.lines[0].codes == {"hs": "7616.99"}


def test_a_us_order_is_invoiced_with_the_sales_tax_of_its_jurisdiction(log: MemoryEventLog) -> None:
    write_order(log, "ord-1", site="ohio", market="us", unit="89.00 USD", production="10.00 USD", freight="1.50 USD")
    invoice = issue_invoice("ord-1", state=state_of(log), log=log, at=NOW)
    assert (invoice.number, invoice.fields["tax_jurisdiction"]) == ("INV-2026-000001", "US-OH")
    assert invoice.tax == money("10.24 USD")  # 178.00 x 5.75 % = 10.235 -> 10.24


# ---------------------------------------------------------------------------------- credit notes


def test_a_credit_note_over_the_remainder_is_refused_and_consumes_no_number(log: MemoryEventLog) -> None:
    write_order(log, "ord-1", site="bavaria")
    state = state_of(log)
    with pytest.raises(DomainError, match="has no invoice to credit"):
        credit_invoice("ord-1", None, "Rücksendung", state=state, log=log, at=NOW)
    issue_invoice("ord-1", state=state, log=log, at=NOW)
    first = credit_invoice("ord-1", money("50.00 EUR"), "Kratzer", state=state, log=log, at=NOW)
    assert (first.number, first.corrects, first.gross) == ("RK-2026-000001", "RE-2026-000001", money("50.00 EUR"))
    register = "invoice-microfab-de-credit-2026"
    before = log.read_all()
    with pytest.raises(ValueError, match=r"exceeds the 190\.38 EUR still creditable"):
        credit_invoice("ord-1", money("200.00 EUR"), "zu viel", state=state, log=log, at=NOW)
    assert log.read_all() == before
    assert log.stream_version(register) == 1
    rest = credit_invoice("ord-1", None, "Storno", state=state, log=log, at=NOW)
    assert (rest.number, rest.gross) == ("RK-2026-000002", money("190.38 EUR"))
    assert read_billing(log, "ord-1").creditable == money("0.00 EUR")


# --------------------------------------------------------------------------------- intercompany


def test_a_german_order_made_in_ohio_is_sold_intercompany_at_the_transfer_price_with_duty_on_it(
    log: MemoryEventLog,
) -> None:
    write_order(log, "ord-1", site="ohio", market="de")
    state = state_of(log)
    written = on_shipped("ord-1", state=state, log=log, at=NOW)
    assert [type(e).__name__ for e in written] == ["IntercompanySaleRecorded", "InvoiceIssued"]
    sale = written[0]
    assert isinstance(sale, IntercompanySaleRecorded)
    # cost: sheet 12.00 USD x 2 + machine time 18.40 EUR / 0.92 = 24.00 + 20.00 = 44.00 USD
    assert (sale.seller, sale.buyer, sale.cost, sale.markup) == (
        "microfab-us",
        "microfab-de",
        money("44.00 USD"),
        D("0.15"),
    )
    assert sale.transfer_price == money("50.60 USD")  # 44.00 x 1.15
    # customs (EU, CIF): 50.60 x 0.92 = 46.552 -> 46.55 EUR + freight 11.04 = 57.59; 6 % = 3.4554 -> 3.46
    expected = assess_duty(
        EU_TARIFF,
        "7616.99",
        "US",
        customs_value(money("46.55 EUR"), money("11.04 EUR"), CustomsBasis.CIF),
        sale.supplied_on,
    )
    assert sale.duty == expected.total == money("3.46 EUR")
    assert sale.supplied_on == date(2026, 11, 13)
    # the customer's invoice is a domestic German sale of the German entity
    invoice = written[1]
    assert isinstance(invoice, InvoiceIssued)
    assert (invoice.invoice.entity, invoice.invoice.country, invoice.invoice.tax) == (
        "microfab-de",
        "DE",
        money("38.38 EUR"),
    )
    assert [r.type for r in log.read_stream(billing_stream("ord-1"))] == ["IntercompanySaleRecorded", "InvoiceIssued"]
    assert on_shipped("ord-1", state=state, log=log, at=NOW) == []
    assert record_intercompany("ord-1", state=state, log=log, at=NOW) == sale


def test_a_good_originating_under_an_agreement_pays_its_preferential_duty(log: MemoryEventLog) -> None:
    write_order(log, "ord-1", site="ohio", market="de")
    state = state_of(log)
    pact = TradeAgreement("US-EU", ("US", "DE"), (OriginRule("*", Combine.SHIFT, shift=ShiftLevel.HEADING),))
    state = State(_network=replace(state.network, trade=replace(state.network.trade, agreements=(pact,))))
    for recorded in log.read_all():
        state.apply(recorded)
    sale = record_intercompany("ord-1", state=state, log=log, at=NOW)
    # the sheet (7606) becomes a stand (7616): the heading changes, the good originates, 0 % replaces 6 %
    assert sale is not None
    assert (sale.transfer_price, sale.duty) == (money("50.60 USD"), money("0.00 EUR"))


def test_an_order_made_by_the_selling_entity_has_no_intercompany_sale(log: MemoryEventLog) -> None:
    write_order(log, "ord-1", site="bavaria", market="de")
    state = state_of(log)
    assert record_intercompany("ord-1", state=state, log=log, at=NOW) is None
    assert [type(e).__name__ for e in on_shipped("ord-1", state=state, log=log, at=NOW)] == ["InvoiceIssued"]


def test_on_shipped_logs_what_it_cannot_issue_and_keeps_going(
    log: MemoryEventLog, caplog: pytest.LogCaptureFixture
) -> None:
    write_order(log, "ord-1", site="ohio", b2b=True)  # a business buyer without details
    with caplog.at_level(logging.WARNING, logger="microfab.control.invoicing"):
        written = on_shipped("ord-1", state=state_of(log), log=log, at=NOW)
    assert [type(e).__name__ for e in written] == ["IntercompanySaleRecorded"]
    assert "order ord-1 shipped but is not invoiced" in caplog.text
    assert "microfab invoice issue ord-1" in caplog.text


def test_a_network_without_entities_bills_nothing_on_shipment(log: MemoryEventLog) -> None:
    write_order(log, "ord-1", site="bavaria")
    state = State(_network=tiny_network())
    for recorded in log.read_all():
        state.apply(recorded)
    assert on_shipped("ord-1", state=state, log=log, at=NOW) == []
    assert log.streams() == ["order-ord-1"]


# ----------------------------------------------------------------------------- projection, report


def test_the_entity_report_shows_revenue_cost_intercompany_margin_and_duties(log: MemoryEventLog) -> None:
    write_order(log, "ord-1", site="ohio", market="de")
    write_order(log, "ord-2", site="bavaria", market="de", production="15.00 EUR")
    state = state_of(log)
    for order_id in ("ord-1", "ord-2"):
        on_shipped(order_id, state=state, log=log, at=NOW)
    credit_invoice("ord-2", money("11.90 EUR"), "Rabatt", state=state, log=log, at=NOW)  # net 10.00
    figures = {f.entity: f for f in entity_report(state, log)}
    de, us = figures["microfab-de"], figures["microfab-us"]
    assert (de.currency, us.currency) == ("EUR", "USD")
    assert de.revenue == money("394.00 EUR")  # 202.00 + 202.00 - 10.00
    assert de.cost == money("37.08 EUR")  # ord-2 made in Bavaria: 24.00 USD x 0.92 = 22.08 + 15.00
    assert de.intercompany_purchases == money("46.55 EUR")  # 50.60 USD x 0.92
    assert de.duties == money("3.46 EUR")
    assert (de.intercompany_sales, de.intercompany_margin) == (money("0.00 EUR"), money("0.00 EUR"))
    assert (us.revenue, us.cost, us.intercompany_sales, us.intercompany_margin) == (
        money("0.00 USD"),
        money("44.00 USD"),
        money("50.60 USD"),
        money("6.60 USD"),
    )
    assert us.result == money("6.60 USD")
    assert de.result == money("306.91 EUR")  # 394.00 - 37.08 - 46.55 - 3.46


def test_the_billing_book_projects_invoices_by_order(log: MemoryEventLog) -> None:
    write_order(log, "ord-1", site="ohio")
    state = state_of(log)
    book = BillingBook.load(log)
    assert book.invoices == {}
    on_shipped("ord-1", state=state, log=log, at=NOW)
    assert book.catch_up(log) == 2
    assert book.invoices["ord-1"].number == "RE-2026-000001"
    assert book.of("ord-1").intercompany is not None
    assert book.of("ord-9").documents == []


# ------------------------------------------------------------------------------------------ CLI

runner = CliRunner()


def test_the_cli_shows_an_invoice_and_refuses_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    sql = open_event_log(url)
    try:
        write_order(sql, "ord-1", site="bavaria", shipped=False)
        write_order(sql, "ord-2", site="bavaria")
        invoice = issue_invoice("ord-2", state=state_of(sql), log=sql, at=NOW)
    finally:
        sql.close()
    shown = runner.invoke(invoice_app, ["show", "ord-2", "--json", "--db", url])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert (data["invoice"]["number"], data["creditable"]) == (invoice.number, {"amount": "240.38", "currency": "EUR"})
    text = runner.invoke(invoice_app, ["show", "ord-2", "--db", url])
    assert "Rechnung RE-2026-000001" in text.stdout
    for args, message in [
        (["issue", "ord-1"], "error: order ord-1 has not shipped"),
        (["show", "ord-1"], "error: order ord-1 has no invoice yet"),
        (["show", "ord-9"], "error: unknown order 'ord-9'"),
        (["credit", "ord-2", "--amount", "ten euros", "--reason", "x"], "error: expected money like"),
    ]:
        result = runner.invoke(invoice_app, [*args, "--db", url])
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(message), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    check = open_event_log(url)
    try:
        assert check.streams("billing-") == ["billing-ord-2"]
    finally:
        check.close()
    report = runner.invoke(entities_app, ["report", "--json", "--db", url])
    assert report.exit_code == 1  # no network applied in this log
    assert report.stderr.startswith("error: no network applied yet")

"""One contract for every `EventLog`: memory, SQLite and PostgreSQL run the same test bodies."""

from __future__ import annotations

import logging
import pickle
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from microfab.domain.access import ApiKeyCreated, ApiKeyRevoked
from microfab.domain.alerts import AlertAcknowledged, AlertCleared, AlertRaised
from microfab.domain.codec import EVENT_TYPES
from microfab.domain.entities import Address
from microfab.domain.events import (
    Event,
    ModuleDeployed,
    ModuleFaulted,
    ModuleRepaired,
    ModuleRetired,
    OperationCompleted,
    OperationDispatched,
    OperationReleased,
    OperationStarted,
    OrderAllocated,
    OrderDelivered,
    OrderPlaced,
    OrderReallocated,
    OrderShipped,
    ResourceApplied,
    ResourceDeleted,
    ScheduleCreated,
    TelemetryLost,
    TelemetryRestored,
    UnitCompleted,
)
from microfab.domain.invoices import (
    CREDIT_NOTE,
    INVOICE,
    CreditNoteIssued,
    IntercompanySaleRecorded,
    Invoice,
    InvoiceIssued,
    InvoiceLine,
    Party,
    RateSummary,
)
from microfab.domain.quantities import Duration, Money
from microfab.domain.schedules import ScheduledOperation
from microfab.store import (
    ConcurrencyError,
    EventLog,
    MemoryEventLog,
    StoreUnavailableError,
    StreamWrite,
    open_event_log,
)
from microfab.store.sql import METADATA, SqlEventLog, events_table

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
IST = timezone(timedelta(hours=5, minutes=30))
NPT = timezone(timedelta(hours=5, minutes=45))
WEST = timezone(timedelta(hours=-3))
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
TOKYO = ZoneInfo("Asia/Tokyo")


def faulted(n: int, at: datetime = T0) -> ModuleFaulted:
    return ModuleFaulted(at=at + timedelta(seconds=n), module="mill-1", reason=f"fault {n}")


def faults(*ns: int) -> list[Event]:
    return [faulted(n) for n in ns]


def sample_invoice(kind: str = INVOICE) -> Invoice:
    """An invoice (or credit note) with nested parties, lines, per-rate totals, country fields and offsets."""
    eur = Money(Decimal("202.00"), "EUR")
    tax = Money(Decimal("38.38"), "EUR")
    return Invoice(
        number="RK-2026-000001" if kind == CREDIT_NOTE else "RE-2026-000042",
        sequence=1 if kind == CREDIT_NOTE else 42,
        series="credit" if kind == CREDIT_NOTE else "invoice",
        kind=kind,
        entity="microfab-de",
        order_id="o-1",
        issued_at=datetime(2026, 11, 21, 10, 30, 0, 250000, tzinfo=ZoneInfo("Europe/Berlin")),
        supplied_on=date(2026, 11, 20),
        country="DE",
        language="de-DE",
        currency="EUR",
        seller=Party(
            "Microfab Deutschland GmbH",
            Address("Leopoldstraße 12", "80802", "München", "DE"),
            {"de-vat-id": "DE123456789"},
            "rechnung@example.de",
        ),
        buyer=Party(
            "Alpen Büro GmbH", Address("Mariahilfer Straße 1", "1060", "Wien", "AT"), {"vat-id": "ATU12345678"}
        ),
        lines=(
            InvoiceLine(
                "laptop-stand (finish=anodized) ※",
                Decimal("2"),
                "Stk.",
                Money(Decimal("101.00"), "EUR"),
                eur,
                "general",
                Decimal("0.19"),
                tax,
                reduced=False,
                codes={"hs": "7616.99", "sat-product": "56101700"},
            ),
        ),
        rates=(RateSummary(Decimal("0.19"), eur, tax),),
        net=eur,
        tax=tax,
        gross=eur + tax,
        b2b=True,
        notes=("Steuerschuldnerschaft des Leistungsempfängers",),
        fields={"leistungsdatum": "2026-11-20", "ust_idnr": "DE123456789"},
        corrects="RE-2026-000042" if kind == CREDIT_NOTE else None,
    )


def sample_events() -> dict[str, Event]:
    """One instance of every event type, with exact decimals and non-UTC offsets."""
    usd = Money(Decimal("38.50"), "USD")
    return {
        "ResourceApplied": ResourceApplied(
            at=T0.astimezone(IST),
            kind="Site",
            name="porto",
            digest="sha256:0f3a",
            change="created",
            spec={"country": "PT", "slots": 4, "open": True, "lanes": ["eu", "uk"], "costs": {"hour": "12.5 EUR"}},
        ),
        "ResourceDeleted": ResourceDeleted(at=T0.astimezone(WEST), kind="Lane", name="porto-us"),
        "ModuleDeployed": ModuleDeployed(at=T0, module="mill-1", module_type="cnc-mill", site="porto"),
        "ModuleRetired": ModuleRetired(at=T0.astimezone(TOKYO), module="mill-1", site="porto"),
        "OrderPlaced": OrderPlaced(
            at=datetime(2025, 3, 1, 10, 0, 0, 123456, tzinfo=SAO_PAULO),
            order_id="o-1",
            customer="acme",
            product="bracket",
            config={"material": "alu", "finish": "anodised"},
            quantity=3,
            market="jp",
            due=datetime(2025, 3, 20, 17, 0, tzinfo=TOKYO),
            unit_price=Money(Decimal("5790"), "JPY"),
            total=Money(Decimal("17370"), "JPY"),
            fx_rate=Decimal("150.3875000000000000000000001"),
        ),
        "OrderAllocated": OrderAllocated(
            at=T0.astimezone(NPT),
            order_id="o-1",
            site="porto",
            lane="porto-jp",
            production_cost=usd,
            freight_cost=Money(Decimal("0.005"), "USD"),
            serials=("o-1-001", "o-1-002", "o-1-003"),
        ),
        "OperationReleased": OperationReleased(
            at=T0,
            order_id="o-1",
            operation_id="o-1-001#01",
            serial="o-1-001",
            index=1,
            step="finish",
            capability="anodise",
            standard=Duration.parse("1h30m"),
            predecessors=("o-1-001#00",),
        ),
        "ScheduleCreated": ScheduleCreated(
            at=T0,
            site="porto",
            status="OPTIMAL",
            objective=5400,
            lower_bound=5000,
            runtime_ms=42,
            operations=(
                ScheduledOperation("o-1-001#00", "mill-1", T0.astimezone(IST), T0 + timedelta(minutes=15)),
                ScheduledOperation("o-1-001#01", "anod-1", T0 + timedelta(minutes=15), T0 + timedelta(hours=2)),
            ),
        ),
        "OperationDispatched": OperationDispatched(at=T0, order_id="o-1", operation_id="o-1-001#00", module="mill-1"),
        "OperationStarted": OperationStarted(
            at=T0, order_id="o-1", operation_id="o-1-001#00", serial="o-1-001", module="mill-1", setup=Duration(0)
        ),
        "OperationCompleted": OperationCompleted(
            at=T0,
            order_id="o-1",
            operation_id="o-1-001#00",
            serial="o-1-001",
            module="mill-1",
            good=False,
            ideal=Duration(899),
            attempt=2,
        ),
        "UnitCompleted": UnitCompleted(at=T0, order_id="o-1", serial="o-1-001"),
        "OrderShipped": OrderShipped(at=T0, order_id="o-1", lane="porto-jp", eta=datetime(2025, 3, 9, tzinfo=TOKYO)),
        "OrderReallocated": OrderReallocated(
            at=T0, order_id="o-1", from_site="porto", to_site="braga", lane="braga-jp", reason="late at porto"
        ),
        "OrderDelivered": OrderDelivered(at=T0.astimezone(SAO_PAULO), order_id="o-1", on_time=True),
        "ModuleFaulted": ModuleFaulted(at=T0, module="mill-1", reason="spindle overload ⚠ – ünïcode"),
        "ModuleRepaired": ModuleRepaired(at=T0 + timedelta(microseconds=1), module="mill-1"),
        "TelemetryLost": TelemetryLost(
            at=T0.astimezone(WEST), site="porto", broker="mqtts://broker.porto:8883", reason="unreachable at start"
        ),
        "TelemetryRestored": TelemetryRestored(at=T0, site="porto", broker="mqtts://broker.porto:8883"),
        "ApiKeyCreated": ApiKeyCreated(
            at=T0, key_id="a1b2c3d4e5f6", role="customer", customer="acme", market=None, digest="0" * 64, label="ü"
        ),
        "ApiKeyRevoked": ApiKeyRevoked(at=T0, key_id="a1b2c3d4e5f6"),
        "AlertRaised": AlertRaised(
            at=T0, alert_id="A00001", kind="module-repeated-faults", subject="mill-1", message="3 faults in 24 h"
        ),
        "AlertCleared": AlertCleared(at=T0, alert_id="A00001", reason="no repeated faults in the window any more"),
        "AlertAcknowledged": AlertAcknowledged(at=T0, alert_id="A00001", by="night-shift ✓"),
        "InvoiceIssued": InvoiceIssued(at=T0.astimezone(IST), invoice=sample_invoice()),
        "CreditNoteIssued": CreditNoteIssued(at=T0.astimezone(NPT), credit_note=sample_invoice(CREDIT_NOTE)),
        "IntercompanySaleRecorded": IntercompanySaleRecorded(
            at=T0,
            order_id="o-1",
            seller="microfab-us",
            buyer="microfab-de",
            cost=Money(Decimal("44.00"), "USD"),
            markup=Decimal("0.15"),
            transfer_price=Money(Decimal("50.60"), "USD"),
            duty=Money(Decimal("3.46"), "EUR"),
            supplied_on=date(2026, 11, 13),
        ),
    }


# ---------------------------------------------------------------- append and read


def test_open_event_log_picks_the_implementation(log: EventLog) -> None:
    assert isinstance(log, EventLog)
    assert isinstance(log, MemoryEventLog | SqlEventLog)


def test_append_then_read_stream(log: EventLog) -> None:
    events = faults(1, 2, 3)
    assert log.append("module-mill-1", events) == 3
    recorded = log.read_stream("module-mill-1")
    assert [r.event for r in recorded] == events
    assert [r.version for r in recorded] == [1, 2, 3]
    assert {r.stream for r in recorded} == {"module-mill-1"}
    assert {r.type for r in recorded} == {"ModuleFaulted"}
    positions = [r.position for r in recorded]
    assert positions == sorted(positions)
    assert len(set(positions)) == 3
    for r in recorded:
        assert r.recorded_at.utcoffset() == timedelta(0)


def test_versions_are_contiguous_from_one_per_stream(log: EventLog) -> None:
    assert log.append("a", faults(1), expected_version=0) == 1
    assert log.append("b", faults(2, 3)) == 2
    assert log.append("a", faults(4, 5), expected_version=1) == 3
    assert log.append("a", faults(6)) == 4
    assert [r.version for r in log.read_stream("a")] == [1, 2, 3, 4]
    assert [r.version for r in log.read_stream("b")] == [1, 2]
    assert log.stream_version("a") == 4
    assert log.stream_version("b") == 2
    assert log.stream_version("nobody") == 0
    assert log.read_stream("nobody") == []


def test_read_stream_after_version(log: EventLog) -> None:
    log.append("s", faults(1, 2, 3, 4))
    assert [r.version for r in log.read_stream("s", after_version=2)] == [3, 4]
    assert log.read_stream("s", after_version=4) == []


def test_empty_append_writes_nothing_but_checks_the_version(log: EventLog) -> None:
    log.append("s", faults(1))
    assert log.append("s", [], expected_version=1) == 1
    assert log.append("new", []) == 0
    assert log.streams() == ["s"]
    with pytest.raises(ConcurrencyError):
        log.append("s", [], expected_version=0)


# ---------------------------------------------------------------- optimistic concurrency


def test_expected_version_conflict_raises_and_writes_nothing(log: EventLog) -> None:
    log.append("order-1", faults(1, 2))
    with pytest.raises(ConcurrencyError) as info:
        log.append("order-1", faults(3), expected_version=1)
    assert (info.value.stream, info.value.expected, info.value.actual) == ("order-1", 1, 2)
    message = str(info.value)
    assert "order-1" in message
    assert "1" in message
    assert "2" in message
    assert log.stream_version("order-1") == 2
    assert len(log.read_all()) == 2


def test_expected_version_on_a_new_stream(log: EventLog) -> None:
    with pytest.raises(ConcurrencyError) as info:
        log.append("order-9", faults(1), expected_version=3)
    assert info.value.actual == 0
    assert log.streams() == []


def test_concurrency_error_pickles() -> None:
    error = pickle.loads(pickle.dumps(ConcurrencyError("s", 1, 2)))
    assert (error.stream, error.expected, error.actual, str(error)) == ("s", 1, 2, str(ConcurrencyError("s", 1, 2)))


def test_racing_writers_with_the_same_expected_version_only_one_wins(log: EventLog) -> None:
    log.append("race", faults(0))
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def writer(n: int) -> None:
        barrier.wait()
        try:
            log.append("race", faults(n), expected_version=1)
            outcomes.append("won")
        except ConcurrencyError:
            outcomes.append("lost")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["lost", "lost", "lost", "won"]
    assert [r.version for r in log.read_stream("race")] == [1, 2]


# ---------------------------------------------------------------- batches


def test_append_batch_writes_every_stream(log: EventLog) -> None:
    log.append_batch(
        [
            StreamWrite("order-1", faults(1, 2), expected_version=0),
            StreamWrite("site-porto", faults(3)),
            StreamWrite("order-1", faults(4), expected_version=2),
        ]
    )
    assert [(r.stream, r.version, r.event) for r in log.read_all()] == [
        ("order-1", 1, faulted(1)),
        ("order-1", 2, faulted(2)),
        ("site-porto", 1, faulted(3)),
        ("order-1", 3, faulted(4)),
    ]


def test_append_batch_is_all_or_nothing(log: EventLog) -> None:
    log.append("site-porto", faults(1))
    with pytest.raises(ConcurrencyError) as info:
        log.append_batch(
            [
                StreamWrite("order-1", faults(2), expected_version=0),
                StreamWrite("site-porto", faults(3), expected_version=0),
            ]
        )
    assert info.value.stream == "site-porto"
    assert log.stream_version("order-1") == 0
    assert log.streams() == ["site-porto"]
    assert [r.event for r in log.read_all()] == [faulted(1)]


def test_append_batch_of_nothing(log: EventLog) -> None:
    log.append_batch([])
    assert log.read_all() == []


# ---------------------------------------------------------------- global order and filters


@pytest.fixture
def filled(log: EventLog) -> EventLog:
    log.append("order-1", [faulted(1), ModuleRepaired(at=T0, module="m")])
    log.append("order-2", [faulted(2)])
    log.append("module-mill-1", [ModuleRepaired(at=T0, module="mill-1"), faulted(3)])
    log.append("order-1", [faulted(4)])
    log.append("ORDER-X", [faulted(5)])
    log.append("order_%", [faulted(6)])
    return log


def test_read_all_is_in_position_order(filled: EventLog) -> None:
    records = filled.read_all()
    assert len(records) == 8
    positions = [r.position for r in records]
    assert positions == sorted(set(positions))
    assert [(r.stream, r.version) for r in records][:3] == [("order-1", 1), ("order-1", 2), ("order-2", 1)]


def test_read_all_filters(filled: EventLog) -> None:
    everything = filled.read_all()
    third = everything[2].position
    assert filled.read_all(after_position=third) == everything[3:]
    assert filled.read_all(after_position=everything[-1].position) == []
    assert filled.read_all(limit=2) == everything[:2]
    assert filled.read_all(limit=0) == []
    assert [r.type for r in filled.read_all(types={"ModuleRepaired"})] == ["ModuleRepaired", "ModuleRepaired"]
    assert filled.read_all(types=[]) == []
    assert filled.read_all(types=["NoSuchEvent"]) == []
    assert {r.stream for r in filled.read_all(stream_prefix="order-")} == {"order-1", "order-2"}
    assert [r.stream for r in filled.read_all(stream_prefix="order_")] == ["order_%"]
    assert [r.stream for r in filled.read_all(stream_prefix="ORDER")] == ["ORDER-X"]
    combined = filled.read_all(after_position=everything[0].position, types=["ModuleFaulted"], stream_prefix="order-")
    assert [(r.stream, r.version) for r in combined] == [("order-2", 1), ("order-1", 3)]
    assert filled.read_all(types=["ModuleFaulted"], stream_prefix="order-", limit=1) == [everything[0]]


def test_read_all_rejects_a_negative_limit_and_a_lone_type_string(log: EventLog) -> None:
    with pytest.raises(ValueError, match="limit"):
        log.read_all(limit=-1)
    with pytest.raises(TypeError, match="types"):
        log.read_all(types="OrderPlaced")


def test_streams_by_prefix_sorted(filled: EventLog) -> None:
    assert filled.streams() == sorted(["order-1", "order-2", "module-mill-1", "ORDER-X", "order_%"])
    assert filled.streams("order-") == ["order-1", "order-2"]
    assert filled.streams("order") == ["order-1", "order-2", "order_%"]
    assert filled.streams("ORDER") == ["ORDER-X"]
    assert filled.streams("nothing") == []


# ---------------------------------------------------------------- serialisation


def test_every_event_type_has_a_sample() -> None:
    assert set(sample_events()) == set(EVENT_TYPES)
    for name, event in sample_events().items():
        assert type(event) is EVENT_TYPES[name]


def test_every_event_type_round_trips_equal(log: EventLog) -> None:
    samples = list(sample_events().values())
    log.append("all-types", samples)
    read = [r.event for r in log.read_stream("all-types")]
    assert read == samples
    placed = next(e for e in read if isinstance(e, OrderPlaced))
    assert placed.fx_rate == Decimal("150.3875000000000000000000001")
    assert placed.unit_price.amount == Decimal("5790")
    assert placed.at.utcoffset() == timedelta(hours=-3)
    assert [r.type for r in log.read_all()] == list(sample_events())


def test_rejects_bad_input_and_writes_nothing(log: EventLog) -> None:
    naive = ModuleFaulted(at=datetime(2025, 1, 1, 12, 0), module="m", reason="r")
    with pytest.raises(ValueError, match="naive"):
        log.append("s", [faulted(1), naive])
    with pytest.raises(TypeError):
        log.append("s", ["not an event"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        log.append("s", faulted(1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="stream"):
        log.append("", faults(1))
    with pytest.raises(ValueError, match="stream"):
        log.append("x" * 201, faults(1))
    with pytest.raises(ValueError, match="expected_version"):
        log.append("s", faults(1), expected_version=-1)
    assert log.read_all() == []


def test_closed_log_refuses_work(log: EventLog) -> None:
    log.close()
    with pytest.raises(StoreUnavailableError, match="closed"):
        log.read_all()
    with pytest.raises(StoreUnavailableError, match="closed"):
        log.append("s", faults(1))


# ---------------------------------------------------------------- SQL specifics


def test_occurred_at_column_is_the_event_time_in_utc(sql_url: str) -> None:
    with SqlEventLog(sql_url) as log:
        log.append("s", [ModuleFaulted(at=datetime(2025, 3, 1, 15, 0, tzinfo=IST), module="m", reason="r")])
        with log.engine.connect() as conn:
            occurred = conn.execute(select(events_table.c.occurred_at)).scalar_one()
    assert occurred == datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def test_migrations_match_the_table_and_rerun_as_a_no_op(sql_url: str) -> None:
    with SqlEventLog(sql_url) as log:
        log.append("s", faults(1, 2))
    with SqlEventLog(sql_url) as log:
        assert [r.event for r in log.read_stream("s")] == faults(1, 2)
        with log.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == ["0001"]
            assert compare_metadata(MigrationContext.configure(conn), METADATA) == []
            assert conn.execute(select(func.count()).select_from(events_table)).scalar_one() == 2


def test_sqlite_file_reopens_with_everything(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'deep' / 'er' / 'events.db'}"
    with SqlEventLog(url) as log:
        log.append("order-1", list(sample_events().values()))
        log.append("order-2", faults(1), expected_version=0)
        before = log.read_all()
    with SqlEventLog(url) as log:
        assert log.read_all() == before
        assert log.stream_version("order-1") == len(EVENT_TYPES)
        assert log.append("order-2", faults(2), expected_version=1) == 2
        with log.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_sqlite_in_memory_works(tmp_path: Path) -> None:
    with SqlEventLog("sqlite://") as log:
        assert log.append("s", faults(1, 2)) == 2
        assert len(log.read_all()) == 2


def test_opening_prints_nothing_and_leaves_logging_alone(sql_url: str, capfd: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    with SqlEventLog(sql_url):
        pass
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert (root.handlers, root.level) == (handlers, level)
    assert all(isinstance(h, logging.NullHandler) for h in logging.getLogger("alembic").handlers)


def test_appending_ten_thousand_events_is_fast(sql_url: str) -> None:
    with SqlEventLog(sql_url) as log:
        started = time.perf_counter()
        for batch in range(100):
            log.append(f"order-{batch % 10}", [faulted(n) for n in range(100)])
        elapsed = time.perf_counter() - started
        assert len(log.read_all()) == 10_000
    assert elapsed < 5.0, f"10,000 events took {elapsed:.2f} s"


# ---------------------------------------------------------------- unavailable stores


def test_unreachable_postgres_fails_fast_with_one_masked_line() -> None:
    started = time.perf_counter()
    with pytest.raises(StoreUnavailableError) as info:
        open_event_log("postgresql+psycopg://mf:s3cret-pw@127.0.0.1:1/db")
    assert time.perf_counter() - started < 3.5
    message = str(info.value)
    assert "\n" not in message
    assert "s3cret-pw" not in message
    assert "postgresql+psycopg://mf:***@127.0.0.1:1/db" in message
    assert "refused" in message.lower()


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_plain_postgres_schemes_use_psycopg(scheme: str) -> None:
    with pytest.raises(StoreUnavailableError, match=r"postgresql\+psycopg://mf:\*\*\*@127.0.0.1:1/db"):
        open_event_log(f"{scheme}://mf:pw@127.0.0.1:1/db")


def test_sqlite_path_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreUnavailableError) as info:
        open_event_log(f"sqlite:///{blocker / 'events.db'}")
    assert "\n" not in str(info.value)
    assert "a-file" in str(info.value)


def test_sqlite_file_that_is_not_a_database(tmp_path: Path) -> None:
    garbage = tmp_path / "events.db"
    garbage.write_bytes(b"this is not an sqlite database, just some bytes " * 100)
    with pytest.raises(StoreUnavailableError, match="cannot open event log sqlite:///"):
        open_event_log(f"sqlite:///{garbage}")


@pytest.mark.parametrize("url", ["mysql://u:pw@h/db", "events.db", "redis://h", "postgresql+psycopg2://h/db"])
def test_unsupported_urls_are_value_errors(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported event log URL") as info:
        open_event_log(url)
    assert "pw" not in str(info.value)


# ---------------------------------------------------------------- property: random appends


@pytest.fixture(params=["memory", "sqlite"])
def make_log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], EventLog]]:
    opened: list[EventLog] = []

    def make() -> EventLog:
        url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / f'h{len(opened)}.db'}"
        opened.append(open_event_log(url))
        return opened[-1]

    yield make
    for event_log in opened:
        event_log.close()


operations = st.lists(
    st.tuples(st.sampled_from(["order-1", "order-2", "module-a", "site-x"]), st.integers(0, 3), st.booleans()),
    max_size=20,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_random_appends_keep_order_and_contiguous_versions(
    make_log: Callable[[], EventLog], ops: list[tuple[str, int, bool]]
) -> None:
    log = make_log()
    model: list[tuple[str, Event]] = []
    versions: dict[str, int] = {}
    for n, (stream, count, stale) in enumerate(ops):
        events = [faulted(100 * n + i) for i in range(count)]
        current = versions.get(stream, 0)
        if stale:
            with pytest.raises(ConcurrencyError):
                log.append(stream, events, expected_version=current + 1)
            continue
        assert log.append(stream, events, expected_version=current) == current + count
        versions[stream] = current + count
        model.extend((stream, e) for e in events)
    records = log.read_all()
    assert [(r.stream, r.event) for r in records] == model
    assert all(a.position < b.position for a, b in pairwise(records))
    for stream, version in versions.items():
        assert [r.version for r in log.read_stream(stream)] == list(range(1, version + 1))
    assert log.streams() == sorted(s for s, v in versions.items() if v)


def test_a_write_that_loses_a_race_past_the_lock_is_a_concurrency_error(
    sql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SqlEventLog(sql_url) as log:
        log.append("s", faults(1))
        real = SqlEventLog._versions
        calls: list[int] = []

        def stale_once(conn: object, names: object) -> dict[str, int]:
            calls.append(1)
            versions = real(conn, names)  # type: ignore[arg-type]
            return dict.fromkeys(versions, 0) if len(calls) == 1 else versions

        monkeypatch.setattr(SqlEventLog, "_versions", staticmethod(stale_once))
        with pytest.raises(ConcurrencyError) as info:
            log.append("s", faults(2))
        assert (info.value.stream, info.value.expected, info.value.actual) == ("s", 0, 1)
        assert [r.event for r in log.read_stream("s")] == faults(1)

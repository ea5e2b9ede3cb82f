"""The event log on SQLAlchemy 2 Core: one append-only ``events`` table on SQLite or PostgreSQL.

Optimistic concurrency per stream: a write reads the stream's version and inserts the next
versions in one transaction; the unique constraint on ``(stream, version)`` backs the check.
Writers are serialised (``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped advisory lock on
PostgreSQL) so that positions become visible in increasing order: a reader that follows the log
with ``read_all(after_position=...)`` never misses an event committed late with a lower position.
The schema is created and upgraded by the Alembic migrations in ``microfab/store/migrations``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    DateTime,
    Dialect,
    Engine,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from microfab.domain.codec import decode
from microfab.domain.events import Event
from microfab.store.base import (
    ConcurrencyError,
    RecordedEvent,
    StoreUnavailableError,
    StreamWrite,
    check_aware,
    check_limit,
    check_stream,
    check_types,
    mask_url,
    prepare_write,
)
from microfab.store.memory import utc_now

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
"""The Alembic script directory shipped in the package."""

CONNECT_TIMEOUT_S = 3
"""Seconds to wait for a PostgreSQL server before giving up."""

SQLITE_BUSY_TIMEOUT_S = 10
"""Seconds an SQLite writer waits for another writer's lock."""

_ADVISORY_LOCK = 0x6D666162  # "mfab": serialises writers to the events table on PostgreSQL
_WRITE = "microfab_write"  # execution option that makes SQLite begin with BEGIN IMMEDIATE


class UtcDateTime(TypeDecorator[datetime]):
    """An aware timestamp stored in UTC (``timestamptz`` on PostgreSQL; UTC text on SQLite)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC; refuse a naive one."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("expected a timezone-aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the stored time as aware UTC (SQLite gives it back naive)."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


METADATA = MetaData()
"""The store's schema, kept equal to what the migrations create (a test checks it)."""

events_table = Table(
    "events",
    METADATA,
    Column("position", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("stream", String(200), nullable=False, index=True),
    Column("version", Integer(), nullable=False),
    Column("type", String(100), nullable=False, index=True),
    Column("data", JSON().with_variant(JSONB(), "postgresql"), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    UniqueConstraint("stream", "version", name="uq_events_stream_version"),
)


def normalize_url(url: str) -> URL:
    """Parse *url* and pick the supported driver (``postgresql://`` and ``postgres://`` use psycopg 3).

    Raises
    ------
    ValueError
        If the URL cannot be parsed or names a database other than SQLite or PostgreSQL.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ValueError(f"cannot parse event log URL {mask_url(url)!r}") from exc
    backend, _, driver = parsed.drivername.partition("+")
    if backend in {"postgresql", "postgres"} and driver in {"", "psycopg"}:
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and driver in {"", "pysqlite"}:
        return parsed
    raise ValueError(
        f"unsupported event log URL {mask_url(url)!r}: expected sqlite:///path or postgresql+psycopg://user@host/db"
    )


def alembic_config(connection: Connection | None = None) -> Config:
    """Build the Alembic configuration of the store's migrations in code (no ini file, no logging setup).

    Parameters
    ----------
    connection
        The connection the migrations run on (``config.attributes["connection"]``).
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migrate(connection: Connection) -> None:
    """Upgrade the schema on *connection* to the newest migration (a no-op when it is current).

    The current revision is read first: a database already at head skips Alembic's environment
    (about 4 ms on every open, which every CLI call pays).
    """
    current = MigrationContext.configure(connection).get_current_revision()
    if current is not None and current == _head_revision():
        return
    command.upgrade(alembic_config(connection), "head")


@functools.cache
def _head_revision() -> str | None:
    """The newest migration shipped with this release (read once per process)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


class SqlEventLog:
    """An `EventLog` in an SQL database (SQLite or PostgreSQL), migrated to the newest schema on open.

    Parameters
    ----------
    url
        ``sqlite:///path.db`` (parent folders are created), ``sqlite://`` (in memory), or
        ``postgresql+psycopg://user:password@host:port/db``.
    clock
        Returns the aware time stamped as ``recorded_at`` (default: now, UTC).

    Raises
    ------
    StoreUnavailableError
        If the database cannot be reached, created or migrated.
    ValueError
        If the URL is not an SQLite or PostgreSQL URL.
    """

    def __init__(self, url: str, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._url = normalize_url(url)
        self._masked = self._url.render_as_string(hide_password=True)
        self._clock = clock
        self._postgres = self._url.get_backend_name() == "postgresql"
        self._closed = False
        self._action = "open"  # how StoreUnavailableError words a failure: "open" until opened, then "reach"
        try:
            self._engine = self._create_engine()
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailableError(self._describe(exc, "open")) from exc
        try:
            with self._transaction() as conn:
                migrate(conn)
        except StoreUnavailableError:
            self._engine.dispose()
            raise
        except (SQLAlchemyError, OSError, CommandError) as exc:
            self._engine.dispose()
            raise StoreUnavailableError(self._describe(exc, "open")) from exc
        self._action = "reach"
        log.debug("opened event log %s", self._masked)

    def __repr__(self) -> str:
        return f"SqlEventLog({self._masked!r})"

    def __enter__(self) -> SqlEventLog:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for projections and tests that query the table directly)."""
        return self._engine

    def append(self, stream: str, events: Sequence[Event], *, expected_version: int | None = None) -> int:
        """Append *events* to *stream* atomically and return the stream's new version."""
        return self._write([StreamWrite(stream, events, expected_version)])[stream]

    def append_batch(self, writes: Sequence[StreamWrite]) -> None:
        """Append to several streams in one transaction: all writes or none."""
        self._write(writes)

    def read_stream(self, stream: str, *, after_version: int = 0) -> list[RecordedEvent]:
        """Return the events of *stream* with a version above *after_version*, in version order."""
        check_stream(stream)
        t = events_table.c
        query = select(events_table).where(t.stream == stream, t.version > after_version).order_by(t.version)
        return self._select(query)

    def read_all(
        self,
        *,
        after_position: int = 0,
        types: Collection[str] | None = None,
        stream_prefix: str | None = None,
        limit: int | None = None,
    ) -> list[RecordedEvent]:
        """Return events after *after_position* in log order, filtered by type names and stream prefix."""
        check_limit(limit)
        t = events_table.c
        query = select(events_table).where(t.position > after_position).order_by(t.position)
        if types is not None:
            query = query.where(t.type.in_(list(check_types(types))))
        if stream_prefix:
            query = query.where(_starts_with(stream_prefix))
        if limit is not None:
            query = query.limit(limit)
        return self._select(query)

    def stream_version(self, stream: str) -> int:
        """Return the stream's current version: 0 for a stream with no events."""
        t = events_table.c
        with self._connection() as conn:
            version = conn.execute(select(func.max(t.version)).where(t.stream == stream)).scalar()
        return int(version or 0)

    def streams(self, prefix: str = "") -> list[str]:
        """Return the names of the streams that start with *prefix*, sorted (by code point, on every database)."""
        query = select(events_table.c.stream).distinct()
        if prefix:
            query = query.where(_starts_with(prefix))
        with self._connection() as conn:
            return sorted(conn.execute(query).scalars())

    def close(self) -> None:
        """Close every pooled connection; later calls raise `StoreUnavailableError`."""
        self._closed = True
        self._engine.dispose()

    # ------------------------------------------------------------------ internals

    def _create_engine(self) -> Engine:
        if self._postgres:
            connect_args: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "microfab"}
            return create_engine(self._url, connect_args=connect_args, pool_pre_ping=True)
        database = self._url.database
        if not database or database == ":memory:":
            engine = create_engine(self._url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            if not database.startswith("file:"):
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(self._url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """Open a connection; database failures become `StoreUnavailableError`."""
        if self._closed:
            raise StoreUnavailableError(f"event log {self._masked}: closed")
        try:
            with self._engine.connect() as conn:
                yield conn
        except OperationalError as exc:
            raise StoreUnavailableError(self._describe(exc, self._action)) from exc

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """Open a write transaction, serialised with every other writer of the log."""
        with self._connection() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                if self._postgres:
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
                yield conn

    def _write(self, writes: Sequence[StreamWrite]) -> dict[str, int]:
        encoded = [prepare_write(w) for w in writes]
        if not writes:
            return {}
        names = {w.stream for w in writes}
        start: dict[str, int] = dict.fromkeys(names, 0)
        try:
            with self._transaction() as conn:
                versions = self._versions(conn, names)
                start = dict(versions)
                rows: list[dict[str, Any]] = []
                recorded_at = check_aware(self._clock(), "recorded_at")
                for write, items in zip(writes, encoded, strict=True):
                    current = versions[write.stream]
                    if write.expected_version is not None and write.expected_version != current:
                        raise ConcurrencyError(write.stream, write.expected_version, current)
                    for offset, (source, (type_name, data)) in enumerate(zip(write.events, items, strict=True)):
                        rows.append(
                            {
                                "stream": write.stream,
                                "version": current + offset + 1,
                                "type": type_name,
                                "data": data,
                                "occurred_at": source.at,
                                "recorded_at": recorded_at,
                            }
                        )
                    versions[write.stream] = current + len(items)
                if rows:
                    conn.execute(insert(events_table), rows)
        except IntegrityError as exc:
            raise self._conflict(start_versions=start, writes=writes) from exc
        return versions

    @staticmethod
    def _versions(conn: Connection, names: Collection[str]) -> dict[str, int]:
        versions = dict.fromkeys(names, 0)
        if names:
            t = events_table.c
            query = select(t.stream, func.max(t.version)).where(t.stream.in_(list(names))).group_by(t.stream)
            for stream, version in conn.execute(query):
                versions[stream] = int(version)
        return versions

    def _conflict(self, *, start_versions: dict[str, int], writes: Sequence[StreamWrite]) -> ConcurrencyError:
        """Report the first stream that moved (a writer that bypassed the lock won a race)."""
        with self._connection() as conn:
            now = self._versions(conn, start_versions)
        for write in writes:
            if now[write.stream] != start_versions[write.stream]:
                expected = write.expected_version
                return ConcurrencyError(
                    write.stream, start_versions[write.stream] if expected is None else expected, now[write.stream]
                )
        first = writes[0].stream
        return ConcurrencyError(first, start_versions[first], now[first])

    def _select(self, query: Any) -> list[RecordedEvent]:
        with self._connection() as conn:
            return [_recorded(row) for row in conn.execute(query)]

    def _describe(self, exc: BaseException, action: str) -> str:
        reason = str(exc.orig) if isinstance(exc, DBAPIError) else str(exc)
        reason = " ".join(reason.split()) or type(exc).__name__
        if self._url.password:
            reason = reason.replace(str(self._url.password), "***")
        return f"cannot {action} event log {self._masked}: {reason}"


def _starts_with(prefix: str) -> Any:
    # substr, not LIKE: LIKE ignores case on SQLite and needs escaping of % and _.
    return func.substr(events_table.c.stream, 1, len(prefix)) == prefix


def _recorded(row: Row[Any]) -> RecordedEvent:
    return RecordedEvent(
        position=int(row.position),
        stream=row.stream,
        version=int(row.version),
        event=decode(row.type, row.data),
        recorded_at=row.recorded_at,
    )


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin) instead of the sqlite3 module's legacy mode.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a commit survives a crash of the process (what the controller's outbox needs;
        # the SIGKILL test proves it) and the file never corrupts; only a power loss may drop the last
        # commits. FULL would fsync every commit (~5 ms each here) for no gain against process crashes.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # Writers take the write lock up front, so the version check and the insert see the same state.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")

"""The event log port: append events to streams with optimistic concurrency, read them back in order.

Every change of state in microfab is an `Event` appended to one log. A *stream* groups the
events of one aggregate (``order-<id>``, ``module-<name>``...); its *version* counts its events
from 1, and a writer that passes ``expected_version`` only succeeds if nobody wrote in between
(optimistic concurrency). The *position* orders every event of the log, across streams.

`open_event_log` picks the implementation from a URL: ``memory://`` for tests and demos,
``sqlite:///path`` for one machine, ``postgresql+psycopg://...`` in production.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from microfab.domain.codec import EVENT_TYPES, encode
from microfab.domain.events import Event

STREAM_MAX_LENGTH = 200
"""Longest stream name the log accepts (the SQL column is ``VARCHAR(200)``)."""


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as the log recorded it: global position, stream, version in the stream, time recorded."""

    position: int
    stream: str
    version: int
    event: Event
    recorded_at: datetime

    @property
    def type(self) -> str:
        """The event's type name (``"OrderPlaced"``)."""
        return type(self.event).__name__


@dataclass(frozen=True, slots=True)
class StreamWrite:
    """Events to append to one stream, only if the stream is at *expected_version* (``None``: any)."""

    stream: str
    events: Sequence[Event]
    expected_version: int | None = None


class ConcurrencyError(Exception):
    """A stream was not at the version the writer expected: someone else wrote first.

    Parameters
    ----------
    stream
        The stream written.
    expected
        The version the writer expected.
    actual
        The stream's version when the write was attempted.
    """

    def __init__(self, stream: str, expected: int, actual: int) -> None:
        super().__init__(f"stream {stream!r}: expected version {expected}, actual version {actual}")
        self.stream = stream
        self.expected = expected
        self.actual = actual

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.stream, self.expected, self.actual)


class StoreUnavailableError(Exception):
    """The log cannot be opened or reached; the one-line message names the URL (password masked) and why."""


@runtime_checkable
class EventLog(Protocol):
    """An append-only log of events in streams (the port every store implements)."""

    def append(self, stream: str, events: Sequence[Event], *, expected_version: int | None = None) -> int:
        """Append *events* to *stream* atomically and return the stream's new version.

        Raises
        ------
        ConcurrencyError
            If *expected_version* is given and the stream is at another version; nothing is written.
        """
        ...

    def append_batch(self, writes: Sequence[StreamWrite]) -> None:
        """Append to several streams in one transaction: all writes succeed or none does.

        Writes apply in order, so a later write to the same stream expects the version the
        earlier one leaves.

        Raises
        ------
        ConcurrencyError
            If any write's expected version does not hold; nothing is written.
        """
        ...

    def read_stream(self, stream: str, *, after_version: int = 0) -> list[RecordedEvent]:
        """Return the events of *stream* with a version above *after_version*, in version order."""
        ...

    def read_all(
        self,
        *,
        after_position: int = 0,
        types: Collection[str] | None = None,
        stream_prefix: str | None = None,
        limit: int | None = None,
    ) -> list[RecordedEvent]:
        """Return events after *after_position* in log order, filtered by type names and stream prefix."""
        ...

    def stream_version(self, stream: str) -> int:
        """Return the stream's current version: 0 for a stream with no events."""
        ...

    def streams(self, prefix: str = "") -> list[str]:
        """Return the names of the streams that start with *prefix*, sorted."""
        ...

    def close(self) -> None:
        """Release connections; the log must not be used afterwards."""
        ...


def open_event_log(url: str) -> EventLog:
    """Open the event log at *url*, creating and migrating it if needed.

    Parameters
    ----------
    url
        ``memory://`` (in-process, lost on exit), ``sqlite:///relative/path.db``,
        ``sqlite:////absolute/path.db`` (parent folders are created), or
        ``postgresql+psycopg://user:password@host:port/db`` (``postgresql://`` and
        ``postgres://`` are accepted and use psycopg 3).

    Raises
    ------
    StoreUnavailableError
        If the database cannot be reached or opened.
    ValueError
        If the URL's scheme is not one of the above.
    """
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme == "memory":
        from microfab.store.memory import MemoryEventLog  # noqa: PLC0415 - keep SQLAlchemy out of memory-only use

        return MemoryEventLog()
    if scheme in {"sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg"}:
        from microfab.store.sql import SqlEventLog  # noqa: PLC0415 - import SQLAlchemy only when needed

        return SqlEventLog(url)
    raise ValueError(
        f"unsupported event log URL {mask_url(url)!r}: expected memory://, sqlite:///path "
        "or postgresql+psycopg://user@host/db"
    )


# user:password@ right after the scheme; over-masks rather than leak a password holding "/".
_PASSWORD = re.compile(r"(?P<head>://[^/:@]*:)(?P<password>[^@]*)@")


def mask_url(url: str) -> str:
    """Return *url* with its password, if any, replaced by ``***``."""
    return _PASSWORD.sub(lambda m: f"{m.group('head')}***@", url, count=1)


def prepare_write(write: StreamWrite) -> list[tuple[str, dict[str, Any]]]:
    """Check a write and return its events encoded by `microfab.domain.codec`.

    Raises
    ------
    ValueError
        If the stream name is empty, too long or holds a NUL, if *expected_version* is negative,
        or if an event holds a naive datetime.
    TypeError
        If an item is not an event of `microfab.domain.codec.EVENT_TYPES`.
    """
    check_stream(write.stream)
    if write.expected_version is not None and write.expected_version < 0:
        raise ValueError(f"expected_version: expected >= 0 or None, got {write.expected_version}")
    if isinstance(write.events, Event):
        raise TypeError("events: expected a sequence of events, got one event")
    encoded = []
    for event in write.events:
        if not isinstance(event, Event) or EVENT_TYPES.get(type(event).__name__) is not type(event):
            raise TypeError(f"events: {type(event).__name__} is not an event type of microfab.domain.events")
        encoded.append(encode(event))
    return encoded


def check_stream(stream: str) -> str:
    """Return *stream* if it is a valid stream name, else raise `ValueError`."""
    if not isinstance(stream, str) or not stream:
        raise ValueError(f"stream: expected a non-empty name, got {stream!r}")
    if len(stream) > STREAM_MAX_LENGTH:
        raise ValueError(f"stream: expected at most {STREAM_MAX_LENGTH} characters, got {len(stream)}")
    if "\x00" in stream:
        raise ValueError("stream: a name cannot contain NUL")
    return stream


def check_limit(limit: int | None) -> None:
    """Raise `ValueError` if *limit* is negative."""
    if limit is not None and limit < 0:
        raise ValueError(f"limit: expected >= 0 or None, got {limit}")


def check_types(types: Collection[str]) -> Collection[str]:
    """Return *types* if it is a collection of type names, else raise `TypeError` (a lone string is not)."""
    if isinstance(types, str):
        raise TypeError(f"types: expected a collection of event type names, got the string {types!r}")
    return types


def check_aware(moment: datetime, field: str) -> datetime:
    """Return *moment* if it is timezone-aware, else raise `ValueError` naming *field*."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{field}: expected a timezone-aware datetime, got {moment!r}")
    return moment

"""An in-process event log: the default for unit tests and ``make demo``; lost when the process ends."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from types import TracebackType

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
    prepare_write,
)


def utc_now() -> datetime:
    """Return the current time, aware, in UTC."""
    return datetime.now(UTC)


class MemoryEventLog:
    """An `EventLog` held in lists, thread-safe, with the same checks and semantics as `SqlEventLog`.

    Events are stored as a copy made through `microfab.domain.codec`, so an event that the SQL
    log could not store fails here too, and later changes to a caller's mappings do not leak in.

    Parameters
    ----------
    clock
        Returns the aware time stamped as ``recorded_at`` (default: now, UTC).
    """

    def __init__(self, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._log: list[RecordedEvent] = []
        self._streams: dict[str, list[RecordedEvent]] = {}
        self._closed = False

    def __repr__(self) -> str:
        return f"MemoryEventLog({len(self._log)} events)"

    def __enter__(self) -> MemoryEventLog:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def append(self, stream: str, events: Sequence[Event], *, expected_version: int | None = None) -> int:
        """Append *events* to *stream* atomically and return the stream's new version."""
        return self._write([StreamWrite(stream, events, expected_version)])[stream]

    def append_batch(self, writes: Sequence[StreamWrite]) -> None:
        """Append to several streams atomically: all writes or none."""
        self._write(writes)

    def _write(self, writes: Sequence[StreamWrite]) -> dict[str, int]:
        copies = [[decode(name, data) for name, data in prepare_write(w)] for w in writes]
        with self._lock:
            self._check_open()
            versions: dict[str, int] = {}
            for write in writes:
                current = versions.get(write.stream, len(self._streams.get(write.stream, ())))
                if write.expected_version is not None and write.expected_version != current:
                    raise ConcurrencyError(write.stream, write.expected_version, current)
                versions[write.stream] = current + len(write.events)
            recorded_at = check_aware(self._clock(), "recorded_at")
            for write, events in zip(writes, copies, strict=True):
                if not events:
                    continue
                stream = self._streams.setdefault(write.stream, [])
                for event in events:
                    record = RecordedEvent(len(self._log) + 1, write.stream, len(stream) + 1, event, recorded_at)
                    self._log.append(record)
                    stream.append(record)
            return versions

    def read_stream(self, stream: str, *, after_version: int = 0) -> list[RecordedEvent]:
        """Return the events of *stream* with a version above *after_version*, in version order."""
        check_stream(stream)
        with self._lock:
            self._check_open()
            return list(self._streams.get(stream, [])[max(after_version, 0) :])

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
        wanted = None if types is None else frozenset(check_types(types))
        with self._lock:
            self._check_open()
            tail = self._log[max(after_position, 0) :]
        found: list[RecordedEvent] = []
        for record in tail:
            if limit is not None and len(found) >= limit:
                break
            if wanted is not None and record.type not in wanted:
                continue
            if stream_prefix is not None and not record.stream.startswith(stream_prefix):
                continue
            found.append(record)
        return found

    def stream_version(self, stream: str) -> int:
        """Return the stream's current version: 0 for a stream with no events."""
        with self._lock:
            self._check_open()
            return len(self._streams.get(stream, ()))

    def streams(self, prefix: str = "") -> list[str]:
        """Return the names of the streams that start with *prefix*, sorted."""
        with self._lock:
            self._check_open()
            return sorted(name for name in self._streams if name.startswith(prefix))

    def close(self) -> None:
        """Mark the log closed; later calls raise `StoreUnavailableError`."""
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise StoreUnavailableError("memory:// event log: closed")

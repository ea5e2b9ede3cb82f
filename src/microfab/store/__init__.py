"""The event store: the `EventLog` port and its implementations (memory, SQLite, PostgreSQL).

Open a log with `open_event_log` (``memory://``, ``sqlite:///path``, ``postgresql+psycopg://...``).
`SqlEventLog` is imported lazily so that memory-only use does not load SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from microfab.store.base import (
    ConcurrencyError,
    EventLog,
    RecordedEvent,
    StoreUnavailableError,
    StreamWrite,
    mask_url,
    open_event_log,
)
from microfab.store.memory import MemoryEventLog

if TYPE_CHECKING:
    from microfab.store.sql import SqlEventLog

__all__ = [
    "ConcurrencyError",
    "EventLog",
    "MemoryEventLog",
    "RecordedEvent",
    "SqlEventLog",
    "StoreUnavailableError",
    "StreamWrite",
    "mask_url",
    "open_event_log",
]


def __getattr__(name: str) -> Any:
    if name == "SqlEventLog":
        from microfab.store.sql import SqlEventLog  # noqa: PLC0415 - lazy: SQLAlchemy only when used

        return SqlEventLog
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

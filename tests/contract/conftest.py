"""One body of tests over every event-log implementation: memory, SQLite, a throwaway PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from microfab.store import open_event_log
from microfab.store.base import EventLog

IMPLEMENTATIONS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
SQL = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def store_url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh store of *kind* for this test."""
    if kind == "memory":
        return "memory://"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'events.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(params=IMPLEMENTATIONS)
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventLog]:
    """A fresh, empty event log of each implementation."""
    event_log = open_event_log(store_url(request.param, request, tmp_path))
    yield event_log
    event_log.close()


@pytest.fixture(params=SQL)
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh SQL store (SQLite, PostgreSQL)."""
    return store_url(request.param, request, tmp_path)

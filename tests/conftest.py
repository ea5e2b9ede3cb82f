"""Shared fixtures: a throwaway PostgreSQL database per test (skipped loudly when no server, failed in CI)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from microfab.store.sql import normalize_url

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _admin_engine(url: str) -> Engine:
    return create_engine(
        normalize_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool, connect_args={"connect_timeout": 3}
    )


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """URL of the PostgreSQL server from ``MICROFAB_TEST_PG``; fails in CI and skips elsewhere if unreachable."""
    url = os.environ.get("MICROFAB_TEST_PG", PG_DEFAULT)
    engine = _admin_engine(url)
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        masked = normalize_url(url).render_as_string(hide_password=True)
        reason = f"PostgreSQL unreachable at {masked} ({' '.join(str(exc.orig).split())})"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the PostgreSQL contract tests", pytrace=False)
        pytest.skip(
            f"!!! SKIPPING POSTGRESQL TESTS: {reason}. "
            "Run `make test` (it starts the local cluster) or set MICROFAB_TEST_PG"
        )
    finally:
        engine.dispose()
    return url


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """URL of a fresh database ``microfab_test_<hex>`` on the test server, dropped afterwards."""
    name = f"microfab_test_{secrets.token_hex(6)}"
    engine = _admin_engine(pg_server_url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield normalize_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        engine.dispose()

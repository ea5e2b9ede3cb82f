"""Alembic environment: runs the migrations on the connection `microfab.store.sql.migrate` passes in.

Run programmatically (``config.attributes["connection"]``); nothing here configures logging or
prints. With no connection (an ``alembic`` command line given ``sqlalchemy.url``), it opens its
own engine. Offline (``--sql``) mode is not supported.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from microfab.store.sql import METADATA


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=METADATA, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    """Run the migrations online, on the given connection or on ``sqlalchemy.url``."""
    if context.is_offline_mode():
        raise RuntimeError("microfab migrations run online only: open the store with microfab.store.open_event_log")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection: pass config.attributes['connection'] or set sqlalchemy.url")
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


run_migrations()

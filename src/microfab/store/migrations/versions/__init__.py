"""Alembic revisions of the event store, one file per schema change."""

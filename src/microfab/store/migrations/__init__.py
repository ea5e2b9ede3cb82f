"""Alembic migrations of the event store, run on open by `microfab.store.sql.SqlEventLog`.

There is no ``alembic.ini``: the configuration is built in code by
`microfab.store.sql.alembic_config`, so the migrations work from an installed package. To add
a revision, from the repository root::

    python -c "from alembic import command; from microfab.store.sql import alembic_config; \\
        command.revision(alembic_config(), message='what changes', rev_id='0002')"

then write ``upgrade``/``downgrade`` and run ``ruff format``.
"""

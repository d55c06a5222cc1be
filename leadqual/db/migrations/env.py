"""Alembic environment for the product's tables (run through leadqual.db.schema, not alembic.ini)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config


def target_metadata():
    given = config.attributes.get("target_metadata")
    if given is not None:
        return given
    from leadqual.db.schema import metadata

    return metadata()


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as connection:
        _migrate(connection)
        connection.commit()


def _migrate(connection) -> None:
    # render_as_batch: SQLite can only alter a table by copying it; Alembic's batch mode does that.
    context.configure(connection=connection, target_metadata=target_metadata(), render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run()

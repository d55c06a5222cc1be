"""The product's database schema and its Alembic migrations (leadqual/db/migrations/versions).

`upgrade(engine)` brings any database to the newest revision: an empty one gets every table,
an older one gets the changes since its revision. A database made before migrations existed
(by `create_all`, at the schema of revision 0001) is recognised and stamped 0001 first. Several
processes may start at once: on PostgreSQL an advisory lock lets one migrate at a time.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, text

from leadqual.db.tables import Base

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"
# Any number that other applications on the same PostgreSQL are unlikely to use.
ADVISORY_LOCK = 727_401_001


def metadata() -> MetaData:
    """Every table of the product: all are defined in leadqual.db.tables."""
    return Base.metadata


def config(connection=None, target=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    if target is not None:
        cfg.attributes["target_metadata"] = target
    return cfg


def head() -> str:
    return ScriptDirectory.from_config(config()).get_current_head()


def current(engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine, revision: str = "head") -> str | None:
    """Migrate to `revision` (default: the newest); returns the revision the database is at."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
        context = MigrationContext.configure(connection)
        if context.get_current_revision() is None and inspect(connection).has_table("leads"):
            command.stamp(config(connection), BASELINE)  # made by create_all before migrations
        command.upgrade(config(connection), revision)
        return MigrationContext.configure(connection).get_current_revision()


def pending_changes(engine) -> list:
    """Differences between the database and the models (none after `upgrade`): a model changed
    without its migration shows up here, and the test of this fails."""
    from alembic.autogenerate import compare_metadata

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata())

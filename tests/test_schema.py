"""Alembic migrations of the product's tables, on SQLite and PostgreSQL: from empty, from the
previous revision with data in it, from a database made before migrations, and by two
processes at once; and no model change without its migration."""

from __future__ import annotations

import threading
from contextlib import ExitStack

import pytest
from sqlalchemy import create_engine, inspect, text

from leadqual.db import schema
from leadqual.tools import cli

from .conftest import postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'schema.db'}")
        yield engine
        engine.dispose()
        return
    with postgres_database("leadqual_schema") as url:
        engine = create_engine(url)
        yield engine
        engine.dispose()


def test_an_empty_database_gets_every_table_and_matches_the_models(engine):
    assert schema.current(engine) is None
    assert schema.upgrade(engine) == schema.head()
    assert schema.pending_changes(engine) == []  # a model changed without a migration fails here
    assert {"leads", "messages", "flow_versions", "question_events", "console_users"} <= set(
        inspect(engine).get_table_names()
    )


def revisions() -> list[str]:
    """Every revision but the newest, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(schema.config())
    return [r.revision for r in reversed(list(script.walk_revisions()))][:-1]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_every_earlier_revision_upgrades_to_the_newest(dialect, tmp_path):
    earlier = revisions()
    assert earlier[0] == "0001" and len(earlier) >= 2
    for revision in earlier:
        with ExitStack() as stack:
            if dialect == "sqlite":
                url = f"sqlite:///{tmp_path / f'{revision}.db'}"
            else:
                url = stack.enter_context(postgres_database("leadqual_schema"))
            engine = create_engine(url)
            stack.callback(engine.dispose)
            assert schema.upgrade(engine, revision) == revision
            assert schema.upgrade(engine) == schema.head()
            assert schema.pending_changes(engine) == [], revision


def test_upgrading_from_the_first_revision_keeps_the_data(engine):
    assert schema.upgrade(engine, "0001") == "0001"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO leads (id, email, email_key, language, profile, stage, stage_actor, sales_ready,"
                " fit_score, behaviour_score, total_score, grade, score_breakdown, config_version, answers,"
                " created_at, updated_at)"
                " VALUES ('lead1', 'ana@acme.example', 'ana@acme.example', 'es', '{}', 'mql', 'bot', false, 60, 0, 60,"
                " 'B3', '[]', 1, '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    assert schema.upgrade(engine) == schema.head()
    with engine.connect() as conn:
        row = conn.execute(text("SELECT email, stage, total_score, marketing_consent FROM leads")).one()
    assert tuple(row) == ("ana@acme.example", "mql", 60, None)
    assert schema.pending_changes(engine) == []


def test_a_database_made_before_migrations_is_recognised(engine):
    schema.upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))  # as create_all left it
    assert schema.upgrade(engine) == schema.head()


def test_two_processes_starting_at_once_migrate_once():
    """PostgreSQL: an advisory lock lets one migrate at a time (SQLite serialises writers itself)."""
    results, errors = [], []
    with postgres_database("leadqual_schema") as url:

        def start():
            engine = create_engine(url)
            try:
                results.append(schema.upgrade(engine))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                engine.dispose()

        threads = [threading.Thread(target=start) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == [] and results == [schema.head()] * 3


def test_the_migrate_command(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'leads.db'}"
    assert cli.main(["--database-url", url, "migrate", "--revision", "0001"]) == 0
    assert "at revision 0001 (was empty)" in capsys.readouterr().out
    assert cli.main(["--database-url", url, "migrate"]) == 0
    assert f"at revision {schema.head()} (was 0001)" in capsys.readouterr().out

"""leads: room on each page for a row's next version, and lz4 for the breakdown (PostgreSQL)

`bin/leads rescore` rewrites every lead whose points decayed: its breakdown (2-3 KB of JSON),
scores and scored_at. On PostgreSQL each rewrite is a new row version. With pages filled to
85% the new version usually fits on the same page, so when no indexed column changed (the
total, grade and stage stayed) it is a HOT update: none of the table's indexes is touched.
The breakdown is compressed with lz4 instead of pglz, several times cheaper to compress and
read. Both apply to rows written from now on; nothing is rewritten here (no long lock).
SQLite has neither setting: nothing to do there.

Measured with bench/rescore.py (100k leads, a week of decay): the server's CPU for the
rescore's UPDATEs went from ~12 to ~8 seconds.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 23:55:00

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILLFACTOR = 85


def _compression(method: str) -> None:
    # PostgreSQL 14+ built with lz4 (Debian's and the official images are); otherwise the
    # column keeps the server's default method.
    op.execute(
        "DO $$ BEGIN"
        f" EXECUTE 'ALTER TABLE leads ALTER COLUMN score_breakdown SET COMPRESSION {method}';"
        " EXCEPTION WHEN OTHERS THEN NULL;"
        " END $$"
    )


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE leads SET (fillfactor = {FILLFACTOR})")
    _compression("lz4")


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE leads RESET (fillfactor)")
    _compression("pglz")

"""leads: drop the indexes on total_score, stage and owner alone, and on last_activity_at

The first three each repeat the first column of a composite index that queries use instead:
ix_leads_score_id (total_score, id), ix_leads_stage_score_id (stage, total_score, id) and
ix_leads_owner_score_id (owner, total_score, id) answer every filter and sort the single-column
ones did, in SQLite and PostgreSQL. No query filters or sorts by last_activity_at (the went-cold
rule reads every lead as it re-scores it). Yet every write of a lead's score kept all of them up
to date: `bin/leads rescore` changes the total of nearly every lead each day, and every tracked
event moves last_activity_at. On PostgreSQL a row version whose indexed column changed adds an
entry to every index of the table, so the table goes from 12 indexes to 8.

Measured with bench/rescore.py (100k leads, a week of decay, SQLite): the first three, 0.85 s less.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 02:20:00

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = {
    "ix_leads_total_score": "total_score",
    "ix_leads_stage": "stage",
    "ix_leads_owner": "owner",
    "ix_leads_last_activity_at": "last_activity_at",
}


def upgrade() -> None:
    """Upgrade schema."""
    for name in DROPPED:
        op.drop_index(name, table_name="leads")


def downgrade() -> None:
    """Downgrade schema."""
    for name, column in DROPPED.items():
        op.create_index(name, "leads", [column], unique=False)

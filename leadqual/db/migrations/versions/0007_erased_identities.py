"""erased identities: conversations and emails of erased people, as hashes (GDPR art. 17)

After `bin/leads person erase` a visitor's next message in the erased conversation saved the
whole lead again from Rasa's tracker. The person's conversation ids and emails are now kept as
SHA-256 hashes in this table: a late save of them stores nothing (leadqual/leads/store.py), and the
reset of each conversation in Rasa (HTTP API) is tracked here until it is done.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 18:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "erased_identities",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("erasure_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rasa_reset", sa.String(length=20), nullable=True),
        sa.Column("pending_sender_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["erasure_id"], ["erasures.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("erased_identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_erased_identities_erasure_id"), ["erasure_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_erased_identities_key_hash"), ["key_hash"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("erased_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erased_identities_key_hash"))
        batch_op.drop_index(batch_op.f("ix_erased_identities_erasure_id"))
    op.drop_table("erased_identities")

"""knowledge in flow versions: marketing's answers to visitors' questions are published with the flow

config/knowledge.yml was read from disk by every action server: marketing could not change an
answer without a developer, and a new price reached chats already under way. The knowledge is now
part of each flow version and draft (JSON, like the qualification and the texts); a version made
before this has none and reads the shipped file (leadqual/conversation/flows.py).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 20:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    for table in ("flow_versions", "flow_drafts"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("knowledge", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    for table in ("flow_versions", "flow_drafts"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("knowledge")

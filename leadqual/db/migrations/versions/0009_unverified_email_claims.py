"""unverified email claims: a chat that gives another lead's email keeps its answers apart

An outside test typed an existing lead's email into a new chat: the chat's answers replaced the
victim's and a later chat from that browser was greeted with the victim's name. Such a chat now
stays on a lead of its own, with the email in `claimed_email` and the claimed lead's id in
`claims_lead_id` (leadqual/leads/identity.py), until an SDR confirms it is the same person.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 19:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_email", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("claims_lead_id", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_leads_claims_lead_id"), ["claims_lead_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leads_claims_lead_id"))
        batch_op.drop_column("claims_lead_id")
        batch_op.drop_column("claimed_email")

"""native CRM sync: each lead's record in HubSpot or Salesforce, shared CRM state, inbound events

`crm_records` holds a lead's id in the CRM and how its last sync went (the lead's page shows
it); `crm_state` the Salesforce poll cursor and the rate-limit window all workers share;
`crm_inbound_events` the webhook events already applied, so a replay is refused.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 22:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "crm_records",
        sa.Column("lead_id", sa.String(length=32), nullable=False),
        sa.Column("system", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("packet_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("remote_stage", sa.String(length=60), nullable=True),
        sa.Column("remote_owner", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("lead_id", "system"),
    )
    with op.batch_alter_table("crm_records", schema=None) as batch_op:
        batch_op.create_index("ix_crm_records_record_id", ["record_id"], unique=False)
    op.create_table(
        "crm_state",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "crm_inbound_events",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("crm_inbound_events", schema=None) as batch_op:
        batch_op.create_index("ix_crm_inbound_events_received_at", ["received_at"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("crm_inbound_events", schema=None) as batch_op:
        batch_op.drop_index("ix_crm_inbound_events_received_at")
    op.drop_table("crm_inbound_events")
    op.drop_table("crm_state")
    with op.batch_alter_table("crm_records", schema=None) as batch_op:
        batch_op.drop_index("ix_crm_records_record_id")
    op.drop_table("crm_records")

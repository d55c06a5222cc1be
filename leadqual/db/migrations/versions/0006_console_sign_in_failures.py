"""console: failed sign-ins per account and client address

The console locked a whole account after five wrong passwords from anywhere, so anyone could
lock anyone out (the admin included), and the lockout's own answer told which accounts exist.
Failures are now counted per (account, client address), in this table; the account's owner at
another address is not affected. `console_users.failed_logins` stays as a count for admins;
`console_users.locked_until` is no longer set. Rows are deleted a day after the last failure.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 17:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "console_sign_in_failures",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["console_users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "address"),
    )
    with op.batch_alter_table("console_sign_in_failures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_console_sign_in_failures_last_failed_at"), ["last_failed_at"], unique=False
        )
    # Accounts locked by the old rule (from anywhere) are unlocked: the new rule applies from now.
    op.execute("UPDATE console_users SET locked_until = NULL")


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("console_sign_in_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_sign_in_failures_last_failed_at"))
    op.drop_table("console_sign_in_failures")

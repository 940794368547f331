"""Scheduled messages: an organisers' message written ahead, sent at a chosen time to
whoever is in its group then.

Revision ID: 3d7f1b8e5a26
Revises: 7b2e4f9a1c53
Create Date: 2026-12-22 09:00:00.000000
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "3d7f1b8e5a26"
down_revision: str | None = "7b2e4f9a1c53"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)


def upgrade() -> None:
    op.create_table(
        "scheduled_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("audiences", sa.JSON(), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("translations", sa.JSON(), nullable=False),
        sa.Column("send_at", _UTC, nullable=False),
        sa.Column("status", sa.Enum("pending", "sent", "cancelled", "failed",
                                    name="scheduledmessagestatus", native_enum=False,
                                    length=32), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=True),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("created_by_account_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", _UTC, nullable=True),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_scheduled_messages_event_id_events"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"],
                                name=op.f("fk_scheduled_messages_session_id_sessions"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_account_id"], ["accounts.id"],
                                name=op.f("fk_scheduled_messages_created_by_account_id_accounts"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_messages")),
    )
    op.create_index("ix_scheduled_messages_due", "scheduled_messages", ["status", "send_at"])
    op.create_index("ix_scheduled_messages_event", "scheduled_messages",
                    ["event_id", "send_at"])


def downgrade() -> None:
    op.drop_index("ix_scheduled_messages_event", table_name="scheduled_messages")
    op.drop_index("ix_scheduled_messages_due", table_name="scheduled_messages")
    op.drop_table("scheduled_messages")

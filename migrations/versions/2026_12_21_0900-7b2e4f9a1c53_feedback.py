"""Feedback: what a registrant thought of a session of the event (a rating and two
optional comments), one per registration and session.

Revision ID: 7b2e4f9a1c53
Revises: 5e8a1c3f7b92
Create Date: 2026-12-21 09:00:00.000000
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "7b2e4f9a1c53"
down_revision: str | None = "5e8a1c3f7b92"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("most_useful", sa.Text(), nullable=False),
        sa.Column("to_improve", sa.Text(), nullable=False),
        sa.Column("given_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(["registration_id"], ["registrations.id"],
                                name=op.f("fk_feedback_registration_id_registrations"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"],
                                name=op.f("fk_feedback_session_id_sessions"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_feedback_event_id_events"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sa.UniqueConstraint("registration_id", "session_id",
                            name=op.f("uq_feedback_registration_id_session_id")),
    )
    op.create_index("ix_feedback_event", "feedback", ["event_id", "given_at"])


def downgrade() -> None:
    op.drop_index("ix_feedback_event", table_name="feedback")
    op.drop_table("feedback")

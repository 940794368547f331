"""Organisers' own feedback questions, and the answers given to them

Revision ID: 4c7e2a9d1b36
Revises: 8a5c3e1f7d40
Create Date: 2026-12-24 09:00:00.000000
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "4c7e2a9d1b36"
down_revision: str | None = "8a5c3e1f7d40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)


def upgrade() -> None:
    op.create_table(
        "feedback_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.Enum("rating", "text", name="questionkind", native_enum=False,
                                  length=32), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_feedback_questions_event_id_events"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_questions")),
    )
    op.create_index("ix_feedback_questions_event", "feedback_questions",
                    ["event_id", "position"])
    op.create_table(
        "feedback_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feedback_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["feedback_id"], ["feedback.id"],
                                name=op.f("fk_feedback_answers_feedback_id_feedback"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["question_id"], ["feedback_questions.id"],
                                name=op.f("fk_feedback_answers_question_id_feedback_questions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_answers")),
        sa.UniqueConstraint("feedback_id", "question_id",
                            name=op.f("uq_feedback_answers_feedback_id_question_id")),
    )
    op.create_index("ix_feedback_answers_question", "feedback_answers", ["question_id"])


def downgrade() -> None:
    op.drop_index("ix_feedback_answers_question", table_name="feedback_answers")
    op.drop_table("feedback_answers")
    op.drop_index("ix_feedback_questions_event", table_name="feedback_questions")
    op.drop_table("feedback_questions")

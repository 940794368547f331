"""Feedback questions answered by one of the organiser's choices

Revision ID: 9e3a6c2d5f18
Revises: 6b1d9e4f2a87
Create Date: 2026-12-26 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9e3a6c2d5f18"
down_revision: str | None = "6b1d9e4f2a87"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Questions written before are ratings or words: no choices, no chosen number.
    with op.batch_alter_table("feedback_questions") as batch:
        batch.add_column(sa.Column("choices", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("feedback_answers") as batch:
        batch.add_column(sa.Column("choice", sa.Integer(), nullable=True))


def downgrade() -> None:
    # A choice question cannot be kept as a rating or words: it goes, with its answers and
    # translations.
    op.execute("DELETE FROM content_translations WHERE target IN (SELECT 'feedback-question-'"
               " || id FROM feedback_questions WHERE kind = 'choice')")
    op.execute("DELETE FROM feedback_answers WHERE question_id IN "
               "(SELECT id FROM feedback_questions WHERE kind = 'choice')")
    op.execute("DELETE FROM feedback_questions WHERE kind = 'choice'")
    with op.batch_alter_table("feedback_answers") as batch:
        batch.drop_column("choice")
    with op.batch_alter_table("feedback_questions") as batch:
        batch.drop_column("choices")

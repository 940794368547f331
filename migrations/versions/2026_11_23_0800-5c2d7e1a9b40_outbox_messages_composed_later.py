"""outbox messages composed later

Revision ID: 5c2d7e1a9b40
Revises: 1bd505061e17
Create Date: 2026-11-23 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c2d7e1a9b40"
down_revision: str | None = "1bd505061e17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_emails") as batch:
        batch.alter_column("raw_message", existing_type=sa.LargeBinary(), nullable=True)
        batch.add_column(sa.Column("details", sa.JSON(), nullable=True))


def downgrade() -> None:
    # Messages still waiting to be composed cannot be kept without a body. What refers to
    # them goes explicitly: foreign keys are not enforced while migrating on SQLite.
    waiting = "SELECT id FROM outbox_emails WHERE raw_message IS NULL"
    op.execute(f"DELETE FROM email_attempts WHERE outbox_email_id IN ({waiting})")  # noqa: S608
    op.execute(f"UPDATE reminders SET outbox_email_id = NULL "  # noqa: S608
               f"WHERE outbox_email_id IN ({waiting})")
    op.execute("DELETE FROM outbox_emails WHERE raw_message IS NULL")
    with op.batch_alter_table("outbox_emails") as batch:
        batch.drop_column("details")
        batch.alter_column("raw_message", existing_type=sa.LargeBinary(), nullable=False)

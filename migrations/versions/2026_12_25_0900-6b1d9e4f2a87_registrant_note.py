"""What registrants need to know: an event's note in their confirmation, reminders and
private page

Revision ID: 6b1d9e4f2a87
Revises: 4c7e2a9d1b36
Create Date: 2026-12-25 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6b1d9e4f2a87"
down_revision: str | None = "4c7e2a9d1b36"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Events written before have no note.
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("registrant_note", sa.Text(), nullable=False,
                                   server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("registrant_note")

"""meeting guests' language: a guest of one Interest Group meeting reads their own

Revision ID: 9c4e2b7d1a05
Revises: 5e1f0b7a3c92
Create Date: 2026-12-15 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9c4e2b7d1a05"
down_revision: str | None = "5e1f0b7a3c92"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Guests invited before were written to in English, as they always were.
    with op.batch_alter_table("group_meeting_guests") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=False,
                                   server_default="en"))


def downgrade() -> None:
    with op.batch_alter_table("group_meeting_guests") as batch:
        batch.drop_column("language")

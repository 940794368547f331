"""A scheduled message's time may count from the event's start or end, and follow it

Revision ID: 8a5c3e1f7d40
Revises: 3d7f1b8e5a26
Create Date: 2026-12-23 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8a5c3e1f7d40"
down_revision: str | None = "3d7f1b8e5a26"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Messages scheduled before keep their fixed time (no timing).
    with op.batch_alter_table("scheduled_messages") as batch:
        batch.add_column(sa.Column("timing", sa.Enum(
            "before_start", "after_end", name="messagetiming", native_enum=False,
            length=32), nullable=True))
        batch.add_column(sa.Column("offset_minutes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scheduled_messages") as batch:
        batch.drop_column("offset_minutes")
        batch.drop_column("timing")

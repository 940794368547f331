"""registration attendance: in person or online, for hybrid events

Revision ID: 9b3e41d7c2a5
Revises: 66c16f3ff8de
Create Date: 2026-11-25 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9b3e41d7c2a5"
down_revision: str | None = "66c16f3ff8de"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing registrations made no choice: None, as for events that are not hybrid.
    with op.batch_alter_table("registrations") as batch:
        batch.add_column(sa.Column(
            "attendance",
            sa.Enum("in_person", "online", name="attendance", native_enum=False, length=32),
            nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("registrations") as batch:
        batch.drop_column("attendance")

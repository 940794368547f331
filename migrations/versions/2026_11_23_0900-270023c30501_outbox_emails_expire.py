"""outbox emails expire

Revision ID: 270023c30501
Revises: 5c2d7e1a9b40
Create Date: 2026-11-23 09:00:00.000000
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "270023c30501"
down_revision: str | None = "5c2d7e1a9b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A reminder prepared ahead of its due time must not go out once its session has started.
    with op.batch_alter_table("outbox_emails") as batch:
        batch.add_column(sa.Column(
            "expires_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
            nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_emails") as batch:
        batch.drop_column("expires_at")

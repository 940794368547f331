"""rate limit counters

Revision ID: 8f3a1c2d4e5b
Revises: c4f1a8e2d937
Create Date: 2026-12-04 12:00:00.000000
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "8f3a1c2d4e5b"
down_revision: str | None = "c4f1a8e2d937"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Hits per key and window, shared by every web process (the registration rate limit).
    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_started_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
                  nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
                  nullable=False),
        sa.PrimaryKeyConstraint("key", "window_started_at", name=op.f("pk_rate_limit_counters")),
    )
    op.create_index("ix_rate_limit_counters_expires_at", "rate_limit_counters", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_rate_limit_counters_expires_at", table_name="rate_limit_counters")
    op.drop_table("rate_limit_counters")

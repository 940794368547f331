"""personal data: an event's retention period, and when a registration's data was erased

Revision ID: 46c36790fdb3
Revises: 140b7a40d7dc
Create Date: 2026-12-11 09:00:00.000000
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "46c36790fdb3"
down_revision: str | None = "140b7a40d7dc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("retention_months", sa.Integer(), nullable=True))
    with op.batch_alter_table("registrations") as batch:
        batch.add_column(sa.Column(
            "contact_erased_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
            nullable=True))
        batch.add_column(sa.Column(
            "erased_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True))
        batch.add_column(sa.Column("erasure_reason", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("registrations") as batch:
        batch.drop_column("erasure_reason")
        batch.drop_column("erased_at")
        batch.drop_column("contact_erased_at")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("retention_months")

"""consultation documents: withdrawn ones are kept, with when they were withdrawn

Revision ID: 7d3f1a9c2b64
Revises: b61d4ce60f57
Create Date: 2026-12-14 10:00:00.000000
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "7d3f1a9c2b64"
down_revision: str | None = "b61d4ce60f57"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("consultation_documents") as batch:
        batch.add_column(sa.Column(
            "withdrawn_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consultation_documents") as batch:
        batch.drop_column("withdrawn_at")

"""privacy notice in several languages: each version's language and its translations

Revision ID: 8d2f6b1e4a37
Revises: 4b7e2a9d6c13
Create Date: 2026-12-17 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8d2f6b1e4a37"
down_revision: str | None = "4b7e2a9d6c13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Versions published before did not say their language, and had no translations.
    with op.batch_alter_table("privacy_notices") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("translations", sa.JSON(), nullable=False,
                                   server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("privacy_notices") as batch:
        batch.drop_column("translations")
        batch.drop_column("language")

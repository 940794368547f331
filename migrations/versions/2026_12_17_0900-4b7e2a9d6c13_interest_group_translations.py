"""Interest Groups' own texts in several languages: a default language and translations of
the group's texts and of its meeting series' titles

Revision ID: 4b7e2a9d6c13
Revises: 3a8e5c1f7b20
Create Date: 2026-12-17 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4b7e2a9d6c13"
down_revision: str | None = "3a8e5c1f7b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Groups made before were written in English and had no translations.
    with op.batch_alter_table("interest_groups") as batch:
        batch.add_column(sa.Column("default_language", sa.String(length=8), nullable=False,
                                   server_default="en"))
        batch.add_column(sa.Column("translations", sa.JSON(), nullable=False,
                                   server_default="{}"))
    with op.batch_alter_table("group_meeting_series") as batch:
        batch.add_column(sa.Column("translations", sa.JSON(), nullable=False,
                                   server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("group_meeting_series") as batch:
        batch.drop_column("translations")
    with op.batch_alter_table("interest_groups") as batch:
        batch.drop_column("translations")
        batch.drop_column("default_language")

"""One Interest Group meeting's own agenda in several languages

Revision ID: 6f3b8d2a9e41
Revises: 2c9e7a4f1d58
Create Date: 2026-12-18 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6f3b8d2a9e41"
down_revision: str | None = "2c9e7a4f1d58"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Meetings' own agendas written before have no translations.
    with op.batch_alter_table("group_meeting_occurrences") as batch:
        batch.add_column(sa.Column("translations", sa.JSON(), nullable=False,
                                   server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("group_meeting_occurrences") as batch:
        batch.drop_column("translations")

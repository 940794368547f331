"""languages of people: each registrant's, person's, group member's and organiser's language

Revision ID: b61d4ce60f57
Revises: c2525ab12fa5
Create Date: 2026-12-14 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b61d4ce60f57"
down_revision: str | None = "c2525ab12fa5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Everyone known before languages existed reads English, as they always have.
_TABLES = ("registrations", "persons", "interest_group_members", "accounts")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("language", sa.String(length=8), nullable=False,
                                       server_default="en"))


def downgrade() -> None:
    for table in reversed(_TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("language")

"""Session materials: links shared with a session (slides, a recording), for everyone or
only for the people holding a place in it.

Revision ID: 5e8a1c3f7b92
Revises: 9c4d2e7b1a65
Create Date: 2026-12-20 09:00:00.000000
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "5e8a1c3f7b92"
down_revision: str | None = "9c4d2e7b1a65"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)


def upgrade() -> None:
    op.create_table(
        "session_materials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("is_for_registrants", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("shared_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"],
                                name=op.f("fk_session_materials_session_id_sessions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_materials")),
    )
    op.create_index("ix_session_materials_session", "session_materials",
                    ["session_id", "position"])


def downgrade() -> None:
    op.drop_index("ix_session_materials_session", table_name="session_materials")
    op.drop_table("session_materials")

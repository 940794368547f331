"""content in several languages: the event's default language, translations of its texts

Revision ID: 5e1f0b7a3c92
Revises: 7d3f1a9c2b64
Create Date: 2026-12-14 11:00:00.000000
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "5e1f0b7a3c92"
down_revision: str | None = "7d3f1a9c2b64"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = advanced_alchemy.types.DateTimeUTC(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("default_language", sa.String(length=8), nullable=False,
                                   server_default="en"))
    op.create_table(
        "content_translations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("agenda_item_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_content_translations_event_id_events"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"],
                                name=op.f("fk_content_translations_session_id_sessions"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["agenda_item_id"], ["agenda_items.id"],
            name=op.f("fk_content_translations_agenda_item_id_agenda_items"),
            ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_translations")),
        sa.UniqueConstraint("event_id", "target", "language", "field",
                            name=op.f("uq_content_translations_event_id_target_language_field")),
    )
    op.create_index("ix_content_translations_field_language", "content_translations",
                    ["field", "language"])
    op.create_index(op.f("ix_content_translations_session_id"), "content_translations",
                    ["session_id"])
    op.create_index(op.f("ix_content_translations_agenda_item_id"), "content_translations",
                    ["agenda_item_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_content_translations_agenda_item_id"),
                  table_name="content_translations")
    op.drop_index(op.f("ix_content_translations_session_id"), table_name="content_translations")
    op.drop_index("ix_content_translations_field_language", table_name="content_translations")
    op.drop_table("content_translations")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("default_language")

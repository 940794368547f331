"""speaker notices

Revision ID: c4f1a8e2d937
Revises: 7b3e9d4c2a61
Create Date: 2026-12-04 11:00:00.000000
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "c4f1a8e2d937"
down_revision: str | None = "7b3e9d4c2a61"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instant() -> advanced_alchemy.types.datetime.DateTimeUTC:
    return advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)


def upgrade() -> None:
    # Speakers' slot notices are gathered over PROCURA_CHANGE_NOTICE_WINDOW like the
    # registrants' change notices: one pending row per speaker and slot, sent when due.
    op.create_table(
        "speaker_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agenda_item_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.Enum("pending", "sent", "cancelled", name="changenoticestatus",
                                    native_enum=False, length=32), nullable=False),
        sa.Column("previous", sa.JSON(), nullable=True),
        sa.Column("removed", sa.JSON(), nullable=True),
        sa.Column("first_changed_at", _instant(), nullable=False),
        sa.Column("last_changed_at", _instant(), nullable=False),
        sa.Column("send_after", _instant(), nullable=False),
        sa.Column("sent_at", _instant(), nullable=True),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("updated_at", _instant(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"],
                                name=op.f("fk_speaker_notices_person_id_persons"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"],
                                name=op.f("fk_speaker_notices_session_id_sessions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_speaker_notices")),
    )
    with op.batch_alter_table("speaker_notices") as batch:
        batch.create_index("ix_speaker_notices_due", ["status", "send_after"], unique=False)
        batch.create_index("ix_speaker_notices_slot", ["agenda_item_id", "person_id", "status"],
                           unique=False)


def downgrade() -> None:
    with op.batch_alter_table("speaker_notices") as batch:
        batch.drop_index("ix_speaker_notices_slot")
        batch.drop_index("ix_speaker_notices_due")
    op.drop_table("speaker_notices")

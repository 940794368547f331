"""index speakers by person

Revision ID: 1bd505061e17
Revises: ff0b427c3ec4
Create Date: 2026-11-23 05:56:40.794808
"""

from collections.abc import Sequence

from alembic import op


revision: str = '1bd505061e17'
down_revision: str | None = 'ff0b427c3ec4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_agenda_item_speakers_person_id", "agenda_item_speakers", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_agenda_item_speakers_person_id", table_name="agenda_item_speakers")

"""Check-in per session: each day at the door of a multi-day event has its own

Revision ID: 9c4d2e7b1a65
Revises: 6f3b8d2a9e41
Create Date: 2026-12-19 09:00:00.000000
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "9c4d2e7b1a65"
down_revision: str | None = "6f3b8d2a9e41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("enrolments") as batch:
        batch.add_column(sa.Column("checked_in_at", _UTC, nullable=True))
    # A check-in recorded for the whole registration counts for its first session with a
    # door (in person or hybrid; any, where none has), the one it arrived for.
    op.execute(sa.text("""
        UPDATE enrolments SET checked_in_at = (
            SELECT r.checked_in_at FROM registrations r WHERE r.id = enrolments.registration_id)
        WHERE id IN (
            SELECT (SELECT e.id FROM enrolments e JOIN sessions s ON s.id = e.session_id
                    WHERE e.registration_id = r.id AND e.status != 'cancelled'
                    ORDER BY CASE WHEN s.mode = 'online' THEN 1 ELSE 0 END, s.starts_at, e.id
                    LIMIT 1)
            FROM registrations r WHERE r.checked_in_at IS NOT NULL)
    """))


def downgrade() -> None:
    with op.batch_alter_table("enrolments") as batch:
        batch.drop_column("checked_in_at")

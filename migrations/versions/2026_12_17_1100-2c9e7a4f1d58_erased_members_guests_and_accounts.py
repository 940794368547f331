"""erased Interest Group members, meeting guests and organiser accounts: when, in a column
of their own

Revision ID: 2c9e7a4f1d58
Revises: 8d2f6b1e4a37
Create Date: 2026-12-17 11:00:00.000000
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "2c9e7a4f1d58"
down_revision: str | None = "8d2f6b1e4a37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The placeholder address erasure has always written (service.domain.privacy.erasure).
ERASED = "erased-%@invalid"
ERASED_AT = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("interest_group_members") as batch:
        batch.add_column(sa.Column("erased_at", ERASED_AT, nullable=True))
    with op.batch_alter_table("group_meeting_guests") as batch:
        batch.add_column(sa.Column("erased_at", ERASED_AT, nullable=True))
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("erased_at", ERASED_AT, nullable=True))
    # Rows erased before: a member's or an account's row was last changed by its erasure; a
    # guest's row keeps no such time, so its invitation's stands in for it.
    op.execute(sa.text("UPDATE interest_group_members SET erased_at = updated_at "
                       "WHERE email_normalised LIKE :erased").bindparams(erased=ERASED))
    op.execute(sa.text("UPDATE group_meeting_guests SET erased_at = created_at "
                       "WHERE email_normalised LIKE :erased").bindparams(erased=ERASED))
    op.execute(sa.text("UPDATE accounts SET erased_at = updated_at "
                       "WHERE email LIKE :erased").bindparams(erased=ERASED))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("erased_at")
    with op.batch_alter_table("group_meeting_guests") as batch:
        batch.drop_column("erased_at")
    with op.batch_alter_table("interest_group_members") as batch:
        batch.drop_column("erased_at")

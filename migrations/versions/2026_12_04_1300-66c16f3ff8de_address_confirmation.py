"""address confirmation (double opt-in) per event

Revision ID: 66c16f3ff8de
Revises: 8f3a1c2d4e5b
Create Date: 2026-11-24 09:00:00.000000
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "66c16f3ff8de"
down_revision: str | None = "8f3a1c2d4e5b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNCONFIRMED = sa.text("status = 'unconfirmed'")


def upgrade() -> None:
    # Off for every existing event: they behave exactly as before.
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("is_address_confirmation_required", sa.Boolean(),
                                   nullable=False, server_default=sa.false()))
    with op.batch_alter_table("registrations") as batch:
        batch.add_column(sa.Column(
            "address_confirmed_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
            nullable=True))
        batch.add_column(sa.Column(
            "confirmation_expires_at",
            advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True))
    # Partial: registrations that need no confirmation never enter it.
    op.create_index("ix_registrations_unconfirmed_expiry", "registrations",
                    ["confirmation_expires_at"], unique=False,
                    sqlite_where=_UNCONFIRMED, postgresql_where=_UNCONFIRMED)


def downgrade() -> None:
    op.drop_index("ix_registrations_unconfirmed_expiry", table_name="registrations")
    # Unconfirmed registrations hold no place and mean nothing to the older schema. What
    # refers to them goes explicitly: foreign keys are not enforced while migrating.
    unconfirmed = "SELECT id FROM registrations WHERE status = 'unconfirmed'"
    for table in ("enrolments", "reminders", "access_tokens"):
        op.execute(f"DELETE FROM {table} WHERE registration_id IN ({unconfirmed})")  # noqa: S608
    op.execute(f"UPDATE outbox_emails SET registration_id = NULL "  # noqa: S608
               f"WHERE registration_id IN ({unconfirmed})")
    op.execute("DELETE FROM registrations WHERE status = 'unconfirmed'")
    op.execute("DELETE FROM access_tokens WHERE purpose = 'address_confirmation'")
    with op.batch_alter_table("registrations") as batch:
        batch.drop_column("confirmation_expires_at")
        batch.drop_column("address_confirmed_at")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("is_address_confirmation_required")

"""back office lists: an event's registrations and emails in the order their pages show them

Revision ID: d5e8a2b71c04
Revises: a7c3e5f19b42
Create Date: 2026-12-10 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "d5e8a2b71c04"
down_revision: str | None = "a7c3e5f19b42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The registrations page of an event with 10,000 registrations reads one page in order;
    # the emails page and its counts read one event's outbox rows, not every event's.
    op.create_index("ix_registrations_event_created", "registrations",
                    ["event_id", "created_at", "id"])
    op.create_index("ix_outbox_emails_event", "outbox_emails", ["event_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_emails_event", table_name="outbox_emails")
    op.drop_index("ix_registrations_event_created", table_name="registrations")

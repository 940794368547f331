"""enrolment invite sequence

Revision ID: 7b3e9d4c2a61
Revises: 270023c30501
Create Date: 2026-12-04 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7b3e9d4c2a61"
down_revision: str | None = "270023c30501"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A registrant's copy of a session's invite: SEQUENCE is the session's plus this count,
    # raised when their place ends and when it comes back. Existing places start at 0, which
    # is what every invite sent so far carried.
    with op.batch_alter_table("enrolments") as batch:
        batch.add_column(sa.Column("invite_sequence", sa.Integer(), nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("enrolments") as batch:
        batch.drop_column("invite_sequence")

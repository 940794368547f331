"""privacy: versions of the privacy notice, the consent each registration gave, data requests

Revision ID: c2525ab12fa5
Revises: 46c36790fdb3
Create Date: 2026-12-12 09:00:00.000000
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "c2525ab12fa5"
down_revision: str | None = "46c36790fdb3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = advanced_alchemy.types.DateTimeUTC(timezone=True)


def upgrade() -> None:
    op.create_table(
        "privacy_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("created_by", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_notices")),
    )
    op.create_table(
        "data_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email_normalised", sa.String(length=320), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("expires_at", _UTC, nullable=False),
        sa.Column("used_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_requests")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_data_requests_token_hash")),
    )
    op.create_index("ix_data_requests_expires_at", "data_requests", ["expires_at"])
    op.create_index(op.f("ix_data_requests_email_normalised"), "data_requests",
                    ["email_normalised"])
    # Registrations made before notices were versioned keep None: nobody knows which text
    # they saw, and the product does not pretend to.
    with op.batch_alter_table("registrations") as batch:
        batch.add_column(sa.Column("privacy_notice_version_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("keep_informed_at", _UTC, nullable=True))
        batch.create_foreign_key(
            op.f("fk_registrations_privacy_notice_version_id_privacy_notices"),
            "privacy_notices", ["privacy_notice_version_id"], ["id"])
        batch.create_index(op.f("ix_registrations_privacy_notice_version_id"),
                           ["privacy_notice_version_id"])


def downgrade() -> None:
    with op.batch_alter_table("registrations") as batch:
        batch.drop_index(op.f("ix_registrations_privacy_notice_version_id"))
        batch.drop_constraint(
            op.f("fk_registrations_privacy_notice_version_id_privacy_notices"),
            type_="foreignkey")
        batch.drop_column("keep_informed_at")
        batch.drop_column("privacy_notice_version_id")
    op.drop_index(op.f("ix_data_requests_email_normalised"), table_name="data_requests")
    op.drop_index("ix_data_requests_expires_at", table_name="data_requests")
    op.drop_table("data_requests")
    op.drop_table("privacy_notices")

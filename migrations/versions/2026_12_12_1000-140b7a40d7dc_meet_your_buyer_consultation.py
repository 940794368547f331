"""Meet-your-Buyer consultation: buyer profiles, hosts, documents, questions and answers;
registrations' check-in time

Revision ID: 140b7a40d7dc
Revises: 3f9a6c2e8b17
Create Date: 2026-12-12 09:00:00.000000
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "140b7a40d7dc"
down_revision: str | None = "3f9a6c2e8b17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)
_PROCEDURES = ("open", "restricted", "competitive_with_negotiation", "competitive_dialogue",
               "innovation_partnership", "negotiated_without_publication")


def upgrade() -> None:
    op.create_table(
        "consultation_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("buyer_organisation_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("cpv_codes", sa.JSON(), nullable=False),
        sa.Column("estimated_value_cents", sa.BigInteger(), nullable=True),
        sa.Column("planned_publication_on", sa.Date(), nullable=True),
        sa.Column("procedure", sa.Enum(*_PROCEDURES, name="procurementprocedure",
                                       native_enum=False, length=32), nullable=True),
        sa.Column("market_questions", sa.Text(), nullable=False),
        sa.Column("notice_text", sa.Text(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(["buyer_organisation_id"], ["organisations.id"],
                                name=op.f("fk_consultation_profiles_buyer_organisation_id_organisations"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_consultation_profiles_event_id_events"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_profiles")),
        sa.UniqueConstraint("event_id", name=op.f("uq_consultation_profiles_event_id")),
    )
    op.create_table(
        "consultation_hosts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_consultation_hosts_event_id_events"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"],
                                name=op.f("fk_consultation_hosts_person_id_persons"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_hosts")),
        sa.UniqueConstraint("event_id", "person_id",
                            name=op.f("uq_consultation_hosts_event_id_person_id")),
    )
    with op.batch_alter_table("consultation_hosts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consultation_hosts_person_id"), ["person_id"],
                              unique=False)
    op.create_table(
        "consultation_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("stored_name", sa.String(length=100), nullable=True),
        sa.Column("media_type", sa.String(length=100), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("shared_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_consultation_documents_event_id_events"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_documents")),
    )
    with op.batch_alter_table("consultation_documents", schema=None) as batch_op:
        batch_op.create_index("ix_consultation_documents_event", ["event_id", "id"],
                              unique=False)
    op.create_table(
        "consultation_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=True),
        sa.Column("asked_by", sa.String(length=300), nullable=False),
        sa.Column("may_name_asker", sa.Boolean(), nullable=False),
        sa.Column("is_asked_at_event", sa.Boolean(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("asked_at", _UTC, nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", _UTC, nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_consultation_questions_event_id_events"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["registration_id"], ["registrations.id"],
                                name=op.f("fk_consultation_questions_registration_id_registrations"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_questions")),
    )
    with op.batch_alter_table("consultation_questions", schema=None) as batch_op:
        batch_op.create_index("ix_consultation_questions_event", ["event_id", "id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_consultation_questions_registration_id"),
                              ["registration_id"], unique=False)
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checked_in_at", _UTC, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_column("checked_in_at")
    with op.batch_alter_table("consultation_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultation_questions_registration_id"))
        batch_op.drop_index("ix_consultation_questions_event")
    op.drop_table("consultation_questions")
    with op.batch_alter_table("consultation_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_consultation_documents_event")
    op.drop_table("consultation_documents")
    with op.batch_alter_table("consultation_hosts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultation_hosts_person_id"))
    op.drop_table("consultation_hosts")
    op.drop_table("consultation_profiles")

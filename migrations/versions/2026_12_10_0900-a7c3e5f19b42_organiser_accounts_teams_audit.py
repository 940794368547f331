"""organiser accounts, teams, sessions, login throttling, account links, audit log

Revision ID: a7c3e5f19b42
Revises: 9b3e41d7c2a5
Create Date: 2026-12-10 09:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "a7c3e5f19b42"
down_revision: str | None = "9b3e41d7c2a5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_TEAM = "Programme team"


def _utc() -> advanced_alchemy.types.datetime.DateTimeUTC:
    return advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)


def upgrade() -> None:
    teams = op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("name", name=op.f("uq_teams_name")),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.Enum("admin", "organiser", "viewer", name="accountrole",
                                  native_enum=False, length=32), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("disabled_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("email", name=op.f("uq_accounts_email")),
    )
    op.create_table(
        "team_memberships",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE",
                                name=op.f("fk_team_memberships_account_id_accounts")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], ondelete="CASCADE",
                                name=op.f("fk_team_memberships_team_id_teams")),
        sa.PrimaryKeyConstraint("team_id", "account_id", name=op.f("pk_team_memberships")),
    )
    op.create_index(op.f("ix_team_memberships_account_id"), "team_memberships", ["account_id"])
    op.create_table(
        "account_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("last_seen_at", _utc(), nullable=False),
        sa.Column("ended_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE",
                                name=op.f("fk_account_sessions_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_sessions")),
    )
    op.create_index(op.f("ix_account_sessions_account_id"), "account_sessions", ["account_id"])
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=False),
        sa.Column("failed_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index("ix_login_failures_email", "login_failures", ["email", "failed_at"])
    op.create_index("ix_login_failures_client", "login_failures", ["client_address", "failed_at"])
    op.create_table(
        "account_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.Enum("invitation", "password_reset", name="accountlinkpurpose",
                                     native_enum=False, length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.Column("used_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE",
                                name=op.f("fk_account_links_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_links_token_hash")),
    )
    op.create_index(op.f("ix_account_links_account_id"), "account_links", ["account_id"])
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("api_token_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=300), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("subject_type", sa.String(length=60), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="SET NULL",
                                name=op.f("fk_audit_entries_account_id_accounts")),
        sa.ForeignKeyConstraint(["api_token_id"], ["api_tokens.id"], ondelete="SET NULL",
                                name=op.f("fk_audit_entries_api_token_id_api_tokens")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    op.create_index("ix_audit_entries_event", "audit_entries", ["event_id", "id"])
    op.create_index("ix_audit_entries_account", "audit_entries", ["account_id", "id"])

    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_events_team_id_teams"), "teams", ["team_id"], ["id"],
                                 ondelete="SET NULL")
        batch.create_index(op.f("ix_events_team_id"), ["team_id"])
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_api_tokens_team_id_teams"), "teams", ["team_id"],
                                 ["id"], ondelete="SET NULL")

    # The installation's default team owns every event there is (and every event that
    # names no team later): existing events stay with the people who ran them.
    op.bulk_insert(teams, [{"name": DEFAULT_TEAM, "is_default": True,
                            "created_at": datetime.now(UTC)}])
    op.execute(sa.text("UPDATE events SET team_id = (SELECT id FROM teams WHERE name = :name)")
               .bindparams(name=DEFAULT_TEAM))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_constraint(op.f("fk_api_tokens_team_id_teams"), type_="foreignkey")
        batch.drop_column("team_id")
    with op.batch_alter_table("events") as batch:
        batch.drop_index(op.f("ix_events_team_id"))
        batch.drop_constraint(op.f("fk_events_team_id_teams"), type_="foreignkey")
        batch.drop_column("team_id")
    op.drop_index("ix_audit_entries_account", table_name="audit_entries")
    op.drop_index("ix_audit_entries_event", table_name="audit_entries")
    op.drop_table("audit_entries")
    op.drop_index(op.f("ix_account_links_account_id"), table_name="account_links")
    op.drop_table("account_links")
    op.drop_index("ix_login_failures_client", table_name="login_failures")
    op.drop_index("ix_login_failures_email", table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_index(op.f("ix_account_sessions_account_id"), table_name="account_sessions")
    op.drop_table("account_sessions")
    op.drop_index(op.f("ix_team_memberships_account_id"), table_name="team_memberships")
    op.drop_table("team_memberships")
    op.drop_table("accounts")
    op.drop_table("teams")

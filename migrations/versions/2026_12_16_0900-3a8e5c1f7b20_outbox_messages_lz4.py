"""outbox messages compressed with lz4 on PostgreSQL where the server has it

Revision ID: 3a8e5c1f7b20
Revises: 9c4e2b7d1a05
Create Date: 2026-12-16 09:00:00.000000

Every email's composed message (about 13 KB) is written once and read once or twice;
PostgreSQL's default compression (pglz) costs about four times lz4's CPU on the way in,
which in a registration burst is a tenth of the database's work. A server built without
lz4 (or older than PostgreSQL 14) keeps pglz; SQLite does not compress.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3a8e5c1f7b20"
down_revision: str | None = "9c4e2b7d1a05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHERE_LZ4 = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression'
               AND 'lz4' = ANY(enumvals)) THEN
        ALTER TABLE outbox_emails ALTER COLUMN raw_message SET COMPRESSION {method};
    END IF;
END $$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_WHERE_LZ4.format(method="lz4"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_WHERE_LZ4.format(method="pglz"))

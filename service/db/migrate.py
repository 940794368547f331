"""Schema migrations run from code, and the start-up check that refuses a stale database."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from service.settings import MIGRATIONS_DIR, PROJECT_ROOT


class DatabaseNotMigratedError(RuntimeError):
    pass


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    """Blocking: call from a thread when an event loop is running."""
    command.upgrade(alembic_config(database_url), "head")


def head_revision(database_url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


async def ensure_migrated(engine: AsyncEngine, database_url: str) -> None:
    """Refuse to serve from a database whose schema is not the code's."""
    def current(connection: object) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()  # type: ignore[arg-type]

    async with engine.connect() as connection:
        revision = await connection.run_sync(current)
    head = head_revision(database_url)
    if revision != head:
        raise DatabaseNotMigratedError(
            f"The database is at schema revision {revision or 'none (empty)'} but this version "
            f"of Procura Events needs {head}. Run `procura-events migrate` first."
        )

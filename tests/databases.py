"""Real databases for the tests: a SQLite file and a throwaway PostgreSQL server.

PostgreSQL comes from, in order: TEST_DATABASE_URL (an existing server, e.g. in CI), the
machine's own PostgreSQL binaries (`pg_config --bindir`; as root they run as `postgres`),
or the `pgserver` wheel (forced with TEST_POSTGRES=pgserver). Each test gets a fresh
database copied from a migrated template, so migrations are exercised and no test sees
another's rows.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import uuid
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.migrate import upgrade_to_head
from tests.factories import free_port

# One template per pytest-xdist worker: on a shared server (TEST_DATABASE_URL) the workers
# must not drop and re-create each other's.
TEMPLATE_DB = f"procura_template_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
DEMO_TEMPLATE_DB = f"procura_demo_template_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


@dataclass
class PostgresServer:
    admin_url: str  # postgresql+asyncpg://... to the "postgres" database
    stop: Callable[[], None]

    def url_for(self, database: str) -> str:
        base, _, query = self.admin_url.partition("?")
        base = base.rsplit("/", 1)[0] + "/" + database
        return f"{base}?{query}" if query else base

    def asyncpg_dsn(self, database: str = "postgres") -> str:
        return self.url_for(database).replace("postgresql+asyncpg://", "postgresql://")




def _local_binaries() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    bindir = Path(subprocess.check_output([pg_config, "--bindir"], text=True).strip())
    return bindir if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists() else None


def _start_with_binaries(bindir: Path) -> PostgresServer:
    root = Path(tempfile.mkdtemp(prefix="procura-pg-"))
    data = root / "data"
    port = free_port()
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        as_postgres = ["runuser", "-u", "postgres", "--"]
        data.mkdir()
        shutil.chown(root, "postgres")
        shutil.chown(data, "postgres")
        root.chmod(0o755)
    subprocess.run(
        [*as_postgres, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
         "-E", "UTF8", "--no-sync", "--locale=C"],
        check=True, capture_output=True,
    )
    options = (f"-h 127.0.0.1 -p {port} -k {data} -c fsync=off -c synchronous_commit=off "
               "-c full_page_writes=off -c max_connections=300")
    subprocess.run(
        [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(data / "log"), "-w",
         "-o", options, "start"],
        check=True, capture_output=True,
    )

    def stop() -> None:
        subprocess.run(
            [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            check=False, capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)

    return PostgresServer(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres", stop)


def _start_with_pgserver() -> PostgresServer:
    root = Path(tempfile.mkdtemp(prefix="procura-pgserver-"))
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (as in CI); it falls back to /tmp.
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(root, cleanup_mode="stop")
        uri: str = server.get_uri()
    url = uri.replace("postgresql://", "postgresql+asyncpg://", 1)

    def stop() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()
        shutil.rmtree(root, ignore_errors=True)

    return PostgresServer(url, stop)


def start_postgres() -> PostgresServer:
    existing = os.environ.get("TEST_DATABASE_URL")
    if existing:
        return PostgresServer(existing, lambda: None)
    bindir = None if os.environ.get("TEST_POSTGRES") == "pgserver" else _local_binaries()
    return _start_with_binaries(bindir) if bindir else _start_with_pgserver()


async def create_template(server: PostgresServer) -> None:
    connection = await asyncpg.connect(server.asyncpg_dsn())
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"')
        await connection.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
    finally:
        await connection.close()


def run_off_loop(work: Callable[[], None]) -> None:
    """Alembic's async env calls asyncio.run: give it a thread of its own."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(work).result()


def migrate_template(server: PostgresServer) -> None:
    run_off_loop(lambda: upgrade_to_head(server.url_for(TEMPLATE_DB)))


async def create_database(server: PostgresServer, name: str | None = None, *,
                          from_template: str = TEMPLATE_DB) -> str:
    """A new database copied from a template (by default the migrated, empty one)."""
    name = name or f"test_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(server.asyncpg_dsn())
    try:
        await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{from_template}"')
    finally:
        await connection.close()
    return name


async def drop_database(server: PostgresServer, name: str) -> None:
    connection = await asyncpg.connect(server.asyncpg_dsn())
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


class EmptyDatabases:
    """Empty PostgreSQL databases for the tests of one worker, each used again once emptied.

    Copying the template costs about a third of a second (its system catalogs alone are over
    a thousand files); emptying a test's database and putting back the template's own rows
    costs about ten milliseconds. A database whose schema a test changed (a migration run,
    a table made) no longer matches the template's and is dropped instead.
    """

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self.idle: list[str] = []
        self.fresh: _FreshState | None = None

    async def take(self) -> str:
        if self.idle:
            return self.idle.pop()
        name = await create_database(self.server)
        if self.fresh is None:
            self.fresh = await _fresh_state(self.server.asyncpg_dsn(name))
        return name

    async def give_back(self, name: str) -> None:
        try:
            emptied = self.fresh is not None and await _emptied(
                self.server.asyncpg_dsn(name), self.fresh)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            emptied = False
        if emptied:
            self.idle.append(name)
        else:
            await drop_database(self.server, name)

    async def drop_all(self) -> None:
        while self.idle:
            await drop_database(self.server, self.idle.pop())


@dataclass(frozen=True)
class _FreshState:
    """What a database copied from the template holds: its schema, rows and sequences."""

    schema: list[asyncpg.Record]
    tables: list[str]  # parents before children
    rows: dict[str, tuple[list[str], list[asyncpg.Record]]]
    sequences: list[asyncpg.Record]


# Every object of the schema, with its identity: a table dropped and made again differs.
_SCHEMA = """
    SELECT 'relation' AS kind, c.relname AS name, c.relkind::text AS detail, c.oid::int AS id
      FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
    UNION ALL
    SELECT 'function', p.proname, '', p.oid::int FROM pg_proc p
     WHERE p.pronamespace = 'public'::regnamespace
    UNION ALL
    SELECT 'trigger', t.tgname, '', t.oid::int FROM pg_trigger t
      JOIN pg_class c ON c.oid = t.tgrelid
     WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
    UNION ALL
    SELECT 'type', t.typname, '', t.oid::int FROM pg_type t
     WHERE t.typnamespace = 'public'::regnamespace
    UNION ALL
    SELECT 'migration', version_num, '', 0 FROM alembic_version
    ORDER BY 1, 2, 4
"""


async def _fresh_state(dsn: str) -> _FreshState:
    connection = await asyncpg.connect(dsn)
    try:
        schema = await connection.fetch(_SCHEMA)
        names = [r["name"] for r in await connection.fetch(
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version'")]
        order = TopologicalSorter({name: set() for name in names})
        for edge in await connection.fetch(
                "SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent "
                "FROM pg_constraint WHERE contype = 'f' "
                "AND connamespace = 'public'::regnamespace"):
            if edge["child"] != edge["parent"]:
                order.add(edge["child"].strip('"'), edge["parent"].strip('"'))
        tables = list(order.static_order())
        rows: dict[str, tuple[list[str], list[asyncpg.Record]]] = {}
        for table in tables:  # names from the server's own catalog, not from input
            found = await connection.fetch(f'SELECT * FROM "{table}"')  # noqa: S608
            if found:
                rows[table] = (list(found[0].keys()), found)
        sequences = await connection.fetch(
            "SELECT schemaname || '.' || sequencename AS name, "
            "coalesce(last_value, start_value) AS value, last_value IS NOT NULL AS called "
            "FROM pg_sequences WHERE schemaname = 'public'")
        return _FreshState(schema=schema, tables=tables, rows=rows, sequences=sequences)
    finally:
        await connection.close()


async def _emptied(dsn: str, fresh: _FreshState) -> bool:
    """Back to the template's rows and sequences, or False where the schema is not its own."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        if await connection.fetch(_SCHEMA) != fresh.schema:
            return False
        async with connection.transaction():
            await connection.execute("".join(  # table names from the catalog, as above
                f'DELETE FROM "{table}";' for table in reversed(fresh.tables)))  # noqa: S608
            for table in fresh.tables:
                if table in fresh.rows:
                    columns, records = fresh.rows[table]
                    await connection.copy_records_to_table(table, records=records,
                                                           columns=columns)
            for sequence in fresh.sequences:
                await connection.execute("SELECT setval($1::regclass, $2, $3)",
                                         sequence["name"], sequence["value"], sequence["called"])
        return True
    finally:
        await connection.close()


def sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    run_off_loop(lambda: upgrade_to_head(f"sqlite+aiosqlite:///{path}"))
    return path


async def until_a_connection_waits_for_a_lock(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Until another connection to this PostgreSQL database waits for a lock (a row's or an
    advisory one): the moment a race test lets the first transaction end."""
    async with asyncio.timeout(20):
        while True:
            async with sessionmaker() as probe:
                waiting = await probe.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"))
            if waiting:
                return
            await asyncio.sleep(0.01)

"""The tests' PostgreSQL databases are used again once emptied: an emptied one must be
indistinguishable from a fresh copy of the template, or not be used again at all."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]

from tests import databases
from tests.conftest import load_demo_into

# Where every sequence stands (last_value is null until one is first used).
SEQUENCES = ("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' "
             "ORDER BY 1")


async def _contents(dsn: str) -> tuple[list[tuple[str, int]], list[asyncpg.Record], list[str]]:
    connection = await asyncpg.connect(dsn)
    try:
        tables = [r["tablename"] for r in await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
        counts = [(table, await connection.fetchval(f'SELECT count(*) FROM "{table}"'))  # noqa: S608
                  for table in tables]
        sequences = await connection.fetch(SEQUENCES)
        teams = [r["name"] for r in await connection.fetch("SELECT name FROM teams ORDER BY id")]
        return counts, sequences, teams
    finally:
        await connection.close()


async def _exists(server: databases.PostgresServer, name: str) -> bool:
    connection = await asyncpg.connect(server.asyncpg_dsn())
    try:
        return bool(await connection.fetchval(
            "SELECT count(*) FROM pg_database WHERE datname = $1", name))
    finally:
        await connection.close()


def test_an_emptied_database_reads_like_a_fresh_copy_of_the_template(
    postgres_server: databases.PostgresServer,
) -> None:
    pool = databases.EmptyDatabases(postgres_server)

    async def scenario() -> None:
        first = await pool.take()
        fresh = await _contents(postgres_server.asyncpg_dsn(first))
        assert fresh[2] == ["Programme team"]  # the template's own row
        # A test's worth of rows in most tables, every sequence moved on, and a connection
        # left open in a transaction that holds locks.
        await asyncio.to_thread(load_demo_into, postgres_server.url_for(first),
                                Path(tempfile.mkdtemp()))
        left_open = await asyncpg.connect(postgres_server.asyncpg_dsn(first))
        transaction = left_open.transaction()
        await transaction.start()
        await left_open.execute("UPDATE teams SET name = 'changed'")
        assert (await _contents(postgres_server.asyncpg_dsn(first)))[0] != fresh[0]

        await pool.give_back(first)
        again = await pool.take()
        assert again == first
        assert await _contents(postgres_server.asyncpg_dsn(again)) == fresh
        assert left_open.is_closed() or not await _alive(left_open)

        # A schema of its own: dropped, never handed out again.
        connection = await asyncpg.connect(postgres_server.asyncpg_dsn(again))
        await connection.execute("CREATE TABLE made_by_a_test (id int)")
        await connection.close()
        await pool.give_back(again)
        assert pool.idle == []
        assert not await _exists(postgres_server, again)
        another = await pool.take()
        assert another != again
        assert await _contents(postgres_server.asyncpg_dsn(another)) == fresh
        await pool.give_back(another)
        await pool.drop_all()
        assert not await _exists(postgres_server, another)

    databases.run_off_loop(lambda: asyncio.run(scenario()))


async def _alive(connection: asyncpg.Connection) -> bool:
    try:
        await connection.fetchval("SELECT 1")
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        return False
    return True

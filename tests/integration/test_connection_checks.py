"""Pooled PostgreSQL connections are checked before use only after a pause, and a connection
the check finds gone is replaced before anyone uses it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.ext.asyncio import AsyncEngine

from service.db.engine import PING_AFTER_IDLE_SECONDS, create_engine
from service.settings import Settings

pytestmark = pytest.mark.postgres_only


class Clock:
    """The pool's idea of now (seconds), moved by the test."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def one_connection(settings: Settings, clock: Clock) -> AsyncIterator[AsyncEngine]:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite opens a file: there is no server connection to check")
    engine = create_engine(settings.database_url, clock=clock, pool_size=1, max_overflow=0)
    yield engine
    await engine.dispose()


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each real ping the pool makes, counted (the ping itself still goes to the server)."""
    made: list[int] = []
    real_ping: Callable[[Any], None] = AsyncAdapt_asyncpg_connection.ping

    def counted(connection: Any) -> None:
        made.append(1)
        real_ping(connection)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counted)
    return made


async def _backend(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_used_a_moment_ago_is_not_pinged_and_an_idle_one_is(
    one_connection: AsyncEngine, clock: Clock, pings: list[int],
) -> None:
    first = await _backend(one_connection)  # a new connection: nothing to check
    clock.now += PING_AFTER_IDLE_SECONDS / 2
    assert await _backend(one_connection) == first
    assert await _backend(one_connection) == first
    assert pings == []

    clock.now += PING_AFTER_IDLE_SECONDS
    assert await _backend(one_connection) == first
    assert pings == [1]


async def test_an_idle_connection_whose_server_session_ended_is_replaced_before_use(
    one_connection: AsyncEngine, settings: Settings, clock: Clock, pings: list[int],
) -> None:
    gone = await _backend(one_connection)
    other = create_engine(settings.database_url)
    try:
        async with other.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": gone})
    finally:
        await other.dispose()
    clock.now += PING_AFTER_IDLE_SECONDS

    async with one_connection.connect() as connection:
        now_serving = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()

    assert now_serving != gone
    assert pings == [1]

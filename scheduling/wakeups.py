"""Wake-ups from other processes: LISTEN on PostgreSQL, a look at the file on SQLite.

A web process commits a registration (and its first email to compose) and PostgreSQL
delivers `notifications.wakeups.CHANNEL` with the kind of work to every listening worker,
which runs the matching job at once instead of at its next tick. One connection of its own
per scheduler, outside the pool (a LISTEN lasts as long as its connection). If it cannot
connect or loses the connection, it says so in the log and tries again now and then; the
jobs' interval ticks go on meanwhile, so nothing is lost, only later.

SQLite has no NOTIFY. A worker process beside a web process on one SQLite file asks the file,
ten times a second, whether anyone committed since it last asked (`PRAGMA data_version`, a
read of the file's change counter that takes no lock) and, if so, wakes every job that
handles outbox work: the first emails of a burst go out within a tenth of a second rather
than at the next tick. A wake is only a hint here too (its own commits count as well, and
cost an empty look).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import aiosqlite
import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from notifications.wakeups import CHANNEL, KINDS

logger = logging.getLogger("procura_events.wakeups")

RECONNECT_SECONDS = 5.0
SQLITE_LOOK_SECONDS = 0.1


def asyncpg_dsn(database_url: str) -> str:
    """The service's SQLAlchemy URL (`postgresql+asyncpg://...`) as a DSN asyncpg reads."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(
        hide_password=False)


class WakeupListener:
    """LISTENs on `CHANNEL` and calls `wake(kind)` for each notification, until closed."""

    def __init__(self, dsn: str, wake: Callable[[str], None]) -> None:
        self._dsn = dsn
        self._wake = wake
        self._connection: Any = None
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    @classmethod
    async def start(cls, database_url: str, wake: Callable[[str], None]) -> WakeupListener:
        """A listener that is listening (or, if the database cannot be reached now, trying
        again in the background)."""
        listener = cls(asyncpg_dsn(database_url), wake)
        listener._task = asyncio.create_task(listener._keep_listening())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await listener.listening.wait()
        return listener

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        if payload in KINDS:
            self._wake(payload)

    def _terminated(self, _connection: Any) -> None:
        self._lost.set()

    async def _keep_listening(self) -> None:
        reconnecting = False
        while True:
            try:
                self._connection = await asyncpg.connect(self._dsn)
                self._connection.add_termination_listener(self._terminated)
                await self._connection.add_listener(CHANNEL, self._notified)
            except (OSError, asyncpg.PostgresError) as error:
                logger.warning("Not listening for outbox wake-ups (%s: %s); the jobs' "
                               "ticks go on, trying again in %.0f s", type(error).__name__,
                               str(error).splitlines()[0] if str(error) else "",
                               RECONNECT_SECONDS)
                await self._discard()
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            self.listening.set()
            if reconnecting:  # anything committed while not listening: the jobs look now
                for kind in KINDS:
                    self._wake(kind)
            reconnecting = True
            await self._lost.wait()
            self._lost.clear()
            self.listening.clear()
            logger.warning("Lost the connection that listens for outbox wake-ups; reconnecting")
            await self._discard()

    async def _discard(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)

    async def close(self) -> None:
        await _stop(self._task)
        self._task = None
        self.listening.clear()
        await self._discard()


class SqliteCommitWatcher:
    """Calls `wake(kind)` for every kind when another connection committed to the SQLite
    file (see the module docstring), until closed."""

    def __init__(self, path: str, wake: Callable[[str], None], *,
                 every_seconds: float = SQLITE_LOOK_SECONDS) -> None:
        self._path = path
        self._wake = wake
        self._every = every_seconds
        self._task: asyncio.Task[None] | None = None
        self.watching = asyncio.Event()

    @classmethod
    async def start(cls, database_url: str, wake: Callable[[str], None]) -> SqliteCommitWatcher:
        path = make_url(database_url).database
        if not path or path == ":memory:":
            raise ValueError("only a SQLite file is shared with other processes")
        watcher = cls(path, wake)
        watcher._task = asyncio.create_task(watcher._keep_watching())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await watcher.watching.wait()
        return watcher

    async def _keep_watching(self) -> None:
        while True:
            try:
                async with aiosqlite.connect(self._path) as connection:
                    seen = await _data_version(connection)
                    self.watching.set()
                    while True:
                        await asyncio.sleep(self._every)
                        version = await _data_version(connection)
                        if version != seen:
                            seen = version
                            for kind in KINDS:
                                self._wake(kind)
            except (OSError, aiosqlite.Error) as error:
                self.watching.clear()
                logger.warning("Not watching the database file for outbox work (%s: %s); the "
                               "jobs' ticks go on, trying again in %.0f s",
                               type(error).__name__, error, RECONNECT_SECONDS)
                await asyncio.sleep(RECONNECT_SECONDS)

    async def close(self) -> None:
        await _stop(self._task)
        self._task = None
        self.watching.clear()


async def _stop(task: asyncio.Task[None] | None) -> None:
    """Cancel a watching task and wait until it has ended."""
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _data_version(connection: aiosqlite.Connection) -> int:
    async with connection.execute("PRAGMA data_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0

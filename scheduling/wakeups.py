"""Wake-ups from other processes: LISTEN on PostgreSQL for the outbox's NOTIFY.

A web process commits a registration (and its first email to compose) and PostgreSQL
delivers `notifications.wakeups.CHANNEL` with the kind of work to every listening worker,
which runs the matching job at once instead of at its next tick. One connection of its own
per scheduler, outside the pool (a LISTEN lasts as long as its connection). If it cannot
connect or loses the connection, it says so in the log and tries again now and then; the
jobs' interval ticks go on meanwhile, so nothing is lost, only later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from notifications.wakeups import CHANNEL, KINDS

logger = logging.getLogger("procura_events.wakeups")

RECONNECT_SECONDS = 5.0


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
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self.listening.clear()
        await self._discard()

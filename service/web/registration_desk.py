"""The registration desk: registrations that arrive together are filed in one transaction.

When a call for a popular webinar goes out, many people submit the form within the same
few milliseconds. Filed one by one, each registration pays for a transaction of its own: a
handful of statements and a commit, and on SQLite every one of them waits for the single
connection. The desk queues the requests in arrival order and hands whatever has gathered
to `register_participants`, which writes a whole batch with one statement per table. A
request waits only for its own batch: when the desk is idle, a registration starts at once.

Each request still gets its own answer (its outcome or the rule it broke). If a batch
fails as a whole (an unexpected database error), its registrations are filed again one by
one, so one bad request fails alone. One desk per process; several processes (or web
instances on PostgreSQL) coordinate through the event's row lock, as single
registrations do.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.clock import utc_now
from service.db.engine import session_scope
from service.domain.errors import DomainError
from service.domain.registration import (
    RegistrationForm,
    RegistrationOutcome,
    register_participants,
)
from service.settings import Settings

logger = logging.getLogger("procura_events.registration_desk")

# Enough to absorb a burst, small enough to keep each transaction short.
MAX_BATCH = 100

_Request = tuple[str, RegistrationForm, "asyncio.Future[RegistrationOutcome]"]


class RegistrationDesk:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 *, max_batch: int = MAX_BATCH) -> None:
        self._sessionmaker = sessionmaker
        self._settings = settings
        self._max_batch = max_batch
        self._waiting: list[_Request] = []
        self._filing: asyncio.Task[None] | None = None

    async def register(self, slug: str, form: RegistrationForm) -> RegistrationOutcome:
        """Register one person; raises the `DomainError` of a refused registration."""
        future: asyncio.Future[RegistrationOutcome] = asyncio.get_running_loop().create_future()
        self._waiting.append((slug, form, future))
        if self._filing is None or self._filing.done():
            self._filing = asyncio.create_task(self._file_all())
        return await future

    async def _file_all(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            try:
                await self._file(batch)
            except Exception as error:  # never leave a request waiting forever
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(error)

    async def _file(self, batch: list[_Request]) -> None:
        now = utc_now()
        try:
            async with session_scope(self._sessionmaker) as db:
                results = await register_participants(
                    db, [(slug, form) for slug, form, _ in batch], now=now,
                    settings=self._settings,
                )
        except Exception:
            if len(batch) == 1:
                raise
            logger.exception("A batch of %d registrations failed; filing them one by one",
                             len(batch))
            for request in batch:
                try:
                    await self._file([request])
                except Exception as error:
                    if not request[2].done():
                        request[2].set_exception(error)
            return
        # Answered only after the commit: an outcome is never told before it is stored.
        for (_, _, future), result in zip(batch, results, strict=True):
            if future.done():  # the client went away
                continue
            if isinstance(result, DomainError):
                future.set_exception(result)
            else:
                future.set_result(result)

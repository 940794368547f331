"""The registration desk: registrations that arrive together are filed in one transaction.

When a call for a popular webinar goes out, many people submit the form within the same
few milliseconds. Filed one by one, each registration pays for a transaction of its own: a
handful of statements and a commit, and on SQLite every one of them waits for the single
connection. The desk queues the requests in arrival order and hands whatever has gathered
to `register_participants`, which writes a whole batch with one statement per table. A
request waits only for its own batch (and, under load, a millisecond's pause between two
batches): when the desk is idle, a registration starts at once.

Each request still gets its own answer (its outcome or the rule it broke). If a batch
fails as a whole (an unexpected database error), its registrations are filed again one by
one, so one bad request fails alone. One desk per process; several processes (or web
instances on PostgreSQL) coordinate through the event's row lock, as single
registrations do.

The desk also counts each registration against its client's rate limit, in the same
transaction (`service.web.rate_limit.count_in`): a request over the limit is refused with
RateLimitExceeded and filed nowhere, and nobody is told before the count is committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

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
from service.web.rate_limit import RateLimit, RateLimitExceeded, count_in

logger = logging.getLogger("procura_events.registration_desk")

# Enough to absorb a burst, small enough to keep each transaction short.
MAX_BATCH = 100
# After a batch, a moment before the next (seconds): the answers just given go out and
# their clients' next requests come in, so the next batch files them together rather than
# half of them, and fewer of the loop's HTTP chores run inside the transaction (on SQLite,
# holding the one write lock). In the burst benchmark (2,000 registrations over 50
# connections) batches grew from ~25 to ~50, the web's CPU fell by a tenth and SQLite's
# write lock was held 28 % less. A request to an idle desk is filed at once.
PAUSE_BETWEEN_BATCHES = 0.001


async def _pause_between_batches() -> None:
    await asyncio.sleep(PAUSE_BETWEEN_BATCHES)


class _OverLimit(Exception):
    """A request over its rate limit; `register` raises RateLimitExceeded in its place, in
    the request's own context (its language)."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


@dataclass(frozen=True)
class _Request:
    slug: str
    form: RegistrationForm
    answer: asyncio.Future[RegistrationOutcome]
    limit: RateLimit | None
    client: str


class RegistrationDesk:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 *, max_batch: int = MAX_BATCH,
                 pause: Callable[[], Awaitable[None]] = _pause_between_batches) -> None:
        self._sessionmaker = sessionmaker
        self._settings = settings
        self._max_batch = max_batch
        self._pause = pause
        self._waiting: list[_Request] = []
        self._filing: asyncio.Task[None] | None = None

    async def register(self, slug: str, form: RegistrationForm, *,
                       limit: RateLimit | None = None, client: str = "") -> RegistrationOutcome:
        """Register one person, counted against `limit` for `client` when given; raises the
        `DomainError` of a refused registration, or RateLimitExceeded."""
        future: asyncio.Future[RegistrationOutcome] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Request(slug, form, future, limit, client))
        if self._filing is None or self._filing.done():
            self._filing = asyncio.create_task(self._file_all())
        try:
            return await future
        except _OverLimit as over:
            assert limit is not None
            raise RateLimitExceeded(limit, over.seconds) from None

    async def _file_all(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            try:
                await self._file(batch)
            except Exception as error:  # never leave a request waiting forever
                for request in batch:
                    if not request.answer.done():
                        request.answer.set_exception(error)
            # Requests arriving meanwhile queue up behind this task: filed after the pause.
            await self._pause()

    async def _file(self, batch: list[_Request]) -> None:
        now = utc_now()
        try:
            async with session_scope(self._sessionmaker) as db:
                over = await _over_limit(db, batch, now=now)
                admitted = [request for request in batch if id(request) not in over]
                results = await register_participants(
                    db, [(request.slug, request.form) for request in admitted], now=now,
                    settings=self._settings,
                ) if admitted else []
        except Exception:
            if len(batch) == 1:
                raise
            logger.exception("A batch of %d registrations failed; filing them one by one",
                             len(batch))
            for request in batch:
                try:
                    await self._file([request])
                except Exception as error:
                    if not request.answer.done():
                        request.answer.set_exception(error)
            return
        # Answered only after the commit: an outcome is never told before it is stored.
        for request in batch:
            if id(request) in over and not request.answer.done():
                request.answer.set_exception(_OverLimit(over[id(request)]))
        for request, result in zip(admitted, results, strict=True):
            if request.answer.done():  # the client went away
                continue
            if isinstance(result, DomainError):
                request.answer.set_exception(result)
            else:
                request.answer.set_result(result)


async def _over_limit(db: AsyncSession, batch: list[_Request], *, now: datetime
                      ) -> dict[int, int]:
    """The batch's requests over their rate limit (by `id`), with the seconds to wait."""
    limited = [(request, request.limit) for request in batch if request.limit is not None]
    if not limited:
        return {}
    waits = await count_in(db, [(limit, request.client) for request, limit in limited], now=now)
    return {id(request): wait for (request, _limit), wait in zip(limited, waits, strict=True)
            if wait is not None}

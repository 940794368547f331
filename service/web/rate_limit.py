"""Rate limits per client address, counted in the database and shared by every process.

One limiter per process counts every limited request through the `rate_limit_counters`
table (`service.domain.rate_limits`), so several web processes on one PostgreSQL database
enforce one limit together; SQLite, a single process, uses the same table. Requests that
arrive together are counted in one transaction with one statement, as the registration desk
files registrations, so the limit does not cost the hot path a commit per request.

A route opts in with `guards=[rate_limited(...)]`; over the limit, the guard raises
`RateLimitExceeded` (429 with Retry-After), which the JSON API and the pages each answer in
their own way. Registrations are counted by the registration desk instead, in the
transaction that files them (`count_in`): one transaction per batch, not two. IPv6 clients
are counted per /64 network, the block one subscriber usually holds. Nothing here logs an
address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.handlers.base import BaseRouteHandler
from litestar.status_codes import HTTP_429_TOO_MANY_REQUESTS
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.clock import utc_now
from service.db.engine import session_scope
from service.domain.rate_limits import count_hits, prune_rate_counters, window_start
from service.i18n import N_
from service.i18n import gettext as _
from service.settings import Settings

logger = logging.getLogger("procura_events.rate_limit")

MAX_BATCH = 200
PRUNE_EVERY = timedelta(minutes=5)
_KEY_LENGTH = 200


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` requests per client in each `window` (aligned on the epoch)."""

    name: str
    limit: int
    window: timedelta
    what: str  # N_("registrations"), as in "Too many registrations from your address"

    def describe(self) -> str:
        """"at most 5 registrations a minute", in the language in force."""
        seconds = int(self.window.total_seconds())
        per = (_("a minute") if seconds == 60
               else _("per %(minutes)s minutes") % {"minutes": seconds // 60}
               if seconds % 60 == 0 else _("per %(seconds)s seconds") % {"seconds": seconds})
        return _("at most %(limit)s %(what)s %(per)s") % {
            "limit": self.limit, "what": _(self.what), "per": per}


def registration_limit(settings: Settings) -> RateLimit:
    """Registrations, by the form and the JSON API together, from one client address."""
    return RateLimit(name="registrations", limit=settings.registration_rate_limit,
                     window=timedelta(minutes=1), what=N_("registrations"))


def group_interest_limit(settings: Settings) -> RateLimit:
    """Expressing interest in an Interest Group from one client address: each form sends
    emails, so as many a minute as registrations, counted apart from them."""
    return RateLimit(name="group-interest", limit=settings.registration_rate_limit,
                     window=timedelta(minutes=1), what=N_("requests to join an Interest Group"))


def link_request_limit(settings: Settings) -> RateLimit:
    """Asking for one's private link again (page and API): few per client, so nobody can
    probe which addresses are registered."""
    return RateLimit(name="link-requests", limit=5, window=timedelta(minutes=10),
                     what=N_("requests for a private link"))


class RateLimitExceeded(HTTPException):
    status_code = HTTP_429_TOO_MANY_REQUESTS

    def __init__(self, rate_limit: RateLimit, retry_after: int) -> None:
        self.rate_limit = rate_limit
        self.retry_after = retry_after
        super().__init__(
            detail=_("Too many %(what)s from your address: %(limit)s. Try again in %(seconds)s "
                     "seconds.") % {"what": _(rate_limit.what), "limit": rate_limit.describe(),
                                    "seconds": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


async def count_in(db: AsyncSession, hits: Sequence[tuple[RateLimit, str]], *,
                   now: datetime) -> list[int | None]:
    """Count each (limit, client) hit in `db`'s transaction, one statement per window; for
    each, None when within its limit, else the seconds to wait. Whoever is told must be told
    after the commit: a hit is never let through uncounted."""
    by_window: dict[timedelta, list[int]] = {}
    for index, (rate_limit, _client) in enumerate(hits):
        by_window.setdefault(rate_limit.window, []).append(index)
    answers: list[int | None] = [None] * len(hits)
    for window, indexes in by_window.items():
        keys = [f"{hits[i][0].name}:{hits[i][1]}"[:_KEY_LENGTH] for i in indexes]
        numbers = await count_hits(db, keys, window=window, now=now)
        wait = max(1, math.ceil((window_start(now, window) + window - now).total_seconds()))
        for index, number in zip(indexes, numbers, strict=True):
            answers[index] = None if number <= hits[index][0].limit else wait
    return answers


@dataclass(frozen=True)
class _Hit:
    rate_limit: RateLimit
    client: str
    answer: asyncio.Future[int | None]


class RateLimiter:
    """Counts hits in the shared table; hits that arrive together share one transaction."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *,
                 max_batch: int = MAX_BATCH) -> None:
        self._sessionmaker = sessionmaker
        self._max_batch = max_batch
        self._waiting: list[_Hit] = []
        self._counting: asyncio.Task[None] | None = None
        self._pruned_at: datetime | None = None

    async def hit(self, rate_limit: RateLimit, client: str) -> int | None:
        """Count one request; None when it is within the limit, else seconds to wait."""
        answer: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Hit(rate_limit, client, answer))
        if self._counting is None or self._counting.done():
            self._counting = asyncio.create_task(self._count_all())
        return await answer

    async def _count_all(self) -> None:
        # Before counting, not after: a hit arriving meanwhile still finds this task running.
        await self._prune_when_due()
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            try:
                await self._count(batch)
            except Exception as error:  # never leave a request waiting forever
                for hit in batch:
                    if not hit.answer.done():
                        hit.answer.set_exception(error)

    async def _count(self, batch: list[_Hit]) -> None:
        async with session_scope(self._sessionmaker) as db:
            answers = await count_in(db, [(hit.rate_limit, hit.client) for hit in batch],
                                     now=utc_now())
        # Answered only after the commit: a hit is never let through uncounted.
        for hit, answer in zip(batch, answers, strict=True):
            if not hit.answer.done():  # the client went away
                hit.answer.set_result(answer)

    async def _prune_when_due(self) -> None:
        now = utc_now()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        try:
            async with session_scope(self._sessionmaker) as db:
                await prune_rate_counters(db, now=now)
        except Exception:  # counting goes on; the next round prunes again
            logger.exception("Pruning old rate limit counters failed")


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """Whom a limit counts: the client's IP address, or its /64 network for IPv6."""
    host = connection.client.host if connection.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:100] or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Coroutine[Any, Any, None]]


async def count_request(connection: ASGIConnection[Any, Any, Any, Any],
                        rate_limit: RateLimit) -> None:
    """Count this request against `rate_limit` for its client (RateLimitExceeded when over).

    For handlers that must read their input first (bad input is named before anything is
    counted); the others use the `rate_limited` guard."""
    limiter: RateLimiter = connection.app.state.rate_limiter
    wait = await limiter.hit(rate_limit, client_address(connection))
    if wait is not None:
        raise RateLimitExceeded(rate_limit, wait)


def rate_limited(limit_for: Callable[[Settings], RateLimit]) -> Guard:
    """A guard that counts each request against `limit_for(settings)` for its client."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        await count_request(connection, limit_for(connection.app.state.settings))

    return guard

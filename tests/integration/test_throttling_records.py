"""Failed sign-ins and rate-limit counts are deleted once they can no longer lock or limit
anyone, by the scheduler, whether or not the same address or client comes back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.transport import MaildirTransport
from scheduling.jobs import JOB_NAMES, JobContext, job_prune_throttling_records
from service.db.models import LoginFailure, RateLimitCounter
from service.domain.accounts.throttling import record_sign_in_failure, sign_in_locked_until
from service.domain.rate_limits import count_hits
from service.settings import Settings

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


async def test_old_sign_in_failures_and_ended_counters_go_and_current_ones_stay(
    db: AsyncSession, db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
) -> None:
    async with db.begin():
        for address, at in (("old@example.org", NOW - timedelta(days=1, minutes=1)),
                            ("recent@example.org", NOW - timedelta(hours=23))):
            await record_sign_in_failure(db, email=address, client_address="203.0.113.7",
                                         now=at)
        for _ in range(10):  # a lock that is running now
            await record_sign_in_failure(db, email="locked@example.org",
                                         client_address="198.51.100.9",
                                         now=NOW - timedelta(minutes=5))
        await count_hits(db, ["register:203.0.113.7"], window=timedelta(minutes=1),
                         now=NOW - timedelta(hours=2))
        await count_hits(db, ["register:198.51.100.9"], window=timedelta(minutes=1), now=NOW)
    context = JobContext(sessionmaker=db_sessionmaker, settings=settings,
                         transport=MaildirTransport(settings.var_dir / "mail"))

    with time_machine.travel(NOW, tick=False):
        pruned = await job_prune_throttling_records(context)

    async with db.begin():
        failures = sorted({f.email for f in await db.scalars(select(LoginFailure))})
        counters = [c.key for c in await db.scalars(select(RateLimitCounter))]
        lock = await sign_in_locked_until(db, email="locked@example.org",
                                          client_address="192.0.2.1", now=NOW)
    assert pruned == 2
    assert failures == ["locked@example.org", "recent@example.org"]
    assert counters == ["register:198.51.100.9"]
    assert lock == NOW - timedelta(minutes=5) + timedelta(minutes=15)  # the lock still holds
    assert "prune_throttling_records" in JOB_NAMES

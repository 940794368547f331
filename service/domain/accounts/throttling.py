"""Sign-in throttling: after 10 failed attempts within 15 minutes for one address typed, or
from one client address, sign-ins for it are refused for 15 minutes.

Counted in the database (shared by every web process). Attempts refused while locked are
not counted again, so the lock ends 15 minutes after it started whatever a script does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import LoginFailure

MAX_FAILURES = 10
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)
KEEP = timedelta(days=1)


def _locked_until(times: list[datetime], now: datetime) -> datetime | None:
    """`times` newest first: the end of the latest lock still running, if any."""
    for newest, oldest in zip(times, times[MAX_FAILURES - 1:], strict=False):
        if newest - oldest <= WINDOW and newest + LOCK > now:
            return newest + LOCK
    return None


async def sign_in_locked_until(
    db: AsyncSession, *, email: str, client_address: str, now: datetime
) -> datetime | None:
    """When sign-ins for this address or from this client may resume; None if they may now."""
    since = now - WINDOW - LOCK
    until: datetime | None = None
    for column, value in ((LoginFailure.email, email),
                          (LoginFailure.client_address, client_address)):
        times = list(await db.scalars(
            select(LoginFailure.failed_at)
            .where(column == value, LoginFailure.failed_at > since)
            .order_by(LoginFailure.failed_at.desc())
        ))
        found = _locked_until(times, now)
        if found is not None and (until is None or found > until):
            until = found
    return until


async def record_sign_in_failure(
    db: AsyncSession, *, email: str, client_address: str, now: datetime
) -> None:
    db.add(LoginFailure(email=email, client_address=client_address, failed_at=now))
    await db.flush()


async def prune_sign_in_failures(db: AsyncSession, *, now: datetime) -> int:
    """Delete failed sign-ins older than `KEEP` (an address typed, a client's IP address:
    personal data, of no use once no lock can follow from them); how many went."""
    result = await db.execute(delete(LoginFailure).where(LoginFailure.failed_at < now - KEEP))
    return int(getattr(result, "rowcount", 0) or 0)

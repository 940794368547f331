"""Signed-in sessions, kept in the database: they survive a restart, can be ended from the
server, and end by themselves after a while without use (idle) and after a fixed time in any
case (absolute).

The browser holds a random secret; the row's id is its SHA-256, so a leaked copy of the
table signs nobody in. A new session (new secret) is made at every sign-in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Account, AccountSession

# last_seen_at is written at most this often: not one UPDATE per page view.
TOUCH_EVERY = timedelta(minutes=1)
_MAX_SECRET = 100


@dataclass(frozen=True)
class SessionTimeouts:
    idle: timedelta
    absolute: timedelta


def session_id_for(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class StartedSession:
    session: AccountSession
    secret: str  # for the browser's cookie; never stored


async def start_session(db: AsyncSession, account: Account, *, now: datetime) -> StartedSession:
    secret = secrets.token_urlsafe(32)
    session = AccountSession(id=session_id_for(secret), account_id=account.id, created_at=now,
                             last_seen_at=now)
    db.add(session)
    await db.flush()
    return StartedSession(session=session, secret=secret)


async def find_session(
    db: AsyncSession, secret: str, *, now: datetime, timeouts: SessionTimeouts
) -> tuple[AccountSession, Account] | None:
    """The live session for a browser's secret and its account, or None (unknown, ended,
    timed out, or the account disabled). A session found timed out is ended there."""
    if not secret or len(secret) > _MAX_SECRET:
        return None
    row = (await db.execute(
        select(AccountSession, Account)
        .join(Account, Account.id == AccountSession.account_id)
        .where(AccountSession.id == session_id_for(secret), AccountSession.ended_at.is_(None))
    )).one_or_none()
    if row is None:
        return None
    session, account = row[0], row[1]
    if account.disabled_at is not None:
        return None
    if now - session.last_seen_at > timeouts.idle or now - session.created_at > timeouts.absolute:
        session.ended_at = now
        await db.flush()
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        session.last_seen_at = now
        await db.flush()
    return session, account


async def end_session(db: AsyncSession, session_id: str, *, now: datetime) -> None:
    await db.execute(
        update(AccountSession)
        .where(AccountSession.id == session_id, AccountSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session="fetch")
    )


async def end_account_sessions(db: AsyncSession, account_id: int, *, now: datetime) -> None:
    """Every session of the account ends (disabled, or its password changed)."""
    await db.execute(
        update(AccountSession)
        .where(AccountSession.account_id == account_id, AccountSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session="fetch")
    )

"""Telling the jobs that outbox work was committed, so they start now rather than at a tick.

The scheduler's jobs run every second or so; an email queued just after a run would wait
for the next. `announce(db, kind)` marks the caller's transaction as having queued work of
a kind (`COMPOSE`: emails to compose; `DELIVER`: emails due now). Once that transaction
commits, every scheduler in this process that subscribed is told (`subscribe`); on
PostgreSQL the transaction also sends a NOTIFY on `CHANNEL` (delivered by PostgreSQL only
at its commit, never after a rollback), which schedulers in other processes LISTEN to
(`scheduling.wakeups`). A wake is only a hint: the interval ticks remain, and what is due
is still read from the outbox, so a lost or duplicate wake changes nothing but timing.

Flushes nothing, commits nothing, sends nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

logger = logging.getLogger("procura_events.wakeups")

COMPOSE = "compose"
DELIVER = "deliver"
KINDS = (COMPOSE, DELIVER)
# The PostgreSQL channel the NOTIFY goes to; its payload is the kind.
CHANNEL = "procura_outbox"
_INFO_KEY = "procura_outbox_wakeups"

Listener = Callable[[str], None]
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> Callable[[], None]:
    """Call `listener(kind)` after each commit in this process that queued work of `kind`;
    returns the function that unsubscribes it."""
    _listeners.append(listener)

    def unsubscribe() -> None:
        if listener in _listeners:
            _listeners.remove(listener)

    return unsubscribe


async def announce(db: AsyncSession, kind: str) -> None:
    """Mark `db`'s transaction as having queued work of `kind` (see the module docstring)."""
    pending: set[str] = db.info.setdefault(_INFO_KEY, set())
    if kind in pending:
        return
    pending.add(kind)
    if db.get_bind().dialect.name == "postgresql":
        # Transactional: PostgreSQL delivers it at commit, once per payload and transaction.
        await db.execute(select(func.pg_notify(CHANNEL, kind)))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    kinds: set[str] = session.info.pop(_INFO_KEY, set())
    for kind in sorted(kinds):
        for listener in list(_listeners):
            try:
                listener(kind)
            except Exception:  # a hint that failed must never fail the commit's caller
                logger.exception("A wake-up listener failed")


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_INFO_KEY, None)

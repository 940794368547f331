"""The fixed table of periodic jobs: each wakes one domain function with the current time.

The database says what is due and what was sent; a job only asks "anything due now?" in
a transaction of its own. A job drains: it runs batch after batch until a batch comes back
short, so a burst of due work is not spread over many ticks. Between batches it checks
`context.stopping`, so a stopping scheduler lets the current batch finish and no more.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.delivery import deliver_due_emails
from notifications.transport import MailTransport
from service.clock import utc_now
from service.db.engine import session_scope
from service.domain.change_notices import process_due_change_notices
from service.domain.reminders import process_due_reminders
from service.settings import Settings


def make_worker_id() -> str:
    """Names this process's claims in the outbox (host, pid and a random suffix)."""
    return f"{socket.gethostname()[:60]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass
class JobContext:
    """What every job needs; one per running scheduler."""

    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    transport: MailTransport
    worker_id: str = field(default_factory=make_worker_id)
    # Small reminder batches keep each transaction short (composing an email costs a few
    # milliseconds): on SQLite the web requests share the one connection with the jobs.
    reminder_batch: int = 50
    notice_batch: int = 1
    email_batch: int = 100
    stopping: bool = False


class _Batch(Protocol):
    @property
    def claimed(self) -> int: ...


async def _drain(
    context: JobContext, batch_size: int,
    process: Callable[[AsyncSession], Awaitable[_Batch]],
) -> int:
    """Run `process` in a transaction of its own, batch after batch, until one comes back short."""
    claimed = 0
    while not context.stopping:
        async with session_scope(context.sessionmaker) as db:
            report = await process(db)
        claimed += report.claimed
        if report.claimed < batch_size:
            break
    return claimed


async def job_send_due_reminders(context: JobContext) -> int:
    """Due reminders become outbox emails (or are recorded as skipped)."""
    batch = context.reminder_batch
    return await _drain(context, batch, lambda db: process_due_reminders(
        db, now=utc_now(), settings=context.settings, batch_size=batch))


async def job_send_due_change_notices(context: JobContext) -> int:
    """Change notices whose coalescing window has passed go to the session's registrants."""
    batch = context.notice_batch
    return await _drain(context, batch, lambda db: process_due_change_notices(
        db, now=utc_now(), settings=context.settings, batch_size=batch))


async def job_deliver_outbox(context: JobContext) -> int:
    """Queued emails go to the mail server (claims and outcomes in their own transactions)."""
    claimed = 0
    while not context.stopping:
        report = await deliver_due_emails(
            context.sessionmaker, context.transport, settings=context.settings, now=utc_now(),
            batch_size=context.email_batch, worker_id=context.worker_id,
        )
        claimed += report.claimed
        if report.claimed < context.email_batch:
            break
    return claimed


Job = Callable[[JobContext], Awaitable[int]]

# (name, job, seconds between runs): short intervals keep reminder lag to a second or two.
JOBS: tuple[tuple[str, Job, float], ...] = (
    ("send_due_reminders", job_send_due_reminders, 1.0),
    ("send_due_change_notices", job_send_due_change_notices, 2.0),
    ("deliver_outbox", job_deliver_outbox, 1.0),
)

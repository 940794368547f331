"""The fixed table of periodic jobs: each wakes one domain function with the current time.

The database says what is due and what was sent; a job only asks "anything due now?" in
a transaction of its own. A job drains: it runs batch after batch until a batch comes back
short (the composing job: empty), so a burst of due work is not spread over many ticks.
Between batches it checks `context.stopping`, so a stopping scheduler lets the current
batch finish and no more.

Reminders are composed ahead (`prepare_reminders`, within PROCURA_REMINDER_PREPARE_MINUTES of
their due time) and held in the outbox until then, so when they fall due only the delivery
job has work to do; it claims the next batch while the last one is being sent.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications import wakeups
from notifications.delivery import drain_due_emails, next_due_in
from notifications.transport import MailTransport
from service.clock import utc_now
from service.db.engine import session_scope
from service.domain.accounts.throttling import prune_sign_in_failures
from service.domain.groups.meeting_reminders import plan_reminders as plan_meeting_reminders
from service.domain.groups.meeting_reminders import prepare_meeting_reminders
from service.domain.notices.changes import process_due_change_notices
from service.domain.notices.speakers import process_due_speaker_notices
from service.domain.privacy import expire_data_requests
from service.domain.privacy.retention import anonymise_expired
from service.domain.rate_limits import prune_rate_counters
from service.domain.registration import expire_unconfirmed_registrations
from service.domain.registration.scheduled_messages import send_due_messages
from service.domain.registration.welcome import (
    claim_welcome_emails,
    compose_claimed,
    record_welcome_emails,
)
from service.domain.reminders import prepare_reminders
from service.settings import Settings

DELIVERY_INTERVAL = 1.0  # seconds between runs of the delivery job
RETENTION_EVERY = timedelta(hours=1)  # how often the retention job works
# How far ahead the delivery job waits for an email about to fall due: up to its next run.
DELIVERY_LOOKAHEAD = timedelta(seconds=DELIVERY_INTERVAL)


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
    # Small reminder batches keep each transaction short (composing an email costs about a
    # millisecond): on SQLite the web requests share the one connection with the jobs.
    reminder_batch: int = 50
    notice_batch: int = 1
    # A scheduled message queues an email per recipient: a few per transaction.
    scheduled_message_batch: int = 5
    # First emails are composed with no transaction open, so a batch holds the database
    # only for its claim and its write-back; each of those cost several milliseconds
    # whatever its size (a burst of 2,000 composed 1.5 times faster with 200 than with 50).
    compose_batch: int = 200
    expiry_batch: int = 50
    # Registrations anonymised per transaction by the retention job, and when this
    # scheduler last ran it (None: not yet; it runs at start, then hourly).
    retention_batch: int = 200
    retention_ran_at: datetime | None = None
    # Claims of emails to send: the next is made while the last one is being sent.
    email_batch: int = 100
    stopping: bool = False
    # How a job waits for something about to fall due (tests move their clock instead).
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


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


async def job_prepare_reminders(context: JobContext) -> int:
    """Reminders due within the preparation window become outbox emails held until their
    due time (overdue ones go out at once), or are recorded as skipped."""
    batch = context.reminder_batch
    return await _drain(context, batch, lambda db: prepare_reminders(
        db, now=utc_now(), settings=context.settings, batch_size=batch))


async def job_compose_welcome_emails(context: JobContext) -> int:
    """New registrations' first emails (and invites) are composed and queued, batch after
    batch: each claimed in a short transaction, composed with none open (on SQLite the one
    connection stays free for registrations), written back in another.

    Unlike the other jobs it goes on until a claim comes back empty, not short: on SQLite
    nothing wakes it when another process files a registration, and what arrived while
    it composed would otherwise wait for its next tick (the end of a burst a second late).
    """
    claimed = 0
    while not context.stopping:
        now = utc_now()
        async with session_scope(context.sessionmaker) as db:
            batch = await claim_welcome_emails(
                db, now=now, settings=context.settings, batch_size=context.compose_batch,
                worker_id=context.worker_id)
        if batch.rows:
            await compose_claimed(batch, now=now, settings=context.settings)
            async with session_scope(context.sessionmaker) as db:
                await record_welcome_emails(db, batch)
        claimed += len(batch.rows)
        if not batch.rows:
            break
    return claimed


async def job_expire_unconfirmed_registrations(context: JobContext) -> int:
    """Registrations whose address was not confirmed in time are deleted with their data."""
    batch = context.expiry_batch
    return await _drain(context, batch, lambda db: expire_unconfirmed_registrations(
        db, now=utc_now(), batch_size=batch))


async def job_send_due_change_notices(context: JobContext) -> int:
    """Change notices whose coalescing window has passed go to the session's registrants."""
    batch = context.notice_batch
    return await _drain(context, batch, lambda db: process_due_change_notices(
        db, now=utc_now(), settings=context.settings, batch_size=batch))


async def job_send_due_speaker_notices(context: JobContext) -> int:
    """Speaker notices whose coalescing window has passed go to their speakers."""
    batch = context.notice_batch
    return await _drain(context, batch, lambda db: process_due_speaker_notices(
        db, now=utc_now(), settings=context.settings, batch_size=batch))


async def job_send_scheduled_messages(context: JobContext) -> int:
    """Organisers' messages written ahead go out once their time has come."""
    batch = context.scheduled_message_batch
    return await _drain(context, batch, lambda db: send_due_messages(
        db, now=utc_now(), settings=context.settings, batch_size=batch))


async def job_deliver_outbox(context: JobContext) -> int:
    """Due emails go to the mail server: claims, sends and outcomes overlap (a pipeline), each
    claim and each group of outcomes in a transaction of its own.

    An email falling due before the next tick (a reminder composed ahead) is waited for,
    so it goes out at its due time rather than up to a tick later.
    """
    claimed = 0
    for attempt in range(2):
        if attempt:
            wait = await next_due_in(context.sessionmaker, now=utc_now())
            if wait is None or wait > DELIVERY_LOOKAHEAD or context.stopping:
                break
            await context.sleep(wait.total_seconds())
        report = await drain_due_emails(
            context.sessionmaker, context.transport, settings=context.settings, clock=utc_now,
            batch_size=context.email_batch, worker_id=context.worker_id,
            should_stop=lambda: context.stopping,
        )
        claimed += report.claimed + report.expired
    return claimed


async def job_plan_group_meeting_reminders(context: JobContext) -> int:
    """Group meetings' reminders planned on a rolling horizon (series run for years)."""
    async with session_scope(context.sessionmaker) as db:
        return await plan_meeting_reminders(db, now=utc_now())


async def job_prepare_group_meeting_reminders(context: JobContext) -> int:
    """Group meetings' reminders due within the preparation window become outbox emails."""
    batch = context.reminder_batch
    return await _drain(context, batch, lambda db: prepare_meeting_reminders(
        db, now=utc_now(), settings=context.settings, batch_size=batch))


async def job_expire_data_requests(context: JobContext) -> int:
    """Lapsed links to a person's own data are deleted, with the address they hold."""
    async with session_scope(context.sessionmaker) as db:
        return await expire_data_requests(db, now=utc_now())


async def job_prune_throttling_records(context: JobContext) -> int:
    """Failed sign-ins older than a day and the rate limits' counts of ended windows are
    deleted: they hold addresses people typed and clients' IP addresses, needed only while
    they can still lock or limit someone (whether or not anyone comes back)."""
    now = utc_now()
    async with session_scope(context.sessionmaker) as db:
        return (await prune_sign_in_failures(db, now=now)
                + await prune_rate_counters(db, now=now))


async def job_anonymise_expired_personal_data(context: JobContext) -> int:
    """Personal data past its event's retention date is anonymised (notes sooner), event by
    event, a failing event recorded and logged without holding up the others.

    It ticks like the other jobs but works hourly (`RETENTION_EVERY`): at start, then once an
    hour has passed since its last run in this scheduler. Running it again is harmless.
    """
    now = utc_now()
    if context.retention_ran_at is not None and now - context.retention_ran_at < RETENTION_EVERY:
        return 0
    context.retention_ran_at = now
    batch = context.retention_batch
    return await _drain(context, batch, lambda db: anonymise_expired(
        db, now=utc_now(), policy=context.settings, batch_size=batch))


Job = Callable[[JobContext], Awaitable[int]]

# (name, job, seconds between runs): short intervals keep reminder lag to a second or two.
JOBS: tuple[tuple[str, Job, float], ...] = (
    ("compose_welcome_emails", job_compose_welcome_emails, 1.0),
    ("prepare_reminders", job_prepare_reminders, 1.0),
    ("send_due_change_notices", job_send_due_change_notices, 2.0),
    ("expire_unconfirmed_registrations", job_expire_unconfirmed_registrations, 2.0),
    ("send_due_speaker_notices", job_send_due_speaker_notices, 2.0),
    ("send_scheduled_messages", job_send_scheduled_messages, 10.0),
    ("deliver_outbox", job_deliver_outbox, DELIVERY_INTERVAL),
    ("plan_group_meeting_reminders", job_plan_group_meeting_reminders, 600.0),
    ("prepare_group_meeting_reminders", job_prepare_group_meeting_reminders, 1.0),
    ("anonymise_expired_personal_data", job_anonymise_expired_personal_data, 2.0),
    ("expire_data_requests", job_expire_data_requests, 60.0),
    ("prune_throttling_records", job_prune_throttling_records, 600.0),
)

JOB_NAMES = tuple(name for name, _, _ in JOBS)


def choose_jobs(*, only: Sequence[str] = (), skip: Sequence[str] = ()
                ) -> tuple[tuple[str, Job, float], ...]:
    """The jobs a worker runs: all of them, only some, or all but some (by name). Several
    workers may split them (composing apart from delivery, on a machine with cores to
    spare); between them every job must run somewhere. ValueError names an unknown job."""
    unknown = sorted((set(only) | set(skip)) - set(JOB_NAMES))
    if unknown:
        raise ValueError(f"no job called {', '.join(unknown)}; the jobs are: "
                         f"{', '.join(JOB_NAMES)}")
    return tuple(job for job in JOBS
                 if (not only or job[0] in only) and job[0] not in skip)


# Which jobs outbox work of each kind wakes (`notifications.wakeups`): a registration's first
# email to compose, an email due now.
WAKES: dict[str, tuple[str, ...]] = {
    wakeups.COMPOSE: ("compose_welcome_emails",),
    wakeups.DELIVER: ("deliver_outbox",),
}

"""Queueing emails: one outbox row per message, written in the caller's transaction.

`enqueue_email` renders and composes the message now (so what is sent is what was decided,
even if a template changes later) and adds it to the outbox with the change that caused
it: if that transaction rolls back, no email exists. `enqueue_emails` does the same for a
batch (the reminder job) in one multi-row INSERT; with a `dedupe_key`, the INSERT's
ON CONFLICT DO NOTHING is the duplicate check, so each email costs one statement. They
flush but never commit, and never send: `notifications.delivery` does that after the
commit. The query helpers give organisers an email history without loading the stored
message bodies.

Where building the message would slow down the change that causes it (a registration, on
the public form's hot path), `enqueue_emails_to_compose` records the email instead: a row
in status `composing`, with its Message-ID, recipient and template, in the same
transaction. A job then claims such rows (`claim_emails_to_compose`) and either fills in
the message (`fill_composed_email`, status `queued`) or withdraws it. Queued emails that
no longer hold (a reminder prepared ahead of a session that has since moved) are taken
back with `withdraw_emails`, which never touches a message already being sent.

An email that has exhausted its retries (or was refused for good) stays `failed` until an
organiser sends it again: `resend_failed_emails` queues it afresh with a note in its
attempt history. Only failed emails move: a withdrawn one said something that no longer
holds, and one past its `expires_at` (a reminder whose session has started) is too late.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from notifications.message import NETWORK_NAME, EmailMessage, build_mime, make_message_id
from notifications.render import render_email
from service.db.engine import insert_unless_exists, table_of
from service.db.models import EmailAttempt, OutboxEmail, OutboxStatus
from service.settings import Settings


def base_context(settings: Settings) -> dict[str, object]:
    """What every email template may use, whatever the message."""
    return {
        "network_name": NETWORK_NAME,
        "organiser_name": settings.organiser_name,
        "organiser_email": settings.organiser_email,
        "public_base_url": settings.public_base_url,
    }


@dataclass(frozen=True)
class OutboxItem:
    """One message for `enqueue_emails`, with what the outbox row records about it."""

    message: EmailMessage
    event_id: int | None = None
    registration_id: int | None = None
    person_id: int | None = None
    dedupe_key: str | None = None
    due_at: datetime | None = None


def _row_values(item: OutboxItem, *, settings: Settings, now: datetime) -> dict[str, Any]:
    """The outbox row for one message, rendered and composed now."""
    message = item.message
    context: Mapping[str, object] = {**base_context(settings), **message.context}
    rendered = render_email(message.template, context, message.language)
    message_id = make_message_id(settings)
    return {
        "message_id": message_id,
        "dedupe_key": item.dedupe_key,
        "template": message.template,
        "to_address": message.to_address,
        "subject": rendered.subject[:500],
        "raw_message": build_mime(
            message, rendered, settings=settings, message_id=message_id, now=now
        ),
        "status": OutboxStatus.QUEUED,
        "attempts": 0,
        "next_attempt_at": now,
        "event_id": item.event_id,
        "registration_id": item.registration_id,
        "person_id": item.person_id,
        "due_at": item.due_at,
        "created_at": now,
    }


async def enqueue_email(
    db: AsyncSession,
    message: EmailMessage,
    *,
    settings: Settings,
    now: datetime,
    event_id: int | None = None,
    registration_id: int | None = None,
    person_id: int | None = None,
    dedupe_key: str | None = None,
    due_at: datetime | None = None,
) -> OutboxEmail | None:
    """Queue `message`; None (and nothing added) if `dedupe_key` is already in the outbox."""
    item = OutboxItem(message, event_id, registration_id, person_id, dedupe_key, due_at)
    values = _row_values(item, settings=settings, now=now)
    if dedupe_key is None:
        row = OutboxEmail(**values)
        db.add(row)
        await db.flush()
        return row
    # One statement: the INSERT's ON CONFLICT DO NOTHING is the duplicate check.
    inserted: OutboxEmail | None = await db.scalar(
        _insert_unless_duplicate(db, OutboxEmail).values(**values).returning(OutboxEmail)
    )
    return inserted


async def enqueue_emails(
    db: AsyncSession, items: Sequence[OutboxItem], *, settings: Settings, now: datetime
) -> list[int | None]:
    """Queue many messages with one multi-row INSERT; each one's outbox id, in order.

    An id is None where the item's `dedupe_key` was already in the outbox (nothing added
    for it). Flushes the session first, so rows it holds are written before these.
    """
    if not items:
        return []
    rows = [_row_values(item, settings=settings, now=now) for item in items]
    await db.flush()
    # Core, not the ORM: no objects to track, and the rows are matched back by Message-ID.
    statement = _insert_unless_duplicate(db, OutboxEmail.__table__).returning(
        OutboxEmail.__table__.c.id, OutboxEmail.__table__.c.message_id
    )
    result = await db.execute(statement, rows)
    ids: dict[str, int] = {message_id: row_id for row_id, message_id in result.all()}
    return [ids.get(row["message_id"]) for row in rows]


@dataclass(frozen=True)
class EmailToCompose:
    """An email decided now and composed after the commit (see the module docstring)."""

    template: str
    to_address: str
    event_id: int | None = None
    registration_id: int | None = None
    # What it must say, as decided now (JSON): the composer reads it back.
    details: dict[str, Any] | None = None


async def enqueue_emails_to_compose(
    db: AsyncSession, emails: Sequence[EmailToCompose], *, settings: Settings, now: datetime
) -> None:
    """Record emails to be composed after the commit: one INSERT, nothing rendered."""
    if not emails:
        return
    await db.execute(insert(table_of(OutboxEmail)), [
        {"message_id": make_message_id(settings), "template": email.template,
         "to_address": email.to_address, "subject": "", "raw_message": None,
         "status": OutboxStatus.COMPOSING, "attempts": 0, "next_attempt_at": now,
         "event_id": email.event_id, "registration_id": email.registration_id,
         "details": email.details, "created_at": now}
        for email in emails
    ])


async def claim_emails_to_compose(
    db: AsyncSession, *, templates: Sequence[str], batch_size: int
) -> list[OutboxEmail]:
    """Oldest emails waiting to be composed; held until commit (SKIP LOCKED on PostgreSQL)."""
    query = (
        select(OutboxEmail)
        .where(OutboxEmail.status == OutboxStatus.COMPOSING,
               OutboxEmail.template.in_(templates))
        .order_by(OutboxEmail.id)
        .limit(batch_size)
    )
    if db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(await db.scalars(query))


def fill_composed_email(
    row: OutboxEmail, message: EmailMessage, *, settings: Settings, now: datetime
) -> None:
    """Give a `composing` row its message (keeping its Message-ID): it is queued from `now`."""
    context: Mapping[str, object] = {**base_context(settings), **message.context}
    rendered = render_email(message.template, context, message.language)
    row.template = message.template
    row.to_address = message.to_address
    row.subject = rendered.subject[:500]
    row.raw_message = build_mime(
        message, rendered, settings=settings, message_id=row.message_id, now=now
    )
    row.status = OutboxStatus.QUEUED
    row.next_attempt_at = now


async def withdraw_emails(
    db: AsyncSession, ids: Sequence[int], *, note: str
) -> list[int]:
    """Take back emails not yet sent (composing, queued or waiting to retry); the ids withdrawn.

    A message already claimed for sending (or sent) is left alone: the UPDATE's own WHERE
    decides, so a worker sending at the same moment wins cleanly.
    """
    if not ids:
        return []
    result = await db.scalars(
        update(OutboxEmail)
        .where(OutboxEmail.id.in_(ids),
               OutboxEmail.status.in_([OutboxStatus.COMPOSING, OutboxStatus.QUEUED,
                                       OutboxStatus.RETRY]))
        .values(status=OutboxStatus.WITHDRAWN, last_error=note[:1000], claimed_until=None)
        .returning(OutboxEmail.id)
        .execution_options(synchronize_session="fetch")
    )
    return list(result)


def _insert_unless_duplicate(db: AsyncSession, target: Any) -> Any:
    return insert_unless_exists(db, target, [OutboxEmail.dedupe_key])


async def find_email_by_dedupe_key(db: AsyncSession, dedupe_key: str) -> OutboxEmail | None:
    """The email queued under `dedupe_key`, if any (`raw_message` not loaded)."""
    return await db.scalar(
        select(OutboxEmail)
        .options(defer(OutboxEmail.raw_message, raiseload=True))
        .where(OutboxEmail.dedupe_key == dedupe_key)
    )


async def list_emails_for_registration(
    db: AsyncSession, registration_id: int
) -> Sequence[OutboxEmail]:
    """Emails to one registrant, oldest first (`raw_message` not loaded)."""
    result = await db.scalars(
        select(OutboxEmail)
        .options(defer(OutboxEmail.raw_message, raiseload=True))
        .where(OutboxEmail.registration_id == registration_id)
        .order_by(OutboxEmail.created_at, OutboxEmail.id)
    )
    return result.all()


async def list_emails_for_event(
    db: AsyncSession, event_id: int, status: OutboxStatus | None = None
) -> Sequence[OutboxEmail]:
    """Emails about one event, optionally in one status, oldest first (`raw_message` not loaded)."""
    query = (
        select(OutboxEmail)
        .options(defer(OutboxEmail.raw_message, raiseload=True))
        .where(OutboxEmail.event_id == event_id)
        .order_by(OutboxEmail.created_at, OutboxEmail.id)
    )
    if status is not None:
        query = query.where(OutboxEmail.status == status)
    result = await db.scalars(query)
    return result.all()


async def list_attempts_for_email(db: AsyncSession, outbox_email_id: int) -> Sequence[EmailAttempt]:
    """Every delivery attempt of one email and what the server said, oldest first."""
    result = await db.scalars(
        select(EmailAttempt)
        .where(EmailAttempt.outbox_email_id == outbox_email_id)
        .order_by(EmailAttempt.attempted_at, EmailAttempt.id)
    )
    return result.all()


# The attempt history's word for "queued again by an organiser".
RESENT = "resent"


def _resendable(now: datetime) -> Any:
    return (OutboxEmail.status == OutboxStatus.FAILED) & or_(
        OutboxEmail.expires_at.is_(None), OutboxEmail.expires_at > now)


async def resend_failed_emails(
    db: AsyncSession, ids: Sequence[int], *, now: datetime, note: str
) -> list[int]:
    """Queue the failed emails among `ids` again from `now`, with a fresh round of attempts
    and `note` in each one's attempt history; the ids queued.

    Anything not failed (withdrawn, sent, still on its way) or past its `expires_at` is left
    as it is: the UPDATE's own WHERE decides.
    """
    if not ids:
        return []
    before = {row.id: (row.attempts, row.last_error) for row in (await db.execute(
        select(OutboxEmail.id, OutboxEmail.attempts, OutboxEmail.last_error)
        .where(OutboxEmail.id.in_(ids), _resendable(now))
    )).all()}
    if not before:
        return []
    queued = sorted(await db.scalars(
        update(OutboxEmail)
        .where(OutboxEmail.id.in_(sorted(before)), _resendable(now))
        .values(status=OutboxStatus.QUEUED, attempts=0, next_attempt_at=now,
                claimed_until=None, claimed_by=None)
        .returning(OutboxEmail.id)
        .execution_options(synchronize_session="fetch")
    ))
    if queued:
        await db.execute(insert(table_of(EmailAttempt)), [
            {"outbox_email_id": email_id, "attempted_at": now, "outcome": RESENT,
             "smtp_code": None,
             "detail": _resend_note(note, *before[email_id])}
            for email_id in queued
        ])
    return queued


def _resend_note(note: str, attempts: int, last_error: str | None) -> str:
    tried = f"{attempts} attempt{'s' if attempts != 1 else ''}"
    return f"{note}; it had failed after {tried}: {last_error or 'no error recorded'}"[:1000]


async def count_emails_by_status(db: AsyncSession, event_id: int) -> dict[OutboxStatus, int]:
    """How many of an event's emails are in each status (every status, zeros included)."""
    counts = dict.fromkeys(OutboxStatus, 0)
    for status, count in (await db.execute(
        select(OutboxEmail.status, func.count())
        .where(OutboxEmail.event_id == event_id)
        .group_by(OutboxEmail.status)
    )).all():
        counts[OutboxStatus(status)] = int(count)
    return counts


async def page_emails_for_event(
    db: AsyncSession, event_id: int, *, statuses: Sequence[OutboxStatus] = (),
    offset: int = 0, limit: int = 100,
) -> tuple[Sequence[OutboxEmail], int]:
    """One page of an event's emails (in `statuses`, or all), oldest first, and how many
    match in all (`raw_message` not loaded)."""
    where = [OutboxEmail.event_id == event_id]
    if statuses:
        where.append(OutboxEmail.status.in_(list(statuses)))
    total = int(await db.scalar(select(func.count()).select_from(OutboxEmail).where(*where))
                or 0)
    rows = (await db.scalars(
        select(OutboxEmail)
        .options(defer(OutboxEmail.raw_message, raiseload=True),
                 defer(OutboxEmail.details, raiseload=True))
        .where(*where)
        .order_by(OutboxEmail.created_at, OutboxEmail.id)
        .offset(offset)
        .limit(limit)
    )).all()
    return rows, total

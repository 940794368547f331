"""Queueing emails: one outbox row per message, written in the caller's transaction.

`enqueue_email` renders and composes the message now (so what is sent is what was decided,
even if a template changes later) and adds it to the outbox with the change that caused
it: if that transaction rolls back, no email exists. It flushes but never commits, and
never sends: `notifications.delivery` does that after the commit. The query helpers give
organisers an email history without loading the stored message bodies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from notifications.message import NETWORK_NAME, EmailMessage, build_mime, make_message_id
from notifications.render import render_email
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
    if dedupe_key is not None and await find_email_by_dedupe_key(db, dedupe_key) is not None:
        return None

    context: Mapping[str, object] = {**base_context(settings), **message.context}
    rendered = render_email(message.template, context, message.language)
    message_id = make_message_id(settings)
    values: dict[str, Any] = {
        "message_id": message_id,
        "dedupe_key": dedupe_key,
        "template": message.template,
        "to_address": message.to_address,
        "subject": rendered.subject[:500],
        "raw_message": build_mime(
            message, rendered, settings=settings, message_id=message_id, now=now
        ),
        "status": OutboxStatus.QUEUED,
        "attempts": 0,
        "next_attempt_at": now,
        "event_id": event_id,
        "registration_id": registration_id,
        "person_id": person_id,
        "due_at": due_at,
        "created_at": now,
    }

    if dedupe_key is None:
        row = OutboxEmail(**values)
        db.add(row)
        await db.flush()
        return row
    return await _insert_unless_duplicate(db, values)


async def _insert_unless_duplicate(db: AsyncSession, values: dict[str, Any]) -> OutboxEmail | None:
    # A concurrent transaction may insert the same key between our check and our insert.
    # ON CONFLICT DO NOTHING settles that inside the database without an error, which on
    # PostgreSQL would otherwise abort the caller's whole transaction.
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        statement = (
            postgresql.insert(OutboxEmail)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[OutboxEmail.dedupe_key])
            .returning(OutboxEmail)
        )
        return await db.scalar(statement)
    if dialect == "sqlite":
        lite = (
            sqlite.insert(OutboxEmail)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[OutboxEmail.dedupe_key])
            .returning(OutboxEmail)
        )
        return await db.scalar(lite)
    raise NotImplementedError(f"deduplicated enqueue is not supported on {dialect}")


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

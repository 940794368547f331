"""Organisers' messages written ahead and sent at a chosen time (pretix's "scheduled
emails"): the thank-you written before the webinar goes out the morning after, to whoever
is in its group then, each copy with what its reader has by then (certificate, materials,
the feedback form).

The draft is checked when it is scheduled and again when it goes out (the event may have
changed meanwhile); the group is whoever is in it at that time, so no count is confirmed
ahead. Sending marks the row sent in the transaction that queues the emails, so a crash
sends it whole or not at all, and a second worker skips a row being sent (PostgreSQL).
One that cannot go out (nobody in its group, a session gone) is recorded with why and
never holds up the others. Takes `db` and `now`, flushes, never commits; knows no HTTP.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.engine import is_postgres
from service.db.models import ScheduledMessage, ScheduledMessageStatus
from service.domain.errors import (
    ConflictError,
    DomainError,
    FieldError,
    InvalidInputError,
    NotFoundError,
)
from service.i18n import gettext as _
from service.settings import Settings

from .loading import load_event
from .organiser_messages import MessageDraft, check_draft, send_organiser_message

logger = logging.getLogger(__name__)


def draft_of(message: ScheduledMessage) -> MessageDraft:
    """The message as the organiser wrote it."""
    return MessageDraft(
        audiences=list(message.audiences), subject=message.subject, text=message.text,
        session_id=message.session_id,
        translations={language: (str(words[0]), str(words[1]))
                      for language, words in (message.translations or {}).items()})


async def schedule_message(db: AsyncSession, event_id: int, draft: MessageDraft, *,
                           send_at: datetime, now: datetime, account_id: int | None = None
                           ) -> ScheduledMessage:
    """Keep the message to send at `send_at` (after now): every problem of the draft named
    at once, as for a message sent now, and `send_at` in the past named too."""
    event = await load_event(db, event_id)
    problems: list[FieldError] = []
    try:
        checked = check_draft(draft, event)
    except InvalidInputError as refused:
        problems.extend(refused.errors)
        checked = None
    if send_at <= now:
        problems.append(FieldError(
            "send_at", _("Choose a time still to come, or send the message now.")))
    if problems or checked is None:
        raise InvalidInputError.of(problems)
    message = ScheduledMessage(
        event_id=event.id, session_id=checked.session_id, audiences=list(checked.audiences),
        subject=checked.subject, text=checked.text,
        translations={language: [wording.subject, wording.text]
                      for language, wording in checked.translations.items()},
        send_at=send_at, status=ScheduledMessageStatus.PENDING, problem="",
        created_by_account_id=account_id, created_at=now, updated_at=now)
    db.add(message)
    await db.flush()
    return message


async def scheduled_messages(db: AsyncSession, event_id: int) -> Sequence[ScheduledMessage]:
    """The event's scheduled messages: those still to go, soonest first, then the others,
    latest first."""
    pending = ScheduledMessage.status == ScheduledMessageStatus.PENDING
    return list(await db.scalars(
        select(ScheduledMessage).where(ScheduledMessage.event_id == event_id)
        .order_by(case((pending, 0), else_=1),
                  case((pending, ScheduledMessage.send_at)),
                  ScheduledMessage.send_at.desc(), ScheduledMessage.id)))


async def cancel_scheduled_message(db: AsyncSession, event_id: int, message_id: int, *,
                                   now: datetime) -> ScheduledMessage:
    """It will not be sent; one already sent (or cancelled) is a conflict naming it."""
    message = await db.get(ScheduledMessage, message_id)
    if message is None or message.event_id != event_id:
        raise NotFoundError(_("This event has no such scheduled message."),
                            "scheduled_message_id")
    if message.status != ScheduledMessageStatus.PENDING:
        raise ConflictError(_("This message is no longer waiting to be sent."),
                            "scheduled_message_id")
    message.status = ScheduledMessageStatus.CANCELLED
    message.updated_at = now
    await db.flush()
    return message


@dataclass(frozen=True)
class ScheduledReport:
    claimed: int
    sent: int
    failed: int


async def send_due_messages(db: AsyncSession, *, now: datetime, settings: Settings,
                            batch_size: int = 5) -> ScheduledReport:
    """Send the messages whose time has come, each in a savepoint of its own: one that
    cannot go out is marked failed with why, and the others go on."""
    query = (select(ScheduledMessage)
             .where(ScheduledMessage.status == ScheduledMessageStatus.PENDING,
                    ScheduledMessage.send_at <= now)
             .order_by(ScheduledMessage.send_at, ScheduledMessage.id).limit(batch_size))
    if is_postgres(db):
        query = query.with_for_update(skip_locked=True)
    due = list(await db.scalars(query))
    sent = failed = 0
    for message in due:
        try:
            async with db.begin_nested():
                outcome = await send_organiser_message(
                    db, message.event_id, draft_of(message), now=now, settings=settings)
        except DomainError as refused:
            problem = refused.message
        except Exception as error:  # one bad message never holds up the others
            logger.exception("Scheduled message %d could not be sent", message.id)
            problem = _("It could not be sent (%(error)s).") % {
                "error": type(error).__name__}
        else:
            message.status, message.sent_at = ScheduledMessageStatus.SENT, now
            message.recipients, message.updated_at = outcome.recipients, now
            sent += 1
            continue
        message.status, message.problem, message.updated_at = (
            ScheduledMessageStatus.FAILED, problem, now)
        failed += 1
    await db.flush()
    return ScheduledReport(claimed=len(due), sent=sent, failed=failed)

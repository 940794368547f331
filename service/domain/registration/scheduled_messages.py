"""Organisers' messages written ahead and sent at a chosen time (pretix's "scheduled
emails"): the thank-you written before the webinar goes out the morning after, to whoever
is in its group then, each copy with what its reader has by then (certificate, materials,
the feedback form).

The time is fixed, or so long before the start or after the end of the event (of its
session, for a message to one session): that one follows the programme, so a webinar moved
a week takes its "one day after" thank-you with it. The sending job brings such times in
line with the sessions before it looks for what is due.

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
from datetime import datetime, timedelta

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.engine import is_postgres
from service.db.models import (
    MessageTiming,
    ScheduledMessage,
    ScheduledMessageStatus,
    Session,
    SessionStatus,
)
from service.domain.errors import (
    ConflictError,
    DomainError,
    FieldError,
    InvalidInputError,
    NotFoundError,
)
from service.i18n import N_
from service.i18n import gettext as _
from service.settings import Settings

from .loading import load_event
from .organiser_messages import MessageDraft, check_draft, send_organiser_message

logger = logging.getLogger(__name__)

# At most a year before the start or after the end.
MAX_OFFSET_MINUTES = 366 * 24 * 60


@dataclass(frozen=True)
class RelativeTime:
    """So many minutes before the start or after the end of the event (or of the
    message's session)."""

    timing: MessageTiming
    minutes: int


def relative_time_of(message: ScheduledMessage) -> RelativeTime | None:
    if message.timing is None:
        return None
    return RelativeTime(message.timing, message.offset_minutes or 0)


def planned_send_at(relative: RelativeTime, sessions: Sequence[Session],
                    session_id: int | None) -> datetime | None:
    """When the message goes out as the programme stands: None when nothing is left to
    count from (every session, or its session, cancelled)."""
    counted = [s for s in sessions if s.status == SessionStatus.SCHEDULED
               and (session_id is None or s.id == session_id)]
    if not counted:
        return None
    if relative.timing == MessageTiming.BEFORE_START:
        return min(s.starts_at for s in counted) - timedelta(minutes=relative.minutes)
    return max(s.ends_at for s in counted) + timedelta(minutes=relative.minutes)


def send_time(message: ScheduledMessage, sessions: Sequence[Session]) -> datetime:
    """The time it goes out, read now: a relative one's from the sessions as they are."""
    relative = relative_time_of(message)
    if relative is None or message.status != ScheduledMessageStatus.PENDING:
        return message.send_at
    return planned_send_at(relative, sessions, message.session_id) or message.send_at


def draft_of(message: ScheduledMessage) -> MessageDraft:
    """The message as the organiser wrote it."""
    return MessageDraft(
        audiences=list(message.audiences), subject=message.subject, text=message.text,
        session_id=message.session_id,
        translations={language: (str(words[0]), str(words[1]))
                      for language, words in (message.translations or {}).items()})


def when_to_send(sessions: Sequence[Session], session_id: int | None, *,
                 send_at: datetime | None, relative: RelativeTime | None,
                 now: datetime) -> datetime:
    """The time asked for, in one of the two ways, checked to be still to come; a relative
    one counted from `sessions` as they stand."""
    if (send_at is None) == (relative is None):
        raise InvalidInputError(_(
            "Give either a day and time, or a time before the start or after the end."),
            "send_at")
    if relative is not None:
        if not 0 <= relative.minutes <= MAX_OFFSET_MINUTES:
            raise InvalidInputError(_(
                "Give a time at most a year before the start or after the end."),
                "send_offset_minutes")
        send_at = planned_send_at(relative, sessions, session_id)
        if send_at is None:
            raise InvalidInputError(_(
                "There is no session left to count from: give a day and time."),
                "send_timing")
        if send_at <= now:
            raise InvalidInputError(_(
                "That time is already past: choose one still to come, or send the "
                "message now."), "send_offset_minutes")
    assert send_at is not None
    if send_at <= now:
        raise InvalidInputError(
            _("Choose a time still to come, or send the message now."), "send_at")
    return send_at


async def schedule_message(db: AsyncSession, event_id: int, draft: MessageDraft, *,
                           now: datetime, send_at: datetime | None = None,
                           relative: RelativeTime | None = None,
                           account_id: int | None = None) -> ScheduledMessage:
    """Keep the message to send at `send_at`, or at a time `relative` to the event (or
    its session) that follows the programme: every problem of the draft named at once, as
    for a message sent now, and a time that is past or cannot be counted named too."""
    event = await load_event(db, event_id)
    problems: list[FieldError] = []
    try:
        checked = check_draft(draft, event)
    except InvalidInputError as refused:
        problems.extend(refused.errors)
        checked = None
    when: datetime | None = None
    try:
        when = when_to_send(event.sessions, checked.session_id if checked else None,
                            send_at=send_at, relative=relative, now=now)
    except InvalidInputError as refused:
        problems.extend(refused.errors)
    if problems or checked is None or when is None:
        raise InvalidInputError.of(problems)
    message = ScheduledMessage(
        event_id=event.id, session_id=checked.session_id, audiences=list(checked.audiences),
        subject=checked.subject, text=checked.text,
        translations={language: [wording.subject, wording.text]
                      for language, wording in checked.translations.items()},
        send_at=when, timing=relative.timing if relative else None,
        offset_minutes=relative.minutes if relative else None,
        status=ScheduledMessageStatus.PENDING, problem="",
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
    await _follow_the_programme(db, now)
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


# Stored as written, shown in the reader's language.
NOTHING_TO_COUNT_FROM = N_("Its sessions were cancelled: there is no start or end to count "
                           "its time from.")


async def _follow_the_programme(db: AsyncSession, now: datetime) -> None:
    """Bring each waiting message whose time counts from the event's start or end in line
    with the sessions as they are now (rows another worker holds are its own to do). One
    with nothing left to count from will never go: it is recorded as not sent, with why,
    so that the organiser sees it at once."""
    query = (select(ScheduledMessage)
             .where(ScheduledMessage.status == ScheduledMessageStatus.PENDING,
                    ScheduledMessage.timing.is_not(None))
             .order_by(ScheduledMessage.id))
    if is_postgres(db):
        query = query.with_for_update(skip_locked=True)
    messages = list(await db.scalars(query))
    if not messages:
        return
    sessions: dict[int, list[Session]] = {}
    for session in await db.scalars(select(Session).where(
            Session.event_id.in_({m.event_id for m in messages}))
            .execution_options(populate_existing=True)):  # as they are now
        sessions.setdefault(session.event_id, []).append(session)
    for message in messages:
        relative = relative_time_of(message)
        assert relative is not None
        planned = planned_send_at(relative, sessions.get(message.event_id, []),
                                  message.session_id)
        if planned is None:
            message.status, message.problem = (ScheduledMessageStatus.FAILED,
                                               NOTHING_TO_COUNT_FROM)
        elif planned != message.send_at:
            message.send_at = planned
        else:
            continue
        message.updated_at = now

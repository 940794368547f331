"""Composing reminders ahead: their emails written into the outbox before they fall due.

`prepare_reminders` composes the emails of reminders falling due within the next
`settings.reminder_prepare_minutes` (PROCURA_REMINDER_PREPARE_MINUTES), each held back
until its due time and never sent once its session has started, so at the due time only
the delivery is left to do. It marks them SENT ("handed to the outbox") in the same
transaction, so a worker that dies mid-batch leaves them pending and two workers never
compose one twice (SKIP LOCKED claims on PostgreSQL, SQLite's single writer, and the
outbox's dedupe key as the last guard). Overdue ones (after downtime, a late move) are
composed at once: the nearest supersedes longer ones, a started session is skipped.
`prepared_of` and `take_back` find and withdraw prepared emails for the planning paths.
Never commits, never sends.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.message import EmailMessage, parse_address
from notifications.outbox import (
    OutboxEntry,
    find_email_by_dedupe_key,
    queue_emails,
    withdraw_emails,
)
from service.db.engine import is_postgres
from service.db.models import (
    Enrolment,
    EnrolmentStatus,
    Event,
    EventStatus,
    OutboxEmail,
    OutboxStatus,
    Registration,
    RegistrationStatus,
    Reminder,
    ReminderStatus,
    Session,
    SessionStatus,
)
from service.domain import programme
from service.domain.access import manage_links
from service.domain.calendars.content import session_in
from service.domain.calendars.entries import agenda_text
from service.domain.emails.registration import registrant_note_context
from service.domain.programme.translations import localised
from service.domain.reminders.policy import (
    NOTE_BAD_ADDRESS,
    NOTE_PLACE_ENDED,
    NOTE_SESSION_CANCELLED,
    NOTE_STARTED,
)
from service.domain.urls import event_page_url
from service.domain.wording import (
    join_url_for,
    minutes_text,
    period_text,
    starts_phrase,
    utc_period_text,
    venue_line,
    venue_text,
)
from service.i18n import DEFAULT_LANGUAGE, current_language, supported, use_language
from service.settings import Settings

REMINDER_TEMPLATE = "reminder_to_registrant"


def _superseded_note(minutes: int) -> str:
    """A reminder's note is a record for the organisers, kept in English like every other
    note, whatever language the job or request that writes it runs in."""
    with use_language(DEFAULT_LANGUAGE):
        return f"superseded by the {minutes_text(minutes)} reminder"

# Emails not yet claimed for sending: `withdraw_emails` can still take them back.
_WAITING_EMAIL = (OutboxStatus.COMPOSING, OutboxStatus.QUEUED, OutboxStatus.RETRY)
# Rows per IN (...) list: well under the bound-parameter limits of both databases.
_CHUNK = 1000


# --- emails prepared ahead, and taking them back ---------------------------------------------


async def prepared_of(db: AsyncSession, scope: Sequence[ColumnElement[bool]]) -> list[Reminder]:
    """Reminders in `scope` handed to the outbox whose email has not been claimed for sending."""
    return list(await db.scalars(
        select(Reminder)
        .join(OutboxEmail, OutboxEmail.id == Reminder.outbox_email_id)
        .where(*scope, Reminder.status == ReminderStatus.SENT,
               OutboxEmail.status.in_(_WAITING_EMAIL))
        .order_by(Reminder.id)
        .execution_options(populate_existing=True)
    ))


async def take_back(db: AsyncSession, reminders: Sequence[Reminder], *, note: str
                    ) -> list[Reminder]:
    """Withdraw the emails of these (sent) reminders; the reminders whose email was withdrawn.

    One a worker has claimed meanwhile stays as it is: it was sent before the change.
    """
    by_email = {r.outbox_email_id: r for r in reminders
                if r.status == ReminderStatus.SENT and r.outbox_email_id is not None}
    ids = sorted(by_email)
    withdrawn: list[int] = []
    for start in range(0, len(ids), _CHUNK):
        withdrawn += await withdraw_emails(db, ids[start:start + _CHUNK], note=note)
    return [by_email[email_id] for email_id in sorted(withdrawn)]


# --- composing ahead ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderReport:
    claimed: int = 0
    sent: int = 0  # handed to the outbox (status SENT), whether due now or later
    skipped: int = 0
    cancelled: int = 0
    ahead: int = 0  # of those sent: held in the outbox until their due time


def prepare_window(settings: Settings) -> timedelta:
    """How far ahead of their due time reminders are composed into the outbox."""
    return timedelta(minutes=max(0, settings.reminder_prepare_minutes))


async def _claim_to_prepare(db: AsyncSession, *, until: datetime, batch_size: int
                            ) -> list[Reminder]:
    query = (
        select(Reminder)
        .where(Reminder.status == ReminderStatus.PENDING, Reminder.due_at <= until)
        .order_by(Reminder.due_at, Reminder.id)
        .limit(batch_size)
    )
    if is_postgres(db):
        # Held until this transaction commits; another worker skips them instead of waiting.
        query = query.with_for_update(skip_locked=True)
    return list(await db.scalars(query))


@dataclass
class _Batch:
    """Everything a batch of due reminders needs, loaded in a few queries."""

    events: dict[int, Event]
    sessions: dict[int, Session]
    registrations: dict[int, Registration]
    confirmed: set[tuple[int, int]]  # (session_id, registration_id)
    due_offsets: dict[tuple[int, int], int]  # smallest due offset per (session, registration)


async def _load_batch(db: AsyncSession, reminders: Sequence[Reminder], now: datetime) -> _Batch:
    session_ids = {r.session_id for r in reminders}
    registration_ids = {r.registration_id for r in reminders}
    event_ids = set(await db.scalars(
        select(Session.event_id).where(Session.id.in_(session_ids)).distinct()))
    events = {event_id: await programme.get_event(db, event_id) for event_id in sorted(event_ids)}
    sessions = {s.id: s for e in events.values() for s in e.sessions if s.id in session_ids}
    registrations = {r.id: r for r in await db.scalars(
        select(Registration).where(Registration.id.in_(registration_ids)))}
    confirmed = {
        (row.session_id, row.registration_id)
        for row in (await db.execute(
            select(Enrolment.session_id, Enrolment.registration_id).where(
                Enrolment.session_id.in_(session_ids),
                Enrolment.registration_id.in_(registration_ids),
                Enrolment.status == EnrolmentStatus.CONFIRMED,
            )
        )).all()
    }
    due_offsets: dict[tuple[int, int], int] = {}
    for row in (await db.execute(
        select(Reminder.session_id, Reminder.registration_id,
               func.min(Reminder.offset_minutes))
        .where(
            Reminder.session_id.in_(session_ids),
            Reminder.registration_id.in_(registration_ids),
            Reminder.due_at <= now,
            Reminder.status.in_([ReminderStatus.PENDING, ReminderStatus.SENT]),
        )
        .group_by(Reminder.session_id, Reminder.registration_id)
    )).all():
        due_offsets[(row[0], row[1])] = row[2]
    return _Batch(events, sessions, registrations, confirmed, due_offsets)


def _why_not(reminder: Reminder, batch: _Batch, now: datetime) -> tuple[ReminderStatus, str] | None:
    """Lock-and-recheck at sending time: the reasons a due reminder must not go out."""
    session = batch.sessions.get(reminder.session_id)
    registration = batch.registrations.get(reminder.registration_id)
    if session is None or session.status == SessionStatus.CANCELLED:
        return ReminderStatus.CANCELLED, NOTE_SESSION_CANCELLED
    if batch.events[session.event_id].status == EventStatus.CANCELLED:
        return ReminderStatus.CANCELLED, NOTE_SESSION_CANCELLED
    if (
        registration is None
        or registration.status != RegistrationStatus.CONFIRMED
        or (session.id, registration.id) not in batch.confirmed
    ):
        return ReminderStatus.CANCELLED, NOTE_PLACE_ENDED
    if session.starts_at <= now:
        return ReminderStatus.SKIPPED, NOTE_STARTED
    shortest = batch.due_offsets.get((session.id, registration.id), reminder.offset_minutes)
    if shortest < reminder.offset_minutes:
        # After downtime or a move, the nearer reminder says it all: one email, not two.
        return ReminderStatus.SKIPPED, _superseded_note(shortest)
    try:
        parse_address(registration.email, registration.name)
    except ValueError:
        return ReminderStatus.SKIPPED, NOTE_BAD_ADDRESS
    return None


def session_context(
    session: Session, event: Event, *, now: datetime, settings: Settings
) -> dict[str, object]:
    """What a reminder says about the session: the same for every registrant in a batch."""
    zone = event.timezone
    agenda = agenda_text(session_in(session, event, current_language()), event)
    lines = agenda.splitlines()
    return {
        "event_title": str(localised(event, "title", current_language())),
        "session_title": str(localised(event, "title", current_language(), session)),
        "starts": starts_phrase(session.starts_at, now, zone),
        "when_local": period_text(session.starts_at, session.ends_at, zone),
        "when_utc": utc_period_text(session.starts_at, session.ends_at),
        "join_url": join_url_for(session.mode, session.join_url),
        "venue": venue_text(session.mode, venue_line(event)),
        "agenda": agenda,
        "agenda_heading": lines[0] if lines else "",
        "agenda_lines": lines[1:],
        "event_url": event_page_url(settings, event.slug),
        **registrant_note_context(event),
    }


async def _withdraw_superseded(
    db: AsyncSession, sent_now: Sequence[Reminder], *, now: datetime
) -> list[Reminder]:
    """Overdue reminders sent now supersede longer ones of the same place still waiting in
    the outbox (prepared before a downtime): those are taken back and skipped."""
    shortest: dict[tuple[int, int], int] = {}
    for reminder in sent_now:
        key = (reminder.session_id, reminder.registration_id)
        shortest[key] = min(shortest.get(key, reminder.offset_minutes), reminder.offset_minutes)
    if not shortest:
        return []
    claimed = {r.id for r in sent_now}
    candidates = await prepared_of(db, [
        tuple_(Reminder.session_id, Reminder.registration_id).in_(list(shortest)),
        Reminder.due_at <= now,
    ])
    stale = [r for r in candidates if r.id not in claimed
             and r.offset_minutes > shortest[(r.session_id, r.registration_id)]]
    taken = await take_back(db, stale, note="reminder superseded by a nearer one")
    for reminder in taken:
        nearest = shortest[(reminder.session_id, reminder.registration_id)]
        reminder.status, reminder.note = (
            ReminderStatus.SKIPPED, _superseded_note(nearest))
        reminder.processed_at = reminder.updated_at = now
    return taken


def _dedupe_key(reminder: Reminder) -> str:
    # Composed again (re-armed after a change, or postponed after it went out): a new email,
    # keyed by the one it follows, so two workers composing the same one still collide.
    if reminder.outbox_email_id is None:
        return f"reminder:{reminder.id}"
    return f"reminder:{reminder.id}:after:{reminder.outbox_email_id}"


async def prepare_reminders(
    db: AsyncSession, *, now: datetime, settings: Settings, batch_size: int = 200,
    window: timedelta | None = None,
) -> ReminderReport:
    """Claim up to `batch_size` pending reminders due by `now` + the preparation window
    (`window`, or the settings') and queue their emails, or record why not.

    An email is queued to go out at its reminder's due time (at once when overdue) and
    expires when its session starts. Runs in the caller's transaction: the claims, the
    outbox rows and the new statuses commit together, so a crash before the commit leaves
    the reminders pending.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    until = now + (window if window is not None else prepare_window(settings))
    reminders = await _claim_to_prepare(db, until=until, batch_size=batch_size)
    if not reminders:
        return ReminderReport()
    batch = await _load_batch(db, reminders, now)
    links = await manage_links(
        db, sorted({r.registration_id for r in reminders}), now=now, settings=settings
    )
    contexts: dict[tuple[int, datetime, str], dict[str, object]] = {}
    outcomes: list[tuple[Reminder, ReminderStatus, str | None, int | None]] = []
    queued: list[tuple[Reminder, OutboxEntry]] = []
    for reminder in reminders:
        refusal = _why_not(reminder, batch, now)
        if refusal is not None:
            outcomes.append((reminder, *refusal, reminder.outbox_email_id))
            continue
        session = batch.sessions[reminder.session_id]
        event = batch.events[session.event_id]
        registration = batch.registrations[reminder.registration_id]
        # Worded as of its due time ("starts in 60 minutes"), when it goes out.
        send_at = max(reminder.due_at, now)
        # Worded in the registrant's language, whoever's job this is.
        language = supported(registration.language)
        if (session.id, send_at, language) not in contexts:
            with use_language(language):
                contexts[(session.id, send_at, language)] = session_context(
                    session, event, now=send_at, settings=settings)
        message = EmailMessage(
            template=REMINDER_TEMPLATE,
            to_address=registration.email,
            to_name=registration.name,
            context={**contexts[(session.id, send_at, language)],
                     "recipient_name": registration.name,
                     "manage_url": links[registration.id]},
            reply_to=event.contact_email,
            language=language,
        )
        # Dated when it is released, as the registrant will read it.
        queued.append((reminder, OutboxEntry(
            message, event_id=event.id, registration_id=registration.id,
            dedupe_key=_dedupe_key(reminder), send_at=send_at, expires_at=session.starts_at,
            due_at=reminder.due_at,
        )))
    superseded = await _withdraw_superseded(
        db, [r for r, _ in queued if r.due_at <= now], now=now)
    # All the batch's emails in one multi-row INSERT.
    outbox_ids = await queue_emails(db, [entry for _, entry in queued], settings=settings,
                                    now=now)
    for (reminder, entry), outbox_id in zip(queued, outbox_ids, strict=True):
        if outbox_id is None and entry.dedupe_key is not None:
            # Queued already by a run whose reminder update was lost.
            found = await find_email_by_dedupe_key(db, entry.dedupe_key)
            outbox_id = found.id if found is not None else reminder.outbox_email_id
        outcomes.append((reminder, ReminderStatus.SENT, None, outbox_id))
    # Applied once the emails are queued: one batched UPDATE, not an autoflush per email.
    counts: Counter[ReminderStatus] = Counter()
    for reminder, status, note, outbox_email_id in outcomes:
        reminder.status, reminder.note, reminder.outbox_email_id = status, note, outbox_email_id
        reminder.processed_at = reminder.updated_at = now
        counts[status] += 1
    await db.flush()
    return ReminderReport(
        claimed=len(reminders),
        sent=counts[ReminderStatus.SENT],
        skipped=counts[ReminderStatus.SKIPPED] + len(superseded),
        cancelled=counts[ReminderStatus.CANCELLED],
        ahead=sum(1 for reminder, _ in queued if reminder.due_at > now),
    )

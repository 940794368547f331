"""Reminders before each session: planned with a stored due time, composed ahead, sent once.

A reminder is a row per (session, registration, offset) with its `due_at`, written when a
registrant gets a confirmed place and recomputed when the session moves or the event's
policy changes.

`prepare_reminders` composes the emails of reminders falling due within the next
`settings.reminder_prepare_minutes` (PROCURA_REMINDER_PREPARE_MINUTES) into the outbox,
each held back until its due time (`next_attempt_at`) and never sent once its session has
started (`expires_at`), so at the due time only the delivery is left to do. It marks them
SENT ("handed to the outbox") in the same transaction, so a worker that dies mid-batch
leaves them pending and two workers never compose one twice (row claims with SKIP LOCKED on
PostgreSQL, SQLite's single writer, and the outbox's `dedupe_key` as the last guard).
Reminders already overdue (after downtime, a late move) are composed for at once, by the
same rules as ever: the nearest one supersedes longer ones, a started session is skipped.

A prepared email must never go out once it no longer holds: every change of a reminder's
fate or wording (the session moves, changes or is cancelled, the place ends, the policy
changes, the agenda changes) takes its email back (`withdraw_emails`) and re-arms or
cancels the reminder, in the transaction of the change. These paths first lock the
reminders they touch (FOR UPDATE, waiting for a preparation under way to commit), so a
reminder composed from the old state is always seen, and taken back, by the change. An
email a worker has already claimed is never withdrawn (the UPDATE's WHERE decides): it was
sent before the change, as it would have been without preparation.

Offsets are "N days and M minutes before": whole days are calendar days in the event's
zone (the same wall time N days earlier, so "1 day before" a Monday 10:00 session is
Sunday 10:00 even across a daylight-saving change), the rest exact minutes.

The wording helpers at the bottom (local times, the agenda) are shared with change notices
and speaker notices. This module never commits, never sends and knows nothing of HTTP.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.message import EmailMessage, build_mime, make_message_id, parse_address
from notifications.outbox import base_context, find_email_by_dedupe_key, withdraw_emails
from notifications.render import render_email
from service.db.engine import insert_unless_exists, is_postgres, table_of
from service.db.models import (
    AccessPurpose,
    AccessToken,
    AgendaItem,
    AgendaItemSpeaker,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
    EventStatus,
    OutboxEmail,
    OutboxStatus,
    Person,
    Registration,
    RegistrationStatus,
    Reminder,
    ReminderStatus,
    Session,
    SessionMode,
    SessionStatus,
)
from service.domain import programme
from service.domain.access import current_access_token, token_for
from service.domain.calendar_entries import agenda_text, event_page_url
from service.domain.errors import InvalidInputError
from service.domain.follow_ups import venue_line
from service.domain.registration import manage_url
from service.domain.times import clock_range
from service.settings import Settings

DAY_MINUTES = 24 * 60
REMINDER_TEMPLATE = "reminder_to_registrant"

# The network's defaults: webinars are short and online, visits and seminars need travel.
DEFAULT_OFFSETS_MINUTES: dict[EventKind, tuple[int, ...]] = {
    EventKind.WEBINAR_SERIES: (DAY_MINUTES, 60),
    EventKind.SEMINAR: (7 * DAY_MINUTES, DAY_MINUTES),
    EventKind.CITYMATCH: (7 * DAY_MINUTES, DAY_MINUTES),
    EventKind.MEET_YOUR_BUYER: (7 * DAY_MINUTES, DAY_MINUTES),
}

NOTE_LATE = "registered after this reminder's time"
NOTE_STARTED = "the session had already started when the reminder fell due"
NOTE_SESSION_CANCELLED = "session cancelled"
NOTE_PLACE_ENDED = "no confirmed place any more"
NOTE_POLICY = "no longer in the event's reminder policy"
NOTE_BAD_ADDRESS = "the registrant's email address cannot be used"
NOTE_EXPIRED = "the session had already started before the email could go out"
# Why a prepared email was taken back (on the outbox row) when its reminder was re-armed.
WITHDRAWN_SESSION_CHANGED = "reminder composed again: the session changed"
WITHDRAWN_AGENDA_CHANGED = "reminder composed again: the agenda changed"
WITHDRAWN_SPEAKER_CHANGED = "reminder composed again: a speaker's details changed"

# Emails not yet claimed for sending: `withdraw_emails` can still take them back.
_WAITING_EMAIL = (OutboxStatus.COMPOSING, OutboxStatus.QUEUED, OutboxStatus.RETRY)
# Rows per IN (...) list: well under the bound-parameter limits of both databases.
_CHUNK = 1000


# --- policy and due times -----------------------------------------------------------------


def reminder_offsets(event: Event) -> tuple[int, ...]:
    """Minutes before each session, largest first: the event's own list or its kind's default."""
    if event.reminder_offsets_minutes is not None:
        return tuple(sorted(set(event.reminder_offsets_minutes), reverse=True))
    return DEFAULT_OFFSETS_MINUTES[EventKind(event.kind)]


def reminder_due_at(starts_at: datetime, offset_minutes: int, zone_name: str) -> datetime:
    """When a reminder `offset_minutes` before `starts_at` falls due, as an exact UTC instant.

    Whole days step back over the calendar in the event's zone, keeping the wall time; a
    wall time that does not exist that day is read with the offset before the change.
    """
    days, minutes = divmod(offset_minutes, DAY_MINUTES)
    zone = ZoneInfo(zone_name)
    wall = starts_at.astimezone(zone).replace(tzinfo=None) - timedelta(days=days)
    return wall.replace(tzinfo=zone).astimezone(UTC) - timedelta(minutes=minutes)


# --- planning ------------------------------------------------------------------------------


def _scope(session_id: int | None, registration_id: int | None) -> list[ColumnElement[bool]]:
    if session_id is None and registration_id is None:
        raise ValueError("name a session, a registration or both")
    scope = []
    if session_id is not None:
        scope.append(Reminder.session_id == session_id)
    if registration_id is not None:
        scope.append(Reminder.registration_id == registration_id)
    return scope


async def _reminders_of(
    db: AsyncSession, *, session_id: int, registration_id: int | None = None
) -> list[Reminder]:
    """The rows, locked until the commit on PostgreSQL (waiting for a preparation under way
    to commit first, so what it composed is seen here and can be taken back)."""
    query = (
        select(Reminder).where(*_scope(session_id, registration_id))
        .order_by(Reminder.id).execution_options(populate_existing=True)
    )
    if is_postgres(db):
        query = query.with_for_update()
    return list(await db.scalars(query))


async def _wait_for_preparation(db: AsyncSession, scope: Sequence[ColumnElement[bool]]) -> None:
    """On PostgreSQL, lock the pending rows in `scope`: a preparation holding some of them
    commits first, and none can start until this transaction ends. (SQLite has one writer.)"""
    if is_postgres(db):
        await db.execute(
            select(Reminder.id).where(*scope, Reminder.status == ReminderStatus.PENDING)
            .order_by(Reminder.id).with_for_update()
        )


async def _prepared_of(db: AsyncSession, scope: Sequence[ColumnElement[bool]]) -> list[Reminder]:
    """Reminders in `scope` handed to the outbox whose email has not been claimed for sending."""
    return list(await db.scalars(
        select(Reminder)
        .join(OutboxEmail, OutboxEmail.id == Reminder.outbox_email_id)
        .where(*scope, Reminder.status == ReminderStatus.SENT,
               OutboxEmail.status.in_(_WAITING_EMAIL))
        .order_by(Reminder.id)
        .execution_options(populate_existing=True)
    ))


async def _take_back(db: AsyncSession, reminders: Sequence[Reminder], *, note: str
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


def _rearm(reminder: Reminder, now: datetime, due_at: datetime | None = None) -> None:
    """Pending again, to be composed anew (its last email, if any, names the next one's key)."""
    reminder.due_at = due_at or reminder.due_at
    reminder.status, reminder.processed_at, reminder.note = ReminderStatus.PENDING, None, None
    reminder.updated_at = now


def _late(reminder: Reminder, now: datetime) -> None:
    reminder.status = ReminderStatus.SKIPPED
    reminder.processed_at = now
    reminder.note = NOTE_LATE


async def plan_reminders_for_enrolment(
    db: AsyncSession, registration: Registration, session: Session, event: Event, *,
    now: datetime,
) -> list[Reminder]:
    """Reminders for one confirmed place, by the event's policy; the session's rows returned.

    A reminder whose time has passed when the place is confirmed is recorded as skipped
    rather than sent late; rows of offsets no longer in the policy are cancelled.
    """
    existing = {r.offset_minutes: r for r in await _reminders_of(
        db, session_id=session.id, registration_id=registration.id)}
    if session.status == SessionStatus.CANCELLED or session.starts_at <= now:
        return list(existing.values())
    offsets = reminder_offsets(event)
    for offset in offsets:
        due_at = reminder_due_at(session.starts_at, offset, event.timezone)
        reminder = existing.get(offset)
        if reminder is None:
            reminder = Reminder(
                session_id=session.id, registration_id=registration.id, offset_minutes=offset,
                due_at=due_at, status=ReminderStatus.PENDING, created_at=now, updated_at=now,
            )
            if due_at <= now:
                _late(reminder, now)
            db.add(reminder)
            existing[offset] = reminder
        elif reminder.status == ReminderStatus.PENDING:
            reminder.due_at, reminder.updated_at = due_at, now
        elif reminder.status == ReminderStatus.CANCELLED:
            # A place confirmed again (after a cancellation): plan it as if new.
            reminder.due_at, reminder.updated_at = due_at, now
            reminder.status, reminder.processed_at, reminder.note = (
                ReminderStatus.PENDING, None, None)
            if due_at <= now:
                _late(reminder, now)
    handed_over: list[Reminder] = []
    for offset, reminder in existing.items():
        if offset in offsets:
            continue
        if reminder.status == ReminderStatus.PENDING:
            _cancel(reminder, now, NOTE_POLICY)
        elif reminder.status == ReminderStatus.SENT:
            handed_over.append(reminder)
    for reminder in await _take_back(db, handed_over, note=f"reminder cancelled: {NOTE_POLICY}"):
        _cancel(reminder, now, NOTE_POLICY)
    await db.flush()
    return sorted(existing.values(), key=lambda r: -r.offset_minutes)


async def plan_reminders_for_new_registrations(
    db: AsyncSession, placements: Sequence[tuple[int, Event, Sequence[Session]]], *,
    now: datetime,
) -> None:
    """`plan_reminders_for_enrolment` for registrations made in this transaction, each with
    its confirmed sessions: they have no reminders yet, so no query for them, and all the
    rows go in one multi-row INSERT."""
    rows: list[dict[str, object]] = []
    for registration_id, event, sessions in placements:
        for session in sessions:
            if session.status == SessionStatus.CANCELLED or session.starts_at <= now:
                continue
            for offset in dict.fromkeys(reminder_offsets(event)):
                due_at = reminder_due_at(session.starts_at, offset, event.timezone)
                late = due_at <= now
                rows.append({
                    "session_id": session.id, "registration_id": registration_id,
                    "offset_minutes": offset, "due_at": due_at,
                    "status": ReminderStatus.SKIPPED if late else ReminderStatus.PENDING,
                    "processed_at": now if late else None, "note": NOTE_LATE if late else None,
                    "created_at": now, "updated_at": now,
                })
    if rows:
        await db.execute(insert(table_of(Reminder)), rows)


async def retime_reminders_for_session(
    db: AsyncSession, session: Session, event: Event, *, now: datetime
) -> None:
    """The session changed (its time, or anything its reminders say): reminders follow it.

    Emails prepared ahead and not yet claimed for sending are taken back and their
    reminders re-armed at their (new) due time, to be composed anew. A reminder already
    sent or skipped is armed again when the move puts its new time in the future (a session
    postponed after its reminder went out is reminded again). A pending one whose new time
    has passed stays pending: it goes out at once if the session has not started, and the
    shortest such offset supersedes the longer ones.
    """
    if session.status == SessionStatus.CANCELLED:
        await cancel_reminders(db, session_id=session.id, now=now, note=NOTE_SESSION_CANCELLED)
        return
    reminders = await _reminders_of(db, session_id=session.id)
    taken = {r.id for r in await _take_back(
        db, await _prepared_of(db, _scope(session.id, None)), note=WITHDRAWN_SESSION_CHANGED)}
    for reminder in reminders:
        due_at = reminder_due_at(session.starts_at, reminder.offset_minutes, event.timezone)
        if reminder.id in taken:
            _rearm(reminder, now, due_at)
        elif due_at == reminder.due_at or reminder.status == ReminderStatus.CANCELLED:
            continue
        elif reminder.status == ReminderStatus.PENDING:
            reminder.due_at, reminder.updated_at = due_at, now
        elif due_at > now and due_at > reminder.due_at:
            _rearm(reminder, now, due_at)
    await db.flush()


async def refresh_prepared_reminders(
    db: AsyncSession, session_id: int, *, now: datetime, note: str = WITHDRAWN_AGENDA_CHANGED
) -> int:
    """What the session's reminders say changed (its agenda): emails prepared ahead and not
    yet claimed are taken back, their reminders armed again to be composed anew; how many."""
    scope = _scope(session_id, None)
    await _wait_for_preparation(db, scope)
    taken = await _take_back(db, await _prepared_of(db, scope), note=note)
    for reminder in taken:
        _rearm(reminder, now)
    await db.flush()
    return len(taken)


async def refresh_prepared_reminders_for_speakers(
    db: AsyncSession, *, now: datetime, person_id: int | None = None,
    organisation_id: int | None = None,
) -> int:
    """A speaker's name or organisation changed (or an organisation's name): reminders
    prepared for the sessions whose agenda shows them are composed again; how many."""
    if person_id is None and organisation_id is None:
        raise ValueError("name a person, an organisation or both")
    shown = []
    if person_id is not None:
        shown.append(AgendaItemSpeaker.person_id == person_id)
    if organisation_id is not None:
        shown += [AgendaItemSpeaker.organisation_id == organisation_id,
                  Person.organisation_id == organisation_id]
    session_ids = list(await db.scalars(
        select(AgendaItem.session_id).distinct()
        .join(AgendaItemSpeaker, AgendaItemSpeaker.agenda_item_id == AgendaItem.id)
        .join(Person, Person.id == AgendaItemSpeaker.person_id)
        .where(or_(*shown))
        .order_by(AgendaItem.session_id)
    ))
    refreshed = 0
    for session_id in session_ids:
        refreshed += await refresh_prepared_reminders(
            db, session_id, now=now, note=WITHDRAWN_SPEAKER_CHANGED)
    return refreshed


def _cancel(reminder: Reminder, now: datetime, note: str) -> None:
    reminder.status = ReminderStatus.CANCELLED
    reminder.processed_at = now
    reminder.updated_at = now
    reminder.note = note


async def cancel_reminders(
    db: AsyncSession, *, now: datetime, note: str, session_id: int | None = None,
    registration_id: int | None = None,
) -> int:
    """Reminders of a session, a registration or both are cancelled; how many.

    Pending ones, and those prepared ahead whose email could still be taken back; one a
    worker is sending at this moment went out before the cancellation and stays sent.
    """
    scope = _scope(session_id, registration_id)
    await _wait_for_preparation(db, scope)
    taken = await _take_back(db, await _prepared_of(db, scope), note=f"reminder cancelled: {note}")
    for reminder in taken:
        _cancel(reminder, now, note)
    await db.flush()
    result = await db.execute(
        update(Reminder).where(*scope, Reminder.status == ReminderStatus.PENDING)
        .values(status=ReminderStatus.CANCELLED, processed_at=now, updated_at=now, note=note)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0) + len(taken)


async def confirmed_places(
    db: AsyncSession, session_id: int, *, confirmed_before: datetime | None = None
) -> list[Registration]:
    """Registrations with a confirmed place in the session (confirmed registration too)."""
    query = (
        select(Registration)
        .join(Enrolment, Enrolment.registration_id == Registration.id)
        .where(
            Enrolment.session_id == session_id,
            Enrolment.status == EnrolmentStatus.CONFIRMED,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
        .order_by(Registration.id)
    )
    if confirmed_before is not None:
        query = query.where(Enrolment.created_at <= confirmed_before)
    return list(await db.scalars(query))


async def has_confirmed_places(db: AsyncSession, session_id: int) -> bool:
    found = await db.scalar(
        select(Enrolment.id)
        .join(Registration, Registration.id == Enrolment.registration_id)
        .where(
            Enrolment.session_id == session_id,
            Enrolment.status == EnrolmentStatus.CONFIRMED,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
        .limit(1)
    )
    return found is not None


async def replan_reminders_for_event(db: AsyncSession, event: Event, *, now: datetime) -> None:
    """The event's policy changed: every confirmed place in a coming session is planned again."""
    sessions = list(await db.scalars(
        select(Session).where(Session.event_id == event.id, Session.starts_at > now,
                              Session.status == SessionStatus.SCHEDULED)
    ))
    for session in sessions:
        for registration in await confirmed_places(db, session.id):
            await plan_reminders_for_enrolment(db, registration, session, event, now=now)


# --- composing ahead and sending ---------------------------------------------------------


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
        return ReminderStatus.SKIPPED, f"superseded by the {minutes_text(shortest)} reminder"
    try:
        parse_address(registration.email, registration.name)
    except ValueError:
        return ReminderStatus.SKIPPED, NOTE_BAD_ADDRESS
    return None


async def manage_links(
    db: AsyncSession, registration_ids: Sequence[int], *, now: datetime, settings: Settings
) -> dict[int, str]:
    """Each registrant's manage page link (to cancel and free the place), in one query."""
    rows = await db.scalars(
        select(AccessToken)
        .where(
            AccessToken.purpose == AccessPurpose.REGISTRATION_MANAGE,
            AccessToken.registration_id.in_(registration_ids),
            AccessToken.person_id.is_(None),
            AccessToken.api_token_id.is_(None),
            AccessToken.revoked_at.is_(None),
        )
        .order_by(AccessToken.id)
    )
    # The newest live token wins, as in `access.current_access_token`.
    tokens = {row.registration_id: token_for(row, settings.secret_key) for row in rows}
    for registration_id in registration_ids:
        if registration_id not in tokens:
            tokens[registration_id] = await current_access_token(
                db, AccessPurpose.REGISTRATION_MANAGE, secret_key=settings.secret_key,
                now=now, registration_id=registration_id,
            )
    return {rid: manage_url(settings, token) for rid, token in tokens.items()
            if rid is not None}


def session_context(
    session: Session, event: Event, *, now: datetime, settings: Settings
) -> dict[str, object]:
    """What a reminder says about the session: the same for every registrant in a batch."""
    zone = event.timezone
    agenda = agenda_text(session, event)
    lines = agenda.splitlines()
    return {
        "event_title": event.title,
        "session_title": session.title,
        "starts": starts_phrase(session.starts_at, now, zone),
        "when_local": period_text(session.starts_at, session.ends_at, zone),
        "when_utc": utc_period_text(session.starts_at, session.ends_at),
        "join_url": join_url_for(session),
        "venue": venue_for(session, event),
        "agenda": agenda,
        "agenda_heading": lines[0] if lines else "",
        "agenda_lines": lines[1:],
        "event_url": event_page_url(settings, event),
    }


def _outbox_row(
    message: EmailMessage, *, dedupe_key: str, send_at: datetime, due_at: datetime,
    expires_at: datetime, event_id: int, registration_id: int, settings: Settings,
    now: datetime,
) -> dict[str, object]:
    """The outbox row of one reminder, rendered now, held back until `send_at`."""
    rendered = render_email(message.template, {**base_context(settings), **message.context},
                            message.language)
    message_id = make_message_id(settings)
    return {
        "message_id": message_id, "dedupe_key": dedupe_key, "template": message.template,
        "to_address": message.to_address, "subject": rendered.subject[:500],
        # Dated when it is released, as the registrant will read it.
        "raw_message": build_mime(message, rendered, settings=settings, message_id=message_id,
                                  now=send_at),
        "status": OutboxStatus.QUEUED, "attempts": 0, "next_attempt_at": send_at,
        "event_id": event_id, "registration_id": registration_id, "person_id": None,
        "due_at": due_at, "expires_at": expires_at, "created_at": now,
    }


async def _queue(db: AsyncSession, rows: Sequence[dict[str, object]]) -> list[int | None]:
    """One multi-row INSERT; each row's outbox id, None where its dedupe key was taken."""
    if not rows:
        return []
    statement = insert_unless_exists(db, table_of(OutboxEmail), [OutboxEmail.dedupe_key])
    result = await db.execute(
        statement.returning(table_of(OutboxEmail).c.id, table_of(OutboxEmail).c.message_id),
        list(rows))
    ids: dict[str, int] = {message_id: row_id for row_id, message_id in result.all()}
    return [ids.get(str(row["message_id"])) for row in rows]


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
    candidates = await _prepared_of(db, [
        tuple_(Reminder.session_id, Reminder.registration_id).in_(list(shortest)),
        Reminder.due_at <= now,
    ])
    stale = [r for r in candidates if r.id not in claimed
             and r.offset_minutes > shortest[(r.session_id, r.registration_id)]]
    taken = await _take_back(db, stale, note="reminder superseded by a nearer one")
    for reminder in taken:
        nearest = shortest[(reminder.session_id, reminder.registration_id)]
        reminder.status, reminder.note = (
            ReminderStatus.SKIPPED, f"superseded by the {minutes_text(nearest)} reminder")
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
    contexts: dict[tuple[int, datetime], dict[str, object]] = {}
    outcomes: list[tuple[Reminder, ReminderStatus, str | None, int | None]] = []
    queued: list[tuple[Reminder, dict[str, object]]] = []
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
        if (session.id, send_at) not in contexts:
            contexts[(session.id, send_at)] = session_context(
                session, event, now=send_at, settings=settings)
        message = EmailMessage(
            template=REMINDER_TEMPLATE,
            to_address=registration.email,
            to_name=registration.name,
            context={**contexts[(session.id, send_at)], "recipient_name": registration.name,
                     "manage_url": links[registration.id]},
            reply_to=event.contact_email,
        )
        queued.append((reminder, _outbox_row(
            message, dedupe_key=_dedupe_key(reminder), send_at=send_at, due_at=reminder.due_at,
            expires_at=session.starts_at, event_id=event.id, registration_id=registration.id,
            settings=settings, now=now,
        )))
    superseded = await _withdraw_superseded(
        db, [r for r, _ in queued if r.due_at <= now], now=now)
    # All the batch's emails in one multi-row INSERT.
    outbox_ids = await _queue(db, [row for _, row in queued])
    for (reminder, row), outbox_id in zip(queued, outbox_ids, strict=True):
        if outbox_id is None:
            # Queued already by a run whose reminder update was lost.
            found = await find_email_by_dedupe_key(db, str(row["dedupe_key"]))
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


# --- the organisers' view ------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderView:
    """One reminder as organisers see it; `state` folds in the outbox's delivery status."""

    id: int
    session_id: int
    session_title: str
    registration_id: int
    registrant_name: str
    registrant_email: str
    offset_minutes: int
    due_at: datetime
    state: str  # scheduled, sending, sent, failed, skipped, cancelled
    processed_at: datetime | None
    delivered_at: datetime | None
    note: str | None


REMINDER_STATES = ("scheduled", "sending", "sent", "failed", "skipped", "cancelled")


def _state(status: ReminderStatus, outbox_status: OutboxStatus | None,
           send_at: datetime | None, now: datetime) -> str:
    if status == ReminderStatus.PENDING:
        return "scheduled"
    if status != ReminderStatus.SENT:
        return str(status)
    if outbox_status == OutboxStatus.SENT:
        return "sent"
    if outbox_status == OutboxStatus.FAILED:
        return "failed"
    if outbox_status == OutboxStatus.WITHDRAWN:
        # Only delivery withdraws an email whose reminder stays sent: it expired unsent.
        return "skipped"
    if outbox_status == OutboxStatus.QUEUED and send_at is not None and send_at > now:
        return "scheduled"  # composed ahead, waiting for its time
    return "sending"


@dataclass(frozen=True)
class ReminderOverview:
    counts: dict[str, int]  # every state, over all the event's reminders
    reminders: list[ReminderView]  # by due time, only the states asked for


async def list_reminders_for_event(
    db: AsyncSession, event_id: int, *, now: datetime, states: Sequence[str] = ()
) -> ReminderOverview:
    """The reminders of the event's sessions by due time, optionally only in some states.

    A reminder composed ahead is "scheduled" until its due time, then "sending" until the
    mail server accepts it; one whose email expired unsent (the service was down until
    its session had started) is "skipped".
    """
    for index, state in enumerate(states):
        if state not in REMINDER_STATES:
            raise InvalidInputError(
                f"Unknown state {state!r}: use one of {', '.join(REMINDER_STATES)}.",
                f"state[{index}]",
            )
    await programme.get_event(db, event_id)  # 404 for an unknown event
    rows = (await db.execute(
        select(
            Reminder, Session.title, Registration.name, Registration.email,
            OutboxEmail.status, OutboxEmail.next_attempt_at, OutboxEmail.sent_at,
            OutboxEmail.last_error,
        )
        .join(Session, Session.id == Reminder.session_id)
        .join(Registration, Registration.id == Reminder.registration_id)
        .outerjoin(OutboxEmail, OutboxEmail.id == Reminder.outbox_email_id)
        .where(Session.event_id == event_id)
        .order_by(Reminder.due_at, Reminder.session_id, Reminder.registration_id, Reminder.id)
    )).all()
    views = []
    counts = dict.fromkeys(REMINDER_STATES, 0)
    for reminder, title, name, address, outbox_status, send_at, sent_at, last_error in rows:
        state = _state(reminder.status, outbox_status, send_at, now)
        counts[state] += 1
        if states and state not in states:
            continue
        note = reminder.note
        if state == "failed":
            note = last_error
        elif state == "skipped" and reminder.status == ReminderStatus.SENT:
            note = NOTE_EXPIRED
        views.append(ReminderView(
            id=reminder.id, session_id=reminder.session_id, session_title=title,
            registration_id=reminder.registration_id, registrant_name=name,
            registrant_email=address, offset_minutes=reminder.offset_minutes,
            due_at=reminder.due_at, state=state, processed_at=reminder.processed_at,
            delivered_at=sent_at if state == "sent" else None, note=note,
        ))
    return ReminderOverview(counts=counts, reminders=views)


# --- wording shared by reminders, change notices and speaker notices ----------------------

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def date_text(day: date) -> str:
    """"Monday 26 October 2026", in English whatever the machine's locale."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def start_text(instant: datetime, zone_name: str) -> str:
    """"Monday 26 October 2026 at 10:00 CET": plain ASCII, for subjects."""
    local = instant.astimezone(ZoneInfo(zone_name))
    return f"{date_text(local.date())} at {local:%H:%M} {local.tzname()}"


def period_text(starts_at: datetime, ends_at: datetime, zone_name: str) -> str:
    """"Monday 26 October 2026, 10:00-11:45 CET (Europe/Brussels)" (en dash), or a span."""
    zone = ZoneInfo(zone_name)
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    if start.date() == end.date():  # each time with its label if the clocks change between
        return f"{date_text(start.date())}, {clock_range(start, end)} ({zone_name})"
    return (f"{date_text(start.date())}, {start:%H:%M} {start.tzname()} – "
            f"{date_text(end.date())}, {end:%H:%M} {end.tzname()} ({zone_name})")


def utc_period_text(starts_at: datetime, ends_at: datetime) -> str:
    start, end = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    if start.date() == end.date():
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M} UTC"
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC"


def minutes_text(minutes: int) -> str:
    """"7-day", "1-day", "1-hour", "90-minute": how organisers name an offset."""
    if minutes % DAY_MINUTES == 0:
        return f"{minutes // DAY_MINUTES}-day"
    if minutes % 60 == 0:
        return f"{minutes // 60}-hour"
    return f"{minutes}-minute"


def starts_phrase(starts_at: datetime, now: datetime, zone_name: str) -> str:
    """When the session starts, said from `now`: "in 60 minutes", "tomorrow at 10:00 CET"."""
    zone = ZoneInfo(zone_name)
    start, today = starts_at.astimezone(zone), now.astimezone(zone).date()
    clock = f"{start:%H:%M} {start.tzname()}"
    minutes = round((starts_at - now).total_seconds() / 60)
    if minutes < 120:
        return f"in {max(minutes, 1)} minute{'s' if minutes != 1 else ''}, at {clock}"
    if start.date() == today:
        return f"today at {clock}"
    if start.date() == today + timedelta(days=1):
        return f"tomorrow at {clock}"
    return f"on {date_text(start.date())} at {clock}"


def join_url_for(session: Session) -> str | None:
    return session.join_url if session.mode != SessionMode.IN_PERSON else None


def venue_for(session: Session, event: Event) -> str | None:
    if session.mode == SessionMode.ONLINE:
        return None
    return venue_line(event) or "in person (the organisers will confirm the venue)"

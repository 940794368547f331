"""Reminders before each session: planned with a stored due time, sent once when due.

A reminder is a row per (session, registration, offset) with its `due_at`, written when a
registrant gets a confirmed place and recomputed when the session moves or the event's
policy changes. `process_due_reminders` turns due rows into outbox emails in the same
transaction that marks them sent, so a worker that dies mid-batch leaves them pending and
two workers never send one twice (row claims with SKIP LOCKED on PostgreSQL, SQLite's
single writer, and the outbox's `dedupe_key` as the last guard).

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

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.message import EmailMessage, parse_address
from notifications.outbox import OutboxItem, enqueue_emails, find_email_by_dedupe_key
from service.db.engine import is_postgres
from service.db.models import (
    AccessPurpose,
    AccessToken,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
    EventStatus,
    OutboxEmail,
    OutboxStatus,
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
from service.domain.registration import created_in_this_transaction, manage_url
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


async def _reminders_of(
    db: AsyncSession, *, session_id: int, registration_id: int | None = None
) -> list[Reminder]:
    query = select(Reminder).where(Reminder.session_id == session_id)
    if registration_id is not None:
        query = query.where(Reminder.registration_id == registration_id)
    return list(await db.scalars(query.order_by(Reminder.id)))


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
    if session.status != SessionStatus.CANCELLED and created_in_this_transaction(
        db, registration.id
    ):
        return await _plan_first_reminders(db, registration, session, event, now=now)
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
    for offset, reminder in existing.items():
        if offset not in offsets and reminder.status == ReminderStatus.PENDING:
            _cancel(reminder, now, NOTE_POLICY)
    await db.flush()
    return sorted(existing.values(), key=lambda r: -r.offset_minutes)


async def _plan_first_reminders(
    db: AsyncSession, registration: Registration, session: Session, event: Event, *,
    now: datetime,
) -> list[Reminder]:
    """`plan_reminders_for_enrolment` for a registration made in this transaction: it has no
    reminders yet, so no query for them, and its rows go in one multi-row INSERT."""
    if session.starts_at <= now:
        return []
    rows: list[dict[str, object]] = []
    for offset in dict.fromkeys(reminder_offsets(event)):
        due_at = reminder_due_at(session.starts_at, offset, event.timezone)
        late = due_at <= now
        rows.append({
            "session_id": session.id, "registration_id": registration.id,
            "offset_minutes": offset, "due_at": due_at,
            "status": ReminderStatus.SKIPPED if late else ReminderStatus.PENDING,
            "processed_at": now if late else None, "note": NOTE_LATE if late else None,
            "created_at": now, "updated_at": now,
        })
    if not rows:
        return []
    await db.flush()
    planned = list(await db.scalars(insert(Reminder).returning(Reminder), rows))
    return sorted(planned, key=lambda r: -r.offset_minutes)


async def retime_reminders_for_session(
    db: AsyncSession, session: Session, event: Event, *, now: datetime
) -> None:
    """The session moved: pending reminders follow it.

    A reminder already sent or skipped is armed again when the move puts its new time in
    the future (a session postponed after its reminder went out is reminded again). A
    pending one whose new time has passed stays pending: it goes out at once if the
    session has not started, and the shortest such offset supersedes the longer ones.
    """
    if session.status == SessionStatus.CANCELLED:
        await cancel_reminders(db, session_id=session.id, now=now, note=NOTE_SESSION_CANCELLED)
        return
    for reminder in await _reminders_of(db, session_id=session.id):
        due_at = reminder_due_at(session.starts_at, reminder.offset_minutes, event.timezone)
        if due_at == reminder.due_at or reminder.status == ReminderStatus.CANCELLED:
            continue
        if reminder.status == ReminderStatus.PENDING:
            reminder.due_at, reminder.updated_at = due_at, now
        elif due_at > now and due_at > reminder.due_at:
            reminder.due_at, reminder.updated_at = due_at, now
            reminder.status, reminder.processed_at, reminder.note = (
                ReminderStatus.PENDING, None, None)
    await db.flush()


def _cancel(reminder: Reminder, now: datetime, note: str) -> None:
    reminder.status = ReminderStatus.CANCELLED
    reminder.processed_at = now
    reminder.updated_at = now
    reminder.note = note


async def cancel_reminders(
    db: AsyncSession, *, now: datetime, note: str, session_id: int | None = None,
    registration_id: int | None = None,
) -> int:
    """Pending reminders of a session, a registration or both are cancelled; how many."""
    if session_id is None and registration_id is None:
        raise ValueError("name a session, a registration or both")
    query = update(Reminder).where(Reminder.status == ReminderStatus.PENDING)
    if session_id is not None:
        query = query.where(Reminder.session_id == session_id)
    if registration_id is not None:
        query = query.where(Reminder.registration_id == registration_id)
    result = await db.execute(
        query.values(status=ReminderStatus.CANCELLED, processed_at=now, updated_at=now,
                     note=note)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


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


# --- sending -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderReport:
    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    cancelled: int = 0


async def _claim_due(db: AsyncSession, *, now: datetime, batch_size: int) -> list[Reminder]:
    query = (
        select(Reminder)
        .where(Reminder.status == ReminderStatus.PENDING, Reminder.due_at <= now)
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


async def process_due_reminders(
    db: AsyncSession, *, now: datetime, settings: Settings, batch_size: int = 200
) -> ReminderReport:
    """Claim up to `batch_size` due reminders and queue their emails (or record why not).

    Runs in the caller's transaction: the claims, the outbox rows and the new statuses
    commit together, so a crash before the commit leaves the reminders pending.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    reminders = await _claim_due(db, now=now, batch_size=batch_size)
    if not reminders:
        return ReminderReport()
    batch = await _load_batch(db, reminders, now)
    links = await manage_links(
        db, sorted({r.registration_id for r in reminders}), now=now, settings=settings
    )
    contexts: dict[int, dict[str, object]] = {}
    outcomes: list[tuple[Reminder, ReminderStatus, str | None, int | None]] = []
    queued: list[tuple[Reminder, OutboxItem]] = []
    for reminder in reminders:
        refusal = _why_not(reminder, batch, now)
        if refusal is not None:
            outcomes.append((reminder, *refusal, reminder.outbox_email_id))
            continue
        session = batch.sessions[reminder.session_id]
        event = batch.events[session.event_id]
        registration = batch.registrations[reminder.registration_id]
        if session.id not in contexts:
            contexts[session.id] = session_context(session, event, now=now, settings=settings)
        message = EmailMessage(
            template=REMINDER_TEMPLATE,
            to_address=registration.email,
            to_name=registration.name,
            context={**contexts[session.id], "recipient_name": registration.name,
                     "manage_url": links[registration.id]},
            reply_to=event.contact_email,
        )
        # Armed again after its session was postponed: a new email, so a new key.
        key = f"reminder:{reminder.id}"
        if reminder.outbox_email_id is not None:
            key = f"{key}:{reminder.due_at.astimezone(UTC):%Y%m%dT%H%M%SZ}"
        queued.append((reminder, OutboxItem(
            message, event_id=event.id, registration_id=registration.id, dedupe_key=key,
            due_at=reminder.due_at,
        )))
    # All the batch's emails in one multi-row INSERT.
    outbox_ids = await enqueue_emails(
        db, [item for _, item in queued], settings=settings, now=now
    )
    for (reminder, item), outbox_id in zip(queued, outbox_ids, strict=True):
        if outbox_id is None and item.dedupe_key is not None:
            # Queued already by a run whose reminder update was lost.
            row = await find_email_by_dedupe_key(db, item.dedupe_key)
            outbox_id = row.id if row is not None else reminder.outbox_email_id
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
        skipped=counts[ReminderStatus.SKIPPED],
        cancelled=counts[ReminderStatus.CANCELLED],
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


def _state(status: ReminderStatus, outbox_status: OutboxStatus | None) -> str:
    if status == ReminderStatus.PENDING:
        return "scheduled"
    if status != ReminderStatus.SENT:
        return str(status)
    if outbox_status == OutboxStatus.SENT:
        return "sent"
    if outbox_status == OutboxStatus.FAILED:
        return "failed"
    return "sending"


@dataclass(frozen=True)
class ReminderOverview:
    counts: dict[str, int]  # every state, over all the event's reminders
    reminders: list[ReminderView]  # by due time, only the states asked for


async def list_reminders_for_event(
    db: AsyncSession, event_id: int, *, states: Sequence[str] = ()
) -> ReminderOverview:
    """The reminders of the event's sessions by due time, optionally only in some states."""
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
            OutboxEmail.status, OutboxEmail.sent_at, OutboxEmail.last_error,
        )
        .join(Session, Session.id == Reminder.session_id)
        .join(Registration, Registration.id == Reminder.registration_id)
        .outerjoin(OutboxEmail, OutboxEmail.id == Reminder.outbox_email_id)
        .where(Session.event_id == event_id)
        .order_by(Reminder.due_at, Reminder.session_id, Reminder.registration_id, Reminder.id)
    )).all()
    views = []
    counts = dict.fromkeys(REMINDER_STATES, 0)
    for reminder, title, name, address, outbox_status, sent_at, last_error in rows:
        state = _state(reminder.status, outbox_status)
        counts[state] += 1
        if states and state not in states:
            continue
        views.append(ReminderView(
            id=reminder.id, session_id=reminder.session_id, session_title=title,
            registration_id=reminder.registration_id, registrant_name=name,
            registrant_email=address, offset_minutes=reminder.offset_minutes,
            due_at=reminder.due_at, state=state, processed_at=reminder.processed_at,
            delivered_at=sent_at if state == "sent" else None,
            note=last_error if state == "failed" else reminder.note,
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
    if start.date() == end.date() and start.tzname() == end.tzname():
        return (f"{date_text(start.date())}, {start:%H:%M}–{end:%H:%M} {start.tzname()} "
                f"({zone_name})")
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

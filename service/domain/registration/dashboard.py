"""The organisers' dashboard in figures: upcoming events and what needs a look.

For each upcoming event (drafts too, cancelled ones not): places taken and left, people
waiting, applications pending; across them the emails that failed in the last seven days
and the next reminders due. A fixed handful of grouped queries whatever the number of
events (never one per event). `event_ids` narrows everything to the events an account may
see (None: all of them). Read-only.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.db.models import (
    EmailAttempt,
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

FAILED_EMAILS_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class EventFigures:
    event: Event  # with its sessions loaded
    starts_at: datetime | None  # first session
    places: int | None  # None: no limit
    taken: int  # confirmed places (the event's, or the limited sessions' together)
    places_left: int | None  # None: no limit
    waiting: int  # on the event's waiting list
    waiting_for_sessions: int  # confirmed registrants waiting for a full session
    pending: int  # applications waiting for an organiser's decision
    failed_emails: int  # failed in the last seven days


@dataclass(frozen=True)
class RemindersDue:
    """Reminders of one session falling due at one instant."""

    due_at: datetime
    event_id: int
    event_title: str
    event_timezone: str
    session_id: int
    session_title: str
    offset_minutes: int
    count: int


@dataclass(frozen=True)
class Dashboard:
    events: list[EventFigures]
    failed_emails: int  # in the last seven days, across the events shown
    next_reminders: list[RemindersDue]


def _in_scope(column: Any, event_ids: Collection[int] | None) -> ColumnElement[bool]:
    return true() if event_ids is None else column.in_(list(event_ids))


async def _upcoming(db: AsyncSession, now: datetime, event_ids: Collection[int] | None,
                    limit: int) -> list[tuple[Event, datetime | None]]:
    bounds = (select(Session.event_id, func.min(Session.starts_at).label("first_start"),
                     func.max(Session.ends_at).label("last_end"))
              .group_by(Session.event_id).subquery())
    query = (
        select(Event, bounds.c.first_start)
        .outerjoin(bounds, bounds.c.event_id == Event.id)
        .where(Event.status != EventStatus.CANCELLED, _in_scope(Event.id, event_ids),
               (bounds.c.last_end.is_(None)) | (bounds.c.last_end > now)))
    rows = await db.execute(
        query.order_by(bounds.c.first_start.is_(None), bounds.c.first_start, Event.id)
        .limit(limit).options(selectinload(Event.sessions)))
    return [(event, first) for event, first in rows]


async def get_dashboard(
    db: AsyncSession, *, now: datetime, event_ids: Collection[int] | None = None,
    limit: int = 20, reminders: int = 5,
) -> Dashboard:
    """The figures of the next `limit` events and the next `reminders` reminder batches."""
    upcoming = await _upcoming(db, now, event_ids, limit)
    ids = [event.id for event, _ in upcoming]
    registrations: dict[tuple[int, RegistrationStatus], int] = {}
    enrolments: dict[tuple[int, EnrolmentStatus], int] = {}
    waiting_for_sessions: dict[int, int] = {}
    if ids:
        registrations = {(event_id, status): count for event_id, status, count in (
            await db.execute(
                select(Registration.event_id, Registration.status, func.count(Registration.id))
                .where(Registration.event_id.in_(ids))
                .group_by(Registration.event_id, Registration.status)))}
        enrolments = {(session_id, status): count for session_id, status, count in (
            await db.execute(
                select(Enrolment.session_id, Enrolment.status, func.count(Enrolment.id))
                .join(Session, Session.id == Enrolment.session_id)
                .where(Session.event_id.in_(ids))
                .group_by(Enrolment.session_id, Enrolment.status)))}
        waiting_for_sessions = dict((await db.execute(
            select(Registration.event_id, func.count(func.distinct(Registration.id)))
            .join(Enrolment, Enrolment.registration_id == Registration.id)
            .where(Registration.event_id.in_(ids),
                   Registration.status == RegistrationStatus.CONFIRMED,
                   Enrolment.status == EnrolmentStatus.WAITING)
            .group_by(Registration.event_id))).all())
    failed = await _failed_emails(db, now, event_ids)
    figures = [
        _figures(event, first, registrations, enrolments, waiting_for_sessions, failed)
        for event, first in upcoming
    ]
    return Dashboard(events=figures, failed_emails=sum(failed.values()),
                     next_reminders=await _next_reminders(db, now, event_ids, reminders))


def _figures(event: Event, first: datetime | None,
             registrations: dict[tuple[int, RegistrationStatus], int],
             enrolments: dict[tuple[int, EnrolmentStatus], int],
             waiting_for_sessions: dict[int, int], failed: dict[int | None, int],
             ) -> EventFigures:
    places: int | None = None
    left: int | None = None
    taken = registrations.get((event.id, RegistrationStatus.CONFIRMED), 0)
    scheduled = [s for s in event.sessions if s.status == SessionStatus.SCHEDULED]
    if event.capacity is not None:
        places, left = event.capacity, max(0, event.capacity - taken)
    elif scheduled and all(s.capacity is not None for s in scheduled):
        # As the public page counts: places are limited only when every session still
        # taking place is.
        counts = {s.id: enrolments.get((s.id, EnrolmentStatus.CONFIRMED), 0) for s in scheduled}
        places = sum(s.capacity or 0 for s in scheduled)
        taken = sum(counts.values())
        left = sum(max(0, (s.capacity or 0) - counts[s.id]) for s in scheduled)
    return EventFigures(
        event=event, starts_at=first, places=places, taken=taken,
        places_left=left,
        waiting=registrations.get((event.id, RegistrationStatus.WAITING), 0),
        waiting_for_sessions=waiting_for_sessions.get(event.id, 0),
        pending=registrations.get((event.id, RegistrationStatus.PENDING), 0),
        failed_emails=failed.get(event.id, 0),
    )


async def _failed_emails(db: AsyncSession, now: datetime, event_ids: Collection[int] | None
                         ) -> dict[int | None, int]:
    """Emails failed whose last attempt was within the window, per event."""
    recent = select(EmailAttempt.outbox_email_id).where(
        EmailAttempt.attempted_at >= now - FAILED_EMAILS_WINDOW)
    query = (
        select(OutboxEmail.event_id, func.count(OutboxEmail.id))
        .where(OutboxEmail.status == OutboxStatus.FAILED, OutboxEmail.id.in_(recent),
               _in_scope(OutboxEmail.event_id, event_ids)))
    rows = await db.execute(query.group_by(OutboxEmail.event_id))
    return dict(rows.all())


async def _next_reminders(db: AsyncSession, now: datetime, event_ids: Collection[int] | None,
                          limit: int) -> list[RemindersDue]:
    query = (
        select(Reminder.due_at, Event.id, Event.title, Event.timezone, Session.id,
               Session.title, Reminder.offset_minutes, func.count(Reminder.id))
        .join(Session, Session.id == Reminder.session_id)
        .join(Event, Event.id == Session.event_id)
        .where(Reminder.status == ReminderStatus.PENDING, Reminder.due_at >= now,
               _in_scope(Event.id, event_ids)))
    rows = await db.execute(
        query.group_by(Reminder.due_at, Event.id, Event.title, Event.timezone, Session.id,
                       Session.title, Reminder.offset_minutes)
        .order_by(Reminder.due_at, Session.id).limit(limit))
    return [RemindersDue(due_at=due_at, event_id=event_id, event_title=event_title,
                         event_timezone=zone, session_id=session_id,
                         session_title=session_title, offset_minutes=offset, count=count)
            for due_at, event_id, event_title, zone, session_id, session_title, offset, count
            in rows]

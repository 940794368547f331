"""Who attended an event in person: organisers check registrants in at the door of each
session (a seminar's or a study visit's days each have their own door), or take a check-in
back when they pressed the wrong line. A registration's own `checked_in_at` is its first
arrival: what "came to the event" means (a Meet-your-Buyer day's report lists who came).
For every kind of event with a place to come to. Flushes, never commits; knows no HTTP.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.db.models import (
    Enrolment,
    EnrolmentStatus,
    Event,
    Registration,
    RegistrationStatus,
    Session,
    SessionMode,
    SessionStatus,
)
from service.domain.errors import ConflictError, NotFoundError
from service.domain.times import local_date
from service.i18n import gettext as _

from .listing import clean_search, search_condition

# Who can be on the day's list: people with a place (or awaiting one, who may turn up).
ATTENDEE_STATUSES = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITING,
                     RegistrationStatus.PENDING)


def has_a_place_to_come_to(event: Event) -> bool:
    """Whether anyone arrives anywhere: a session in person or hybrid (its sessions loaded)."""
    return any(session.mode != SessionMode.ONLINE for session in event.sessions)


def door_sessions(event: Event) -> list[Session]:
    """The sessions people are checked in at, in order: those in person or hybrid (every
    session where all are online), not cancelled (its sessions loaded)."""
    held = sorted((s for s in event.sessions if s.status != SessionStatus.CANCELLED),
                  key=lambda s: (s.starts_at, s.id))
    with_a_door = [s for s in held if s.mode != SessionMode.ONLINE]
    return with_a_door or held


def session_at_the_door(event: Event, now: datetime) -> Session | None:
    """The session whose door is open now: today's first (in the event's zone), else the
    next to come, else the last one held."""
    sessions = door_sessions(event)
    today = local_date(now, event.timezone)
    for session in sessions:
        if local_date(session.starts_at, event.timezone) == today:
            return session
    coming = [s for s in sessions if s.starts_at > now]
    return coming[0] if coming else (sessions[-1] if sessions else None)


@dataclass(frozen=True)
class Arrival:
    """One line of a session's check-in list."""

    registration: Registration
    checked_in_at: datetime | None  # at this session's door
    is_expected: bool  # holds (or awaits) a place in it: cancelled or declined do not


def _arrival_session(event: Event, enrolments: list[Enrolment], session_id: int | None,
                     now: datetime) -> Enrolment:
    """The registration's place in the session asked for; without one, in the session under
    way (or its only place with a door)."""
    doors = {s.id for s in door_sessions(event)}
    held = [e for e in enrolments if e.session_id in doors]
    if session_id is not None:
        found = [e for e in enrolments if e.session_id == session_id]
        if not found or session_id not in doors:
            raise NotFoundError(_("This registration has no place in that session."),
                                "session_id")
        return found[0]
    current = session_at_the_door(event, now)
    here = [e for e in held if current is not None and e.session_id == current.id]
    places = [e for e in held if e.status != EnrolmentStatus.CANCELLED]
    if here:
        return here[0]
    if len(places) == 1:
        return places[0]
    raise ConflictError(_("Say which session: this registration has no place in the one "
                          "under way."), "session_id")


async def check_in(db: AsyncSession, event: Event, registration_id: int, *,
                   session_id: int | None = None, present: bool, now: datetime
                   ) -> Registration:
    """Record (or take back) a registrant's arrival at one session's door (`session_id`;
    without it, the session under way). A second check-in keeps the first time; taking back
    without a session takes back every one."""
    registration = await db.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        raise NotFoundError(_("No such registration for this event."), "registration_id")
    enrolments = list(await db.scalars(
        select(Enrolment).where(Enrolment.registration_id == registration.id)))
    if not present and session_id is None:
        for enrolment in enrolments:
            enrolment.checked_in_at = None
    else:
        enrolment = _arrival_session(event, enrolments, session_id, now)
        if present and (registration.status not in ATTENDEE_STATUSES
                        or enrolment.status == EnrolmentStatus.CANCELLED):
            raise ConflictError(_("This registration is cancelled or declined: nobody to "
                                  "check in."), "registration_id")
        if present and enrolment.checked_in_at is None:
            enrolment.checked_in_at = enrolment.updated_at = now
        elif not present:
            enrolment.checked_in_at = None
    arrivals = [e.checked_in_at for e in enrolments if e.checked_in_at is not None]
    registration.checked_in_at = min(arrivals) if arrivals else None
    registration.updated_at = now
    await db.flush()
    return registration


async def _found(db: AsyncSession, search: str) -> ColumnElement[bool]:
    """Those whose name, email or organisation holds `search` (a refused one names "q");
    everyone without one."""
    term = clean_search(search)
    return await search_condition(db, term) if term else true()


async def attendance_list(db: AsyncSession, event_id: int, *, search: str = ""
                          ) -> list[Registration]:
    """Everyone who registered (but unconfirmed addresses), by name; with `search`, those
    whose name, email or organisation holds it (a refused search names "q")."""
    query = (select(Registration)
             .where(Registration.event_id == event_id,
                    Registration.status != RegistrationStatus.UNCONFIRMED)
             .order_by(Registration.name, Registration.id))
    return list(await db.scalars(query.where(await _found(db, search))))


async def door_list(db: AsyncSession, session_id: int, *, search: str = "") -> list[Arrival]:
    """Everyone with a place in the session (or who had one), by name, and when they came;
    with `search`, those whose name, email or organisation holds it."""
    query = (select(Registration, Enrolment)
             .join(Enrolment, Enrolment.registration_id == Registration.id)
             .where(Enrolment.session_id == session_id,
                    Registration.status != RegistrationStatus.UNCONFIRMED)
             .order_by(Registration.name, Registration.id))
    query = query.where(await _found(db, search))
    return [Arrival(registration, enrolment.checked_in_at,
                    registration.status in ATTENDEE_STATUSES
                    and enrolment.status != EnrolmentStatus.CANCELLED)
            for registration, enrolment in (await db.execute(query)).all()]


def _certified(enrolment: Enrolment, now: datetime) -> bool:
    """Whether a certificate of attendance names this place: they were checked in at its
    door, and the session (not cancelled) is over."""
    return (enrolment.checked_in_at is not None and enrolment.session.ends_at <= now
            and enrolment.session.status != SessionStatus.CANCELLED)


def attended_sessions(registration: Registration, now: datetime) -> list[Session]:
    """The sessions the registrant's certificate of attendance names, earliest first (its
    enrolments and their sessions loaded)."""
    return sorted((e.session for e in registration.enrolments if _certified(e, now)),
                  key=lambda s: (s.starts_at, s.id))


async def with_a_certificate(db: AsyncSession, registration_ids: Collection[int],
                             now: datetime) -> set[int]:
    """Which of these registrations have a certificate of attendance (only their places
    with a check-in are read)."""
    if not registration_ids:
        return set()
    checked_in = await db.scalars(
        select(Enrolment).options(selectinload(Enrolment.session))
        .where(Enrolment.registration_id.in_(list(registration_ids)),
               Enrolment.checked_in_at.is_not(None)))
    return {e.registration_id for e in checked_in if _certified(e, now)}


async def people_with_a_place(db: AsyncSession, session_id: int) -> list[Registration]:
    """Everyone holding a place in the session (a confirmed registration, its place there
    confirmed), by name: whom the door's printed attendance sheet and badges are for."""
    query = (select(Registration)
             .join(Enrolment, Enrolment.registration_id == Registration.id)
             .where(Enrolment.session_id == session_id,
                    Enrolment.status == EnrolmentStatus.CONFIRMED,
                    Registration.status == RegistrationStatus.CONFIRMED)
             .order_by(Registration.name, Registration.id))
    return list(await db.scalars(query))


async def attendance_counts(db: AsyncSession, event_id: int) -> tuple[int, int]:
    """How many came (to any session: checked in, not taken back), of how many on the list."""
    checked_in, listed = (await db.execute(
        select(func.count(Registration.checked_in_at), func.count())
        .where(Registration.event_id == event_id,
               Registration.status != RegistrationStatus.UNCONFIRMED))).one()
    return int(checked_in), int(listed)


async def door_counts(db: AsyncSession, session_id: int) -> tuple[int, int]:
    """How many came to the session, of how many on its list."""
    checked_in, listed = (await db.execute(
        select(func.count(Enrolment.checked_in_at), func.count())
        .join(Registration, Registration.id == Enrolment.registration_id)
        .where(Enrolment.session_id == session_id,
               Registration.status != RegistrationStatus.UNCONFIRMED))).one()
    return int(checked_in), int(listed)

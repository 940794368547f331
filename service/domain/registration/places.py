"""Places: who holds one at the event and in each session, who waits, and who moves up.

Places are never overbooked: every caller has locked the event's row first
(`loading.lock_event`; SQLite's single pooled connection runs a transaction alone), so the
counts read here stay true until the commit. Waiting lists keep arrival order: the event's
by `waiting_since` (made strictly increasing under the lock), a session's by the time an
enrolment joined it. Whoever someone else's change moved up hears of it in one email per
registrant (`follow_up`); the person making the change gets their own email from the caller.

Invariant: an enrolment is confirmed only while its registration is confirmed and the
session had a place for it; otherwise it waits (or is cancelled when the person left).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    Enrolment,
    EnrolmentStatus,
    Event,
    Registration,
    RegistrationStatus,
    Session,
)
from service.domain import signals
from service.domain.emails import registration as emails
from service.domain.programme.checks import one_more_place
from service.settings import Settings

from .links import registrant_links
from .loading import load_registrations, lock_event
from .rules import scheduled_sessions

_TICK = timedelta(microseconds=1)


@dataclass
class Changes:
    """What one operation did, so that emails and hooks follow once per registrant."""

    # Registrations promoted off the event's waiting list, by id.
    promoted: set[int] = field(default_factory=set)
    # Newly confirmed sessions per registration id (new places in sessions).
    confirmed: dict[int, list[Session]] = field(default_factory=dict)
    registrations: dict[int, Registration] = field(default_factory=dict)

    def note_confirmed(self, registration: Registration, session: Session) -> None:
        self.registrations[registration.id] = registration
        self.confirmed.setdefault(registration.id, []).append(session)


async def _confirmed_count(db: AsyncSession, event_id: int) -> int:
    return await db.scalar(
        select(func.count(Registration.id)).where(
            Registration.event_id == event_id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    ) or 0


async def session_counts(db: AsyncSession, sessions: Collection[Session]) -> dict[int, int]:
    """Confirmed places taken in each limited session."""
    limited = [s.id for s in sessions if s.capacity is not None]
    if not limited:
        return {}
    rows = await db.execute(
        select(Enrolment.session_id, func.count(Enrolment.id))
        .where(Enrolment.session_id.in_(limited), Enrolment.status == EnrolmentStatus.CONFIRMED)
        .group_by(Enrolment.session_id)
    )
    counts = dict.fromkeys(limited, 0)
    counts.update({session_id: count for session_id, count in rows})
    return counts


class Places:
    """The places of one event while registrations take them, one after another.

    The counts are read once, when the tracker is made (and only where places are
    limited), then kept in memory: the event's row is locked, so nobody else takes a place
    meanwhile, and a batch of registrations is decided in arrival order without asking the
    database again for each. Make it before anything in the transaction takes a place.
    """

    def __init__(self, event: Event, now: datetime) -> None:
        self.event = event
        self.now = now
        self.confirmed = 0
        self.waiting = 0
        self.last_waiting_since: datetime | None = None
        self.session_counts: dict[int, int] = {}

    @classmethod
    async def count(cls, db: AsyncSession, event: Event, now: datetime) -> Places:
        places = cls(event, now)
        if event.capacity is not None:
            places.confirmed = await _confirmed_count(db, event.id)
            row = (await db.execute(
                select(func.count(Registration.id), func.max(Registration.waiting_since)).where(
                    Registration.event_id == event.id,
                    Registration.status == RegistrationStatus.WAITING,
                )
            )).one()
            places.waiting, places.last_waiting_since = row[0] or 0, row[1]
        places.session_counts = await session_counts(db, scheduled_sessions(event))
        return places

    def event_place(self) -> tuple[RegistrationStatus, datetime | None, int | None]:
        """A place at the event, or the end of its waiting list: status, the `waiting_since`
        that queues it (strictly after the last one: arrival order survives equal clocks)
        and the 1-based position in the queue."""
        capacity = self.event.capacity
        if capacity is not None and self.confirmed >= capacity:
            since = self.now
            if self.last_waiting_since is not None:
                since = max(self.now, self.last_waiting_since + _TICK)
            self.last_waiting_since = since
            self.waiting += 1
            return RegistrationStatus.WAITING, since, self.waiting
        self.confirmed += 1
        return RegistrationStatus.CONFIRMED, None, None

    def session_places(self, sessions: Sequence[Session]) -> list[Session]:
        return _take_places(sessions, self.session_counts)

    def full(self, sessions: Sequence[Session]) -> list[Event | Session]:
        """Which of the event and `sessions` have no place left (the event first)."""
        full: list[Event | Session] = []
        if self.event.capacity is not None and self.confirmed >= self.event.capacity:
            full.append(self.event)
        full += [s for s in sorted(sessions, key=lambda s: (s.starts_at, s.id))
                 if s.capacity is not None and self.session_counts.get(s.id, 0) >= s.capacity]
        return full

    def make_room(self, sessions: Sequence[Session]) -> list[Event | Session]:
        """One more place where the event or one of `sessions` is full, so that one more
        person gets a place there ahead of anyone waiting (as an organiser promoting someone
        can); what was raised."""
        raised = self.full(sessions)
        for target in raised:
            taken = (self.confirmed if isinstance(target, Event)
                     else self.session_counts.get(target.id, 0))
            target.capacity = one_more_place(taken, "add_places")
            target.updated_at = self.now
        return raised


def _take_places(sessions: Sequence[Session], counts: dict[int, int]) -> list[Session]:
    """The sessions, earliest first, that still have a place; each place taken is counted."""
    taken = []
    for session in sorted(sessions, key=lambda s: (s.starts_at, s.id)):
        if session.capacity is not None:
            if counts.get(session.id, 0) >= session.capacity:
                continue
            counts[session.id] = counts.get(session.id, 0) + 1
        taken.append(session)
    return taken


def enrolments_for(registration: Registration, sessions: Sequence[Session], now: datetime
                   ) -> None:
    """Bring the registration's enrolments to exactly `sessions` (new ones wait for a place)."""
    wanted = {s.id: s for s in sessions}
    for enrolment in registration.enrolments:
        if enrolment.session_id in wanted and enrolment.status == EnrolmentStatus.CANCELLED:
            enrolment.status = EnrolmentStatus.WAITING
            # A new invite must outrank the CANCEL they had (see Enrolment.invite_sequence).
            enrolment.invite_sequence = (enrolment.invite_sequence or 0) + 1
            enrolment.updated_at = now
        wanted.pop(enrolment.session_id, None)
    for session in wanted.values():
        registration.enrolments.append(
            Enrolment(session=session, session_id=session.id, status=EnrolmentStatus.WAITING,
                      created_at=now, updated_at=now)
        )


async def admit(db: AsyncSession, event: Event, registration: Registration, *,
                now: datetime) -> RegistrationStatus:
    """Give a registration entering the event a place, or a place on the waiting list."""
    places = await Places.count(db, event, now)
    registration.status, registration.waiting_since, _ = places.event_place()
    registration.updated_at = now
    return registration.status


async def _decide_enrolments(db: AsyncSession, registration: Registration, *, now: datetime
                             ) -> list[Session]:
    """A confirmed registration's waiting enrolments take the session places still free;
    returns the sessions newly confirmed (nothing is flushed)."""
    if registration.status != RegistrationStatus.CONFIRMED:
        return []
    waiting = [e for e in registration.enrolments if e.status == EnrolmentStatus.WAITING]
    if not waiting:
        return []
    sessions = [e.session for e in waiting]
    newly = _take_places(sessions, await session_counts(db, sessions))
    placed = {s.id for s in newly}
    for enrolment in waiting:
        # Confirmed, or joins the session's waiting list now (its place in the queue).
        if enrolment.session_id in placed:
            enrolment.status = EnrolmentStatus.CONFIRMED
        enrolment.updated_at = now
    return newly


async def place_enrolments(
    db: AsyncSession, registration: Registration, changes: Changes, *, now: datetime
) -> None:
    for session in await _decide_enrolments(db, registration, now=now):
        changes.note_confirmed(registration, session)
    await db.flush()


async def end_registration(
    db: AsyncSession, event: Event, registration: Registration, status: RegistrationStatus, *,
    now: datetime, settings: Settings,
) -> list[Session]:
    """Cancelled or declined: the enrolments end and any places held go to people waiting."""
    was_confirmed = registration.status == RegistrationStatus.CONFIRMED
    registration.status = status
    registration.waiting_since = None
    registration.updated_at = now
    ended = await end_enrolments(db, registration, now=now, settings=settings)
    changes = Changes()
    if was_confirmed:
        await fill_places(db, event, changes, now=now)
    await follow_up(db, event, changes, now=now, settings=settings)
    return ended


async def end_enrolments(
    db: AsyncSession, registration: Registration, *, now: datetime, settings: Settings,
    sessions: Collection[int] | None = None,
) -> list[Session]:
    """Cancel enrolments (all, or those in `sessions`); return the sessions that were confirmed."""
    ended = []
    for enrolment in registration.enrolments:
        if sessions is not None and enrolment.session_id not in sessions:
            continue
        if enrolment.status == EnrolmentStatus.CANCELLED:
            continue
        if enrolment.status == EnrolmentStatus.CONFIRMED:
            ended.append(enrolment.session)
        enrolment.status = EnrolmentStatus.CANCELLED
        # Their CANCEL must outrank the REQUEST they had (see Enrolment.invite_sequence).
        enrolment.invite_sequence = (enrolment.invite_sequence or 0) + 1
        enrolment.updated_at = now
    await db.flush()
    for session in ended:
        await signals.announce(db, signals.EnrolmentEnded(registration, session), now=now,
                               settings=settings)
    return sorted(ended, key=lambda s: (s.starts_at, s.id))


async def fill_places(db: AsyncSession, event: Event, changes: Changes, *,
                      now: datetime) -> None:
    """Free places go to the first people waiting: first those who already have a place at
    the event and wait for a session, then the event's waiting list."""
    limited = [s for s in scheduled_sessions(event) if s.capacity is not None]
    counts = await session_counts(db, limited)
    for session in limited:
        assert session.capacity is not None
        free = session.capacity - counts[session.id]
        if free <= 0:
            continue
        waiting_ids = list(
            await db.scalars(
                select(Enrolment.registration_id)
                .join(Registration, Registration.id == Enrolment.registration_id)
                .where(Enrolment.session_id == session.id,
                       Enrolment.status == EnrolmentStatus.WAITING,
                       Registration.status == RegistrationStatus.CONFIRMED)
                .order_by(Enrolment.updated_at, Enrolment.id)
                .limit(free)
            )
        )
        for registration in await load_registrations(db, event, waiting_ids):
            for enrolment in registration.enrolments:
                if enrolment.session_id == session.id:
                    enrolment.status = EnrolmentStatus.CONFIRMED
                    enrolment.updated_at = now
                    changes.note_confirmed(registration, session)
        await db.flush()
    if event.capacity is None:
        return
    free = event.capacity - await _confirmed_count(db, event.id)
    if free <= 0:
        return
    ids = list(
        await db.scalars(
            select(Registration.id)
            .where(Registration.event_id == event.id,
                   Registration.status == RegistrationStatus.WAITING)
            .order_by(Registration.waiting_since, Registration.id)
            .limit(free)
        )
    )
    for registration in await load_registrations(db, event, ids):
        registration.status = RegistrationStatus.CONFIRMED
        registration.waiting_since = None
        registration.updated_at = now
        changes.promoted.add(registration.id)
        changes.registrations[registration.id] = registration
        await db.flush()
        await place_enrolments(db, registration, changes, now=now)


async def follow_up(
    db: AsyncSession, event: Event, changes: Changes, *, now: datetime, settings: Settings,
    skip_email_for: int | None = None,
) -> None:
    """Hooks for every new place, and one email to each registrant someone else's change moved."""
    for registration_id, sessions in changes.confirmed.items():
        registration = changes.registrations[registration_id]
        for session in sessions:
            await signals.announce(db, signals.EnrolmentConfirmed(registration, session),
                                   now=now, settings=settings)
    for registration_id, registration in changes.registrations.items():
        if registration_id == skip_email_for:
            continue
        newly = changes.confirmed.get(registration_id, [])
        if registration_id not in changes.promoted and not newly:
            continue
        await emails.send_promoted(
            db, registration, event, newly,
            from_event_waiting_list=registration_id in changes.promoted,
            links=await registrant_links(db, registration, now=now, settings=settings),
            now=now, settings=settings,
        )


async def promote_waiting(db: AsyncSession, event_id: int, *, now: datetime,
                          settings: Settings) -> None:
    """Give free places to the people waiting (e.g. after an organiser added places)."""
    event = await lock_event(db, event_id=event_id)
    changes = Changes()
    await fill_places(db, event, changes, now=now)
    await follow_up(db, event, changes, now=now, settings=settings)

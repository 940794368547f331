"""Registrations: who takes part in which sessions, places, waiting lists and approval.

Plain async functions over a database session and an explicit `now`; they `flush()` but never
commit, and know nothing of HTTP. Every change that a registrant must hear of queues its
email (through `service.domain.registration_emails`) in the same transaction. New
registrations, the hot path, come in batches (`register_participants`) and only record
their first email, with what it must say; `compose_welcome_emails` (a scheduled job)
composes it after the commit.

Places are never overbooked. Every function that can take or free a place first locks the
event's row (`SELECT ... FOR NO KEY UPDATE` on PostgreSQL), so the capacity checks of one
event run one after another; SQLite's engine has a single pooled connection, so there a
request's whole transaction already runs alone. Waiting lists keep arrival order: the event's
by `waiting_since` (made strictly increasing under the lock), a session's by the time an
enrolment joined it.

Invariant: an enrolment is confirmed only while its registration is confirmed and the
session had a place for it; otherwise it waits (or is cancelled when the person left).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from notifications.outbox import (
    EmailToCompose,
    claim_emails_to_compose,
    enqueue_emails_to_compose,
    list_emails_for_registration,
)
from service.db.engine import table_of
from service.db.models import (
    AccessPurpose,
    AgendaItem,
    AgendaItemSpeaker,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
    EventStatus,
    OrganisationKind,
    OutboxEmail,
    OutboxStatus,
    Person,
    Registration,
    RegistrationStatus,
    Session,
    SessionMode,
    SessionStatus,
)
from service.domain import access, follow_ups
from service.domain import registration_emails as emails
from service.domain.errors import ConflictError, DomainError, InvalidInputError, NotFoundError
from service.settings import Settings

__all__ = [
    "RegistrationForm",
    "RegistrationOutcome",
    "approve_registration",
    "cancel_registration",
    "change_session_choices",
    "compose_welcome_emails",
    "decline_registration",
    "enrol_in_new_session",
    "find_registration_by_token",
    "get_registration",
    "list_registration_emails",
    "list_registrations",
    "manage_url",
    "promote_waiting",
    "register_participant",
    "register_participants",
    "registrant_calendar",
    "registrant_links",
    "registration_feed_url",
    "waiting_order",
    "waiting_position",
]

# Statuses that hold or wait for a place; the others have left.
ACTIVE_STATUSES = (
    RegistrationStatus.PENDING,
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.WAITING,
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_TICK = timedelta(microseconds=1)
MAX_LINE = 200
MAX_NOTE = 2_000


@dataclass(frozen=True)
class RegistrationForm:
    """What a person fills in to register; `session_ids` None means the whole event."""

    name: str
    email: str
    consent: bool
    organisation_name: str = ""
    organisation_kind: OrganisationKind | None = None
    country: str | None = None
    job_title: str | None = None
    access_note: str | None = None
    company: str | None = None
    sector: str | None = None
    offer_note: str | None = None
    session_ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class RegistrationOutcome:
    registration: Registration
    is_new: bool
    # Only for a new registration: a repeat must not hand out a token to whoever knows the
    # email address (the registrant has it in their confirmation email).
    manage_token: str | None
    waiting_position: int | None  # 1-based place on the event's waiting list, if waiting


def manage_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url}/registrations/{token}"


def registration_feed_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url}/feeds/registrations/{token}.ics"


# --- input ---------------------------------------------------------------------------------


def _has_control(text: str, allowed: str = "") -> bool:
    return any(
        (unicodedata.category(ch) in {"Cc", "Zl", "Zp"} and ch not in allowed) for ch in text
    )


def _line(value: str | None, field_name: str, *, required: bool = False) -> str | None:
    """One line of text: stripped, no control or line-break characters (header safety)."""
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidInputError("Must not be empty.", field_name)
        return None
    if _has_control(text):
        raise InvalidInputError("Must be a single line without control characters.", field_name)
    if len(text) > MAX_LINE:
        raise InvalidInputError(f"At most {MAX_LINE} characters.", field_name)
    return " ".join(text.split())


def _note(value: str | None, field_name: str, *, required: bool = False) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidInputError("Must not be empty.", field_name)
        return None
    if _has_control(text, allowed="\n\t\r"):
        raise InvalidInputError("Must not contain control characters.", field_name)
    if len(text) > MAX_NOTE:
        raise InvalidInputError(f"At most {MAX_NOTE} characters.", field_name)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def normalise_email(value: str) -> str:
    return value.strip().lower()


def _email(value: str) -> str:
    text = value.strip()
    if len(text) > 320 or _has_control(text) or not _EMAIL.match(text):
        raise InvalidInputError("Give one email address, e.g. name@example.org.", "email")
    return text


@dataclass(frozen=True)
class _CleanForm:
    name: str
    email: str
    organisation_name: str
    organisation_kind: OrganisationKind | None
    country: str | None
    job_title: str | None
    access_note: str | None
    company: str | None
    sector: str | None
    offer_note: str | None
    session_ids: tuple[int, ...] | None


def _clean_form(form: RegistrationForm) -> _CleanForm:
    """Rules that need no database: run before the event is locked."""
    if form.consent is not True:
        raise InvalidInputError(
            "Please agree to the processing of your data for this event.", "consent"
        )
    country = (form.country or "").strip().upper() or None
    if country is not None and not _COUNTRY.match(country):
        raise InvalidInputError("Use a two-letter ISO 3166 country code, e.g. 'BE'.", "country")
    session_ids = None
    if form.session_ids is not None:
        session_ids = tuple(dict.fromkeys(form.session_ids))
        if not session_ids:
            raise InvalidInputError("Choose at least one session.", "session_ids")
    name = _line(form.name, "name", required=True)
    assert name is not None
    return _CleanForm(
        name=name,
        email=_email(form.email),
        organisation_name=_line(form.organisation_name, "organisation_name") or "",
        organisation_kind=form.organisation_kind,
        country=country,
        job_title=_line(form.job_title, "job_title"),
        access_note=_note(form.access_note, "access_note"),
        company=_line(form.company, "company"),
        sector=_line(form.sector, "sector"),
        offer_note=_note(form.offer_note, "offer_note"),
        session_ids=session_ids,
    )


def _check_form_for_event(form: _CleanForm, event: Event) -> None:
    if event.kind == EventKind.MEET_YOUR_BUYER:
        for name in ("company", "sector", "offer_note"):
            if not getattr(form, name):
                raise InvalidInputError(
                    "Suppliers registering for a Meet-your-Buyer dialogue tell us this.", name
                )
    else:
        for name in ("company", "sector", "offer_note"):
            if getattr(form, name):
                raise InvalidInputError("Only asked for Meet-your-Buyer dialogues.", name)
    if form.access_note and not any(s.mode != SessionMode.ONLINE for s in event.sessions):
        raise InvalidInputError(
            "Accessibility and dietary notes are for events held in person.", "access_note"
        )


# --- loading and locking -------------------------------------------------------------------


def _event_tree() -> list[Any]:
    """What invites and email bodies need: sessions, agenda items, speakers."""
    return [
        selectinload(Event.sessions)
        .selectinload(Session.agenda_items)
        .selectinload(AgendaItem.speakers)
        .options(
            selectinload(AgendaItemSpeaker.person).selectinload(Person.organisation),
            selectinload(AgendaItemSpeaker.organisation),
        ),
    ]


def _link_sessions(event: Event) -> Event:
    for session in event.sessions:
        set_committed_value(session, "event", event)
    return event


async def _lock_event(db: AsyncSession, *, event_id: int) -> Event:
    """The event, its row locked until commit on PostgreSQL: capacity checks run one at a time.

    FOR NO KEY UPDATE serialises every writer of registrations for this event without
    blocking inserts elsewhere that merely reference the event (foreign keys).
    """
    query = (select(Event).options(*_event_tree()).where(Event.id == event_id)
             .execution_options(populate_existing=True))
    if db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(key_share=True)
    event = await db.scalar(query)
    if event is None:
        raise NotFoundError(f"No event with id {event_id}.", "event_id")
    return _link_sessions(event)


# Built once (the public form's hot path): a published event with its sessions, in one
# statement, locked like `_lock_event` on PostgreSQL.
_PUBLISHED_EVENT = (
    select(Event)
    .options(joinedload(Event.sessions))
    .where(Event.slug == bindparam("slug"), Event.status != EventStatus.DRAFT)
    .execution_options(populate_existing=True)
)
_PUBLISHED_EVENT_LOCKED = _PUBLISHED_EVENT.with_for_update(key_share=True, of=Event)


async def _lock_published_event(db: AsyncSession, slug: str) -> Event:
    """A published event by slug, with its sessions (not their agenda), locked for places."""
    locked = db.get_bind().dialect.name == "postgresql"
    query = _PUBLISHED_EVENT_LOCKED if locked else _PUBLISHED_EVENT
    event = (await db.scalars(query, {"slug": slug})).unique().first()
    if event is None:
        raise NotFoundError(f"No published event {slug!r}.", "slug")
    return _link_sessions(event)


async def _load_event(db: AsyncSession, event_id: int) -> Event:
    event = await db.scalar(
        select(Event)
        .where(Event.id == event_id)
        .options(*_event_tree())
        .execution_options(populate_existing=True)
    )
    if event is None:
        raise NotFoundError(f"No event with id {event_id}.", "event_id")
    return _link_sessions(event)


async def _load_registration(db: AsyncSession, registration_id: int, event: Event) -> Registration:
    registration = await db.scalar(
        select(Registration)
        .where(Registration.id == registration_id)
        .options(selectinload(Registration.enrolments))
        .execution_options(populate_existing=True)
    )
    if registration is None:
        raise NotFoundError(f"No registration with id {registration_id}.", "registration_id")
    _attach(registration, event)
    return registration


def _attach(registration: Registration, event: Event) -> None:
    """Point the registration and its enrolments at the already loaded event and sessions."""
    set_committed_value(registration, "event", event)
    sessions = {s.id: s for s in event.sessions}
    for enrolment in registration.enrolments:
        set_committed_value(enrolment, "session", sessions[enrolment.session_id])
        set_committed_value(enrolment, "registration", registration)


async def _event_id_of(db: AsyncSession, registration_id: int) -> int:
    event_id = await db.scalar(
        select(Registration.event_id).where(Registration.id == registration_id)
    )
    if event_id is None:
        raise NotFoundError(f"No registration with id {registration_id}.", "registration_id")
    return event_id


async def _lock_for_registration(
    db: AsyncSession, registration_id: int
) -> tuple[Event, Registration]:
    event = await _lock_event(db, event_id=await _event_id_of(db, registration_id))
    return event, await _load_registration(db, registration_id, event)


async def get_registration(db: AsyncSession, registration_id: int) -> Registration:
    """A registration with its event (sessions) and enrolments loaded."""
    event = await _load_event(db, await _event_id_of(db, registration_id))
    return await _load_registration(db, registration_id, event)


async def find_registration_by_token(db: AsyncSession, token: str) -> Registration:
    """The registration a manage link belongs to; unknown and revoked links look the same."""
    found = await access.find_access(db, AccessPurpose.REGISTRATION_MANAGE, token)
    if found is None or found.registration_id is None:
        raise NotFoundError("This link is not valid.", "token")
    return await get_registration(db, found.registration_id)


# --- the rules of the registration window ---------------------------------------------------


def _scheduled(event: Event) -> list[Session]:
    return [s for s in event.sessions if s.status == SessionStatus.SCHEDULED]


def _check_open(event: Event, now: datetime) -> None:
    if event.status == EventStatus.CANCELLED:
        raise ConflictError("This event is cancelled.", "status")
    if event.status != EventStatus.PUBLISHED:
        raise ConflictError("This event is not open for registration.", "status")
    if event.registration_opens_at is not None and now < event.registration_opens_at:
        raise ConflictError("Registration has not opened yet.", "registration_opens_at")
    if event.registration_closes_at is not None and now >= event.registration_closes_at:
        raise ConflictError("Registration is closed.", "registration_closes_at")
    if not any(s.ends_at > now for s in _scheduled(event)):
        raise ConflictError("This event is over: registration is closed.",
                            "registration_closes_at")


def _chosen_sessions(event: Event, session_ids: Sequence[int] | None, now: datetime,
                     ) -> list[Session]:
    """The sessions a registration covers: every coming one, or the valid chosen ones."""
    if session_ids is None:
        return [s for s in _scheduled(event) if s.ends_at > now]
    if not event.allows_session_choice:
        raise InvalidInputError(
            "This event is booked as a whole: leave out session_ids.", "session_ids"
        )
    by_id = {s.id: s for s in event.sessions}
    chosen = []
    for index, session_id in enumerate(session_ids):
        session = by_id.get(session_id)
        if session is None:
            raise InvalidInputError(f"No session {session_id} in this event.",
                                    f"session_ids[{index}]")
        if session.status != SessionStatus.SCHEDULED:
            raise InvalidInputError(f"The session {session.title!r} is cancelled.",
                                    f"session_ids[{index}]")
        if session.ends_at <= now:
            raise InvalidInputError(f"The session {session.title!r} is over.",
                                    f"session_ids[{index}]")
        chosen.append(session)
    if not chosen:
        raise InvalidInputError("Choose at least one session.", "session_ids")
    return sorted(chosen, key=lambda s: (s.starts_at, s.id))


# --- places --------------------------------------------------------------------------------


@dataclass
class _Changes:
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


async def _session_counts(db: AsyncSession, sessions: Collection[Session]) -> dict[int, int]:
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


class _Places:
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
    async def count(cls, db: AsyncSession, event: Event, now: datetime) -> _Places:
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
        places.session_counts = await _session_counts(db, _scheduled(event))
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


async def _admit(db: AsyncSession, event: Event, registration: Registration, *,
                 now: datetime) -> RegistrationStatus:
    """Give a registration entering the event a place, or a place on the waiting list."""
    places = await _Places.count(db, event, now)
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
    newly = _take_places(sessions, await _session_counts(db, sessions))
    placed = {s.id for s in newly}
    for enrolment in waiting:
        # Confirmed, or joins the session's waiting list now (its place in the queue).
        if enrolment.session_id in placed:
            enrolment.status = EnrolmentStatus.CONFIRMED
        enrolment.updated_at = now
    return newly


async def _place_enrolments(
    db: AsyncSession, registration: Registration, changes: _Changes, *, now: datetime
) -> None:
    for session in await _decide_enrolments(db, registration, now=now):
        changes.note_confirmed(registration, session)
    await db.flush()


async def _end_registration(
    db: AsyncSession, event: Event, registration: Registration, status: RegistrationStatus, *,
    now: datetime, settings: Settings,
) -> list[Session]:
    """Cancelled or declined: the enrolments end and any places held go to people waiting."""
    was_confirmed = registration.status == RegistrationStatus.CONFIRMED
    registration.status = status
    registration.waiting_since = None
    registration.updated_at = now
    ended = await _end_enrolments(db, registration, now=now)
    changes = _Changes()
    if was_confirmed:
        await _fill_places(db, event, changes, now=now)
    await _follow_up(db, event, changes, now=now, settings=settings)
    return ended


async def _end_enrolments(
    db: AsyncSession, registration: Registration, *, now: datetime,
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
        await follow_ups.after_enrolment_ended(db, registration, session, now=now)
    return sorted(ended, key=lambda s: (s.starts_at, s.id))


async def _load_registrations(db: AsyncSession, event: Event, ids: Sequence[int]
                              ) -> list[Registration]:
    if not ids:
        return []
    rows = list(
        await db.scalars(
            select(Registration)
            .where(Registration.id.in_(ids))
            .options(selectinload(Registration.enrolments))
        )
    )
    for registration in rows:
        _attach(registration, event)
    order = {registration_id: index for index, registration_id in enumerate(ids)}
    return sorted(rows, key=lambda r: order[r.id])


async def _fill_places(db: AsyncSession, event: Event, changes: _Changes, *,
                       now: datetime) -> None:
    """Free places go to the first people waiting: first those who already have a place at
    the event and wait for a session, then the event's waiting list."""
    limited = [s for s in _scheduled(event) if s.capacity is not None]
    counts = await _session_counts(db, limited)
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
        for registration in await _load_registrations(db, event, waiting_ids):
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
    for registration in await _load_registrations(db, event, ids):
        registration.status = RegistrationStatus.CONFIRMED
        registration.waiting_since = None
        registration.updated_at = now
        changes.promoted.add(registration.id)
        changes.registrations[registration.id] = registration
        await db.flush()
        await _place_enrolments(db, registration, changes, now=now)


async def _follow_up(
    db: AsyncSession, event: Event, changes: _Changes, *, now: datetime, settings: Settings,
    skip_email_for: int | None = None,
) -> None:
    """Hooks for every new place, and one email to each registrant someone else's change moved."""
    for registration_id, sessions in changes.confirmed.items():
        registration = changes.registrations[registration_id]
        for session in sessions:
            await follow_ups.after_enrolment_confirmed(db, registration, session, now=now)
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
    event = await _lock_event(db, event_id=event_id)
    changes = _Changes()
    await _fill_places(db, event, changes, now=now)
    await _follow_up(db, event, changes, now=now, settings=settings)


# --- links ---------------------------------------------------------------------------------


async def registrant_links(
    db: AsyncSession, registration: Registration, *, now: datetime, settings: Settings,
    manage_token: str | None = None, feed_token: str | None = None,
) -> emails.RegistrantLinks:
    """The registrant's private links (manage page, personal feed), issued on first use."""
    if manage_token is None:
        manage_token = await access.current_access_token(
            db, AccessPurpose.REGISTRATION_MANAGE, secret_key=settings.secret_key, now=now,
            registration_id=registration.id,
        )
    if feed_token is None:
        feed_token = await access.current_access_token(
            db, AccessPurpose.REGISTRATION_FEED, secret_key=settings.secret_key, now=now,
            registration_id=registration.id,
        )
    return emails.RegistrantLinks(
        manage_url=manage_url(settings, manage_token),
        feed_url=registration_feed_url(settings, feed_token),
    )


# --- registering ---------------------------------------------------------------------------

# A new registration's first email: which one follows from where it stands.
WELCOME_TEMPLATES: dict[RegistrationStatus, str] = {
    RegistrationStatus.CONFIRMED: "registration_confirmed_to_registrant",
    RegistrationStatus.WAITING: "registration_waiting_to_registrant",
    RegistrationStatus.PENDING: "registration_pending_to_registrant",
}
NOTE_NO_LONGER_HOLDS = "the registration no longer exists"


def _enrolments_for(registration: Registration, sessions: Sequence[Session], now: datetime
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


def _form_values(form: _CleanForm, now: datetime) -> dict[str, Any]:
    """The registration's columns that the form sets."""
    return {
        "name": form.name, "email": form.email, "organisation_name": form.organisation_name,
        "organisation_kind": form.organisation_kind, "country": form.country,
        "job_title": form.job_title, "access_note": form.access_note, "company": form.company,
        "sector": form.sector, "offer_note": form.offer_note,
        "is_whole_event": form.session_ids is None, "consent_at": now, "updated_at": now,
    }


async def _existing_registrations(db: AsyncSession, event: Event, email_keys: Collection[str]
                                  ) -> dict[str, Registration]:
    """The event's registrations (any status) under these addresses, by normalised address."""
    rows = await db.scalars(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.email_normalised.in_(email_keys))
        .options(selectinload(Registration.enrolments))
    )
    found = {}
    for registration in rows:
        _attach(registration, event)
        found[registration.email_normalised] = registration
    return found


async def _repeat(db: AsyncSession, registration: Registration) -> RegistrationOutcome:
    return RegistrationOutcome(
        registration=registration, is_new=False, manage_token=None,
        waiting_position=await waiting_position(db, registration),
    )


def _as_written(registration_id: int, event: Event, values: dict[str, Any],
                enrolments: Sequence[tuple[Session, EnrolmentStatus]],
                invite_sequences: Mapping[int, int] | None = None) -> Registration:
    """The registration just INSERTed, as an object for the caller to read (not tracked by
    the database session: nothing about it is written twice)."""
    registration = Registration(id=registration_id, **values)
    set_committed_value(registration, "event", event)
    rows = []
    for session, status in enrolments:
        enrolment = Enrolment(registration_id=registration_id, session_id=session.id,
                              status=status, created_at=values["created_at"],
                              updated_at=values["created_at"],
                              invite_sequence=(invite_sequences or {}).get(session.id, 0))
        set_committed_value(enrolment, "session", session)
        set_committed_value(enrolment, "registration", registration)
        rows.append(enrolment)
    set_committed_value(registration, "enrolments", rows)
    return registration


def _welcome_email(registration_id: int, event_id: int, status: RegistrationStatus,
                   to_address: str, enrolments: Sequence[tuple[Session, EnrolmentStatus]],
                   position: int | None,
                   invite_sequences: Mapping[int, int] | None = None) -> EmailToCompose:
    """The first email, recorded with what it must say: where the registration stood when it
    was decided (what changes later has emails of its own), including each invite's
    SEQUENCE then: a CANCEL sent meanwhile must still outrank this email's invite."""
    sequences = invite_sequences or {}
    return EmailToCompose(
        template=WELCOME_TEMPLATES[status], to_address=to_address, event_id=event_id,
        registration_id=registration_id,
        details={"status": str(status), "position": position,
                 "enrolments": [[session.id, str(state), sequences.get(session.id, 0)]
                                for session, state in enrolments]},
    )


@dataclass
class _NewRegistration:
    """A registration decided in memory, waiting for the batch's INSERTs."""

    index: int
    event: Event
    values: dict[str, Any]
    enrolments: list[tuple[Session, EnrolmentStatus]]
    confirmed: list[Session]
    position: int | None


async def register_participant(
    db: AsyncSession, event_slug: str, form: RegistrationForm, *, now: datetime,
    settings: Settings,
) -> RegistrationOutcome:
    """Register one person for a published event (see `register_participants`)."""
    [result] = await register_participants(db, [(event_slug, form)], now=now, settings=settings)
    if isinstance(result, DomainError):
        raise result
    return result


async def register_participants(
    db: AsyncSession, entries: Sequence[tuple[str, RegistrationForm]], *, now: datetime,
    settings: Settings,
) -> list[RegistrationOutcome | DomainError]:
    """Register people for published events, in the order given; each one's outcome, or the
    rule it broke. A repeat (same address, same event) returns the existing registration.

    The public form's hot path, for one person or for the batch of those who submitted at
    the same moment (`service.web.registration_desk`): per event, the event (locked) with
    its sessions, the places already taken (where limited) and the addresses already
    registered are read once; places are decided in memory in arrival order; then one
    INSERT per table writes the whole batch: registrations, enrolments, private links,
    reminders and first emails. Those emails are recorded to be composed after the commit
    (`compose_welcome_emails`): rendering them and building their invites would cost more
    than all the rest together.
    """
    results: list[RegistrationOutcome | DomainError | None] = [None] * len(entries)
    forms: dict[int, _CleanForm] = {}
    for index, (_, entry) in enumerate(entries):
        try:
            forms[index] = _clean_form(entry)
        except DomainError as error:
            results[index] = error
    new: list[_NewRegistration] = []
    twins: dict[int, int] = {}  # a second request for the same address: index -> the first
    # Events are locked in one order, so two batches never wait for each other in a circle.
    for slug in sorted({entries[index][0] for index in forms}):
        indexes = [index for index in forms if entries[index][0] == slug]
        try:
            event = await _lock_published_event(db, slug)
        except NotFoundError as error:
            for index in indexes:
                results[index] = error
            continue
        keys = {index: normalise_email(forms[index].email) for index in indexes}
        existing = await _existing_registrations(db, event, set(keys.values()))
        places = await _Places.count(db, event, now)
        first_of: dict[str, int] = {}
        for index in indexes:
            clean, key = forms[index], keys[index]
            if key in first_of:
                twins[index] = first_of[key]
                continue
            first_of[key] = index
            found = existing.get(key)
            active = found is not None and found.status != RegistrationStatus.CANCELLED
            try:
                _check_open(event, now)
                _check_form_for_event(clean, event)
                sessions = _chosen_sessions(event, clean.session_ids, now)
            except DomainError as error:
                # Someone registered already gets that answer, even once registration closed.
                results[index] = await _repeat(db, found) if found and active else error
                continue
            if found is not None:
                results[index] = (
                    await _repeat(db, found) if active else await _register_again(
                        db, event, found, clean, sessions, places, now=now, settings=settings)
                )
                continue
            new.append(_decide_new(index, event, clean, key, sessions, places, now))
    if new:
        for item, outcome in zip(new, await _write_new(db, new, now=now, settings=settings),
                                 strict=True):
            results[item.index] = outcome
    for index, first in twins.items():
        earlier = results[first]
        assert earlier is not None
        if isinstance(earlier, DomainError):
            results[index] = earlier
        else:
            results[index] = RegistrationOutcome(
                registration=earlier.registration, is_new=False, manage_token=None,
                waiting_position=earlier.waiting_position,
            )
    decided = [result for result in results if result is not None]
    assert len(decided) == len(entries)
    return decided


def _decide_new(index: int, event: Event, form: _CleanForm, key: str,
                sessions: Sequence[Session], places: _Places, now: datetime) -> _NewRegistration:
    """Where a new registration stands: pending approval, a place, or the waiting list."""
    position: int | None = None
    confirmed: list[Session] = []
    if event.is_approval_required:
        status, waiting_since = RegistrationStatus.PENDING, None
    else:
        status, waiting_since, position = places.event_place()
        if status == RegistrationStatus.CONFIRMED:
            confirmed = places.session_places(sessions)
    placed = {s.id for s in confirmed}
    return _NewRegistration(
        index=index, event=event,
        values={**_form_values(form, now), "event_id": event.id, "email_normalised": key,
                "status": status, "waiting_since": waiting_since, "created_at": now},
        enrolments=[(s, EnrolmentStatus.CONFIRMED if s.id in placed else EnrolmentStatus.WAITING)
                    for s in sessions],
        confirmed=confirmed, position=position,
    )


async def _write_new(db: AsyncSession, new: Sequence[_NewRegistration], *, now: datetime,
                     settings: Settings) -> list[RegistrationOutcome]:
    """One INSERT per table for the whole batch (Core: no objects to track)."""
    registrations = table_of(Registration)
    ids = list(await db.scalars(
        insert(registrations).returning(registrations.c.id, sort_by_parameter_order=True),
        [item.values for item in new],
    ))
    await db.execute(insert(table_of(Enrolment)), [
        {"registration_id": registration_id, "session_id": session.id, "status": status,
         "created_at": now, "updated_at": now}
        for item, registration_id in zip(new, ids, strict=True)
        for session, status in item.enrolments
    ])
    tokens = await access.issue_first_registration_tokens(
        db, ids, (AccessPurpose.REGISTRATION_MANAGE, AccessPurpose.REGISTRATION_FEED),
        secret_key=settings.secret_key, now=now,
    )
    await follow_ups.after_registrations_placed(db, [
        (registration_id, item.event, item.confirmed)
        for item, registration_id in zip(new, ids, strict=True) if item.confirmed
    ], now=now)
    await enqueue_emails_to_compose(db, [
        _welcome_email(registration_id, item.event.id, item.values["status"],
                       item.values["email"], item.enrolments, item.position)
        for item, registration_id in zip(new, ids, strict=True)
    ], settings=settings, now=now)
    return [
        RegistrationOutcome(
            registration=_as_written(registration_id, item.event, item.values, item.enrolments),
            is_new=True, manage_token=manage_token, waiting_position=item.position,
        )
        for item, registration_id, (manage_token, _) in zip(new, ids, tokens, strict=True)
    ]


async def _register_again(
    db: AsyncSession, event: Event, registration: Registration, form: _CleanForm,
    sessions: Sequence[Session], places: _Places, *, now: datetime, settings: Settings,
) -> RegistrationOutcome:
    """Registering again after cancelling: the same row comes back to life. Its token is not
    returned (whoever knows an address must not get a link): it is in the email."""
    for name, value in _form_values(form, now).items():
        setattr(registration, name, value)
    registration.cancelled_at = None
    registration.decided_at = None
    _enrolments_for(registration, sessions, now)
    decided = _decide_new(0, event, form, registration.email_normalised, sessions, places, now)
    registration.status = decided.values["status"]
    registration.waiting_since = decided.values["waiting_since"]
    placed = {s.id for s in decided.confirmed}
    for enrolment in registration.enrolments:
        if enrolment.session_id in placed:
            enrolment.status = EnrolmentStatus.CONFIRMED
    await db.flush()
    changes = _Changes()
    for session in decided.confirmed:
        changes.note_confirmed(registration, session)
    await _follow_up(db, event, changes, now=now, settings=settings,
                     skip_email_for=registration.id)
    kept = [e for e in registration.enrolments if e.status != EnrolmentStatus.CANCELLED]
    await enqueue_emails_to_compose(db, [_welcome_email(
        registration.id, event.id, registration.status, registration.email,
        [(e.session, e.status) for e in kept], decided.position,
        {e.session_id: e.invite_sequence or 0 for e in kept})], settings=settings, now=now)
    return RegistrationOutcome(
        registration=registration, is_new=True, manage_token=None,
        waiting_position=decided.position,
    )


@dataclass(frozen=True)
class ComposeReport:
    claimed: int = 0
    composed: int = 0
    withdrawn: int = 0


async def _registrations_for(db: AsyncSession, rows: Sequence[OutboxEmail]
                             ) -> dict[int, Registration]:
    """The registrations the rows are about, each with its event's sessions and agenda."""
    by_event: dict[int, list[int]] = {}
    for row in rows:
        if row.event_id is not None and row.registration_id is not None:
            by_event.setdefault(row.event_id, []).append(row.registration_id)
    found: dict[int, Registration] = {}
    for event_id, ids in by_event.items():
        event = await _load_event(db, event_id)
        found |= {r.id: r for r in await _load_registrations(db, event, ids)}
    return found


def _as_decided(registration: Registration, details: dict[str, Any]) -> Registration:
    """The registration as it stood when its first email was decided (a copy to read only)."""
    sessions = {s.id: s for s in registration.event.sessions}
    # [session id, state, invite sequence] (rows recorded before the sequence: two items).
    recorded = [(row[0], row[1], row[2] if len(row) > 2 else 0) for row in details["enrolments"]]
    enrolments = [(sessions[session_id], EnrolmentStatus(state))
                  for session_id, state, _ in recorded if session_id in sessions]
    values = {"event_id": registration.event_id, "name": registration.name,
              "email": registration.email, "status": RegistrationStatus(details["status"]),
              "created_at": registration.created_at}
    return _as_written(registration.id, registration.event, values, enrolments,
                       {session_id: sequence for session_id, _, sequence in recorded})


async def compose_welcome_emails(
    db: AsyncSession, *, now: datetime, settings: Settings, batch_size: int = 50
) -> ComposeReport:
    """Compose the first emails that new registrations recorded: the confirmation with its
    invite, the waiting-list email with the position, or "application received".

    Each says what was decided at registration, from the details recorded with it; the
    sessions' times and places are read now, so the invite is current. A change since
    (a cancellation, a promotion) has sent an email of its own, after this one in the
    outbox. Only an email whose registration is gone is withdrawn.
    """
    rows = await claim_emails_to_compose(db, templates=tuple(WELCOME_TEMPLATES.values()),
                                         batch_size=batch_size)
    if not rows:
        return ComposeReport()
    registrations = await _registrations_for(db, rows)
    purposes = (AccessPurpose.REGISTRATION_MANAGE, AccessPurpose.REGISTRATION_FEED)
    tokens = await access.registration_tokens(db, purposes, sorted(registrations),
                                              secret_key=settings.secret_key, now=now)
    composed = 0
    for row in rows:
        registration = registrations.get(row.registration_id or 0)
        if registration is None or row.details is None:
            row.status, row.last_error = OutboxStatus.WITHDRAWN, NOTE_NO_LONGER_HOLDS
            continue
        decided = _as_decided(registration, row.details)
        event = registration.event
        links = emails.RegistrantLinks(
            manage_url=manage_url(settings, tokens[(registration.id, purposes[0])]),
            feed_url=registration_feed_url(settings, tokens[(registration.id, purposes[1])]),
        )
        if decided.status == RegistrationStatus.CONFIRMED:
            await emails.send_confirmation(db, decided, event, links=links, now=now,
                                           settings=settings, into=row)
        elif decided.status == RegistrationStatus.WAITING:
            await emails.send_waiting_list(
                db, decided, event, position=row.details.get("position"), links=links, now=now,
                settings=settings, into=row)
        else:
            await emails.send_pending_approval(db, decided, event, links=links, now=now,
                                               settings=settings, into=row)
        composed += 1
    await db.flush()
    return ComposeReport(claimed=len(rows), composed=composed, withdrawn=len(rows) - composed)


# --- changing, cancelling, deciding -------------------------------------------------------


async def change_session_choices(
    db: AsyncSession, registration_id: int, session_ids: Sequence[int], *, now: datetime,
    settings: Settings,
) -> Registration:
    """Replace the sessions a registration covers (it then no longer follows new sessions)."""
    event, registration = await _lock_for_registration(db, registration_id)
    if registration.status not in ACTIVE_STATUSES:
        raise ConflictError(f"This registration is {registration.status}.", "status")
    _check_open(event, now)
    chosen = _chosen_sessions(event, tuple(dict.fromkeys(session_ids)), now)
    chosen_ids = {s.id for s in chosen}
    before = {e.session_id: e.status for e in registration.enrolments}

    registration.is_whole_event = False
    registration.updated_at = now
    dropped_ids = {sid for sid, status in before.items()
                   if sid not in chosen_ids and status != EnrolmentStatus.CANCELLED}
    dropped = await _end_enrolments(db, registration, now=now, sessions=dropped_ids)
    _enrolments_for(registration, chosen, now)
    await db.flush()

    changes = _Changes()
    await _place_enrolments(db, registration, changes, now=now)
    added = [s for s in chosen if before.get(s.id) in (None, EnrolmentStatus.CANCELLED)]
    if dropped:
        await _fill_places(db, event, changes, now=now)
    await _follow_up(db, event, changes, now=now, settings=settings,
                     skip_email_for=registration.id)
    if dropped or added:
        links = await registrant_links(db, registration, now=now, settings=settings)
        await emails.send_sessions_changed(
            db, registration, event, added=added, dropped=dropped, links=links, now=now,
            settings=settings,
        )
    return registration


async def cancel_registration(
    db: AsyncSession, registration_id: int, *, now: datetime, settings: Settings
) -> Registration:
    """The registrant withdraws; their places go to the first people waiting. Idempotent."""
    event, registration = await _lock_for_registration(db, registration_id)
    if registration.status not in ACTIVE_STATUSES:
        return registration
    registration.cancelled_at = now
    ended = await _end_registration(db, event, registration, RegistrationStatus.CANCELLED,
                                    now=now, settings=settings)
    links = await registrant_links(db, registration, now=now, settings=settings)
    await emails.send_cancellation(db, registration, event, ended, links=links, now=now,
                                   settings=settings)
    return registration


async def approve_registration(
    db: AsyncSession, registration_id: int, *, now: datetime, settings: Settings
) -> Registration:
    """An organiser accepts an application: a place, or the waiting list if the event is full."""
    event, registration = await _lock_for_registration(db, registration_id)
    if registration.status in (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITING):
        return registration
    if registration.status != RegistrationStatus.PENDING:
        raise ConflictError(f"This registration is {registration.status}.", "status")
    if event.status == EventStatus.CANCELLED:
        raise ConflictError("This event is cancelled.", "status")
    registration.decided_at = now
    changes = _Changes()
    admitted = await _admit(db, event, registration, now=now)
    await _place_enrolments(db, registration, changes, now=now)
    await _follow_up(db, event, changes, now=now, settings=settings,
                     skip_email_for=registration.id)
    links = await registrant_links(db, registration, now=now, settings=settings)
    if admitted == RegistrationStatus.WAITING:
        await emails.send_waiting_list(
            db, registration, event, position=await waiting_position(db, registration),
            links=links, now=now, settings=settings, approved=True,
        )
    else:
        await emails.send_approved(db, registration, event, links=links, now=now,
                                   settings=settings)
    return registration


async def decline_registration(
    db: AsyncSession, registration_id: int, *, now: datetime, settings: Settings,
    reason: str | None = None,
) -> Registration:
    """An organiser turns a registration down (any place it held goes to the next person)."""
    event, registration = await _lock_for_registration(db, registration_id)
    if registration.status == RegistrationStatus.DECLINED:
        return registration
    if registration.status not in ACTIVE_STATUSES:
        raise ConflictError(f"This registration is {registration.status}.", "status")
    clean_reason = _note(reason, "reason")
    registration.decided_at = now
    ended = await _end_registration(db, event, registration, RegistrationStatus.DECLINED,
                                    now=now, settings=settings)
    links = await registrant_links(db, registration, now=now, settings=settings)
    await emails.send_declined(db, registration, event, ended, reason=clean_reason, links=links,
                               now=now, settings=settings)
    return registration


async def enrol_in_new_session(
    db: AsyncSession, session: Session, *, now: datetime, settings: Settings
) -> None:
    """Whole-event registrants are enrolled in a session the organiser added; confirmed
    ones get a place (while there are places) and an invite for it."""
    if session.status != SessionStatus.SCHEDULED:
        return
    # Lock first, then look: a registration committed meanwhile is seen here (and one still
    # running cannot see this session yet, so it is enrolled by this transaction).
    if db.get_bind().dialect.name == "postgresql":
        await db.execute(
            select(Event.id).where(Event.id == session.event_id).with_for_update(key_share=True)
        )
    ids = list(
        await db.scalars(
            select(Registration.id)
            .where(Registration.event_id == session.event_id,
                   Registration.is_whole_event.is_(True),
                   Registration.status.in_(ACTIVE_STATUSES))
            .order_by(Registration.id)
        )
    )
    if not ids:
        return
    event = await _load_event(db, session.event_id)
    session = next(s for s in event.sessions if s.id == session.id)
    counts = await _session_counts(db, [session])
    taken = counts.get(session.id, 0)
    changes = _Changes()
    for registration in await _load_registrations(db, event, ids):
        if any(e.session_id == session.id for e in registration.enrolments):
            continue
        has_place = registration.status == RegistrationStatus.CONFIRMED and (
            session.capacity is None or taken < session.capacity
        )
        enrolment = Enrolment(
            session=session, session_id=session.id,
            status=EnrolmentStatus.CONFIRMED if has_place else EnrolmentStatus.WAITING,
            created_at=now, updated_at=now,
        )
        registration.enrolments.append(enrolment)
        if has_place:
            taken += 1
            changes.note_confirmed(registration, session)
    await db.flush()
    for registration_id in changes.confirmed:
        registration = changes.registrations[registration_id]
        await follow_ups.after_enrolment_confirmed(db, registration, session, now=now)
        if session.ends_at > now:
            await emails.send_new_session(
                db, registration, event, session,
                links=await registrant_links(db, registration, now=now, settings=settings),
                now=now, settings=settings,
            )


# --- reading -------------------------------------------------------------------------------


async def waiting_order(db: AsyncSession, event_id: int) -> list[int]:
    """Ids of the registrations on the event's waiting list, first in line first."""
    return list(
        await db.scalars(
            select(Registration.id)
            .where(Registration.event_id == event_id,
                   Registration.status == RegistrationStatus.WAITING)
            .order_by(Registration.waiting_since, Registration.id)
        )
    )


async def waiting_position(db: AsyncSession, registration: Registration) -> int | None:
    """1-based place on the event's waiting list, or None when not waiting."""
    if registration.status != RegistrationStatus.WAITING or registration.waiting_since is None:
        return None
    ahead = await db.scalar(
        select(func.count(Registration.id)).where(
            Registration.event_id == registration.event_id,
            Registration.status == RegistrationStatus.WAITING,
            (Registration.waiting_since < registration.waiting_since)
            | ((Registration.waiting_since == registration.waiting_since)
               & (Registration.id < registration.id)),
        )
    )
    return (ahead or 0) + 1


async def list_registrations(
    db: AsyncSession, event_id: int, *, status: RegistrationStatus | None = None,
    session_id: int | None = None,
) -> list[Registration]:
    """An event's registrations in arrival order, with enrolments and sessions loaded."""
    event = await _load_event(db, event_id)
    query = select(Registration).where(Registration.event_id == event_id)
    if status is not None:
        query = query.where(Registration.status == status)
    if session_id is not None:
        if session_id not in {s.id for s in event.sessions}:
            raise NotFoundError(f"No session {session_id} in this event.", "session_id")
        query = query.where(
            Registration.id.in_(
                select(Enrolment.registration_id).where(
                    Enrolment.session_id == session_id,
                    Enrolment.status != EnrolmentStatus.CANCELLED,
                )
            )
        )
    rows = list(
        await db.scalars(
            query.order_by(Registration.id).options(selectinload(Registration.enrolments))
        )
    )
    for registration in rows:
        _attach(registration, event)
    return rows


async def list_registration_emails(db: AsyncSession, registration_id: int) -> list[OutboxEmail]:
    """The emails sent (or still to be sent) to one registrant, oldest first."""
    await _event_id_of(db, registration_id)
    return list(await list_emails_for_registration(db, registration_id))


async def registrant_calendar(
    db: AsyncSession, registration: Registration, *, now: datetime, settings: Settings,
    session_ids: Collection[int] | None = None,
) -> bytes:
    """The registrant's sessions to download and import: one VEVENT per confirmed session
    still taking place (or per `session_ids`), as a plain calendar (no METHOD).

    Not an iTIP message: the invites went by email, one per session. A cancelled session
    is left out (its CANCEL went by email too).
    """
    event = await _load_event(db, registration.event_id)
    registration = await _load_registration(db, registration.id, event)
    if session_ids is None:
        session_ids = {e.session_id for e in registration.enrolments
                       if e.status == EnrolmentStatus.CONFIRMED}
    sessions = [s for s in event.sessions
                if s.id in session_ids and s.status == SessionStatus.SCHEDULED]
    if not sessions:
        raise ConflictError("There is no confirmed session to put in a calendar yet.", "status")
    return emails.registrant_download(registration, event, sessions, now=now, settings=settings)

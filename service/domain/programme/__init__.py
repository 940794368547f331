"""The events programme: organisations, people, events, sessions and their timed agendas.

Plain async functions over a database session and an explicit `now`. They validate the
organisers' rules (agenda items inside their session, no overlaps, no ambiguous local
times), `flush()` but never commit, and know nothing of HTTP.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.db.models import (
    AgendaItem,
    AgendaItemKind,
    AgendaItemSpeaker,
    Enrolment,
    Event,
    EventKind,
    EventStatus,
    Organisation,
    OrganisationKind,
    Person,
    Registration,
    Session,
    SessionMode,
    SessionStatus,
)
from service.domain import signals
from service.domain.errors import ConflictError, InvalidInputError, NotFoundError
from service.domain.snapshots import snapshot_agenda_item, snapshot_session
from service.domain.times import local_date, parse_instant, zone_for
from service.settings import Settings

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SESSION_LENGTH = timedelta(days=7)


# --- loading -------------------------------------------------------------------------------


def _event_tree_options() -> list[Any]:
    return [
        selectinload(Event.host_organisation),
        selectinload(Event.sessions)
        .selectinload(Session.agenda_items)
        .selectinload(AgendaItem.speakers)
        .options(
            selectinload(AgendaItemSpeaker.person).selectinload(Person.organisation),
            selectinload(AgendaItemSpeaker.organisation),
        ),
    ]


async def get_event(db: AsyncSession, event_id: int) -> Event:
    """The event with its sessions, agenda items and speakers loaded."""
    event = await db.scalar(
        select(Event)
        .where(Event.id == event_id)
        .options(*_event_tree_options())
        .execution_options(populate_existing=True)
    )
    if event is None:
        raise NotFoundError(f"No event with id {event_id}.", "event_id")
    return event


async def get_published_event(db: AsyncSession, slug: str) -> Event:
    event = await db.scalar(
        select(Event)
        .where(Event.slug == slug, Event.status != EventStatus.DRAFT)
        .options(*_event_tree_options())
    )
    if event is None:
        raise NotFoundError(f"No published event {slug!r}.", "slug")
    return event


@dataclass(frozen=True)
class EventFilter:
    kinds: Sequence[EventKind] = ()
    starts_from: datetime | None = None
    starts_until: datetime | None = None
    statuses: Sequence[EventStatus] = (EventStatus.PUBLISHED, EventStatus.CANCELLED)
    search: str | None = None


@dataclass(frozen=True)
class Page:
    events: list[Event]
    total: int
    page: int
    page_size: int


def _event_bounds() -> Any:
    first = (
        select(Session.event_id, func.min(Session.starts_at).label("first_start"),
               func.max(Session.ends_at).label("last_end"))
        .group_by(Session.event_id)
        .subquery()
    )
    return first


async def list_events(
    db: AsyncSession, event_filter: EventFilter, *, page: int = 1, page_size: int = 20
) -> Page:
    """Events in date order (by their first session); events without sessions come last."""
    bounds = _event_bounds()
    query: Select[Any] = select(Event).outerjoin(bounds, bounds.c.event_id == Event.id)
    if event_filter.statuses:
        query = query.where(Event.status.in_(list(event_filter.statuses)))
    if event_filter.kinds:
        query = query.where(Event.kind.in_(list(event_filter.kinds)))
    if event_filter.starts_from is not None:
        query = query.where(bounds.c.last_end >= event_filter.starts_from)
    if event_filter.starts_until is not None:
        query = query.where(bounds.c.first_start < event_filter.starts_until)
    if event_filter.search:
        query = query.where(Event.title.ilike(f"%{event_filter.search}%"))
    total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await db.scalars(
        query.order_by(bounds.c.first_start.is_(None), bounds.c.first_start, Event.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
        .options(*_event_tree_options())
    )
    return Page(events=list(rows), total=total, page=page, page_size=page_size)


async def get_session(db: AsyncSession, session_id: int) -> Session:
    session = await db.scalar(
        select(Session)
        .where(Session.id == session_id)
        .options(
            selectinload(Session.event).selectinload(Event.host_organisation),
            selectinload(Session.agenda_items)
            .selectinload(AgendaItem.speakers)
            .options(
                selectinload(AgendaItemSpeaker.person).selectinload(Person.organisation),
                selectinload(AgendaItemSpeaker.organisation),
            ),
        )
        .execution_options(populate_existing=True)
    )
    if session is None:
        raise NotFoundError(f"No session with id {session_id}.", "session_id")
    return session


async def get_agenda_item(db: AsyncSession, agenda_item_id: int) -> AgendaItem:
    item = await db.scalar(
        select(AgendaItem)
        .where(AgendaItem.id == agenda_item_id)
        .options(
            selectinload(AgendaItem.session).selectinload(Session.event),
            selectinload(AgendaItem.speakers).options(
                selectinload(AgendaItemSpeaker.person).selectinload(Person.organisation),
                selectinload(AgendaItemSpeaker.organisation),
            ),
        )
        .execution_options(populate_existing=True)
    )
    if item is None:
        raise NotFoundError(f"No agenda item with id {agenda_item_id}.", "agenda_item_id")
    return item


# --- organisations and people ---------------------------------------------------------------


def _clean_text(value: str, field: str, *, required: bool = True) -> str:
    text = value.strip()
    if required and not text:
        raise InvalidInputError("Must not be empty.", field)
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in text):
        raise InvalidInputError("Must not contain control characters.", field)
    return text


def _clean_line(value: str, field: str, *, required: bool = True) -> str:
    text = _clean_text(value, field, required=required)
    if "\n" in text or "\t" in text:
        raise InvalidInputError("Must be a single line.", field)
    return text


def _country(value: str | None, field: str) -> str | None:
    if value is None or value == "":
        return None
    code = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise InvalidInputError("Use a two-letter ISO 3166 country code, e.g. 'BE'.", field)
    return code


async def _organisation_or_422(db: AsyncSession, organisation_id: int | None, field: str) -> None:
    if organisation_id is not None and await db.get(Organisation, organisation_id) is None:
        raise InvalidInputError(f"No organisation with id {organisation_id}.", field)


async def create_organisation(
    db: AsyncSession, *, name: str, kind: OrganisationKind, now: datetime,
    country: str | None = None, website: str | None = None,
) -> Organisation:
    name = _clean_line(name, "name")
    if await db.scalar(select(Organisation.id).where(Organisation.name == name)) is not None:
        raise ConflictError(f"An organisation called {name!r} exists already.", "name")
    organisation = Organisation(
        name=name, kind=kind, country=_country(country, "country"), website=website,
        created_at=now, updated_at=now,
    )
    db.add(organisation)
    await db.flush()
    return organisation


async def find_or_create_organisation(
    db: AsyncSession, *, name: str, kind: OrganisationKind, now: datetime,
    country: str | None = None,
) -> Organisation:
    existing = await db.scalar(select(Organisation).where(Organisation.name == name.strip()))
    if existing is not None:
        return existing
    return await create_organisation(db, name=name, kind=kind, country=country, now=now)


async def get_organisation(db: AsyncSession, organisation_id: int) -> Organisation:
    organisation = await db.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFoundError(f"No organisation with id {organisation_id}.", "organisation_id")
    return organisation


async def list_organisations(db: AsyncSession) -> list[Organisation]:
    return list(await db.scalars(select(Organisation).order_by(Organisation.name)))


async def update_organisation(
    db: AsyncSession, organisation_id: int, changes: Mapping[str, Any], *, now: datetime,
    settings: Settings,
) -> Organisation:
    organisation = await get_organisation(db, organisation_id)
    if "name" in changes:
        name = _clean_line(changes["name"], "name")
        clash = await db.scalar(
            select(Organisation.id).where(Organisation.name == name, Organisation.id != organisation.id)
        )
        if clash is not None:
            raise ConflictError(f"An organisation called {name!r} exists already.", "name")
        organisation.name = name
    if "kind" in changes:
        organisation.kind = changes["kind"]
    if "country" in changes:
        organisation.country = _country(changes["country"], "country")
    if "website" in changes:
        organisation.website = changes["website"]
    organisation.updated_at = now
    await db.flush()
    if "name" in changes:
        await signals.announce(db, signals.SpeakerDetailsChanged(organisation_id=organisation.id),
                               now=now, settings=settings)
    return organisation


async def delete_organisation(db: AsyncSession, organisation_id: int) -> None:
    await db.delete(await get_organisation(db, organisation_id))
    await db.flush()


async def create_person(
    db: AsyncSession, *, name: str, now: datetime, email: str | None = None,
    job_title: str | None = None, organisation_id: int | None = None,
) -> Person:
    await _organisation_or_422(db, organisation_id, "organisation_id")
    person = Person(
        name=_clean_line(name, "name"),
        email=email.strip() if email else None,
        job_title=_clean_line(job_title, "job_title", required=False) if job_title else None,
        organisation_id=organisation_id,
        created_at=now,
        updated_at=now,
    )
    db.add(person)
    await db.flush()
    return person


async def find_or_create_person(
    db: AsyncSession, *, name: str, organisation_id: int | None, now: datetime,
    email: str | None = None,
) -> Person:
    existing = await db.scalar(
        select(Person).where(Person.name == name.strip(), Person.organisation_id == organisation_id)
    )
    if existing is not None:
        return existing
    return await create_person(db, name=name, email=email, organisation_id=organisation_id, now=now)


async def get_person(db: AsyncSession, person_id: int) -> Person:
    person = await db.scalar(
        select(Person).where(Person.id == person_id).options(selectinload(Person.organisation))
    )
    if person is None:
        raise NotFoundError(f"No person with id {person_id}.", "person_id")
    return person


async def list_persons(db: AsyncSession) -> list[Person]:
    return list(
        await db.scalars(
            select(Person).options(selectinload(Person.organisation)).order_by(Person.name)
        )
    )


async def update_person(
    db: AsyncSession, person_id: int, changes: Mapping[str, Any], *, now: datetime,
    settings: Settings,
) -> Person:
    person = await get_person(db, person_id)
    if "name" in changes:
        person.name = _clean_line(changes["name"], "name")
    if "email" in changes:
        person.email = changes["email"].strip() if changes["email"] else None
    if "job_title" in changes:
        person.job_title = changes["job_title"]
    if "organisation_id" in changes:
        await _organisation_or_422(db, changes["organisation_id"], "organisation_id")
        person.organisation_id = changes["organisation_id"]
    person.updated_at = now
    await db.flush()
    if "name" in changes or "organisation_id" in changes:
        await signals.announce(db, signals.SpeakerDetailsChanged(person_id=person_id), now=now,
                               settings=settings)
    return await get_person(db, person_id)


async def delete_person(db: AsyncSession, person_id: int) -> None:
    await db.delete(await get_person(db, person_id))
    await db.flush()


# --- events --------------------------------------------------------------------------------


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:80].strip("-") or "event"


async def _free_slug(db: AsyncSession, base: str) -> str:
    candidate, number = base, 2
    while await db.scalar(select(Event.id).where(Event.slug == candidate)) is not None:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def _check_capacity(value: int | None, field: str) -> int | None:
    if value is not None and value < 1:
        raise InvalidInputError("Places must be at least 1 (leave it empty for no limit).", field)
    return value


def _more_places(current: int | None, new: int | None) -> bool:
    """True when a change of places lets more people in (None means no limit)."""
    if current is None:
        return False
    return new is None or new > current


def _check_reminder_offsets(value: Sequence[int] | None) -> list[int] | None:
    if value is None:
        return None
    offsets = sorted(set(value), reverse=True)
    for index, minutes in enumerate(offsets):
        if not 1 <= minutes <= 60 * 24 * 60:
            raise InvalidInputError(
                "Each reminder is 1 minute to 60 days before the session.",
                f"reminder_offsets_minutes[{index}]",
            )
    return offsets


EVENT_TEXT_FIELDS = ("summary", "description")
EVENT_LINE_FIELDS = ("venue_name", "venue_address", "venue_city", "contact_email")


async def create_event(db: AsyncSession, data: Mapping[str, Any], *, now: datetime) -> Event:
    zone_name = data.get("timezone") or "Europe/Brussels"
    zone_for(zone_name)
    title = _clean_line(data["title"], "title")
    if data.get("slug"):
        slug = data["slug"]
        if not SLUG_PATTERN.match(slug):
            raise InvalidInputError("Use lower-case letters, digits and single hyphens.", "slug")
        if await db.scalar(select(Event.id).where(Event.slug == slug)) is not None:
            raise ConflictError(f"The slug {slug!r} is taken by another event.", "slug")
    else:
        slug = await _free_slug(db, slugify(title))
    await _organisation_or_422(db, data.get("host_organisation_id"), "host_organisation_id")
    event = Event(
        kind=data["kind"],
        title=title,
        slug=slug,
        summary=_clean_text(data.get("summary") or "", "summary", required=False),
        description=_clean_text(data.get("description") or "", "description", required=False),
        timezone=zone_name,
        status=EventStatus.DRAFT,
        host_organisation_id=data.get("host_organisation_id"),
        capacity=_check_capacity(data.get("capacity"), "capacity"),
        is_approval_required=bool(data.get("is_approval_required", False)),
        allows_session_choice=bool(data.get("allows_session_choice", False)),
        venue_name=data.get("venue_name"),
        venue_address=data.get("venue_address"),
        venue_city=data.get("venue_city"),
        venue_country=_country(data.get("venue_country"), "venue_country"),
        contact_email=data.get("contact_email"),
        reminder_offsets_minutes=_check_reminder_offsets(data.get("reminder_offsets_minutes")),
        is_sample_data=bool(data.get("is_sample_data", False)),
        created_at=now,
        updated_at=now,
    )
    _set_registration_window(event, data, zone_name)
    db.add(event)
    await db.flush()
    return await get_event(db, event.id)


def _set_registration_window(event: Event, data: Mapping[str, Any], zone_name: str) -> None:
    for field in ("registration_opens_at", "registration_closes_at"):
        if field in data:
            raw = data[field]
            setattr(event, field, parse_instant(raw, zone_name, field) if raw else None)
    if (
        event.registration_opens_at is not None
        and event.registration_closes_at is not None
        and event.registration_closes_at <= event.registration_opens_at
    ):
        raise InvalidInputError("Registration must close after it opens.", "registration_closes_at")


async def update_event(
    db: AsyncSession, event_id: int, changes: Mapping[str, Any], *, now: datetime,
    settings: Settings,
) -> Event:
    event = await get_event(db, event_id)
    before = {s.id: snapshot_session(s, event) for s in event.sessions}
    if "timezone" in changes:
        zone_for(changes["timezone"])
        event.timezone = changes["timezone"]
    if "title" in changes:
        event.title = _clean_line(changes["title"], "title")
    if "slug" in changes and changes["slug"] != event.slug:
        slug = changes["slug"]
        if not SLUG_PATTERN.match(slug):
            raise InvalidInputError("Use lower-case letters, digits and single hyphens.", "slug")
        clash = await db.scalar(select(Event.id).where(Event.slug == slug, Event.id != event.id))
        if clash is not None:
            raise ConflictError(f"The slug {slug!r} is taken by another event.", "slug")
        event.slug = slug
    for field in EVENT_TEXT_FIELDS:
        if field in changes:
            setattr(event, field, _clean_text(changes[field] or "", field, required=False))
    for field in EVENT_LINE_FIELDS:
        if field in changes:
            value = changes[field]
            setattr(event, field, _clean_line(value, field, required=False) if value else None)
    if "kind" in changes:
        event.kind = changes["kind"]
    if "venue_country" in changes:
        event.venue_country = _country(changes["venue_country"], "venue_country")
    if "host_organisation_id" in changes:
        await _organisation_or_422(db, changes["host_organisation_id"], "host_organisation_id")
        event.host_organisation_id = changes["host_organisation_id"]
    places_added = "capacity" in changes and _more_places(event.capacity, changes["capacity"])
    if "capacity" in changes:
        event.capacity = _check_capacity(changes["capacity"], "capacity")
    for flag in ("is_approval_required", "allows_session_choice", "is_sample_data"):
        if flag in changes:
            setattr(event, flag, bool(changes[flag]))
    if "reminder_offsets_minutes" in changes:
        event.reminder_offsets_minutes = _check_reminder_offsets(changes["reminder_offsets_minutes"])
    _set_registration_window(event, changes, event.timezone)
    event.updated_at = now
    await db.flush()
    event = await get_event(db, event_id)
    for session in event.sessions:
        await signals.announce(db, signals.SessionChanged(session, event, before[session.id]),
                               now=now, settings=settings)
    if "reminder_offsets_minutes" in changes:
        await signals.announce(db, signals.ReminderPolicyChanged(event), now=now,
                               settings=settings)
    if places_added:
        await signals.announce(db, signals.PlacesAdded(event), now=now, settings=settings)
        event = await get_event(db, event_id)
    return event


async def delete_event(db: AsyncSession, event_id: int) -> None:
    event = await get_event(db, event_id)
    if event.status != EventStatus.DRAFT:
        has_registrations = await db.scalar(
            select(func.count(Registration.id)).where(Registration.event_id == event.id)
        )
        if has_registrations:
            raise ConflictError(
                "This event has registrations: cancel it instead of deleting it.", "status"
            )
    await db.delete(event)
    await db.flush()


async def publish_event(db: AsyncSession, event_id: int, *, now: datetime) -> Event:
    event = await get_event(db, event_id)
    if event.status == EventStatus.CANCELLED:
        raise ConflictError("A cancelled event cannot be published again.", "status")
    if not event.sessions:
        raise ConflictError("Add at least one session before publishing.", "sessions")
    if event.status != EventStatus.PUBLISHED:
        event.status = EventStatus.PUBLISHED
        event.published_at = event.published_at or now
        event.updated_at = now
        await db.flush()
    return await get_event(db, event_id)


async def unpublish_event(db: AsyncSession, event_id: int, *, now: datetime) -> Event:
    event = await get_event(db, event_id)
    if event.status == EventStatus.CANCELLED:
        raise ConflictError("A cancelled event stays cancelled.", "status")
    registered = await db.scalar(
        select(func.count(Registration.id)).where(Registration.event_id == event.id)
    )
    if registered:
        raise ConflictError(
            "People have registered: cancel the event instead of unpublishing it.", "status"
        )
    event.status = EventStatus.DRAFT
    event.updated_at = now
    await db.flush()
    return await get_event(db, event_id)


async def cancel_event(
    db: AsyncSession, event_id: int, *, now: datetime, settings: Settings
) -> Event:
    event = await get_event(db, event_id)
    if event.status == EventStatus.CANCELLED:
        return event
    event.status = EventStatus.CANCELLED
    event.cancelled_at = now
    event.updated_at = now
    for session in event.sessions:
        if session.status != SessionStatus.CANCELLED:
            await _cancel_session(db, session, event, now=now, settings=settings)
    await db.flush()
    return await get_event(db, event_id)


# --- sessions ------------------------------------------------------------------------------


def _check_session_times(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise InvalidInputError("A session must end after it starts.", "ends_at")
    if ends_at - starts_at > MAX_SESSION_LENGTH:
        raise InvalidInputError("A session lasts at most 7 days; add more sessions.", "ends_at")


def _check_join_url(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not re.match(r"^https?://[^\s]+$", value):
        raise InvalidInputError("Give an http or https address.", "join_url")
    return value


async def add_session(
    db: AsyncSession, event_id: int, data: Mapping[str, Any], *, now: datetime,
    settings: Settings,
) -> Session:
    event = await get_event(db, event_id)
    if event.status == EventStatus.CANCELLED:
        raise ConflictError("The event is cancelled.", "status")
    starts_at = parse_instant(data["starts_at"], event.timezone, "starts_at")
    ends_at = parse_instant(
        data["ends_at"], event.timezone, "ends_at", on_date=local_date(starts_at, event.timezone)
    )
    _check_session_times(starts_at, ends_at)
    session = Session(
        event_id=event.id,
        title=_clean_line(data["title"], "title"),
        description=_clean_text(data.get("description") or "", "description", required=False),
        starts_at=starts_at,
        ends_at=ends_at,
        mode=data.get("mode") or SessionMode.ONLINE,
        join_url=_check_join_url(data.get("join_url")),
        capacity=_check_capacity(data.get("capacity"), "capacity"),
        status=SessionStatus.SCHEDULED,
        sequence=0,
        created_at=now,
        updated_at=now,
    )
    db.add(session)
    await db.flush()
    session = await get_session(db, session.id)
    await signals.announce(db, signals.SessionAdded(session, session.event), now=now,
                           settings=settings)
    return session


async def update_session(
    db: AsyncSession, session_id: int, changes: Mapping[str, Any], *, now: datetime,
    settings: Settings,
) -> Session:
    """Edit a session; moving both ends by the same amount moves its agenda with it."""
    session = await get_session(db, session_id)
    event = session.event
    before = snapshot_session(session, event)
    starts_at, ends_at = session.starts_at, session.ends_at
    if "starts_at" in changes:
        starts_at = parse_instant(changes["starts_at"], event.timezone, "starts_at")
    if "ends_at" in changes:
        ends_at = parse_instant(
            changes["ends_at"], event.timezone, "ends_at",
            on_date=local_date(starts_at, event.timezone),
        )
    _check_session_times(starts_at, ends_at)
    shift = starts_at - session.starts_at
    moves_agenda = shift and (ends_at - session.ends_at) == shift
    for item in session.agenda_items:
        item_start = item.starts_at + shift if moves_agenda else item.starts_at
        item_end = item.ends_at + shift if moves_agenda else item.ends_at
        if item_start < starts_at or item_end > ends_at:
            raise InvalidInputError(
                f"The agenda item {item.title!r} would fall outside the session; move or "
                "shorten it first, or move start and end together.",
                "ends_at" if "ends_at" in changes else "starts_at",
            )
    if moves_agenda:
        for item in session.agenda_items:
            item.starts_at += shift
            item.ends_at += shift
            item.updated_at = now
    session.starts_at, session.ends_at = starts_at, ends_at
    if "title" in changes:
        session.title = _clean_line(changes["title"], "title")
    if "description" in changes:
        session.description = _clean_text(changes["description"] or "", "description",
                                          required=False)
    if "mode" in changes:
        session.mode = changes["mode"]
    if "join_url" in changes:
        session.join_url = _check_join_url(changes["join_url"])
    places_added = "capacity" in changes and _more_places(session.capacity, changes["capacity"])
    if "capacity" in changes:
        session.capacity = _check_capacity(changes["capacity"], "capacity")
    session.updated_at = now
    await db.flush()
    await signals.announce(db, signals.SessionChanged(session, event, before), now=now,
                           settings=settings)
    if places_added:
        await signals.announce(db, signals.PlacesAdded(event), now=now, settings=settings)
    return await get_session(db, session_id)


async def _cancel_session(
    db: AsyncSession, session: Session, event: Event, *, now: datetime, settings: Settings
) -> None:
    before = snapshot_session(session, event)
    session.status = SessionStatus.CANCELLED
    session.cancelled_at = now
    session.updated_at = now
    await db.flush()
    await signals.announce(db, signals.SessionChanged(session, event, before), now=now,
                           settings=settings)


async def cancel_session(
    db: AsyncSession, session_id: int, *, now: datetime, settings: Settings
) -> Session:
    session = await get_session(db, session_id)
    if session.status != SessionStatus.CANCELLED:
        await _cancel_session(db, session, session.event, now=now, settings=settings)
    return await get_session(db, session_id)


async def delete_session(db: AsyncSession, session_id: int) -> None:
    session = await get_session(db, session_id)
    enrolled = await db.scalar(
        select(func.count(Enrolment.id)).where(Enrolment.session_id == session.id)
    )
    if enrolled:
        raise ConflictError(
            "People are enrolled in this session: cancel it instead of deleting it.", "status"
        )
    await db.delete(session)
    await db.flush()


# --- agenda items --------------------------------------------------------------------------


@dataclass(frozen=True)
class SpeakerInput:
    person_id: int
    organisation_id: int | None = None


async def _check_agenda_slot(
    db: AsyncSession, session: Session, starts_at: datetime, ends_at: datetime,
    *, ignore_item_id: int | None = None,
) -> None:
    if ends_at <= starts_at:
        raise InvalidInputError("An agenda item must end after it starts.", "ends_at")
    if starts_at < session.starts_at:
        raise InvalidInputError("The agenda item starts before its session.", "starts_at")
    if ends_at > session.ends_at:
        raise InvalidInputError("The agenda item ends after its session.", "ends_at")
    for other in session.agenda_items:
        if other.id == ignore_item_id:
            continue
        if starts_at < other.ends_at and other.starts_at < ends_at:
            raise InvalidInputError(
                f"Overlaps the agenda item {other.title!r} in the same session.", "starts_at"
            )


async def _speakers(db: AsyncSession, speakers: Sequence[SpeakerInput]) -> list[AgendaItemSpeaker]:
    rows: list[AgendaItemSpeaker] = []
    seen: set[int] = set()
    for index, speaker in enumerate(speakers):
        person = await db.get(Person, speaker.person_id)
        if person is None:
            raise InvalidInputError(
                f"No person with id {speaker.person_id}.", f"speakers[{index}].person_id"
            )
        if speaker.person_id in seen:
            raise InvalidInputError("Listed twice.", f"speakers[{index}].person_id")
        seen.add(speaker.person_id)
        await _organisation_or_422(db, speaker.organisation_id, f"speakers[{index}].organisation_id")
        rows.append(
            AgendaItemSpeaker(
                person_id=speaker.person_id,
                organisation_id=speaker.organisation_id or person.organisation_id,
                position=index,
            )
        )
    return rows


def _agenda_time(value: str, session: Session, field: str) -> datetime:
    zone_name = session.event.timezone
    return parse_instant(value, zone_name, field, on_date=local_date(session.starts_at, zone_name))


async def add_agenda_item(
    db: AsyncSession, session_id: int, data: Mapping[str, Any], *, now: datetime,
    settings: Settings,
) -> AgendaItem:
    """Times may be "10:10" (on the session's local date), a local or an offset timestamp."""
    session = await get_session(db, session_id)
    starts_at = _agenda_time(data["starts_at"], session, "starts_at")
    ends_at = _agenda_time(data["ends_at"], session, "ends_at")
    await _check_agenda_slot(db, session, starts_at, ends_at)
    item = AgendaItem(
        session_id=session.id,
        starts_at=starts_at,
        ends_at=ends_at,
        title=_clean_line(data["title"], "title"),
        kind=data.get("kind") or AgendaItemKind.TALK,
        description=_clean_text(data.get("description") or "", "description", required=False),
        sequence=0,
        created_at=now,
        updated_at=now,
    )
    item.speakers = await _speakers(db, [SpeakerInput(**s) for s in data.get("speakers") or []])
    db.add(item)
    await db.flush()
    item = await get_agenda_item(db, item.id)
    await signals.announce(db, signals.AgendaChanged(item.session, added=item), now=now,
                           settings=settings)
    return item


async def update_agenda_item(
    db: AsyncSession, agenda_item_id: int, changes: Mapping[str, Any], *, now: datetime,
    settings: Settings,
) -> AgendaItem:
    item = await get_agenda_item(db, agenda_item_id)
    session = await get_session(db, item.session_id)
    previous = snapshot_agenda_item(item)
    starts_at = (
        _agenda_time(changes["starts_at"], session, "starts_at")
        if "starts_at" in changes else item.starts_at
    )
    ends_at = (
        _agenda_time(changes["ends_at"], session, "ends_at") if "ends_at" in changes else item.ends_at
    )
    await _check_agenda_slot(db, session, starts_at, ends_at, ignore_item_id=item.id)
    moved = (starts_at, ends_at) != (item.starts_at, item.ends_at)
    item.starts_at, item.ends_at = starts_at, ends_at
    if "title" in changes:
        item.title = _clean_line(changes["title"], "title")
    if "kind" in changes:
        item.kind = changes["kind"]
    if "description" in changes:
        item.description = _clean_text(changes["description"] or "", "description",
                                       required=False)
    if "speakers" in changes:
        new_speakers = await _speakers(
            db, [SpeakerInput(**s) for s in changes["speakers"] or []]
        )
        item.speakers.clear()
        await db.flush()
        item.speakers.extend(new_speakers)
    if moved:
        item.sequence += 1
    item.updated_at = now
    await db.flush()
    db.expire(item)
    item = await get_agenda_item(db, agenda_item_id)
    await signals.announce(db, signals.AgendaChanged(item.session, moved_from=previous, item=item),
                           now=now, settings=settings)
    return item


async def delete_agenda_item(
    db: AsyncSession, agenda_item_id: int, *, now: datetime, settings: Settings
) -> None:
    item = await get_agenda_item(db, agenda_item_id)
    previous = snapshot_agenda_item(item)
    session = item.session
    await db.delete(item)
    await db.flush()
    await signals.announce(db, signals.AgendaChanged(session, removed=previous), now=now,
                           settings=settings)


def agenda_day(session: Session) -> date:
    return local_date(session.starts_at, session.event.timezone)

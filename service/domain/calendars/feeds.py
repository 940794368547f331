"""Calendar feeds: which sessions each feed holds, its cache validators, and its private links.

A feed is answered in two steps. `*_feed` functions run a few light, indexed queries over the
data's change markers (ids, SEQUENCEs, `updated_at`, counts) and return a `FeedPlan`: what the
feed holds plus a strong ETag and Last-Modified, without building any iCalendar. Only when a
client does not already have that version does `render_feed` load the full sessions and build
the calendar through `calendar_entries` and `ical` (the one VEVENT builder). DTSTAMP is the
feed's Last-Modified, so equal ETags always mean equal bytes, on any instance.

Public feeds (programme, event, kind, one session) never carry join links or registrants'
emails. Personal feeds sit behind access tokens (`service.domain.access`); a personal feed's
queries touch only its owner's rows, so its cost does not grow with the programme.
Cancelled sessions stay in feeds as STATUS:CANCELLED for `CANCELLED_KEPT_FOR` after they were
cancelled or after they would have taken place (whichever is later), so subscribed calendars
see the cancellation instead of a silently vanishing entry.

This module knows nothing of HTTP. `programme_revision()` is a per-process counter that moves
whenever this process commits a change to the programme: the web layer uses it to know when
a memoised public `FeedPlan` must be recomputed before its time-to-live is up.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, event, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, aliased
from sqlalchemy.orm import Session as OrmSession

from service.db.models import (
    AccessPurpose,
    AgendaItem,
    AgendaItemSpeaker,
    ApiToken,
    ContentTranslation,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
    EventStatus,
    Organisation,
    Person,
    Registration,
    RegistrationStatus,
    Session,
    SessionMode,
    SessionStatus,
)
from service.domain import access
from service.domain.accounts import token_events_filter
from service.domain.calendars.entries import session_entry, speaker_slot_entry
from service.domain.calendars.ical import CalendarEntry, build_calendar
from service.domain.calendars.meetings import meeting_entries, meeting_fingerprints
from service.domain.errors import NotFoundError
from service.domain.programme.translations import (
    EVENT_TARGET,
    pick,
    translations_by_event,
)
from service.domain.wording import kind_feed_name
from service.i18n import current_language
from service.i18n import gettext as _
from service.settings import Settings

# Bump when the feed's bytes change for the same data (new fields, new wording).
FEED_FORMAT_VERSION = "2"
CANCELLED_KEPT_FOR = timedelta(days=90)
REFRESH_INTERVAL = timedelta(hours=1)
DEFAULT_FEED_TIMEZONE = "Europe/Brussels"
PUBLIC_STATUSES = (EventStatus.PUBLISHED, EventStatus.CANCELLED)

_Rows = Select[*tuple[Any, ...]]



# --- what a feed is ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedPlan:
    """What one feed holds and which version it is, decided without building any iCalendar."""

    scope: str  # "programme", "event", "kind", "session", "registration", "speaker", "organiser"
    name: str | None  # X-WR-CALNAME; None for a one-session download
    etag: str  # strong, quoted: the header value as is
    last_modified: datetime | None
    is_private: bool
    session_ids: frozenset[int]
    # The conditions (on Session and Event) that chose the sessions, for loading them again.
    session_filter: tuple[ColumnElement[bool], ...] = field(default=(), compare=False)
    agenda_item_ids: frozenset[int] = frozenset()  # speaker feeds: the speaker's slots
    person_id: int | None = None
    include_join_url: bool = False
    shows_drafts: bool = False
    default_timezone: str | None = DEFAULT_FEED_TIMEZONE
    filename: str | None = None  # for downloads (Content-Disposition)
    # Meet-your-Buyer one-to-one meetings of the registrant (supplier) or person (host).
    meeting_ids: frozenset[int] = frozenset()
    # The language of the events' own texts (titles, sessions' descriptions); None: each
    # event's default language.
    content_language: str | None = None

    @property
    def is_download(self) -> bool:
        return self.scope == "session"


@dataclass(frozen=True)
class SpeakerLinks:
    page_token: str
    feed_token: str


# --- which sessions are listed ----------------------------------------------------------------


def _cutoff(now: datetime) -> datetime:
    return now - CANCELLED_KEPT_FOR


def _listed(now: datetime) -> ColumnElement[bool]:
    """Scheduled sessions, and cancelled ones until CANCELLED_KEPT_FOR after cancellation or
    after the session's end, whichever is later."""
    cutoff = _cutoff(now)
    return or_(
        and_(Session.status == SessionStatus.SCHEDULED, Event.status != EventStatus.CANCELLED),
        func.coalesce(Session.cancelled_at, Event.cancelled_at, Session.updated_at) >= cutoff,
        Session.ends_at >= cutoff,
    )


def _is_cancelled(session: _Session, event: _Event) -> bool:
    return session.status == SessionStatus.CANCELLED or event.status == EventStatus.CANCELLED


# --- cheap validators -------------------------------------------------------------------------


class _Fingerprint:
    """Collects change markers into a digest and keeps the latest `updated_at` seen."""

    def __init__(self, scope: str, settings: Settings) -> None:
        self._hash = hashlib.sha256()
        self.latest: datetime | None = None
        # The feed's words are in the language in force: one version per language.
        self.add(
            FEED_FORMAT_VERSION, scope, settings.public_base_url, settings.uid_domain,
            settings.organiser_email, settings.organiser_name, current_language(),
        )

    def add(self, *values: object) -> None:
        self._hash.update(repr(values).encode())
        self._hash.update(b"\x00")

    def seen(self, *instants: datetime | None) -> None:
        for instant in instants:
            if instant is not None and (self.latest is None or instant > self.latest):
                self.latest = instant

    @property
    def etag(self) -> str:
        return f'"{self._hash.hexdigest()[:40]}"'


def _session_rows(filters: Sequence[ColumnElement[bool]]) -> _Rows:
    """One light row per listed session: the markers of everything its VEVENT shows."""
    siblings = aliased(Session)
    session_count = (
        select(func.count(siblings.id))
        .where(siblings.event_id == Event.id)
        .correlate(Event)
        .scalar_subquery()
    )
    return (
        select(
            Session.id, Session.sequence, Session.status, Session.updated_at,
            Event.id, Event.status, Event.updated_at, session_count,
        )
        .join(Session.event)
        .where(*filters)
        .order_by(Session.id)
    )


def _agenda_markers(filters: Sequence[ColumnElement[bool]]) -> _Rows:
    """Aggregates over the agenda, speakers and their organisations of the listed sessions.

    Counts and id sums catch additions and deletions (a deleted person or organisation
    changes the speaker rows), the latest `updated_at` catches edits.
    """
    speaker_org = aliased(Organisation)
    person_org = aliased(Organisation)
    return (
        select(
            func.count(),
            func.sum(AgendaItem.id),
            func.max(AgendaItem.updated_at),
            func.sum(func.coalesce(AgendaItemSpeaker.id, 0)),
            func.sum(func.coalesce(AgendaItemSpeaker.organisation_id, 0)),
            func.sum(func.coalesce(Person.organisation_id, 0)),
            func.max(Person.updated_at),
            func.max(speaker_org.updated_at),
            func.max(person_org.updated_at),
        )
        .select_from(AgendaItem)
        .join(Session, Session.id == AgendaItem.session_id)
        .join(Event, Event.id == Session.event_id)
        .outerjoin(AgendaItemSpeaker, AgendaItemSpeaker.agenda_item_id == AgendaItem.id)
        .outerjoin(Person, Person.id == AgendaItemSpeaker.person_id)
        .outerjoin(speaker_org, speaker_org.id == AgendaItemSpeaker.organisation_id)
        .outerjoin(person_org, person_org.id == Person.organisation_id)
        .where(*filters)
    )


async def _fingerprint_sessions(
    db: AsyncSession, fingerprint: _Fingerprint, filters: Sequence[ColumnElement[bool]]
) -> frozenset[int]:
    """Feed the listed sessions' markers to `fingerprint`; return the listed session ids."""
    rows = (await db.execute(_session_rows(filters))).all()
    fingerprint.add(*(tuple(row) for row in rows))
    for row in rows:
        fingerprint.seen(row[3], row[6])
    if rows:
        markers = (await db.execute(_agenda_markers(filters))).one()
        fingerprint.add(tuple(markers))
        fingerprint.seen(markers[2], markers[6], markers[7], markers[8])
    return frozenset(row[0] for row in rows)


def _kind_name(settings: Settings, kind: EventKind) -> str:
    return _("%(organiser)s: %(feed)s") % {"organiser": settings.organiser_name,
                                           "feed": kind_feed_name(kind)}


async def _public_plan(
    db: AsyncSession, scope: str, name: str, event_filter: Sequence[ColumnElement[bool]], *,
    now: datetime, settings: Settings, default_timezone: str = DEFAULT_FEED_TIMEZONE,
    key: object = None, language: str | None = None,
) -> FeedPlan:
    fingerprint = _Fingerprint(scope, settings)
    # A translation's edit moves its event's `updated_at`, which the session rows carry.
    fingerprint.add(key, name, language)
    session_filter = (*event_filter, _listed(now))
    ids = await _fingerprint_sessions(db, fingerprint, session_filter)
    return FeedPlan(
        scope=scope, name=name, etag=fingerprint.etag, last_modified=fingerprint.latest,
        is_private=False, session_ids=ids, session_filter=session_filter,
        default_timezone=default_timezone, content_language=language,
    )


# --- public feeds -----------------------------------------------------------------------------


async def programme_feed(db: AsyncSession, *, now: datetime, settings: Settings,
                         language: str | None = None) -> FeedPlan:
    """Every published (and cancelled) event's sessions (texts in `language` where
    translated, else each event's default language)."""
    return await _public_plan(
        db, "programme", _("%(organiser)s events") % {"organiser": settings.organiser_name},
        [Event.status.in_(PUBLIC_STATUSES)], now=now, settings=settings, language=language,
    )


async def event_feed(db: AsyncSession, slug: str, *, now: datetime, settings: Settings,
                     language: str | None = None) -> FeedPlan:
    """All sessions of one published event; drafts are as unknown as missing slugs."""
    found = (
        await db.execute(
            select(Event.id, Event.title, Event.timezone, Event.default_language).where(
                Event.slug == slug, Event.status.in_(PUBLIC_STATUSES)
            )
        )
    ).one_or_none()
    if found is None:
        raise NotFoundError(f"No published event {slug!r}.", "slug")
    event_id, title, zone, default_language = found
    if language is not None:
        texts = (await translations_by_event(db, [event_id], language))[event_id]
        title = pick(texts, default_language, EVENT_TARGET, "title", title, language)
    return await _public_plan(
        db, "event", str(title), [Event.id == event_id], now=now, settings=settings,
        default_timezone=zone, key=event_id, language=language,
    )


async def kind_feed(
    db: AsyncSession, kind: EventKind, *, now: datetime, settings: Settings,
    language: str | None = None,
) -> FeedPlan:
    """All published events of one kind: all webinars, all CityMatch visits..."""
    return await _public_plan(
        db, "kind", _kind_name(settings, kind),
        [Event.status.in_(PUBLIC_STATUSES), Event.kind == kind], now=now, settings=settings,
        key=str(kind), language=language,
    )


async def session_download(
    db: AsyncSession, session_id: int, *, now: datetime, settings: Settings,
    language: str | None = None,
) -> FeedPlan:
    """One public session as a file to add to a calendar (cancelled ones too)."""
    fingerprint = _Fingerprint("session", settings)
    fingerprint.add(language)
    session_filter = (Session.id == session_id, Event.status.in_(PUBLIC_STATUSES))
    ids = await _fingerprint_sessions(db, fingerprint, session_filter)
    if not ids:
        raise NotFoundError(f"No published session with id {session_id}.", "session_id")
    return FeedPlan(
        scope="session", name=None, etag=fingerprint.etag, last_modified=fingerprint.latest,
        is_private=False, session_ids=ids, session_filter=session_filter,
        default_timezone=None, filename=f"session-{session_id}.ics", content_language=language,
    )


# --- personal feeds ---------------------------------------------------------------------------


def _no_feed() -> NotFoundError:
    # The same answer for unknown, revoked and orphaned tokens: nothing is revealed.
    return NotFoundError("No such calendar feed.", "token")


async def registration_feed(
    db: AsyncSession, token: str, *, now: datetime, settings: Settings,
    language: str | None = None,
) -> FeedPlan:
    """A registrant's confirmed sessions, with their join links (texts in `language` where
    translated)."""
    found = await access.find_access(db, AccessPurpose.REGISTRATION_FEED, token)
    if found is None or found.registration_id is None:
        raise _no_feed()
    registration = (
        await db.execute(
            select(Registration.id, Registration.status, Registration.updated_at,
                   Event.title, Event.timezone, Event.id, Event.default_language)
            .join(Registration.event)
            .where(Registration.id == found.registration_id)
        )
    ).one_or_none()
    if registration is None:
        raise _no_feed()
    registration_id, status, updated_at, title, zone, event_id, default_language = registration
    if language is not None:
        texts = (await translations_by_event(db, [event_id], language))[event_id]
        title = pick(texts, default_language, EVENT_TARGET, "title", title, language)
    enrolments = (
        await db.execute(
            select(Enrolment.session_id, Enrolment.status, Enrolment.updated_at)
            .where(Enrolment.registration_id == registration_id)
            .order_by(Enrolment.session_id)
        )
    ).all()
    meetings = await meeting_fingerprints(db, registration_id=registration_id, since=_cutoff(now))
    fingerprint = _Fingerprint("registration", settings)
    fingerprint.add(language)
    fingerprint.add(registration_id, str(status), *(tuple(row) for row in enrolments))
    fingerprint.seen(updated_at, *(row[2] for row in enrolments))
    fingerprint.add(*meetings)
    fingerprint.seen(*(row[3] for row in meetings))
    enrolled = [row[0] for row in enrolments if row[1] == EnrolmentStatus.CONFIRMED]
    if status != RegistrationStatus.CONFIRMED:
        enrolled = []
    session_filter = (Session.id.in_(enrolled), Event.status.in_(PUBLIC_STATUSES), _listed(now))
    ids: frozenset[int] = frozenset()
    if enrolled:
        ids = await _fingerprint_sessions(db, fingerprint, session_filter)
    return FeedPlan(
        scope="registration", name=_("%(event)s (my sessions)") % {"event": title}, etag=fingerprint.etag,
        last_modified=fingerprint.latest, is_private=True, session_ids=ids,
        session_filter=session_filter, include_join_url=True, default_timezone=zone,
        meeting_ids=frozenset(row[0] for row in meetings)
        if status == RegistrationStatus.CONFIRMED else frozenset(),
        content_language=language,
    )


async def speaker_feed(
    db: AsyncSession, token: str, *, now: datetime, settings: Settings,
    language: str | None = None,
) -> FeedPlan:
    """A speaker's own slots: each agenda item they speak in, with its session's details."""
    found = await access.find_access(db, AccessPurpose.SPEAKER_FEED, token)
    if found is None or found.person_id is None:
        raise _no_feed()
    person = (
        await db.execute(
            select(Person.id, Person.name, Person.email, Person.updated_at)
            .where(Person.id == found.person_id)
        )
    ).one_or_none()
    if person is None:
        raise _no_feed()
    slots = (
        await db.execute(
            select(AgendaItemSpeaker.agenda_item_id, AgendaItem.session_id, AgendaItem.sequence,
                   AgendaItem.updated_at)
            .join(AgendaItem, AgendaItem.id == AgendaItemSpeaker.agenda_item_id)
            .join(Session, Session.id == AgendaItem.session_id)
            .join(Event, Event.id == Session.event_id)
            .where(AgendaItemSpeaker.person_id == person.id,
                   Event.status.in_(PUBLIC_STATUSES), _listed(now))
            .order_by(AgendaItemSpeaker.agenda_item_id)
        )
    ).all()
    meetings = await meeting_fingerprints(db, person_id=person.id, since=_cutoff(now))
    fingerprint = _Fingerprint("speaker", settings)
    fingerprint.add(language)
    fingerprint.add(tuple(person), *(tuple(row) for row in slots))
    fingerprint.seen(person.updated_at, *(row[3] for row in slots))
    fingerprint.add(*meetings)
    fingerprint.seen(*(row[3] for row in meetings))
    session_filter = (Session.id.in_(sorted({row[1] for row in slots})),)
    ids: frozenset[int] = frozenset()
    if slots:
        ids = await _fingerprint_sessions(db, fingerprint, session_filter)
    return FeedPlan(
        scope="speaker", name=_("%(name)s: speaking slots (%(organiser)s)") % {
            "name": person.name, "organiser": settings.organiser_name},
        etag=fingerprint.etag, last_modified=fingerprint.latest, is_private=True,
        session_ids=ids, session_filter=session_filter,
        agenda_item_ids=frozenset(row[0] for row in slots), person_id=person.id,
        include_join_url=True, meeting_ids=frozenset(row[0] for row in meetings),
        content_language=language,
    )


async def organiser_feed(
    db: AsyncSession, token: str, *, now: datetime, settings: Settings
) -> FeedPlan:
    """Every event organisers run, drafts included (as TENTATIVE), with join links."""
    found = await access.find_access(db, AccessPurpose.ORGANISER_FEED, token)
    if found is None or found.api_token_id is None:
        raise _no_feed()
    api_token_live = (await db.execute(
        select(ApiToken.id, ApiToken.team_id)
        .where(ApiToken.id == found.api_token_id, ApiToken.revoked_at.is_(None))
    )).first()
    if api_token_live is None:
        raise _no_feed()
    team_id = api_token_live[1]  # a team's token: that team's events only
    fingerprint = _Fingerprint("organiser", settings)
    fingerprint.add("team", team_id)
    session_filter = (_listed(now), await token_events_filter(db, team_id))
    ids = await _fingerprint_sessions(db, fingerprint, session_filter)
    return FeedPlan(
        scope="organiser", name=_("%(organiser)s events (organisers)") % {
            "organiser": settings.organiser_name},
        etag=fingerprint.etag, last_modified=fingerprint.latest, is_private=True,
        session_ids=ids, session_filter=session_filter, include_join_url=True,
        shows_drafts=True,
    )


# --- rendering --------------------------------------------------------------------------------
#
# A programme feed holds thousands of sessions: loading them as ORM objects would cost more
# than building the calendar. Plain column queries fill these light rows instead; they offer
# what `calendar_entries` reads (its *View protocols), so the mapping stays the one mapping.


@dataclass(slots=True)
class _Organisation:
    name: str


@dataclass(slots=True)
class _Person:
    id: int
    name: str
    email: str | None  # set only for the owner of a speaker feed
    organisation: _Organisation | None


@dataclass(slots=True)
class _Speaker:
    person_id: int
    person: _Person
    organisation: _Organisation | None


@dataclass(slots=True)
class _AgendaItem:
    id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    sequence: int
    created_at: datetime
    updated_at: datetime
    speakers: list[_Speaker] = field(default_factory=list)


@dataclass(slots=True)
class _Session:
    id: int
    event_id: int
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    mode: SessionMode
    join_url: str | None
    status: SessionStatus
    sequence: int
    created_at: datetime
    updated_at: datetime
    agenda_items: list[_AgendaItem] = field(default_factory=list)


@dataclass(slots=True)
class _Event:
    id: int
    title: str
    slug: str
    kind: EventKind
    status: EventStatus
    timezone: str
    contact_email: str | None
    venue_name: str | None
    venue_address: str | None
    venue_city: str | None
    venue_country: str | None
    default_language: str


_SESSION_COLUMNS = (
    Session.id, Session.event_id, Session.title, Session.description, Session.starts_at,
    Session.ends_at, Session.mode, Session.join_url, Session.status, Session.sequence,
    Session.created_at, Session.updated_at,
)
_EVENT_COLUMNS = (
    Event.id, Event.title, Event.slug, Event.kind, Event.status, Event.timezone,
    Event.contact_email, Event.venue_name, Event.venue_address, Event.venue_city,
    Event.venue_country, Event.default_language,
)


async def _load_sessions(db: AsyncSession, plan: FeedPlan) -> list[tuple[_Session, _Event]]:
    """The plan's sessions with their events and agendas, in four plain queries."""
    filters = plan.session_filter
    rows: Sequence[Any] = (
        await db.execute(
            select(*_SESSION_COLUMNS, *_EVENT_COLUMNS).join(Session.event).where(*filters)
        )
    ).all()
    sessions: dict[int, _Session] = {}
    events: dict[int, _Event] = {}
    width = len(_SESSION_COLUMNS)
    for row in rows:
        if row[0] not in plan.session_ids:
            continue  # added after the plan was made: the next plan will list it
        sessions[row[0]] = _Session(*row[:width])
        if row[1] not in events:
            events[row[1]] = _Event(*row[width:])
    if not sessions:
        return []
    speaker_org = aliased(Organisation)
    person_org = aliased(Organisation)
    agenda: Sequence[Any] = (await db.execute(
        select(
            AgendaItem.session_id, AgendaItem.id, AgendaItem.title, AgendaItem.starts_at,
            AgendaItem.ends_at, AgendaItem.sequence, AgendaItem.created_at, AgendaItem.updated_at,
            AgendaItemSpeaker.person_id, Person.name, speaker_org.name, person_org.name,
        )
        .select_from(AgendaItem)
        .join(Session, Session.id == AgendaItem.session_id)
        .join(Event, Event.id == Session.event_id)
        .outerjoin(AgendaItemSpeaker, AgendaItemSpeaker.agenda_item_id == AgendaItem.id)
        .outerjoin(Person, Person.id == AgendaItemSpeaker.person_id)
        .outerjoin(speaker_org, speaker_org.id == AgendaItemSpeaker.organisation_id)
        .outerjoin(person_org, person_org.id == Person.organisation_id)
        .where(*filters)
        .order_by(AgendaItem.session_id, AgendaItem.starts_at, AgendaItem.id,
                  AgendaItemSpeaker.position, AgendaItemSpeaker.id)
    )).all()
    organisations: dict[str, _Organisation] = {}
    persons: dict[int, _Person] = {}

    def organisation(name: str | None) -> _Organisation | None:
        if name is None:
            return None
        found = organisations.get(name)
        if found is None:
            found = organisations[name] = _Organisation(name)
        return found

    item: _AgendaItem | None = None
    for line in agenda:
        session = sessions.get(line[0])
        if session is None:
            continue
        if item is None or item.id != line[1]:
            item = _AgendaItem(*line[1:8])
            session.agenda_items.append(item)
        if line[8] is not None:
            person = persons.get(line[8])
            if person is None:
                person = persons[line[8]] = _Person(line[8], line[9], None, organisation(line[11]))
            item.speakers.append(_Speaker(line[8], person, organisation(line[10])))
    if plan.content_language is not None:
        await _translate(db, plan.content_language, sessions.values(), events)
    return [(session, events[session.event_id]) for session in sessions.values()]


async def _translate(db: AsyncSession, language: str, sessions: Iterable[_Session],
                     events: dict[int, _Event]) -> None:
    """The loaded rows' titles (and sessions' descriptions) in `language` where translated
    (the default otherwise)."""
    texts = await translations_by_event(db, events, language)
    for event_id, event_ in events.items():
        found = texts[event_id]
        if found:
            event_.title = pick(found, event_.default_language, EVENT_TARGET, "title",
                                event_.title, language)
    for session in sessions:
        found = texts[session.event_id]
        if not found:
            continue
        default = events[session.event_id].default_language
        session.title = pick(found, default, f"session-{session.id}", "title", session.title,
                             language)
        session.description = pick(found, default, f"session-{session.id}", "description",
                                   session.description, language)
        for item in session.agenda_items:
            item.title = pick(found, default, f"agenda-item-{item.id}", "title", item.title,
                              language)


def _session_entries(
    plan: FeedPlan, loaded: Iterable[tuple[_Session, _Event]], settings: Settings
) -> list[CalendarEntry]:
    entries = []
    for session, event_ in loaded:
        entry = session_entry(
            session, event_, settings, include_join_url=plan.include_join_url,
            cancelled=_is_cancelled(session, event_),
        )
        if plan.shows_drafts and event_.status == EventStatus.DRAFT:
            entry = replace(entry, status="TENTATIVE",
                            summary=_("[Draft] %(summary)s") % {"summary": entry.summary})
        entries.append(entry)
    return entries


async def _speaker_entries(
    db: AsyncSession, plan: FeedPlan, loaded: Iterable[tuple[_Session, _Event]],
    settings: Settings,
) -> list[CalendarEntry]:
    found = (
        await db.execute(select(Person.id, Person.name, Person.email).where(Person.id == plan.person_id))
    ).one_or_none()
    if found is None:
        return []
    person = _Person(found[0], found[1], found[2], None)
    return [
        speaker_slot_entry(
            item, session, event_, person, settings, cancelled=_is_cancelled(session, event_)
        )
        for session, event_ in loaded
        for item in session.agenda_items
        if item.id in plan.agenda_item_ids
    ]


async def feed_entries(
    db: AsyncSession, plan: FeedPlan, *, settings: Settings
) -> list[CalendarEntry]:
    """The feed's VEVENTs as calendar entries (loads the full sessions: the costly part)."""
    meetings = await meeting_entries(db, plan.meeting_ids, settings) if plan.meeting_ids else []
    if not plan.session_ids:
        return meetings
    loaded = await _load_sessions(db, plan)
    if plan.scope == "speaker":
        return await _speaker_entries(db, plan, loaded, settings) + meetings
    return _session_entries(plan, loaded, settings) + meetings


def build_feed(plan: FeedPlan, entries: Sequence[CalendarEntry], *, now: datetime) -> bytes:
    """Serialise; DTSTAMP is the feed's Last-Modified so one ETag always means one body."""
    stamp = plan.last_modified or now
    if plan.is_download:
        return build_calendar(entries, now=stamp)
    return build_calendar(
        entries, now=stamp, name=plan.name, refresh_interval=REFRESH_INTERVAL,
        default_timezone=plan.default_timezone,
    )


async def render_feed(
    db: AsyncSession, plan: FeedPlan, *, now: datetime, settings: Settings
) -> bytes:
    """The feed as iCalendar bytes (no METHOD: feeds are published, not sent)."""
    return build_feed(plan, await feed_entries(db, plan, settings=settings), now=now)


# --- private links ----------------------------------------------------------------------------


async def issue_registration_feed_token(
    db: AsyncSession, registration_id: int, *, now: datetime, settings: Settings
) -> str:
    """A new feed link for a registrant; the previous one stops working."""
    return await access.issue_access_token(
        db, AccessPurpose.REGISTRATION_FEED, secret_key=settings.secret_key, now=now,
        registration_id=registration_id,
    )


async def replace_registration_feed_token(
    db: AsyncSession, manage_token: str, *, now: datetime, settings: Settings
) -> str:
    """The registrant, identified by their manage link, replaces their feed link."""
    found = await access.find_access(db, AccessPurpose.REGISTRATION_MANAGE, manage_token)
    if found is None or found.registration_id is None:
        raise NotFoundError("No such registration.", "token")
    return await issue_registration_feed_token(
        db, found.registration_id, now=now, settings=settings
    )


async def issue_speaker_feed_token(
    db: AsyncSession, person_id: int, *, now: datetime, settings: Settings
) -> str:
    return await access.issue_access_token(
        db, AccessPurpose.SPEAKER_FEED, secret_key=settings.secret_key, now=now,
        person_id=person_id,
    )


async def issue_speaker_links(
    db: AsyncSession, person_id: int, *, now: datetime, settings: Settings
) -> SpeakerLinks:
    """New page and feed links for a speaker (a Person); earlier ones stop working."""
    if await db.get(Person, person_id) is None:
        raise NotFoundError(f"No person with id {person_id}.", "person_id")
    page = await access.issue_access_token(
        db, AccessPurpose.SPEAKER_PAGE, secret_key=settings.secret_key, now=now,
        person_id=person_id,
    )
    feed = await issue_speaker_feed_token(db, person_id, now=now, settings=settings)
    return SpeakerLinks(page_token=page, feed_token=feed)


async def current_speaker_links(
    db: AsyncSession, person_id: int, *, now: datetime, settings: Settings
) -> SpeakerLinks:
    """A speaker's live page and feed links, the ones already emailed: reading them revokes
    nothing (a link is derived again from its stored nonce); issued on first use."""
    if await db.get(Person, person_id) is None:
        raise NotFoundError(f"No person with id {person_id}.", "person_id")
    page = await access.current_access_token(
        db, AccessPurpose.SPEAKER_PAGE, secret_key=settings.secret_key, now=now,
        person_id=person_id,
    )
    feed = await access.current_access_token(
        db, AccessPurpose.SPEAKER_FEED, secret_key=settings.secret_key, now=now,
        person_id=person_id,
    )
    return SpeakerLinks(page_token=page, feed_token=feed)


async def issue_organiser_feed_token(
    db: AsyncSession, api_token_id: int, *, now: datetime, settings: Settings
) -> str:
    """A new organiser feed link tied to one API token (revoking the token ends the feed)."""
    return await access.issue_access_token(
        db, AccessPurpose.ORGANISER_FEED, secret_key=settings.secret_key, now=now,
        api_token_id=api_token_id,
    )


async def current_organiser_feed_token(
    db: AsyncSession, api_token_id: int, *, now: datetime, settings: Settings
) -> str:
    return await access.current_access_token(
        db, AccessPurpose.ORGANISER_FEED, secret_key=settings.secret_key, now=now,
        api_token_id=api_token_id,
    )


# --- change counter for in-process memos ------------------------------------------------------

_PROGRAMME_TYPES = (Event, Session, AgendaItem, AgendaItemSpeaker, Person, Organisation,
                    ContentTranslation)
_TOUCHED = "procura_feeds_programme_touched"
_revisions = itertools.count(1)
_revision = 0


def programme_revision() -> int:
    """Moves whenever this process commits a change to events, sessions, agendas or people."""
    return _revision


def _bump() -> None:
    global _revision
    _revision = next(_revisions)


@event.listens_for(OrmSession, "after_flush")
def _note_flush(db: OrmSession, _context: Any) -> None:
    changed = itertools.chain(db.new, db.dirty, db.deleted)
    if any(isinstance(instance, _PROGRAMME_TYPES) for instance in changed):
        db.info[_TOUCHED] = True


@event.listens_for(OrmSession, "do_orm_execute")
def _note_bulk_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_TOUCHED] = True


@event.listens_for(OrmSession, "after_commit")
def _after_commit(db: OrmSession) -> None:
    if db.info.pop(_TOUCHED, False):
        _bump()


@event.listens_for(OrmSession, "after_rollback")
def _after_rollback(db: OrmSession) -> None:
    db.info.pop(_TOUCHED, None)

"""What the public pages show, built from the models: plain frozen view objects for templates.

Times are turned into the event's wall-clock time here (with its zone's abbreviation, such
as CET/CEST, and labelled with the event's own zone and city), never in templates, and each
carries its UTC instant so the page script can add the visitor's own time. Only
public fields are copied into the public views: join links and email addresses appear only
in the views of the private pages (manage page, speaker page), and only where the reader
is entitled to them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    AgendaItem,
    AgendaItemSpeaker,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventStatus,
    Person,
    Registration,
    RegistrationStatus,
    Session,
    SessionMaterial,
    SessionMode,
    SessionStatus,
)
from service.domain import programme, urls
from service.domain.calendars.content import event_in, session_in
from service.domain.calendars.entries import session_entry
from service.domain.calendars.ical import google_calendar_link, outlook_calendar_link
from service.domain.programme.materials import holds_a_place, session_materials
from service.domain.programme.translations import localised
from service.domain.registration import (
    closed_reason,
    count_confirmed_enrolments,
    count_confirmed_registrations,
)
from service.domain.times import LocalTime, in_zone, iso_utc
from service.domain.wording import (
    AGENDA_KIND_LABELS,
    ENROLMENT_LABELS,
    KIND_LABELS,
    MODE_LABELS,
    date_range_text,
    date_text,
    paragraphs,
    zone_abbreviation,
    zone_label,
)
from service.i18n import current_language, ngettext, pgettext
from service.i18n import gettext as _
from service.settings import Settings
from service.web.countries import country_name


def day_label(local: datetime) -> str:
    return date_text(local.date())


def date_range_label(first: datetime, last: datetime) -> str:
    return date_range_text(first.date(), last.date())


# --- building blocks -----------------------------------------------------------------------


@dataclass(frozen=True)
class TimeSpan:
    """A start and end as shown in the event's zone, with the UTC instants for the script.

    Start and end each have their abbreviation: they differ when the clocks change in
    between (01:30 CET - 03:30 CEST), and tell the repeated autumn hour apart.
    """

    day: str
    start: str
    end: str
    abbreviation: str
    zone: str
    utc_start: str
    utc_end: str
    end_abbreviation: str = ""

    @property
    def crosses_change(self) -> bool:
        return bool(self.end_abbreviation) and self.end_abbreviation != self.abbreviation

    @property
    def abbreviations(self) -> str:
        """"CET", or "CET/CEST" for a span across a change of the clocks."""
        if self.crosses_change:
            return f"{self.abbreviation}/{self.end_abbreviation}"
        return self.abbreviation

    @property
    def text(self) -> str:
        if self.crosses_change:
            return f"{self.start} {self.abbreviation} – {self.end} {self.end_abbreviation}"
        return f"{self.start}–{self.end} {self.abbreviation}"


def time_span(starts_at: datetime, ends_at: datetime, zone: str) -> TimeSpan:
    start: LocalTime = in_zone(starts_at, zone)
    end: LocalTime = in_zone(ends_at, zone)
    return TimeSpan(
        day=day_label(start.local),
        start=f"{start.local:%H:%M}",
        end=f"{end.local:%H:%M}",
        abbreviation=zone_abbreviation(start.local),
        zone=zone,
        utc_start=iso_utc(starts_at),
        utc_end=iso_utc(ends_at),
        end_abbreviation=zone_abbreviation(end.local),
    )


@dataclass(frozen=True)
class SpeakerView:
    name: str
    organisation: str | None
    job_title: str | None = None


@dataclass(frozen=True)
class AgendaRow:
    when: TimeSpan
    title: str
    kind: str
    description: str
    speakers: tuple[SpeakerView, ...]


def speaker_view(speaker: AgendaItemSpeaker) -> SpeakerView:
    organisation = speaker.organisation or speaker.person.organisation
    return SpeakerView(
        name=speaker.person.name,
        organisation=organisation.name if organisation else None,
        job_title=speaker.person.job_title,
    )


def agenda_row(item: AgendaItem, zone: str, event: Event | None = None) -> AgendaRow:
    """An agenda item as shown; its title and description in the page's language where
    `event` (with its translations) is given."""
    return AgendaRow(
        when=time_span(item.starts_at, item.ends_at, zone),
        title=item.title if event is None
        else localised(event, "title", current_language(), item),
        kind=AGENDA_KIND_LABELS.get(item.kind, ""),
        description=item.description if event is None
        else localised(event, "description", current_language(), item),
        speakers=tuple(speaker_view(s) for s in item.speakers),
    )


# --- availability --------------------------------------------------------------------------


@dataclass(frozen=True)
class Availability:
    """Places left (None: no limit) and the words for it."""

    places_left: int | None
    label: str
    tone: str  # "open", "full", "closed": a CSS hook

    @property
    def is_full(self) -> bool:
        return self.places_left == 0


def _places_label(left: int | None) -> Availability:
    if left is None:
        return Availability(None, _("Places available"), "open")
    if left <= 0:
        return Availability(0, _("Waiting list"), "full")
    return Availability(left, ngettext("%(count)s place left", "%(count)s places left", left)
                        % {"count": left}, "open")


def event_bounds(event: Event) -> tuple[datetime, datetime] | None:
    if not event.sessions:
        return None
    return min(s.starts_at for s in event.sessions), max(s.ends_at for s in event.sessions)


def is_past(event: Event, now: datetime) -> bool:
    bounds = event_bounds(event)
    return bounds is not None and bounds[1] <= now


def registration_state(event: Event, now: datetime, *, as_published: bool = False
                       ) -> str | None:
    """Why registering is not possible now, in a sentence (the domain's rule, with the
    opening time where that is the reason); None when it is."""
    reason = closed_reason(event, now, as_published=as_published)
    if reason is None:
        return None
    if reason.field == "registration_opens_at" and event.registration_opens_at is not None:
        opens = in_zone(event.registration_opens_at, event.timezone)
        return _("%(reason)s It opens on %(day)s at %(time)s %(zone)s.") % {
            "reason": reason.message, "day": day_label(opens.local),
            "time": f"{opens.local:%H:%M}", "zone": opens.abbreviation}
    return reason.message


def event_availability(
    event: Event, now: datetime, registrations: int, enrolments: dict[int, int], *,
    as_published: bool = False,
) -> Availability:
    if event.status == EventStatus.CANCELLED:
        return Availability(None, pgettext("event", "Cancelled"), "closed")
    if is_past(event, now):
        return Availability(None, _("Took place"), "closed")
    closed = closed_reason(event, now, as_published=as_published)
    if closed is not None:
        return Availability(None, _("Registration closed")
                            if closed.field == "registration_closes_at"
                            else _("Registration not open yet"), "closed")
    if event.capacity is not None:
        return _places_label(event.capacity - registrations)
    limited = [s for s in event.sessions
               if s.capacity is not None and s.status == SessionStatus.SCHEDULED]
    scheduled = [s for s in event.sessions if s.status == SessionStatus.SCHEDULED]
    if limited and len(limited) == len(scheduled):
        left = sum(max(0, (s.capacity or 0) - enrolments.get(s.id, 0)) for s in limited)
        return _places_label(left)
    return _places_label(None)


def session_availability(session: Session, enrolments: dict[int, int]) -> Availability | None:
    if session.capacity is None or session.status == SessionStatus.CANCELLED:
        return None
    return _places_label(session.capacity - enrolments.get(session.id, 0))


# --- the programme -------------------------------------------------------------------------


def _place_text(event: Event) -> str:
    modes = {s.mode for s in event.sessions}
    city = event.venue_city
    if modes and modes <= {SessionMode.ONLINE}:
        return _("Online")
    if SessionMode.ONLINE in modes or SessionMode.HYBRID in modes:
        return _("%(city)s and online") % {"city": city} if city else _("In person and online")
    return city or _("In person")


@dataclass(frozen=True)
class EventCard:
    slug: str
    title: str
    kind: str
    kind_label: str
    summary: str
    dates: str
    place: str
    host: str | None
    availability: Availability
    is_cancelled: bool
    is_sample_data: bool
    is_approval_required: bool


def event_card(event: Event, now: datetime, registrations: int,
               enrolments: dict[int, int], *, as_published: bool = False) -> EventCard:
    bounds = event_bounds(event)
    dates = (date_range_label(in_zone(bounds[0], event.timezone).local,
                              in_zone(bounds[1], event.timezone).local)
             if bounds else _("Dates to be announced"))
    language = current_language()
    return EventCard(
        slug=event.slug,
        title=localised(event, "title", language),
        kind=str(event.kind),
        kind_label=KIND_LABELS[event.kind],
        summary=localised(event, "summary", language),
        dates=dates,
        place=_place_text(event),
        host=event.host_organisation.name if event.host_organisation else None,
        availability=event_availability(event, now, registrations, enrolments,
                                        as_published=as_published),
        is_cancelled=event.status == EventStatus.CANCELLED,
        is_sample_data=event.is_sample_data,
        is_approval_required=event.is_approval_required,
    )


async def event_cards(db: AsyncSession, events: Sequence[Event], now: datetime) -> list[EventCard]:
    registrations = await count_confirmed_registrations(db, [e.id for e in events])
    enrolments = await count_confirmed_enrolments(db, [s.id for e in events for s in e.sessions])
    return [event_card(e, now, registrations.get(e.id, 0), enrolments) for e in events]


# --- one event -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MaterialView:
    """A link shared with a session, its title in the page's language where translated."""

    title: str
    url: str


def material_views(event: Event, materials: Sequence[SessionMaterial]) -> tuple[MaterialView, ...]:
    language = current_language()
    return tuple(MaterialView(title=localised(event, "title", language, material),
                              url=material.url) for material in materials)


@dataclass(frozen=True)
class SessionView:
    id: int
    title: str
    description: list[str]
    description_language: str
    when: TimeSpan
    mode: str
    is_cancelled: bool
    availability: Availability | None
    agenda: tuple[AgendaRow, ...]
    ics_url: str
    google_url: str
    outlook_url: str
    # Shared with everyone (`programme.materials`); a registrant's own are on EnrolmentView.
    materials: tuple[MaterialView, ...] = ()
    # Whether there are materials for registrants only (said on the public page, never shown).
    has_materials_for_registrants: bool = False


def _lang_query(event: Event, language: str) -> str:
    """`?lang=de` for calendar links when the page is not in the event's own language."""
    return "" if language == event.default_language else f"?lang={language}"


def session_view(session: Session, event: Event, settings: Settings,
                 enrolments: dict[int, int], materials: Sequence[SessionMaterial] = (),
                 has_materials_for_registrants: bool = False) -> SessionView:
    # Public: built without the join link, so the calendar links cannot leak it; in the
    # page's language, as are the calendar files it links to.
    language = current_language()
    entry = session_entry(session_in(session, event, language), event_in(event, language),
                          settings, include_join_url=False)
    description = localised(event, "description", language, session)
    return SessionView(
        id=session.id,
        title=localised(event, "title", language, session),
        description=paragraphs(description),
        description_language=description.language,
        when=time_span(session.starts_at, session.ends_at, event.timezone),
        mode=_(MODE_LABELS[session.mode]),
        is_cancelled=session.status == SessionStatus.CANCELLED,
        availability=session_availability(session, enrolments),
        agenda=tuple(agenda_row(i, event.timezone, event) for i in session.agenda_items),
        ics_url=f"/feeds/sessions/{session.id}.ics{_lang_query(event, language)}",
        google_url=google_calendar_link(entry),
        outlook_url=outlook_calendar_link(entry),
        materials=material_views(event, materials),
        has_materials_for_registrants=has_materials_for_registrants,
    )


@dataclass(frozen=True)
class VenueView:
    name: str | None
    address: str | None
    city: str | None
    country: str | None


@dataclass(frozen=True)
class EventView:
    id: int
    slug: str
    title: str
    kind: str
    kind_label: str
    summary: str
    description: list[str]
    dates: str
    zone: str
    zone_label: str
    abbreviations: str
    host: str | None
    venue: VenueView | None
    place: str
    is_online_only: bool
    has_in_person: bool
    is_cancelled: bool
    is_sample_data: bool
    is_approval_required: bool
    allows_session_choice: bool
    offers_session_choice: bool
    is_hybrid: bool
    availability: Availability
    closed_reason: str | None
    sessions: tuple[SessionView, ...]
    speakers: tuple[SpeakerView, ...]
    webcal_url: str
    feed_url: str
    # Some session is followed online (the place then says so, in any language).
    has_online: bool = False
    # The language the description is shown in (for its `lang` attribute).
    description_language: str = "en"


def _speakers(event: Event) -> tuple[SpeakerView, ...]:
    seen: dict[str, SpeakerView] = {}
    for session in event.sessions:
        for item in session.agenda_items:
            for speaker in item.speakers:
                view = speaker_view(speaker)
                seen.setdefault(f"{view.name}|{view.organisation}", view)
    return tuple(seen.values())


async def event_view(db: AsyncSession, event: Event, settings: Settings,
                     now: datetime, *, as_published: bool = False) -> EventView:
    """The event as its public page shows it; a draft `as_published` as it will be shown
    once published (an organiser's preview)."""
    registrations = await count_confirmed_registrations(db, [event.id])
    enrolments = await count_confirmed_enrolments(db, [s.id for s in event.sessions])
    materials = await session_materials(db, [s.id for s in event.sessions], for_registrants=True)
    card = event_card(event, now, registrations.get(event.id, 0), enrolments,
                      as_published=as_published)
    modes = {s.mode for s in event.sessions}
    has_venue = any([event.venue_name, event.venue_address, event.venue_city])
    abbreviations = sorted({zone_abbreviation(in_zone(instant, event.timezone).local)
                            for s in event.sessions for instant in (s.starts_at, s.ends_at)})
    feed = urls.event_feed_url(settings, event.slug) + _lang_query(event, current_language())
    description = localised(event, "description", current_language())
    return EventView(
        id=event.id,
        slug=event.slug,
        title=card.title,
        kind=str(event.kind),
        kind_label=KIND_LABELS[event.kind],
        summary=card.summary,
        description=paragraphs(description),
        description_language=description.language,
        dates=card.dates,
        zone=event.timezone,
        zone_label=zone_label(event.timezone, event.venue_city),
        abbreviations="/".join(abbreviations),
        host=card.host,
        venue=VenueView(
            name=event.venue_name, address=event.venue_address, city=event.venue_city,
            country=country_name(event.venue_country) if event.venue_country else None,
        ) if has_venue and modes != {SessionMode.ONLINE} else None,
        place=card.place,
        is_online_only=bool(modes) and modes <= {SessionMode.ONLINE},
        has_in_person=bool(modes & {SessionMode.IN_PERSON, SessionMode.HYBRID}),
        is_cancelled=card.is_cancelled,
        is_sample_data=event.is_sample_data,
        is_approval_required=event.is_approval_required,
        allows_session_choice=event.allows_session_choice,
        offers_session_choice=programme.offers_session_choice(event),
        is_hybrid=programme.is_hybrid(event),
        availability=card.availability,
        closed_reason=registration_state(event, now, as_published=as_published),
        sessions=tuple(session_view(
            s, event, settings, enrolments,
            [m for m in materials[s.id] if not m.is_for_registrants],
            has_materials_for_registrants=any(m.is_for_registrants for m in materials[s.id]))
            for s in event.sessions),
        speakers=_speakers(event),
        webcal_url=urls.webcal_url(feed),
        feed_url=feed,
        has_online=bool(modes & {SessionMode.ONLINE, SessionMode.HYBRID}),
    )


# --- private pages -------------------------------------------------------------------------


@dataclass(frozen=True)
class EnrolmentView:
    session: SessionView
    status: str
    status_label: str
    join_url: str | None
    # The session's materials for registrants only, for whoever holds a place in it.
    own_materials: tuple[MaterialView, ...] = ()
    # Checked in at its door, or on its attendance list.
    attended: bool = False


def enrolment_views(
    registration: Registration, event: Event, enrolments: Sequence[Enrolment],
    settings: Settings, counts: dict[int, int], *, with_join_links: bool = True,
    materials: Mapping[int, Sequence[SessionMaterial]] | None = None,
) -> list[EnrolmentView]:
    """The registrant's sessions; the join link only for a confirmed place in a live session;
    with `materials` (`session_materials(..., for_registrants=True)`), the public ones for
    all and those for registrants only for a place held."""
    by_session = {e.session_id: e for e in enrolments}
    views = []
    for session in event.sessions:
        enrolment = by_session.get(session.id)
        if enrolment is None:
            continue
        entitled = (
            with_join_links
            and enrolment.status == EnrolmentStatus.CONFIRMED
            and registration.status == RegistrationStatus.CONFIRMED
            and session.status == SessionStatus.SCHEDULED
            and session.mode != SessionMode.IN_PERSON
        )
        pending = (registration.status == RegistrationStatus.PENDING
                   and enrolment.status != EnrolmentStatus.CANCELLED)
        shared = (materials or {}).get(session.id, ())
        own = [m for m in shared if m.is_for_registrants]
        views.append(EnrolmentView(
            session=session_view(session, event, settings, counts,
                                 [m for m in shared if not m.is_for_registrants]),
            status="pending" if pending else str(enrolment.status),
            status_label=_("Awaiting approval") if pending
            else _(ENROLMENT_LABELS[enrolment.status]),
            join_url=session.join_url if entitled else None,
            own_materials=material_views(event, own)
            if own and holds_a_place(registration, enrolment) else (),
            attended=enrolment.checked_in_at is not None,
        ))
    return views


@dataclass(frozen=True)
class SpeakerSlot:
    event_title: str
    event_slug: str
    kind_label: str
    session_title: str
    session_when: TimeSpan
    session_mode: str
    is_cancelled: bool
    place: str
    slot: AgendaRow
    co_speakers: tuple[SpeakerView, ...]
    session_agenda: tuple[AgendaRow, ...]
    join_url: str | None
    ends_utc: datetime


async def speaker_slots(db: AsyncSession, person_id: int) -> tuple[Person | None, list[SpeakerSlot]]:
    """A speaker's agenda items in published events, in time order, with their sessions."""
    person, items = await programme.find_speaker_items(db, person_id)
    if person is None:
        return None, []
    slots = []
    for item in items:
        session = item.session
        event = session.event
        zone = event.timezone
        cancelled = (session.status == SessionStatus.CANCELLED
                     or event.status == EventStatus.CANCELLED)
        language = current_language()
        slots.append(SpeakerSlot(
            event_title=localised(event, "title", language),
            event_slug=event.slug,
            kind_label=KIND_LABELS[event.kind],
            session_title=localised(event, "title", language, session),
            session_when=time_span(session.starts_at, session.ends_at, zone),
            session_mode=_(MODE_LABELS[session.mode]),
            is_cancelled=cancelled,
            place=_place_text(event),
            slot=agenda_row(item, zone, event),
            co_speakers=tuple(speaker_view(s) for s in item.speakers
                              if s.person_id != person_id),
            session_agenda=tuple(agenda_row(i, zone, event) for i in session.agenda_items),
            join_url=session.join_url
            if session.mode != SessionMode.IN_PERSON and not cancelled else None,
            ends_utc=session.ends_at,
        ))
    return person, slots

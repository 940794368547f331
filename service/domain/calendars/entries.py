"""Sessions and speaker slots as calendar entries: the one mapping every iCal output uses.

Public feeds, personal feeds, email invites and single-session downloads all build their
VEVENTs from these functions (and `service.domain.calendars.ical`), so a session has the same UID,
times and text wherever it appears. Join links are included only when the caller says the
reader is entitled to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from service.db.models import EventKind, SessionMode, SessionStatus
from service.domain.calendars.ical import CalendarAttendee, CalendarEntry, session_uid, speaker_slot_uid
from service.domain.times import in_zone
from service.domain.urls import event_page_url
from service.domain.wording import (
    HasVenue,
    clock_text,
    date_text,
    kind_label,
    place_text,
    venue_line,
    zone_abbreviation,
)
from service.i18n import gettext as _
from service.i18n import pgettext
from service.settings import Settings

if TYPE_CHECKING:
    pass


# What the mapping reads, as read-only views: the ORM models satisfy them, and so do the light
# rows a large feed loads with plain queries (service.domain.calendars.feeds) to stay fast.


class OrganisationView(Protocol):
    @property
    def name(self) -> str: ...


class PersonView(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str | None: ...
    @property
    def organisation(self) -> OrganisationView | None: ...


class SpeakerView(Protocol):
    @property
    def person_id(self) -> int: ...
    @property
    def person(self) -> PersonView: ...
    @property
    def organisation(self) -> OrganisationView | None: ...


class AgendaItemView(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def sequence(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def speakers(self) -> Sequence[SpeakerView]: ...


class SessionView(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def mode(self) -> SessionMode: ...
    @property
    def join_url(self) -> str | None: ...
    @property
    def status(self) -> SessionStatus: ...
    @property
    def sequence(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def agenda_items(self) -> Sequence[AgendaItemView]: ...


class EventView(HasVenue, Protocol):
    @property
    def title(self) -> str: ...
    @property
    def slug(self) -> str: ...
    @property
    def kind(self) -> EventKind: ...
    @property
    def timezone(self) -> str: ...
    @property
    def contact_email(self) -> str | None: ...


def _speaker_names(item: AgendaItemView) -> str:
    names = []
    for speaker in item.speakers:
        organisation = speaker.organisation or speaker.person.organisation
        names.append(f"{speaker.person.name}, {organisation.name}" if organisation
                     else speaker.person.name)
    return "; ".join(names)


def agenda_text(session: SessionView, event: EventView) -> str:
    """The timed agenda as organisers write it: "10:10 Title, Speaker, Organisation".

    One label in the heading when every time has the same ("CET"); on the day the clocks
    change, each line carries its own ("01:30 CET", "03:30 CEST"), so that the hour
    repeated in autumn is not ambiguous either.
    """
    zone = event.timezone
    zone_info = ZoneInfo(zone)  # one lookup per session: feeds call this thousands of times
    if not session.agenda_items:
        return ""
    times = [item.starts_at.astimezone(zone_info) for item in session.agenda_items]
    end = session.ends_at.astimezone(zone_info)
    labels = {moment.tzname() for moment in (*times, end)}
    one_label = len(labels) == 1

    def clock(moment: datetime) -> str:
        return f"{moment:%H:%M}" if one_label else clock_text(moment)

    lines = [_("Agenda (times in %(zone)s, %(abbreviation)s):")
             % {"zone": zone, "abbreviation": zone_abbreviation(end)} if one_label
             else _("Agenda (times in %(zone)s):") % {"zone": zone}]
    for item, local in zip(session.agenda_items, times, strict=True):
        speakers = _speaker_names(item)
        lines.append(f"{clock(local)} {item.title}" + (f", {speakers}" if speakers else ""))
    end_word = pgettext("agenda", "End")
    lines.append(f"{clock(end)} {end_word}")
    return "\n".join(lines)


def session_location(session: SessionView, event: EventView, *, include_join_url: bool) -> str:
    if session.mode == SessionMode.ONLINE and include_join_url and session.join_url:
        return session.join_url
    return place_text(session.mode, venue_line(event))


def session_description(session: SessionView, event: EventView, settings: Settings, *,
                        include_join_url: bool) -> str:
    parts = [event.title]
    if session.description:
        parts.append(session.description)
    agenda = agenda_text(session, event)
    if agenda:
        parts.append(agenda)
    if include_join_url and session.join_url:
        parts.append(_("Join online: %(url)s") % {"url": session.join_url})
    if session.status == SessionStatus.CANCELLED:
        parts.insert(0, _("CANCELLED"))
    parts.append(_("Details: %(url)s") % {"url": event_page_url(settings, event.slug)})
    return "\n\n".join(parts)


def session_summary(session: SessionView, event: EventView) -> str:
    """The title a calendar shows: the session's, with the event's name unless it has it.

    "Study visit day" or "Market dialogue" alone says nothing in a calendar full of
    other events, whether the event has one session or several.
    """
    if event.title.casefold() in session.title.casefold():
        return session.title
    return f"{session.title} ({event.title})"


def session_entry(
    session: SessionView, event: EventView, settings: Settings, *, include_join_url: bool,
    attendees: tuple[CalendarAttendee, ...] = (), cancelled: bool = False,
    sequence_offset: int = 0,
) -> CalendarEntry:
    """One session as a calendar entry; `cancelled` marks it so for one registrant's invite.

    `sequence_offset` lifts one attendee's copy above the session's SEQUENCE (shared with
    the feeds) by the times their own invite was withdrawn or sent again
    (`Enrolment.invite_sequence`), so each message to them outranks the one before.
    """
    is_cancelled = cancelled or session.status == SessionStatus.CANCELLED
    return CalendarEntry(
        uid=session_uid(session.id, settings.uid_domain),
        sequence=session.sequence + sequence_offset,
        summary=session_summary(session, event),
        description=session_description(session, event, settings,
                                        include_join_url=include_join_url),
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        timezone=event.timezone,
        status="CANCELLED" if is_cancelled else "CONFIRMED",
        location=session_location(session, event, include_join_url=include_join_url),
        url=event_page_url(settings, event.slug),
        categories=(kind_label(event.kind),),
        conference_label=_("Join online"),
        organizer_email=event.contact_email or settings.organiser_email,
        organizer_name=settings.organiser_name,
        attendees=attendees,
        conference_url=session.join_url if include_join_url and session.mode != SessionMode.IN_PERSON
        else None,
        created_at=session.created_at,
        last_modified_at=session.updated_at,
    )


def speaker_slot_entry(
    item: AgendaItemView, session: SessionView, event: EventView, person: PersonView,
    settings: Settings, *,
    cancelled: bool = False,
) -> CalendarEntry:
    """A speaker's own slot: their agenda item, with the session's details and join link."""
    zone = event.timezone
    start = in_zone(item.starts_at, zone)
    co_speakers = [s.person.name for s in item.speakers if s.person_id != person.id]
    lines = [
        _("Your slot in %(session)s (%(event)s):") % {"session": session.title,
                                                       "event": event.title},
        f"{date_text(start.local.date())}, {clock_text(start.local)} ({start.utc:%H:%M} UTC): "
        f"{item.title}",
    ]
    if co_speakers:
        lines.append(_("With: %(names)s") % {"names": ", ".join(co_speakers)})
    agenda = agenda_text(session, event)
    if agenda:
        lines.append("\n" + agenda)
    if session.join_url and session.mode != SessionMode.IN_PERSON:
        lines.append("\n" + _("Join online: %(url)s") % {"url": session.join_url})
    lines.append("\n" + _("Details: %(url)s") % {"url": event_page_url(settings, event.slug)})
    is_cancelled = cancelled or session.status == SessionStatus.CANCELLED
    return CalendarEntry(
        uid=speaker_slot_uid(item.id, person.id, settings.uid_domain),
        sequence=session.sequence + item.sequence,
        summary=_("Speaking: %(item)s (%(event)s)") % {"item": item.title, "event": event.title},
        description="\n".join(lines),
        starts_at=item.starts_at,
        ends_at=item.ends_at,
        timezone=zone,
        status="CANCELLED" if is_cancelled else "CONFIRMED",
        location=session_location(session, event, include_join_url=True),
        url=event_page_url(settings, event.slug),
        categories=(kind_label(event.kind), pgettext("calendar category", "Speaker")),
        conference_label=_("Join online"),
        organizer_email=event.contact_email or settings.organiser_email,
        organizer_name=settings.organiser_name,
        attendees=(CalendarAttendee(email=person.email, name=person.name, role="CHAIR"),)
        if person.email else (),
        conference_url=session.join_url if session.mode != SessionMode.IN_PERSON else None,
        created_at=item.created_at,
        last_modified_at=item.updated_at,
    )

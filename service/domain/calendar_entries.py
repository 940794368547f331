"""Sessions and speaker slots as calendar entries: the one mapping every iCal output uses.

Public feeds, personal feeds, email invites and single-session downloads all build their
VEVENTs from these functions (and `service.domain.ical`), so a session has the same UID,
times and text wherever it appears. Join links are included only when the caller says the
reader is entitled to them.
"""

from __future__ import annotations

from service.db.models import AgendaItem, Event, Person, Session, SessionMode, SessionStatus
from service.domain.follow_ups import venue_line
from service.domain.ical import CalendarAttendee, CalendarEntry, session_uid, speaker_slot_uid
from service.domain.times import in_zone
from service.settings import Settings

KIND_LABELS = {
    "seminar": "Seminar",
    "webinar_series": "Webinar",
    "citymatch": "CityMatch study visit",
    "meet_your_buyer": "Meet-your-Buyer dialogue",
}


def event_page_url(settings: Settings, event: Event) -> str:
    return f"{settings.public_base_url}/events/{event.slug}"


def _speaker_names(item: AgendaItem) -> str:
    names = []
    for speaker in item.speakers:
        organisation = speaker.organisation or speaker.person.organisation
        names.append(f"{speaker.person.name}, {organisation.name}" if organisation
                     else speaker.person.name)
    return "; ".join(names)


def agenda_text(session: Session, event: Event) -> str:
    """The timed agenda as organisers write it: "10:10 Title, Speaker, Organisation"."""
    zone = event.timezone
    lines = []
    for item in session.agenda_items:
        local = in_zone(item.starts_at, zone)
        speakers = _speaker_names(item)
        lines.append(f"{local.local:%H:%M} {item.title}" + (f", {speakers}" if speakers else ""))
    if lines:
        end = in_zone(session.ends_at, zone)
        lines.append(f"{end.local:%H:%M} End")
        lines.insert(0, f"Agenda (times in {zone}, {end.abbreviation}):")
    return "\n".join(lines)


def session_location(session: Session, event: Event, *, include_join_url: bool) -> str:
    venue = venue_line(event)
    if session.mode == SessionMode.ONLINE:
        return session.join_url if include_join_url and session.join_url else "Online"
    if session.mode == SessionMode.HYBRID:
        return f"{venue} and online" if venue else "Hybrid: in person and online"
    return venue or "In person"


def session_description(session: Session, event: Event, settings: Settings, *,
                        include_join_url: bool) -> str:
    parts = [event.title]
    if session.description:
        parts.append(session.description)
    agenda = agenda_text(session, event)
    if agenda:
        parts.append(agenda)
    if include_join_url and session.join_url:
        parts.append(f"Join online: {session.join_url}")
    if session.status == SessionStatus.CANCELLED:
        parts.insert(0, "CANCELLED")
    parts.append(f"Details: {event_page_url(settings, event)}")
    return "\n\n".join(parts)


def session_entry(
    session: Session, event: Event, settings: Settings, *, include_join_url: bool,
    attendees: tuple[CalendarAttendee, ...] = (), cancelled: bool = False,
) -> CalendarEntry:
    """One session as a calendar entry; `cancelled` marks it so for one registrant's invite."""
    is_cancelled = cancelled or session.status == SessionStatus.CANCELLED
    return CalendarEntry(
        uid=session_uid(session.id, settings.uid_domain),
        sequence=session.sequence,
        summary=f"{session.title} ({event.title})" if len(event.sessions) > 1
        else session.title,
        description=session_description(session, event, settings,
                                        include_join_url=include_join_url),
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        timezone=event.timezone,
        status="CANCELLED" if is_cancelled else "CONFIRMED",
        location=session_location(session, event, include_join_url=include_join_url),
        url=event_page_url(settings, event),
        categories=(KIND_LABELS.get(str(event.kind), str(event.kind)),),
        organizer_email=event.contact_email or settings.organiser_email,
        organizer_name=settings.organiser_name,
        attendees=attendees,
        conference_url=session.join_url if include_join_url and session.mode != SessionMode.IN_PERSON
        else None,
        created_at=session.created_at,
        last_modified_at=session.updated_at,
    )


def speaker_slot_entry(
    item: AgendaItem, session: Session, event: Event, person: Person, settings: Settings, *,
    cancelled: bool = False,
) -> CalendarEntry:
    """A speaker's own slot: their agenda item, with the session's details and join link."""
    zone = event.timezone
    start = in_zone(item.starts_at, zone)
    co_speakers = [s.person.name for s in item.speakers if s.person_id != person.id]
    lines = [
        f"Your slot in {session.title} ({event.title}):",
        f"{start.local:%A %d %B %Y, %H:%M} {start.abbreviation} ({start.utc:%H:%M} UTC): "
        f"{item.title}",
    ]
    if co_speakers:
        lines.append("With: " + ", ".join(co_speakers))
    agenda = agenda_text(session, event)
    if agenda:
        lines.append("\n" + agenda)
    if session.join_url and session.mode != SessionMode.IN_PERSON:
        lines.append(f"\nJoin online: {session.join_url}")
    lines.append(f"\nDetails: {event_page_url(settings, event)}")
    is_cancelled = cancelled or session.status == SessionStatus.CANCELLED
    return CalendarEntry(
        uid=speaker_slot_uid(item.id, person.id, settings.uid_domain),
        sequence=session.sequence + item.sequence,
        summary=f"Speaking: {item.title}",
        description="\n".join(lines),
        starts_at=item.starts_at,
        ends_at=item.ends_at,
        timezone=zone,
        status="CANCELLED" if is_cancelled else "CONFIRMED",
        location=session_location(session, event, include_join_url=True),
        url=event_page_url(settings, event),
        categories=(KIND_LABELS.get(str(event.kind), str(event.kind)), "Speaker"),
        organizer_email=event.contact_email or settings.organiser_email,
        organizer_name=settings.organiser_name,
        attendees=(CalendarAttendee(email=person.email, name=person.name, role="CHAIR"),)
        if person.email else (),
        conference_url=session.join_url if session.mode != SessionMode.IN_PERSON else None,
        created_at=item.created_at,
        last_modified_at=item.updated_at,
    )

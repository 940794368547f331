"""One-to-one meetings of a Meet-your-Buyer event as calendar entries.

A meeting is one calendar event with its own UID, shared by the supplier's and the host's
invites (both are attendees) and by their personal feeds, so an update or a CANCEL finds
it in either calendar. Its SEQUENCE is the meeting's own, raised by every move.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from service.domain.calendars.ical import CalendarAttendee, CalendarEntry
from service.domain.times import in_zone
from service.domain.urls import event_page_url
from service.domain.wording import date_text
from service.settings import Settings


def meeting_uid(request_id: int, domain: str) -> str:
    """Stable for the meeting's whole life (one meeting per request): moves, cancellations
    and a later placement replace the same calendar event."""
    return f"one-to-one-{request_id}@{domain}"


@dataclass(frozen=True)
class MeetingFacts:
    """What an entry says about a meeting, read by the caller (plain values, no ORM)."""

    meeting_id: int
    uid: str
    sequence: int
    starts_at: datetime
    ends_at: datetime
    timezone: str
    event_title: str
    event_slug: str
    table_name: str
    join_url: str | None
    host_name: str
    host_email: str | None
    host_organisation: str | None
    supplier_name: str
    supplier_email: str
    supplier_company: str
    topic: str
    organizer_email: str
    cancelled: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None


def meeting_entry(facts: MeetingFacts, settings: Settings) -> CalendarEntry:
    """The meeting as both people see it: who meets whom, where, about what."""
    start = in_zone(facts.starts_at, facts.timezone)
    host = facts.host_name + (f", {facts.host_organisation}" if facts.host_organisation else "")
    supplier = f"{facts.supplier_name}, {facts.supplier_company}" if facts.supplier_company \
        else facts.supplier_name
    lines = [
        f"One-to-one meeting at {facts.event_title}",
        f"{date_text(start.local.date())}, {start.local:%H:%M} {start.abbreviation} "
        f"({start.utc:%H:%M} UTC), {facts.table_name}",
        f"Host: {host}",
        f"Supplier: {supplier}",
        f"Topic: {facts.topic}",
    ]
    if facts.join_url:
        lines.append(f"Join online: {facts.join_url}")
    lines.append(f"Details: {event_page_url(settings, facts.event_slug)}")
    attendees = [CalendarAttendee(email=facts.supplier_email, name=facts.supplier_name)]
    if facts.host_email:
        attendees.insert(0, CalendarAttendee(email=facts.host_email, name=facts.host_name, role="CHAIR"))
    return CalendarEntry(
        uid=facts.uid,
        sequence=facts.sequence,
        summary=f"Meeting: {facts.supplier_company or facts.supplier_name} – {facts.host_name} "
        f"({facts.event_title})",
        description="\n".join(lines),
        starts_at=facts.starts_at,
        ends_at=facts.ends_at,
        timezone=facts.timezone,
        status="CANCELLED" if facts.cancelled else "CONFIRMED",
        location=facts.table_name,
        url=event_page_url(settings, facts.event_slug),
        categories=("Meet-your-Buyer", "One-to-one meeting"),
        organizer_email=facts.organizer_email,
        organizer_name=settings.organiser_name,
        attendees=tuple(attendees),
        conference_url=facts.join_url,
        created_at=facts.created_at,
        last_modified_at=facts.updated_at,
    )

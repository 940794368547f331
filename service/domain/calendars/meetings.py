"""One-to-one meetings of a Meet-your-Buyer event as calendar entries.

A meeting is one calendar event with its own UID, shared by the supplier's and the host's
invites (both are attendees) and by their personal feeds, so an update or a CANCEL finds
it in either calendar. Its SEQUENCE is the meeting's own, raised by every move.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    Event,
    MeetingHost,
    MeetingRequest,
    MeetingSlot,
    MeetingTable,
    OneToOneMeeting,
    OneToOneStatus,
    Organisation,
    Person,
    Registration,
)
from service.domain.calendars.ical import CalendarAttendee, CalendarEntry
from service.domain.times import in_zone
from service.domain.urls import event_page_url
from service.domain.wording import clock_text, date_text
from service.i18n import gettext as _
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
        _("One-to-one meeting at %(event)s") % {"event": facts.event_title},
        f"{date_text(start.local.date())}, {clock_text(start.local)} "
        f"({start.utc:%H:%M} UTC), {facts.table_name}",
        _("Host: %(name)s") % {"name": host},
        _("Supplier: %(name)s") % {"name": supplier},
        _("Topic: %(topic)s") % {"topic": facts.topic},
    ]
    if facts.join_url:
        lines.append(_("Join online: %(url)s") % {"url": facts.join_url})
    lines.append(_("Details: %(url)s") % {"url": event_page_url(settings, facts.event_slug)})
    attendees = [CalendarAttendee(email=facts.supplier_email, name=facts.supplier_name)]
    if facts.host_email:
        attendees.insert(0, CalendarAttendee(email=facts.host_email, name=facts.host_name, role="CHAIR"))
    return CalendarEntry(
        uid=facts.uid,
        sequence=facts.sequence,
        summary=_("Meeting: %(supplier)s – %(host)s (%(event)s)") % {
            "supplier": facts.supplier_company or facts.supplier_name, "host": facts.host_name,
            "event": facts.event_title},
        description="\n".join(lines),
        starts_at=facts.starts_at,
        ends_at=facts.ends_at,
        timezone=facts.timezone,
        status="CANCELLED" if facts.cancelled else "CONFIRMED",
        location=facts.table_name,
        url=event_page_url(settings, facts.event_slug),
        categories=("Meet-your-Buyer", _("One-to-one meeting")),
        conference_label=_("Join online"),
        organizer_email=facts.organizer_email,
        organizer_name=settings.organiser_name,
        attendees=tuple(attendees),
        conference_url=facts.join_url,
        created_at=facts.created_at,
        last_modified_at=facts.updated_at,
    )


async def meeting_entries(
    db: AsyncSession, meeting_ids: Iterable[int], settings: Settings
) -> list[CalendarEntry]:
    """The entries of these meetings as personal feeds list them (cancelled ones marked)."""
    ids = sorted(set(meeting_ids))
    if not ids:
        return []
    rows = (await db.execute(
        select(OneToOneMeeting, MeetingSlot.starts_at, MeetingSlot.ends_at, MeetingTable.name,
               MeetingTable.join_url, Person.name, Person.email, Organisation.name,
               Registration.name, Registration.email, Registration.company,
               Registration.organisation_name, MeetingRequest.topic, Event.title, Event.slug,
               Event.timezone, Event.contact_email)
        .join(MeetingSlot, MeetingSlot.id == OneToOneMeeting.slot_id)
        .join(MeetingTable, MeetingTable.id == OneToOneMeeting.table_id)
        .join(MeetingHost, MeetingHost.id == OneToOneMeeting.host_id)
        .join(Person, Person.id == MeetingHost.person_id)
        .outerjoin(Organisation, Organisation.id == Person.organisation_id)
        .join(Registration, Registration.id == OneToOneMeeting.registration_id)
        .join(MeetingRequest, MeetingRequest.id == OneToOneMeeting.request_id)
        .join(Event, Event.id == OneToOneMeeting.event_id)
        .where(OneToOneMeeting.id.in_(ids))
    )).all()
    return [
        meeting_entry(MeetingFacts(
            meeting_id=m.id, uid=m.uid, sequence=m.sequence, starts_at=starts, ends_at=ends,
            timezone=zone, event_title=title, event_slug=slug, table_name=table, join_url=join_url,
            host_name=host, host_email=host_email, host_organisation=organisation,
            supplier_name=supplier, supplier_email=supplier_email,
            supplier_company=company or organisation_name, topic=topic,
            organizer_email=contact or settings.organiser_email,
            cancelled=m.status == OneToOneStatus.CANCELLED, created_at=m.created_at,
            updated_at=m.updated_at), settings)
        for (m, starts, ends, table, join_url, host, host_email, organisation, supplier,
             supplier_email, company, organisation_name, topic, title, slug, zone, contact) in rows
    ]


async def meeting_fingerprints(
    db: AsyncSession, *, registration_id: int | None = None, person_id: int | None = None,
    since: datetime,
) -> list[tuple[int, str, int, datetime]]:
    """(id, status, sequence, updated_at) of a supplier's or a host's meetings, for a feed's
    version; cancelled ones only while recent (`since`)."""
    query = select(OneToOneMeeting.id, OneToOneMeeting.status, OneToOneMeeting.sequence,
                   OneToOneMeeting.updated_at)
    if registration_id is not None:
        query = query.where(OneToOneMeeting.registration_id == registration_id)
    if person_id is not None:
        query = query.join(MeetingHost, MeetingHost.id == OneToOneMeeting.host_id).where(
            MeetingHost.person_id == person_id)
    query = query.where(or_(OneToOneMeeting.status != OneToOneStatus.CANCELLED,
                            OneToOneMeeting.updated_at >= since)).order_by(OneToOneMeeting.id)
    return [(i, str(s), q, u) for i, s, q, u in (await db.execute(query)).all()]

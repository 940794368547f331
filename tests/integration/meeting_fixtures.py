"""A Meet-your-Buyer event with a grid, hosts and suppliers, for the one-to-one meeting tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    ConsultationQuestion,
    Event,
    EventKind,
    MeetingHost,
    OneToOneMeeting,
    OrganisationKind,
    Registration,
    SessionMode,
)
from service.domain.consultation import meetings
from service.domain.consultation.questions import ask_question
from service.settings import Settings
from tests.factories import BUILT_AT, SessionSpec, make_event, make_person, make_registration

DIALOGUE_DAY = SessionSpec("Meet-your-Buyer day", "2035-11-12T09:00", "2035-11-12T17:00",
                           mode=SessionMode.IN_PERSON)


@dataclass
class Consultation:
    event: Event
    hosts: list[MeetingHost]
    suppliers: list[Registration]


def grid_input(**overrides: object) -> meetings.GridInput:
    """Two hours of 20-minute meetings with a 10-minute pause and lunch: 09:00, 09:30, 10:00,
    then 12:30 after lunch (12:00-12:30)."""
    values: dict[str, object] = {
        "meeting_minutes": 20, "gap_minutes": 10,
        "days": [meetings.Period("2035-11-12", "09:00", "10:30"),
                 meetings.Period("2035-11-12", "12:00", "13:00")],
        "breaks": [meetings.NamedBreak("Lunch", meetings.Period("2035-11-12", "12:00", "12:30"))],
        "tables": [meetings.TableInput("Table 1"), meetings.TableInput("Table 2")],
        **overrides,
    }
    return meetings.GridInput(**values)  # type: ignore[arg-type]


async def make_consultation(
    db: AsyncSession, settings: Settings, *, suppliers: int = 3, hosts: int = 2,
    grid: meetings.GridInput | None = None,
) -> Consultation:
    event = await make_event(db, settings, kind=EventKind.MEET_YOUR_BUYER, slug="haarlem-myb",
                             title="Meet the buyer: circular ICT", sessions=(DIALOGUE_DAY,),
                             commit=False, venue_name="Stadhuis", venue_city="Haarlem")
    await meetings.save_grid(db, event.id, grid or grid_input(), now=BUILT_AT)
    made_hosts = []
    for n in range(hosts):
        person = await make_person(db, f"Host {n + 1}", f"host{n + 1}@haarlem.example.nl",
                                   organisation="Gemeente Haarlem")
        made_hosts.append(await meetings.add_host(db, event.id, person.id, now=BUILT_AT))
    made_suppliers = []
    for n in range(suppliers):
        registration = await make_registration(
            db, event, None, f"Supplier {n + 1}", email_address=f"sales{n + 1}@vendor{n + 1}.example.com")
        registration.organisation_kind = OrganisationKind.SUPPLIER
        registration.company = f"Vendor {n + 1} BV"
        made_suppliers.append(registration)
    await db.flush()
    return Consultation(event, made_hosts, made_suppliers)


async def make_supplier_with_meeting(
    db: AsyncSession, settings: Settings, consultation: Consultation, name: str, address: str, *,
    company: str = "Circular Devices BV", now: datetime = BUILT_AT,
) -> tuple[Registration, OneToOneMeeting, ConsultationQuestion]:
    """A supplier (by this address) who asked the buyer a question and has a one-to-one
    meeting with the first host, invited on both sides."""
    registration = await make_registration(db, consultation.event, None, name,
                                           email_address=address, organisation=company)
    registration.organisation_kind = OrganisationKind.SUPPLIER
    registration.company = company
    await db.flush()
    [request] = await meetings.request_meetings(db, registration.id, [consultation.hosts[0].id],
                                                "Refurbished laptops", now=now, settings=settings)
    await meetings.decide_request(db, consultation.event.id, request.id, accept=True, now=now,
                                  settings=settings)
    await meetings.schedule_all_meetings(db, consultation.event.id, now=now, settings=settings)
    meeting = await db.scalar(select(OneToOneMeeting).where(
        OneToOneMeeting.registration_id == registration.id))
    assert meeting is not None
    question = await ask_question(db, registration, "Do you accept refurbished screens?",
                                  may_name_asker=False, now=now)
    return registration, meeting, question

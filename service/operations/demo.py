"""The demo programme: the real Make ICT Fair webinar series, and four marked samples.

Loaded through the same domain functions as the API, so the demo is also a check that the
programme rules accept real agendas. Loading twice changes nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.db.models import (
    Account,
    AgendaItemKind,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
    OrganisationKind,
    Registration,
    RegistrationStatus,
    SessionMode,
)
from service.domain import programme
from service.domain.accounts import create_account, default_team_id
from service.domain.consultation import meetings as one_to_one
from service.operations.demo_consultation import load_haarlem_consultation
from service.operations.demo_translations import load_sample_translations
from service.settings import Settings

MAKE_ICT_FAIR_SLUG = "make-ict-fair-webinar-series-2020"


@dataclass(frozen=True)
class Item:
    start: str  # HH:MM in the event's zone, on the session's day
    end: str
    title: str
    kind: AgendaItemKind
    speakers: tuple[tuple[str, str], ...] = ()  # (person, organisation)


@dataclass(frozen=True)
class DemoSession:
    title: str
    starts_at: str
    ends_at: str
    mode: SessionMode
    items: tuple[Item, ...]
    join_url: str | None = None
    capacity: int | None = None


@dataclass(frozen=True)
class DemoEvent:
    slug: str
    kind: EventKind
    title: str
    summary: str
    description: str
    host: tuple[str, OrganisationKind, str] | None
    sessions: tuple[DemoSession, ...]
    capacity: int | None = None
    is_approval_required: bool = False
    allows_session_choice: bool = False
    venue: tuple[str, str, str, str] | None = None  # name, address, city, country
    is_sample_data: bool = False
    timezone: str = "Europe/Brussels"  # the zone of the event's place, its agenda's times
    registrant_note: str = ""  # what registrants need to know


ICLEI = "ICLEI Local Governments for Sustainability"
PAULA = ("Paula Land", ICLEI)

MAKE_ICT_FAIR = DemoEvent(
    slug=MAKE_ICT_FAIR_SLUG,
    kind=EventKind.WEBINAR_SERIES,
    title="Procura+ webinar series on socially responsible ICT procurement",
    summary="Two consecutive webinars, of 105 and 90 minutes, on 9 November and 10 December "
    "2020: five case studies of good practice from the Make ICT Fair project.",
    description=(
        "Procurers and those interested in procurement will get the chance to learn from "
        "experts that were vital to the process and achievement of including social criteria "
        "and clauses into tenders. The first session provides steps towards integrating social "
        "criteria in ICT procurement tenders. The second session gives insights about the "
        "follow up on social criteria through contract management.\n\n"
        "Make ICT Fair aims at improving the lives of workers and those impacted along "
        "different stages of the ICT supply chain through research, campaigning, capacity "
        "building and advocacy. The webinar series is organised by the Procura+ European "
        "Sustainable Procurement Network, initiated and coordinated by ICLEI - Local "
        "Governments for Sustainability."
    ),
    host=(ICLEI, OrganisationKind.NETWORK, "DE"),
    allows_session_choice=True,
    sessions=(
        DemoSession(
            title="On the way towards social criteria – steps towards integrating social "
            "criteria in ICT Procurement tenders",
            starts_at="2020-11-09T10:00",
            ends_at="2020-11-09T11:45",
            mode=SessionMode.ONLINE,
            join_url="https://meet.example.org/procura-make-ict-fair-1",
            items=(
                Item("10:00", "10:10", "Welcome and introduction", AgendaItemKind.WELCOME,
                     (PAULA,)),
                Item("10:10", "10:40", "Facing market challenges: The City of Barcelona on how "
                     "market engagement helps to include social criteria", AgendaItemKind.TALK,
                     (("Carla Canal", "Barcelona City Council"),)),
                Item("10:40", "11:10", "Facing internal challenges: The City of Haarlem on how "
                     "to address internal ICT procurement needs while including social criteria",
                     AgendaItemKind.TALK, (("Rudie de Vries", "Municipality of Haarlem"),)),
                Item("11:10", "11:30", "Including social criteria: The City of Stavanger on "
                     "criteria and market response", AgendaItemKind.TALK,
                     (("Elin Seveholt", "City of Stavanger"),)),
                Item("11:30", "11:45", "Q&A and opportunity for discussion", AgendaItemKind.QA),
            ),
        ),
        DemoSession(
            title="Keeping social criteria alive – How to follow up through contract "
            "management",
            starts_at="2020-12-10T10:00",
            ends_at="2020-12-10T11:30",
            mode=SessionMode.ONLINE,
            join_url="https://meet.example.org/procura-make-ict-fair-2",
            items=(
                Item("10:00", "10:10", "Welcome and introduction", AgendaItemKind.WELCOME,
                     (PAULA,)),
                Item("10:10", "10:40", "Set up Contract management: APUC Scotland on contract "
                     "clauses & Key Performance Indicators", AgendaItemKind.TALK,
                     (("Michael McLaughlin", "APUC Scotland"),)),
                Item("10:40", "10:55", "Outcomes of contract management: Region Stockholm on "
                     "lessons learnt on how to keep social criteria alive", AgendaItemKind.TALK,
                     (("Kathleen McCaughey", "Region Stockholm"),)),
                Item("10:55", "11:30", "Q&A and opportunity for Discussion", AgendaItemKind.QA),
            ),
        ),
    ),
)

SAMPLE_NOTE = "\n\nSample data: this event illustrates the service and is not a real booking."

SAMPLES = (
    DemoEvent(
        slug="procura-plus-seminar-2027",
        kind=EventKind.SEMINAR,
        title="Procura+ Seminar 2027 (sample)",
        summary="The annual meeting of the Procura+ Network: practitioners, experts and policy "
        "makers on sustainable and innovation procurement.",
        description="Two days of exchange between Procura+ participants, interest groups and "
        "the Procura+ Awards ceremony." + SAMPLE_NOTE,
        host=(ICLEI, OrganisationKind.NETWORK, "DE"),
        capacity=120,
        venue=("Conference centre (sample)", "Rue de la Loi 42", "Brussels", "BE"),
        is_sample_data=True,
        sessions=(
            DemoSession(
                title="Day 1: Interest groups and awards", starts_at="2027-06-15T09:00",
                ends_at="2027-06-15T17:30", mode=SessionMode.IN_PERSON,
                items=(
                    Item("09:00", "09:30", "Welcome to the Procura+ Seminar",
                         AgendaItemKind.WELCOME, (PAULA,)),
                    Item("09:30", "11:00", "Interest Group on Circular Procurement: shared "
                         "experiences", AgendaItemKind.PANEL),
                    Item("11:00", "11:30", "Coffee break", AgendaItemKind.BREAK),
                    Item("11:30", "13:00", "Interest Group on Market Engagement",
                         AgendaItemKind.PANEL),
                    Item("16:00", "17:30", "Procura+ Awards ceremony", AgendaItemKind.OTHER),
                ),
            ),
            DemoSession(
                title="Day 2: Policy and practice", starts_at="2027-06-16T09:00",
                ends_at="2027-06-16T13:00", mode=SessionMode.HYBRID,
                join_url="https://meet.example.org/procura-seminar-day-2",
                items=(
                    Item("09:00", "10:30", "European policy update", AgendaItemKind.TALK),
                    Item("10:30", "12:30", "Twinning programme workshops",
                         AgendaItemKind.DISCUSSION),
                    Item("12:30", "13:00", "Closing", AgendaItemKind.CLOSING, (PAULA,)),
                ),
            ),
        ),
    ),
    DemoEvent(
        slug="citymatch-zurich-recycled-concrete",
        kind=EventKind.CITYMATCH,
        title="Procura+ CityMatch Zurich on Recycled Concrete and Circular Procurement (sample)",
        summary="A study visit on the reuse of concrete in buildings, with Zurich's building "
        "construction and health & environment departments.",
        description="Experts from Zurich, including city planners, facility managers, "
        "sustainable procurement staff and suppliers of concrete, show their approaches "
        "towards a circular economy. Places are few: applications are reviewed by the "
        "organisers." + SAMPLE_NOTE,
        host=("City of Zurich", OrganisationKind.PUBLIC_AUTHORITY, "CH"),
        capacity=12,
        is_approval_required=True,
        venue=("Amtshaus III", "Lindenhofstrasse 21", "Zurich", "CH"),
        timezone="Europe/Zurich",
        is_sample_data=True,
        registrant_note="The site visit goes onto a building site: wear sturdy shoes; helmets "
        "and vests are provided there.\nBring a photo ID for the entrance of Amtshaus III.",
        sessions=(
            DemoSession(
                title="Study visit day", starts_at="2027-03-18T09:00",
                ends_at="2027-03-18T17:00", mode=SessionMode.IN_PERSON,
                items=(
                    Item("09:00", "09:30", "Welcome by the City of Zurich",
                         AgendaItemKind.WELCOME),
                    Item("09:30", "11:00", "Recycled concrete in public buildings",
                         AgendaItemKind.TALK),
                    Item("11:00", "15:00", "Site visit: a building with recycled concrete",
                         AgendaItemKind.SITE_VISIT),
                    Item("15:00", "17:00", "Peer exchange on circular procurement",
                         AgendaItemKind.DISCUSSION),
                ),
            ),
        ),
    ),
    DemoEvent(
        slug="meet-your-buyer-haarlem-fair-circular-ict",
        kind=EventKind.MEET_YOUR_BUYER,
        title="Meet your Buyer: Haarlem Municipality on fair and circular ICT (sample)",
        summary="A market dialogue before an upcoming tender for fair and circular ICT "
        "workplace hardware.",
        description="Gemeente Haarlem meets suppliers to discuss how to supply fair workplace "
        "hardware, and whether the suggested social responsibility and circularity criteria "
        "are feasible or too advanced." + SAMPLE_NOTE,
        host=("Municipality of Haarlem", OrganisationKind.PUBLIC_AUTHORITY, "NL"),
        capacity=30,
        venue=("Stadhuis Haarlem", "Grote Markt 2", "Haarlem", "NL"),
        timezone="Europe/Amsterdam",
        is_sample_data=True,
        sessions=(
            DemoSession(
                title="Market dialogue", starts_at="2027-01-26T13:00",
                ends_at="2027-01-26T16:30", mode=SessionMode.HYBRID,
                join_url="https://meet.example.org/haarlem-meet-your-buyer",
                items=(
                    Item("13:00", "13:30", "The upcoming tender and its criteria",
                         AgendaItemKind.TALK, (("Rudie de Vries", "Municipality of Haarlem"),)),
                    Item("13:30", "15:30", "Supplier dialogue", AgendaItemKind.DISCUSSION),
                    Item("15:30", "16:30", "Next steps", AgendaItemKind.CLOSING),
                ),
            ),
        ),
    ),
    DemoEvent(
        slug="circular-ict-webinar-series-2027",
        kind=EventKind.WEBINAR_SERIES,
        title="Procura+ webinar series on circular ICT procurement 2027 (sample)",
        summary="Two 90-minute webinars, one in winter and one in summer time: extending the "
        "life of ICT hardware through procurement.",
        description="Procurers share how they buy refurbished equipment, require repairability "
        "and organise take-back at end of use. Register for the whole series or for one "
        "session." + SAMPLE_NOTE,
        host=(ICLEI, OrganisationKind.NETWORK, "DE"),
        capacity=100,
        allows_session_choice=True,
        is_sample_data=True,
        sessions=(
            DemoSession(
                title="Buying refurbished: lessons from the first tenders",
                starts_at="2027-02-11T10:00", ends_at="2027-02-11T11:30",
                mode=SessionMode.ONLINE,
                join_url="https://meet.example.org/procura-circular-ict-1",
                items=(
                    Item("10:00", "10:10", "Welcome and introduction", AgendaItemKind.WELCOME,
                         (PAULA,)),
                    Item("10:10", "10:50", "Refurbished laptops in a framework contract",
                         AgendaItemKind.TALK, (("Rudie de Vries", "Municipality of Haarlem"),)),
                    Item("10:50", "11:30", "Q&A and opportunity for discussion",
                         AgendaItemKind.QA),
                ),
            ),
            DemoSession(
                title="Repairability and take-back in contract management",
                starts_at="2027-06-10T10:00", ends_at="2027-06-10T11:30",
                mode=SessionMode.ONLINE,
                join_url="https://meet.example.org/procura-circular-ict-2",
                items=(
                    Item("10:00", "10:10", "Welcome and introduction", AgendaItemKind.WELCOME,
                         (PAULA,)),
                    Item("10:10", "10:50", "Keeping suppliers to their take-back promises",
                         AgendaItemKind.TALK, (("Kathleen McCaughey", "Region Stockholm"),)),
                    Item("10:50", "11:30", "Q&A and opportunity for discussion",
                         AgendaItemKind.QA),
                ),
            ),
        ),
    ),
)

ORGANISATION_KINDS: dict[str, tuple[OrganisationKind, str | None]] = {
    ICLEI: (OrganisationKind.NETWORK, "DE"),
    "Barcelona City Council": (OrganisationKind.PUBLIC_AUTHORITY, "ES"),
    "Municipality of Haarlem": (OrganisationKind.PUBLIC_AUTHORITY, "NL"),
    "City of Stavanger": (OrganisationKind.PUBLIC_AUTHORITY, "NO"),
    "APUC Scotland": (OrganisationKind.PUBLIC_AUTHORITY, "GB"),
    "Region Stockholm": (OrganisationKind.PUBLIC_AUTHORITY, "SE"),
}


async def _load_event(db: AsyncSession, demo: DemoEvent, *, now: datetime,
                      settings: Settings) -> Event:
    host_id: int | None = None
    if demo.host:
        name, kind, country = demo.host
        host = await programme.find_or_create_organisation(
            db, name=name, kind=kind, country=country, now=now
        )
        host_id = host.id
    venue_name, venue_address, venue_city, venue_country = demo.venue or (None, None, None, None)
    event = await programme.create_event(
        db,
        programme.EventCreate(
            kind=demo.kind, title=demo.title, slug=demo.slug, summary=demo.summary,
            description=demo.description, host_organisation_id=host_id,
            capacity=demo.capacity, is_approval_required=demo.is_approval_required,
            allows_session_choice=demo.allows_session_choice,
            is_sample_data=demo.is_sample_data, contact_email=settings.organiser_email,
            venue_name=venue_name, venue_address=venue_address, venue_city=venue_city,
            venue_country=venue_country, timezone=demo.timezone,
            registrant_note=demo.registrant_note,
        ),
        now=now,
    )
    for demo_session in demo.sessions:
        session = await programme.add_session(
            db, event.id,
            programme.SessionCreate(
                title=demo_session.title, starts_at=demo_session.starts_at,
                ends_at=demo_session.ends_at, mode=demo_session.mode,
                join_url=demo_session.join_url, capacity=demo_session.capacity,
            ),
            now=now, settings=settings,
        )
        for item in demo_session.items:
            speakers: list[programme.SpeakerRef] = []
            for person_name, organisation_name in item.speakers:
                speaker_kind, speaker_country = ORGANISATION_KINDS.get(
                    organisation_name, (OrganisationKind.PUBLIC_AUTHORITY, None)
                )
                organisation = await programme.find_or_create_organisation(
                    db, name=organisation_name, kind=speaker_kind, country=speaker_country, now=now
                )
                person = await programme.find_or_create_person(
                    db, name=person_name, organisation_id=organisation.id, now=now
                )
                speakers.append(
                    programme.SpeakerRef(person_id=person.id, organisation_id=organisation.id)
                )
            await programme.add_agenda_item(
                db, session.id,
                programme.AgendaItemCreate(starts_at=item.start, ends_at=item.end,
                                           title=item.title, kind=item.kind, speakers=speakers),
                now=now, settings=settings,
            )
    await load_sample_translations(db, event.id, demo.slug, now=now)
    return await programme.publish_event(db, event.id, now=now)


async def load_demo_programme(db: AsyncSession, *, now: datetime, settings: Settings) -> list[str]:
    """Load what is missing of the demo programme; returns the slugs it added."""
    added = []
    for demo in (MAKE_ICT_FAIR, *SAMPLES):
        if await db.scalar(select(Event.id).where(Event.slug == demo.slug)) is None:
            await _load_event(db, demo, now=now, settings=settings)
            if demo.slug == HAARLEM_SLUG:
                await load_haarlem_consultation(db, now=now, settings=settings)
            added.append(demo.slug)
    # An installation whose Haarlem event predates its consultation gets one.
    await load_haarlem_consultation(db, now=now, settings=settings)
    return added


HAARLEM_SLUG = "meet-your-buyer-haarlem-fair-circular-ict"
# The sample suppliers of the Haarlem dialogue: (name, email, company, sector, ranked hosts, topic).
HAARLEM_SUPPLIERS = (
    ("Sanne Bakker", "sanne.bakker@circular-devices.example.com", "Circular Devices BV (sample)",
     "Refurbished laptops", (0, 1), "Refurbished laptops with a five-year warranty and take-back."),
    ("Tom Visser", "tom.visser@fairlaptop.example.com", "FairLaptop Co (sample)",
     "Laptops with audited supply chains", (1, 0), "Supply-chain audits for cobalt and tin."),
    ("Lena Smit", "lena.smit@dockworks.example.com", "Dockworks (sample)",
     "Monitors and docking stations", (0,), "Modular docking stations that outlast two laptop "
     "generations."),
)


async def load_demo_meetings(db: AsyncSession, *, now: datetime, settings: Settings) -> bool:
    """The Haarlem dialogue's one-to-one meetings (sample data), once: its grid during the
    supplier dialogue, two hosts of the municipality, three sample suppliers with accepted
    requests, and a schedule made by Schedule all. Nobody is emailed.

    Apart from the programme (like the demo groups) because it adds registrations: loaded
    after the consultation, whose answers were published before these suppliers came."""
    event = await db.scalar(select(Event).where(Event.slug == HAARLEM_SLUG)
                            .options(selectinload(Event.sessions)))
    if event is None or await one_to_one.get_grid(db, event.id) is not None:
        return False
    await one_to_one.save_grid(db, event.id, one_to_one.GridInput(
        meeting_minutes=20, gap_minutes=5,
        days=[one_to_one.Period("2027-01-26", "13:30", "15:30")],
        tables=[one_to_one.TableInput("Table 1"), one_to_one.TableInput("Table 2"),
                one_to_one.TableInput("Online room", "https://meet.example.org/haarlem-meet-your-buyer")],
        accepts_automatically=False, suppliers_pick_slots=True), now=now)
    haarlem = await programme.find_or_create_organisation(
        db, name="Municipality of Haarlem", kind=OrganisationKind.PUBLIC_AUTHORITY, country="NL", now=now)
    hosts = []
    for name, email in (("Rudie de Vries", None),
                        ("Marieke Jansen (sample)", "marieke.jansen@haarlem.example.nl")):
        person = await programme.find_or_create_person(db, name=name, organisation_id=haarlem.id,
                                                       now=now)
        if person.email is None and email is not None:
            person.email = email
        hosts.append(await one_to_one.add_host(db, event.id, person.id, now=now))
    await one_to_one.set_availability(db, event.id, hosts[1].id,
                                      [one_to_one.Period("2027-01-26", "13:30", "14:45")], now=now)
    session = event.sessions[0]
    for name, email, company, sector, ranked, topic in HAARLEM_SUPPLIERS:
        registration = Registration(
            event_id=event.id, status=RegistrationStatus.CONFIRMED, name=name, email=email,
            email_normalised=email, organisation_name=company,
            organisation_kind=OrganisationKind.SUPPLIER, country="NL", company=company,
            sector=sector, offer_note=topic, consent_at=now, created_at=now, updated_at=now)
        db.add(registration)
        await db.flush()
        db.add(Enrolment(registration_id=registration.id, session_id=session.id,
                         status=EnrolmentStatus.CONFIRMED, created_at=now, updated_at=now))
        requests = await one_to_one.request_meetings(
            db, registration.id, [hosts[i].id for i in ranked], topic, now=now, settings=settings)
        for request in requests:
            await one_to_one.decide_request(db, event.id, request.id, accept=True, now=now,
                                            settings=settings)
    await one_to_one.schedule_all_meetings(db, event.id, now=now, settings=settings, notify=False)
    return True


DEMO_ADMIN_EMAIL = "admin@procura.example.org"


async def ensure_demo_administrator(db: AsyncSession, *, now: datetime) -> str | None:
    """An administrator for the demo's back office, when the installation has no account yet.

    Returns the password it was given (random, shown once by the command that loads the
    demo), or None when accounts exist already: a real installation is never given one.
    """
    if await db.scalar(select(Account.id).limit(1)) is not None:
        return None
    password = secrets.token_urlsafe(12)
    team_id = await default_team_id(db)
    await create_account(db, email=DEMO_ADMIN_EMAIL, name="Demo administrator", role="admin",
                         password=password, team_ids=[team_id] if team_id else [], now=now)
    return password

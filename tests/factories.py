"""The builders every test uses: typed, made through the product's own functions.

Events, sessions, agenda items and people go through `service.domain.programme`, so what
follows each change (service.operations.consequences) runs as in production. A registrant
made with `make_registration` is inserted directly with a confirmed place (plus its
reminders), for tests about what happens after registering; tests about registering itself
go through the API or the form.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.message import EmailMessage
from service.clock import utc_now
from service.db.models import (
    AgendaItem,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
    GroupMember,
    GroupMemberStatus,
    GroupVisibility,
    InterestGroup,
    NetworkStanding,
    Organisation,
    OrganisationKind,
    Person,
    Registration,
    RegistrationStatus,
    Session,
    SessionMode,
)
from service.domain import groups, programme, reminders
from service.settings import Settings

BRUSSELS = "Europe/Brussels"
# Built long before the sessions; tests about time pass their own `now` on from here.
BUILT_AT = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
JOIN_URL = "https://meet.example.org/procura-social-ict"
# The demo programme as the page and HTTP tests see it: loaded on 1 October 2020 and read on
# 20 October 2020, between announcing and holding the Make ICT Fair series.
DEMO_LOADED_AT = datetime(2020, 10, 1, 8, tzinfo=UTC)
DEMO_NOW = datetime(2020, 10, 20, 8, tzinfo=UTC)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class SessionSpec:
    title: str
    starts_at: str  # wall time in the event's zone, or ISO 8601 with an offset
    ends_at: str
    mode: SessionMode = SessionMode.ONLINE
    capacity: int | None = None
    join_url: str | None = None


WINTER = SessionSpec("Social criteria in ICT tenders", "2035-11-12T10:00", "2035-11-12T11:45",
                     join_url="https://meet.example.org/room-one")
SPRING = SessionSpec("Contract management", "2036-04-10T10:00", "2036-04-10T11:30",
                     join_url="https://meet.example.org/room-two")
VISIT = SessionSpec("Study visit day", "2035-09-18T09:00", "2035-09-18T17:00",
                    mode=SessionMode.IN_PERSON)


@dataclass(frozen=True)
class EventSpec:
    """An event as a test wants it; the defaults are a published two-session series."""

    slug: str = "fair-ict-webinars"
    title: str = "Fair ICT procurement webinars"
    kind: EventKind = EventKind.WEBINAR_SERIES
    sessions: tuple[SessionSpec, ...] = (WINTER, SPRING)
    capacity: int | None = None
    is_approval_required: bool = False
    allows_session_choice: bool = False
    contact_email: str = "events@procura.example.org"
    reminder_offsets_minutes: list[int] | None = None
    # Any other field of `programme.EventCreate` (venue_name, timezone, ...).
    extra: Mapping[str, Any] = field(default_factory=dict)
    publish: bool = True
    commit: bool = True
    now: datetime | None = None  # None: the clock's now


# The reminder, notice and scheduler tests' webinar: a draft with no sessions yet, built
# long before the sessions they add, in the caller's transaction.
SOCIAL_ICT = EventSpec(
    slug="social-ict", title="Socially responsible ICT procurement", sessions=(),
    contact_email="procurement@iclei.example.org", publish=False, commit=False, now=BUILT_AT,
)



def webinars_around_now() -> EventSpec:
    """A webinar this morning, over, and one tomorrow: for what follows a session (pages
    of a signed-in organiser live in the real clock's time, so these do too)."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)

    def at(instant: datetime) -> str:
        return instant.isoformat(timespec="minutes")

    held = SessionSpec("Social criteria in ICT tenders", at(now - timedelta(hours=3)),
                       at(now - timedelta(hours=1)), join_url="https://meet.example.org/1")
    coming = SessionSpec("Contract management", at(now + timedelta(days=1)),
                         at(now + timedelta(days=1, hours=2)),
                         join_url="https://meet.example.org/2")
    return EventSpec(sessions=(held, coming), commit=False)


_SPEC_FIELDS = {f.name for f in fields(EventSpec)}


async def make_event(db: AsyncSession, settings: Settings, spec: EventSpec = EventSpec(),
                     **overrides: Any) -> Event:
    """An event built through the programme's own functions; `overrides` replace fields of
    `spec`, and any other keyword is a field of `programme.EventCreate`."""
    known = {k: v for k, v in overrides.items() if k in _SPEC_FIELDS}
    extra = {**spec.extra, **known.pop("extra", {}),
             **{k: v for k, v in overrides.items() if k not in _SPEC_FIELDS}}
    spec = replace(spec, **known, extra=extra)
    now = spec.now or utc_now()
    event = await programme.create_event(
        db,
        programme.EventCreate(
            kind=spec.kind, title=spec.title, slug=spec.slug, capacity=spec.capacity,
            is_approval_required=spec.is_approval_required,
            allows_session_choice=spec.allows_session_choice,
            contact_email=spec.contact_email,
            reminder_offsets_minutes=spec.reminder_offsets_minutes, **spec.extra,
        ),
        now=now,
    )
    for session in spec.sessions:
        await make_session(db, settings, event, starts_at=session.starts_at,
                           ends_at=session.ends_at, title=session.title, mode=session.mode,
                           join_url=session.join_url, capacity=session.capacity, now=now)
    if spec.publish:
        await programme.publish_event(db, event.id, now=now)
    event = await programme.get_event(db, event.id)
    if spec.commit:
        await db.commit()
    return event


async def make_session(
    db: AsyncSession, settings: Settings, event: Event, *, starts_at: str, ends_at: str,
    title: str = "Keeping social criteria alive", mode: SessionMode = SessionMode.ONLINE,
    join_url: str | None = JOIN_URL, capacity: int | None = None, now: datetime = BUILT_AT,
) -> Session:
    return await programme.add_session(
        db, event.id,
        programme.SessionCreate(title=title, starts_at=starts_at, ends_at=ends_at, mode=mode,
                                join_url=join_url, capacity=capacity),
        now=now, settings=settings,
    )


async def make_person(
    db: AsyncSession, name: str, email_address: str | None, *, organisation: str | None = None,
    now: datetime = BUILT_AT,
) -> Person:
    organisation_id = None
    if organisation is not None:
        found = await programme.find_or_create_organisation(
            db, name=organisation, kind=OrganisationKind.PUBLIC_AUTHORITY, now=now)
        organisation_id = found.id
    return await programme.create_person(
        db, programme.PersonCreate(name=name, email=email_address,
                                   organisation_id=organisation_id), now=now)


async def make_agenda_item(
    db: AsyncSession, settings: Settings, session: Session, start: str, end: str, title: str,
    speakers: Sequence[Person] = (), *, now: datetime = BUILT_AT,
) -> AgendaItem:
    return await programme.add_agenda_item(
        db, session.id,
        programme.AgendaItemCreate(
            starts_at=start, ends_at=end, title=title,
            speakers=[programme.SpeakerRef(person_id=p.id) for p in speakers]),
        now=now, settings=settings,
    )


async def make_registration(
    db: AsyncSession, event: Event, session: Session | Sequence[Session] | None, name: str, *,
    email_address: str | None = None,
    status: RegistrationStatus = RegistrationStatus.CONFIRMED,
    enrolment: EnrolmentStatus = EnrolmentStatus.CONFIRMED, now: datetime = BUILT_AT,
    organisation: str = "", waiting_since: datetime | None = None,
) -> Registration:
    """A registrant with a place in `session` (in each of several, or in no session), as the
    registration code leaves them; the address defaults to first-name@<event slug>.example.org. A waiting
    registrant (`status`) queues by `waiting_since`, `now` when not given."""
    address = email_address or f"{name.split()[0].lower()}@{event.slug}.example.org"
    if status == RegistrationStatus.WAITING and waiting_since is None:
        waiting_since = now
    registration = Registration(
        event_id=event.id, status=status, name=name, email=address,
        email_normalised=address, consent_at=now, created_at=now, updated_at=now,
        organisation_name=organisation, waiting_since=waiting_since,
    )
    db.add(registration)
    await db.flush()
    sessions = [] if session is None else [session] if isinstance(session, Session) else session
    for place in sessions:
        db.add(Enrolment(registration_id=registration.id, session_id=place.id,
                         status=enrolment, created_at=now, updated_at=now))
        await db.flush()
        if enrolment == EnrolmentStatus.CONFIRMED:
            # What follows a confirmed place (service.operations.consequences).
            await reminders.plan_reminders_for_enrolment(db, registration, place, event, now=now)
    return registration


def registration_form(name: str = "Ana Silva", email_address: str = "ana.silva@lisboa.example.pt",
                      **overrides: Any) -> dict[str, Any]:
    """What a procurer sends to register (the JSON API's body)."""
    return {"name": name, "email": email_address, "consent": True,
            "organisation_name": "Câmara Municipal de Lisboa",
            "organisation_kind": "public_authority", "country": "PT",
            "job_title": "Procurement officer", **overrides}


def make_email_message(to_address: str = "ana@example.org", name: str = "Ana Silva", *,
                       note: str = "See you online.", **overrides: Any) -> EmailMessage:
    """A plain one-recipient email on the test template (no event behind it)."""
    values: dict[str, Any] = {
        "template": "test_message_to_anyone", "to_address": to_address, "to_name": name,
        "context": {"recipient_name": name, "note": note}, **overrides}
    return EmailMessage(**values)


# --- Interest Groups ------------------------------------------------------------------------


async def make_interest_group(
    db: AsyncSession, *, slug: str = "social-ict", topic: str = "Socially responsible ICT",
    visibility: GroupVisibility = GroupVisibility.PUBLIC, timezone: str = BRUSSELS,
    now: datetime = BUILT_AT,
) -> InterestGroup:
    """A group inserted as it stands (its pages and back office have their own tests)."""
    group = InterestGroup(slug=slug, topic=topic, summary="", description="",
                          visibility=visibility, timezone=timezone,
                          starts_on=now.date(), ends_on=None, created_at=now, updated_at=now)
    db.add(group)
    await db.flush()
    return group


async def make_group_member(
    db: AsyncSession, group: InterestGroup, *, name: str = "Ana Silva",
    email: str = "ana.silva@lisboa.example.pt", organisation_name: str = "Lisboa City Council",
    status: GroupMemberStatus = GroupMemberStatus.MEMBER, now: datetime = BUILT_AT,
) -> GroupMember:
    """A named person of a member organisation, already approved unless `status` says."""
    member = GroupMember(group_id=group.id, organisation_name=organisation_name, name=name,
                         email=email, email_normalised=email.lower(), status=status,
                         decided_at=now, created_at=now, updated_at=now)
    db.add(member)
    await db.flush()
    return member
# Meet-your-Buyer consultation
MEET_YOUR_BUYER = EventSpec(
    slug="haarlem-fair-ict", title="Meet your Buyer: fair and circular ICT",
    kind=EventKind.MEET_YOUR_BUYER, sessions=(VISIT,), commit=False, now=BUILT_AT,
)


async def make_supplier(db: AsyncSession, event: Event, name: str, company: str, *,
                        status: RegistrationStatus = RegistrationStatus.CONFIRMED,
                        now: datetime = BUILT_AT) -> Registration:
    """A supplier registered for the event's first session, as the form records them."""
    registration = await make_registration(db, event, event.sessions[0], name, status=status,
                                           now=now, organisation=company)
    registration.organisation_kind = OrganisationKind.SUPPLIER
    registration.company = company
    await db.flush()
    return registration


async def make_organisation(db: AsyncSession, name: str, *,
                            standing: NetworkStanding = NetworkStanding.PARTICIPANT,
                            now: datetime = BUILT_AT) -> Organisation:
    """A public authority of the directory with its standing in the network."""
    return await programme.create_organisation(
        db, programme.OrganisationCreate(name=name, kind=OrganisationKind.PUBLIC_AUTHORITY,
                                         standing=standing), now=now)


async def make_group(db: AsyncSession, slug: str = "circular-procurement", *,
                     topic: str = "Circular procurement",
                     visibility: GroupVisibility = GroupVisibility.PUBLIC,
                     facilitator: Person | None = None,
                     now: datetime = BUILT_AT) -> InterestGroup:
    """An Interest Group of two years from 2026, led by `facilitator` when given."""
    group = await groups.create_group(db, groups.GroupInput(
        slug=slug, topic=topic, summary=f"Authorities working on {topic.lower()}.",
        description="Two physical meetings a year.\n\nQuarterly web meetings.",
        visibility=visibility, starts_on=date(2026, 9, 1), ends_on=date(2028, 8, 31)), now=now)
    if facilitator is not None:
        await groups.add_facilitator(db, group.id, facilitator.id, now=now)
    return group


async def make_approved_member(db: AsyncSession, settings: Settings, group: InterestGroup,
                               name: str, organisation: Organisation, *,
                               now: datetime = BUILT_AT) -> GroupMember:
    """A member, as expressing interest then the facilitator's approval leave them."""
    address = f"{name.split()[0].lower()}@{group.slug}.example.org"
    member = await groups.express_interest(db, group, groups.InterestForm(
        name=name, email=address, organisation_name=organisation.name), now=now,
        settings=settings)
    return await groups.approve_member(db, member.id, now=now, settings=settings)

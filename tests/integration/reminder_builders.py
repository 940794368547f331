"""Builders and readers shared by the reminder, change-notice, speaker and scheduler tests.

Events, sessions and agenda items are made through the programme's own functions (so the
follow-up hooks run as in production); registrants are inserted directly as confirmed
registrations with a confirmed place, followed by the hook the registration code calls.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage as MimeMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import (
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
    OrganisationKind,
    OutboxEmail,
    Person,
    Registration,
    RegistrationStatus,
    Reminder,
    Session,
    SessionMode,
)
from service.domain import programme, reminders
from service.settings import Settings

Sessionmaker = async_sessionmaker[AsyncSession]
BRUSSELS = "Europe/Brussels"
# Built long before the sessions; every test passes its own `now` on from here.
BUILT_AT = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
JOIN_URL = "https://meet.example.org/procura-social-ict"


async def make_event(
    db: AsyncSession, settings: Settings, *, kind: EventKind = EventKind.WEBINAR_SERIES,
    slug: str = "social-ict", title: str = "Socially responsible ICT procurement",
    offsets: list[int] | None = None, now: datetime = BUILT_AT, **data: Any,
) -> Event:
    event = await programme.create_event(
        db,
        programme.EventCreate(
            kind=kind, title=title, slug=slug, timezone=BRUSSELS,
            contact_email="procurement@iclei.example.org", reminder_offsets_minutes=offsets,
            **data,
        ),
        now=now,
    )
    return event


async def make_session(
    db: AsyncSession, settings: Settings, event: Event, *, starts_at: str, ends_at: str,
    title: str = "Keeping social criteria alive", mode: SessionMode = SessionMode.ONLINE,
    join_url: str | None = JOIN_URL, now: datetime = BUILT_AT,
) -> Session:
    return await programme.add_session(
        db, event.id,
        programme.SessionCreate(
            title=title, starts_at=starts_at, ends_at=ends_at, mode=mode, join_url=join_url
        ),
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
        db, programme.PersonCreate(name=name, email=email_address, organisation_id=organisation_id),
        now=now)


async def add_item(
    db: AsyncSession, settings: Settings, session: Session, start: str, end: str, title: str,
    speakers: Sequence[Person] = (), *, now: datetime = BUILT_AT,
) -> int:
    item = await programme.add_agenda_item(
        db, session.id,
        programme.AgendaItemCreate(
            starts_at=start, ends_at=end, title=title,
            speakers=[programme.SpeakerRef(person_id=p.id) for p in speakers],
        ),
        now=now, settings=settings,
    )
    return item.id


async def register(
    db: AsyncSession, event: Event, session: Session, name: str, *,
    status: RegistrationStatus = RegistrationStatus.CONFIRMED,
    enrolment: EnrolmentStatus = EnrolmentStatus.CONFIRMED, now: datetime = BUILT_AT,
) -> Registration:
    """A registrant with a place in `session`, as the registration code leaves them."""
    address = f"{name.split()[0].lower()}@{event.slug}.example.org"
    registration = Registration(
        event_id=event.id, status=status, name=name, email=address,
        email_normalised=address, consent_at=now, created_at=now, updated_at=now,
    )
    db.add(registration)
    await db.flush()
    db.add(Enrolment(registration_id=registration.id, session_id=session.id, status=enrolment,
                     created_at=now, updated_at=now))
    await db.flush()
    if enrolment == EnrolmentStatus.CONFIRMED:
        # What follows a confirmed place (service.operations.consequences).
        await reminders.plan_reminders_for_enrolment(db, registration, session, event, now=now)
    return registration


async def crowded_webinar(db: AsyncSession, settings: Settings, people: int) -> Session:
    """A webinar on Monday 26 October 2026, 10:00 Brussels, with `people` confirmed
    registrants (for the tests of several workers), committed."""
    event = await make_event(db, settings)
    session = await make_session(db, settings, event, starts_at="2026-10-26T10:00",
                                 ends_at="2026-10-26T11:00")
    for number in range(people):
        await register(db, event, session, f"Person{number:02d} Test")
    await db.commit()
    return session


async def reminders_of(sessionmaker: Sessionmaker) -> list[tuple[str, int, str, datetime, str | None]]:
    """(registrant name, offset, status, due_at, note) of every reminder, in a stable order."""
    async with sessionmaker() as db:
        rows = (await db.execute(
            select(Registration.name, Reminder.offset_minutes, Reminder.status, Reminder.due_at,
                   Reminder.note)
            .join(Registration, Registration.id == Reminder.registration_id)
            .order_by(Reminder.session_id, Registration.name, Reminder.offset_minutes.desc())
        )).all()
    return [(r[0], r[1], str(r[2]), r[3], r[4]) for r in rows]


async def outbox_messages(sessionmaker: Sessionmaker) -> list[tuple[OutboxEmail, MimeMessage]]:
    """Every queued email with its parsed message, in queueing order (all composed here)."""
    async with sessionmaker() as db:
        rows = list(await db.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
    return [(row, parse(row.raw_message or b"")) for row in rows]


def parse(raw: bytes) -> MimeMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, MimeMessage)
    return message


def subject_of(message: MimeMessage) -> str:
    # The stdlib's folding can leave a space at a fold (before a continuation line, or
    # before an encoded word), which its parser keeps; compare words, not folds.
    return " ".join(str(message["Subject"]).split())


def text_of(message: MimeMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    content: str = part.get_content()
    return content.replace("\r\n", "\n")


def html_of(message: MimeMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    content: str = part.get_content()
    return content


def calendar_of(message: MimeMessage) -> tuple[str | None, str | None]:
    """(MIME method, calendar text) of the inline text/calendar part; (None, None) if none."""
    for part in message.walk():
        if part.get_content_type() == "text/calendar" and not part.get_filename():
            body = part.get_payload(decode=True)
            assert isinstance(body, bytes)
            return part.get_param("method"), body.decode()  # type: ignore[return-value]
    return None, None


def ical_lines(calendar: str, *names: str) -> list[str]:
    """METHOD and the VEVENT's lines (unfolded) whose property name is one of `names`."""
    unfolded = calendar.replace("\r\n ", "").split("\r\n")
    start, end = unfolded.index("BEGIN:VEVENT"), unfolded.index("END:VEVENT")
    lines = [line for line in unfolded if line.startswith("METHOD:")] + unfolded[start:end]
    return [line for line in lines if line.split(":", 1)[0].split(";", 1)[0] in names]


def with_window(settings: Settings, seconds: int) -> Settings:
    return replace(settings, change_notice_window_seconds=seconds)

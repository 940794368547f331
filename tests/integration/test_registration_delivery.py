"""A registration's emails, delivered through the outbox to a real SMTP server (aiosmtpd).

What arrives must be a proper invite: multipart/mixed holding text, HTML and a
`text/calendar; method=...` part (the first session's), plus one attachment per session,
each an iTIP object with one UID; the calendars must read the same in icalendar and
vobject, with the sessions' exact instants. And nothing a registrant types may become a
header or markup.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import icalendar
import pytest
import vobject
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.delivery import deliver_due_emails
from notifications.transport import SmtpTransport
from service.clock import utc_now
from service.db.engine import session_scope
from service.db.models import (
    Enrolment,
    EnrolmentStatus,
    OutboxEmail,
    Registration,
    RegistrationStatus,
)
from service.domain import registration as registrations
from service.domain.emails import registration as registration_emails
from service.domain.errors import InvalidInputError
from service.domain.registration.loading import load_event
from service.settings import Settings
from tests.factories import (
    make_event,
)
from tests.integration.test_registration import (
    Client,
    Sessionmaker,
    compose_emails,
    field_of,
    register,
    token_of,
)
from tests.smtp_server import ReceivedMessage, SmtpTestServer


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: SmtpTestServer) -> Settings:
    return replace(settings, smtp=smtp_server.smtp_settings(connections=2))


@pytest.fixture
async def transport(mail_settings: Settings) -> AsyncIterator[SmtpTransport]:
    smtp = SmtpTransport(mail_settings.smtp, local_hostname="procura.test")
    yield smtp
    await smtp.close()


async def deliver(sessionmaker: Sessionmaker, transport: SmtpTransport, settings: Settings,
                  server: SmtpTestServer) -> list[ReceivedMessage]:
    await compose_emails(sessionmaker, settings)
    report = await deliver_due_emails(sessionmaker, transport, settings=settings, now=utc_now(),
                                      worker_id="test-worker")
    assert report.failed == report.retrying == 0
    return server.messages


def structure(received: ReceivedMessage) -> list[str]:
    return [
        part.get_content_type()
        + (f";method={part.get_param('method')}" if part.get_param("method") else "")
        + (f";filename={part.get_filename()}" if part.get_filename() else "")
        for part in received.message.walk()
    ]


def calendar_parts(received: ReceivedMessage) -> list[bytes]:
    parts = []
    for part in received.message.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            parts.append(payload)
    return parts


def instants_by_icalendar(ics: bytes) -> list[tuple[str, datetime, datetime]]:
    calendar = icalendar.Calendar.from_ical(ics)
    return [(str(e["UID"]), e.decoded("DTSTART").astimezone(UTC),
             e.decoded("DTEND").astimezone(UTC)) for e in calendar.walk("VEVENT")]


def instants_by_vobject(ics: bytes) -> list[tuple[str, datetime, datetime]]:
    calendar = vobject.readOne(ics.decode("utf-8"))
    return [(e.uid.value, e.dtstart.value.astimezone(UTC), e.dtend.value.astimezone(UTC))
            for e in calendar.vevent_list]


async def test_confirmation_and_cancellation_arrive_as_invites_that_calendars_read_alike(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    transport: SmtpTransport, smtp_server: SmtpTestServer,
) -> None:
    event = await make_event(db, mail_settings)
    token = token_of(await register(client, event.slug))
    await client.post(f"/api/registrations/{token}/cancel")

    received = await deliver(db_sessionmaker, transport, mail_settings, smtp_server)

    by_subject = {str(m.message["Subject"]).split(":")[0]: m for m in received}
    assert sorted(by_subject) == ["Registration cancelled", "Registration confirmed"]
    confirmation = by_subject["Registration confirmed"]
    cancellation = by_subject["Registration cancelled"]

    expected = [(f"session-{s.id}@events.test", s.starts_at.astimezone(UTC),
                 s.ends_at.astimezone(UTC)) for s in sorted(event.sessions,
                                                             key=lambda s: s.starts_at)]
    assert expected[0][1] == datetime(2035, 11, 12, 9, 0, tzinfo=UTC)  # 10:00 CET
    for message, method in ((confirmation, "REQUEST"), (cancellation, "CANCEL")):
        assert message.rcpt_tos == ("ana.silva@lisboa.example.pt",)
        assert str(message.message["To"]) == "Ana Silva <ana.silva@lisboa.example.pt>"
        assert structure(message) == [
            "multipart/mixed", "multipart/alternative", "text/plain", "text/html",
            f"text/calendar;method={method}",
            f"text/calendar;method={method};filename=invite-1.ics",
            f"text/calendar;method={method};filename=invite-2.ics",
        ]
        inline, *attachments = calendar_parts(message)
        assert inline == attachments[0]
        assert [instants_by_icalendar(part) for part in attachments] == [
            instants_by_vobject(part) for part in attachments] == [[one] for one in expected]
        for part in attachments:
            calendar = icalendar.Calendar.from_ical(part)
            assert str(calendar["METHOD"]) == method
            assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Brussels"]
            [vevent] = calendar.walk("VEVENT")
            assert str(vevent["ORGANIZER"]) == "mailto:events@procura.example.org"
            assert str(vevent["ATTENDEE"]) == "mailto:ana.silva@lisboa.example.pt"
            assert str(vevent["STATUS"]) == ("CONFIRMED" if method == "REQUEST" else "CANCELLED")
    assert str(confirmation.message["Subject"]) == (
        "Registration confirmed: Fair ICT procurement webinars")
    assert str(cancellation.message["Subject"]) == (
        "Registration cancelled: Fair ICT procurement webinars")


async def test_a_name_cannot_inject_headers(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    transport: SmtpTransport, smtp_server: SmtpTestServer,
) -> None:
    event = await make_event(db, mail_settings)
    event_id = event.id  # the rollback below expires `event`
    injected = "Ana\r\nBcc: eve@evil.example\r\nSubject: You won"

    through_api = await register(client, event.slug, name=injected)
    with pytest.raises(InvalidInputError) as refused:
        await registrations.register_participant(
            db, event.slug, registrations.RegistrationForm(
                name=injected, email="ana@example.org", consent=True),
            now=utc_now(), settings=mail_settings)
    await db.rollback()
    # Defence in depth: a name stored some other way still cannot leave its header.
    await make_stored_registration(db, event_id, injected, mail_settings)
    [received] = await deliver(db_sessionmaker, transport, mail_settings, smtp_server)

    assert (through_api.status_code, field_of(through_api)) == (400, ["name"])
    assert refused.value.field == "name"
    assert received.rcpt_tos == ("ana@example.org",)
    assert received.message.get_all("Bcc") is None
    assert received.message.get_all("Subject") == [
        "Registration confirmed: Fair ICT procurement webinars"]
    assert str(received.message["To"]) == (
        '"Ana Bcc: eve@evil.example Subject: You won" <ana@example.org>')
    header_block = received.raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in header_block and b"evil.example\r\n" not in header_block


async def make_stored_registration(db: AsyncSession, event_id: int, name: str,
                                   settings: Settings) -> None:
    event = await load_event(db, event_id)
    now = utc_now()
    row = Registration(
        event_id=event.id, status=RegistrationStatus.CONFIRMED, name=name,
        email="ana@example.org", email_normalised="ana@example.org", consent_at=now,
        created_at=now, updated_at=now, is_whole_event=True,
        enrolments=[Enrolment(session_id=s.id, session=s, status=EnrolmentStatus.CONFIRMED,
                              created_at=now, updated_at=now) for s in event.sessions],
    )
    db.add(row)
    await db.flush()
    links = await registrations.registrant_links(db, row, now=now, settings=settings)
    await registration_emails.send_confirmation(db, row, event, links=links, now=now,
                                                settings=settings)
    await db.commit()


async def test_html_in_a_name_is_escaped_in_the_html_part(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    transport: SmtpTransport, smtp_server: SmtpTestServer,
) -> None:
    event = await make_event(db, mail_settings)
    name = '<img src=x onerror="alert(1)"> Ana & Co'

    response = await register(client, event.slug, name=name)
    [received] = await deliver(db_sessionmaker, transport, mail_settings, smtp_server)

    assert response.status_code == 201
    html = received.message.get_body(preferencelist=("html",))
    text = received.message.get_body(preferencelist=("plain",))
    assert html is not None and text is not None
    assert "Dear &lt;img src=x onerror=&#34;alert(1)&#34;&gt; Ana &amp; Co," in html.get_content()
    assert "<img" not in html.get_content()
    assert f"Dear {name}," in text.get_content()
    async with db_sessionmaker() as check:
        stored = await check.scalar(select(Registration.name))
    assert stored == name


async def test_a_welcome_email_that_cannot_be_composed_fails_alone(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    event = await make_event(db, settings)
    people = [("Ana Silva", "ana@example.org"), ("José Pérez", "jose@example.es"),
              ("Ben Okafor", "ben@example.org"), ("Dora Lind", "dora@example.org"),
              ("Mallory", "mallory@evil.example"), ("Cleo Early", "cleo@example.org")]
    async with session_scope(db_sessionmaker) as batch_db:
        await registrations.register_participants(batch_db, [
            (event.slug, registrations.RegistrationForm(name=name, email=address, consent=True))
            for name, address in people], now=utc_now(), settings=settings)
    # Rows recorded before the door refused such addresses, and one whose details the job
    # cannot read (a status it does not know).
    poisoned = {"jose@example.es": "josé@example.es",
                "mallory@evil.example": "x>,<victim@evil.example"}
    async with session_scope(db_sessionmaker) as edit:
        for stored, refused in poisoned.items():
            await edit.execute(update(Registration).where(Registration.email == stored)
                               .values(email=refused))
            await edit.execute(update(OutboxEmail).where(OutboxEmail.to_address == stored)
                               .values(to_address=refused))
        await edit.execute(update(OutboxEmail).where(OutboxEmail.to_address == "dora@example.org")
                           .values(details={"status": "approved", "enrolments": []}))

    with caplog.at_level(logging.WARNING, logger="procura_events.welcome_emails"):
        async with session_scope(db_sessionmaker) as job_db:
            first = await registrations.compose_welcome_emails(job_db, now=utc_now(),
                                                               settings=settings)
        async with session_scope(db_sessionmaker) as job_db:
            second = await registrations.compose_welcome_emails(job_db, now=utc_now(),
                                                                settings=settings)
    async with db_sessionmaker() as check:
        rows = list(await check.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))

    assert (first.claimed, first.composed, first.failed, first.withdrawn) == (6, 3, 3, 0)
    assert second.claimed == 0  # a failed email is not claimed again
    assert [(row.to_address, str(row.status), row.raw_message is not None) for row in rows] == [
        ("ana@example.org", "queued", True),
        ("josé@example.es", "failed", False),
        ("ben@example.org", "queued", True),
        ("dora@example.org", "failed", False),
        ("x>,<victim@evil.example", "failed", False),
        ("cleo@example.org", "queued", True),
    ]
    reasons = [(row.last_error or "").split(": ") for row in rows]
    assert [reasons[1][1], reasons[3][:3], reasons[4][1]] == [
        "invalid email address 'josé@example.es'",
        ["could not compose", "ValueError", "'approved' is not a valid RegistrationStatus"],
        "invalid email address 'x>,<victim@evil.example'",
    ]
    # Nothing half-written stays on the row the job could not compose.
    assert (rows[3].subject, rows[3].raw_message) == ("", None)
    assert [record.getMessage() for record in caplog.records
            if record.name == "procura_events.welcome_emails"] == [
        f"welcome email {rows[3].id} not composed: {rows[3].last_error}",
    ]

"""A registrant's invites over the whole life of a two-session series, as calendar apps read them.

Register (confirmation), a session moves (update), cancel (cancellation), register again
(confirmation), a session is cancelled (cancellation), download the calendar: every email
goes through the real registration, programme and notice code into the outbox, and every
calendar in it is read by four parsers (icalendar, vobject, ical.js, libical) and checked
against the iTIP rules (one UID per object, METHOD as the MIME part says, SEQUENCE rising:
REQUEST < CANCEL < REQUEST again). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.clock import utc_now
from service.db.engine import session_scope
from service.db.models import OutboxEmail
from service.domain import programme
from service.domain import registration as registrations
from service.domain.notices.changes import process_due_change_notices
from service.settings import Settings
from tests.calendar_readers import (
    assert_parsers_agree,
    calendar_parts,
    itip_violations,
    read_icalendar,
    read_icaljs_many,
    read_libical_many,
)
from tests.factories import WINTER, make_event
from tests.integration.test_registration import (
    Client,
    Sessionmaker,
    compose_emails,
    outbox,
    register,
    token_of,
)

WINDOW = timedelta(seconds=600)


async def send_notices(sessionmaker: Sessionmaker, settings: Settings) -> None:
    """What the scheduler's change-notice job does once the window has passed."""
    async with session_scope(sessionmaker) as db:
        await process_due_change_notices(db, now=utc_now() + WINDOW, settings=settings)


def invites(raw: bytes) -> list[tuple[str | None, str, int, str]]:
    """(MIME method, UID, SEQUENCE, STATUS) of each attached invite, in order."""
    found = []
    for part in calendar_parts(raw):
        if part.filename is None:
            continue
        for event in icalendar.Calendar.from_ical(part.body).walk("VEVENT"):
            found.append((part.mime_method, str(event["UID"]), int(event["SEQUENCE"]),
                          str(event["STATUS"])))
    return found


async def test_a_series_from_confirmation_to_re_registration_keeps_the_itip_rules(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    tmp_path: Path,
) -> None:
    event = await make_event(db, settings)
    first, second = sorted(event.sessions, key=lambda s: s.starts_at)
    one, two = f"session-{first.id}@events.test", f"session-{second.id}@events.test"
    token = token_of(await register(client, event.slug))
    await compose_emails(db_sessionmaker, settings)
    async with session_scope(db_sessionmaker) as work:
        await programme.update_session(
            work, first.id,
            programme.SessionUpdate(starts_at="2035-11-12T14:00", ends_at="2035-11-12T15:45"),
            now=utc_now(), settings=settings)
    await send_notices(db_sessionmaker, settings)
    await client.post(f"/api/registrations/{token}/cancel")
    again = await register(client, event.slug)
    await compose_emails(db_sessionmaker, settings)
    async with session_scope(db_sessionmaker) as work:
        await programme.cancel_session(work, second.id, now=utc_now(), settings=settings)
    await send_notices(db_sessionmaker, settings)
    download = await client.get(f"/api/registrations/{token}/invite.ics")

    rows = [row for row in await outbox(db_sessionmaker, settings)
            if row.to_address == "ana.silva@lisboa.example.pt"]
    assert again.status_code == 201
    assert [(row.template, invites(row.raw_message or b"")) for row in rows] == [
        ("registration_confirmed_to_registrant", [
            ("REQUEST", one, 0, "CONFIRMED"), ("REQUEST", two, 0, "CONFIRMED")]),
        ("session_changed_to_registrant", [("REQUEST", one, 1, "CONFIRMED")]),
        ("registration_cancelled_to_registrant", [
            ("CANCEL", one, 2, "CANCELLED"), ("CANCEL", two, 1, "CANCELLED")]),
        ("registration_confirmed_to_registrant", [
            ("REQUEST", one, 3, "CONFIRMED"), ("REQUEST", two, 2, "CONFIRMED")]),
        ("session_changed_to_registrant", [("CANCEL", two, 3, "CANCELLED")]),
    ]
    emails = [row.raw_message or b"" for row in rows]
    assert itip_violations(emails) == []

    # Every calendar that went out, and the download, in four parsers.
    bodies = [part.body for raw in emails for part in calendar_parts(raw)]
    bodies.append(download.content)
    readings = [read_icalendar(body) for body in bodies]
    for body, reading in zip(bodies, readings, strict=True):
        assert_parsers_agree(body, reading)
    for parser in (read_icaljs_many, read_libical_many):
        assert [{str(e["uid"]): (datetime.fromtimestamp(int(e["start"]), UTC),
                                 datetime.fromtimestamp(int(e["end"]), UTC))
                 for e in calendar["events"]} for calendar in parser(bodies, tmp_path)] == readings
    assert [calendar["errors"] for calendar in read_libical_many(bodies, tmp_path)] == (
        [[]] * len(bodies))
    # The moved session at its new time; the download is a plain calendar without the
    # cancelled session, at the SEQUENCE of the last invite.
    update = calendar_parts(emails[1])[0].body
    assert read_icalendar(update) == {one: (datetime(2035, 11, 12, 13, 0, tzinfo=UTC),
                                            datetime(2035, 11, 12, 14, 45, tzinfo=UTC))}
    downloaded = icalendar.Calendar.from_ical(download.content)
    assert "METHOD" not in downloaded
    assert [(str(e["UID"]), int(e["SEQUENCE"]), str(e["STATUS"]))
            for e in downloaded.walk("VEVENT")] == [(one, 3, "CONFIRMED")]


async def test_a_session_cancelled_before_the_confirmation_is_composed_gets_no_request(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    event = await make_event(db, settings)
    first, second = sorted(event.sessions, key=lambda s: s.starts_at)
    await register(client, event.slug)
    async with session_scope(db_sessionmaker) as work:
        await programme.cancel_session(work, second.id, now=utc_now(), settings=settings)

    [confirmation] = await outbox(db_sessionmaker, settings)

    assert invites(confirmation.raw_message or b"") == [
        ("REQUEST", f"session-{first.id}@events.test", 0, "CONFIRMED")]
    assert itip_violations([confirmation.raw_message or b""]) == []
    async with db_sessionmaker() as check:
        text = (await check.scalar(select(OutboxEmail.raw_message))) or b""
    assert b"(CANCELLED)" in text.replace(b"=\r\n", b"")


async def test_dropping_a_session_and_choosing_it_again_outranks_each_invite(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    event = await make_event(db, settings, allows_session_choice=True)
    first, second = sorted(event.sessions, key=lambda s: s.starts_at)
    token = token_of(await register(client, event.slug, session_ids=[first.id, second.id]))

    await client.put(f"/api/registrations/{token}/sessions", json={"session_ids": [first.id]})
    await client.put(f"/api/registrations/{token}/sessions",
                     json={"session_ids": [first.id, second.id]})

    rows = await outbox(db_sessionmaker, settings)
    two = f"session-{second.id}@events.test"
    assert [(row.template, [i for i in invites(row.raw_message or b"") if i[1] == two])
            for row in rows] == [
        ("registration_confirmed_to_registrant", [("REQUEST", two, 0, "CONFIRMED")]),
        ("registration_sessions_dropped_to_registrant", [("CANCEL", two, 1, "CANCELLED")]),
        ("registration_sessions_added_to_registrant", [("REQUEST", two, 2, "CONFIRMED")]),
    ]
    assert itip_violations([row.raw_message or b"" for row in rows]) == []


async def test_the_download_of_a_registration_whose_session_was_cancelled_is_no_request(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    tmp_path: Path,
) -> None:
    event = await make_event(db, settings, sessions=(WINTER,))
    token = token_of(await register(client, event.slug))
    [session] = event.sessions
    async with session_scope(db_sessionmaker) as work:
        await programme.cancel_session(work, session.id, now=utc_now(), settings=settings)

    response = await client.get(f"/api/registrations/{token}/invite.ics")
    other = await registrations.find_registration_by_token(db, token)

    assert (response.status_code, response.json()["errors"]) == (
        409, [{"field": "status",
               "message": "There is no confirmed session to put in a calendar yet."}])
    assert other.status == "confirmed"

"""Reminders: planned at the right UTC instant, re-timed, cancelled, sent once, shown to organisers.

Every test passes `now` explicitly; nothing waits for real time. Runs on SQLite and
PostgreSQL (tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.delivery import deliver_due_emails
from notifications.transport import SmtpTransport
from service.db.engine import session_scope
from service.db.models import (
    EnrolmentStatus,
    EventKind,
    Registration,
    RegistrationStatus,
    SessionMode,
)
from service.domain import programme, signals
from service.domain.reminders import (
    NOTE_LATE,
    NOTE_PLACE_ENDED,
    NOTE_POLICY,
    NOTE_SESSION_CANCELLED,
    NOTE_STARTED,
    ReminderReport,
    prepare_reminders,
    reminder_due_at,
)
from service.settings import Settings
from tests.factories import (
    JOIN_URL,
    SOCIAL_ICT,
    make_agenda_item,
    make_event,
    make_person,
    make_registration,
    make_session,
)
from tests.integration.mail_readers import (
    Sessionmaker,
    html_of,
    outbox_messages,
    reminders_of,
    subject_of,
    text_of,
)
from tests.smtp_server import SmtpTestServer

# The Monday after the last Sunday of October 2026 (clocks go back on Sunday 25 October).
MONDAY_10_CET = datetime(2026, 10, 26, 9, 0, tzinfo=UTC)
DAY_BEFORE = datetime(2026, 10, 25, 9, 0, tzinfo=UTC)  # Sunday 10:00 CET, after the change
HOUR_BEFORE = datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
SEVEN_DAYS_BEFORE = datetime(2026, 10, 19, 8, 0, tzinfo=UTC)  # Monday 10:00 CEST


async def webinar_with_registrants(
    db: AsyncSession, settings: Settings, *names: str
) -> tuple[int, int, list[int]]:
    """A webinar on Monday 26 October 2026 10:00-11:30 Brussels with an agenda; ids."""
    event = await make_event(db, settings, SOCIAL_ICT)
    session = await make_session(db, settings, event, starts_at="2026-10-26T10:00",
                                 ends_at="2026-10-26T11:30")
    paula = await make_person(db, "Paula Land", None, organisation="ICLEI Europe")
    await make_agenda_item(db, settings, session, "10:00", "10:10", "Welcome and introduction", [paula])
    await make_agenda_item(db, settings, session, "10:10", "11:30", "Contract management in practice")
    registrations = [await make_registration(db, event, session, name) for name in names]
    await db.commit()
    return event.id, session.id, [r.id for r in registrations]


async def run_reminders(
    sessionmaker: Sessionmaker, settings: Settings, now: datetime, batch_size: int = 200
) -> ReminderReport:
    async with session_scope(sessionmaker) as db:
        return await prepare_reminders(db, now=now, settings=settings, batch_size=batch_size)


# --- due times -------------------------------------------------------------------------------


def test_one_day_before_a_monday_after_the_october_change_is_sunday_at_the_same_wall_time() -> None:
    assert reminder_due_at(MONDAY_10_CET, 24 * 60, "Europe/Brussels") == DAY_BEFORE
    assert reminder_due_at(MONDAY_10_CET, 60, "Europe/Brussels") == HOUR_BEFORE
    assert reminder_due_at(MONDAY_10_CET, 7 * 24 * 60, "Europe/Brussels") == SEVEN_DAYS_BEFORE
    # 1 day and 30 minutes: Sunday 10:00 CET, then exactly 30 minutes earlier.
    assert reminder_due_at(MONDAY_10_CET, 24 * 60 + 30, "Europe/Brussels") == datetime(
        2026, 10, 25, 8, 30, tzinfo=UTC)


async def test_webinar_registrant_gets_the_default_reminders_at_exact_instants(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    await webinar_with_registrants(db, settings, "Ana Silva")

    assert await reminders_of(db_sessionmaker) == [
        ("Ana Silva", 1440, "pending", DAY_BEFORE, None),
        ("Ana Silva", 60, "pending", HOUR_BEFORE, None),
    ]


async def test_seminar_defaults_to_seven_days_and_one_day_and_events_may_override(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    seminar = await make_event(db, settings, SOCIAL_ICT, kind=EventKind.SEMINAR, slug="seminar")
    day = await make_session(db, settings, seminar, starts_at="2026-10-26T10:00",
                             ends_at="2026-10-26T17:00", mode=SessionMode.IN_PERSON,
                             join_url=None)
    await make_registration(db, seminar, day, "Ben Weber")
    webinar = await make_event(db, settings, SOCIAL_ICT, slug="short-notice", reminder_offsets_minutes=[120])
    session = await make_session(db, settings, webinar, starts_at="2026-10-26T10:00",
                                 ends_at="2026-10-26T11:00")
    await make_registration(db, webinar, session, "Chloe Martin")
    await db.commit()

    assert await reminders_of(db_sessionmaker) == [
        ("Ben Weber", 10080, "pending", SEVEN_DAYS_BEFORE, None),
        ("Ben Weber", 1440, "pending", DAY_BEFORE, None),
        ("Chloe Martin", 120, "pending", datetime(2026, 10, 26, 7, 0, tzinfo=UTC), None),
    ]


async def test_changing_the_policy_replans_pending_reminders(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    event_id, _, _ = await webinar_with_registrants(db, settings, "Ana Silva")
    now = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)

    async with session_scope(db_sessionmaker) as work:
        await programme.update_event(work, event_id,
                                     programme.EventUpdate(reminder_offsets_minutes=[2880, 60]),
                                     now=now, settings=settings)

    assert await reminders_of(db_sessionmaker) == [
        ("Ana Silva", 2880, "pending", datetime(2026, 10, 24, 8, 0, tzinfo=UTC), None),
        ("Ana Silva", 1440, "cancelled", DAY_BEFORE, NOTE_POLICY),
        ("Ana Silva", 60, "pending", HOUR_BEFORE, None),
    ]


# --- sending ---------------------------------------------------------------------------------


async def test_due_reminder_reaches_the_smtp_server_once_with_join_link_and_local_agenda(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    smtp_server: SmtpTestServer,
) -> None:
    mail_settings = replace(settings, smtp=smtp_server.smtp_settings())
    _, _, (ana_id,) = await webinar_with_registrants(db, settings, "Ana Silva")
    transport = SmtpTransport(mail_settings.smtp)

    report = await run_reminders(db_sessionmaker, mail_settings, DAY_BEFORE)
    again = await run_reminders(db_sessionmaker, mail_settings, DAY_BEFORE + timedelta(minutes=5))
    await deliver_due_emails(db_sessionmaker, transport, settings=mail_settings, now=DAY_BEFORE,
                             worker_id="test")
    await deliver_due_emails(db_sessionmaker, transport, settings=mail_settings,
                             now=DAY_BEFORE + timedelta(hours=1), worker_id="test")
    await transport.close()

    assert (report, again) == (ReminderReport(claimed=1, sent=1), ReminderReport())
    [received] = smtp_server.messages
    message = received.message
    assert received.rcpt_tos == ("ana@social-ict.example.org",)
    assert subject_of(message) == (
        "Reminder: Keeping social criteria alive starts tomorrow at 10:00 CET")
    text = text_of(message)
    assert text.split("\n\n")[1:5] == [
        'A reminder: "Keeping social criteria alive" (Socially responsible ICT procurement) '
        "starts tomorrow at 10:00 CET.",
        "When: Monday 26 October 2026, 10:00–11:30 CET (Europe/Brussels)\n"
        "      2026-10-26 09:00–10:30 UTC\n"
        f"Join online: {JOIN_URL}",
        "Agenda (times in Europe/Brussels, CET):\n"
        "10:00 Welcome and introduction, Paula Land, ICLEI Europe\n"
        "10:10 Contract management in practice\n"
        "11:30 End",
        "Event page: http://events.test/events/social-ict",
    ]
    assert "http://events.test/registrations/" in text.split("\n\n")[5]
    assert f'<a href="{JOIN_URL}"' in html_of(message)
    assert message.get_content_type() == "multipart/alternative"  # no invite with a reminder
    [(row, _)] = await outbox_messages(db_sessionmaker)
    assert (row.dedupe_key, row.due_at, row.registration_id, str(row.status)) == (
        "reminder:1", DAY_BEFORE, ana_id, "sent")
    assert await reminders_of(db_sessionmaker) == [
        ("Ana Silva", 1440, "sent", DAY_BEFORE, None),
        ("Ana Silva", 60, "pending", HOUR_BEFORE, None),
    ]


async def test_in_person_reminder_carries_the_venue_and_no_join_link(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    seminar = await make_event(db, settings, SOCIAL_ICT, kind=EventKind.SEMINAR, slug="seminar",
                               venue_name="Pakhuis de Zwijger", venue_address="Piet Heinkade 179",
                               venue_city="Amsterdam", venue_country="NL")
    day = await make_session(db, settings, seminar, starts_at="2026-10-26T09:00",
                             ends_at="2026-10-27T17:00", title="Procura+ Seminar",
                             mode=SessionMode.IN_PERSON, join_url="https://meet.example.org/x")
    await make_registration(db, seminar, day, "Ben Weber")
    await db.commit()

    await run_reminders(db_sessionmaker, settings, datetime(2026, 10, 19, 7, 0, tzinfo=UTC))

    [(_, message)] = await outbox_messages(db_sessionmaker)
    assert subject_of(message) == (
        "Reminder: Procura+ Seminar starts on Monday 26 October 2026 at 09:00 CET")
    assert text_of(message).split("\n\n")[2] == (
        "When: Monday 26 October 2026, 09:00 CET – Tuesday 27 October 2026, 17:00 CET "
        "(Europe/Brussels)\n"
        "      2026-10-26 08:00 – 2026-10-27 16:00 UTC\n"
        "Venue: Pakhuis de Zwijger, Piet Heinkade 179, Amsterdam, NL")


async def test_only_confirmed_places_of_confirmed_registrations_are_reminded(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    event = await make_event(db, settings, SOCIAL_ICT)
    session = await make_session(db, settings, event, starts_at="2026-10-26T10:00",
                                 ends_at="2026-10-26T11:30")
    await make_registration(db, event, session, "Ana Silva")
    await make_registration(db, event, session, "Waiting Wim", enrolment=EnrolmentStatus.WAITING)
    left = await make_registration(db, event, session, "Leaving Lea")
    # Cancelled behind the reminders' back (no hook): the check at sending time catches it.
    await db.execute(update(Registration).where(Registration.id == left.id)
                     .values(status=RegistrationStatus.CANCELLED))
    await db.commit()

    report = await run_reminders(db_sessionmaker, settings, DAY_BEFORE)

    assert report == ReminderReport(claimed=2, sent=1, cancelled=1)
    assert [row.to_address for row, _ in await outbox_messages(db_sessionmaker)] == [
        "ana@social-ict.example.org"]
    assert [r for r in await reminders_of(db_sessionmaker) if r[1] == 1440] == [
        ("Ana Silva", 1440, "sent", DAY_BEFORE, None),
        ("Leaving Lea", 1440, "cancelled", DAY_BEFORE, NOTE_PLACE_ENDED),
    ]


async def test_batch_size_bounds_one_run(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    await webinar_with_registrants(db, settings, "Ana Silva", "Ben Weber", "Chloe Martin")

    first = await run_reminders(db_sessionmaker, settings, DAY_BEFORE, batch_size=2)
    second = await run_reminders(db_sessionmaker, settings, DAY_BEFORE, batch_size=2)

    assert (first, second) == (ReminderReport(claimed=2, sent=2), ReminderReport(claimed=1, sent=1))
    assert len(await outbox_messages(db_sessionmaker)) == 3


# --- moves, cancellations, late registrations, downtime ---------------------------------------


async def test_moving_a_session_retimes_its_pending_reminders(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    _, session_id, _ = await webinar_with_registrants(db, settings, "Ana Silva")
    now = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)

    async with session_scope(db_sessionmaker) as work:
        await programme.update_session(
            work, session_id,
            programme.SessionUpdate(starts_at="2026-11-02T14:00", ends_at="2026-11-02T15:30"),
            now=now, settings=settings)

    assert await reminders_of(db_sessionmaker) == [
        ("Ana Silva", 1440, "pending", datetime(2026, 11, 1, 13, 0, tzinfo=UTC), None),
        ("Ana Silva", 60, "pending", datetime(2026, 11, 2, 12, 0, tzinfo=UTC), None),
    ]


async def test_a_session_postponed_after_its_reminder_went_out_is_reminded_again(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    smtp_server: SmtpTestServer,
) -> None:
    mail_settings = replace(settings, smtp=smtp_server.smtp_settings())
    _, session_id, _ = await webinar_with_registrants(db, settings, "Ana Silva")
    await run_reminders(db_sessionmaker, mail_settings, DAY_BEFORE)
    transport = SmtpTransport(mail_settings.smtp)
    await deliver_due_emails(db_sessionmaker, transport, settings=mail_settings, now=DAY_BEFORE,
                             worker_id="test")
    await transport.close()
    async with session_scope(db_sessionmaker) as work:
        await programme.update_session(
            work, session_id,
            programme.SessionUpdate(starts_at="2026-11-02T10:00", ends_at="2026-11-02T11:30"),
            now=DAY_BEFORE + timedelta(hours=2), settings=settings)
    new_day_before = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

    report = await run_reminders(db_sessionmaker, mail_settings, new_day_before)

    assert report == ReminderReport(claimed=1, sent=1)
    assert [(row.dedupe_key, str(row.status)) for row, _ in await outbox_messages(
        db_sessionmaker)] == [("reminder:1", "sent"), ("reminder:1:after:1", "queued")]
    assert len(smtp_server.messages) == 1


async def test_cancelling_the_session_or_the_place_removes_reminders(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    event = await make_event(db, settings, SOCIAL_ICT)
    first = await make_session(db, settings, event, starts_at="2026-10-26T10:00",
                               ends_at="2026-10-26T11:30")
    second = await make_session(db, settings, event, starts_at="2026-11-02T10:00",
                                ends_at="2026-11-02T11:30", title="Second session")
    ana = await make_registration(db, event, first, "Ana Silva")
    ben = await make_registration(db, event, second, "Ben Weber")
    await db.commit()
    now = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)

    async with session_scope(db_sessionmaker) as work:
        await programme.cancel_session(work, first.id, now=now, settings=settings)
        registration = await work.get(Registration, ben.id)
        assert registration is not None
        await signals.announce(work, signals.EnrolmentEnded(registration, second), now=now,
                               settings=settings)
    report = await run_reminders(db_sessionmaker, settings, datetime(2026, 11, 2, 8, 0, tzinfo=UTC))

    assert report == ReminderReport()
    assert [(name, offset, status, note) for name, offset, status, _, note
            in await reminders_of(db_sessionmaker)] == [
        ("Ana Silva", 1440, "cancelled", NOTE_SESSION_CANCELLED),
        ("Ana Silva", 60, "cancelled", NOTE_SESSION_CANCELLED),
        ("Ben Weber", 1440, "cancelled", NOTE_PLACE_ENDED),
        ("Ben Weber", 60, "cancelled", NOTE_PLACE_ENDED),
    ]
    assert ana.id != ben.id
    assert await outbox_messages(db_sessionmaker) == []


async def test_a_late_registration_gets_no_stale_reminder(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    event = await make_event(db, settings, SOCIAL_ICT)
    session = await make_session(db, settings, event, starts_at="2026-10-26T10:00",
                                 ends_at="2026-10-26T11:30")
    three_hours_before = MONDAY_10_CET - timedelta(hours=3)
    await make_registration(db, event, session, "Ana Silva", now=three_hours_before)
    await db.commit()

    report = await run_reminders(db_sessionmaker, settings, three_hours_before)

    assert report == ReminderReport()
    assert await reminders_of(db_sessionmaker) == [
        ("Ana Silva", 1440, "skipped", DAY_BEFORE, NOTE_LATE),
        ("Ana Silva", 60, "pending", HOUR_BEFORE, None),
    ]


async def test_after_downtime_the_nearest_reminder_goes_out_and_started_sessions_are_skipped(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    event = await make_event(db, settings, SOCIAL_ICT)
    early = await make_session(db, settings, event, starts_at="2026-10-26T08:00",
                               ends_at="2026-10-26T09:00", title="Early session")
    later = await make_session(db, settings, event, starts_at="2026-10-26T10:00",
                               ends_at="2026-10-26T11:30")
    await make_registration(db, event, early, "Ana Silva")
    await make_registration(db, event, later, "Ben Weber")
    await db.commit()
    back_at = MONDAY_10_CET - timedelta(minutes=20)  # down since Saturday

    report = await run_reminders(db_sessionmaker, settings, back_at)

    assert report == ReminderReport(claimed=4, sent=1, skipped=3)
    assert [(name, offset, status, note) for name, offset, status, _, note
            in await reminders_of(db_sessionmaker)] == [
        ("Ana Silva", 1440, "skipped", NOTE_STARTED),
        ("Ana Silva", 60, "skipped", NOTE_STARTED),
        ("Ben Weber", 1440, "skipped", "superseded by the 1-hour reminder"),
        ("Ben Weber", 60, "sent", None),
    ]
    [(_, message)] = await outbox_messages(db_sessionmaker)
    assert subject_of(message) == (
        "Reminder: Keeping social criteria alive starts in 20 minutes, at 10:00 CET")


# --- organisers' view ------------------------------------------------------------------------


@pytest.fixture
async def client_with_smtp(
    settings: Settings, smtp_server: SmtpTestServer
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    from service.web.app import create_app

    app = create_app(replace(settings, smtp=smtp_server.smtp_settings()))
    async with AsyncTestClient(app=app, base_url="http://events.test") as client:
        yield client


async def test_organisers_see_scheduled_sent_failed_and_skipped_reminders(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    smtp_server: SmtpTestServer, client_with_smtp: AsyncTestClient[Litestar],
    organiser_headers: dict[str, str],
) -> None:
    mail_settings = replace(settings, smtp=smtp_server.smtp_settings())
    event_id, session_id, (ana_id, ben_id) = await webinar_with_registrants(
        db, settings, "Ana Silva", "Ben Weber")
    await make_registration(db, await programme.get_event(db, event_id),
                   await programme.get_session(db, session_id), "Late Luc",
                   now=MONDAY_10_CET - timedelta(hours=3))
    await db.commit()
    smtp_server.refuse_recipient("ben@social-ict.example.org")
    await run_reminders(db_sessionmaker, mail_settings, DAY_BEFORE)
    transport = SmtpTransport(mail_settings.smtp)
    await deliver_due_emails(db_sessionmaker, transport, settings=mail_settings, now=DAY_BEFORE,
                             worker_id="test")
    await transport.close()

    response = await client_with_smtp.get(f"/api/organiser/events/{event_id}/reminders",
                                          headers=organiser_headers)
    only_failed = await client_with_smtp.get(
        f"/api/organiser/events/{event_id}/reminders?state=failed", headers=organiser_headers)
    bad_state = await client_with_smtp.get(
        f"/api/organiser/events/{event_id}/reminders?state=lost", headers=organiser_headers)

    assert response.status_code == 200
    body = response.json()
    assert (body["event_id"], body["offsets_minutes"], body["is_default_policy"]) == (
        event_id, [1440, 60], True)
    assert body["counts"] == {"scheduled": 3, "sending": 0, "sent": 1, "failed": 1,
                              "skipped": 1, "cancelled": 0}
    assert [(r["registrant_name"], r["offset_minutes"], r["due_at"]["utc"],
             r["due_at"]["local"], r["state"], r["note"]) for r in body["reminders"]] == [
        ("Ana Silva", 1440, "2026-10-25T09:00:00Z", "2026-10-25T10:00:00+01:00", "sent", None),
        ("Ben Weber", 1440, "2026-10-25T09:00:00Z", "2026-10-25T10:00:00+01:00", "failed",
         "550 5.1.1 No such user (ben@social-ict.example.org)"),
        ("Late Luc", 1440, "2026-10-25T09:00:00Z", "2026-10-25T10:00:00+01:00", "skipped",
         NOTE_LATE),
        ("Ana Silva", 60, "2026-10-26T08:00:00Z", "2026-10-26T09:00:00+01:00", "scheduled", None),
        ("Ben Weber", 60, "2026-10-26T08:00:00Z", "2026-10-26T09:00:00+01:00", "scheduled", None),
        ("Late Luc", 60, "2026-10-26T08:00:00Z", "2026-10-26T09:00:00+01:00", "scheduled", None),
    ]
    assert body["reminders"][0]["delivered_at"] == "2026-10-25T09:00:00Z"
    assert [r["registration_id"] for r in only_failed.json()["reminders"]] == [ben_id]
    assert ana_id != ben_id
    assert (bad_state.status_code, bad_state.json()["errors"]) == (422, [{
        "field": "state[0]",
        "message": "Unknown state 'lost': use one of scheduled, sending, sent, failed, skipped, "
                   "cancelled.",
    }])

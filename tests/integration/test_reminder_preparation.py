"""Reminders composed ahead of their due time: held until then, taken back when they no
longer hold, never sent once their session has started.

Time is the `now` handed to each function; mail goes to a real aiosmtpd (tests/smtp_server.py).
Runs on SQLite and PostgreSQL; the races that need two open transactions at once run on
PostgreSQL only (SQLite lets one writer in at a time, so they cannot overlap there).
"""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import delivery
from notifications.delivery import EXPIRED_NOTE, DeliveryReport, deliver_due_emails
from notifications.outbox import withdraw_emails
from notifications.transport import SmtpTransport
from service.db.engine import create_engine, make_sessionmaker, session_scope
from service.db.models import OutboxEmail, OutboxStatus, Registration
from service.domain import programme, signals
from service.domain.registration import cancel_registration
from service.domain.reminders import (
    NOTE_EXPIRED,
    NOTE_PLACE_ENDED,
    NOTE_POLICY,
    REMINDER_TEMPLATE,
    ReminderReport,
    cancel_reminders,
    list_reminders_for_event,
    prepare_reminders,
)
from service.settings import Settings
from tests.databases import until_a_connection_waits_for_a_lock
from tests.factories import (
    SOCIAL_ICT,
    make_agenda_item,
    make_event,
    make_person,
    make_registration,
    make_session,
)
from tests.integration.mail_readers import (
    Sessionmaker,
    crowded_webinar,
    outbox_messages,
    reminders_of,
    subject_of,
    text_of,
)
from tests.smtp_server import SmtpTestServer

# A webinar on Monday 26 October 2026, 10:00-11:30 Brussels (CET, the day after the change).
STARTS = datetime(2026, 10, 26, 9, 0, tzinfo=UTC)
DAY_BEFORE = datetime(2026, 10, 25, 9, 0, tzinfo=UTC)
HOUR_BEFORE = datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
# 20 minutes before the "1 day before" reminder: inside the default 30-minute window.
AHEAD = DAY_BEFORE - timedelta(minutes=20)


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: SmtpTestServer) -> Settings:
    return replace(settings, smtp=smtp_server.smtp_settings())


@pytest.fixture
async def transport(mail_settings: Settings) -> AsyncIterator[SmtpTransport]:
    smtp = SmtpTransport(mail_settings.smtp)
    yield smtp
    await smtp.close()


async def webinar(db: AsyncSession, settings: Settings, *names: str) -> tuple[int, int, list[int]]:
    """The webinar with a two-item agenda and confirmed registrants; (event, session, ids)."""
    event = await make_event(db, settings, SOCIAL_ICT)
    session = await make_session(db, settings, event, starts_at="2026-10-26T10:00",
                                 ends_at="2026-10-26T11:30")
    await make_agenda_item(db, settings, session, "10:00", "10:10", "Welcome and introduction")
    await make_agenda_item(db, settings, session, "10:10", "11:30", "Contract management in practice")
    registrations = [await make_registration(db, event, session, name) for name in names]
    await db.commit()
    return event.id, session.id, [r.id for r in registrations]


async def prepare(sessionmaker: Sessionmaker, settings: Settings, now: datetime) -> ReminderReport:
    async with session_scope(sessionmaker) as db:
        return await prepare_reminders(db, now=now, settings=settings)


async def deliver(sessionmaker: Sessionmaker, transport: SmtpTransport, settings: Settings,
                  now: datetime) -> DeliveryReport:
    return await deliver_due_emails(sessionmaker, transport, settings=settings, now=now,
                                    worker_id="test")


async def reminder_emails(sessionmaker: Sessionmaker) -> list[tuple[str, datetime, str | None]]:
    """(status, next_attempt_at, last_error) of each reminder email, in queueing order."""
    async with sessionmaker() as db:
        rows = (await db.execute(
            select(OutboxEmail.status, OutboxEmail.next_attempt_at, OutboxEmail.last_error)
            .where(OutboxEmail.template == REMINDER_TEMPLATE).order_by(OutboxEmail.id))).all()
    return [(str(status), at, error) for status, at, error in rows]


async def states(sessionmaker: Sessionmaker, event_id: int, now: datetime
                 ) -> list[tuple[int, str, str | None]]:
    async with sessionmaker() as db:
        overview = await list_reminders_for_event(db, event_id, now=now)
    return [(view.offset_minutes, view.state, view.note) for view in overview.reminders]


# --- composed ahead, sent at the due time -----------------------------------------------------


async def test_a_reminder_is_composed_ahead_and_goes_out_at_its_due_time_not_before(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    smtp_server: SmtpTestServer, transport: SmtpTransport,
) -> None:
    event_id, _, _ = await webinar(db, mail_settings, "Ana Silva")

    report = await prepare(db_sessionmaker, mail_settings, AHEAD)
    early = await deliver(db_sessionmaker, transport, mail_settings, DAY_BEFORE - timedelta(seconds=1))
    view_before = await states(db_sessionmaker, event_id, DAY_BEFORE - timedelta(seconds=1))
    view_due = await states(db_sessionmaker, event_id, DAY_BEFORE)
    on_time = await deliver(db_sessionmaker, transport, mail_settings, DAY_BEFORE)

    assert report == ReminderReport(claimed=1, sent=1, ahead=1)
    assert early == DeliveryReport()
    assert view_before == [(1440, "scheduled", None), (60, "scheduled", None)]
    assert view_due == [(1440, "sending", None), (60, "scheduled", None)]
    assert on_time == DeliveryReport(claimed=1, sent=1)
    [(row, _)] = await outbox_messages(db_sessionmaker)
    assert (row.next_attempt_at, row.due_at, row.expires_at, row.created_at, row.sent_at) == (
        DAY_BEFORE, DAY_BEFORE, STARTS, AHEAD, DAY_BEFORE)
    [received] = smtp_server.messages
    # Worded and dated as of its due time, not of the moment it was composed.
    assert subject_of(received.message) == (
        "Reminder: Keeping social criteria alive starts tomorrow at 10:00 CET")
    assert email.utils.parsedate_to_datetime(str(received.message["Date"])) == DAY_BEFORE
    assert await states(db_sessionmaker, event_id, DAY_BEFORE) == [
        (1440, "sent", None), (60, "scheduled", None)]


async def test_only_reminders_within_the_window_are_prepared(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
) -> None:
    await webinar(db, mail_settings, "Ana Silva")
    narrow = replace(mail_settings, reminder_prepare_minutes=10)

    too_early = await prepare(db_sessionmaker, narrow, AHEAD)
    in_time = await prepare(db_sessionmaker, narrow, DAY_BEFORE - timedelta(minutes=10))

    assert (too_early, in_time) == (ReminderReport(), ReminderReport(claimed=1, sent=1, ahead=1))


# --- changes after preparation ----------------------------------------------------------------


async def test_a_session_moved_after_preparation_is_reminded_once_at_its_new_time(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    smtp_server: SmtpTestServer, transport: SmtpTransport,
) -> None:
    _, session_id, _ = await webinar(db, mail_settings, "Ana Silva")
    await prepare(db_sessionmaker, mail_settings, AHEAD)
    async with session_scope(db_sessionmaker) as work:
        await programme.update_session(
            work, session_id,
            programme.SessionUpdate(starts_at="2026-10-26T12:00", ends_at="2026-10-26T13:30"),
            now=AHEAD + timedelta(minutes=5), settings=mail_settings)
    new_due = DAY_BEFORE + timedelta(hours=2)

    at_old_time = await deliver(db_sessionmaker, transport, mail_settings, DAY_BEFORE)
    prepared_again = await prepare(db_sessionmaker, mail_settings, new_due - timedelta(minutes=20))
    at_new_time = await deliver(db_sessionmaker, transport, mail_settings, new_due)
    later = await deliver(db_sessionmaker, transport, mail_settings, new_due + timedelta(hours=1))

    assert (at_old_time, prepared_again, at_new_time, later) == (
        DeliveryReport(), ReminderReport(claimed=1, sent=1, ahead=1),
        DeliveryReport(claimed=1, sent=1), DeliveryReport())
    assert await reminder_emails(db_sessionmaker) == [
        ("withdrawn", DAY_BEFORE, "reminder composed again: the session changed"),
        ("sent", new_due, None),
    ]
    [received] = smtp_server.messages
    assert subject_of(received.message) == (
        "Reminder: Keeping social criteria alive starts tomorrow at 12:00 CET")
    assert [(offset, status, due) for _, offset, status, due, _ in
            await reminders_of(db_sessionmaker)] == [
        (1440, "sent", new_due), (60, "pending", HOUR_BEFORE + timedelta(hours=2))]


async def test_a_registration_cancelled_after_preparation_gets_no_reminder(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    smtp_server: SmtpTestServer, transport: SmtpTransport,
) -> None:
    _, _, (ana_id, ben_id) = await webinar(db, mail_settings, "Ana Silva", "Ben Weber")
    await prepare(db_sessionmaker, mail_settings, AHEAD)
    async with session_scope(db_sessionmaker) as work:
        await cancel_registration(work, ana_id, now=AHEAD + timedelta(minutes=5),
                                  settings=mail_settings)

    await deliver(db_sessionmaker, transport, mail_settings, DAY_BEFORE)

    reminders_sent = [m.rcpt_tos for m in smtp_server.messages
                      if subject_of(m.message).startswith("Reminder:")]
    assert reminders_sent == [("ben@social-ict.example.org",)]
    assert await reminder_emails(db_sessionmaker) == [
        ("withdrawn", DAY_BEFORE, f"reminder cancelled: {NOTE_PLACE_ENDED}"),
        ("sent", DAY_BEFORE, None),
    ]
    assert [(name, offset, status, note) for name, offset, status, _, note
            in await reminders_of(db_sessionmaker)] == [
        ("Ana Silva", 1440, "cancelled", NOTE_PLACE_ENDED),
        ("Ana Silva", 60, "cancelled", NOTE_PLACE_ENDED),
        ("Ben Weber", 1440, "sent", None),
        ("Ben Weber", 60, "pending", None),
    ]
    assert ana_id != ben_id


async def test_a_session_cancelled_after_preparation_sends_no_reminder(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    smtp_server: SmtpTestServer, transport: SmtpTransport,
) -> None:
    _, session_id, _ = await webinar(db, mail_settings, "Ana Silva")
    await prepare(db_sessionmaker, mail_settings, AHEAD)
    async with session_scope(db_sessionmaker) as work:
        await programme.cancel_session(work, session_id, now=AHEAD + timedelta(minutes=5),
                                       settings=mail_settings)

    report = await deliver(db_sessionmaker, transport, mail_settings, DAY_BEFORE)

    assert report == DeliveryReport()
    assert smtp_server.messages == []
    assert [status for status, _, _ in await reminder_emails(db_sessionmaker)] == ["withdrawn"]
    assert {status for _, _, status, _, _ in await reminders_of(db_sessionmaker)} == {"cancelled"}


async def test_an_agenda_edited_after_preparation_shows_in_the_reminder_sent(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    smtp_server: SmtpTestServer, transport: SmtpTransport,
) -> None:
    _, session_id, _ = await webinar(db, mail_settings, "Ana Silva")
    await prepare(db_sessionmaker, mail_settings, AHEAD)
    edited_at = AHEAD + timedelta(minutes=5)
    async with session_scope(db_sessionmaker) as work:
        session = await programme.get_session(work, session_id)
        await programme.update_agenda_item(
            work, session.agenda_items[1].id,
            programme.AgendaItemUpdate(title="Contract management: three cities"),
            now=edited_at, settings=mail_settings)

    prepared_again = await prepare(db_sessionmaker, mail_settings, edited_at)
    await deliver(db_sessionmaker, transport, mail_settings, DAY_BEFORE)

    assert prepared_again == ReminderReport(claimed=1, sent=1, ahead=1)
    [received] = smtp_server.messages
    assert text_of(received.message).split("\n\n")[3] == (
        "Agenda (times in Europe/Brussels, CET):\n"
        "10:00 Welcome and introduction\n"
        "10:10 Contract management: three cities\n"
        "11:30 End")
    assert [status for status, _, _ in await reminder_emails(db_sessionmaker)] == [
        "withdrawn", "sent"]


async def test_a_new_session_title_or_event_title_after_preparation_is_in_the_reminder_sent(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    smtp_server: SmtpTestServer, transport: SmtpTransport,
) -> None:
    event_id, session_id, _ = await webinar(db, mail_settings, "Ana Silva")
    await prepare(db_sessionmaker, mail_settings, AHEAD)
    async with session_scope(db_sessionmaker) as work:
        await programme.update_session(work, session_id,
                                       programme.SessionUpdate(title="Social criteria that last"),
                                       now=AHEAD + timedelta(minutes=1), settings=mail_settings)
    await prepare(db_sessionmaker, mail_settings, AHEAD + timedelta(minutes=2))
    async with session_scope(db_sessionmaker) as work:
        await programme.update_event(work, event_id,
                                     programme.EventUpdate(title="Social ICT procurement"),
                                     now=AHEAD + timedelta(minutes=3), settings=mail_settings)
    await prepare(db_sessionmaker, mail_settings, AHEAD + timedelta(minutes=4))

    await deliver(db_sessionmaker, transport, mail_settings, DAY_BEFORE)

    [received] = smtp_server.messages
    assert text_of(received.message).split("\n\n")[1] == (
        'A reminder: "Social criteria that last" (Social ICT procurement) starts tomorrow at '
        "10:00 CET.")
    assert [status for status, _, _ in await reminder_emails(db_sessionmaker)] == [
        "withdrawn", "withdrawn", "sent"]


async def test_a_speaker_renamed_after_preparation_is_renamed_in_the_reminder_sent(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    smtp_server: SmtpTestServer, transport: SmtpTransport,
) -> None:
    event = await make_event(db, mail_settings, SOCIAL_ICT)
    session = await make_session(db, mail_settings, event, starts_at="2026-10-26T10:00",
                                 ends_at="2026-10-26T11:30")
    paula = await make_person(db, "Paula Land", None, organisation="ICLEI Europe")
    await make_agenda_item(db, mail_settings, session, "10:00", "11:30", "Welcome", [paula])
    await make_registration(db, event, session, "Ana Silva")
    await db.commit()
    await prepare(db_sessionmaker, mail_settings, AHEAD)
    renamed_at = AHEAD + timedelta(minutes=1)
    async with session_scope(db_sessionmaker) as work:
        # The programme's person edit announces the change; its consequence redoes reminders.
        await programme.update_person(work, paula.id, programme.PersonUpdate(name="Paula Landa"),
                                      now=renamed_at, settings=mail_settings)

    await prepare(db_sessionmaker, mail_settings, renamed_at)
    await deliver(db_sessionmaker, transport, mail_settings, DAY_BEFORE)

    [received] = smtp_server.messages
    assert text_of(received.message).split("\n\n")[3].splitlines()[1] == (
        "10:00 Welcome, Paula Landa, ICLEI Europe")
    assert [status for status, _, _ in await reminder_emails(db_sessionmaker)] == [
        "withdrawn", "sent"]


async def test_an_edit_that_changes_nothing_a_reminder_says_keeps_the_prepared_email(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
) -> None:
    event_id, _, _ = await webinar(db, mail_settings, "Ana Silva")
    await prepare(db_sessionmaker, mail_settings, AHEAD)
    async with session_scope(db_sessionmaker) as work:
        await programme.update_event(work, event_id, programme.EventUpdate(summary="A new summary"),
                                     now=AHEAD + timedelta(minutes=1), settings=mail_settings)

    assert [status for status, _, _ in await reminder_emails(db_sessionmaker)] == ["queued"]


async def test_a_policy_change_after_preparation_takes_back_the_dropped_reminder(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
) -> None:
    event_id, _, _ = await webinar(db, mail_settings, "Ana Silva")
    await prepare(db_sessionmaker, mail_settings, AHEAD)
    async with session_scope(db_sessionmaker) as work:
        await programme.update_event(work, event_id,
                                     programme.EventUpdate(reminder_offsets_minutes=[60]),
                                     now=AHEAD + timedelta(minutes=1), settings=mail_settings)

    assert await reminder_emails(db_sessionmaker) == [
        ("withdrawn", DAY_BEFORE, f"reminder cancelled: {NOTE_POLICY}")]
    assert [(offset, status, note) for _, offset, status, _, note
            in await reminders_of(db_sessionmaker)] == [
        (1440, "cancelled", NOTE_POLICY), (60, "pending", None)]


# --- downtime ---------------------------------------------------------------------------------


async def test_a_prepared_reminder_still_unsent_when_its_session_starts_expires_as_skipped(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    smtp_server: SmtpTestServer, transport: SmtpTransport,
) -> None:
    event_id, _, _ = await webinar(db, mail_settings, "Ana Silva")
    await prepare(db_sessionmaker, mail_settings, AHEAD)
    await deliver(db_sessionmaker, transport, mail_settings, DAY_BEFORE)
    await prepare(db_sessionmaker, mail_settings, HOUR_BEFORE - timedelta(minutes=20))
    back_at = STARTS + timedelta(minutes=5)  # down across the due time and the start

    report = await deliver(db_sessionmaker, transport, mail_settings, back_at)
    again = await deliver(db_sessionmaker, transport, mail_settings, back_at + timedelta(hours=1))

    assert (report, again) == (DeliveryReport(expired=1), DeliveryReport())
    assert [subject_of(m.message) for m in smtp_server.messages] == [
        "Reminder: Keeping social criteria alive starts tomorrow at 10:00 CET"]
    assert [(status, error) for status, _, error in await reminder_emails(db_sessionmaker)] == [
        ("sent", None), ("withdrawn", EXPIRED_NOTE)]
    assert await states(db_sessionmaker, event_id, back_at) == [
        (1440, "sent", None), (60, "skipped", NOTE_EXPIRED)]


async def test_after_downtime_the_nearest_reminder_supersedes_one_prepared_before(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    smtp_server: SmtpTestServer, transport: SmtpTransport,
) -> None:
    await webinar(db, mail_settings, "Ana Silva")
    await prepare(db_sessionmaker, mail_settings, AHEAD)
    back_at = HOUR_BEFORE + timedelta(minutes=5)  # down from before the first due time

    report = await prepare(db_sessionmaker, mail_settings, back_at)
    await deliver(db_sessionmaker, transport, mail_settings, back_at)

    assert report == ReminderReport(claimed=1, sent=1, skipped=1)
    assert [subject_of(m.message) for m in smtp_server.messages] == [
        "Reminder: Keeping social criteria alive starts in 55 minutes, at 10:00 CET"]
    assert [(offset, status, note) for _, offset, status, _, note
            in await reminders_of(db_sessionmaker)] == [
        (1440, "skipped", "superseded by the 1-hour reminder"), (60, "sent", None)]


# --- races ------------------------------------------------------------------------------------


async def test_a_withdraw_after_the_claim_leaves_the_email_to_be_sent(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    smtp_server: SmtpTestServer, transport: SmtpTransport,
) -> None:
    await webinar(db, mail_settings, "Ana Silva")
    await prepare(db_sessionmaker, mail_settings, AHEAD)
    withdrawn: list[list[int]] = []

    class WithdrawWhileSending:
        """The withdraw comes while the message is on the wire (its claim is committed)."""

        async def send(self, raw: bytes, sender: str, recipient: str) -> None:
            async with session_scope(db_sessionmaker) as work:
                ids = list(await work.scalars(select(OutboxEmail.id)))
                withdrawn.append(await withdraw_emails(work, ids, note="too late"))
            await transport.send(raw, sender, recipient)

        async def close(self) -> None:
            return None

    report = await deliver_due_emails(db_sessionmaker, WithdrawWhileSending(),
                                      settings=mail_settings, now=DAY_BEFORE, worker_id="w")

    assert (report, withdrawn) == (DeliveryReport(claimed=1, sent=1), [[]])
    assert [status for status, _, _ in await reminder_emails(db_sessionmaker)] == ["sent"]
    assert len(smtp_server.messages) == 1


async def test_a_withdraw_before_the_claim_leaves_nothing_to_send(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    smtp_server: SmtpTestServer, transport: SmtpTransport,
) -> None:
    await webinar(db, mail_settings, "Ana Silva")
    await prepare(db_sessionmaker, mail_settings, AHEAD)
    async with session_scope(db_sessionmaker) as work:
        ids = list(await work.scalars(select(OutboxEmail.id)))
        withdrawn = await withdraw_emails(work, ids, note="no longer holds")

    report = await deliver(db_sessionmaker, transport, mail_settings, DAY_BEFORE)

    assert (withdrawn, report) == (ids, DeliveryReport())
    assert smtp_server.messages == []


@pytest.mark.postgres_only
async def test_on_postgresql_a_withdraw_waits_for_a_claim_under_way_and_then_leaves_it(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
) -> None:
    if not mail_settings.database_url.startswith("postgresql"):
        pytest.skip("two open write transactions at once need PostgreSQL")
    await webinar(db, mail_settings, "Ana Silva")
    await prepare(db_sessionmaker, mail_settings, AHEAD)
    async with db_sessionmaker() as setup:
        [email_id] = list(await setup.scalars(select(OutboxEmail.id)))

    async def withdraw() -> list[int]:
        async with session_scope(db_sessionmaker) as work:
            return await withdraw_emails(work, [email_id], note="the session changed")

    async with session_scope(db_sessionmaker) as claiming:
        claimed = await delivery._claim(claiming, now=DAY_BEFORE, lease=timedelta(minutes=5),
                                        batch_size=10, worker_id="w")
        racing = asyncio.ensure_future(withdraw())
        await until_a_connection_waits_for_a_lock(db_sessionmaker)
    withdrawn = await racing

    assert ([c.id for c in claimed.claims], withdrawn) == ([email_id], [])
    async with db_sessionmaker() as check:
        assert await check.scalar(select(OutboxEmail.status)) == OutboxStatus.SENDING


@pytest.mark.postgres_only
async def test_on_postgresql_a_claim_skips_an_email_being_withdrawn(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    smtp_server: SmtpTestServer, transport: SmtpTransport,
) -> None:
    if not mail_settings.database_url.startswith("postgresql"):
        pytest.skip("two open write transactions at once need PostgreSQL")
    await webinar(db, mail_settings, "Ana Silva")
    await prepare(db_sessionmaker, mail_settings, AHEAD)

    async with session_scope(db_sessionmaker) as withdrawing:
        ids = list(await withdrawing.scalars(select(OutboxEmail.id)))
        withdrawn = await withdraw_emails(withdrawing, ids, note="the session changed")
        during = await deliver(db_sessionmaker, transport, mail_settings, DAY_BEFORE)
    after = await deliver(db_sessionmaker, transport, mail_settings, DAY_BEFORE)

    assert (withdrawn, during, after) == (ids, DeliveryReport(), DeliveryReport())
    assert smtp_server.messages == []
    assert [status for status, _, _ in await reminder_emails(db_sessionmaker)] == ["withdrawn"]


@pytest.mark.postgres_only
async def test_on_postgresql_a_cancellation_waits_for_a_preparation_under_way_and_takes_it_back(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
) -> None:
    if not mail_settings.database_url.startswith("postgresql"):
        pytest.skip("two open write transactions at once need PostgreSQL")
    _, _, (ana_id,) = await webinar(db, mail_settings, "Ana Silva")

    async def cancel() -> int:
        async with session_scope(db_sessionmaker) as work:
            return await cancel_reminders(work, registration_id=ana_id, now=AHEAD,
                                          note=NOTE_PLACE_ENDED)

    async with session_scope(db_sessionmaker) as preparing:
        report = await prepare_reminders(preparing, now=AHEAD, settings=mail_settings)
        racing = asyncio.ensure_future(cancel())
        await until_a_connection_waits_for_a_lock(db_sessionmaker)
    cancelled = await racing

    assert (report, cancelled) == (ReminderReport(claimed=1, sent=1, ahead=1), 2)
    assert [status for status, _, _ in await reminder_emails(db_sessionmaker)] == ["withdrawn"]
    assert {status for _, _, status, _, _ in await reminders_of(db_sessionmaker)} == {"cancelled"}


@pytest.mark.postgres_only
async def test_two_workers_on_postgresql_deliver_each_prepared_reminder_exactly_once(
    db: AsyncSession, mail_settings: Settings, smtp_server: SmtpTestServer,
) -> None:
    if not mail_settings.database_url.startswith("postgresql"):
        pytest.skip("row claims between workers need PostgreSQL (SQLite has one writer)")
    await crowded_webinar(db, mail_settings, 60)

    async def worker(name: str) -> tuple[int, int]:
        engine = create_engine(mail_settings.database_url)
        sessionmaker = make_sessionmaker(engine)
        transport = SmtpTransport(mail_settings.smtp)
        prepared = 0
        try:
            while True:  # both prepare ahead, in small batches
                async with session_scope(sessionmaker) as work:
                    report = await prepare_reminders(work, now=AHEAD, settings=mail_settings,
                                                     batch_size=7)
                prepared += report.sent
                if report.claimed == 0:
                    break
            delivered = await delivery.drain_due_emails(
                sessionmaker, transport, settings=mail_settings,
                clock=lambda: DAY_BEFORE + timedelta(seconds=1), batch_size=7, worker_id=name)
            return prepared, delivered.sent
        finally:
            await transport.close()
            await engine.dispose()

    (prepared_a, sent_a), (prepared_b, sent_b) = await asyncio.gather(worker("a"), worker("b"))

    recipients = sorted(m.rcpt_tos[0] for m in smtp_server.messages)
    assert recipients == sorted(f"person{n:02d}@social-ict.example.org" for n in range(60))
    assert (prepared_a + prepared_b, sent_a + sent_b) == (60, 60)
    async with db.begin():
        statuses = (await db.execute(
            select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status))).all()
        registrations = await db.scalar(select(func.count()).select_from(Registration))
    assert [(str(status), count) for status, count in statuses] == [(str(OutboxStatus.SENT), 60)]
    assert registrations == 60


async def test_cancelling_a_place_through_the_hook_withdraws_the_prepared_email(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
) -> None:
    event_id, session_id, (ana_id,) = await webinar(db, mail_settings, "Ana Silva")
    await prepare(db_sessionmaker, mail_settings, AHEAD)

    async with session_scope(db_sessionmaker) as work:
        registration = await work.get(Registration, ana_id)
        session = await programme.get_session(work, session_id)
        assert registration is not None
        await signals.announce(work, signals.EnrolmentEnded(registration, session), now=AHEAD,
                               settings=mail_settings)

    assert [status for status, _, _ in await reminder_emails(db_sessionmaker)] == ["withdrawn"]
    assert await states(db_sessionmaker, event_id, AHEAD) == [
        (1440, "cancelled", NOTE_PLACE_ENDED), (60, "cancelled", NOTE_PLACE_ENDED)]

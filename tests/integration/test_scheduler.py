"""The scheduler: restart recovery, the web process hook, the worker, and two workers at once.

The database holds what is due, so these tests arrange due reminders and let the real
APScheduler (with short intervals) or the job functions deliver them to a real aiosmtpd.
Time is moved with time-machine; waiting is on job completions, never on the clock.
"""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from litestar import Litestar
from litestar.datastructures import State
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import wakeups
from notifications.delivery import deliver_due_emails
from notifications.outbox import EmailToCompose, OutboxEntry, queue_emails
from notifications.transport import SmtpTransport
from scheduling.jobs import JobContext, choose_jobs, job_deliver_outbox, job_prepare_reminders
from scheduling.scheduler import Scheduler, SchedulerLifespanHook, run_worker, start_scheduler
from scheduling.wakeups import KINDS, SqliteCommitWatcher, WakeupListener
from service.clock import utc_now
from service.db.engine import create_engine, make_sessionmaker, session_scope
from service.db.models import OutboxEmail, OutboxStatus
from service.domain import registration as registrations
from service.domain.reminders import NOTE_STARTED, prepare_reminders
from service.settings import Settings
from service.web import routes
from tests.factories import (
    SOCIAL_ICT,
    make_event,
    make_registration,
    make_session,
)
from tests.integration.mail_readers import (
    Sessionmaker,
    crowded_webinar,
    reminders_of,
    subject_of,
)
from tests.smtp_server import SmtpTestServer

SATURDAY = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
MONDAY_0930_CET = datetime(2026, 10, 26, 8, 30, tzinfo=UTC)
SUNDAY_1000_CET = datetime(2026, 10, 25, 9, 0, tzinfo=UTC)
FAST = 0.02  # interval scale: jobs every 20-40 ms instead of every 1-2 s


async def until(scheduler: Scheduler, condition: Callable[[], bool]) -> None:
    """Let the scheduler's jobs run until `condition` holds: checked once every job has run,
    then after each delivery round (the slowest jobs tick every few seconds here)."""
    async with asyncio.timeout(20):
        await scheduler.wait_for_runs(1)
        rounds = scheduler.runs["deliver_outbox"]
        while not condition():
            rounds += 1
            await scheduler.wait_for_runs(rounds, job="deliver_outbox")


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: SmtpTestServer) -> Settings:
    return replace(settings, smtp=smtp_server.smtp_settings(connections=2))


async def two_sessions(db: AsyncSession, settings: Settings) -> None:
    """Ana in a session on Monday 09:00 CET, Ben in one on Monday 20:00 CET (webinar policy)."""
    event = await make_event(db, settings, SOCIAL_ICT)
    morning = await make_session(db, settings, event, starts_at="2026-10-26T09:00",
                                 ends_at="2026-10-26T10:00", title="Morning session")
    evening = await make_session(db, settings, event, starts_at="2026-10-26T20:00",
                                 ends_at="2026-10-26T21:00", title="Evening session")
    await make_registration(db, event, morning, "Ana Silva")
    await make_registration(db, event, evening, "Ben Weber")
    await db.commit()


async def test_after_a_restart_due_reminders_go_out_once_and_started_sessions_are_skipped(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    smtp_server: SmtpTestServer,
) -> None:
    await two_sessions(db, mail_settings)
    transport = SmtpTransport(mail_settings.smtp)
    context = JobContext(sessionmaker=db_sessionmaker, settings=mail_settings, transport=transport)

    with time_machine.travel(SATURDAY, tick=True):
        before = Scheduler(context, interval_scale=FAST)
        before.start()
        await until(before, lambda: True)
        await before.stop()
    sent_before_downtime = len(smtp_server.messages)
    # Down from Saturday noon until Monday 09:30 CET: the morning session has started.
    with time_machine.travel(MONDAY_0930_CET, tick=True):
        after = Scheduler(context, interval_scale=FAST)
        after.start()
        await until(after, lambda: len(smtp_server.messages) >= 1)
        async with asyncio.timeout(20):  # a few more delivery rounds
            await after.wait_for_runs(after.runs["deliver_outbox"] + 3, job="deliver_outbox")
        await after.stop()
    await transport.close()

    assert sent_before_downtime == 0
    assert [(m.rcpt_tos, subject_of(m.message)) for m in smtp_server.messages] == [
        (("ben@social-ict.example.org",),
         "Reminder: Evening session starts today at 20:00 CET"),
    ]
    assert [(name, offset, status, note) for name, offset, status, _, note
            in await reminders_of(db_sessionmaker)] == [
        ("Ana Silva", 1440, "skipped", NOTE_STARTED),
        ("Ana Silva", 60, "skipped", NOTE_STARTED),
        ("Ben Weber", 1440, "sent", None),
        ("Ben Weber", 60, "pending", None),
    ]


async def test_the_web_process_hook_runs_the_scheduler_unless_switched_off(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    smtp_server: SmtpTestServer,
) -> None:
    await two_sessions(db, mail_settings)
    hook = SchedulerLifespanHook(interval_scale=FAST)
    app = Litestar(route_handlers=[], state=State(
        {"settings": replace(mail_settings, run_scheduler=True), "sessionmaker": db_sessionmaker}))
    app_off = Litestar(route_handlers=[], state=State(
        {"settings": replace(mail_settings, run_scheduler=False), "sessionmaker": db_sessionmaker}))

    with time_machine.travel(SUNDAY_1000_CET, tick=True):
        assert await hook.start(app_off) is None
        handle = await hook.start(app)
        assert handle is not None
        await until(handle, lambda: len(smtp_server.messages) >= 1)
        await hook.stop(app, handle)

    assert [m.rcpt_tos for m in smtp_server.messages] == [("ana@social-ict.example.org",)]
    assert any(isinstance(h, SchedulerLifespanHook) for h in routes.LIFESPAN_HOOKS)


async def test_the_worker_command_runs_the_same_jobs_until_told_to_stop(
    db: AsyncSession, mail_settings: Settings, smtp_server: SmtpTestServer,
) -> None:
    await two_sessions(db, mail_settings)
    stop = asyncio.Event()

    with time_machine.travel(SUNDAY_1000_CET, tick=True):
        worker = asyncio.create_task(run_worker(mail_settings, stop_event=stop,
                                                interval_scale=FAST))
        async with asyncio.timeout(20):
            while not smtp_server.messages:  # the worker is another "process": poll the server
                await asyncio.sleep(0.01)
        # Started, it keeps what it built out of the collector's way while it runs.
        frozen_while_running = gc.get_freeze_count()
        stop.set()
        await worker

    assert [m.rcpt_tos for m in smtp_server.messages] == [("ana@social-ict.example.org",)]
    assert frozen_while_running > 0
    assert gc.get_freeze_count() == 0  # given back once stopped


async def test_two_workers_splitting_the_jobs_compose_and_deliver_each_email_once(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    smtp_server: SmtpTestServer,
) -> None:
    """`worker --only compose_welcome_emails` beside `worker --skip compose_welcome_emails`:
    the first composes, the second delivers (and runs everything else)."""
    event = await make_event(db, mail_settings)
    await db.commit()
    composer = await start_scheduler(db_sessionmaker, mail_settings, interval_scale=FAST,
                                     jobs=choose_jobs(only=["compose_welcome_emails"]))
    the_rest = await start_scheduler(db_sessionmaker, mail_settings, interval_scale=FAST,
                                     jobs=choose_jobs(skip=["compose_welcome_emails"]))
    try:
        async with session_scope(db_sessionmaker) as work:
            for name in ("Ana Silva", "Ben Weber", "Chloé Martin"):
                await registrations.register_participant(
                    work, event.slug, registrations.RegistrationForm(
                        name=name, email=f"{name.split()[0].lower().replace('é', 'e')}@example.org",
                        consent=True), now=utc_now(), settings=mail_settings)
        async with asyncio.timeout(20):
            while len(smtp_server.messages) < 3:  # delivered by another task: poll the server
                await asyncio.sleep(0.01)
    finally:
        for scheduler in (composer, the_rest):
            await scheduler.stop()
            await scheduler.context.transport.close()

    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        "ana@example.org", "ben@example.org", "chloe@example.org"]
    assert set(composer.runs) == {"compose_welcome_emails"}
    assert "compose_welcome_emails" not in the_rest.runs and the_rest.runs["deliver_outbox"]


async def test_jobs_drain_a_burst_in_one_run(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    smtp_server: SmtpTestServer,
) -> None:
    event = await make_event(db, mail_settings, SOCIAL_ICT)
    session = await make_session(db, mail_settings, event, starts_at="2026-10-26T10:00",
                                 ends_at="2026-10-26T11:00")
    for number in range(25):
        await make_registration(db, event, session, f"Person{number:02d} Test")
    await db.commit()
    transport = SmtpTransport(mail_settings.smtp)
    context = JobContext(sessionmaker=db_sessionmaker, settings=mail_settings,
                         transport=transport, reminder_batch=10, email_batch=10)

    with time_machine.travel(SUNDAY_1000_CET, tick=False):
        queued = await job_prepare_reminders(context)
        delivered = await job_deliver_outbox(context)
    await transport.close()

    assert (queued, delivered, len(smtp_server.messages)) == (25, 25, 25)


async def test_a_reminder_composed_ahead_goes_out_at_its_due_time_not_a_tick_later(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    smtp_server: SmtpTestServer,
) -> None:
    await two_sessions(db, mail_settings)
    transport = SmtpTransport(mail_settings.smtp)
    waits: list[float] = []

    ana_due = datetime(2026, 10, 25, 8, 0, tzinfo=UTC)  # a day before Monday 09:00 CET
    with time_machine.travel(ana_due - timedelta(minutes=5), tick=False) as clock:

        async def sleep(seconds: float) -> None:  # the job's wait, on the test's clock
            waits.append(seconds)
            clock.shift(timedelta(seconds=seconds))

        context = JobContext(sessionmaker=db_sessionmaker, settings=mail_settings,
                             transport=transport, sleep=sleep)
        prepared = await job_prepare_reminders(context)
        clock.move_to(ana_due - timedelta(milliseconds=400))
        delivered = await job_deliver_outbox(context)
        accepted_at = datetime.now(UTC)
    await transport.close()

    assert (prepared, delivered, waits) == (1, 1, [0.4])
    assert accepted_at == ana_due
    assert [m.rcpt_tos for m in smtp_server.messages] == [("ana@social-ict.example.org",)]


@pytest.mark.postgres_only
async def test_two_workers_on_postgresql_deliver_each_reminder_exactly_once(
    db: AsyncSession, mail_settings: Settings, smtp_server: SmtpTestServer,
) -> None:
    if not mail_settings.database_url.startswith("postgresql"):
        pytest.skip("row claims between workers need PostgreSQL (SQLite has one writer)")
    await crowded_webinar(db, mail_settings, 60)
    now = SUNDAY_1000_CET + timedelta(seconds=1)

    async def worker(name: str) -> tuple[int, int]:
        engine = create_engine(mail_settings.database_url)
        sessionmaker = make_sessionmaker(engine)
        transport = SmtpTransport(mail_settings.smtp)
        queued = sent = 0
        try:
            while True:
                async with session_scope(sessionmaker) as work:
                    reminders = await prepare_reminders(
                        work, now=now, settings=mail_settings, batch_size=7)
                delivery = await deliver_due_emails(
                    sessionmaker, transport, settings=mail_settings, now=now, batch_size=7,
                    worker_id=name)
                queued, sent = queued + reminders.sent, sent + delivery.sent
                if reminders.claimed == 0 and delivery.claimed == 0:
                    return queued, sent
        finally:
            await transport.close()
            await engine.dispose()

    (queued_a, sent_a), (queued_b, sent_b) = await asyncio.gather(worker("a"), worker("b"))

    recipients = sorted(m.rcpt_tos[0] for m in smtp_server.messages)
    assert recipients == sorted(f"person{n:02d}@social-ict.example.org" for n in range(60))
    assert (queued_a + queued_b, sent_a + sent_b) == (60, 60)
    assert min(queued_a, queued_b, sent_a, sent_b) > 0  # both workers really took part
    async with db.begin():
        statuses = (await db.execute(
            select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status))).all()
    assert [(str(status), count) for status, count in statuses] == [(str(OutboxStatus.SENT), 60)]


async def test_a_registration_is_composed_and_delivered_at_its_commit_not_at_a_tick(
    db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    smtp_server: SmtpTestServer,
) -> None:
    event = await make_event(db, mail_settings)
    await db.commit()
    transport = SmtpTransport(mail_settings.smtp)
    context = JobContext(sessionmaker=db_sessionmaker, settings=mail_settings, transport=transport)
    scheduler = Scheduler(context, interval_scale=100_000)  # the next tick is days away

    scheduler.start()
    async with asyncio.timeout(20):
        await scheduler.wait_for_runs(1)  # the runs at start, with nothing to do
    async with session_scope(db_sessionmaker) as work:
        await registrations.register_participant(
            work, event.slug, registrations.RegistrationForm(
                name="Ana Silva", email="ana.silva@lisboa.example.pt", consent=True),
            now=utc_now(), settings=mail_settings)
    async with asyncio.timeout(20):
        while not smtp_server.messages:  # delivered by another connection: poll the server
            await asyncio.sleep(0.01)
    await scheduler.stop()  # lets the delivery run finish
    await transport.close()
    runs = dict(scheduler.runs)

    assert [(m.rcpt_tos, subject_of(m.message)) for m in smtp_server.messages] == [
        (("ana.silva@lisboa.example.pt",),
         "Registration confirmed: Fair ICT procurement webinars")]
    # No tick came (a job with no wake-up ran only at start); the two woken ran again (on
    # PostgreSQL its NOTIFY may wake them once more: a hint, not a count).
    assert runs["prepare_reminders"] == 1
    assert min(runs["compose_welcome_emails"], runs["deliver_outbox"]) >= 2


@pytest.mark.postgres_only
async def test_other_processes_are_woken_by_a_commit_that_queued_work_never_a_rollback(
    db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("wake-ups between processes use PostgreSQL's LISTEN/NOTIFY")
    woken: list[str] = []
    arrived = asyncio.Event()

    def wake(kind: str) -> None:
        woken.append(kind)
        arrived.set()

    listener = await WakeupListener.start(settings.database_url, wake)
    to_compose = OutboxEntry(EmailToCompose(template="registration_confirmed_to_registrant",
                                            to_address="ana@example.org"))
    try:
        async with db_sessionmaker() as work:
            await queue_emails(work, [to_compose], settings=settings, now=utc_now())
            await work.rollback()
        async with session_scope(db_sessionmaker) as work:
            await queue_emails(work, [to_compose, to_compose], settings=settings,
                               now=utc_now())
        async with asyncio.timeout(20):
            await arrived.wait()
    finally:
        await listener.close()

    assert (listener.listening.is_set(), woken) == (False, [wakeups.COMPOSE])


async def test_a_worker_on_sqlite_is_woken_when_another_process_commits_to_the_file(
    settings: Settings,
) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's wake-ups are LISTEN/NOTIFY (the test above)")
    woken: list[str] = []
    arrived = asyncio.Event()

    def wake(kind: str) -> None:
        woken.append(kind)
        arrived.set()

    watcher = await SqliteCommitWatcher.start(settings.database_url, wake)
    # Another process (a web process, here the plain sqlite3 module) writes and commits.
    other_process = (
        "import sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1])\n"
        "db.execute(\"INSERT INTO rate_limit_counters (key, window_started_at, hits, "
        "expires_at) VALUES ('test', '2026-10-26 08:00:00', 1, '2026-10-26 08:01:00')\")\n"
        "db.commit()\n"
    )
    try:
        assert watcher.watching.is_set() and woken == []
        await asyncio.to_thread(subprocess.run, [sys.executable, "-c", other_process,
                                                 make_url(settings.database_url).database],
                                check=True)
        async with asyncio.timeout(20):
            await arrived.wait()
    finally:
        await watcher.close()

    assert (watcher.watching.is_set(), woken) == (False, list(KINDS))

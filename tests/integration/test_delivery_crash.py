"""A delivery worker killed with SIGKILL mid-run: its emails come back within one lease and
each arrives, a few perhaps twice (with the same Message-ID), none lost.

A real `procura-events worker` process delivers to the aiosmtpd server of
tests/smtp_server.py and is killed from the server's thread the moment it accepts the
`KILL_AT`-th message (before the worker hears the 250). A second worker in this process
finishes, first at the moment of the kill, then with its clock moved one lease on: no
sleeping. The number of messages received twice is printed and kept as the test's
`duplicates` property (pytest --junitxml shows it).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from notifications import delivery
from notifications.delivery import (
    ABANDONED,
    CLAIM_LEASE,
    MAX_UNRECORDED,
    RECORD_AT,
    DeliveryReport,
    drain_due_emails,
)
from notifications.outbox import OutboxEntry, queue_emails
from notifications.transport import SmtpTransport
from service.db.engine import session_scope
from service.db.models import EmailAttempt, OutboxEmail, OutboxStatus
from service.settings import Settings
from tests.factories import make_email_message
from tests.integration.test_outbox_delivery import Sessionmaker
from tests.smtp_server import SmtpTestServer

ROOT = Path(__file__).resolve().parents[2]
EMAILS = 2000
KILL_AT = 700  # messages accepted when the worker is killed
# What may arrive twice: outcomes not yet committed at the kill (those waiting for their
# group commit, and the message on each connection), at most MAX_UNRECORDED plus one per
# connection. Measured here: 1-16 on SQLite, 3-32 on PostgreSQL (see GROUP_COMMIT_DELAY);
# 123 once, before that bound, with the whole suite loading the machine.
MAX_DUPLICATES = 50


@pytest.fixture
def worker_env(settings: Settings, smtp_server: SmtpTestServer, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PROCURA_DATABASE_URL": settings.database_url,
        "PROCURA_PUBLIC_BASE_URL": settings.public_base_url,
        "PROCURA_SECRET_KEY": settings.secret_key,
        "PROCURA_VAR_DIR": str(tmp_path / "worker-var"),
        "PROCURA_SMTP_HOST": smtp_server.host,
        "PROCURA_SMTP_PORT": str(smtp_server.port),
        "PROCURA_SMTP_SECURITY": "none",
        "PROCURA_SMTP_CONNECTIONS": "4",
        "PROCURA_SMTP_TIMEOUT": "5",
    }


@pytest.fixture
def worker_log(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "worker.log"
    yield path
    if path.exists():  # shown by pytest when the test fails
        print(path.read_text()[-4000:])


async def queue_many(sessionmaker: Sessionmaker, settings: Settings, now: datetime) -> list[str]:
    """EMAILS queued emails, in one transaction; their Message-IDs."""
    items = [OutboxEntry(make_email_message(f"person{n:04d}@example.org")) for n in range(EMAILS)]
    async with session_scope(sessionmaker) as db:
        await queue_emails(db, items, settings=settings, now=now)
    async with sessionmaker() as db:
        return list(await db.scalars(select(OutboxEmail.message_id)))


async def held_claims(sessionmaker: Sessionmaker) -> list[tuple[str | None, datetime | None]]:
    async with sessionmaker() as db:
        rows = await db.execute(select(OutboxEmail.claimed_by, OutboxEmail.claimed_until)
                                .where(OutboxEmail.status == OutboxStatus.SENDING))
        return [(by, until) for by, until in rows]


async def count_in_status(sessionmaker: Sessionmaker, status: OutboxStatus) -> int:
    async with sessionmaker() as db:
        return await db.scalar(select(func.count()).select_from(OutboxEmail)
                               .where(OutboxEmail.status == status)) or 0


async def test_a_killed_worker_delays_its_emails_by_one_lease_at_most_and_loses_none(
    db_sessionmaker: Sessionmaker, settings: Settings, smtp_server: SmtpTestServer,
    worker_env: dict[str, str], worker_log: Path, record_property: Callable[[str, object], None],
) -> None:
    message_ids = await queue_many(db_sessionmaker, settings, datetime.now(UTC))
    with worker_log.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "worker"], cwd=ROOT, env=worker_env,
            stdout=log, stderr=subprocess.STDOUT)
    smtp_server.on_message(
        lambda count: os.kill(worker.pid, signal.SIGKILL) if count == KILL_AT else None)
    try:
        returncode = await asyncio.to_thread(worker.wait, 120)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    smtp_server.on_message(None)
    killed_at = datetime.now(UTC)
    accepted_before = len(smtp_server.messages)

    mail_settings = replace(settings, smtp=smtp_server.smtp_settings(connections=4))
    transport = SmtpTransport(mail_settings.smtp, local_hostname="procura.test")
    try:
        # At the moment of the kill, the dead worker's claims still hold...
        at_kill = await drain_due_emails(db_sessionmaker, transport, settings=mail_settings,
                                         clock=lambda: killed_at, worker_id="second")
        held = await held_claims(db_sessionmaker)
        # Emails the dead worker had itself put back for a retry (a server slow to answer
        # under load) are due again by then too, as retries, not as abandoned claims.
        retrying = await count_in_status(db_sessionmaker, OutboxStatus.RETRY)
        # ... and one lease later they are due again.
        after_lease = killed_at + CLAIM_LEASE + timedelta(seconds=1)
        rescue = await drain_due_emails(db_sessionmaker, transport, settings=mail_settings,
                                        clock=lambda: after_lease, worker_id="second")
    finally:
        await transport.close()

    received = Counter(m.message_id for m in smtp_server.messages)
    duplicates = sum(received.values()) - len(received)
    record_property("duplicates", duplicates)
    print(f"\nkill -9 after {KILL_AT} of {EMAILS}: {len(held)} claims held by the dead "
          f"worker, {duplicates} messages received twice")
    async with db_sessionmaker() as db:
        statuses = (await db.execute(
            select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status))).all()
        abandoned = await db.scalar(select(func.count()).select_from(EmailAttempt)
                                    .where(EmailAttempt.outcome == ABANDONED))
    assert returncode == -signal.SIGKILL
    assert KILL_AT <= accepted_before < EMAILS
    assert held and {(by or "").rsplit("-", 2)[1] for by, _ in held} == {str(worker.pid)}
    assert max(until for _, until in held if until is not None) <= killed_at + CLAIM_LEASE
    assert at_kill.sent == at_kill.claimed
    assert (rescue.claimed, rescue.sent, abandoned) == (
        len(held) + retrying, len(held) + retrying, len(held))
    assert [(str(status), count) for status, count in statuses] == [
        (str(OutboxStatus.SENT), EMAILS)]
    assert sorted(received) == sorted(message_ids)
    assert duplicates <= MAX_DUPLICATES


async def _deliver_with_attempts_locked(
    db_sessionmaker: Sessionmaker, settings: Settings, smtp_server: SmtpTestServer, *,
    emails: int, worker_id: str, held_for: float = 0.0,
) -> tuple[int, DeliveryReport]:
    """Deliver `emails` while another transaction holds the attempts table locked (so no
    outcome can be recorded) until MAX_UNRECORDED messages arrived and `held_for` seconds
    more passed; how many had arrived then, and the delivery's report."""
    items = [OutboxEntry(make_email_message(f"person{n:04d}@example.org"))
             for n in range(emails)]
    async with session_scope(db_sessionmaker) as db:
        await queue_emails(db, items, settings=settings, now=datetime.now(UTC))
    mail_settings = replace(settings, smtp=smtp_server.smtp_settings(connections=4))
    transport = SmtpTransport(mail_settings.smtp, local_hostname="procura.test")
    async with db_sessionmaker() as blocker:
        await blocker.execute(text("LOCK TABLE email_attempts IN SHARE ROW EXCLUSIVE MODE"))
        run = asyncio.ensure_future(drain_due_emails(
            db_sessionmaker, transport, settings=mail_settings,
            clock=lambda: datetime.now(UTC), worker_id=worker_id))
        async with asyncio.timeout(20):
            while len(smtp_server.messages) < MAX_UNRECORDED:
                await asyncio.sleep(0.01)
        await asyncio.sleep(held_for)
        sent_while_blocked = len(smtp_server.messages)
        await blocker.rollback()
    try:
        async with asyncio.timeout(60):
            report = await run
    finally:
        await transport.close()
    return sent_while_blocked, report


async def test_outcomes_waiting_for_a_slow_commit_stop_the_sends_at_a_bound(
    db_sessionmaker: Sessionmaker, settings: Settings, smtp_server: SmtpTestServer,
) -> None:
    """What a crash can make a worker send twice is what it sent and has not recorded: with
    the database not committing (the attempts table locked by another transaction), the
    sends stop at MAX_UNRECORDED (plus one per connection) until the record goes through."""
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("a lock held by another transaction needs PostgreSQL (SQLite: one writer)")
    # Half a second for any send past the bound to arrive.
    sent_while_blocked, report = await _deliver_with_attempts_locked(
        db_sessionmaker, settings, smtp_server, emails=200, worker_id="slow-commits",
        held_for=0.5)

    assert MAX_UNRECORDED <= sent_while_blocked <= MAX_UNRECORDED + 4
    assert (report.sent, len({m.message_id for m in smtp_server.messages}),
            len(smtp_server.messages)) == (200, 200, 200)


async def test_the_record_starts_at_half_the_bound_and_the_sends_go_on_meanwhile(
    db_sessionmaker: Sessionmaker, settings: Settings, smtp_server: SmtpTestServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The senders must not stand still at the bound while a commit makes its round trips:
    the record starts once RECORD_AT outcomes wait (not waiting out its delay, made far
    longer here than the sends take), and the sends go on towards MAX_UNRECORDED while it
    is held up."""
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("a lock held by another transaction needs PostgreSQL (SQLite: one writer)")
    monkeypatch.setattr(delivery, "GROUP_COMMIT_DELAY", 2.0)
    _, report = await _deliver_with_attempts_locked(
        db_sessionmaker, settings, smtp_server, emails=100, worker_id="early-record")

    async with db_sessionmaker() as db:
        first_record = (await db.execute(
            select(func.count()).select_from(EmailAttempt)
            .where(EmailAttempt.attempted_at == select(func.min(EmailAttempt.attempted_at))
                   .scalar_subquery()))).scalar_one()
    # The first group was taken when RECORD_AT outcomes waited (a few more may have come
    # in before the recorder ran), well before the bound: the sends went on to it meanwhile.
    assert RECORD_AT <= first_record < MAX_UNRECORDED
    assert report.sent == 100

"""The outbox end to end: enqueue in a transaction, deliver to a real SMTP server, retry.

Runs on every database backend of tests/conftest.py against the aiosmtpd server of
tests/smtp_server.py. Time is the `now` handed to the functions; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import mailbox
import random
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage as MimeMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications import outbox
from notifications.delivery import (
    EXPIRED_NOTE,
    MAX_ATTEMPTS,
    DeliveryReport,
    deliver_due_emails,
    drain_due_emails,
    retry_delay,
)
from notifications.message import envelope_sender
from notifications.outbox import (
    EmailToCompose,
    OutboxEntry,
    fill_composed_email,
    find_email_by_dedupe_key,
    list_attempts_for_email,
    list_emails_for_event,
    list_emails_for_registration,
    queue_emails,
)
from notifications.transport import (
    MaildirTransport,
    PermanentDeliveryError,
    SmtpTransport,
    TransientDeliveryError,
    make_transport,
)
from service.db.engine import session_scope
from service.db.models import (
    EmailAttempt,
    OutboxEmail,
    OutboxStatus,
)
from service.settings import Settings, SmtpSettings
from tests.factories import EventSpec, make_email_message, make_event, make_registration
from tests.smtp_server import RealSmtpConnectionBlockedError, SmtpGuard, SmtpTestServer
from tests.statements import recorded_statements

NOW = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
Sessionmaker = async_sessionmaker[AsyncSession]


# --- builders -------------------------------------------------------------------------------


FURNITURE = EventSpec(slug="circular-furniture", title="Circular procurement of furniture",
                      sessions=(), publish=False, commit=False, now=NOW)


def registrant(address: str) -> str:
    return address.split("@")[0].title()


async def queue(
    sessionmaker: Sessionmaker, settings: Settings, *addresses: str, now: datetime = NOW
) -> list[int]:
    """Enqueue one email per address in one committed transaction; their ids."""
    async with session_scope(sessionmaker) as db:
        ids = [
            email_id
            for address in addresses
            for email_id in await queue_emails(
                db, [OutboxEntry(make_email_message(address))], settings=settings, now=now
            )
        ]
    return [email_id for email_id in ids if email_id is not None]


async def load(sessionmaker: Sessionmaker, email_id: int) -> OutboxEmail:
    async with sessionmaker() as db:
        row = await db.get(OutboxEmail, email_id)
        assert row is not None
        return row


async def attempts_of(sessionmaker: Sessionmaker, email_id: int) -> list[tuple[str, int | None]]:
    async with sessionmaker() as db:
        attempts = await list_attempts_for_email(db, email_id)
        return [(attempt.outcome, attempt.smtp_code) for attempt in attempts]


async def count_rows(sessionmaker: Sessionmaker) -> int:
    async with sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(OutboxEmail)) or 0)


class FixedJitter(random.Random):
    """No jitter at all: `retry_delay` gives its base value."""

    def uniform(self, a: float, b: float) -> float:
        return a


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: SmtpTestServer) -> Settings:
    return replace(settings, smtp=smtp_server.smtp_settings(connections=4))


@pytest.fixture
async def transport(mail_settings: Settings) -> AsyncIterator[SmtpTransport]:
    smtp = SmtpTransport(mail_settings.smtp, local_hostname="procura.test")
    yield smtp
    await smtp.close()


# --- delivery -------------------------------------------------------------------------------


async def test_queued_emails_arrive_exactly_once_with_their_message_id(
    db_sessionmaker: Sessionmaker,
    mail_settings: Settings,
    smtp_server: SmtpTestServer,
    transport: SmtpTransport,
) -> None:
    addresses = ["ana@example.org", "ben@example.org", "chloe@example.org"]
    ids = await queue(db_sessionmaker, mail_settings, *addresses)

    report = await deliver_due_emails(
        db_sessionmaker, transport, settings=mail_settings, now=NOW, worker_id="worker-a"
    )
    again = await deliver_due_emails(
        db_sessionmaker,
        transport,
        settings=mail_settings,
        now=NOW + timedelta(hours=2),
        worker_id="worker-a",
    )

    assert report == DeliveryReport(claimed=3, sent=3)
    assert again == DeliveryReport()
    rows = [await load(db_sessionmaker, email_id) for email_id in ids]
    received = sorted(smtp_server.messages, key=lambda m: m.rcpt_tos)
    assert [(m.mail_from, m.rcpt_tos) for m in received] == [
        (envelope_sender(mail_settings), (address,)) for address in addresses
    ]
    assert [m.message_id for m in received] == [row.message_id for row in rows]
    assert [m.raw.rstrip(b"\r\n") for m in received] == [
        (row.raw_message or b"").rstrip(b"\r\n") for row in rows
    ]
    assert [str(m.message["Subject"]) for m in received] == ["Test message for Ana Silva"] * 3
    assert [(r.status, r.attempts, r.sent_at, r.claimed_until, r.last_error) for r in rows] == [
        (OutboxStatus.SENT, 1, NOW, None, None)
    ] * 3
    assert [await attempts_of(db_sessionmaker, email_id) for email_id in ids] == [
        [("sent", 250)]
    ] * 3


async def test_many_emails_share_a_few_connections(
    db_sessionmaker: Sessionmaker,
    mail_settings: Settings,
    smtp_server: SmtpTestServer,
    transport: SmtpTransport,
) -> None:
    addresses = [f"person{n:02d}@example.org" for n in range(25)]
    ids = await queue(db_sessionmaker, mail_settings, *addresses)

    report = await deliver_due_emails(
        db_sessionmaker,
        transport,
        settings=mail_settings,
        now=NOW,
        worker_id="worker-a",
        batch_size=10,
    )
    rest = await deliver_due_emails(
        db_sessionmaker, transport, settings=mail_settings, now=NOW, worker_id="worker-a"
    )

    assert (report, rest) == (DeliveryReport(claimed=10, sent=10), DeliveryReport(15, 15))
    assert sorted(rcpt for m in smtp_server.messages for rcpt in m.rcpt_tos) == addresses
    rows = [await load(db_sessionmaker, email_id) for email_id in ids]
    assert sorted(m.message_id for m in smtp_server.messages) == sorted(
        row.message_id for row in rows
    )


async def test_server_down_then_back_retries_with_growing_backoff_and_delivers_once(
    db_sessionmaker: Sessionmaker,
    mail_settings: Settings,
    smtp_server: SmtpTestServer,
    transport: SmtpTransport,
) -> None:
    # A first email opens a pooled connection, which the outage then drops.
    [warm_up] = await queue(db_sessionmaker, mail_settings, "warm@example.org")
    await deliver_due_emails(
        db_sessionmaker, transport, settings=mail_settings, now=NOW, worker_id="w"
    )
    smtp_server.stop()
    [email_id] = await queue(db_sessionmaker, mail_settings, "ana@example.org")

    first = await deliver_due_emails(
        db_sessionmaker,
        transport,
        settings=mail_settings,
        now=NOW,
        worker_id="w",
        rng=FixedJitter(),
    )
    after_first = await load(db_sessionmaker, email_id)
    too_early = await deliver_due_emails(
        db_sessionmaker,
        transport,
        settings=mail_settings,
        now=after_first.next_attempt_at - timedelta(seconds=1),
        worker_id="w",
    )
    second_at = after_first.next_attempt_at
    second = await deliver_due_emails(
        db_sessionmaker,
        transport,
        settings=mail_settings,
        now=second_at,
        worker_id="w",
        rng=FixedJitter(),
    )
    after_second = await load(db_sessionmaker, email_id)

    assert (first, too_early, second) == (
        DeliveryReport(claimed=1, retrying=1),
        DeliveryReport(),
        DeliveryReport(claimed=1, retrying=1),
    )
    assert (after_first.status, after_first.attempts, after_first.next_attempt_at) == (
        OutboxStatus.RETRY,
        1,
        NOW + timedelta(seconds=30),
    )
    assert (after_second.status, after_second.attempts, after_second.next_attempt_at) == (
        OutboxStatus.RETRY,
        2,
        second_at + timedelta(seconds=60),
    )
    assert after_second.last_error is not None
    assert after_second.last_error.startswith("SMTPConnectError: Error connecting to 127.0.0.1")
    assert await attempts_of(db_sessionmaker, email_id) == [("transient", None)] * 2

    smtp_server.start()
    back_at = after_second.next_attempt_at + timedelta(seconds=5)
    third = await deliver_due_emails(
        db_sessionmaker, transport, settings=mail_settings, now=back_at, worker_id="w"
    )
    later = await deliver_due_emails(
        db_sessionmaker,
        transport,
        settings=mail_settings,
        now=back_at + timedelta(days=1),
        worker_id="w",
    )

    delivered = await load(db_sessionmaker, email_id)
    assert (third, later) == (DeliveryReport(claimed=1, sent=1), DeliveryReport())
    assert [m.message_id for m in smtp_server.messages] == [
        (await load(db_sessionmaker, warm_up)).message_id,
        delivered.message_id,
    ]
    # The cause of the last failed attempt stays: it says why the email went out late.
    assert (delivered.status, delivered.attempts, delivered.sent_at, delivered.last_error) == (
        OutboxStatus.SENT,
        3,
        back_at,
        after_second.last_error,
    )
    assert await attempts_of(db_sessionmaker, email_id) == [
        ("transient", None),
        ("transient", None),
        ("sent", 250),
    ]


async def test_temporary_refusal_is_retried(
    db_sessionmaker: Sessionmaker,
    mail_settings: Settings,
    smtp_server: SmtpTestServer,
    transport: SmtpTransport,
) -> None:
    smtp_server.fail_next(1, "451 4.3.0 Mailbox busy, try again")
    [email_id] = await queue(db_sessionmaker, mail_settings, "ana@example.org")

    first = await deliver_due_emails(
        db_sessionmaker, transport, settings=mail_settings, now=NOW, worker_id="w"
    )
    retry = await load(db_sessionmaker, email_id)
    second = await deliver_due_emails(
        db_sessionmaker,
        transport,
        settings=mail_settings,
        now=retry.next_attempt_at,
        worker_id="w",
    )

    assert (first, second) == (
        DeliveryReport(claimed=1, retrying=1),
        DeliveryReport(claimed=1, sent=1),
    )
    assert (retry.status, retry.last_error) == (
        OutboxStatus.RETRY,
        "451 4.3.0 Mailbox busy, try again",
    )
    assert await attempts_of(db_sessionmaker, email_id) == [("transient", 451), ("sent", 250)]
    assert [m.message_id for m in smtp_server.messages] == [retry.message_id]


async def test_permanent_refusal_fails_and_shows_in_the_event_history(
    db_sessionmaker: Sessionmaker,
    mail_settings: Settings,
    smtp_server: SmtpTestServer,
    transport: SmtpTransport,
) -> None:
    smtp_server.refuse_recipient("gone@example.org", "550 5.1.1 No such user here")
    async with session_scope(db_sessionmaker) as db:
        event = await make_event(db, mail_settings, FURNITURE)
        gone = await make_registration(db, event, None, registrant("gone@example.org"),
                                       email_address="gone@example.org", now=NOW)
        ana = await make_registration(db, event, None, registrant("ana@example.org"),
                                      email_address="ana@example.org", now=NOW)
        for registration in (gone, ana):
            await queue_emails(
                db,
                [OutboxEntry(
                    make_email_message(registration.email, registration.name),
                    event_id=event.id,
                    registration_id=registration.id,
                )],
                settings=mail_settings,
                now=NOW,
            )
        event_id, gone_id, ana_id = event.id, gone.id, ana.id

    report = await deliver_due_emails(
        db_sessionmaker, transport, settings=mail_settings, now=NOW, worker_id="w"
    )
    later = await deliver_due_emails(
        db_sessionmaker,
        transport,
        settings=mail_settings,
        now=NOW + timedelta(days=1),
        worker_id="w",
    )

    assert (report, later) == (DeliveryReport(claimed=2, sent=1, failed=1), DeliveryReport())
    async with db_sessionmaker() as db:
        failed = await list_emails_for_event(db, event_id, status=OutboxStatus.FAILED)
        everything = await list_emails_for_event(db, event_id)
        for_gone = await list_emails_for_registration(db, gone_id)
        for_ana = await list_emails_for_registration(db, ana_id)
        with pytest.raises(InvalidRequestError):
            _ = failed[0].raw_message  # history never loads message bodies
    assert [(e.to_address, e.status, e.attempts, e.last_error) for e in failed] == [
        (
            "gone@example.org",
            OutboxStatus.FAILED,
            1,
            "550 5.1.1 No such user here (gone@example.org)",
        )
    ]
    assert [(e.to_address, e.status) for e in everything] == [
        ("gone@example.org", OutboxStatus.FAILED),
        ("ana@example.org", OutboxStatus.SENT),
    ]
    assert [e.id for e in for_gone] == [failed[0].id]
    assert [e.to_address for e in for_ana] == ["ana@example.org"]
    assert await attempts_of(db_sessionmaker, failed[0].id) == [("permanent", 550)]
    assert [m.rcpt_tos for m in smtp_server.messages] == [("ana@example.org",)]


async def test_transient_failures_give_up_after_max_attempts(
    db_sessionmaker: Sessionmaker,
    mail_settings: Settings,
    smtp_server: SmtpTestServer,
    transport: SmtpTransport,
) -> None:
    [email_id] = await queue(db_sessionmaker, mail_settings, "ana@example.org")
    async with session_scope(db_sessionmaker) as db:
        await db.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == email_id)
            .values(status=OutboxStatus.RETRY, attempts=MAX_ATTEMPTS - 1)
        )
    smtp_server.fail_next(1, "421 4.7.0 Too many connections")

    report = await deliver_due_emails(
        db_sessionmaker, transport, settings=mail_settings, now=NOW, worker_id="w"
    )

    row = await load(db_sessionmaker, email_id)
    assert report == DeliveryReport(claimed=1, failed=1)
    assert (row.status, row.attempts, row.last_error) == (
        OutboxStatus.FAILED,
        MAX_ATTEMPTS,
        f"gave up after {MAX_ATTEMPTS} attempts: 421 4.7.0 Too many connections",
    )
    assert smtp_server.messages == []


# --- claims ---------------------------------------------------------------------------------


async def test_crashed_claim_is_resent_with_the_same_message_id(
    db_sessionmaker: Sessionmaker,
    mail_settings: Settings,
    smtp_server: SmtpTestServer,
    transport: SmtpTransport,
) -> None:
    [email_id] = await queue(db_sessionmaker, mail_settings, "ana@example.org")
    await deliver_due_emails(
        db_sessionmaker, transport, settings=mail_settings, now=NOW, worker_id="crashed"
    )
    # As if "crashed" died after the server's 250 and before its outcome committed.
    async with session_scope(db_sessionmaker) as db:
        await db.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == email_id)
            .values(
                status=OutboxStatus.SENDING,
                sent_at=None,
                claimed_by="crashed",
                claimed_until=NOW + timedelta(minutes=5),
            )
        )

    during_lease = await deliver_due_emails(
        db_sessionmaker,
        transport,
        settings=mail_settings,
        now=NOW + timedelta(minutes=4),
        worker_id="rescuer",
    )
    after_lease = await deliver_due_emails(
        db_sessionmaker,
        transport,
        settings=mail_settings,
        now=NOW + timedelta(minutes=6),
        worker_id="rescuer",
    )

    row = await load(db_sessionmaker, email_id)
    assert (during_lease, after_lease) == (DeliveryReport(), DeliveryReport(claimed=1, sent=1))
    assert [m.message_id for m in smtp_server.messages] == [row.message_id, row.message_id]
    assert (row.status, row.attempts, row.claimed_by, row.sent_at) == (
        OutboxStatus.SENT,
        2,
        "rescuer",
        NOW + timedelta(minutes=6),
    )


async def test_a_valid_claim_is_not_touched(
    db_sessionmaker: Sessionmaker,
    mail_settings: Settings,
    smtp_server: SmtpTestServer,
    transport: SmtpTransport,
) -> None:
    [email_id] = await queue(db_sessionmaker, mail_settings, "ana@example.org")
    claimed_until = NOW + timedelta(minutes=5)
    async with session_scope(db_sessionmaker) as db:
        await db.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == email_id)
            .values(
                status=OutboxStatus.SENDING,
                attempts=1,
                claimed_by="busy",
                claimed_until=claimed_until,
            )
        )

    report = await deliver_due_emails(
        db_sessionmaker, transport, settings=mail_settings, now=NOW, worker_id="other"
    )

    row = await load(db_sessionmaker, email_id)
    assert report == DeliveryReport()
    assert (row.status, row.attempts, row.claimed_by, row.claimed_until) == (
        OutboxStatus.SENDING,
        1,
        "busy",
        claimed_until,
    )
    assert smtp_server.messages == []
    assert await attempts_of(db_sessionmaker, email_id) == []


class TakeoverTransport:
    """Sends for real, but another worker takes the claim over while the send is under way."""

    def __init__(self, inner: SmtpTransport, sessionmaker: Sessionmaker) -> None:
        self.inner = inner
        self.sessionmaker = sessionmaker

    async def send(self, raw: bytes, sender: str, recipient: str) -> None:
        await self.inner.send(raw, sender, recipient)
        async with session_scope(self.sessionmaker) as db:
            await db.execute(
                update(OutboxEmail).values(claimed_by="usurper", attempts=OutboxEmail.attempts + 1)
            )

    async def close(self) -> None:
        await self.inner.close()


async def test_outcome_is_not_applied_once_the_claim_was_taken_over(
    db_sessionmaker: Sessionmaker,
    mail_settings: Settings,
    smtp_server: SmtpTestServer,
    transport: SmtpTransport,
) -> None:
    [email_id] = await queue(db_sessionmaker, mail_settings, "ana@example.org")

    report = await deliver_due_emails(
        db_sessionmaker,
        TakeoverTransport(transport, db_sessionmaker),
        settings=mail_settings,
        now=NOW,
        worker_id="slow",
    )

    row = await load(db_sessionmaker, email_id)
    assert report == DeliveryReport(claimed=1, lost_claims=1)
    assert (row.status, row.claimed_by, row.attempts, row.sent_at) == (
        OutboxStatus.SENDING,
        "usurper",
        2,
        None,
    )
    assert await attempts_of(db_sessionmaker, email_id) == [("sent", 250)]
    assert [m.message_id for m in smtp_server.messages] == [row.message_id]


async def test_claims_about_to_expire_are_handed_back_unsent(
    db_sessionmaker: Sessionmaker,
    mail_settings: Settings,
    smtp_server: SmtpTestServer,
    transport: SmtpTransport,
) -> None:
    ids = await queue(db_sessionmaker, mail_settings, "ana@example.org", "ben@example.org")

    report = await deliver_due_emails(
        db_sessionmaker,
        transport,
        settings=mail_settings,
        now=NOW,
        worker_id="w",
        lease=timedelta(microseconds=1),
    )

    rows = [await load(db_sessionmaker, email_id) for email_id in ids]
    assert report == DeliveryReport(claimed=2, released=2)
    assert [(r.status, r.attempts, r.next_attempt_at, r.claimed_until) for r in rows] == [
        (OutboxStatus.QUEUED, 0, NOW, None)
    ] * 2
    assert smtp_server.messages == []
    assert [await attempts_of(db_sessionmaker, email_id) for email_id in ids] == [[], []]


# --- draining: the pipeline of the delivery job -----------------------------------------------


class ClaimCheckingTransport:
    """Sends for real, after checking in a transaction of its own that the claim of the
    message is committed (status sending, this worker's)."""

    def __init__(self, inner: SmtpTransport, sessionmaker: Sessionmaker) -> None:
        self.inner = inner
        self.sessionmaker = sessionmaker
        self.seen: list[tuple[str, str | None]] = []
        self.claimed_when_sending: list[int] = []

    async def send(self, raw: bytes, sender: str, recipient: str) -> None:
        message_id = email.message_from_bytes(raw)["Message-ID"]
        async with self.sessionmaker() as db:
            row = (await db.execute(
                select(OutboxEmail.status, OutboxEmail.claimed_by)
                .where(OutboxEmail.message_id == message_id))).one()
            self.claimed_when_sending.append(int(await db.scalar(
                select(func.count()).select_from(OutboxEmail)
                .where(OutboxEmail.status == OutboxStatus.SENDING)) or 0))
        self.seen.append((str(row[0]), row[1]))
        await self.inner.send(raw, sender, recipient)

    async def close(self) -> None:
        await self.inner.close()


async def test_draining_claims_batch_after_batch_and_sends_each_email_once_after_its_claim(
    db_sessionmaker: Sessionmaker,
    mail_settings: Settings,
    smtp_server: SmtpTestServer,
    transport: SmtpTransport,
) -> None:
    addresses = [f"person{n:02d}@example.org" for n in range(25)]
    await queue(db_sessionmaker, mail_settings, *addresses)
    checking = ClaimCheckingTransport(transport, db_sessionmaker)

    report = await drain_due_emails(
        db_sessionmaker, checking, settings=mail_settings, clock=lambda: NOW, batch_size=10,
        worker_id="worker-a",
    )
    again = await drain_due_emails(
        db_sessionmaker, checking, settings=mail_settings, clock=lambda: NOW, batch_size=10,
        worker_id="worker-a",
    )

    assert (report, again) == (DeliveryReport(claimed=25, sent=25), DeliveryReport())
    assert sorted(rcpt for m in smtp_server.messages for rcpt in m.rcpt_tos) == addresses
    # Every message was sent under a committed claim of this worker.
    assert checking.seen == [("sending", "worker-a")] * 25
    # The next batch was claimed while the last one was still being sent.
    assert max(checking.claimed_when_sending) > 10
    async with db_sessionmaker() as db:
        attempts = (await db.execute(
            select(EmailAttempt.attempted_at, EmailAttempt.outcome, EmailAttempt.smtp_code))).all()
    assert [tuple(a) for a in attempts] == [(NOW, "sent", 250)] * 25


async def test_draining_stops_between_batches_when_asked(
    db_sessionmaker: Sessionmaker,
    mail_settings: Settings,
    smtp_server: SmtpTestServer,
    transport: SmtpTransport,
) -> None:
    await queue(db_sessionmaker, mail_settings, *[f"p{n}@example.org" for n in range(25)])

    report = await drain_due_emails(
        db_sessionmaker, transport, settings=mail_settings, clock=lambda: NOW, batch_size=10,
        worker_id="w", should_stop=lambda: True,
    )

    assert report == DeliveryReport(claimed=10, sent=10)
    assert len(smtp_server.messages) == 10


async def test_an_email_past_its_expiry_is_withdrawn_not_sent(
    db_sessionmaker: Sessionmaker,
    mail_settings: Settings,
    smtp_server: SmtpTestServer,
    transport: SmtpTransport,
) -> None:
    late, timely = await queue(db_sessionmaker, mail_settings, "ana@example.org",
                               "ben@example.org")
    async with session_scope(db_sessionmaker) as db:
        await db.execute(update(OutboxEmail).where(OutboxEmail.id == late)
                         .values(expires_at=NOW))
        await db.execute(update(OutboxEmail).where(OutboxEmail.id == timely)
                         .values(expires_at=NOW + timedelta(seconds=1)))

    report = await deliver_due_emails(
        db_sessionmaker, transport, settings=mail_settings, now=NOW, worker_id="w"
    )

    rows = [await load(db_sessionmaker, email_id) for email_id in (late, timely)]
    assert report == DeliveryReport(claimed=1, sent=1, expired=1)
    assert [(r.status, r.attempts, r.last_error) for r in rows] == [
        (OutboxStatus.WITHDRAWN, 0, EXPIRED_NOTE), (OutboxStatus.SENT, 1, None)]
    assert [m.rcpt_tos for m in smtp_server.messages] == [("ben@example.org",)]
    assert await attempts_of(db_sessionmaker, late) == []


# --- enqueue --------------------------------------------------------------------------------


async def test_dedupe_key_prevents_a_second_email(
    db_sessionmaker: Sessionmaker, mail_settings: Settings
) -> None:
    key = "reminder:session-17:registration-4:60"
    async with session_scope(db_sessionmaker) as db:
        [first_id] = await queue_emails(
            db, [OutboxEntry(make_email_message(), dedupe_key=key, due_at=NOW)],
            settings=mail_settings, now=NOW,
        )
        assert first_id is not None
        first = await db.get_one(OutboxEmail, first_id)
        first_message_id = first.message_id
    async with session_scope(db_sessionmaker) as db:
        [second] = await queue_emails(
            db, [OutboxEntry(make_email_message(), dedupe_key=key)], settings=mail_settings, now=NOW
        )

    async with db_sessionmaker() as db:
        found = await find_email_by_dedupe_key(db, key)
    assert second is None
    assert found is not None
    assert (found.id, found.message_id, found.due_at, found.status) == (
        first_id,
        first_message_id,
        NOW,
        OutboxStatus.QUEUED,
    )
    assert await count_rows(db_sessionmaker) == 1


async def test_concurrent_duplicate_insert_is_absorbed_without_breaking_the_transaction(
    db_sessionmaker: Sessionmaker, mail_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "change-notice:session-17:3"
    async with session_scope(db_sessionmaker) as db:
        await queue_emails(
            db, [OutboxEntry(make_email_message(), dedupe_key=key)], settings=mail_settings, now=NOW
        )

    async def check_saw_nothing(db: AsyncSession, dedupe_key: str) -> None:
        return None  # the other transaction committed right after our check

    monkeypatch.setattr(outbox, "find_email_by_dedupe_key", check_saw_nothing)
    async with session_scope(db_sessionmaker) as db:
        [duplicate] = await queue_emails(
            db, [OutboxEntry(make_email_message(), dedupe_key=key)], settings=mail_settings, now=NOW
        )
        # The caller's transaction goes on (on PostgreSQL an error would have aborted it).
        [other] = await queue_emails(
            db, [OutboxEntry(make_email_message("ben@example.org"))], settings=mail_settings, now=NOW
        )

    assert duplicate is None
    assert other is not None
    async with db_sessionmaker() as db:
        rows = (await db.scalars(select(OutboxEmail).order_by(OutboxEmail.id))).all()
    assert [(r.dedupe_key, r.to_address) for r in rows] == [
        (key, "ana@example.org"),
        (None, "ben@example.org"),
    ]


async def test_enqueue_joins_the_callers_transaction(
    db_sessionmaker: Sessionmaker, mail_settings: Settings
) -> None:
    async with db_sessionmaker() as db, db.begin():
        [email_id] = await queue_emails(
            db, [OutboxEntry(make_email_message())], settings=mail_settings, now=NOW
        )
        assert email_id is not None
        await db.rollback()

    assert await count_rows(db_sessionmaker) == 0


async def test_enqueued_row_holds_the_composed_message(
    db_sessionmaker: Sessionmaker, mail_settings: Settings
) -> None:
    [email_id] = await queue(db_sessionmaker, mail_settings, "ana@example.org")

    row = await load(db_sessionmaker, email_id)

    assert (row.status, row.attempts, row.next_attempt_at, row.created_at) == (
        OutboxStatus.QUEUED,
        0,
        NOW,
        NOW,
    )
    assert (row.template, row.to_address, row.subject) == (
        "test_message_to_anyone",
        "ana@example.org",
        "Test message for Ana Silva",
    )
    assert row.message_id.endswith(f"@{mail_settings.uid_domain}>")
    assert row.raw_message is not None
    headers = row.raw_message.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert [h for h in headers if h.startswith((b"Message-ID:", b"To:"))] == [
        b"To: Ana Silva <ana@example.org>",
        b"Message-ID: " + row.message_id.encode(),
    ]



def _date_header(raw: bytes | None) -> bytes:
    assert raw is not None
    headers = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    [date] = [h for h in headers if h.startswith(b"Date:")]
    return date


async def test_one_insert_writes_every_kind_of_outbox_row(
    db_sessionmaker: Sessionmaker, mail_settings: Settings
) -> None:
    later = NOW + timedelta(minutes=30)
    async with session_scope(db_sessionmaker) as db:
        [taken_id] = await queue_emails(
            db, [OutboxEntry(make_email_message(), dedupe_key="test:1")], settings=mail_settings,
            now=NOW,
        )
        with recorded_statements(db) as statements:
            ids = await queue_emails(db, [
                OutboxEntry(make_email_message("ben@example.org", "Ben Okafor"), dedupe_key="test:2",
                            send_at=later, expires_at=later + timedelta(hours=1), due_at=later),
                OutboxEntry(make_email_message(), dedupe_key="test:1"),
                OutboxEntry(EmailToCompose(template="test_message_to_anyone",
                                           to_address="cleo@example.org",
                                           details={"position": 3})),
            ], settings=mail_settings, now=NOW)
    async with db_sessionmaker() as db:
        rows = (await db.scalars(select(OutboxEmail).order_by(OutboxEmail.id))).all()
    assert len([s for s in statements if s.verb == "INSERT"]) == 1
    assert [ids[0] is not None, ids[1], ids[2] is not None] == [True, None, True]
    assert [r.id for r in rows] == [taken_id, ids[0], ids[2]]
    assert [(r.to_address, r.dedupe_key, r.status, r.next_attempt_at, r.expires_at, r.due_at,
             r.details, r.subject) for r in rows] == [
        ("ana@example.org", "test:1", OutboxStatus.QUEUED, NOW, None, None, None,
         "Test message for Ana Silva"),
        ("ben@example.org", "test:2", OutboxStatus.QUEUED, later, later + timedelta(hours=1),
         later, None, "Test message for Ben Okafor"),
        ("cleo@example.org", None, OutboxStatus.COMPOSING, NOW, None, None, {"position": 3},
         ""),
    ]
    # A message held back is dated when it is released; one to compose has no message yet.
    assert _date_header(rows[1].raw_message) == b"Date: Mon, 02 Mar 2026 09:00:00 +0000"
    assert rows[2].raw_message is None


async def test_a_row_filled_later_has_the_shape_of_one_composed_at_once(
    db_sessionmaker: Sessionmaker, mail_settings: Settings
) -> None:
    later = NOW + timedelta(minutes=5)
    message = make_email_message("cleo@example.org", "Cleo Martin")
    async with session_scope(db_sessionmaker) as db:
        composed_id, to_fill_id = await queue_emails(db, [
            OutboxEntry(message, send_at=later),
            OutboxEntry(EmailToCompose(template="placeholder", to_address="old@example.org")),
        ], settings=mail_settings, now=NOW)
        assert composed_id is not None and to_fill_id is not None
        to_fill = await db.get_one(OutboxEmail, to_fill_id)
        fill_composed_email(to_fill, message, settings=mail_settings, now=later)
        kept_message_id = to_fill.message_id

    composed, filled = [await load(db_sessionmaker, i) for i in (composed_id, to_fill_id)]
    assert [(r.template, r.to_address, r.subject, r.status, r.next_attempt_at,
             _date_header(r.raw_message)) for r in (composed, filled)] == [
        ("test_message_to_anyone", "cleo@example.org", "Test message for Cleo Martin",
         OutboxStatus.QUEUED, later, b"Date: Mon, 02 Mar 2026 08:35:00 +0000"),
    ] * 2
    assert filled.message_id == kept_message_id


# --- transports -----------------------------------------------------------------------------


async def test_maildir_transport_writes_a_readable_message(
    db_sessionmaker: Sessionmaker, settings: Settings, tmp_path: Path
) -> None:
    maildir_settings = replace(
        settings, maildir_path=tmp_path / "mail", smtp=replace(settings.smtp, host=None)
    )
    transport = make_transport(maildir_settings)
    [email_id] = await queue(db_sessionmaker, maildir_settings, "ana@example.org")

    report = await deliver_due_emails(
        db_sessionmaker, transport, settings=maildir_settings, now=NOW, worker_id="w"
    )

    row = await load(db_sessionmaker, email_id)
    box = mailbox.Maildir(tmp_path / "mail", create=False)
    messages = list(box)
    assert isinstance(transport, MaildirTransport)
    assert report == DeliveryReport(claimed=1, sent=1)
    assert [
        (m["Delivered-To"], m["Return-Path"], m["Message-ID"], m["Subject"]) for m in messages
    ] == [
        (
            "ana@example.org",
            f"<{envelope_sender(maildir_settings)}>",
            row.message_id,
            "Test message for Ana Silva",
        )
    ]
    parsed = email.message_from_bytes(messages[0].as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, MimeMessage)
    body = parsed.get_body(("plain",))
    assert body is not None
    assert body.get_content().splitlines()[0] == "Dear Ana Silva,"


async def test_maildir_transport_delivers_concurrent_first_sends_and_mends_a_half_made_box(
    tmp_path: Path,
) -> None:
    # The first sends of a fresh installation run at once (one thread each): every one of
    # them is delivered on its first attempt, none finds the folder half-created by another.
    fresh = MaildirTransport(tmp_path / "fresh")
    raw = b"From: events@example.org\r\nSubject: Welcome\r\n\r\nSee you online.\r\n"
    await asyncio.gather(*(fresh.send(raw, "events@example.org", f"p{n}@example.org")
                           for n in range(8)))
    # A folder left without its tmp/new/cur (a crash between the two steps) is mended.
    (tmp_path / "half").mkdir()
    await MaildirTransport(tmp_path / "half").send(raw, "events@example.org", "ana@example.org")

    assert len(mailbox.Maildir(tmp_path / "fresh", create=False)) == 8
    assert len(mailbox.Maildir(tmp_path / "half", create=False)) == 1
    assert {oct((tmp_path / "fresh" / folder).stat().st_mode & 0o777)
            for folder in ("", "tmp", "new", "cur")} == {"0o700"}


async def test_make_transport_picks_smtp_when_configured(mail_settings: Settings) -> None:
    transport = make_transport(mail_settings)

    assert isinstance(transport, SmtpTransport)
    await transport.close()


async def test_smtp_transport_classifies_refusals(
    smtp_server: SmtpTestServer, transport: SmtpTransport
) -> None:
    smtp_server.refuse_recipient("gone@example.org", "550 5.1.1 No such user here")
    smtp_server.fail_next(1, "452 4.3.1 Insufficient system storage")
    raw = b"Subject: x\r\nMessage-ID: <t@procura.test>\r\n\r\nbody\r\n"

    with pytest.raises(PermanentDeliveryError) as permanent:
        await transport.send(raw, "events@procura.example.org", "gone@example.org")
    with pytest.raises(TransientDeliveryError) as transient:
        await transport.send(raw, "events@procura.example.org", "ana@example.org")
    await transport.send(raw, "events@procura.example.org", "ana@example.org")
    smtp_server.stop()
    with pytest.raises(TransientDeliveryError) as down:
        await transport.send(raw, "events@procura.example.org", "ana@example.org")

    assert (permanent.value.smtp_code, permanent.value.detail) == (
        550,
        "550 5.1.1 No such user here (gone@example.org)",
    )
    assert (transient.value.smtp_code, transient.value.detail) == (
        452,
        "452 4.3.1 Insufficient system storage",
    )
    assert down.value.smtp_code is None
    assert [m.rcpt_tos for m in smtp_server.messages] == [("ana@example.org",)]


async def test_smtp_transport_declares_the_size_sent_and_goes_on_after_a_refusal(
    smtp_server: SmtpTestServer, mail_settings: Settings
) -> None:
    transport = SmtpTransport(replace(mail_settings.smtp, connections=1))
    smtp_server.refuse_recipient("gone@example.org")
    sender = "events@procura.example.org"
    crlf = b"Subject: a\r\nMessage-ID: <a@procura.test>\r\n\r\n.a dot\r\n..two\r\nend\r\n"
    bare = b"Subject: b\nMessage-ID: <b@procura.test>\n\n.a dot\nend"

    try:
        await transport.send(crlf, sender, "ana@example.org")
        with pytest.raises(PermanentDeliveryError):
            await transport.send(crlf, sender, "gone@example.org")
        await transport.send(bare, sender, "ben@example.org")
    finally:
        await transport.close()

    first, second = smtp_server.messages
    # RFC 1870: the octets DATA carries, CRLF line ends, without the doubled dots.
    assert first.mail_options == (f"SIZE={len(first.raw)}",)
    assert first.raw == crlf
    assert second.mail_options == (f"SIZE={len(second.raw)}",)
    assert second.raw == bare.replace(b"\n", b"\r\n") + b"\r\n"
    # The refusal was followed by RSET: the same connection carried the next message.
    assert first.peer == second.peer


async def test_real_mail_servers_are_out_of_reach(smtp_guard: SmtpGuard) -> None:
    settings = SmtpSettings(
        host="smtp.example.org",
        port=587,
        username="events",
        password="not-a-real-password",
        security="starttls",
        timeout_seconds=5.0,
        connections=1,
    )
    transport = SmtpTransport(settings)

    with pytest.raises(RealSmtpConnectionBlockedError):
        await transport.send(b"Subject: x\r\n\r\nx\r\n", "a@example.org", "b@example.org")

    assert smtp_guard.blocked == ["smtp.example.org"]
    smtp_guard.blocked.clear()


def test_retry_delay_doubles_from_30_seconds_up_to_an_hour() -> None:
    delays = [retry_delay(attempt, FixedJitter()).total_seconds() for attempt in range(1, 11)]
    jittered = [retry_delay(attempt, random.Random(attempt)) for attempt in range(1, 11)]

    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    assert all(
        base <= j.total_seconds() <= min(base * 1.25, 3600)
        for base, j in zip(delays, jittered, strict=True)
    )

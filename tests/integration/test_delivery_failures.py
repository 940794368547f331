"""Delivery when things go wrong: every failed attempt has a recorded cause, a bad row fails
alone, a closing connection costs no retry, claims are renewed while a worker lives.

Real databases (both backends) and the aiosmtpd server of tests/smtp_server.py; time is
the `now` (or clock) handed to the functions, never slept through.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, update

from notifications.delivery import (
    ABANDONED,
    CLAIM_LEASE,
    NOTHING_TO_SEND,
    DeliveryReport,
    deliver_due_emails,
    drain_due_emails,
)
from notifications.outbox import list_attempts_for_email
from notifications.transport import SmtpTransport, TransientDeliveryError
from service.db.engine import session_scope
from service.db.models import OutboxEmail, OutboxStatus
from service.settings import Settings
from tests.integration.test_outbox_delivery import (
    NOW,
    FixedJitter,
    Sessionmaker,
    attempts_of,
    load,
    queue,
)
from tests.smtp_server import SmtpTestServer


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: SmtpTestServer) -> Settings:
    return replace(settings, smtp=smtp_server.smtp_settings(connections=1))


@pytest.fixture
async def transport(mail_settings: Settings) -> AsyncIterator[SmtpTransport]:
    smtp = SmtpTransport(mail_settings.smtp, local_hostname="procura.test")
    yield smtp
    await smtp.close()


async def details_of(sessionmaker: Sessionmaker, email_id: int) -> list[tuple[str, str | None]]:
    async with sessionmaker() as db:
        return [(a.outcome, a.detail) for a in await list_attempts_for_email(db, email_id)]


# --- a server closing pooled connections --------------------------------------------------


async def test_a_connection_the_server_closes_costs_no_retry(
    db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    # Like servers that cap messages per connection: after 2, the next MAIL gets a 421 and
    # the connection is closed. Nothing is wrong with that message.
    server = SmtpTestServer(messages_per_connection=2)
    server.start()
    try:
        mail_settings = replace(settings, smtp=server.smtp_settings(connections=1))
        transport = SmtpTransport(mail_settings.smtp, local_hostname="procura.test")
        addresses = [f"person{n}@example.org" for n in range(5)]
        ids = await queue(db_sessionmaker, mail_settings, *addresses)

        report = await deliver_due_emails(db_sessionmaker, transport, settings=mail_settings,
                                          now=NOW, worker_id="w")
        await transport.close()
    finally:
        server.stop()

    rows = [await load(db_sessionmaker, email_id) for email_id in ids]
    assert report == DeliveryReport(claimed=5, sent=5)
    assert [(r.status, r.attempts, r.sent_at, r.last_error) for r in rows] == [
        (OutboxStatus.SENT, 1, NOW, None)] * 5
    assert sorted(m.rcpt_tos[0] for m in server.messages) == addresses


# --- every failed attempt says why ----------------------------------------------------------


async def test_a_failed_attempt_keeps_its_cause_after_a_later_success_and_is_logged(
    db_sessionmaker: Sessionmaker, mail_settings: Settings, smtp_server: SmtpTestServer,
    transport: SmtpTransport, caplog: pytest.LogCaptureFixture,
) -> None:
    [email_id] = await queue(db_sessionmaker, mail_settings, "ana@example.org")
    smtp_server.fail_next(1, "451 4.3.0 Mailbox busy, try again")

    with caplog.at_level(logging.WARNING, logger="procura_events.delivery"):
        first = await deliver_due_emails(db_sessionmaker, transport, settings=mail_settings,
                                         now=NOW, worker_id="w", rng=FixedJitter())
        second = await deliver_due_emails(db_sessionmaker, transport, settings=mail_settings,
                                          now=NOW + timedelta(seconds=30), worker_id="w")

    row = await load(db_sessionmaker, email_id)
    assert (first, second) == (DeliveryReport(claimed=1, retrying=1),
                               DeliveryReport(claimed=1, sent=1))
    assert (row.status, row.attempts, row.last_error) == (
        OutboxStatus.SENT, 2, "451 4.3.0 Mailbox busy, try again")
    assert await details_of(db_sessionmaker, email_id) == [
        ("transient", "451 4.3.0 Mailbox busy, try again"), ("sent", None)]
    assert [r.getMessage() for r in caplog.records if r.name == "procura_events.delivery"] == [
        f"Email {email_id}: attempt 1 will be retried (transient): "
        "451 4.3.0 Mailbox busy, try again"]


async def test_an_attempt_whose_worker_died_is_recorded_as_abandoned_when_sent_again(
    db_sessionmaker: Sessionmaker, mail_settings: Settings, smtp_server: SmtpTestServer,
    transport: SmtpTransport, caplog: pytest.LogCaptureFixture,
) -> None:
    [email_id] = await queue(db_sessionmaker, mail_settings, "ana@example.org")
    lapsed_at = NOW + CLAIM_LEASE
    async with session_scope(db_sessionmaker) as db:  # claimed by a worker that then died
        await db.execute(update(OutboxEmail).where(OutboxEmail.id == email_id).values(
            status=OutboxStatus.SENDING, attempts=1, claimed_by="dead-worker",
            claimed_until=lapsed_at))

    with caplog.at_level(logging.WARNING, logger="procura_events.delivery"):
        held = await deliver_due_emails(db_sessionmaker, transport, settings=mail_settings,
                                        now=lapsed_at, worker_id="rescuer")
        rescued = await deliver_due_emails(db_sessionmaker, transport, settings=mail_settings,
                                           now=lapsed_at + timedelta(seconds=1),
                                           worker_id="rescuer")

    row = await load(db_sessionmaker, email_id)
    note = ("no outcome: the claim of worker dead-worker lapsed at 2026-03-02T08:31:00+00:00 "
            "(it stopped or lost the database mid-send); sending again")
    assert (held, rescued) == (DeliveryReport(), DeliveryReport(claimed=1, sent=1))
    assert (row.status, row.attempts, row.claimed_by, row.last_error) == (
        OutboxStatus.SENT, 2, "rescuer", note)
    assert await details_of(db_sessionmaker, email_id) == [(ABANDONED, note), ("sent", None)]
    assert [r.getMessage() for r in caplog.records if r.name == "procura_events.delivery"] == [
        f"Email {email_id}: attempt 1 abandoned: {note}"]
    assert [m.message_id for m in smtp_server.messages] == [row.message_id]


# --- a bad row fails alone ------------------------------------------------------------------


class PickyTransport:
    """Sends for real, but breaks (as a buggy transport would) on one recipient."""

    def __init__(self, inner: SmtpTransport, breaks_on: str) -> None:
        self.inner, self.breaks_on = inner, breaks_on

    async def send(self, raw: bytes, sender: str, recipient: str) -> None:
        if recipient == self.breaks_on:
            raise RuntimeError("codec state lost")
        await self.inner.send(raw, sender, recipient)

    async def close(self) -> None:
        await self.inner.close()


async def test_poisoned_rows_fail_alone_with_their_reason_and_the_others_are_sent(
    db_sessionmaker: Sessionmaker, mail_settings: Settings, smtp_server: SmtpTestServer,
    transport: SmtpTransport,
) -> None:
    addresses = ["ana@example.org", "jose@münchen.example", "ben@example.org",
                 "broken@example.org", "chloe@example.org", "empty@example.org",
                 "dan@example.org"]
    ids = dict(zip(addresses, await queue(
        db_sessionmaker, mail_settings,
        *[a.replace("münchen", "muenchen") for a in addresses]), strict=True))
    async with session_scope(db_sessionmaker) as db:
        # An envelope address SMTP cannot carry without SMTPUTF8 (an IDN domain).
        await db.execute(update(OutboxEmail)
                         .where(OutboxEmail.id == ids["jose@münchen.example"])
                         .values(to_address="jose@münchen.example"))
        # Queued, yet never composed.
        await db.execute(update(OutboxEmail).where(OutboxEmail.id == ids["empty@example.org"])
                         .values(raw_message=None))

    # One connection: each poisoned message is followed by a good one on the same wire.
    report = await drain_due_emails(
        db_sessionmaker, PickyTransport(transport, "broken@example.org"),
        settings=mail_settings, clock=lambda: NOW, worker_id="w")

    rows = {address: await load(db_sessionmaker, ids[address]) for address in addresses}
    assert report == DeliveryReport(claimed=7, sent=4, failed=3)
    assert {a: (r.status, r.last_error) for a, r in rows.items()} == {
        "ana@example.org": (OutboxStatus.SENT, None),
        "jose@münchen.example": (
            OutboxStatus.FAILED,
            "envelope address 'jose@münchen.example' is not ASCII and cannot be encoded for SMTP"),
        "ben@example.org": (OutboxStatus.SENT, None),
        "broken@example.org": (OutboxStatus.FAILED, "unexpected RuntimeError: codec state lost"),
        "chloe@example.org": (OutboxStatus.SENT, None),
        "empty@example.org": (OutboxStatus.FAILED, NOTHING_TO_SEND),
        "dan@example.org": (OutboxStatus.SENT, None),
    }
    assert [await attempts_of(db_sessionmaker, ids[a]) for a in addresses] == [
        [("sent", 250)], [("permanent", None)], [("sent", 250)], [("permanent", None)],
        [("sent", 250)], [("permanent", None)], [("sent", 250)]]
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        "ana@example.org", "ben@example.org", "chloe@example.org", "dan@example.org"]


class DeletingTransport:
    """Sends for real; one row is deleted (a clean-up) while its send fails."""

    def __init__(self, inner: SmtpTransport, sessionmaker: Sessionmaker, victim: str) -> None:
        self.inner, self.sessionmaker, self.victim = inner, sessionmaker, victim

    async def send(self, raw: bytes, sender: str, recipient: str) -> None:
        if recipient == self.victim:
            async with session_scope(self.sessionmaker) as db:
                await db.execute(delete(OutboxEmail).where(OutboxEmail.to_address == recipient))
            raise TransientDeliveryError("451 4.3.0 Try again later", 451)
        await self.inner.send(raw, sender, recipient)

    async def close(self) -> None:
        await self.inner.close()


async def test_an_outcome_the_database_refuses_does_not_strand_the_others_of_its_group(
    db_sessionmaker: Sessionmaker, mail_settings: Settings, smtp_server: SmtpTestServer,
    transport: SmtpTransport,
) -> None:
    ana, _, ben = await queue(db_sessionmaker, mail_settings, "ana@example.org",
                              "gone@example.org", "ben@example.org")

    # The attempt row of the deleted email breaks its group's transaction (foreign key).
    report = await deliver_due_emails(
        db_sessionmaker, DeletingTransport(transport, db_sessionmaker, "gone@example.org"),
        settings=mail_settings, now=NOW, worker_id="w")

    rows = [await load(db_sessionmaker, email_id) for email_id in (ana, ben)]
    assert report == DeliveryReport(claimed=3, sent=2, lost_claims=1)
    assert [(r.status, r.claimed_until) for r in rows] == [(OutboxStatus.SENT, None)] * 2
    assert [await attempts_of(db_sessionmaker, email_id) for email_id in (ana, ben)] == [
        [("sent", 250)], [("sent", 250)]]


# --- the heartbeat --------------------------------------------------------------------------


class Heartbeat:
    """The pipeline's heartbeat pause, driven by the test instead of the loop's clock."""

    def __init__(self) -> None:
        self.pauses = 0  # how many times the heartbeat has started to wait
        self.changed = asyncio.Condition()
        self.beat = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        async with self.changed:
            self.pauses += 1
            self.changed.notify_all()
        await self.beat.wait()
        self.beat.clear()

    async def once(self) -> None:
        """One renewal, completed: the heartbeat wakes, renews, and waits again."""
        async with self.changed:
            await self.changed.wait_for(lambda: self.pauses >= 1)
            target = self.pauses + 1
            self.beat.set()
            await self.changed.wait_for(lambda: self.pauses >= target)


async def test_a_live_worker_keeps_its_claims_past_the_lease_and_nobody_else_sends(
    db_sessionmaker: Sessionmaker, mail_settings: Settings, smtp_server: SmtpTestServer,
    transport: SmtpTransport,
) -> None:
    [email_id] = await queue(db_sessionmaker, mail_settings, "ana@example.org")
    clock = [NOW]
    heartbeat = Heartbeat()
    rival_reports: list[DeliveryReport] = []
    renewed_until: list[datetime | None] = []

    class SlowTransport:
        """The send takes two and a half leases; a rival worker tries to take over."""

        async def send(self, raw: bytes, sender: str, recipient: str) -> None:
            for _ in range(5):
                clock[0] += CLAIM_LEASE / 2
                await heartbeat.once()
                renewed_until.append((await load(db_sessionmaker, email_id)).claimed_until)
                rival_reports.append(await deliver_due_emails(
                    db_sessionmaker, transport, settings=mail_settings, now=clock[0],
                    worker_id="rival"))
            await transport.send(raw, sender, recipient)

        async def close(self) -> None:
            return None

    report = await drain_due_emails(
        db_sessionmaker, SlowTransport(), settings=mail_settings, clock=lambda: clock[0],
        worker_id="slow", heartbeat_sleep=heartbeat.sleep)

    row = await load(db_sessionmaker, email_id)
    assert report == DeliveryReport(claimed=1, sent=1)
    assert rival_reports == [DeliveryReport()] * 5
    assert renewed_until == [NOW + CLAIM_LEASE * (1 + n / 2) for n in range(1, 6)]
    assert (row.status, row.attempts, row.claimed_by) == (OutboxStatus.SENT, 1, "slow")
    assert [m.message_id for m in smtp_server.messages] == [row.message_id]

"""Organisers see an event's emails (counts per status, a status filter) and send failed
ones again, through HTTP, on both databases; the resent emails then reach aiosmtpd.

Time: the requests run under time-machine (frozen), deliveries at an explicit `now`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update

from notifications.delivery import MAX_ATTEMPTS, DeliveryReport, deliver_due_emails
from notifications.outbox import RESENT, OutboxEntry, list_attempts_for_email, queue_emails
from notifications.transport import SmtpTransport
from service.db.engine import session_scope
from service.db.models import OutboxEmail, OutboxStatus
from service.domain.outbox_emails import RESEND_NOTE
from service.settings import Settings
from tests.factories import EventSpec, make_email_message, make_event, make_registration
from tests.integration.test_outbox_delivery import NOW, Sessionmaker, load
from tests.smtp_server import SmtpTestServer

LATER = NOW + timedelta(days=1)
Client = AsyncTestClient[Litestar]


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: SmtpTestServer) -> Settings:
    return replace(settings, smtp=smtp_server.smtp_settings(connections=2))


@pytest.fixture
async def transport(mail_settings: Settings) -> AsyncIterator[SmtpTransport]:
    smtp = SmtpTransport(mail_settings.smtp, local_hostname="procura.test")
    yield smtp
    await smtp.close()


async def event_emails(sessionmaker: Sessionmaker, settings: Settings, slug: str,
                       *addresses: str) -> tuple[int, dict[str, int]]:
    """An event and one queued email to a registrant per address: (event id, ids by address)."""
    async with session_scope(sessionmaker) as db:
        event = await make_event(db, settings, EventSpec(
            slug=slug, title="Circular procurement of furniture", sessions=(), publish=False,
            commit=False, now=NOW))
        ids = {}
        for address in addresses:
            registration = await make_registration(
                db, event, None, address.split("@")[0].title(), email_address=address, now=NOW)
            [row_id] = await queue_emails(
                db, [OutboxEntry(make_email_message(address), event_id=event.id,
                                 registration_id=registration.id)], settings=settings, now=NOW)
            assert row_id is not None
            ids[address] = row_id
        return event.id, ids


async def exhaust(sessionmaker: Sessionmaker, email_id: int) -> None:
    """As if the email had been tried MAX_ATTEMPTS - 1 times already."""
    async with session_scope(sessionmaker) as db:
        await db.execute(update(OutboxEmail).where(OutboxEmail.id == email_id)
                         .values(status=OutboxStatus.RETRY, attempts=MAX_ATTEMPTS - 1))


async def history(sessionmaker: Sessionmaker, email_id: int) -> list[tuple[str, str | None]]:
    async with sessionmaker() as db:
        return [(a.outcome, a.detail) for a in await list_attempts_for_email(db, email_id)]


def rows_of(body: dict[str, Any]) -> list[tuple[str, str, int, str | None]]:
    return [(e["to_address"], e["status"], e["attempts"], e["last_error"])
            for e in body["emails"]]


async def test_organisers_see_an_events_emails_with_counts_and_a_status_filter(
    client: Client, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    smtp_server: SmtpTestServer, transport: SmtpTransport,
    organiser_headers: dict[str, str], viewer_headers: dict[str, str],
) -> None:
    event_id, ids = await event_emails(
        db_sessionmaker, mail_settings, "furniture", "ana@example.org", "gone@example.org",
        "late@example.org")
    await event_emails(db_sessionmaker, mail_settings, "other", "other@example.org")
    async with session_scope(db_sessionmaker) as db:
        await db.execute(update(OutboxEmail).where(OutboxEmail.id == ids["late@example.org"])
                         .values(expires_at=NOW))
    smtp_server.refuse_recipient("gone@example.org", "550 5.1.1 No such user here")
    await deliver_due_emails(db_sessionmaker, transport, settings=mail_settings, now=NOW,
                             worker_id="w")
    async with session_scope(db_sessionmaker) as db:  # and one still to go
        await queue_emails(db, [OutboxEntry(make_email_message("new@example.org"),
                                            event_id=event_id)], settings=mail_settings, now=LATER)
    listing = f"/api/organiser/events/{event_id}/emails"

    with time_machine.travel(LATER, tick=False):
        everything = await client.get(listing, headers=organiser_headers)
        failed = await client.get(f"{listing}?status=failed", headers=viewer_headers)
        either = await client.get(f"{listing}?status=failed&status=withdrawn",
                                  headers=organiser_headers)
        second_page = await client.get(f"{listing}?page=2&page_size=3",
                                       headers=organiser_headers)
        unknown_status = await client.get(f"{listing}?status=sent&status=lost",
                                          headers=organiser_headers)
        unknown_event = await client.get("/api/organiser/events/999999/emails",
                                         headers=organiser_headers)
        anonymous = await client.get(listing)

    body = everything.json()
    assert (everything.status_code, body["event_id"], body["total"], body["page"],
            body["page_size"]) == (200, event_id, 4, 1, 100)
    assert body["counts"] == {"composing": 0, "queued": 1, "sending": 0, "retry": 0,
                              "sent": 1, "failed": 1, "withdrawn": 1}
    assert rows_of(body) == [
        ("ana@example.org", "sent", 1, None),
        ("gone@example.org", "failed", 1, "550 5.1.1 No such user here (gone@example.org)"),
        ("late@example.org", "withdrawn", 0, "not sent: its time to go out had passed"),
        ("new@example.org", "queued", 0, None),
    ]
    first = body["emails"][0]
    assert (first["id"], first["template"], first["subject"], first["created_at"],
            first["sent_at"], first["expires_at"]) == (
        ids["ana@example.org"], "test_message_to_anyone", "Test message for Ana Silva",
        "2026-03-02T08:30:00Z", "2026-03-02T08:30:00Z", None)
    assert "raw_message" not in first
    assert (failed.status_code, failed.json()["total"], rows_of(failed.json())) == (
        200, 1, rows_of(body)[1:2])
    assert failed.json()["counts"] == body["counts"]
    assert [e["status"] for e in either.json()["emails"]] == ["failed", "withdrawn"]
    assert (second_page.json()["total"], rows_of(second_page.json())) == (4, rows_of(body)[3:])
    assert (unknown_status.status_code, unknown_status.json()["errors"]) == (422, [
        {"field": "status[1]", "message": "Unknown status 'lost': use one of composing, "
         "queued, sending, sent, retry, failed, withdrawn."}])
    assert (unknown_event.status_code, unknown_event.json()["errors"][0]["field"]) == (
        404, "event_id")
    assert anonymous.status_code == 401


async def test_a_failed_email_is_sent_again_with_a_note_and_arrives_with_its_message_id(
    client: Client, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    smtp_server: SmtpTestServer, transport: SmtpTransport,
    organiser_headers: dict[str, str], viewer_headers: dict[str, str],
) -> None:
    _, ids = await event_emails(db_sessionmaker, mail_settings, "furniture", "ana@example.org")
    email_id = ids["ana@example.org"]
    await exhaust(db_sessionmaker, email_id)
    smtp_server.fail_next(1, "421 4.7.0 Try again later")
    gave_up = await deliver_due_emails(db_sessionmaker, transport, settings=mail_settings,
                                       now=NOW, worker_id="w")
    resend = f"/api/organiser/emails/{email_id}/resend"

    with time_machine.travel(LATER, tick=False):
        by_viewer = await client.post(resend, headers=viewer_headers)
        still_failed = await load(db_sessionmaker, email_id)
        resent = await client.post(resend, headers=organiser_headers)
        again = await client.post(resend, headers=organiser_headers)  # queued: not failed
        unknown = await client.post("/api/organiser/emails/999999/resend",
                                    headers=organiser_headers)
    delivered = await deliver_due_emails(db_sessionmaker, transport, settings=mail_settings,
                                         now=LATER, worker_id="w")

    gave_up_error = f"gave up after {MAX_ATTEMPTS} attempts: 421 4.7.0 Try again later"
    row = await load(db_sessionmaker, email_id)
    assert (gave_up, delivered) == (DeliveryReport(claimed=1, failed=1),
                                    DeliveryReport(claimed=1, sent=1))
    assert (by_viewer.status_code, still_failed.status) == (403, OutboxStatus.FAILED)
    assert resent.status_code == 200
    assert {k: resent.json()[k] for k in ("id", "status", "attempts", "last_error",
                                          "next_attempt_at")} == {
        "id": email_id, "status": "queued", "attempts": 0, "last_error": gave_up_error,
        "next_attempt_at": "2026-03-03T08:30:00Z"}
    assert (again.status_code, again.json()["errors"]) == (409, [{
        "field": "status", "message": "Only a failed email can be sent again; this one is "
        "queued: it is on its way."}])
    assert (unknown.status_code, unknown.json()["errors"][0]["field"]) == (404, "email_id")
    assert (row.status, row.attempts, row.sent_at) == (OutboxStatus.SENT, 1, LATER)
    assert await history(db_sessionmaker, email_id) == [
        ("transient", "421 4.7.0 Try again later"),
        (RESENT, f"{RESEND_NOTE}; it had failed after {MAX_ATTEMPTS} attempts: "
                 f"{gave_up_error}"),
        ("sent", None),
    ]
    assert [m.message_id for m in smtp_server.messages] == [row.message_id]


async def test_all_failed_emails_of_an_event_are_sent_again_but_never_a_withdrawn_one(
    client: Client, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    smtp_server: SmtpTestServer, transport: SmtpTransport,
    organiser_headers: dict[str, str], viewer_headers: dict[str, str],
) -> None:
    event_id, ids = await event_emails(
        db_sessionmaker, mail_settings, "furniture", "ana@example.org", "gone@example.org",
        "busy@example.org", "late@example.org", "moved@example.org")
    _, others = await event_emails(db_sessionmaker, mail_settings, "other",
                                   "elsewhere@example.org")
    async with session_scope(db_sessionmaker) as db:
        # A reminder whose session starts before the resend, and one withdrawn meanwhile.
        await db.execute(update(OutboxEmail).where(OutboxEmail.id == ids["late@example.org"])
                         .values(expires_at=LATER))
        await db.execute(update(OutboxEmail).where(OutboxEmail.id == ids["moved@example.org"])
                         .values(status=OutboxStatus.WITHDRAWN, last_error="session moved"))
    await exhaust(db_sessionmaker, ids["busy@example.org"])
    for address in ("gone@example.org", "late@example.org", "elsewhere@example.org"):
        smtp_server.refuse_recipient(address, "550 5.1.1 No such user here")
    smtp_server.refuse_recipient("busy@example.org", "450 4.2.1 Mailbox busy")
    await deliver_due_emails(db_sessionmaker, transport, settings=mail_settings, now=NOW,
                             worker_id="w")
    smtp_server.handler.clear()  # the mailboxes are fixed
    resend_all = f"/api/organiser/events/{event_id}/emails/resend-failed"

    with time_machine.travel(LATER, tick=False):
        by_viewer = await client.post(resend_all, headers=viewer_headers)
        resent = await client.post(resend_all, headers=organiser_headers)
        nothing_left = await client.post(resend_all, headers=organiser_headers)
        withdrawn = await client.post(
            f"/api/organiser/emails/{ids['moved@example.org']}/resend", headers=organiser_headers)
        too_late = await client.post(
            f"/api/organiser/emails/{ids['late@example.org']}/resend", headers=organiser_headers)
        unknown_event = await client.post("/api/organiser/events/999999/emails/resend-failed",
                                          headers=organiser_headers)
    delivered = await deliver_due_emails(db_sessionmaker, transport, settings=mail_settings,
                                         now=LATER, worker_id="w")

    rows = {address: await load(db_sessionmaker, email_id) for address, email_id in ids.items()}
    assert by_viewer.status_code == 403
    assert (resent.status_code, resent.json()) == (200, {
        "event_id": event_id, "resent": 2,
        "email_ids": [ids["gone@example.org"], ids["busy@example.org"]],
        "too_late_ids": [ids["late@example.org"]]})
    assert nothing_left.json() == {"event_id": event_id, "resent": 0, "email_ids": [],
                                   "too_late_ids": [ids["late@example.org"]]}
    assert (withdrawn.status_code, withdrawn.json()["errors"]) == (409, [{
        "field": "status", "message": "Only a failed email can be sent again; this one is "
        "withdrawn: it was withdrawn: what it said no longer holds."}])
    assert (too_late.status_code, too_late.json()["errors"][0]["field"]) == (409, "expires_at")
    assert unknown_event.status_code == 404
    assert delivered == DeliveryReport(claimed=2, sent=2)
    assert {address: row.status for address, row in rows.items()} == {
        "ana@example.org": OutboxStatus.SENT, "gone@example.org": OutboxStatus.SENT,
        "busy@example.org": OutboxStatus.SENT, "late@example.org": OutboxStatus.FAILED,
        "moved@example.org": OutboxStatus.WITHDRAWN}
    assert (await load(db_sessionmaker, others["elsewhere@example.org"])).status == (
        OutboxStatus.FAILED)
    assert sorted(m.message_id for m in smtp_server.messages) == sorted(
        rows[a].message_id for a in ("gone@example.org", "busy@example.org"))

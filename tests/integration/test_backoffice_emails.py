"""The back office's emails, message and reminders pages over HTTP, on both databases:
what each page shows, the changes they make, and what they refuse (viewer, another team,
no form token, bad input naming the field with nothing changed).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.outbox import OutboxEntry, queue_emails
from service.db.models import (
    OutboxEmail,
    OutboxStatus,
    RegistrationStatus,
)
from service.domain import programme
from service.settings import Settings
from tests.factories import EventSpec, make_email_message, make_event, make_registration
from tests.integration.backoffice import SignedInClient

NOW = datetime(2035, 10, 1, 9, 0, tzinfo=UTC)
# Before the pages' own clock (the real one), so what the pages queue is newer.
WRITTEN = datetime(2024, 1, 15, 9, 0, tzinfo=UTC)
DRAFT = {"audience": ["confirmed"], "session_id": "", "subject": "Room change",
         "text": "Hall <B> this time.\n\nBring your ID."}


@dataclass(frozen=True)
class EventIds:
    id: int
    session_ids: tuple[int, ...]  # earliest first


@pytest.fixture
async def event(db: AsyncSession, settings: Settings) -> EventIds:
    """A two-session series with Ana and Ben confirmed, Carla waiting, and three emails, one
    of them failed."""
    made = await make_event(db, settings, EventSpec(commit=False, now=NOW))
    first, second = sorted(made.sessions, key=lambda s: s.starts_at)
    await make_registration(db, made, first, "Ana Silva", now=NOW)
    await make_registration(db, made, second, "Ben Weber", now=NOW)
    await make_registration(db, made, None, "Carla Canal", status=RegistrationStatus.WAITING,
                            now=NOW)
    for address in ("ana@fair-ict-webinars.example.org", "ben@fair-ict-webinars.example.org",
                    "carla@fair-ict-webinars.example.org"):
        await queue_emails(db, [OutboxEntry(make_email_message(address, note="<i>hi</i>"),
                                            event_id=made.id)], settings=settings, now=WRITTEN)
    await db.execute(update(OutboxEmail)
                     .where(OutboxEmail.to_address == "ben@fair-ict-webinars.example.org")
                     .values(status=OutboxStatus.FAILED, attempts=5,
                             last_error="550 5.1.1 No such user"))
    await db.commit()
    return EventIds(id=made.id, session_ids=(first.id, second.id))


async def _statuses(db: AsyncSession, event_id: int) -> dict[str, str]:
    db.expire_all()
    rows = await db.execute(select(OutboxEmail.to_address, OutboxEmail.status)
                            .where(OutboxEmail.event_id == event_id))
    return {address.split("@")[0]: status.value for address, status in rows.all()}


def _rows(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<tr id="email-\d+">\s*<th scope="row">([^<]+)</th>', page)]


# --- emails ------------------------------------------------------------------------------------


async def test_the_emails_page_lists_counts_filters_and_searches(
    viewer_client: SignedInClient, event: EventIds
) -> None:
    url = f"/organiser/events/{event.id}/emails"

    everything = await viewer_client.get(url)
    failed = await viewer_client.get(url, params={"status": "failed"})
    search = await viewer_client.get(url, params={"recipient": "CARLA"})
    bad = await viewer_client.get(url, params={"status": "lost"})

    assert everything.status_code == 200
    assert _rows(everything.text) == ["carla@fair-ict-webinars.example.org",
                                      "ben@fair-ict-webinars.example.org",
                                      "ana@fair-ict-webinars.example.org"]
    assert "Queued: 2</a>" in everything.text and "Failed: 1</a>" in everything.text
    # A viewer sees no button that changes anything.
    assert "Send again" not in everything.text and "Write to registrants" not in everything.text
    assert _rows(failed.text) == ["ben@fair-ict-webinars.example.org"]
    assert "550 5.1.1 No such user" in failed.text
    assert _rows(search.text) == ["carla@fair-ict-webinars.example.org"]
    assert bad.status_code == 422
    assert 'href="#status">Unknown status &#39;lost&#39;' in bad.text


async def test_an_email_is_shown_as_sent_with_its_html_alone_under_a_sandbox(
    organiser_client: SignedInClient, db: AsyncSession, event: EventIds
) -> None:
    email_id = await db.scalar(select(OutboxEmail.id).where(
        OutboxEmail.to_address == "ana@fair-ict-webinars.example.org"))
    url = f"/organiser/events/{event.id}/emails/{email_id}"

    page = await organiser_client.get(url)
    body = await organiser_client.get(f"{url}/body.html")
    elsewhere = await organiser_client.get(f"/organiser/events/{event.id + 1000}/emails/{email_id}")

    assert page.status_code == 200
    assert (f'<iframe class="email-frame" title="The email as its recipient sees it" '
            f'sandbox src="{url}/body.html">') in page.text
    assert "&lt;i&gt;hi&lt;/i&gt;" in page.text  # the text part, escaped on the page
    assert body.status_code == 200
    assert body.headers["content-security-policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; "
        "form-action 'none'; base-uri 'none'; sandbox")
    assert body.headers["x-frame-options"] == "SAMEORIGIN"
    assert "&lt;i&gt;hi&lt;/i&gt;" in body.text  # escaped when the email was built
    assert elsewhere.status_code == 404


async def test_a_failed_email_is_sent_again_and_refusals_change_nothing(
    organiser_client: SignedInClient, viewer_client: SignedInClient,
    other_team_client: SignedInClient, db: AsyncSession, event: EventIds,
) -> None:
    ben = await db.scalar(select(OutboxEmail.id).where(
        OutboxEmail.to_address == "ben@fair-ict-webinars.example.org"))
    ana = await db.scalar(select(OutboxEmail.id).where(
        OutboxEmail.to_address == "ana@fair-ict-webinars.example.org"))
    url = f"/organiser/events/{event.id}/emails/{ben}/resend"

    by_viewer = await viewer_client.post_form(url)
    by_other_team = await other_team_client.post_form(url)
    without_token = await organiser_client.post(url, data={}, follow_redirects=False)
    assert [r.status_code for r in (by_viewer, by_other_team, without_token)] == [403, 403, 403]
    assert (await _statuses(db, event.id))["ben"] == "failed"

    sent_again = await organiser_client.post_form(url)
    not_failed = await organiser_client.post_form(f"/organiser/events/{event.id}/emails/{ana}/resend")

    assert (sent_again.status_code, sent_again.headers["location"]) == (
        303, f"/organiser/events/{event.id}/emails/{ben}?resent=true")
    assert (await _statuses(db, event.id))["ben"] == "queued"
    assert not_failed.status_code == 409
    assert ("Not sent again: Only a failed email can be sent again; this one is queued"
            in html.unescape(not_failed.text))


async def test_all_failed_emails_are_sent_again_at_once(
    organiser_client: SignedInClient, db: AsyncSession, event: EventIds
) -> None:
    answer = await organiser_client.post_form(f"/organiser/events/{event.id}/emails/resend-failed")
    page = await organiser_client.get(answer.headers["location"])

    assert (answer.status_code, answer.headers["location"]) == (
        303, f"/organiser/events/{event.id}/emails?resent=1")
    assert await _statuses(db, event.id) == {"ana": "queued", "ben": "queued", "carla": "queued"}
    assert "1 failed email queued to be sent again." in page.text


# --- writing to registrants --------------------------------------------------------------------


async def test_write_preview_confirm_and_find_the_emails_on_the_emails_page(
    organiser_client: SignedInClient, db: AsyncSession, event: EventIds
) -> None:
    base = f"/organiser/events/{event.id}/message"

    form = await organiser_client.get(base)
    preview = await organiser_client.post_form(f"{base}/preview", DRAFT)
    assert await _statuses(db, event.id) == {"ana": "queued", "ben": "failed", "carla": "queued"}
    sent = await organiser_client.post_form(f"{base}/send", {**DRAFT, "recipients": "2"})
    emails = await organiser_client.get(sent.headers["location"])

    assert form.status_code == 200 and 'name="subject"' in form.text
    assert preview.status_code == 200
    assert "It goes to <strong>2 people</strong>" in preview.text
    assert "The email as Ana Silva &lt;ana@fair-ict-webinars.example.org&gt; receives it" in preview.text
    # The organiser's words are escaped in the HTML copy (itself escaped into srcdoc).
    assert "Hall &amp;lt;B&amp;gt; this time." in preview.text
    assert (sent.status_code, sent.headers["location"]) == (
        303, f"/organiser/events/{event.id}/emails?sent=2")
    rows = (await db.execute(select(OutboxEmail.to_address, OutboxEmail.template,
                                    OutboxEmail.subject, OutboxEmail.status)
                             .where(OutboxEmail.template == "organiser_message_to_registrant")
                             .order_by(OutboxEmail.id))).all()
    assert [(a, t, s, st.value) for a, t, s, st in rows] == [
        ("ana@fair-ict-webinars.example.org", "organiser_message_to_registrant", "Room change", "queued"),
        ("ben@fair-ict-webinars.example.org", "organiser_message_to_registrant", "Room change", "queued"),
    ]
    assert "Your message is queued for 2 people" in emails.text
    assert _rows(emails.text)[:2] == ["ben@fair-ict-webinars.example.org",
                                      "ana@fair-ict-webinars.example.org"]


async def test_a_bad_message_names_every_field_and_sends_nothing(
    organiser_client: SignedInClient, db: AsyncSession, event: EventIds
) -> None:
    before = await db.scalar(select(func.count()).select_from(OutboxEmail))

    answer = await organiser_client.post_form(
        f"/organiser/events/{event.id}/message/preview",
        {"session_id": "abc", "subject": "Line\r\nBcc: x@evil.test", "text": ""})
    sent = await organiser_client.post_form(
        f"/organiser/events/{event.id}/message/send",
        {"audience": ["everyone"], "subject": "Hi", "text": "Text", "recipients": "2"})

    assert answer.status_code == 422
    links = re.findall(r'<li><a href="#([a-z_]+)">([^<]+)</a></li>', answer.text)
    assert links == [
        ("session_id", "Choose a session of this event, or the whole event."),
        ("audience", "Choose who receives the message."),
        ("subject", "Must be a single line without control characters."),
        ("text", "Write the message."),
    ]
    assert 'value="Line' in answer.text  # what was typed is kept
    assert sent.status_code == 422
    assert await db.scalar(select(func.count()).select_from(OutboxEmail)) == before


async def test_a_count_changed_since_the_preview_shows_the_new_one_and_sends_nothing(
    organiser_client: SignedInClient, db: AsyncSession, event: EventIds
) -> None:
    answer = await organiser_client.post_form(f"/organiser/events/{event.id}/message/send",
                                              {**DRAFT, "recipients": "5"})

    assert answer.status_code == 409
    assert "It goes to <strong>2 people</strong>" in answer.text
    assert "Nothing was sent: The message would now go to 2 people, not the 5 shown" in answer.text
    assert await db.scalar(select(func.count()).select_from(OutboxEmail).where(
        OutboxEmail.template == "organiser_message_to_registrant")) == 0


async def test_only_the_events_editors_may_write(
    viewer_client: SignedInClient, other_team_client: SignedInClient,
    organiser_client: SignedInClient, db: AsyncSession, event: EventIds,
) -> None:
    base = f"/organiser/events/{event.id}/message"

    answers = [await viewer_client.get(base),
               await viewer_client.post_form(f"{base}/send", {**DRAFT, "recipients": "2"}),
               await other_team_client.get(base),
               await other_team_client.post_form(f"{base}/send", {**DRAFT, "recipients": "2"}),
               await organiser_client.post(f"{base}/send", data={**DRAFT, "recipients": "2"},
                                           follow_redirects=False)]

    assert [a.status_code for a in answers] == [403, 403, 403, 403, 403]
    assert await db.scalar(select(func.count()).select_from(OutboxEmail).where(
        OutboxEmail.template == "organiser_message_to_registrant")) == 0


# --- reminders ---------------------------------------------------------------------------------


async def test_the_reminders_page_shows_the_schedule_in_both_zones_and_saves_a_policy(
    organiser_client: SignedInClient, db: AsyncSession, event: EventIds
) -> None:
    url = f"/organiser/events/{event.id}/reminders"

    page = await organiser_client.get(url)
    saved = await organiser_client.post_form(f"{url}/policy", {
        "policy": "custom", "offset-1-amount": "2", "offset-1-unit": "days",
        "offset-2-amount": "90", "offset-2-unit": "minutes"})
    after = await organiser_client.get(saved.headers["location"])

    assert page.status_code == 200
    assert "reminded <strong>1 day, 1 hour</strong> before each session" in page.text
    # Social criteria... on Monday 12 November 2035 at 10:00 in Brussels (09:00 UTC).
    assert "Sun 11 Nov 2035 10:00 CET<br><span class=\"muted\">09:00 UTC</span>" in page.text
    assert (saved.status_code, saved.headers["location"]) == (303, f"{url}?saved=true")
    db.expire_all()
    assert (await programme.get_event(db, event.id)).reminder_offsets_minutes == [2880, 90]
    assert "reminded <strong>2 days, 90 minutes</strong> before each session" in after.text
    assert "no longer in the policy" in after.text


async def test_a_bad_policy_names_each_row_and_changes_nothing(
    organiser_client: SignedInClient, viewer_client: SignedInClient, db: AsyncSession,
    event: EventIds,
) -> None:
    url = f"/organiser/events/{event.id}/reminders/policy"

    bad = await organiser_client.post_form(url, {
        "policy": "custom", "offset-1-amount": "soon", "offset-1-unit": "days",
        "offset-2-amount": "90", "offset-2-unit": "days"})
    by_viewer = await viewer_client.post_form(url, {"policy": "default"})

    assert bad.status_code == 422
    assert re.findall(r'<li><a href="#([a-z0-9-]+)">([^<]+)</a></li>', bad.text) == [
        ("offset-1-amount", "Write a whole number, such as 1 or 24."),
        ("offset-2-amount", "Each reminder is 1 minute to 60 days before the session."),
    ]
    assert 'value="soon"' in bad.text
    assert by_viewer.status_code == 403
    db.expire_all()
    assert (await programme.get_event(db, event.id)).reminder_offsets_minutes is None


async def test_confirmed_places_in_one_session_only_for_a_session_message(
    organiser_client: SignedInClient, event: EventIds
) -> None:
    second = event.session_ids[1]

    preview = await organiser_client.post_form(
        f"/organiser/events/{event.id}/message/preview", {**DRAFT, "session_id": str(second)})

    assert "It goes to <strong>1 person</strong>" in preview.text
    assert "Ben Weber &lt;ben@fair-ict-webinars.example.org&gt;" in preview.text

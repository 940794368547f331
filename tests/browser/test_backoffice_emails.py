"""The back office's emails, message and reminders pages in a real browser: an organiser
writes to the confirmed registrants of the Make ICT Fair series, checks the preview, sends,
finds the emails, opens one, sends a failed one again and changes the reminder policy.
axe-core finds no violation on any page state; screenshots go to
test-artifacts/screenshots/ (backoffice-emails-*.png).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.outbox import OutboxEntry, queue_emails
from service.db.models import Event, OutboxEmail, OutboxStatus
from service.domain import programme
from service.domain.accounts import create_account
from service.operations.demo import MAKE_ICT_FAIR_SLUG
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import CLOCK, DESKTOP, PHONE, LiveServer, save_screenshot, sign_in
from tests.factories import make_email_message, make_registration

pytestmark = pytest.mark.browser

EMAIL = "ada@procura.example.org"
PASSWORD = "lantern-quarry-velvet-29"


def _arrange(live_server: LiveServer) -> int:
    """An admin account, two confirmed registrants and one failed email; the event's id."""

    async def arrange(db: AsyncSession) -> int:
        await create_account(db, email=EMAIL, name="Ada Admin", role="admin",
                             password=PASSWORD, now=CLOCK)
        event_id = await db.scalar(select(Event.id).where(Event.slug == MAKE_ICT_FAIR_SLUG))
        assert event_id is not None
        event = await programme.get_event(db, event_id)
        first = min(event.sessions, key=lambda s: s.starts_at)
        await make_registration(db, event, first, "Ana Novak", now=CLOCK,
                                email_address="ana.novak@ljubljana.example.org")
        jan = await make_registration(db, event, first, "Jan Kowalski", now=CLOCK,
                                      email_address="jan.kowalski@krakow.example.org")
        jan.language = "de"
        [failed] = await queue_emails(db, [OutboxEntry(
            make_email_message("jan.kowalski@krakow.example.org", "Jan Kowalski"),
            event_id=event_id)], settings=live_server.settings,
            now=datetime(2020, 10, 19, 9, 0, tzinfo=UTC))
        await db.execute(update(OutboxEmail).where(OutboxEmail.id == failed).values(
            status=OutboxStatus.FAILED, attempts=5, last_error="550 5.1.1 No such user"))
        return event_id

    return live_server.arrange(arrange)


def _sign_in(page: Page, base_url: str) -> None:
    sign_in(page, base_url, EMAIL, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming events")


def test_write_to_registrants_find_the_emails_and_change_the_reminders(
    live_server: LiveServer, browser: Browser, screenshots: Path
) -> None:
    event_id = _arrange(live_server)
    base = live_server.base_url
    context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Brussels")
    context.set_default_timeout(10_000)
    page = context.new_page()
    _sign_in(page, base)

    # The emails page: one failed email so far.
    page.goto(f"{base}/organiser/events/{event_id}/emails")
    expect(page.get_by_role("link", name="Failed: 1")).to_be_visible()
    assert_no_axe_violations(page, context="emails page")
    save_screenshot(page, screenshots / "backoffice-emails-1-list.png")

    # Write to the confirmed registrants: a refused form first, then the preview.
    page.get_by_role("link", name="Write to registrants").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Write to registrants")
    assert_no_axe_violations(page, context="message form")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#error-summary a")).to_have_text(["Write a subject.", "Write the message."])
    assert_no_axe_violations(page, context="message form with errors")
    save_screenshot(page, screenshots / "backoffice-emails-2-message-errors.png")
    page.get_by_label("Subject", exact=True).fill("Joining details for 9 November")
    page.get_by_label("Message", exact=True).fill(
        "The room opens at 09:50 <CET>.\n\nSee you there.")
    # The same message in German, for Jan, who registered in German.
    page.get_by_text("The same message in other languages").click()
    page.get_by_label("Subject in Deutsch").fill("Zugangsdaten für den 9. November")
    page.get_by_label("Message in Deutsch").fill("Der Raum öffnet um 09:50 Uhr.")
    assert_no_axe_violations(page, context="message form with a translation")
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your message")
    expect(page.locator("#recipient-count")).to_contain_text("It goes to 2 people")
    expect(page.locator("#versions tbody th")).to_have_text(["As written (English)", "Deutsch"])
    expect(page.locator("#versions tbody td")).to_have_text(["1", "1"])
    frames = page.frame_locator("iframe.email-frame")
    expect(frames.first.locator("body")).to_contain_text("The room opens at 09:50 <CET>.")
    expect(frames.nth(1).locator("body")).to_contain_text("Der Raum öffnet um 09:50 Uhr.")
    assert_no_axe_violations(page, context="message preview")
    save_screenshot(page, screenshots / "backoffice-emails-3-message-preview.png")
    page.get_by_role("button", name="Send to 2 people").click()

    expect(page.get_by_role("status")).to_have_text(
        "Your message is queued for 2 people: they are listed below.")
    expect(page.locator("tbody th").first).to_have_text("jan.kowalski@krakow.example.org")
    assert_no_axe_violations(page, context="emails page after sending")
    save_screenshot(page, screenshots / "backoffice-emails-4-sent.png")

    # One email as its recipient gets it.
    page.get_by_role("link", name="Message from the organisers").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Message from the organisers to jan.kowalski@krakow.example.org")
    # Jan's copy is the German version, in a German frame.
    jans_copy = page.frame_locator("iframe.email-frame").locator("body")
    expect(jans_copy).to_contain_text("Guten Tag Jan Kowalski")
    expect(jans_copy).to_contain_text("Der Raum öffnet um 09:50 Uhr.")
    expect(page.locator("pre.email-text")).to_contain_text("/registrations/")
    assert_no_axe_violations(page, context="one email")
    save_screenshot(page, screenshots / "backoffice-emails-5-one-email.png")

    # The failed email, sent again.
    page.goto(f"{base}/organiser/events/{event_id}/emails?status=failed")
    page.get_by_role("button", name="Send again to jan.kowalski@krakow.example.org").click()
    expect(page.get_by_role("status")).to_have_text("Queued to be sent again.")
    assert_no_axe_violations(page, context="one email sent again")

    # Reminders: the schedule, a refused policy, then a saved one.
    page.goto(f"{base}/organiser/events/{event_id}/reminders")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^Reminders of "))
    assert_no_axe_violations(page, context="reminders page")
    save_screenshot(page, screenshots / "backoffice-emails-6-reminders.png")
    page.get_by_label("Our own times, below").check()
    page.get_by_label("Reminder 1", exact=True).fill("two")
    page.get_by_role("button", name="Save the policy").click()
    expect(page.locator("#error-summary a")).to_have_text(["Write a whole number, such as 1 or 24."])
    expect(page.get_by_label("Reminder 1", exact=True)).to_have_value("two")
    assert_no_axe_violations(page, context="reminder policy with errors")
    page.get_by_label("Reminder 1", exact=True).fill("2")
    page.get_by_role("button", name="Save the policy").click()
    expect(page.get_by_role("status")).to_have_text(
        "The reminder policy is saved: every reminder is planned again.")
    assert_no_axe_violations(page, context="reminders page after saving")
    save_screenshot(page, screenshots / "backoffice-emails-7-reminders-saved.png")
    context.close()

    # On a phone.
    phone = browser.new_context(viewport=PHONE, timezone_id="Europe/Brussels", is_mobile=True,
                                has_touch=True)
    phone.set_default_timeout(10_000)
    page = phone.new_page()
    _sign_in(page, base)
    page.goto(f"{base}/organiser/events/{event_id}/emails")
    assert_no_axe_violations(page, context="emails page on a phone")
    save_screenshot(page, screenshots / "backoffice-emails-8-phone.png")
    page.goto(f"{base}/organiser/events/{event_id}/message")
    assert_no_axe_violations(page, context="message form on a phone")
    save_screenshot(page, screenshots / "backoffice-emails-9-phone-message.png")
    phone.close()

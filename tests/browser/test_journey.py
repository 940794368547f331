"""A newcomer's journey in a real browser, agenda times in two zones, and phone-size pages.

Screenshots land in test-artifacts/screenshots/ (desktop 1280x800, phone 390x844).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from service.operations.demo import MAKE_ICT_FAIR_SLUG
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import DESKTOP, PHONE, LiveServer, save_screenshot

pytestmark = pytest.mark.browser

SERIES_TITLE = "Procura+ webinar series on socially responsible ICT procurement"
FIRST_SESSION = ("On the way towards social criteria – steps towards integrating social "
                 "criteria in ICT Procurement tenders")


def _text_body(message: object) -> str:
    from email.message import EmailMessage

    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_register_receive_email_and_cancel(
    live_server: LiveServer, browser: Browser, screenshots: Path
) -> None:
    context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Brussels",
                                  locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()

    page.goto(live_server.base_url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Events programme")
    save_screenshot(page, screenshots / "desktop-1-programme.png")
    assert_no_axe_violations(page, context="programme")

    page.get_by_role("link", name=SERIES_TITLE).click()
    expect(page).to_have_url(f"{live_server.base_url}/events/{MAKE_ICT_FAIR_SLUG}")
    expect(page.get_by_role("heading", level=1)).to_have_text(SERIES_TITLE)
    save_screenshot(page, screenshots / "desktop-2-event.png")
    assert_no_axe_violations(page, context="event page")

    page.get_by_role("link", name="Register", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Register for {SERIES_TITLE}")
    page.get_by_label("Full name").fill("Ana Novak")
    page.get_by_label("Email address", exact=True).fill("ana.novak@ljubljana.example.org")
    page.get_by_label("Job title").fill("Procurement officer")
    page.get_by_label("Organisation (optional)", exact=True).fill("City of Ljubljana")
    page.get_by_label("Type of organisation").select_option("public_authority")
    page.get_by_label("Country").select_option("SI")
    page.get_by_label("I agree").check()
    save_screenshot(page, screenshots / "desktop-3-register.png")
    assert_no_axe_violations(page, context="registration form filled in")
    page.get_by_role("button", name="Register").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("You are registered")
    expect(page.get_by_text("A confirmation email with a calendar invitation")).to_contain_text(
        "ana.novak@ljubljana.example.org")
    save_screenshot(page, screenshots / "desktop-4-registered.png")
    assert_no_axe_violations(page, context="registered")

    live_server.deliver_emails()
    received = [m for m in live_server.smtp.messages
                if m.rcpt_tos == ("ana.novak@ljubljana.example.org",)]
    assert [str(m.message["Subject"]) for m in received] == [
        f"Registration confirmed: {SERIES_TITLE}"]
    links = re.findall(rf"{re.escape(live_server.base_url)}/registrations/[A-Za-z0-9_-]+",
                       _text_body(received[0].message))
    assert len(set(links)) == 1

    page.goto(links[0])
    expect(page.get_by_role("heading", level=1)).to_have_text("Your registration")
    expect(page.locator(".panel .badge-confirmed").first).to_have_text("Confirmed")
    expect(page.locator("a.join")).to_have_text([
        "https://meet.example.org/procura-make-ict-fair-1",
        "https://meet.example.org/procura-make-ict-fair-2",
    ])
    save_screenshot(page, screenshots / "desktop-5-manage.png")
    assert_no_axe_violations(page, context="private page")

    page.get_by_role("link", name="Cancel my registration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel your registration?")
    assert_no_axe_violations(page, context="cancel confirmation")
    page.get_by_role("button", name="Yes, cancel my registration").click()

    expect(page.get_by_role("status")).to_have_text(
        "Your registration is cancelled. We have sent you an email to confirm it. "
        "Thank you for letting us know.")
    expect(page.locator(".panel .badge").first).to_have_text("Cancelled")
    expect(page.locator("a.join")).to_have_count(0)
    save_screenshot(page, screenshots / "desktop-6-cancelled.png")
    assert_no_axe_violations(page, context="private page, cancelled")
    context.close()


def test_agenda_in_brussels_shows_only_the_published_time(
    live_server: LiveServer, browser: Browser
) -> None:
    context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Brussels")
    context.set_default_timeout(10_000)
    page = context.new_page()

    page.goto(f"{live_server.base_url}/events/{MAKE_ICT_FAIR_SLUG}")

    row = page.get_by_role("article", name=FIRST_SESSION).locator("table.agenda tbody tr").first
    expect(row.locator(".event-time")).to_have_text("10:00–10:10 CET")
    expect(page.locator("[data-visitor-time]")).to_have_count(0)
    expect(page.locator("[data-zone-note]")).to_be_hidden()
    assert_no_axe_violations(page, context="event page in Brussels")
    context.close()


def test_agenda_in_new_york_adds_the_visitors_time(
    live_server: LiveServer, browser: Browser, screenshots: Path
) -> None:
    context = browser.new_context(viewport=DESKTOP, timezone_id="America/New_York")
    context.set_default_timeout(10_000)
    page = context.new_page()

    page.goto(f"{live_server.base_url}/events/{MAKE_ICT_FAIR_SLUG}")

    session = page.get_by_role("article", name=FIRST_SESSION)
    row = session.locator("table.agenda tbody tr").first
    expect(row.locator(".event-time")).to_have_text("10:00–10:10 CET")
    expect(row.locator("[data-visitor-time]")).to_have_text("04:00–04:10 EST (your time)")
    expect(session.locator(".session-meta [data-visitor-time]")).to_have_text(
        "04:00–05:45 EST (your time)")
    expect(page.locator("[data-zone-note]")).to_have_text(
        "Times in your own time zone (America/New York) are shown in grey below each "
        "published time.")
    session.scroll_into_view_if_needed()
    save_screenshot(page, screenshots / "desktop-7-event-new-york.png", full_page=False)
    assert_no_axe_violations(page, context="event page in New York")
    context.close()


def test_phone_pages_and_keyboard_use(
    live_server: LiveServer, browser: Browser, screenshots: Path
) -> None:
    context = browser.new_context(viewport=PHONE, timezone_id="Europe/Brussels",
                                  is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    page = context.new_page()

    page.goto(live_server.base_url + "/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    save_screenshot(page, screenshots / "phone-1-programme.png")
    assert_no_axe_violations(page, context="programme on a phone")

    page.goto(f"{live_server.base_url}/events/{MAKE_ICT_FAIR_SLUG}")
    save_screenshot(page, screenshots / "phone-2-event-top.png", full_page=False)
    page.get_by_role("article", name=FIRST_SESSION).scroll_into_view_if_needed()
    save_screenshot(page, screenshots / "phone-3-event-agenda.png", full_page=False)
    assert_no_axe_violations(page, context="event page on a phone")

    page.goto(f"{live_server.base_url}/events/{MAKE_ICT_FAIR_SLUG}/register")
    page.get_by_label("Full name").fill("Jan <b>Kowalski</b>")
    page.get_by_label("Email address", exact=True).fill("jan@localhost")
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="Register").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Register for {SERIES_TITLE}")
    expect(page.locator("#email-error")).to_have_text(
        "Error: The part after @ must be a domain such as example.org.")
    expect(page.get_by_label("Full name")).to_have_value("Jan <b>Kowalski</b>")
    expect(page.get_by_label("Email address", exact=True)).to_have_value("jan@localhost")
    expect(page.get_by_label("I agree")).to_be_checked()
    save_screenshot(page, screenshots / "phone-4-register-error.png")
    assert_no_axe_violations(page, context="registration form with errors on a phone")
    context.close()

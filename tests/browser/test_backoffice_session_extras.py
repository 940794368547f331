"""A session's materials and its attendance list in a real browser: from the event's page
an organiser opens a session's materials, is refused an address that is not a web address
(the error summary takes the focus and names the material), shares the slides with
everyone and the recording with registrants only, and the public event page shows the
slides under that session and not the recording; after the Make ICT Fair's first webinar,
an attendee report is pasted on its attendance page and a mark made by mistake is taken
back. axe-core finds no violation on any state."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Event, Session
from service.domain import programme
from service.domain.accounts import create_account
from service.operations.demo import MAKE_ICT_FAIR_SLUG
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import CLOCK, LiveServer, desktop_page, save_screenshot, sign_in
from tests.factories import make_registration

pytestmark = pytest.mark.browser

EMAIL = "mia.materials@procura.example.org"
PASSWORD = "lantern-quarry-velvet-29"
SLUG = "circular-ict-webinar-series-2027"
SLIDES = "https://docs.example.org/circular-ict-slides.pdf"
RECORDING = "https://video.example.org/circular-ict-recording"


def test_an_organiser_shares_a_sessions_slides_and_recording(
    live_server: LiveServer, browser: Browser, screenshots: Path
) -> None:
    async def arrange(db: AsyncSession) -> tuple[int, int]:
        await create_account(db, email=EMAIL, name="Mia Materials", role="admin",
                             password=PASSWORD, now=CLOCK)
        found = (await db.execute(
            select(Event.id, Session.id).join(Session, Session.event_id == Event.id)
            .where(Event.slug == SLUG).order_by(Session.starts_at.desc()).limit(1))).one()
        return found[0], found[1]

    event_id, session_id = live_server.arrange(arrange)
    context, page = desktop_page(browser, "Europe/Brussels")
    sign_in(page, live_server.base_url, EMAIL, PASSWORD)
    base = live_server.base_url

    page.goto(f"{base}/organiser/events/{event_id}")
    page.locator(f'a[href="/organiser/sessions/{session_id}/materials"]').click()
    expect(page.get_by_text("No materials shared yet.")).to_be_visible()
    assert_no_axe_violations(page, context="materials page, none yet")
    page.get_by_label("For everyone").fill(f"Slides | {SLIDES}\nNotes | notes.example.org")
    page.get_by_role("button", name="Save the materials").click()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#error-summary a")).to_have_text([
        "Material 2: Give each material's address, starting with https://."])
    assert_no_axe_violations(page, context="materials page with errors")
    page.get_by_label("For everyone").fill(f"Slides | {SLIDES}")
    page.get_by_label("For registrants only").fill(f"Recording | {RECORDING}")
    page.get_by_role("button", name="Save the materials").click()
    expect(page.get_by_role("status")).to_contain_text("The materials are saved.")
    expect(page.get_by_role("link", name="Recording")).to_have_attribute("href", RECORDING)
    assert_no_axe_violations(page, context="materials page, saved")
    save_screenshot(page, screenshots / "backoffice-materials.png")

    page.goto(f"{base}/events/{SLUG}")
    session = page.locator(f'article[aria-labelledby="session-{session_id}"]')
    expect(session.locator(".materials a")).to_have_text(["Slides"])
    expect(session.get_by_role("link", name="Slides")).to_have_attribute("href", SLIDES)
    assert RECORDING not in page.content()
    assert_no_axe_violations(page, context="event page with materials")
    context.close()


ATTENDANCE_EMAIL = "ava.attendance@procura.example.org"
ATTENDEE = "wanda.webinar@city.example.org"


def test_after_a_webinar_its_attendee_report_is_pasted(
    live_server: LiveServer, browser: Browser, screenshots: Path
) -> None:
    async def arrange(db: AsyncSession) -> tuple[int, int]:
        await create_account(db, email=ATTENDANCE_EMAIL, name="Ava Attendance", role="admin",
                             password=PASSWORD, now=CLOCK)
        event_id = await db.scalar(select(Event.id).where(Event.slug == MAKE_ICT_FAIR_SLUG))
        assert event_id is not None
        event = await programme.get_event(db, event_id)
        webinar = min(event.sessions, key=lambda s: s.starts_at)
        await make_registration(db, event, webinar, "Wanda Webinar", now=CLOCK,
                                email_address=ATTENDEE)
        return event_id, webinar.id

    event_id, session_id = live_server.arrange(arrange)
    context, page = desktop_page(browser, "Europe/Brussels")
    base = live_server.base_url
    # The afternoon of the first webinar (9 November 2020).
    with time_machine.travel(datetime(2020, 11, 9, 14, 0, tzinfo=UTC), tick=True):
        sign_in(page, base, ATTENDANCE_EMAIL, PASSWORD)
        page.goto(f"{base}/organiser/events/{event_id}")
        page.locator(f'a[href="/organiser/sessions/{session_id}/attendance"]').click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Attendance: ")
        assert_no_axe_violations(page, context="attendance page")
        page.get_by_label("Attendee report").fill(
            "Attended,Name,Email\nYes,Guest,guest@elsewhere.example.org\n"
            f"Yes,Wanda Webinar,{ATTENDEE.upper()}")
        page.get_by_role("button", name="Record attendance").click()
        expect(page.get_by_role("status")).to_contain_text(
            "1 person now counts as having attended.")
        expect(page.get_by_role("status")).to_contain_text(
            "Not registered for this session (left as they are): guest@elsewhere.example.org")
        assert_no_axe_violations(page, context="attendance page, a report pasted")
        save_screenshot(page, screenshots / "backoffice-attendance.png")
        # Marked by mistake: taken back from the list (the button names whose mark).
        page.get_by_role("button", name="Take back the mark of Wanda Webinar").click()
        expect(page.get_by_role("status")).to_have_text(
            "Wanda Webinar no longer counts as having attended.")
        expect(page.get_by_text("Nobody yet.")).to_be_visible()
        assert_no_axe_violations(page, context="attendance page, a mark taken back")
    context.close()

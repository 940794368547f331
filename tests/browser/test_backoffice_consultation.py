"""The Haarlem demo's market consultation in a real browser: the public event page's
section, then the organiser's pages (profile with a refused CPV code, the CPV finder, documents, questions
and answers, check-in, report). axe-core finds no violation on any of them; screenshots go
to test-artifacts/screenshots/ (consultation-*.png).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Event
from service.domain import programme
from service.domain.accounts import create_account
from service.operations.demo_consultation import HAARLEM_SLUG
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import CLOCK, DESKTOP, LiveServer, save_screenshot, sign_in
from tests.factories import make_supplier

pytestmark = pytest.mark.browser

EMAIL = "cora@procura.example.org"
PASSWORD = "lantern-quarry-velvet-29"


def _arrange(live_server: LiveServer) -> int:
    """An admin account and one registered supplier; the Haarlem event's id."""

    async def arrange(db: AsyncSession) -> int:
        await create_account(db, email=EMAIL, name="Cora Admin", role="admin",
                             password=PASSWORD, now=CLOCK)
        event_id = await db.scalar(select(Event.id).where(Event.slug == HAARLEM_SLUG))
        assert event_id is not None
        event = await programme.get_event(db, event_id)
        await make_supplier(db, event, "Ana Silva", "Fairlaptops BV (sample)", now=CLOCK)
        return event_id

    return live_server.arrange(arrange)


def test_the_consultation_pages_pass_axe(
    live_server: LiveServer, browser: Browser, screenshots: Path
) -> None:
    event_id = _arrange(live_server)
    base = live_server.base_url
    context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Amsterdam")
    context.set_default_timeout(10_000)
    page = context.new_page()

    page.goto(f"{base}/events/{HAARLEM_SLUG}")
    expect(page.get_by_role("heading", name="Market consultation")).to_be_visible()
    expect(page.locator("#market-consultation + dl")).to_contain_text("30213000-5 Personal computers")
    assert_no_axe_violations(page, context="public event page with its consultation")
    save_screenshot(page, screenshots / "consultation-1-public.png")

    sign_in(page, base, EMAIL, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming events")

    consultation = f"{base}/organiser/events/{event_id}/consultation"
    page.goto(consultation)
    assert_no_axe_violations(page, context="buyer profile")
    page.get_by_label("CPV codes").fill("30213000-9")
    page.get_by_role("button", name="Save the profile").click()
    expect(page.locator("#error-summary a")).to_have_text(
        ["30213000-9 has a wrong check digit: the code is 30213000-5."])
    assert_no_axe_violations(page, context="buyer profile with errors")
    save_screenshot(page, screenshots / "consultation-2-profile-errors.png")

    # From the profile form to the CPV finder, searched by words.
    page.get_by_role("link", name="Find CPV codes by the words of their labels").click()
    page.get_by_label("Words of the label, or the first digits").fill("portable computers")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table.data-table tbody td")).to_have_text(
        ["30213100-6", "Portable computers"])
    assert_no_axe_violations(page, context="CPV finder with results")
    save_screenshot(page, screenshots / "consultation-2-cpv-finder.png")

    # The day's check-in is the event's own page, within the consultation's navigation.
    for path, name in (("consultation/documents", "documents"),
                       ("consultation/questions", "questions"),
                       ("check-in", "check-in"), ("consultation/report", "report")):
        page.goto(f"{consultation.removesuffix('/consultation')}/{path}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_no_axe_violations(page, context=f"consultation {name}")
        save_screenshot(page, screenshots / f"consultation-3-{name}.png")

    # Printed for the procurement file: the report itself, without the back office around it.
    page.goto(f"{consultation}/report")
    page.emulate_media(media="print")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("nav.event-nav")).to_be_hidden()
    expect(page.locator("header.site-header")).to_be_hidden()
    page.emulate_media(media="screen")

    page.get_by_role("link", name="Check-in").click()
    page.get_by_role("button", name="Check in Ana Silva").click()
    expect(page.get_by_role("status")).to_have_text("Checked in.")
    assert_no_axe_violations(page, context="check-in after checking in")
    context.close()

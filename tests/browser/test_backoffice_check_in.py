"""The door of the demo's Zurich CityMatch study visit in a real browser, without
JavaScript: from the event's page to its check-in, a search, a check-in that keeps the
search, and a search that finds nobody. Each state is checked with axe-core (0 violations)
and screenshotted to test-artifacts/screenshots/ (check-in-*.png).
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
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import CLOCK, DESKTOP, LiveServer, save_screenshot, sign_in
from tests.factories import make_registration

pytestmark = pytest.mark.browser

EMAIL = "dora@procura.example.org"
PASSWORD = "lantern-quarry-velvet-29"
ZURICH = "citymatch-zurich-recycled-concrete"


def _arrange(live_server: LiveServer) -> int:
    """An editor's account and two registrants of the Zurich visit; the event's id."""

    async def arrange(db: AsyncSession) -> int:
        await create_account(db, email=EMAIL, name="Dora Door", role="admin",
                             password=PASSWORD, now=CLOCK)
        event_id = await db.scalar(select(Event.id).where(Event.slug == ZURICH))
        assert event_id is not None
        event = await programme.get_event(db, event_id)
        for name in ("Ana Silva", "Bruno Costa"):
            await make_registration(db, event, event.sessions[0], name, now=CLOCK,
                                    organisation="City of Lisbon")
        return event_id

    return live_server.arrange(arrange)


def test_people_are_checked_in_at_the_door(
    live_server: LiveServer, browser: Browser, screenshots: Path
) -> None:
    event_id = _arrange(live_server)
    base = live_server.base_url
    context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Zurich")
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, base, EMAIL, PASSWORD)

    page.goto(f"{base}/organiser/events/{event_id}")
    page.get_by_role("link", name="Check-in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Check-in for")
    expect(page.locator("main")).to_contain_text("0 of 2 checked in.")
    assert_no_axe_violations(page, context="check-in")
    save_screenshot(page, screenshots / "check-in-1-list.png")

    page.get_by_label("Find a registrant").fill("bruno")
    page.get_by_role("button", name="Find", exact=True).click()
    expect(page.locator("tbody th")).to_have_text(["Bruno Costa"])
    page.get_by_role("button", name="Check in Bruno Costa").click()
    expect(page.get_by_role("status")).to_have_text("Checked in.")
    expect(page.locator("tbody th")).to_have_text(["Bruno Costa"])
    expect(page.locator("main")).to_contain_text("1 of 2 checked in.")
    expect(page.get_by_role("button", name="Undo the check-in of Bruno Costa")).to_be_visible()
    assert_no_axe_violations(page, context="check-in after a search")
    save_screenshot(page, screenshots / "check-in-2-found.png")

    page.get_by_label("Find a registrant").fill("nobody at all")
    page.get_by_role("button", name="Find", exact=True).click()
    expect(page.locator("main")).to_contain_text("Nobody registered matches “nobody at all”.")
    assert_no_axe_violations(page, context="check-in, nobody found")
    page.get_by_role("link", name="Show everyone").click()
    expect(page.locator("tbody th")).to_have_text(["Ana Silva", "Bruno Costa"])
    context.close()

"""The one-to-one meeting pages of the demo's Haarlem dialogue in a real browser: the
schedule grid, Schedule all, the requests, hosts and grid editor (with a refused grid), at
desktop and phone width. axe-core finds no violation on any page state; screenshots go to
test-artifacts/screenshots/ (backoffice-meetings-*.png).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Event
from service.domain.accounts import create_account
from service.operations.demo import HAARLEM_SLUG
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import CLOCK, DESKTOP, PHONE, LiveServer, save_screenshot, sign_in

pytestmark = pytest.mark.browser

EMAIL = "grace@procura.example.org"
PASSWORD = "harbour-lantern-meadow-41"


def _arrange(live_server: LiveServer) -> int:
    async def arrange(db: AsyncSession) -> int:
        await create_account(db, email=EMAIL, name="Grace Organiser", role="admin",
                             password=PASSWORD, now=CLOCK)
        event_id = await db.scalar(select(Event.id).where(Event.slug == HAARLEM_SLUG))
        assert event_id is not None
        return event_id

    return live_server.arrange(arrange)


def test_the_haarlem_meetings_pages(live_server: LiveServer, browser: Browser, screenshots: Path) -> None:
    event_id = _arrange(live_server)
    base = live_server.base_url
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(viewport=viewport, timezone_id="Europe/Amsterdam")
        context.set_default_timeout(10_000)
        page = context.new_page()
        sign_in(page, base, EMAIL, PASSWORD)
        expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming events")

        page.goto(f"{base}/organiser/events/{event_id}/meetings")
        expect(page.get_by_role("heading", level=1)).to_contain_text("One-to-one meetings")
        expect(page.locator("table.meeting-grid strong")).to_have_count(5)
        assert_no_axe_violations(page, context=f"meetings schedule ({name})")
        save_screenshot(page, screenshots / f"backoffice-meetings-1-schedule-{name}.png")
        if name == "phone":
            context.close()
            continue
        page.get_by_role("button", name="Schedule all").click()
        expect(page.get_by_role("status")).to_contain_text("Schedule all has run")
        assert_no_axe_violations(page, context="meetings after Schedule all")

        page.get_by_role("link", name="Requests").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Meeting requests")
        assert_no_axe_violations(page, context="meeting requests")
        save_screenshot(page, screenshots / "backoffice-meetings-2-requests.png")

        page.get_by_role("link", name="Hosts and availability").click()
        expect(page.get_by_role("heading", level=2, name="Marieke Jansen (sample)")).to_be_visible()
        assert_no_axe_violations(page, context="meeting hosts")
        save_screenshot(page, screenshots / "backoffice-meetings-3-hosts.png")

        page.get_by_role("link", name="Grid").click()
        page.get_by_label("Meeting days").fill("2027-01-26 13:30-15:30\n2027-01-26 15:00-16:00")
        page.get_by_role("button", name="Save the grid").click()
        expect(page.locator("#error-summary")).to_be_focused()
        expect(page.locator("#error-summary a")).to_have_text(["Two days' times overlap."])
        assert_no_axe_violations(page, context="meeting grid with errors")
        save_screenshot(page, screenshots / "backoffice-meetings-4-grid-refused.png")

        page.goto(f"{base}/organiser/events/{event_id}/reminders")
        expect(page.get_by_role("heading", level=2, name="One-to-one meetings")).to_be_visible()
        assert_no_axe_violations(page, context="reminders with one-to-one meetings")
        save_screenshot(page, screenshots / "backoffice-meetings-5-reminders.png")
        context.close()

"""The Interest Groups' back office in a real browser, on the demo's groups: the list, a
group, a meeting series with its reminders (a refused row, then saved), one meeting, and a
new series form refused, and the group's texts in Italian, as readers then see them.
axe-core finds no violation on any page state; screenshots go to
test-artifacts/screenshots/ (backoffice-groups-*.png).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import MeetingSeries
from service.domain.accounts import create_account
from service.operations.demo_groups import load_demo_groups
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import CLOCK, DESKTOP, LiveServer, save_screenshot, sign_in

pytestmark = pytest.mark.browser

EMAIL = "fay@procura.example.org"
PASSWORD = "lantern-quarry-velvet-29"


def _arrange(live_server: LiveServer) -> tuple[int, int]:
    """An admin account and the demo's groups; the first series and its group."""

    async def arrange(db: AsyncSession) -> tuple[int, int]:
        await create_account(db, email=EMAIL, name="Fay Facilitator", role="admin",
                             password=PASSWORD, now=CLOCK)
        await load_demo_groups(db, now=CLOCK, settings=live_server.settings)
        series = await db.scalar(select(MeetingSeries).order_by(MeetingSeries.id))
        assert series is not None
        return series.id, series.group_id

    return live_server.arrange(arrange)


def test_the_group_pages_and_a_series_reminders_pass_axe(
    live_server: LiveServer, browser: Browser, screenshots: Path
) -> None:
    series_id, group_id = _arrange(live_server)
    base = live_server.base_url
    context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Brussels")
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, base, EMAIL, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming events")

    page.goto(f"{base}/organiser/groups")
    assert_no_axe_violations(page, context="groups")
    page.goto(f"{base}/organiser/groups/{group_id}")
    assert_no_axe_violations(page, context="one group")
    page.get_by_role("link", name="Personal data").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Personal data of")
    assert_no_axe_violations(page, context="a group's personal data")

    page.goto(f"{base}/organiser/meeting-series/{series_id}")
    expect(page.get_by_role("heading", level=2, name="Reminders")).to_be_visible()
    page.get_by_label("Our own times, below").check()
    page.get_by_label("Reminder 1", exact=True).fill("2")
    page.get_by_label("Reminder 2", exact=True).fill("soon")
    page.get_by_role("button", name="Save the reminders").click()
    expect(page.locator("#error-summary a")).to_have_text(["Write a whole number, such as 1 or 24."])
    assert_no_axe_violations(page, context="series reminders refused")
    page.get_by_label("Reminder 2", exact=True).fill("")
    page.get_by_role("button", name="Save the reminders").click()
    expect(page.get_by_role("status")).to_contain_text("The reminders are saved")
    expect(page.locator("main")).to_contain_text("Members are reminded 2 days before each meeting")
    assert_no_axe_violations(page, context="series with its own reminders")
    save_screenshot(page, screenshots / "backoffice-groups-1-series.png")

    page.locator("table.data-table tbody a").first.click()
    expect(page.get_by_role("button", name="Cancel this and all following meetings")).to_be_visible()
    assert_no_axe_violations(page, context="one meeting of the series")
    save_screenshot(page, screenshots / "backoffice-groups-2-meeting.png")

    page.goto(f"{base}/organiser/groups/{group_id}/series/new")
    page.get_by_role("button", name="Add the series and invite the members").click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert_no_axe_violations(page, context="new series refused")
    save_screenshot(page, screenshots / "backoffice-groups-3-new-series.png")

    # Minutes: the form says where they are translated; a refused one names both fields.
    page.goto(f"{base}/organiser/meeting-series/{series_id}/minutes")
    expect(page.get_by_role("link", name="Translations")).to_have_attribute(
        "href", f"/organiser/groups/{group_id}/translations")
    assert_no_axe_violations(page, context="a series' minutes")
    page.get_by_role("button", name="Publish and email the members").click()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#error-summary a")).to_have_count(2)
    assert_no_axe_violations(page, context="minutes refused")

    # The group's texts in Italian: a refused topic (the error summary takes the focus), then saved.
    page.goto(f"{base}/organiser/groups/{group_id}")
    page.get_by_role("link", name="Translations").click()
    # Topic, summary, description, the series' title and agenda, one meeting's own agenda.
    page.get_by_role("link", name="Italiano (0/6 translated)").click()
    expect(page.get_by_role("heading", level=2, name="Texts in Italiano")).to_be_visible()
    expect(page.get_by_label(re.compile(r"^Agenda of the meeting on \w+ \d+ \w+ \d{4}"))
           ).to_be_visible()
    assert_no_axe_violations(page, context="a group's translations")
    topic = page.locator("#topic")
    topic.evaluate("field => field.removeAttribute('maxlength')")  # as a script could send
    topic.fill("x" * 301)
    page.get_by_role("button", name="Save the texts in Italiano").click()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#error-summary a")).to_have_text(["At most 300 characters."])
    assert_no_axe_violations(page, context="a group's translations refused")
    page.locator("#topic").fill("Appalti pubblici di TIC socialmente responsabili")
    page.get_by_role("button", name="Save the texts in Italiano").click()
    expect(page.get_by_role("status")).to_have_text("The translations are saved.")
    save_screenshot(page, screenshots / "backoffice-groups-4-translations.png")

    # Readers: Italian topic with the English summary marked; the demo's German texts.
    page.goto(f"{base}/groups/socially-responsible-ict?lang=it")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Appalti pubblici di TIC socialmente responsabili")
    expect(page.locator("p.lead")).to_have_attribute("lang", "en")
    assert_no_axe_violations(page, context="a group page in Italian")
    page.goto(f"{base}/groups?lang=de")
    expect(page.get_by_role("heading", level=2, name="Zirkuläre Beschaffung")).to_be_visible()
    assert_no_axe_violations(page, context="the groups in German")
    context.close()

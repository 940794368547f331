"""The back office's people, speakers, calendars and dashboard pages in a real browser: an
organiser signs in, finds and edits people, previews a merge, copies a speaker's link,
opens the "new link" confirmation and the calendars; axe-core finds no violation on any page
state, at desktop and phone widths. Screenshots land in test-artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from service.db.engine import create_engine, make_sessionmaker
from service.domain.accounts import create_account, default_team_id
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import DESKTOP, PHONE, LiveServer, save_screenshot, sign_in
from tests.databases import run_off_loop

pytestmark = pytest.mark.browser

EMAIL = "olga@procura.example.org"
PASSWORD = "lantern-quarry-velvet-29"


def _make_organiser(live_server: LiveServer) -> None:
    async def make() -> None:
        engine = create_engine(live_server.settings.database_url)
        async with make_sessionmaker(engine)() as db, db.begin():
            team = await default_team_id(db)
            await create_account(db, email=EMAIL, name="Olga Organiser", role="organiser",
                                 password=PASSWORD, team_ids=[team] if team else [],
                                 now=datetime.now(UTC))
        await engine.dispose()

    run_off_loop(lambda: asyncio.run(make()))


def _sign_in(browser: Browser, live_server: LiveServer, *, phone: bool = False) -> Page:
    context = browser.new_context(viewport=PHONE if phone else DESKTOP,
                                  timezone_id="Europe/Brussels")
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, live_server.base_url, EMAIL, PASSWORD)
    expect(page.get_by_role("heading", name="Upcoming events")).to_be_visible()
    return page


def _check(page: Page, screenshots: Path, name: str) -> None:
    save_screenshot(page, screenshots / f"backoffice-{name}.png")
    assert_no_axe_violations(page, context=name)


def test_people_speakers_calendars_and_dashboard_pages(
    live_server: LiveServer, browser: Browser, screenshots: Path,
) -> None:
    _make_organiser(live_server)
    page = _sign_in(browser, live_server)
    _check(page, screenshots, "dashboard")

    page.get_by_role("navigation", name="Back office").get_by_role("link", name="People").click()
    page.get_by_label("Search by name, email or organisation").fill("carla")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Carla Canal")).to_be_visible()
    _check(page, screenshots, "people-search")

    page.get_by_role("link", name="Carla Canal").click()
    page.get_by_label("Email address").fill("not an address")
    page.get_by_label("Name", exact=True).fill("")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#error-summary").get_by_role("link")).to_have_count(2)
    _check(page, screenshots, "person-errors")

    page.goto(page.url.split("?")[0] + "/merge?q=barcelona")
    _check(page, screenshots, "person-merge-search")

    page.goto(f"{live_server.base_url}/organiser/organisations/new")
    page.get_by_role("button", name="Add the organisation").click()
    _check(page, screenshots, "organisation-errors")

    page.goto(f"{live_server.base_url}/organiser/")
    page.get_by_role("link", name="Speakers of Procura+ webinar series").first.click()
    _check(page, screenshots, "speakers-without-links")
    page.locator("a", has_text="Make a link").first.click()
    _check(page, screenshots, "speaker-first-link")
    page.get_by_role("button", name="Make the link").click()
    expect(page.get_by_role("status")).to_contain_text("has a private link now")
    link_box = page.locator(".copy-field").first
    expect(link_box).to_have_attribute("readonly", "")
    first_link = link_box.input_value()
    assert first_link.startswith(f"{live_server.base_url}/speakers/")
    _check(page, screenshots, "speakers")
    page.reload()
    assert page.locator(".copy-field").first.input_value() == first_link

    page.locator("a", has_text="Issue a new link").first.click()
    expect(page.get_by_role("button", name="Replace the link")).to_be_visible()
    _check(page, screenshots, "speaker-new-link")
    page.get_by_role("link", name="Keep the current link").click()
    assert page.locator(".copy-field").first.input_value() == first_link

    page.get_by_role("link", name="Calendars").click()
    expect(page.get_by_label("The whole programme")).to_have_value(
        f"{live_server.base_url}/feeds/programme.ics")
    _check(page, screenshots, "calendars")
    page.context.close()

    phone = _sign_in(browser, live_server, phone=True)
    _check(phone, screenshots, "dashboard-phone")
    phone.goto(f"{live_server.base_url}/organiser/people")
    _check(phone, screenshots, "people-phone")
    phone.context.close()

"""Registrations imported from a spreadsheet, in a real browser: from the event's
registrations an organiser opens "Import from a spreadsheet", sends a file with an
unreadable address without ticking the consent box (the error summary takes the focus; the
problem is listed by line and column), then a good file: the page lists the two people, and
"Import 2 registrations" registers them, which the page then says. axe-core finds no
violation on any state."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Event
from service.domain.accounts import create_account
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import CLOCK, LiveServer, desktop_page, save_screenshot, sign_in

pytestmark = pytest.mark.browser

EMAIL = "ines.import@procura.example.org"
PASSWORD = "lantern-harbour-quartz-52"
SLUG = "circular-ict-webinar-series-2027"
HEADER = "name;email;organisation;country;language\n"


def test_an_organiser_imports_two_people_from_a_spreadsheet(
    live_server: LiveServer, browser: Browser, screenshots: Path, tmp_path: Path,
) -> None:
    async def arrange(db: AsyncSession) -> int:
        await create_account(db, email=EMAIL, name="Ines Import", role="admin",
                             password=PASSWORD, now=CLOCK)
        event_id = await db.scalar(select(Event.id).where(Event.slug == SLUG))
        assert event_id is not None
        return event_id

    refused = tmp_path / "delegation-draft.csv"
    refused.write_text(HEADER + "Ilse Jansen;ilse.jansen@;Gemeente Utrecht;NL;nl\n",
                       encoding="utf-8")
    ready = tmp_path / "delegation.csv"
    ready.write_text(HEADER + "Ilse Jansen;ilse.jansen@utrecht.example.nl;Gemeente Utrecht;NL;nl\n"
                     "Pieter Bos;pieter.bos@utrecht.example.nl;Gemeente Utrecht;NL;\n",
                     encoding="utf-8")
    event_id = live_server.arrange(arrange)
    context, page = desktop_page(browser, "Europe/Brussels")
    base = live_server.base_url
    sign_in(page, base, EMAIL, PASSWORD)
    page.goto(f"{base}/organiser/events/{event_id}/registrations")
    page.get_by_role("link", name="Import from a spreadsheet").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Import registrations")
    expect(page.get_by_role("link", name="Download a file to start from")).to_have_attribute(
        "href", f"/organiser/events/{event_id}/registrations/import/example.csv")
    assert_no_axe_violations(page, context="import, the file to choose")
    page.get_by_label("CSV file").set_input_files(refused)
    page.get_by_role("button", name="Check the file").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Tick the box once the people in the file have agreed")
    page.get_by_label("CSV file").set_input_files(refused)
    page.get_by_label("The people in the file agreed").check()
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#error-summary")).to_contain_text("The file has a problem")
    problem = page.get_by_role("table", name="Problems in the file").locator("tbody tr")
    expect(problem).to_have_count(1)
    expect(problem).to_contain_text("email")
    assert_no_axe_violations(page, context="import, a problem in the file")
    page.get_by_label("CSV file").set_input_files(ready)
    page.get_by_label("The people in the file agreed").check()
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", level=2).first).to_contain_text(
        "The file is ready: 2 people to register")
    expect(page.get_by_role("table")).to_contain_text("Pieter Bos")
    assert_no_axe_violations(page, context="import, the people to register")
    save_screenshot(page, screenshots / "backoffice-registration-import.png")
    page.get_by_role("button", name="Import 2 registrations").click()
    expect(page.get_by_role("status")).to_contain_text("2 people are registered with a place.")
    assert_no_axe_violations(page, context="import, done")
    page.get_by_role("link", name="See the registrations").click()
    expect(page.get_by_role("main")).to_contain_text("Ilse Jansen")
    context.close()

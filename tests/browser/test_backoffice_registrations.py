"""An organiser works through the Make ICT Fair registrations in a real browser, with and
without JavaScript: filters and searches the list, approves two applications with a
message (and its German version), is told when nothing was ticked, promotes someone off
the waiting list, corrects a registrant's details and cancels a registration on their
behalf; at desktop and phone width. axe-core checks every page state; a screenshot of each is saved.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect
from sqlalchemy import select

from service.db.engine import create_engine, make_sessionmaker, session_scope
from service.db.models import Event, Registration, RegistrationStatus
from service.domain.accounts import create_account, default_team_id
from service.operations.demo import MAKE_ICT_FAIR_SLUG
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import DESKTOP, PHONE, LiveServer, save_screenshot, sign_in
from tests.databases import run_off_loop

pytestmark = pytest.mark.browser

EMAIL = "rita@procura.example.org"
PASSWORD = "harbour-juniper-copper-58"
PEOPLE = [  # name, organisation, status
    ("Ana Silva", "Câmara Municipal de Lisboa", RegistrationStatus.CONFIRMED),
    ("Björn Åberg", "Malmö stad", RegistrationStatus.CONFIRMED),
    ("Carla Pending", "Ajuntament de Barcelona", RegistrationStatus.PENDING),
    ("Dirk Pending", "Stadt Bonn", RegistrationStatus.PENDING),
    ("Wim Wouters", "Stad Gent", RegistrationStatus.WAITING),
]


@pytest.fixture(scope="module")
def event_id(live_server: LiveServer) -> int:
    """The demo's Make ICT Fair series with a few registrations, and an organiser account."""
    found: list[int] = []

    async def arrange() -> None:
        engine = create_engine(live_server.settings.database_url)
        now = datetime.now(UTC)
        try:
            async with session_scope(make_sessionmaker(engine)) as db:
                team = await default_team_id(db)
                await create_account(db, email=EMAIL, name="Rita Organiser", role="organiser",
                                     password=PASSWORD, team_ids=[team] if team else [], now=now)
                event = await db.scalar(select(Event).where(Event.slug == MAKE_ICT_FAIR_SLUG))
                assert event is not None
                for minute, (name, organisation, status) in enumerate(PEOPLE):
                    at = now - timedelta(hours=1) + timedelta(minutes=minute)
                    address = f"{name.split()[0].lower()}@example.org"
                    db.add(Registration(
                        event_id=event.id, status=status, name=name, email=address,
                        email_normalised=address, organisation_name=organisation,
                        consent_at=at, created_at=at, updated_at=at,
                        waiting_since=at if status == RegistrationStatus.WAITING else None))
                found.append(event.id)
        finally:
            await engine.dispose()

    run_off_loop(lambda: asyncio.run(arrange()))
    return found[0]


def _signed_in(browser: Browser, live_server: LiveServer, *, javascript: bool,
               viewport: ViewportSize = DESKTOP) -> Page:
    context = browser.new_context(viewport=viewport, timezone_id="Europe/Brussels",
                                  java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, live_server.base_url, EMAIL, PASSWORD)
    expect(page).to_have_url(f"{live_server.base_url}/organiser/")
    return page


def _check(page: Page, screenshots: Path, name: str) -> None:
    """axe-core finds nothing, and the state is kept as a screenshot."""
    assert_no_axe_violations(page, context=name)
    save_screenshot(page, screenshots / f"backoffice-registrations-{name}.png")


def _name_cells(page: Page) -> Locator:
    return page.locator("table.registrations-table tbody tr td:nth-child(2)")


def _names(page: Page) -> list[str]:
    return _name_cells(page).all_inner_texts()


def _expect_names(page: Page, names: list[str]) -> None:
    """The list shows these people, once the page or the live filter has answered."""
    if names:
        expect(_name_cells(page)).to_have_text(names)
    else:
        expect(_name_cells(page)).to_have_count(0)


def test_an_organiser_works_through_the_registrations(
    live_server: LiveServer, browser: Browser, event_id: int, screenshots: Path,
) -> None:
    page = _signed_in(browser, live_server, javascript=True)
    base = f"{live_server.base_url}/organiser/events/{event_id}/registrations"
    page.goto(base)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Registrations")
    _expect_names(page, [name for name, _, _ in PEOPLE])
    _check(page, screenshots, "list")

    page.get_by_label("Search").fill("MALMÖ")
    page.get_by_role("button", name="Show").click()
    _expect_names(page, ["Björn Åberg"])
    expect(page).to_have_url(f"{base}?status=&session=&q=MALM%C3%96")  # empty: not filtered
    _check(page, screenshots, "search")

    page.get_by_label("Status").select_option("pending")
    page.get_by_label("Search").fill("")
    page.get_by_role("button", name="Show").click()
    _expect_names(page, ["Carla Pending", "Dirk Pending"])
    page.get_by_role("button", name="Approve ticked").click()  # nothing ticked
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_text(["Tick at least one registration first."])
    _check(page, screenshots, "nothing-ticked")

    page.get_by_label("Select Carla Pending").check()
    page.get_by_label("Select Dirk Pending").check()
    page.get_by_label("Message to include in each email").fill("Lunch is at 12:30.")
    page.get_by_text("The same message in other languages").click()
    page.get_by_label("Message in Deutsch").fill("Mittagessen um 12:30 Uhr.")
    _check(page, screenshots, "message-in-languages")
    page.get_by_role("button", name="Approve ticked").click()
    expect(page.get_by_role("status")).to_have_text(
        "Approved 2: Carla Pending, Dirk Pending.")
    _expect_names(page, [])  # the same filter: nobody is pending any more
    _check(page, screenshots, "approved")

    page.get_by_role("link", name="Waiting list").click()
    expect(page.locator("#waiting-1, tbody tr")).to_have_count(1)
    _check(page, screenshots, "waiting-list")
    page.get_by_role("button", name="Promote Wim Wouters").click()
    expect(page.get_by_role("status")).to_have_text(
        "Wim Wouters has a place now and is being emailed the invite.")
    _check(page, screenshots, "promoted")

    page.get_by_role("link", name="All registrations").click()
    page.get_by_role("link", name="Ana Silva").click()
    page.get_by_label("Full name").fill("")
    page.get_by_label("Job title").fill("x" * 200)
    page.get_by_role("button", name="Save the details").click()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.get_by_label("Job title")).to_have_value("x" * 200)
    _check(page, screenshots, "details-refused")
    page.get_by_label("Full name").fill("Ana Sofia Silva")
    page.get_by_role("button", name="Save the details").click()
    expect(page.get_by_role("status")).to_have_text("The details are saved.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ana Sofia Silva")
    _check(page, screenshots, "details-saved")

    page.get_by_role("link", name=re.compile("Cancel on Ana Sofia Silva")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Cancel Ana Sofia Silva’s registration?")
    _check(page, screenshots, "cancel-confirmation")
    page.get_by_role("button", name="Yes, cancel the registration").click()
    expect(page.get_by_role("status")).to_contain_text("The registration is cancelled")
    _check(page, screenshots, "cancelled")
    page.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_list_works_without_javascript_and_at_phone_width(
    live_server: LiveServer, browser: Browser, event_id: int, screenshots: Path,
    viewport: ViewportSize,
) -> None:
    page = _signed_in(browser, live_server, javascript=False, viewport=viewport)
    base = f"{live_server.base_url}/organiser/events/{event_id}/registrations"
    page.goto(base)

    page.get_by_role("link", name=re.compile(r"^Name ?, sort ascending$")).click()
    expect(page).to_have_url(f"{base}?sort=name")
    names = _names(page)
    assert names == sorted(names, key=str.lower)
    page.get_by_role("link", name=re.compile(r"^Name ?, sort descending$")).click()
    _expect_names(page, list(reversed(names)))
    width = "phone" if viewport == PHONE else "desktop"
    _check(page, screenshots, f"sorted-without-script-{width}")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= viewport["width"]
    page.context.close()


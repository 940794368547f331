"""The door of the demo's Zurich CityMatch study visit in a real browser, without
JavaScript: from the event's page to its check-in, a search, a check-in that keeps the
search, a search that finds nobody and someone registered at the door then checked in; and
the demo seminar's two days, each with its own list, and the second day's attendance sheet
and name badges (printed too), its figures and the year's. The visit is full: a place is
added for whoever registers at the door. Once the visit is over, who came prints their
certificate of attendance. Each state is checked with axe-core (0 violations) and
screenshotted to
test-artifacts/screenshots/ (check-in-*.png, certificate-*.png).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import AccessPurpose, Enrolment, EnrolmentStatus, Event
from service.domain import programme, registration
from service.domain.access import current_access_token
from service.domain.accounts import create_account
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import CLOCK, LiveServer, desktop_page, save_screenshot, sign_in
from tests.factories import make_registration

pytestmark = pytest.mark.browser

EMAIL = "dora@procura.example.org"
PASSWORD = "lantern-quarry-velvet-29"
ZURICH = "citymatch-zurich-recycled-concrete"


def _arrange(live_server: LiveServer) -> int:
    """An editor's account and two registrants of the Zurich visit, who fill it (its limit
    lowered to two); the event's id."""

    async def arrange(db: AsyncSession) -> int:
        await create_account(db, email=EMAIL, name="Dora Door", role="admin",
                             password=PASSWORD, now=CLOCK)
        event_id = await db.scalar(select(Event.id).where(Event.slug == ZURICH))
        assert event_id is not None
        event = await programme.get_event(db, event_id)
        for name in ("Ana Silva", "Bruno Costa"):
            await make_registration(db, event, event.sessions[0], name, now=CLOCK,
                                    organisation="City of Lisbon")
        event.capacity = 2
        return event_id

    return live_server.arrange(arrange)


def test_people_are_checked_in_at_the_door(
    live_server: LiveServer, browser: Browser, screenshots: Path
) -> None:
    event_id = _arrange(live_server)
    base = live_server.base_url
    context, page = desktop_page(browser, "Europe/Zurich")
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

    # Carla came without registering: registered at the door, then checked in.
    page.get_by_label("Find a registrant").fill("Carla")
    page.get_by_role("button", name="Find", exact=True).click()
    page.get_by_role("link", name="Register them").click()
    expect(page.get_by_label("Full name")).to_have_value("Carla")  # as searched for
    # The visit is full: at the door, a place is added for her unless the organiser says no.
    expect(page.get_by_role("group", name="Places")).to_contain_text(
        "The event: all 2 places are taken.")
    expect(page.get_by_label("Add a place for them where all are taken")).to_be_checked()
    page.get_by_label("Full name").fill("Carla Canal")
    page.get_by_label("Email address").fill("carla.canal@bcn.example.es")
    page.get_by_role("button", name="Register and check in").click()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#error-summary")).to_contain_text("Tick the box")
    assert_no_axe_violations(page, context="register someone, refused")
    save_screenshot(page, screenshots / "check-in-3-registering-at-the-door.png")
    page.get_by_label("They agreed").check()
    page.get_by_role("button", name="Register and check in").click()
    # Back at the door, checked in.
    expect(page.get_by_role("status")).to_have_text("Checked in.")
    expect(page.locator("main")).to_contain_text("2 of 3 checked in.")
    expect(page.get_by_role("button", name="Undo the check-in of Carla Canal")).to_be_visible()
    assert_no_axe_violations(page, context="registered and checked in at the door")
    context.close()


SEMINAR = "procura-plus-seminar-2027"
HAARLEM = "meet-your-buyer-haarlem-fair-circular-ict"


def _event_id(slug: str) -> Callable[[AsyncSession], Awaitable[int]]:
    async def find(db: AsyncSession) -> int:
        event_id = await db.scalar(select(Event.id).where(Event.slug == slug))
        assert event_id is not None
        return event_id

    return find
SEMINAR_DOOR = "sem@procura.example.org"


def test_each_day_of_the_seminar_has_its_own_door(
    live_server: LiveServer, browser: Browser, screenshots: Path
) -> None:
    async def arrange(db: AsyncSession) -> int:
        await create_account(db, email=SEMINAR_DOOR, name="Sem Door", role="admin",
                             password=PASSWORD, now=CLOCK)
        event_id = await db.scalar(select(Event.id).where(Event.slug == SEMINAR))
        assert event_id is not None
        event = await programme.get_event(db, event_id)
        day_1, day_2 = sorted(event.sessions, key=lambda s: s.starts_at)
        ana = await make_registration(db, event, day_1, "Ana Silva", now=CLOCK)
        db.add(Enrolment(registration_id=ana.id, session_id=day_2.id, created_at=CLOCK,
                         updated_at=CLOCK, status=EnrolmentStatus.CONFIRMED))
        await make_registration(db, event, day_2, "Bruno Costa", now=CLOCK)
        return event_id

    event_id = live_server.arrange(arrange)
    base = live_server.base_url
    context, page = desktop_page(browser, "Europe/Brussels")
    sign_in(page, base, SEMINAR_DOOR, PASSWORD)

    # Before the seminar, the first day's door opens first.
    page.goto(f"{base}/organiser/events/{event_id}/check-in")
    sessions = page.get_by_role("navigation", name="Sessions")
    expect(sessions.get_by_role("link")).to_have_count(2)
    expect(page.get_by_role("heading", level=2)).to_contain_text("Day 1")
    expect(page.locator("tbody th")).to_have_text(["Ana Silva"])
    assert_no_axe_violations(page, context="seminar check-in, day 1")

    sessions.get_by_role("link", name="Day 2").click()
    expect(page.get_by_role("heading", level=2)).to_contain_text("Day 2")
    expect(page.locator("tbody th")).to_have_text(["Ana Silva", "Bruno Costa"])
    page.get_by_role("button", name="Check in Bruno Costa").click()
    expect(page.get_by_role("status")).to_have_text("Checked in.")
    expect(page.get_by_role("heading", level=2)).to_contain_text("Day 2")
    expect(page.locator("main")).to_contain_text("1 of 2 checked in.")
    expect(sessions.get_by_role("link", name="Day 2")).to_have_attribute("aria-current", "page")
    assert_no_axe_violations(page, context="seminar check-in, day 2")
    save_screenshot(page, screenshots / "check-in-4-second-day.png")

    # What is printed for the second day's door: its attendance sheet, then its badges.
    page.get_by_role("link", name="the attendance sheet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Attendance sheet")
    expect(page.locator("tbody th")).to_have_text(["Ana Silva", "Bruno Costa"])
    assert_no_axe_violations(page, context="attendance sheet")
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    save_screenshot(page, screenshots / "check-in-5-attendance-sheet-printed.png")
    page.emulate_media(media="screen")
    page.go_back()
    page.get_by_role("link", name="name badges").click()
    expect(page.locator(".badge-name")).to_have_text(["Ana Silva", "Bruno Costa"])
    assert_no_axe_violations(page, context="name badges")
    page.emulate_media(media="print")
    expect(page.get_by_role("heading", level=1)).to_be_hidden()
    save_screenshot(page, screenshots / "check-in-6-name-badges-printed.png")
    page.emulate_media(media="screen")

    # The seminar's figures: Bruno came on day 2.
    page.goto(f"{base}/organiser/events/{event_id}")
    page.get_by_role("link", name="Figures", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Figures for")
    expect(page.locator("main")).to_contain_text("came: 1")
    assert_no_axe_violations(page, context="an event's figures")
    save_screenshot(page, screenshots / "check-in-7-figures.png")
    # The year's programme (the clock's year: the Make ICT Fair webinars), then 2027's.
    page.goto(f"{base}/organiser/")
    page.get_by_role("link", name="This year's programme in figures").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Figures of 2020")
    assert_no_axe_violations(page, context="a year's figures")
    page.goto(f"{base}/organiser/figures?year=2027")
    expect(page.get_by_role("link", name="Procura+ Seminar 2027 (sample)")).to_be_visible()

    # Registering someone for a dialogue asks their role first.
    haarlem = live_server.arrange(_event_id(HAARLEM))
    page.goto(f"{base}/organiser/events/{haarlem}/registrations/new")
    expect(page.get_by_role("radio", name="Supplier")).to_be_visible()
    expect(page.get_by_label("Sector")).to_be_visible()
    assert_no_axe_violations(page, context="register someone for a dialogue")
    context.close()


def test_who_came_prints_their_certificate_of_attendance(
    live_server: LiveServer, browser: Browser, screenshots: Path
) -> None:
    """The Zurich study visit is over: Elena, checked in at its door, opens her certificate
    of attendance from her private page, and prints it."""

    async def arrange(db: AsyncSession) -> tuple[str, datetime]:
        event_id = await _event_id(ZURICH)(db)
        event = await programme.get_event(db, event_id)
        visit = event.sessions[0]
        elena = await make_registration(db, event, visit, "Elena Certificate", now=CLOCK,
                                        email_address="elena@madrid.example.es",
                                        organisation="Ayuntamiento de Madrid")
        await registration.check_in(db, event, elena.id, session_id=visit.id, present=True,
                                    now=CLOCK)
        token = await current_access_token(
            db, AccessPurpose.REGISTRATION_MANAGE, secret_key=live_server.settings.secret_key,
            now=CLOCK, registration_id=elena.id)
        return token, visit.ends_at

    token, visit_ends = live_server.arrange(arrange)
    context, page = desktop_page(browser, "Europe/Madrid")
    with time_machine.travel(visit_ends + timedelta(days=1), tick=True):
        page.goto(f"{live_server.base_url}/registrations/{token}")
        page.get_by_role("link", name="Your certificate of attendance").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Certificate of attendance")
        expect(page.locator(".certificate-name")).to_have_text("Elena Certificate")
        expect(page.locator(".certificate-sessions tbody tr")).to_have_count(1)
        assert_no_axe_violations(page, context="certificate of attendance")
        page.emulate_media(media="print")
        expect(page.locator(".print-hint")).to_be_hidden()
        save_screenshot(page, screenshots / "certificate-of-attendance-printed.png")
        # Whoever Elena shows it to checks it through the link printed on it.
        page.emulate_media(media="screen")
        page.goto(page.locator(".certificate-check-url").inner_text())
        expect(page.locator(".certificate-checked")).to_contain_text(
            "This certificate is genuine")
        expect(page.locator(".certificate-name")).to_have_text("Elena Certificate")
        assert_no_axe_violations(page, context="certificate as checked")
    context.close()

"""The personal data pages in a real browser: a registrant erases their registration from
their private page (the explanation, the button, the answer, the dead link), and an
administrator reads an event's retention dates and sets its own period (refused, then
saved), then erases a former organiser's disabled account, and publishes the privacy
notice with a German text (refused first for a text in its own language). axe-core finds no
violation on any page state; screenshots go to
test-artifacts/screenshots/ (privacy-*.png).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.engine import create_engine, make_sessionmaker
from service.db.models import AccessPurpose, Event
from service.domain import programme
from service.domain.access import current_access_token
from service.domain.accounts import create_account, find_account_by_email
from service.operations.demo import MAKE_ICT_FAIR_SLUG
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import CLOCK, DESKTOP, LiveServer, save_screenshot, sign_in
from tests.databases import run_off_loop
from tests.factories import make_registration

pytestmark = pytest.mark.browser

EMAIL = "ada@procura.example.org"
PASSWORD = "lantern-quarry-velvet-29"


async def _admin(db: AsyncSession) -> None:
    """The administrator who signs in (made by whichever test runs first)."""
    if await find_account_by_email(db, EMAIL) is None:
        await create_account(db, email=EMAIL, name="Ada Admin", role="admin",
                             password=PASSWORD, now=CLOCK)


def _arrange(live_server: LiveServer) -> tuple[int, str]:
    """An admin account and one registrant with a place; the event's id and their link."""

    async def arrange() -> tuple[int, str]:
        engine = create_engine(live_server.settings.database_url)
        try:
            async with make_sessionmaker(engine)() as db:
                await _admin(db)
                event_id = await db.scalar(
                    select(Event.id).where(Event.slug == MAKE_ICT_FAIR_SLUG))
                assert event_id is not None
                event = await programme.get_event(db, event_id)
                first = min(event.sessions, key=lambda s: s.starts_at)
                registration = await make_registration(
                    db, event, first, "Ana Novak", now=CLOCK,
                    email_address="ana.novak@ljubljana.example.org")
                token = await current_access_token(
                    db, AccessPurpose.REGISTRATION_MANAGE,
                    secret_key=live_server.settings.secret_key, now=CLOCK,
                    registration_id=registration.id)
                await db.commit()
                return event_id, token
        finally:
            await engine.dispose()

    found: list[tuple[int, str]] = []
    run_off_loop(lambda: found.append(asyncio.run(arrange())))
    return found[0]


def test_a_registrant_erases_and_an_organiser_reads_the_retention_dates(
    live_server: LiveServer, browser: Browser, screenshots: Path
) -> None:
    event_id, token = _arrange(live_server)
    base = live_server.base_url
    context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Brussels")
    context.set_default_timeout(10_000)
    page = context.new_page()

    page.goto(f"{base}/registrations/{token}")
    page.get_by_role("link", name="Erase my registration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Erase your registration?")
    assert_no_axe_violations(page, context="erase confirmation")
    save_screenshot(page, screenshots / "privacy-1-erase.png")
    page.get_by_role("button", name="Yes, erase my registration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registration erased")
    expect(page.get_by_role("status")).to_contain_text("has been erased")
    assert_no_axe_violations(page, context="erased")
    response = page.goto(f"{base}/registrations/{token}")
    assert response is not None and response.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("Registration erased")
    assert_no_axe_violations(page, context="dead link")

    sign_in(page, base, EMAIL, PASSWORD)
    page.goto(f"{base}/organiser/events/{event_id}")
    page.get_by_role("link", name="Personal data").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Personal data of Procura+ webinar series on socially responsible ICT procurement")
    assert_no_axe_violations(page, context="personal data page")
    save_screenshot(page, screenshots / "privacy-2-personal-data.png")
    field = page.get_by_label("Months to keep registrants' data after the event")
    field.fill("two")
    page.get_by_role("button", name="Save the period").click()
    expect(page.locator("#error-summary")).to_be_focused()
    assert_no_axe_violations(page, context="retention period refused")
    page.get_by_label("Months to keep registrants' data after the event").fill("6")
    page.get_by_role("button", name="Save the period").click()
    expect(page.get_by_role("status")).to_have_text("The retention period is saved.")
    assert_no_axe_violations(page, context="retention period saved")
    save_screenshot(page, screenshots / "privacy-3-saved.png")
    context.close()


def test_an_admin_erases_a_former_organisers_account(
    live_server: LiveServer, browser: Browser, screenshots: Path
) -> None:
    async def arrange() -> int:
        engine = create_engine(live_server.settings.database_url)
        try:
            async with make_sessionmaker(engine)() as db:
                await _admin(db)
                former = await create_account(db, email="otto@procura.example.org",
                                              name="Otto Leaving", role="organiser",
                                              password=PASSWORD, now=CLOCK)
                former.disabled_at = CLOCK
                await db.commit()
                return former.id
        finally:
            await engine.dispose()

    found: list[int] = []
    run_off_loop(lambda: found.append(asyncio.run(arrange())))
    base = live_server.base_url
    context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Brussels",
                                  java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, base, EMAIL, PASSWORD)

    page.goto(f"{base}/organiser/accounts/{found[0]}")
    assert_no_axe_violations(page, context="a disabled account")
    page.get_by_role("link", name="Erase this account's personal data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Erase the personal data of Otto Leaving?")
    assert_no_axe_violations(page, context="account erasure confirmation")
    save_screenshot(page, screenshots / "privacy-4-account-erase.png")
    page.get_by_role("button", name="Yes, erase the personal data").click()
    expect(page.get_by_role("status")).to_have_text("The account's personal data is erased.")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Former account #{found[0]}")
    assert_no_axe_violations(page, context="account erased")
    context.close()


def test_an_admin_publishes_the_notice_in_two_languages(
    live_server: LiveServer, browser: Browser, screenshots: Path
) -> None:
    async def arrange() -> None:
        engine = create_engine(live_server.settings.database_url)
        try:
            async with make_sessionmaker(engine)() as db:
                await _admin(db)
                await db.commit()
        finally:
            await engine.dispose()

    run_off_loop(lambda: asyncio.run(arrange()))
    base = live_server.base_url
    context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Brussels")
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, base, EMAIL, PASSWORD)

    page.goto(f"{base}/organiser/privacy")
    assert_no_axe_violations(page, context="privacy notice editor")
    page.get_by_label("Text of the notice").fill("Who we are\nThe Procura+ Network.")
    page.get_by_label("Language of the text").select_option("en")
    page.get_by_label("English", exact=True).fill("Who we are")
    page.get_by_label("Deutsch", exact=True).fill("Wer wir sind\nDas Procura+ Netzwerk.")
    page.get_by_role("button", name="Publish as a new version").click()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#error-summary a")).to_have_text(
        ["This is the language of the notice's text: leave this empty."])
    assert_no_axe_violations(page, context="privacy notice refused")
    page.get_by_label("English", exact=True).fill("")
    page.get_by_role("button", name="Publish as a new version").click()
    expect(page.get_by_role("status")).to_contain_text("The new version of the privacy notice")
    save_screenshot(page, screenshots / "privacy-5-notice-languages.png")

    page.goto(f"{base}/privacy?lang=de")
    expect(page.get_by_role("heading", level=2, name="Wer wir sind")).to_be_visible()
    assert_no_axe_violations(page, context="privacy notice in German")
    page.goto(f"{base}/privacy?lang=it")
    expect(page.locator("section.prose")).to_have_attribute("lang", "en")
    assert_no_axe_violations(page, context="privacy notice in English on an Italian page")
    context.close()

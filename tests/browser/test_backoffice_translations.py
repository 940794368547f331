"""An event's translations in a real browser: an organiser opens the Translations page of
the demo's circular ICT series, is refused a bad title (the error summary takes the focus),
saves a Spanish title, and the public page in Spanish and in German shows the texts, marked
with `lang` where the page's language differs. axe-core finds no violation on any state."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Event
from service.domain.accounts import create_account
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import CLOCK, DESKTOP, LiveServer, save_screenshot, sign_in

pytestmark = pytest.mark.browser

EMAIL = "ada.translations@procura.example.org"
PASSWORD = "lantern-quarry-velvet-29"
SLUG = "circular-ict-webinar-series-2027"


def _arrange(live_server: LiveServer) -> int:
    async def arrange(db: AsyncSession) -> int:
        await create_account(db, email=EMAIL, name="Ada Admin", role="admin",
                             password=PASSWORD, now=CLOCK)
        event_id = await db.scalar(select(Event.id).where(Event.slug == SLUG))
        assert event_id is not None
        return event_id

    return live_server.arrange(arrange)


def test_an_organiser_translates_and_readers_see_their_language(
    live_server: LiveServer, browser: Browser, screenshots: Path
) -> None:
    event_id = _arrange(live_server)
    base = live_server.base_url
    context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Brussels")
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, base, EMAIL, PASSWORD)

    page.goto(f"{base}/organiser/events/{event_id}/translations?language=es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Translations")
    assert_no_axe_violations(page, context="translations page")
    title = page.locator("#event-title")
    title.evaluate("field => field.removeAttribute('maxlength')")  # as a script could send
    title.fill("x" * 301)
    page.get_by_role("button", name="Save the texts in Español").click()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#error-summary a")).to_have_text(["At most 300 characters."])
    assert_no_axe_violations(page, context="translations page with errors")
    save_screenshot(page, screenshots / "backoffice-translations-1-errors.png")
    page.locator("#event-title").fill("Serie de seminarios web sobre compra circular de TIC")
    page.get_by_role("button", name="Save the texts in Español").click()
    expect(page.get_by_role("status")).to_have_text("The translations are saved.")

    page.goto(f"{base}/events/{SLUG}?lang=es")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Serie de seminarios web sobre compra circular de TIC")
    expect(page.locator("p.lead")).to_have_attribute("lang", "en")
    assert_no_axe_violations(page, context="event page in Spanish")
    page.goto(f"{base}/events/{SLUG}?lang=de")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Procura+ Webinarreihe zur kreislauforientierten IKT-Beschaffung 2027 (Beispiel)")
    assert_no_axe_violations(page, context="event page in German")
    save_screenshot(page, screenshots / "public-event-german.png")
    context.close()

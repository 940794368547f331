"""An event's translations in a real browser: an organiser opens the Translations page of
the demo's circular ICT series, is refused a bad title (the error summary takes the focus),
saves a Spanish title, and the public page in Spanish and in German shows the texts, marked
with `lang` where the page's language differs; a Meet-your-Buyer consultation's published
answer translated into Dutch is what a Dutch reader finds on its page. axe-core finds no
violation on any state."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Event
from service.domain.accounts import create_account
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import CLOCK, LiveServer, desktop_page, save_screenshot, sign_in

pytestmark = pytest.mark.browser

EMAIL = "ada.translations@procura.example.org"
PASSWORD = "lantern-quarry-velvet-29"
SLUG = "circular-ict-webinar-series-2027"


def _signed_in(live_server: LiveServer, browser: Browser, email: str, slug: str, zone: str
               ) -> tuple[BrowserContext, Page, int]:
    """An administrator's account (`email`), signed in; the demo event's id."""
    async def arrange(db: AsyncSession) -> int:
        await create_account(db, email=email, name="Ada Admin", role="admin",
                             password=PASSWORD, now=CLOCK)
        event_id = await db.scalar(select(Event.id).where(Event.slug == slug))
        assert event_id is not None
        return event_id

    event_id = live_server.arrange(arrange)
    context, page = desktop_page(browser, zone)
    sign_in(page, live_server.base_url, email, PASSWORD)
    return context, page, event_id


def test_an_organiser_translates_and_readers_see_their_language(
    live_server: LiveServer, browser: Browser, screenshots: Path
) -> None:
    context, page, event_id = _signed_in(live_server, browser, EMAIL, SLUG, "Europe/Brussels")
    base = live_server.base_url

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


HAARLEM = "meet-your-buyer-haarlem-fair-circular-ict"
CONSULTATION_EMAIL = "cas.translations@procura.example.org"


def test_a_consultations_answers_are_translated_and_suppliers_read_them(
    live_server: LiveServer, browser: Browser, screenshots: Path
) -> None:
    """The demo's Haarlem dialogue: its published answers are among the texts to translate;
    the Dutch answer is what a supplier reading Dutch finds on the event page."""
    context, page, event_id = _signed_in(live_server, browser, CONSULTATION_EMAIL, HAARLEM,
                                         "Europe/Amsterdam")
    base = live_server.base_url

    page.goto(f"{base}/organiser/events/{event_id}/translations?language=nl")
    answer = page.get_by_label("Answer to question 1")
    expect(answer).to_be_visible()
    assert_no_axe_violations(page, context="translations page of a consultation")
    answer.fill("Ja: gereviseerde laptops tellen mee.\nMet drie jaar garantie.")
    page.get_by_role("button", name="Save the texts in Nederlands").click()
    expect(page.get_by_role("status")).to_have_text("The translations are saved.")
    save_screenshot(page, screenshots / "backoffice-translations-2-consultation.png")

    page.goto(f"{base}/events/{HAARLEM}?lang=nl")
    first = page.locator("section .qa").first
    expect(first.locator("p.pre-line").nth(1)).to_have_text(
        "Ja: gereviseerde laptops tellen mee.\nMet drie jaar garantie.")
    expect(first.locator("p.pre-line").nth(0)).to_have_attribute("lang", "en")
    assert_no_axe_violations(page, context="a consultation's answers in Dutch")
    context.close()

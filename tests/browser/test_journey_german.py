"""A visitor who reads German, in a real browser: the programme chosen in German once
(`?lang=de`), then every page of registering in German (the choice is remembered), the
visitor's own time labelled in German by the page script, and axe-core on each page state.

Expected words are looked up in the catalogue the server uses, so the journey holds whether
or not the catalogues are filled; the language attributes, the switcher and the country
names (Babel's) are checked literally.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from service.i18n import LANGUAGES, pgettext, use_language
from service.i18n import gettext as _
from service.operations.demo import MAKE_ICT_FAIR_SLUG
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import DESKTOP, LiveServer, save_screenshot

pytestmark = pytest.mark.browser

SERIES_TITLE = "Procura+ webinar series on socially responsible ICT procurement"
FIRST_SESSION = ("On the way towards social criteria – steps towards integrating social "
                 "criteria in ICT Procurement tenders")


def de(message: str, context: str | None = None) -> str:
    with use_language("de"):
        return pgettext(context, message) if context else _(message)


def test_register_in_german(live_server: LiveServer, browser: Browser, screenshots: Path) -> None:
    context = browser.new_context(viewport=DESKTOP, timezone_id="America/New_York",
                                  locale="de-DE")
    context.set_default_timeout(10_000)
    page = context.new_page()

    page.goto(live_server.base_url + "/?lang=de")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text(de("Events programme"))
    switcher = page.get_by_role("navigation", name=de("Language"))
    expect(switcher.get_by_role("link")).to_have_text(
        ["English", "Deutsch", "Français", "Español", "Italiano", "Nederlands"])
    expect(switcher.locator("a[aria-current=true]")).to_have_attribute("hreflang", "de")
    alternates = page.locator("head link[rel=alternate]")
    assert [alternates.nth(i).get_attribute("hreflang")
            for i in range(alternates.count())] == list(LANGUAGES)
    expect(page.locator("head link[rel=alternate][hreflang=fr]")).to_have_attribute(
        "href", "/?lang=fr")
    save_screenshot(page, screenshots / "german-1-programme.png")
    assert_no_axe_violations(page, context="programme in German")

    # Without ?lang= from here on: the choice is remembered.
    page.get_by_role("link", name=SERIES_TITLE).click()
    expect(page).to_have_url(f"{live_server.base_url}/events/{MAKE_ICT_FAIR_SLUG}")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    row = page.get_by_role("article", name=FIRST_SESSION).locator("table.agenda tbody tr").first
    expect(row.locator(".event-time")).to_have_text("10:00–10:10 MEZ")
    expect(row.locator("[data-visitor-time]")).to_have_text(
        f"04:00–04:10 EST {de('(your time)')}")
    expect(page.get_by_role("heading", level=2, name=de("Sessions and agenda"))).to_be_visible()
    save_screenshot(page, screenshots / "german-2-event.png")
    assert_no_axe_violations(page, context="event page in German")

    page.get_by_role("link", name=de("Register", "button"), exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    with use_language("de"):
        register_heading = _("Register for %(title)s") % {"title": SERIES_TITLE}
    expect(page.get_by_role("heading", level=1)).to_have_text(register_heading)
    expect(page.locator("#country option[value=AT]")).to_have_text("Österreich")
    page.get_by_label(de("Email address"), exact=True).fill("ana.novak@ljubljana.example.org")
    # Blanks pass the browser's own check; the page's check refuses them.
    page.get_by_label(de("Full name")).fill("   ")
    page.locator("#consent").check()
    page.get_by_role("button", name=de("Register", "button"), exact=True).click()

    # Sent without a name: the error summary and the message beside the field, in German.
    summary = page.locator("[data-error-summary]")
    expect(summary.get_by_role("heading")).to_have_text(de("There is a problem"))
    expect(summary.get_by_role("link")).to_have_text([de("Enter your name.")])
    save_screenshot(page, screenshots / "german-3-register-errors.png")
    assert_no_axe_violations(page, context="registration form in German with an error")

    page.get_by_label(de("Full name")).fill("Ana Novak")
    page.get_by_label(de("Job title")).fill("Beschaffungsreferentin")
    page.locator("#organisation_name").fill("Stadt Ljubljana")
    page.locator("#organisation_kind").select_option("public_authority")
    page.locator("#country").select_option("SI")
    page.locator("#consent").check()
    assert_no_axe_violations(page, context="registration form in German filled in")
    page.get_by_role("button", name=de("Register", "button"), exact=True).click()

    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text(de("You are registered"))
    expect(page.get_by_role("heading", level=2, name=de("What happens next"))).to_be_visible()
    expect(page.locator("#next-steps li").first).to_contain_text(
        "ana.novak@ljubljana.example.org")
    save_screenshot(page, screenshots / "german-4-registered.png")
    assert_no_axe_violations(page, context="registered, in German")
    context.close()

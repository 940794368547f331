"""An organiser chooses their back-office language on their own account page, in a real
browser: the page, an error beside the field, and the back office afterwards in the chosen
language; axe-core finds no violation in any of those states, at desktop and phone widths.
Screenshots land in test-artifacts/screenshots/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from service.i18n import gettext as _
from service.i18n import use_language
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import DESKTOP, PHONE, LiveServer, save_screenshot, sign_in
from tests.browser.test_backoffice_people import EMAIL, PASSWORD, _make_organiser

pytestmark = pytest.mark.browser


def test_an_organiser_chooses_their_back_office_language(
    live_server: LiveServer, browser: Browser, screenshots: Path,
) -> None:
    _make_organiser(live_server)
    stored = "en"  # the account's language as each pass begins
    for viewport, width in ((DESKTOP, "desktop"), (PHONE, "phone")):
        context = browser.new_context(viewport=viewport, locale="en-GB")
        context.set_default_timeout(10_000)
        page = context.new_page()
        sign_in(page, live_server.base_url, EMAIL, PASSWORD)
        page.goto(f"{live_server.base_url}/organiser/account")
        expect(page.locator("html")).to_have_attribute("lang", stored)
        expect(page.locator("#language")).to_have_value(stored)
        save_screenshot(page, screenshots / f"backoffice-account-{width}.png")
        assert_no_axe_violations(page, context=f"account-{width}")

        # A value no form offers (as a tampered request would send it): the error beside it.
        page.locator("#language").evaluate(
            "select => { select.options[0].value = 'xx'; select.value = 'xx'; }")
        with use_language(stored):
            page.get_by_role("button", name=_("Save the language")).click()
        expect(page.locator("#error-summary")).to_be_visible()
        assert_no_axe_violations(page, context=f"account-error-{width}")

        chosen = "de" if width == "desktop" else "en"
        page.locator("#language").select_option(chosen)
        with use_language(stored):
            save = _("Save the language")
        with use_language(chosen):
            saved = _("Your language was saved.")
        page.get_by_role("button", name=save).click()
        expect(page.get_by_role("status")).to_have_text(saved)
        expect(page.locator("html")).to_have_attribute("lang", chosen)
        save_screenshot(page, screenshots / f"backoffice-account-saved-{width}.png")
        assert_no_axe_violations(page, context=f"account-saved-{width}")
        context.close()
        stored = chosen

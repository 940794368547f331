"""Keyboard use of the public forms in a real browser, with and without JavaScript: after a
refused form the error summary has the focus, and on an event page the Register button is
the first tab stop after the event's details (before every calendar link).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from service.operations.demo import MAKE_ICT_FAIR_SLUG
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import DESKTOP, LiveServer

pytestmark = pytest.mark.browser

EVENT = f"/events/{MAKE_ICT_FAIR_SLUG}"


def _page(browser: Browser, *, javascript: bool) -> Page:
    context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Brussels",
                                  java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    return context.new_page()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-script", "without-script"])
def test_a_refused_form_moves_focus_to_the_error_summary(
    live_server: LiveServer, browser: Browser, javascript: bool
) -> None:
    page = _page(browser, javascript=javascript)
    page.goto(f"{live_server.base_url}{EVENT}/register")
    assert_no_axe_violations(page, context="registration form")
    page.get_by_label("Full name").fill("Anna Keller")
    # Accepted by the browser's own check, refused by ours: the server answers.
    page.get_by_label("Email address", exact=True).fill("anna.keller@localhost")
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="Register").click()

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    assert_no_axe_violations(page, context="registration form with errors")
    message = "The part after @ must be a domain such as example.org."
    expect(summary.get_by_role("link")).to_have_text([message])
    page.keyboard.press("Tab")
    expect(summary.get_by_role("link", name=message)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Email address", exact=True)).to_be_focused()
    page.context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-script", "without-script"])
def test_register_comes_before_every_calendar_link(
    live_server: LiveServer, browser: Browser, javascript: bool
) -> None:
    page = _page(browser, javascript=javascript)
    page.goto(f"{live_server.base_url}{EVENT}")
    assert_no_axe_violations(page, context="event page")
    page.get_by_role("link", name="Skip to main content").focus()
    page.keyboard.press("Enter")

    reached = []
    for _ in range(10):
        page.keyboard.press("Tab")
        href = page.evaluate("document.activeElement.getAttribute('href')") or ""
        reached.append(href)
        if href.endswith("/register") or href.startswith("/feeds/"):
            break

    # After the breadcrumb back to the programme: the Register button, first.
    assert reached == ["/", f"{EVENT}/register"]
    page.context.close()

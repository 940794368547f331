"""The accessibility check itself: it finds a known violation and names it, and runs the
axe-core version the lock file pins."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.browser.axe import assert_no_axe_violations, axe_version
from tests.browser.conftest import DESKTOP

pytestmark = pytest.mark.browser


def test_a_missing_label_and_alt_text_are_reported_with_id_impact_target_and_help(
    browser: Browser,
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_content(
        "<!doctype html><html lang='en'><head><title>Broken</title></head><body><main>"
        "<h1>Broken</h1><img id='logo' src='data:image/gif;base64,R0lGODlhAQABAAAAACw='>"
        "<input id='who' type='text'></main></body></html>"
    )

    with pytest.raises(AssertionError) as failure:
        assert_no_axe_violations(page, context="a page made to fail")

    report = str(failure.value)
    assert report.splitlines()[0] == (
        "axe-core found 2 violation(s) on a page made to fail (about:blank):")
    assert "- image-alt (critical): Images must have alternative text" in report
    assert "    at #logo:" in report
    assert "- label (critical): Form elements must have labels" in report
    assert "    at #who:" in report
    context.close()


def test_a_clean_page_passes_with_the_pinned_axe(browser: Browser) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_content(
        "<!doctype html><html lang='en'><head><title>Fine</title></head><body><main>"
        "<h1>Fine</h1><label for='who'>Name</label><input id='who' type='text'>"
        "</main></body></html>"
    )

    assert_no_axe_violations(page, context="a clean page")
    assert axe_version(page) == "4.12.1"
    context.close()


def test_a_page_without_scripts_is_checked_too(browser: Browser) -> None:
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    url = "http://axe.invalid/broken"
    page.route(url, lambda route: route.fulfill(
        status=200, content_type="text/html",
        body="<!doctype html><html lang='en'><head><title>Broken</title></head><body><main>"
             "<h1>Broken</h1><input id='who' type='text'></main></body></html>"))
    page.goto(url)

    with pytest.raises(AssertionError) as failure:
        assert_no_axe_violations(page, context="no scripts")

    report = str(failure.value)
    assert report.splitlines()[0] == f"axe-core found 1 violation(s) on no scripts ({url}):"
    assert report.splitlines()[1].startswith("- label (critical): Form elements must have labels")
    context.close()

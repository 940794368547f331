"""The API documentation renders in a real browser that may reach no host but ours."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Route, expect

from tests.browser.conftest import DESKTOP, LiveServer, save_screenshot

pytestmark = pytest.mark.browser


def test_api_docs_render_with_every_other_host_unreachable(
    live_server: LiveServer, browser: Browser, screenshots: Path
) -> None:
    ours = urlsplit(live_server.base_url).netloc
    elsewhere: list[str] = []

    def offline(route: Route) -> None:
        if urlsplit(route.request.url).netloc == ours:
            route.continue_()
        else:  # as on a machine with no internet access
            elsewhere.append(route.request.url)
            route.abort()

    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    context.route("**/*", offline)
    page = context.new_page()

    page.goto(f"{live_server.base_url}/api/docs")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Procura Events")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    icon = page.locator("link[rel=icon]").get_attribute("href")
    save_screenshot(page, screenshots / "desktop-api-docs.png", full_page=False)
    context.close()
    assert (elsewhere, urlsplit(icon or "").path) == ([], "/static/favicon.svg")

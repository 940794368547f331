"""A newcomer's whole life in the product, in a real browser: register, read the privacy
notice, ask for their data by email, open the emailed link, download it, erase it. Every
page state passes axe-core."""

from __future__ import annotations

import json
import re
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from service.operations.demo import MAKE_ICT_FAIR_SLUG
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import DESKTOP, LiveServer, save_screenshot

pytestmark = pytest.mark.browser

ADDRESS = "mia.horvat@zagreb.example.org"


def _text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_register_ask_for_ones_data_download_and_erase_it(
    live_server: LiveServer, browser: Browser, screenshots: Path
) -> None:
    context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Brussels",
                                  accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live_server.base_url}/events/{MAKE_ICT_FAIR_SLUG}/register")
    page.get_by_label("Full name").fill("Mia Horvat")
    page.get_by_label("Email address", exact=True).fill(ADDRESS)
    page.get_by_label("I agree").check()
    expect(page.get_by_label("Optional: keep me informed")).not_to_be_checked()
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are registered")

    page.get_by_role("link", name="Privacy notice").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacy notice")
    assert_no_axe_violations(page, context="privacy notice")
    page.get_by_role("link", name="ask for a link to your data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("See or erase your data")
    assert_no_axe_violations(page, context="my data form")
    page.get_by_label("Email address").fill(ADDRESS)
    page.get_by_role("button", name="Email me a link to my data").click()
    expect(page.get_by_role("status")).to_contain_text(ADDRESS)
    assert_no_axe_violations(page, context="my data form, sent")

    live_server.deliver_emails()
    [received] = [m for m in live_server.smtp.messages
                  if str(m.message["Subject"]) == "Your personal data at Procura+ Events"]
    links = re.findall(rf"{re.escape(live_server.base_url)}/privacy/my-data/[A-Za-z0-9_-]+",
                       _text_body(received.message))
    page.goto(links[0])
    expect(page.get_by_role("heading", level=1)).to_have_text("Your data")
    save_screenshot(page, screenshots / "desktop-privacy-my-data.png")
    assert_no_axe_violations(page, context="my data link")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download my data (JSON)").click()
    export = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert [(r["name"], r["email"]) for r in export["registrations"]] == [("Mia Horvat", ADDRESS)]

    page.get_by_role("link", name="Erase everything").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Erase everything about {ADDRESS}?")
    assert_no_axe_violations(page, context="erase confirmation")
    page.get_by_role("button", name="Yes, erase everything").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your data is erased")
    assert_no_axe_violations(page, context="erased")
    context.close()

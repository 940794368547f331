"""A message written ahead, in a real browser: an organiser writes a thank-you to the
confirmed registrants of the circular ICT series, chooses a day and time in the event's
zone, sees the preview say when it goes, schedules it, finds it listed as waiting, and
cancels it; then one to go a day after the series ends, first with a fixed time as well
(refused beside the field), then alone, listed with its rule and its time. axe-core finds
no violation on any state."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Event
from service.domain.accounts import create_account
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import CLOCK, LiveServer, desktop_page, save_screenshot, sign_in

pytestmark = pytest.mark.browser

EMAIL = "sam.schedule@procura.example.org"
PASSWORD = "orchard-violin-summit-47"
SLUG = "circular-ict-webinar-series-2027"


def test_an_organiser_schedules_a_thank_you_and_cancels_it(
    live_server: LiveServer, browser: Browser, screenshots: Path
) -> None:
    async def arrange(db: AsyncSession) -> int:
        await create_account(db, email=EMAIL, name="Sam Schedule", role="admin",
                             password=PASSWORD, now=CLOCK)
        event_id = await db.scalar(select(Event.id).where(Event.slug == SLUG))
        assert event_id is not None
        return event_id

    event_id = live_server.arrange(arrange)
    context, page = desktop_page(browser, "Europe/Brussels")
    base = live_server.base_url
    sign_in(page, base, EMAIL, PASSWORD)
    page.goto(f"{base}/organiser/events/{event_id}/message")
    expect(page.locator("#scheduled")).to_contain_text("None: write one above")
    page.get_by_label("Subject", exact=True).fill("Thank you for joining")
    page.get_by_label("Message", exact=True).fill("The slides are on your private page.")
    page.get_by_label("At a day and time").fill("2031-06-12T09:00")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#send-at")).to_contain_text("It will be sent on ")
    expect(page.locator("#send-at")).to_contain_text("09:00")
    assert_no_axe_violations(page, context="scheduled message preview")
    page.get_by_role("button", name="Schedule it").click()
    expect(page.get_by_role("status")).to_contain_text("The message is scheduled")
    row = page.locator("#scheduled tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Thank you for joining")
    expect(row).to_contain_text("Waiting to be sent")
    assert_no_axe_violations(page, context="message form with a scheduled message")
    save_screenshot(page, screenshots / "backoffice-scheduled-message.png")
    row.get_by_role("button", name='Cancel the message "Thank you for joining"').click()
    expect(page.get_by_role("status")).to_contain_text("The scheduled message is cancelled")
    expect(page.locator("#scheduled tbody tr")).to_contain_text("Cancelled")
    assert_no_axe_violations(page, context="message form, a scheduled message cancelled")

    page.get_by_label("Subject", exact=True).fill("Your feedback, please")
    page.get_by_label("Message", exact=True).fill("Tell us how the series went.")
    page.get_by_label("At a day and time").fill("2031-06-12T09:00")
    page.get_by_label("How long").fill("1")
    page.get_by_label("Unit").select_option(label="days")
    page.get_by_label("Counted from").select_option(label="after the end")
    page.get_by_role("button", name="Preview").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("not both")
    assert_no_axe_violations(page, context="message form, two times given")
    page.get_by_label("At a day and time").fill("")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#send-at")).to_contain_text("It will be sent 1 day after the end: "
                                                     "as the programme stands")
    page.get_by_role("button", name="Schedule it").click()
    waiting = page.locator("#scheduled tbody tr").filter(has_text="Your feedback, please")
    expect(waiting).to_contain_text("1 day after the end:")
    expect(waiting).to_contain_text("Waiting to be sent")
    assert_no_axe_violations(page, context="message form with a message counted from the end")
    context.close()

"""Feedback in a real browser: before the Make ICT Fair, an organiser adds three questions of
her own, one answered by one of her choices (the second's kind left unchosen first, then
chosen); the
afternoon after the first webinar, Wanda opens the feedback form from her private page,
sends it without a rating (the error summary takes the focus and leads to the ratings),
then rates it, comments and answers the organiser's questions; after the second webinar
her form is about that one, the first listed as answered; the organiser reads the answers,
without her name, on the event's feedback page. axe-core finds no violation on any
state."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import AccessPurpose, Event
from service.domain import programme
from service.domain.access import current_access_token
from service.domain.accounts import create_account
from service.operations.demo import MAKE_ICT_FAIR_SLUG
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import CLOCK, LiveServer, desktop_page, save_screenshot, sign_in
from tests.factories import make_registration

pytestmark = pytest.mark.browser

EMAIL = "fiona.feedback@procura.example.org"
PASSWORD = "harbour-pencil-meadow-31"
COMMENT = "The Barcelona case & its market dialogue."
TOPIC = "Which topic should come next?"
MODERATION = "How well was the discussion moderated?"
FORMAT = "Which format suits you best?"


def test_a_registrant_rates_a_webinar_and_the_organiser_reads_it(
    live_server: LiveServer, browser: Browser, screenshots: Path
) -> None:
    async def arrange(db: AsyncSession) -> tuple[int, str]:
        await create_account(db, email=EMAIL, name="Fiona Feedback", role="admin",
                             password=PASSWORD, now=CLOCK)
        event_id = await db.scalar(select(Event.id).where(Event.slug == MAKE_ICT_FAIR_SLUG))
        assert event_id is not None
        event = await programme.get_event(db, event_id)
        webinar, second = sorted(event.sessions, key=lambda s: s.starts_at)
        wanda = await make_registration(db, event, (webinar, second), "Wanda Webinar",
                                        now=CLOCK, email_address="wanda@city.example.org")
        token = await current_access_token(
            db, AccessPurpose.REGISTRATION_MANAGE, secret_key=live_server.settings.secret_key,
            now=CLOCK, registration_id=wanda.id)
        return event_id, token

    event_id, token = live_server.arrange(arrange)
    context, page = desktop_page(browser, "Europe/Brussels")
    base = live_server.base_url
    sign_in(page, base, EMAIL, PASSWORD)
    page.goto(f"{base}/organiser/events/{event_id}/feedback")
    page.get_by_role("link", name="Ask questions of your own").click()
    assert_no_axe_violations(page, context="feedback questions, none yet")
    first = page.get_by_role("group", name="Question 1")
    first.get_by_label("Wording").fill(TOPIC)
    second = page.get_by_role("group", name="Question 2")
    second.get_by_label("Wording").fill(MODERATION)
    second.get_by_label("How it is answered").select_option(label="Choose…")
    third = page.get_by_role("group", name="Question 3")
    third.get_by_label("Wording").fill(FORMAT)
    third.get_by_label("How it is answered").select_option(label="One of your choices")
    third.get_by_label("Its choices").fill("Webinar\nStudy visit\nBoth")
    page.get_by_role("button", name="Save the questions").click()
    expect(page.locator("#error-summary")).to_be_focused()
    assert_no_axe_violations(page, context="feedback questions, refused")
    page.get_by_role("group", name="Question 2").get_by_label("How it is answered").select_option(
        label="A rating from 1 (lowest) to 5 (highest)")
    page.get_by_role("group", name="Question 2").get_by_label("Required").check()
    page.get_by_role("button", name="Save the questions").click()
    expect(page.get_by_role("status")).to_contain_text("The questions are saved.")
    assert_no_axe_violations(page, context="feedback questions, saved")
    # The afternoon of the first webinar (9 November 2020).
    with time_machine.travel(datetime(2020, 11, 9, 14, 0, tzinfo=UTC), tick=True):
        page.goto(f"{base}/registrations/{token}")
        page.get_by_role("link", name="Your feedback on the event").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your feedback")
        assert_no_axe_violations(page, context="feedback form")
        page.get_by_label("What was most useful?").fill(COMMENT)
        page.get_by_role("button", name="Send my feedback").click()
        summary = page.locator("#error-summary")
        expect(summary).to_be_focused()
        expect(summary).to_contain_text("Choose how useful it was, from 1 to 5.")
        expect(page.get_by_label("What was most useful?")).to_have_value(COMMENT)
        assert_no_axe_violations(page, context="feedback form, refused")
        expect(summary).to_contain_text("Choose from 1 to 5.")
        summary.get_by_role("link").first.click()
        expect(page.get_by_label("1: not useful")).to_be_focused()
        page.get_by_label("4: very useful").check()
        page.get_by_label(TOPIC).fill("Circular data centres")
        page.get_by_role("group", name=MODERATION).get_by_label("5: highest").check()
        page.get_by_role("group", name=FORMAT).get_by_label("Webinar").check()
        page.get_by_role("button", name="Send my feedback").click()
        expect(page.get_by_role("status")).to_contain_text("Thank you: your feedback is saved.")
        expect(page.get_by_label("4: very useful")).to_be_checked()
        expect(page.get_by_role("group", name=FORMAT).get_by_label("Webinar")).to_be_checked()
        assert_no_axe_violations(page, context="feedback saved")
        save_screenshot(page, screenshots / "feedback-saved.png")
    # The afternoon of the second webinar (10 December 2020).
    with time_machine.travel(datetime(2020, 12, 10, 14, 0, tzinfo=UTC), tick=True):
        page.goto(f"{base}/registrations/{token}/feedback")
        expect(page.locator("#session-heading")).to_contain_text("Keeping social criteria alive")
        expect(page.get_by_role("navigation", name="Your sessions")).to_contain_text(
            "answered")
        assert_no_axe_violations(page, context="feedback on the second webinar")
        page.get_by_label("5: extremely useful").check()
        page.get_by_role("group", name=MODERATION).get_by_label("4", exact=True).check()
        page.get_by_role("group", name=FORMAT).get_by_label("Both").check()
        page.get_by_role("button", name="Send my feedback").click()
        expect(page.get_by_role("status")).to_contain_text("Thank you: your feedback is saved.")

        sign_in(page, base, EMAIL, PASSWORD)
        page.goto(f"{base}/organiser/events/{event_id}")
        page.get_by_role("link", name="Feedback", exact=True).click()
        main = page.get_by_role("main")
        expect(main).to_contain_text("2 of 2 asked have answered. Average: 4.5 out of 5.")
        expect(main).to_contain_text(COMMENT)
        expect(main).to_contain_text("Circular data centres")
        expect(page.get_by_role("region", name=MODERATION)).to_contain_text(
            "2 answers. Average: 4.5 out of 5.")
        choices = page.get_by_role("region", name=FORMAT)
        expect(choices).to_contain_text("2 answers")
        expect(choices.get_by_role("row", name="Study visit")).to_contain_text("0")
        expect(choices.get_by_role("row", name="Both")).to_contain_text("1")
        expect(main).not_to_contain_text("Wanda")
        assert_no_axe_violations(page, context="feedback results")
        save_screenshot(page, screenshots / "backoffice-feedback.png")
    context.close()

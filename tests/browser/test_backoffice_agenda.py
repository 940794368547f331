"""Paste an agenda in a real browser: an organiser signs in, pastes the second Make ICT Fair
agenda as the programme published it, sees the people the demo already has matched, creates
it in one step, then sees a refused paste name its line. Without JavaScript too (the pages
need none). Screenshots of each page state land in test-artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from service.db.engine import create_engine, make_sessionmaker
from service.db.models import EventKind
from service.domain import programme
from service.domain.accounts import create_account, default_team_id
from tests.browser.conftest import CLOCK, DESKTOP, PHONE, LiveServer, save_screenshot, sign_in
from tests.databases import run_off_loop

pytestmark = pytest.mark.browser

AGENDA = (Path(__file__).parent.parent / "data" / "agendas" / "make_ict_fair_session_2.txt"
          ).read_text(encoding="utf-8")
EMAIL = "paula.organiser@procura.example.org"
PASSWORD = "harbour-lantern-quince-47"


def _axe_check() -> Callable[[Page], None] | None:
    """`tests/browser/axe.py`'s check, once that helper exists in this tree."""
    if importlib.util.find_spec("tests.browser.axe") is None:
        return None
    check: Callable[[Page], None] = importlib.import_module(
        "tests.browser.axe").assert_no_axe_violations
    return check


AXE = _axe_check()


@pytest.fixture(scope="module")
def organiser(live_server: LiveServer) -> str:
    """An organiser of the default team (the team every event made here belongs to)."""

    async def arrange() -> None:
        engine = create_engine(live_server.settings.database_url)
        try:
            async with make_sessionmaker(engine)() as db, db.begin():
                team = await default_team_id(db)
                await create_account(db, email=EMAIL, name="Paula Organiser", role="organiser",
                                     password=PASSWORD, team_ids=[team] if team else [],
                                     now=datetime.now(UTC))
        finally:
            await engine.dispose()

    run_off_loop(lambda: asyncio.run(arrange()))
    return EMAIL


def _new_session(live_server: LiveServer, slug: str) -> int:
    """A new event with one empty session on the day of the second Make ICT Fair webinar."""

    made: list[int] = []

    async def arrange() -> None:
        engine = create_engine(live_server.settings.database_url)
        try:
            async with make_sessionmaker(engine)() as db, db.begin():
                event = await programme.create_event(db, programme.EventCreate(
                    kind=EventKind.WEBINAR_SERIES, slug=slug,
                    title="Contract management for fair ICT (rerun)"), now=CLOCK)
                session = await programme.add_session(db, event.id, programme.SessionCreate(
                    title="Keeping social criteria alive", starts_at="2020-12-10T10:00",
                    ends_at="2020-12-10T11:30"), now=CLOCK, settings=live_server.settings)
                made.append(session.id)
        finally:
            await engine.dispose()

    run_off_loop(lambda: asyncio.run(arrange()))
    return made[0]


def _signed_in_page(browser: Browser, live_server: LiveServer, *, javascript: bool,
                    phone: bool = False) -> Page:
    context = browser.new_context(viewport=PHONE if phone else DESKTOP, locale="en-GB",
                                  timezone_id="Europe/Brussels", java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, live_server.base_url, EMAIL, PASSWORD)
    expect(page).to_have_url(f"{live_server.base_url}/organiser/")
    return page


def _check(page: Page, shot: Path) -> None:
    """Every page state: a screenshot, no wider than the window, and axe-core's verdict."""
    save_screenshot(page, shot)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] if page.viewport_size else True
    if AXE is not None:
        AXE(page)


@pytest.mark.parametrize("javascript", [True, False], ids=["with-script", "without-script"])
def test_paste_the_second_make_ict_fair_agenda(
    live_server: LiveServer, browser: Browser, screenshots: Path, organiser: str,
    javascript: bool,
) -> None:
    suffix = "js" if javascript else "nojs"
    session_id = _new_session(live_server, f"fair-ict-rerun-{suffix}")
    page = _signed_in_page(browser, live_server, javascript=javascript)
    agenda_url = f"{live_server.base_url}/organiser/sessions/{session_id}/agenda"

    page.goto(agenda_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Agenda: Keeping social criteria alive")
    _check(page, screenshots / f"backoffice-agenda-1-empty-{suffix}.png")
    page.get_by_role("link", name="Paste an agenda").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Paste an agenda")
    _check(page, screenshots / f"backoffice-agenda-2-paste-{suffix}.png")

    page.get_by_label("The agenda as the programme writes it").fill(AGENDA)
    page.get_by_role("button", name="Read the agenda").click()
    expect(page.locator("table.agenda-table tbody th")).to_have_text([
        "Welcome and introduction",
        "Set up Contract management: APUC Scotland on contract clauses & Key Performance "
        "Indicators",
        "Outcomes of contract management: Region Stockholm on lessons learnt on how to keep "
        "social criteria alive",
        "Q&A and opportunity for Discussion",
    ])
    # The demo programme has these people and organisations already: each one is matched.
    expect(page.locator("fieldset.agenda-match legend .badge")).to_have_text(
        [f"matches #{n}" for n in _ids(page)])
    expect(page.get_by_text("2 lines left out")).to_be_visible()
    _check(page, screenshots / f"backoffice-agenda-3-preview-{suffix}.png")

    page.get_by_role("button", name="Create the agenda").click()
    expect(page).to_have_url(f"{agenda_url}?done=pasted")
    expect(page.get_by_role("status")).to_have_text("Agenda created from the pasted text.")
    expect(page.locator("table.agenda-table tbody th")).to_have_count(4)
    expect(page.locator("table.agenda-table tbody td.agenda-when")).to_have_text(
        ["10:00–10:10 CET", "10:10–10:40 CET", "10:40–10:55 CET", "10:55–11:30 CET"])
    _check(page, screenshots / f"backoffice-agenda-4-created-{suffix}.png")

    # The same agenda again: refused, naming the line, keeping the text, changing nothing.
    page.get_by_role("link", name="Paste an agenda").click()
    page.get_by_label("The agenda as the programme writes it").fill(AGENDA)
    page.get_by_role("button", name="Read the agenda").click()
    page.get_by_role("button", name="Create the agenda").click()
    summary = page.locator("#error-summary")
    expect(summary.get_by_role("link").first).to_have_text(
        "Line 3 (Welcome and introduction): Overlaps 'Welcome and introduction' (10:00–10:10).")
    expect(page.get_by_label("The agenda as the programme writes it")).to_have_value(AGENDA.strip())
    _check(page, screenshots / f"backoffice-agenda-5-refused-{suffix}.png")
    page.goto(agenda_url)
    expect(page.locator("table.agenda-table tbody th")).to_have_count(4)
    page.context.close()


def _ids(page: Page) -> list[str]:
    """The ids the preview proposes, read from its selects (one per organisation and person)."""
    values: list[str] = page.locator("fieldset.agenda-match select[id$='-choice']").evaluate_all(
        "selects => selects.map(s => s.value)")
    assert "new" not in values
    return values


def test_the_agenda_page_at_phone_width(
    live_server: LiveServer, browser: Browser, screenshots: Path, organiser: str,
) -> None:
    session_id = _new_session(live_server, "fair-ict-rerun-phone")
    page = _signed_in_page(browser, live_server, javascript=True, phone=True)
    page.goto(f"{live_server.base_url}/organiser/sessions/{session_id}/agenda")

    expect(page.get_by_role("button", name="Add the item")).to_be_visible()
    _check(page, screenshots / "backoffice-agenda-6-phone.png")
    page.context.close()

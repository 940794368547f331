"""The back office with JavaScript on, where htmx enhances what works without it: a live search
of the registrations updates the table without leaving the page, moving an agenda item
reorders the list in place (focus kept, the change announced), an item's title is edited
in its own row, and a live people search keeps the back button working and, once the session
has ended, brings the sign-in page whole. No page may break its Content-Security-Policy
(htmx is configured to inject no styles, settle no style attribute and evaluate nothing),
axe-core finds nothing after each change, and a screenshot of each state lands in
test-artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect
from sqlalchemy import select

from service.db.engine import create_engine, make_sessionmaker, session_scope
from service.db.models import AgendaItemKind, Event, EventKind, Registration, RegistrationStatus
from service.domain import programme
from service.domain.accounts import create_account, default_team_id
from service.operations.demo import MAKE_ICT_FAIR_SLUG
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import CLOCK, DESKTOP, LiveServer, save_screenshot, sign_in
from tests.databases import run_off_loop

pytestmark = pytest.mark.browser

EMAIL = "hana@procura.example.org"
PASSWORD = "quartz-meadow-lantern-83"
# Added to the demo's Make ICT Fair series: found by the live search.
REGISTRANTS = [("Ines Htmx", "Ajuntament de Girona"), ("Jonas Htmx", "Stadt Jena"),
               ("Karin Other", "Gemeente Kampen")]
# A console message of a refused inline style, script or eval names the policy.
CSP_WORDS = ("Content Security Policy", "Content-Security-Policy")
# Reported to the console by the init script below, from the document's own event.
VIOLATION_LISTENER = """document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`Content Security Policy violation: ${event.violatedDirective} ${event.blockedURI}`);
});"""


@pytest.fixture(scope="module")
def arranged(live_server: LiveServer) -> dict[str, int]:
    """An organiser of the default team, registrations on the Make ICT Fair series, and an
    event of that team with a session of three agenda items."""
    found: dict[str, int] = {}

    async def arrange() -> None:
        engine = create_engine(live_server.settings.database_url)
        now = datetime.now(UTC)
        try:
            async with session_scope(make_sessionmaker(engine)) as db:
                team = await default_team_id(db)
                await create_account(db, email=EMAIL, name="Hana Organiser", role="organiser",
                                     password=PASSWORD, team_ids=[team] if team else [], now=now)
                fair = await db.scalar(select(Event).where(Event.slug == MAKE_ICT_FAIR_SLUG))
                assert fair is not None
                for minute, (name, organisation) in enumerate(REGISTRANTS):
                    at = now - timedelta(hours=2) + timedelta(minutes=minute)
                    address = f"{name.split()[0].lower()}.live@example.org"
                    db.add(Registration(
                        event_id=fair.id, status=RegistrationStatus.CONFIRMED, name=name,
                        email=address, email_normalised=address, organisation_name=organisation,
                        consent_at=at, created_at=at, updated_at=at))
                event = await programme.create_event(db, programme.EventCreate(
                    kind=EventKind.WEBINAR_SERIES, slug="htmx-agenda",
                    title="Fair ICT, in place"), now=CLOCK)
                session = await programme.add_session(db, event.id, programme.SessionCreate(
                    title="Reordered live", starts_at="2020-12-10T10:00",
                    ends_at="2020-12-10T11:00"), now=CLOCK, settings=live_server.settings)
                for start, end, title, kind in [
                        ("10:00", "10:10", "Welcome", AgendaItemKind.WELCOME),
                        ("10:10", "10:40", "Keynote", AgendaItemKind.TALK),
                        ("10:40", "11:00", "Questions", AgendaItemKind.QA)]:
                    await programme.add_agenda_item(db, session.id, programme.AgendaItemCreate(
                        starts_at=start, ends_at=end, title=title, kind=kind),
                        now=CLOCK, settings=live_server.settings)
                found.update(fair=fair.id, session=session.id)
        finally:
            await engine.dispose()

    run_off_loop(lambda: asyncio.run(arrange()))
    return found


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, arranged: dict[str, int]) -> Iterator[Page]:
    """Signed in with JavaScript on; fails at the end if any page broke its CSP or threw."""
    context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Brussels",
                                  java_script_enabled=True)
    context.set_default_timeout(10_000)
    context.add_init_script(VIOLATION_LISTENER)
    opened = context.new_page()
    refused: list[str] = []
    thrown: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if any(words in message.text for words in CSP_WORDS):
            refused.append(message.text)

    opened.on("console", on_console)
    opened.on("pageerror", lambda error: thrown.append(str(error)))
    sign_in(opened, live_server.base_url, EMAIL, PASSWORD)
    expect(opened).to_have_url(f"{live_server.base_url}/organiser/")
    yield opened
    context.close()
    assert (refused, thrown) == ([], [])


def _check(page: Page, screenshots: Path, name: str) -> None:
    """axe-core finds nothing in the page as it stands, and the state is kept as a picture."""
    assert_no_axe_violations(page, context=name)
    save_screenshot(page, screenshots / f"backoffice-htmx-{name}.png")


def test_htmx_loads_from_our_own_files_within_the_pages_policy(
    page: Page, live_server: LiveServer, screenshots: Path,
) -> None:
    scripts = page.locator("script[src]").evaluate_all("nodes => nodes.map(n => n.src)")
    # htmx (deferred) reads the page's htmx-config meta tag when DOMContentLoaded fires, a
    # moment after its script has run: wait for the load event, which comes after it.
    page.wait_for_load_state("load")
    page.wait_for_function("typeof htmx !== 'undefined'")
    config = page.evaluate(
        "[htmx.version, htmx.config.includeIndicatorStyles, htmx.config.allowEval]")

    assert [s.split("?")[0] for s in scripts] == [
        f"{live_server.base_url}/static/{name}"
        for name in ("error-summary.js", "htmx/htmx.min.js", "organiser-htmx.js")]
    assert config == ["2.0.11", False, False]
    assert page.locator("head style").count() == 0
    _check(page, screenshots, "dashboard")


def _stays_on_this_page(page: Page) -> None:
    """A mark that a navigation would wipe out (see `_still_on_the_same_page`)."""
    page.evaluate("window.procuraSamePage = true")


def _still_on_the_same_page(page: Page) -> bool:
    return bool(page.evaluate("window.procuraSamePage === true"))


def test_an_agenda_item_moved_and_retitled_in_place(
    page: Page, live_server: LiveServer, arranged: dict[str, int], screenshots: Path,
) -> None:
    url = f"{live_server.base_url}/organiser/sessions/{arranged['session']}/agenda"
    page.goto(url)
    titles = page.locator("table.agenda-table tbody th")
    expect(titles).to_have_text(["Welcome", "Keynote", "Questions"])
    _stays_on_this_page(page)

    page.get_by_role("button", name="Move up Questions").click()
    expect(titles).to_have_text(["Welcome", "Questions", "Keynote"])
    expect(page.get_by_role("status")).to_have_text(
        "Moved up: “Questions” is now item 2 of 3, 10:10–10:30.")
    expect(page.get_by_role("button", name="Move up Questions")).to_be_focused()
    _check(page, screenshots, "agenda-moved")
    page.keyboard.press("Enter")  # the focused button again: to the top, whose button is gone
    expect(titles).to_have_text(["Questions", "Welcome", "Keynote"])
    expect(page.get_by_role("button", name="Move down Questions")).to_be_focused()
    expect(page.get_by_role("status")).to_have_text(
        "Moved up: “Questions” is now item 1 of 3, 10:00–10:20.")
    assert _still_on_the_same_page(page)
    expect(page).to_have_url(url)
    _check(page, screenshots, "agenda-moved-to-the-top")
    _retitle_in_place(page, url, screenshots)


def test_typing_in_the_registrations_search_updates_the_table_in_place(
    page: Page, live_server: LiveServer, arranged: dict[str, int], screenshots: Path,
) -> None:
    base = f"{live_server.base_url}/organiser/events/{arranged['fair']}/registrations"
    page.goto(base)
    names = page.locator("table.registrations-table tbody tr td:nth-child(2)")
    expect(names).to_have_text([name for name, _ in REGISTRANTS])
    _stays_on_this_page(page)

    search = page.get_by_label("Search")
    search.press_sequentially("htmx")
    expect(names).to_have_text(["Ines Htmx", "Jonas Htmx"])
    expect(page.locator("#list-summary")).to_have_text(
        "Showing 1–2 of 2. Download all 2 as CSV")
    expect(page).to_have_url(f"{base}?status=&session=&q=htmx")
    expect(search).to_be_focused()
    expect(page.get_by_role("link", name="Clear the filter")).to_be_visible()
    # The status choices came again with the results: still showing the one chosen.
    expect(page.get_by_label("Status")).to_have_value("")
    assert _still_on_the_same_page(page)
    _check(page, screenshots, "registrations-searched")

    search.press_sequentially(" jena")  # "htmx jena": no registration has both
    expect(page.locator("#list-summary")).to_have_text("No registrations match.")
    expect(names).to_have_count(0)
    page.get_by_label("Status").select_option("waiting")
    search.fill("")
    expect(page).to_have_url(f"{base}?status=waiting&session=&q=")
    expect(page.locator("#list-summary")).to_have_text("No registrations match.")
    expect(page.get_by_label("Status")).to_have_value("waiting")
    assert _still_on_the_same_page(page)
    _check(page, screenshots, "registrations-nothing-matches")

    # The address pushed is the list's own: opened afresh, the same list.
    page.goto(f"{base}?status=&session=&q=htmx")
    expect(names).to_have_text(["Ines Htmx", "Jonas Htmx"])


def _retitle_in_place(page: Page, url: str, screenshots: Path) -> None:
    """The agenda is Questions, Welcome, Keynote now: Keynote's title and kind edited in its
    row, refused first, cancelled with Escape, then saved."""
    titles = page.locator("table.agenda-table tbody th")
    editing = page.locator("tr.agenda-editing")  # the page's "Add an item" has the same labels
    page.get_by_role("link", name="Edit Keynote").click()
    title = editing.get_by_label("Title")
    expect(title).to_be_focused()
    expect(title).to_have_value("Keynote")
    _check(page, screenshots, "agenda-editing-in-the-row")

    title.fill("   ")  # not empty to the browser, no title to the server
    editing.get_by_label("Kind").select_option("panel")
    page.get_by_role("button", name="Save the title and kind of Keynote").click()
    expect(page.locator("#agenda-status")).to_have_text(
        "Not saved: Enter a title.")
    expect(page.locator(".agenda-editing .error-message")).to_have_text(
        ["Error: Enter a title."])
    expect(title).to_be_focused()
    expect(editing.get_by_label("Kind")).to_have_value("panel")  # kept as chosen
    _check(page, screenshots, "agenda-editing-refused")

    title.press("Escape")
    expect(titles).to_have_text(["Questions", "Welcome", "Keynote"])
    expect(page.get_by_role("link", name="Edit Keynote")).to_be_focused()
    expect(editing).to_have_count(0)

    page.keyboard.press("Enter")  # the focused Edit link again
    editing.get_by_label("Title").fill("Keynote: fair ICT in practice")
    editing.get_by_label("Kind").select_option("panel")
    editing.get_by_label("Title").press("Enter")
    expect(titles).to_have_text(["Questions", "Welcome", "Keynote: fair ICT in practice"])
    expect(page.get_by_role("status")).to_have_text(
        "Saved: “Keynote: fair ICT in practice”.")
    expect(page.get_by_role("link", name="Edit Keynote: fair ICT in practice")).to_be_focused()
    expect(page.locator("#agenda-items tbody tr").nth(2).locator("td").nth(1)).to_have_text(
        "Panel")
    assert _still_on_the_same_page(page)
    expect(page).to_have_url(url)
    _check(page, screenshots, "agenda-retitled")

    page.reload()  # stored, not just shown
    expect(titles).to_have_text(["Questions", "Welcome", "Keynote: fair ICT in practice"])


def test_a_live_people_search_and_a_session_that_ended_meanwhile(
    page: Page, live_server: LiveServer, screenshots: Path,
) -> None:
    """The demo's people found as one types; signed out in another tab, the next live search
    brings the sign-in page as a whole page, never inside the results."""
    page.goto(f"{live_server.base_url}/organiser/people")
    names = page.locator("#people-results tbody th")
    _stays_on_this_page(page)

    page.get_by_label("Search by name, email or organisation").press_sequentially("carla")
    expect(names).to_have_text(["Carla Canal"])
    expect(page.get_by_role("status")).to_have_text("1 person matching “carla”.")
    expect(page).to_have_url(f"{live_server.base_url}/organiser/people?q=carla")
    assert _still_on_the_same_page(page)
    _check(page, screenshots, "people-searched")
    # Back: the address before the search, and its whole list (the page loaded again: no
    # copy of a page is kept in the browser's storage).
    page.go_back()
    expect(page).to_have_url(f"{live_server.base_url}/organiser/people")
    expect(page.get_by_label("Search by name, email or organisation")).to_have_value("")
    expect(names.nth(1)).to_be_visible()
    assert not _still_on_the_same_page(page)

    other_tab = page.context.new_page()
    other_tab.goto(f"{live_server.base_url}/organiser/")
    other_tab.get_by_role("button", name="Sign out").click()
    expect(other_tab.get_by_role("heading", level=1)).to_have_text("Sign in to the back office")
    page.get_by_label("Search by name, email or organisation").fill("carla canal")
    expect(page).to_have_url(f"{live_server.base_url}/organiser/login"
                             "?next=/organiser/people%3Fq%3Dcarla%2520canal")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the back office")
    expect(page.locator("#people-results")).to_have_count(0)

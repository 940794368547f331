"""The back office end to end in a real browser, on a SQLite file and on PostgreSQL.

An admin (made with the `create-organiser` command) invites an organiser; the invitation
arrives by SMTP and its link lets her choose a password. She builds the Make ICT Fair
webinar series from an empty programme: the event, its two sessions at the seed's times
in Europe/Brussels, each agenda pasted exactly as the programme published it, then
publishes after seeing who will be told. A procurer registers on the public page; the
organiser finds the registration and its confirmation email in the event's email log;
she moves session 2 by half an hour after seeing who will be told, and the registrant's
change notice arrives with the new time.

Each back-office page state is screenshotted (test-artifacts/screenshots/) and checked with
axe-core. The server clock is held by time-machine; the scheduler is off and its jobs are
called between steps, as the scheduler would, so nothing sleeps.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import socket
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import time_machine
import uvicorn
from playwright.sync_api import Browser, Page, expect

from notifications.transport import SmtpTransport
from scheduling.jobs import (
    JobContext,
    job_compose_welcome_emails,
    job_deliver_outbox,
    job_send_due_change_notices,
    job_send_due_speaker_notices,
)
from service.cli import build_parser, cmd_create_organiser
from service.db.engine import create_engine, make_sessionmaker
from service.settings import Settings, load_settings
from service.web.app import create_app
from tests import databases
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import DESKTOP, save_screenshot, sign_in
from tests.conftest import BACKENDS
from tests.smtp_server import ReceivedMessage, SmtpTestServer

pytestmark = pytest.mark.browser

AGENDAS = Path(__file__).resolve().parents[1] / "data" / "agendas"
AGENDA_1 = (AGENDAS / "make_ict_fair_session_1.txt").read_text(encoding="utf-8")
AGENDA_2 = (AGENDAS / "make_ict_fair_session_2.txt").read_text(encoding="utf-8")

# Three weeks before the first webinar (9 November 2020); registration is open then.
CLOCK = datetime(2020, 10, 20, 8, 0, tzinfo=UTC)
# Change notices are gathered for this long before they go out (the product's default).
NOTICE_WINDOW_SECONDS = 600

ADMIN_EMAIL = "ines.admin@procura.example.org"
ADMIN_PASSWORD = "granite-orchard-lamp-71"
ORGANISER_EMAIL = "olivia.programme@procura.example.org"
ORGANISER_NAME = "Olivia Programme"
ORGANISER_PASSWORD = "tidal-cobalt-meadow-38"
REGISTRANT_EMAIL = "marta.kovac@ljubljana.example.org"
REGISTRANT_NAME = "Marta Kovač"
CHANGE_LINE = ("From Thursday 10 December 2020, 10:00–11:30 CET (Europe/Brussels) "
               "to Thursday 10 December 2020, 10:30–12:00 CET (Europe/Brussels).")
SPEAKER_EMAIL = "kathleen.mccaughey@stockholm.example.org"

SLUG = "make-ict-fair-webinars"
TITLE = "Procura+ webinar series on socially responsible ICT procurement"
SUMMARY = ("Two consecutive webinars on 9 November and 10 December 2020: five case studies of "
           "good practice from the Make ICT Fair project.")
SESSION_1 = ("On the way towards social criteria – steps towards integrating social criteria "
             "in ICT Procurement tenders")
SESSION_2 = "Keeping social criteria alive- How to follow up through contract management"


@dataclass
class JourneyServer:
    """The app served by uvicorn on a free port, an SMTP server, and the scheduler's jobs."""

    backend: str
    base_url: str
    settings: Settings
    smtp: SmtpTestServer
    clock: time_machine.Traveller

    def run_jobs(self) -> None:
        """What the scheduler does on its ticks: compose new registrations' emails, send due
        change and speaker notices, deliver the outbox."""

        async def run() -> None:
            engine = create_engine(self.settings.database_url)
            transport = SmtpTransport(self.settings.smtp)
            context = JobContext(sessionmaker=make_sessionmaker(engine), settings=self.settings,
                                 transport=transport, worker_id="journey")
            try:
                for job in (job_compose_welcome_emails, job_send_due_change_notices,
                            job_send_due_speaker_notices, job_deliver_outbox):
                    await job(context)
            finally:
                await transport.close()
                await engine.dispose()

        databases.run_off_loop(lambda: asyncio.run(run()))

    def messages_to(self, address: str) -> list[ReceivedMessage]:
        return [m for m in self.smtp.messages if m.rcpt_tos == (address,)]


@pytest.fixture(scope="module")
def journey_clock() -> Iterator[time_machine.Traveller]:
    traveller = time_machine.travel(CLOCK, tick=True)
    coordinates = traveller.start()
    try:
        yield coordinates
    finally:
        traveller.stop()


@pytest.fixture(scope="module")
def empty_database(request: pytest.FixtureRequest,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database with nothing in it, on the backend of this run."""
    backend: str = request.param
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("journey-sqlite") / "procura.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    server: databases.PostgresServer = request.getfixturevalue("postgres_server")
    names: list[str] = []
    databases.run_off_loop(lambda: names.append(asyncio.run(databases.create_database(server))))
    try:
        yield server.url_for(names[0])
    finally:
        databases.run_off_loop(lambda: asyncio.run(databases.drop_database(server, names[0])))


@pytest.fixture(scope="module")
def journey_server(
    empty_database: str, journey_clock: time_machine.Traveller,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[JourneyServer]:
    directory = tmp_path_factory.mktemp("journey")
    smtp = SmtpTestServer()
    smtp.start()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    settings = load_settings(
        database_url=empty_database,
        public_base_url=f"http://127.0.0.1:{port}",
        secret_key="journey-test-secret-key",
        var_dir=directory / "var",
        maildir_path=directory / "maildir",
        smtp=smtp.smtp_settings(),
        run_scheduler=False,
        change_notice_window_seconds=NOTICE_WINDOW_SECONDS,
    )
    # Listening before the server thread starts: the browser's first requests wait in the
    # backlog until the app is up.
    server = uvicorn.Server(uvicorn.Config(
        create_app(settings), log_level="warning", access_log=False, lifespan="on", ws="none",
    ))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]},
                              name="uvicorn-journey", daemon=True)
    thread.start()
    try:
        yield JourneyServer(backend=empty_database.split("+", 1)[0],
                            base_url=settings.public_base_url, settings=settings, smtp=smtp,
                            clock=journey_clock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
        smtp.stop()


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _link(message: EmailMessage, pattern: str) -> str:
    links: list[str] = sorted(set(re.findall(pattern, _text(message))))
    assert len(links) == 1, links
    return links[0]


class Visit:
    """Screenshots and axe-core for each back-office page state, numbered in journey order."""

    page: Page

    def __init__(self, screenshots: Path, backend: str) -> None:
        self.screenshots = screenshots
        self.backend = backend
        self.count = 0
        for stale in screenshots.glob(f"backoffice-journey-{backend}-*.png"):
            stale.unlink()  # a previous run's numbering

    def __call__(self, state: str) -> None:
        self.count += 1
        name = f"backoffice-journey-{self.backend}-{self.count:02d}-{state}.png"
        save_screenshot(self.page, self.screenshots / name)
        assert_no_axe_violations(self.page, context=state)


def _sign_in(page: Page, base: str, email: str, password: str) -> None:
    sign_in(page, base, email, password)
    expect(page).to_have_url(f"{base}/organiser/")


def _create_admin(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first account, as an operator makes it: `procura-events create-organiser`."""
    monkeypatch.setenv("PROCURA_ORGANISER_PASSWORD", ADMIN_PASSWORD)
    args: argparse.Namespace = build_parser().parse_args([
        "create-organiser", "--email", ADMIN_EMAIL, "--name", "Ines Admin", "--role", "admin",
        "--team", "Programme team"])
    codes: list[int] = []
    databases.run_off_loop(lambda: codes.append(cmd_create_organiser(settings, args)))
    assert codes == [0]


def _paste_agenda(page: Page, visit: Visit, agenda: str, *, number: int,
                  titles: list[str], matches: Sequence[str | re.Pattern[str]]) -> None:
    """Paste the agenda on the session's agenda page, check what was read, create it."""
    page.get_by_role("link", name="Paste an agenda").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Paste an agenda")
    page.get_by_label("The agenda as the programme writes it").fill(agenda)
    page.get_by_role("button", name="Read the agenda").click()
    expect(page.locator("table.agenda-table tbody th")).to_have_text(titles)
    expect(page.locator("fieldset.agenda-match legend")).to_have_text(matches)
    visit(f"session-{number}-agenda-read")
    page.get_by_role("button", name="Create the agenda").click()
    expect(page.get_by_role("status")).to_have_text("Agenda created from the pasted text.")
    expect(page.locator("table.agenda-table tbody th")).to_have_count(len(titles))
    visit(f"session-{number}-agenda-created")


def _invite_and_sign_in_organiser(server: JourneyServer, browser: Browser,
                                  visit: Visit) -> Page:
    """Steps 1 and 2: the admin invites the organiser, who opens the emailed link, chooses
    a password and signs in. Returns the organiser's page, signed in."""
    base = server.base_url
    admin = browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Europe/Brussels")
    admin.set_default_timeout(10_000)
    page = visit.page = admin.new_page()
    page.goto(f"{base}/organiser/login")
    visit("login")
    _sign_in(page, base, ADMIN_EMAIL, ADMIN_PASSWORD)
    visit("admin-dashboard")
    page.get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accounts")
    visit("accounts")
    page.get_by_label("Email address").fill(ORGANISER_EMAIL)
    page.get_by_label("Name").fill(ORGANISER_NAME)
    page.get_by_role("radio", name=re.compile(r"^Organiser")).check()
    page.get_by_role("checkbox", name="Programme team").check()
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_role("status")).to_have_text(
        "Invitation sent: the link works for 72 hours.")
    expect(page.locator("tbody tr", has_text=ORGANISER_EMAIL).locator("td")).to_have_text(
        [ORGANISER_EMAIL, "organiser", "Programme team", "Invited, no password yet"])
    visit("accounts-invited")
    admin.close()

    server.run_jobs()
    invitations = server.messages_to(ORGANISER_EMAIL)
    assert len(invitations) == 1
    invitation = _link(invitations[0].message,
                       rf"{re.escape(base)}/organiser/invitations/[A-Za-z0-9_-]+")

    organiser = browser.new_context(viewport=DESKTOP, locale="en-GB",
                                    timezone_id="Europe/Brussels")
    organiser.set_default_timeout(10_000)
    page = visit.page = organiser.new_page()
    page.goto(invitation)
    visit("invitation")
    page.get_by_label("New password").fill(ORGANISER_PASSWORD)
    page.get_by_label("The same password again").fill(ORGANISER_PASSWORD)
    page.get_by_role("button", name="Save my password").click()
    expect(page.get_by_role("status")).to_have_text("Your password is saved: sign in with it.")
    visit("password-saved")
    page.get_by_label("Email address").fill(ORGANISER_EMAIL)
    page.get_by_label("Password").fill(ORGANISER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/organiser/")
    return page


def _find_confirmation_email(page: Page, event_url: str, visit: Visit) -> None:
    """The event's email log shows the registrant's confirmation, sent."""
    page.goto(f"{event_url}/emails")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Emails of {TITLE}")
    # The event's only email so far: the confirmation, sent at the first attempt.
    expect(page.locator("tbody tr th")).to_have_text([REGISTRANT_EMAIL])
    expect(page.locator("tbody tr td:nth-child(3)")).to_have_text([re.compile(r"^Sent")])
    expect(page.locator("tbody tr td:nth-child(4)")).to_have_text(["1"])
    visit("emails")
    page.get_by_role("link", name="Registration confirmed").click()
    expect(page.get_by_text(f"Registration confirmed: {TITLE}").first).to_be_visible()
    visit("email-as-sent")


@pytest.mark.parametrize("empty_database", BACKENDS, indirect=True, scope="module")
def test_run_the_make_ict_fair_series_from_the_back_office(
    journey_server: JourneyServer, browser: Browser, screenshots: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = journey_server
    base = server.base_url
    _create_admin(server.settings, monkeypatch)

    visit = Visit(screenshots, server.backend)
    page = _invite_and_sign_in_organiser(server, browser, visit)
    visit("organiser-dashboard")

    # 3. The Make ICT Fair series, from an empty programme.
    page.goto(f"{base}/organiser/events")
    expect(page.get_by_role("heading", level=1)).to_have_text("Events")
    visit("events-empty")
    page.get_by_role("link", name="New event").click()
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Brussels")
    page.get_by_label("Kind of event").select_option("webinar_series")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Web address").fill(SLUG)
    page.get_by_label("Summary").fill(SUMMARY)
    page.get_by_label("Registrants choose their sessions").check()
    visit("event-new")
    page.get_by_role("button", name="Create the draft").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_role("status")).to_have_text(
        "The draft is saved. Add its sessions, then publish it.")
    created = re.fullmatch(rf"({re.escape(base)}/organiser/events/\d+)\?done=created", page.url)
    assert created is not None, page.url
    event_url = created.group(1)
    visit("event-created")

    for number, (title, starts, ends) in enumerate([
        (SESSION_1, "2020-11-09T10:00", "2020-11-09T11:45"),
        (SESSION_2, "2020-12-10T10:00", "2020-12-10T11:30"),
    ], start=1):
        page.get_by_role("link", name="Add a session").click()
        page.get_by_label("Title").fill(title)
        page.get_by_label("Starts").fill(starts)
        page.get_by_label("Ends").fill(ends)
        page.get_by_label("Online", exact=True).check()
        page.get_by_label("Join link").fill(f"https://meet.example.org/make-ict-fair-{number}")
        visit(f"session-{number}-new")
        page.get_by_role("button", name="Add the session").click()
        expect(page.get_by_role("status")).to_have_text("The session is added.")
    expect(page.locator("#sessions-heading + div tbody td:nth-child(2)")).to_have_text([
        re.compile(r"9 November 2020.*10:00.*11:45"),
        re.compile(r"10 December 2020.*10:00.*11:30"),
    ])
    visit("event-with-sessions")

    page.get_by_role("link", name=f"Agenda of {SESSION_1}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Agenda: {SESSION_1}")
    visit("session-1-agenda-empty")
    _paste_agenda(page, visit, AGENDA_1, number=1, titles=[
        "Welcome and introduction",
        "Facing market challenges: The City of Barcelona on how market engagement helps to "
        "include social criteria",
        "Facing internal challenges: The City of Haarlem on how to address internal ICT "
        "procurement needs while including social criteria",
        "Including social criteria: The City of Stavanger on criteria and market response",
        "Q&A and opportunity for discussion",
    ], matches=[  # nobody is known yet: four new organisations, four new people
        "“ICLEI Local Governments for Sustainability” new",
        "“Barcelona City Council” new",
        "“Municipality of Haarlem” new",
        "“City of Stavanger” new",
        "“Paula Land”, ICLEI Local Governments for Sustainability new",
        "“Carla Canal”, Barcelona City Council new",
        "“Rudie de Vries”, Municipality of Haarlem new",
        "“Elin Seveholt”, City of Stavanger new",
    ])
    expect(page.locator("table.agenda-table tbody td.agenda-when")).to_have_text(
        ["10:00–10:10 CET", "10:10–10:40 CET", "10:40–11:10 CET", "11:10–11:30 CET",
         "11:30–11:45 CET"])

    page.goto(event_url)
    page.get_by_role("link", name=f"Agenda of {SESSION_2}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Agenda: {SESSION_2}")
    # ICLEI and Paula Land, made from the first agenda, are matched; the rest are new.
    _paste_agenda(page, visit, AGENDA_2, number=2, titles=[
        "Welcome and introduction",
        "Set up Contract management: APUC Scotland on contract clauses & Key Performance "
        "Indicators",
        "Outcomes of contract management: Region Stockholm on lessons learnt on how to keep "
        "social criteria alive",
        "Q&A and opportunity for Discussion",
    ], matches=[
        re.compile(r"^“ICLEI Local Governments for Sustainability” matches #\d+$"),
        "“APUC Scotland” new",
        "“Region Stockholm” new",
        re.compile(r"^“Paula Land”, ICLEI Local Governments for Sustainability matches #\d+$"),
        "“Michael McLaughlin”, APUC Scotland new",
        "“Kathleen McCaughey”, Region Stockholm new",
    ])
    expect(page.locator("table.agenda-table tbody td.agenda-when")).to_have_text(
        ["10:00–10:10 CET", "10:10–10:40 CET", "10:40–10:55 CET", "10:55–11:30 CET"])

    # The pasted speakers have no email address yet: the organiser adds one speaker's.
    page.goto(f"{base}/organiser/people")
    page.get_by_label("Search by name, email or organisation").fill("McCaughey")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status")).to_have_text("1 person matching “McCaughey”.")
    visit("people-search")
    page.get_by_role("link", name="Kathleen McCaughey").click()
    page.get_by_label("Email address").fill(SPEAKER_EMAIL)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_have_text("Your changes were saved.")
    visit("person-saved")

    page.goto(event_url)
    page.get_by_role("link", name="Publish").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Publish: who will be told what")
    expect(page.locator("#registrants-heading + p")).to_have_text(
        "Nobody has registered for what this changes.")
    expect(page.locator("#speakers-heading + p")).to_have_text(
        "6 speakers in the sessions concerned; 0 will be emailed.")
    expect(page.locator("#emails-heading")).to_have_text("No emails")
    visit("publish-preview")
    page.get_by_role("button", name="Publish the event").click()
    expect(page.get_by_role("status")).to_have_text(
        "The event is published: it is on the programme and open to registration.")
    visit("event-published")

    # 4. A procurer registers on the public page, in a browser of her own.
    procurer = browser.new_context(viewport=DESKTOP, locale="en-GB",
                                   timezone_id="Europe/Ljubljana")
    procurer.set_default_timeout(10_000)
    public = procurer.new_page()
    public.goto(f"{base}/events/{SLUG}/register")
    expect(public.get_by_role("heading", level=1)).to_have_text(f"Register for {TITLE}")
    public.get_by_label("Full name").fill(REGISTRANT_NAME)
    public.get_by_label("Email address", exact=True).fill(REGISTRANT_EMAIL)
    public.get_by_label("Job title").fill("Procurement officer")
    public.get_by_label("Organisation (optional)", exact=True).fill("City of Ljubljana")
    public.get_by_label("Type of organisation").select_option("public_authority")
    public.get_by_label("Country").select_option("SI")
    public.get_by_label(SESSION_1).check()
    public.get_by_label(SESSION_2).check()
    public.get_by_label("I agree").check()
    public.get_by_role("button", name="Register").click()
    expect(public.get_by_role("heading", level=1)).to_have_text("You are registered")
    procurer.close()

    server.run_jobs()
    confirmations = server.messages_to(REGISTRANT_EMAIL)
    assert [str(m.message["Subject"]) for m in confirmations] == [
        f"Registration confirmed: {TITLE}"]

    # 5. The organiser finds the registration and its confirmation email.
    page.goto(f"{event_url}/registrations")
    visit("registrations")
    page.get_by_label("Search").fill("Kovač")
    page.get_by_role("button", name="Show").click()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.get_by_role("link", name=REGISTRANT_NAME)).to_be_visible()
    expect(rows.locator("td.email")).to_have_text(REGISTRANT_EMAIL)
    visit("registrations-search")

    _find_confirmation_email(page, event_url, visit)

    # 6. Session 2 moves half an hour later, after the organiser sees who will be told.
    page.goto(event_url)
    page.get_by_role("link", name=f"Edit or move {SESSION_2}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit or move a session")
    visit("session-2-edit")
    page.get_by_label("Starts").fill("2020-12-10T10:30")
    page.get_by_label("Ends").fill("2020-12-10T12:00")
    page.get_by_role("button", name="Save the session").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Move {SESSION_2}: who will be told what")
    # One registrant with a place, emailed; the three speakers have no address to email.
    expect(page.locator("#registrants-heading + table tbody td")).to_have_text(
        ["Confirmed", "1", "1"])
    expect(page.locator("#speakers-heading + p")).to_have_text(
        "3 speakers in the sessions concerned; 1 will be emailed.")
    expect(page.locator(".change-line")).to_have_text(CHANGE_LINE)
    expect(page.locator("#emails-heading")).to_have_text("2 emails")
    visit("session-2-move-preview")
    page.get_by_role("button", name="Confirm the change").click()
    expect(page.get_by_role("status")).to_have_text(
        "The session is saved. Registrants and speakers are told as shown.")
    visit("event-session-2-moved")

    # The notices wait for their gathering window (nothing yet), then go out.
    server.run_jobs()
    assert len(server.messages_to(REGISTRANT_EMAIL)) == 1
    assert server.messages_to(SPEAKER_EMAIL) == []
    server.clock.shift(timedelta(seconds=NOTICE_WINDOW_SECONDS + 1))
    server.run_jobs()
    notices = server.messages_to(REGISTRANT_EMAIL)[1:]
    assert [str(m.message["Subject"]) for m in notices] == [
        f"New time: {SESSION_2} is now on Thursday 10 December 2020 at 10:30 CET"]
    text = _text(notices[0].message)
    lines = text.splitlines()
    start = lines.index("What changed:")
    assert lines[start:lines.index("", start)] == [
        "What changed:",
        "- Date and time: Thursday 10 December 2020, 10:00–11:30 CET (Europe/Brussels)",
        "  -> now: Thursday 10 December 2020, 10:30–12:00 CET (Europe/Brussels)",
    ]
    speaker_notices = server.messages_to(SPEAKER_EMAIL)
    assert [str(m.message["Subject"]) for m in speaker_notices] == [
        "Your speaking slot has changed: Outcomes of contract management: Region Stockholm on "
        "lessons learnt on how to keep social criteria alive, now on Thursday 10 December 2020 "
        "at 11:10 CET"]
    page.context.close()

"""A real browser against the real app: Debian's Chromium driven by Playwright, uvicorn, SQLite.

The server runs in a background thread on 127.0.0.1 at a free port, against a migrated
SQLite file with the demo programme, with mail going to a real aiosmtpd. The whole module
runs with the clock moved to 20 October 2020 (time-machine, ticking), so the Make ICT Fair
series of November 2020 is open for registration; the browser is another process with its
own clock, which is why the CSRF cookie is a session cookie.

Playwright's own browser download cannot work here: we launch /usr/bin/chromium.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
import time_machine
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.delivery import deliver_due_emails
from notifications.transport import SmtpTransport
from service.db.engine import create_engine, make_sessionmaker, session_scope
from service.domain.registration import compose_welcome_emails
from service.operations.demo import load_demo_meetings, load_demo_programme
from service.settings import Settings, load_settings
from service.web.app import create_app
from tests.databases import run_off_loop
from tests.smtp_server import SmtpTestServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# Three weeks before the first webinar of the Make ICT Fair series (9 November 2020).
CLOCK = datetime(2020, 10, 20, 8, 0, tzinfo=UTC)
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
T = TypeVar("T")


def save_screenshot(page: Page, path: Path, *, full_page: bool = True) -> None:
    """A picture of the page for people to look at (test-artifacts/), asserting nothing.

    Chromium now and then refuses a capture ("Protocol error (Page.captureScreenshot):
    Unable to capture screenshot", seen once in a whole run, just after a form was saved):
    that refusal alone is tried again, after the next frame, at most twice.
    """
    for attempt in range(3):
        try:
            page.screenshot(path=path, full_page=full_page)
            return
        except PlaywrightError as error:
            if "Unable to capture screenshot" not in error.message or attempt == 2:
                raise
            page.evaluate("() => new Promise(done => requestAnimationFrame(() => done(null)))")


def desktop_page(browser: Browser, timezone_id: str) -> tuple[BrowserContext, Page]:
    """A fresh desktop browser in `timezone_id` (cookies of its own), its one page."""
    context = browser.new_context(viewport=DESKTOP, timezone_id=timezone_id)
    context.set_default_timeout(10_000)
    return context, context.new_page()


def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    """Through the back office's sign-in form, as a person does."""
    page.goto(f"{base_url}/organiser/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@dataclass
class LiveServer:
    base_url: str
    settings: Settings
    smtp: SmtpTestServer

    def arrange(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """`work` done in a database session of its own and committed, before the browser
        looks: what a test sets up (accounts, registrants), and what it returns."""

        async def run() -> T:
            engine = create_engine(self.settings.database_url)
            try:
                async with make_sessionmaker(engine)() as db:
                    result = await work(db)
                    await db.commit()
                    return result
            finally:
                await engine.dispose()

        found: list[T] = []
        run_off_loop(lambda: found.append(asyncio.run(run())))
        return found[0]

    def deliver_emails(self) -> None:
        """What the scheduler's jobs would do: compose what registrations recorded, then
        send what the outbox holds now."""

        async def deliver() -> None:
            engine = create_engine(self.settings.database_url)
            transport = SmtpTransport(self.settings.smtp)
            sessionmaker = make_sessionmaker(engine)
            try:
                async with session_scope(sessionmaker) as db:
                    await compose_welcome_emails(db, now=datetime.now(UTC),
                                                 settings=self.settings)
                await deliver_due_emails(
                    sessionmaker, transport, settings=self.settings,
                    now=datetime.now(UTC), worker_id="browser-test",
                )
            finally:
                await transport.close()
                await engine.dispose()

        run_off_loop(lambda: asyncio.run(deliver()))


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not CHROMIUM.exists():
        pytest.fail(
            "The browser tests need Debian's Chromium at /usr/bin/chromium. Install it with: "
            "apt-get install -y chromium",
            pytrace=False,
        )
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="module")
def clock() -> Iterator[None]:
    traveller = time_machine.travel(CLOCK, tick=True)
    traveller.start()
    try:
        yield
    finally:
        traveller.stop()


@pytest.fixture(scope="module")
def live_server(
    clock: None, sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("browser")
    database = directory / "procura.db"
    shutil.copyfile(sqlite_template, database)
    smtp = SmtpTestServer()
    smtp.start()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{database}",
        public_base_url=f"http://127.0.0.1:{port}",
        secret_key="browser-test-secret-key",
        var_dir=directory / "var",
        maildir_path=directory / "maildir",
        smtp=smtp.smtp_settings(),
        run_scheduler=False,
    )

    async def load_demo() -> None:
        engine = create_engine(settings.database_url)
        async with make_sessionmaker(engine)() as db:
            await load_demo_programme(db, now=CLOCK, settings=settings)
            await load_demo_meetings(db, now=CLOCK, settings=settings)
            await db.commit()
        await engine.dispose()

    run_off_loop(lambda: asyncio.run(load_demo()))

    # Listening before the server thread starts: the browser's first requests wait in the
    # socket's backlog until the app is up, so nothing has to poll for readiness.
    server = uvicorn.Server(uvicorn.Config(
        create_app(settings), log_level="warning", access_log=False, lifespan="on", ws="none",
    ))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]},
                              name="uvicorn-browser-tests", daemon=True)
    thread.start()
    try:
        yield LiveServer(base_url=settings.public_base_url, settings=settings, smtp=smtp)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
        smtp.stop()


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()

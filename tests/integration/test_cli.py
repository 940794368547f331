"""The `procura-events` command run as people run it: a real process, real HTTP, real files."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.delivery import deliver_due_emails
from notifications.transport import MaildirTransport
from service.clock import utc_now
from service.operations.demo import MAKE_ICT_FAIR_SLUG
from service.settings import Settings
from tests.factories import (
    EventSpec,
    free_port,
    make_event,
    registration_form,
)
from tests.integration.test_registration import (
    compose_emails,
    register,
)

ROOT = Path(__file__).resolve().parents[2]


def _clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any setting of ours, plus `extra`."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("PROCURA_") and name not in {"HOST", "PORT"}}
    return {**env, **extra}




@pytest.fixture
def var_dir(sqlite_template: Path, tmp_path: Path) -> Path:
    """A var/ directory with a migrated SQLite database, as `procura-events migrate` leaves it."""
    directory = tmp_path / "var"
    directory.mkdir()
    shutil.copyfile(sqlite_template, directory / "procura.db")
    return directory


@pytest.fixture(params=["PORT", "--port"])
def served_on_port(request: pytest.FixtureRequest, var_dir: Path) -> Iterator[tuple[int, list[str]]]:
    """`PORT=<free> procura-events serve --demo` (as `tasks.py run` starts it), or with
    `--port <free>`; no public address configured either way."""
    port = free_port()
    by_argument = request.param == "--port"
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--demo",
         *(["--port", str(port)] if by_argument else [])],
        cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env=_clean_env(PROCURA_VAR_DIR=str(var_dir), PROCURA_RUN_SCHEDULER="false",
                       PYTHONUNBUFFERED="1", **({} if by_argument else {"PORT": str(port)})),
    )
    watchdog = threading.Timer(120, process.kill)  # a hung start fails the test, not the run
    watchdog.start()
    printed: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:  # until uvicorn says the app is up
            printed.append(line.rstrip("\n"))
            if "Application startup complete" in line:
                break
        assert process.poll() is None, "\n".join(printed)
        yield port, printed
    finally:
        watchdog.cancel()
        process.terminate()
        process.wait(timeout=30)


def test_serve_on_port_prints_its_address_and_links_point_there(
    served_on_port: tuple[int, list[str]],
) -> None:
    port, printed = served_on_port
    base = f"http://127.0.0.1:{port}"

    with httpx.Client(base_url=base) as http:
        event = http.get(f"/api/events/{MAKE_ICT_FAIR_SLUG}").json()
        seminar = http.get("/api/events/procura-plus-seminar-2027").json()
        receipt = http.post("/api/events/procura-plus-seminar-2027/registrations",
                            json=registration_form()).json()
        page = http.get(f"/events/{MAKE_ICT_FAIR_SLUG}").text

    first = event["sessions"][0]
    assert first["ics_url"] == f"{base}/feeds/sessions/{first['id']}.ics"
    assert seminar["webcal_url"] == (
        f"webcal://127.0.0.1:{port}/feeds/events/procura-plus-seminar-2027.ics")
    assert receipt["manage_url"].startswith(f"{base}/registrations/")
    assert f"webcal://127.0.0.1:{port}/feeds/events/{MAKE_ICT_FAIR_SLUG}.ics" in page
    assert ":8000" not in page
    announced = [line for line in printed if line.startswith("Procura Events serving on")]
    assert announced == [f"Procura Events serving on {base} (API docs at {base}/api/docs)"]


# --- show-mail ------------------------------------------------------------------------------


async def _register_and_deliver(client: Any, db_sessionmaker: Any, settings: Settings,
                                **form_fields: str) -> str:
    """Register through the API, then compose and deliver to the Maildir as the scheduler
    would; the private link the registrant receives."""
    receipt = await register(client, EventSpec().slug, **form_fields)
    await compose_emails(db_sessionmaker, settings)
    await deliver_due_emails(db_sessionmaker, MaildirTransport(settings.maildir_path),
                             settings=settings, now=utc_now(), worker_id="test")
    return str(receipt.json()["manage_url"])


def _show_mail(settings: Settings, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "show-mail", *args], cwd=ROOT, text=True,
        capture_output=True, check=True,
        env=_clean_env(PROCURA_MAILDIR=str(settings.maildir_path),
                       PROCURA_VAR_DIR=str(settings.var_dir), PROCURA_SECRET_KEY="unused"),
    )
    return result.stdout


async def test_show_mail_prints_the_latest_emails_decoded_with_whole_links(
    client: Any, db: AsyncSession, db_sessionmaker: Any, settings: Settings
) -> None:
    await make_event(db, settings)
    ana_link = await _register_and_deliver(client, db_sessionmaker, settings,
                                           name="Ana Šilva", email_address="ana@lisboa.example.pt")
    ben_link = await _register_and_deliver(client, db_sessionmaker, settings,
                                           name="Ben Østergaard", email_address="ben@aarhus.example.dk")
    raw = b"".join(path.read_bytes() for path in (settings.maildir_path / "new").iterdir())

    latest = _show_mail(settings)
    both = _show_mail(settings, "--last", "5")

    # The problem: in the stored file, quoted-printable breaks the private links.
    assert (ana_link.encode() in raw, ben_link.encode() in raw) == (False, False)
    subject = "Subject: Registration confirmed: Fair ICT procurement webinars"
    assert [line for line in latest.splitlines() if line.startswith(("===", "To:", "Subject:"))] == [
        f"=== Email 1 of 1, delivered {_delivered(latest, 1)}",
        "To: Ben Østergaard <ben@aarhus.example.dk>", subject]
    assert [line for line in both.splitlines() if line.startswith(("===", "To:", "From:"))] == [
        f"=== Email 1 of 2, delivered {_delivered(both, 1)}",
        "From: Procura+ Events <events@procura.example.org>",
        "To: Ana Šilva <ana@lisboa.example.pt>",
        f"=== Email 2 of 2, delivered {_delivered(both, 2)}",
        "From: Procura+ Events <events@procura.example.org>",
        "To: Ben Østergaard <ben@aarhus.example.dk>"]
    assert (_links(latest), _links(both)) == ([ben_link], [ana_link, ben_link])
    assert [line for line in latest.splitlines() if line.startswith("Other parts:")] == [
        "Other parts: text/html, text/calendar; method=REQUEST, "
        "invite-1.ics (text/calendar; method=REQUEST), "
        "invite-2.ics (text/calendar; method=REQUEST)"]  # one invite per session


def _delivered(output: str, number: int) -> str:
    """The rest of the heading line of email `number` (its time and file)."""
    heading = [line for line in output.splitlines() if line.startswith(f"=== Email {number} ")]
    return heading[0].split(", delivered ", 1)[1]


def _links(output: str) -> list[str]:
    """Every distinct private link in the printed text, in order of appearance."""
    found = re.findall(r"http://events\.test/registrations/[A-Za-z0-9_-]+", output)
    return list(dict.fromkeys(found))

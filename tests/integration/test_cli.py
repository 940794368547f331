"""The `procura-events` command run as people run it: a real process, real HTTP, real files."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.domain.demo import MAKE_ICT_FAIR_SLUG
from tests.integration.test_registration import form

ROOT = Path(__file__).resolve().parents[2]


def _clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any setting of ours, plus `extra`."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("PROCURA_") and name not in {"HOST", "PORT"}}
    return {**env, **extra}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
    port = _free_port()
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
                            json=form()).json()
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

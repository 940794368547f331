"""`procura-events create-organiser`: the first admin, made from the command line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from service.settings import load_settings
from service.web.app import create_app
from tests.conftest import TEST_BASE_URL
from tests.integration.backoffice import sign_in
from tests.integration.test_cli import ROOT, _clean_env

PASSWORD = "lantern-quarry-velvet-29"


@pytest.fixture
def var_dir(sqlite_template: Path, tmp_path: Path) -> Path:
    directory = tmp_path / "var"
    directory.mkdir()
    shutil.copyfile(sqlite_template, directory / "procura.db")
    return directory


def _create(var_dir: Path, *args: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", "create-organiser", *args],
        cwd=ROOT, text=True, capture_output=True, timeout=120, check=False,
        env=_clean_env(PROCURA_VAR_DIR=str(var_dir), PROCURA_ORGANISER_PASSWORD=password),
    )


async def test_create_organiser_makes_an_admin_who_can_sign_in(var_dir: Path) -> None:
    done = _create(var_dir, "--email", "Ada@Procura.example.org", "--name", "Ada Lovelace",
                   "--role", "admin", "--team", "Programme team")
    settings = load_settings(database_url=f"sqlite+aiosqlite:///{var_dir / 'procura.db'}",
                             var_dir=var_dir, public_base_url=TEST_BASE_URL, run_scheduler=False)
    async with AsyncTestClient(app=create_app(settings), base_url=TEST_BASE_URL) as client:
        answer = await sign_in(client, "ada@procura.example.org", PASSWORD)
        home = await client.get("/organiser/")

    assert (done.returncode, done.stdout.strip()) == (
        0, "Created admin account #1 for ada@procura.example.org in 'Programme team'.")
    assert (answer.status_code, answer.headers["location"]) == (303, "/organiser/")
    assert '<a href="/organiser/accounts"' in home.text  # the admins' menu entry


def test_create_organiser_refuses_a_weak_password_and_creates_nothing(var_dir: Path) -> None:
    weak = _create(var_dir, "--email", "ada@procura.example.org", "--name", "Ada Lovelace",
                   "--role", "admin", password="ada-lovelace-1815")
    again = _create(var_dir, "--email", "ada@procura.example.org", "--name", "Ada Lovelace",
                    "--role", "admin")

    assert (weak.returncode, weak.stderr.strip()) == (
        1, "password: Do not use your email address in your password. "
           "Do not use your name in your password.")
    assert again.returncode == 0


async def test_the_demo_gets_an_administrator_once_and_a_real_installation_none(
    var_dir: Path, tmp_path: Path,
) -> None:
    """`load-demo` (run by `tasks.py run`) gives an empty installation a way into the back
    office; run again it keeps that account, and where accounts exist it adds none."""
    def load_demo(directory: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "service.cli", "load-demo"], cwd=ROOT, text=True,
            capture_output=True, timeout=300, check=False,
            env=_clean_env(PROCURA_VAR_DIR=str(directory), PROCURA_RUN_SCHEDULER="false"))

    first = load_demo(var_dir)
    note = var_dir / "demo-administrator.txt"
    email, password = note.read_text().split()
    second = load_demo(var_dir)
    settings = load_settings(database_url=f"sqlite+aiosqlite:///{var_dir / 'procura.db'}",
                             var_dir=var_dir, public_base_url=TEST_BASE_URL, run_scheduler=False)
    async with AsyncTestClient(app=create_app(settings), base_url=TEST_BASE_URL) as client:
        answer = await sign_in(client, email, password)
    real = tmp_path / "real"  # the same database, its note gone: as if accounts were made
    shutil.copytree(var_dir, real)
    (real / "demo-administrator.txt").unlink()
    third = load_demo(real)

    assert (first.returncode, second.returncode, third.returncode) == (0, 0, 0)
    assert email == "admin@procura.example.org"
    assert (note.stat().st_mode & 0o777, note.read_text()) == (0o600, f"{email}\n{password}\n")
    assert f"password in {note}" in first.stdout and f"password in {note}" in second.stdout
    assert (answer.status_code, answer.headers["location"]) == (303, "/organiser/")
    assert "Back office" not in third.stdout  # accounts exist: no demo administrator
    assert not (real / "demo-administrator.txt").exists()

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

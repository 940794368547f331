#!/usr/bin/env python3
"""Set-up in one command on a machine that has only Python 3.11+ and pip.

    python3 tasks.py run    install, migrate, load the demo programme, serve on :8000
                            (HOST and PORT choose another address)
    python3 tasks.py test   install, then ruff, mypy, the import contracts and the whole test suite
    python3 tasks.py messages [LANGUAGE]
                            gather the translatable messages of the code and templates into
                            every catalogue under service/locale/ (a new LANGUAGE: start its
                            catalogue)

Standard library only: this file runs before anything is installed. It creates `.venv/`
beside itself and installs exactly the versions pinned in the lock files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(*command: str | Path, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(part) for part in command], cwd=ROOT, check=True, env=env)


def install(lock_file: str) -> None:
    if sys.version_info < (3, 11):
        sys.exit("Procura Events needs Python 3.11 or newer.")
    if not PYTHON.exists():
        step("creating the virtual environment in .venv/")
        venv.create(VENV, with_pip=True)
    marker = VENV / f".installed-{lock_file}"
    lock = ROOT / lock_file
    pinned = lock.read_text() + "".join(
        path.read_text() for path in [lock.with_name(lock.stem + "-no-deps.lock")] if path.exists())
    if marker.exists() and marker.read_text() == pinned:
        return
    step(f"installing pinned dependencies from {lock_file}")
    run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", lock)
    # Test-only packages whose declared bounds are older than our pins (they work with them:
    # the tests that use them say so); installed as pinned, without their declared deps.
    no_deps = lock.with_name(lock.stem + "-no-deps.lock")
    if no_deps.exists():
        run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-deps", "-r", no_deps)
    run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
        "-e", ".")
    marker.write_text(pinned)


def ensure_chromium() -> None:
    """The browser tests drive Debian's Chromium; install it where we may, else say how."""
    if any(Path(path).exists() for path in CHROMIUM_CANDIDATES):
        return
    apt_get = shutil.which("apt-get")
    if apt_get and os.geteuid() == 0:
        step("installing Chromium for the browser tests (apt-get install chromium)")
        subprocess.run([apt_get, "update", "-qq"], check=True)
        subprocess.run([apt_get, "install", "-y", "-qq", "chromium"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        return
    sys.exit(
        "The browser tests need Chromium at /usr/bin/chromium. Install it with\n"
        "    sudo apt-get install -y chromium\n"
        "(Debian/Ubuntu) and run `python3 tasks.py test` again."
    )


LIBICAL_PROBE = "import gi; gi.require_version('ICalGLib', '3.0'); from gi.repository import ICalGLib"


def ensure_libical() -> None:
    """libical (Evolution's iCalendar parser and iTIP checker) reads the invites in the tests,
    through the machine's Python; install it where we may, else those checks are skipped."""
    system_python = "/usr/bin/python3"
    probe = [system_python, "-c", LIBICAL_PROBE]
    if Path(system_python).exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return
    apt_get = shutil.which("apt-get")
    if apt_get and os.geteuid() == 0:
        step("installing libical for the invite checks (apt-get install gir1.2-ical-3.0)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = [apt_get, "install", "-y", "-qq", "gir1.2-ical-3.0", "python3-gi"]
        if subprocess.run(install, env=env).returncode != 0:
            subprocess.run([apt_get, "update", "-qq"], env=env)
            subprocess.run(install, env=env)
        return
    step("libical not found: the invite checks that use it will be skipped "
         "(sudo apt-get install gir1.2-ical-3.0 python3-gi)")


def command_run() -> None:
    install("requirements.lock")
    cli = BIN / "procura-events"
    step("migrating the database (SQLite file under var/)")
    run(cli, "migrate")
    step("loading the demo programme")
    run(cli, "load-demo")
    # `serve` reads HOST and PORT itself and prints the address it serves on.
    step("starting the web service (Ctrl+C to stop)")
    run(cli, "serve")


def command_test() -> None:
    install("requirements-dev.lock")
    ensure_chromium()
    ensure_libical()
    step("ruff")
    run(BIN / "ruff", "check", ".")
    step("mypy")
    run(BIN / "mypy")
    step("import contracts (the layers drawn in README's Layout)")
    run(BIN / "lint-imports")
    step("pytest (SQLite file and a throwaway PostgreSQL server, one worker per core)")
    # Two workers, each taking whole test files (their module fixtures, such as a browser
    # test's live server, start once); each worker starts its own PostgreSQL server.
    run(PYTHON, "-m", "pytest", "--numprocesses", "2", "--dist", "loadfile", *sys.argv[2:])


LOCALE_DIR = ROOT / "service" / "locale"


def command_messages() -> None:
    """Extract every marked message, then bring each catalogue up to date (new messages
    empty, changed ones fuzzy: the catalogue test fails until a translator fills them)."""
    install("requirements-dev.lock")
    template = LOCALE_DIR / "messages.pot"
    babel = (PYTHON, "-m", "babel.messages.frontend")
    step("extracting messages into service/locale/messages.pot")
    run(*babel, "--quiet", "extract", "--mapping-file", LOCALE_DIR / "babel.cfg",
        "--add-comments", "Translators:", "--sort-by-file", "--width", "100",
        "--project", "Procura Events", "--output-file", template, ".")
    for language in sys.argv[2:]:
        if not (LOCALE_DIR / language).exists():
            step(f"starting the {language} catalogue")
            run(*babel, "--quiet", "init", "--input-file", template, "--output-dir", LOCALE_DIR,
                "--locale", language, "--width", "100")
    step("updating the catalogues")
    run(*babel, "--quiet", "update", "--input-file", template, "--output-dir", LOCALE_DIR,
        "--width", "100", "--ignore-obsolete", "--no-fuzzy-matching")


def main() -> None:
    commands = {"run": command_run, "test": command_test, "messages": command_messages}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    try:
        commands[sys.argv[1]]()
    except subprocess.CalledProcessError as error:
        sys.exit(error.returncode)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()

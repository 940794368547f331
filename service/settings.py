"""Typed settings read once from the environment.

Every knob the service has lives here, with a default that suits the embedded set-up
(a SQLite file under var/, mail to a local Maildir). Nothing secret has a committed value:
the secret key is generated into var/ on first use when none is configured.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# Addresses that mean "every interface": nobody can browse to them, so links use loopback.
_WILDCARD_HOSTS = {"", "0.0.0.0", "::", "[::]"}  # noqa: S104 - recognised, not bound


def base_url_for(host: str, port: int) -> str:
    """The address of a server bound to `host`:`port`, as links and the console show it."""
    host = host.strip()
    if host in _WILDCARD_HOSTS:
        host = DEFAULT_HOST
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 literal
    return f"http://{host}:{port}"


def configured_public_base_url() -> str | None:
    """PROCURA_PUBLIC_BASE_URL when set; otherwise links follow the address served on."""
    return os.environ.get("PROCURA_PUBLIC_BASE_URL", "").strip().rstrip("/") or None


def serving_host() -> str:
    """The interface to serve on: HOST, as `python3 tasks.py run` and `serve` read it."""
    return os.environ.get("HOST", "").strip() or DEFAULT_HOST


def serving_port() -> int:
    """The port to serve on: PORT, as `python3 tasks.py run` and `serve` read it."""
    return _env_int("PORT", DEFAULT_PORT)


def _secret_key(var_dir: Path) -> str:
    configured = os.environ.get("PROCURA_SECRET_KEY")
    if configured:
        return configured
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None
    port: int
    username: str | None
    password: str | None
    security: str  # "none", "starttls" or "tls"
    timeout_seconds: float
    connections: int

    @property
    def is_configured(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True)
class Settings:
    database_url: str
    public_base_url: str
    secret_key: str
    var_dir: Path
    maildir_path: Path
    mail_from: str
    organiser_email: str
    organiser_name: str
    smtp: SmtpSettings
    run_scheduler: bool
    change_notice_window_seconds: int
    # Reminders due within this many minutes are composed into the outbox ahead of time.
    reminder_prepare_minutes: int = 30
    # Registrations (form and API together) accepted per client address and minute.
    registration_rate_limit: int = 10
    # Back-office sign-in: a session ends after this long without a request, and after
    # this long in any case.
    session_idle_minutes: int = 120
    session_max_hours: int = 12
    debug: bool = False
    extra: dict[str, str] = field(default_factory=dict)
    # PROCURA_UID_DOMAIN: the installation's identity in iCalendar UIDs; None derives it
    # from the public base URL (see `uid_domain`).
    configured_uid_domain: str | None = None
    # Personal data: months after an event ends that registrants' data is kept (an event
    # may set its own), and days after it ends that accessibility and dietary notes are.
    retention_months: int = 12
    access_note_days: int = 30
    # PROCURA_PRIVACY_NOTICE_FILE: the text of the installation's first privacy notice
    # (None: the default text in templates/pages/privacy_notice_default.txt).
    privacy_notice_file: Path | None = None

    def __post_init__(self) -> None:
        if self.configured_uid_domain is not None:
            check_uid_domain(self.configured_uid_domain)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def uid_domain(self) -> str:
        """The right-hand part of iCalendar UIDs (`session-7@events.example.org`).

        It must stay the same for the lifetime of an installation (a new one makes every
        calendar show each session twice) and differ between installations (or their
        sessions replace each other's in calendars). PROCURA_UID_DOMAIN sets it; by default
        it is the public base URL's host, with its port unless that is the scheme's own
        (so `http://127.0.0.1:8000` and `:8001` differ, while an installation served on
        plain https keeps the UIDs it always had).
        """
        if self.configured_uid_domain:
            return self.configured_uid_domain
        return derive_uid_domain(self.public_base_url)

    @property
    def is_https(self) -> bool:
        """Served over https: cookies are then marked Secure."""
        return urlsplit(self.public_base_url).scheme.lower() == "https"

    @property
    def mail_domain(self) -> str:
        """The host alone, for Message-IDs (a port is not allowed there; they are random)."""
        return _base_host(self.public_base_url) or "procura-events.local"


_DEFAULT_PORTS = {"http": 80, "https": 443}
# A host name or IPv4 address (letters, digits, dots, hyphens) or a bracketed IPv6 address,
# optionally with a port: no "@", space or line break can reach a UID.
_UID_DOMAIN = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])"
                         r"(?::[0-9]{1,5})?$")


def check_uid_domain(value: str) -> str:
    """`value` if it can stand after the "@" of a UID; ValueError naming the setting if not."""
    if not _UID_DOMAIN.fullmatch(value) or len(value) > 255:
        raise ValueError(
            f"PROCURA_UID_DOMAIN must be a host name, optionally with a port "
            f"(e.g. events.example.org or events.example.org:8443), not {value!r}"
        )
    return value


def _base_host(public_base_url: str) -> str:
    parts = urlsplit(public_base_url)
    host = (parts.hostname or "").lower()
    return f"[{host}]" if ":" in host else host


def derive_uid_domain(public_base_url: str) -> str:
    """Host, and port unless it is the scheme's default, of the public base URL."""
    parts = urlsplit(public_base_url)
    host = _base_host(public_base_url)
    if not host:
        return "procura-events.local"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None or port == _DEFAULT_PORTS.get(parts.scheme.lower()):
        return host
    return f"{host}:{port}"


def load_settings(**overrides: object) -> Settings:
    var_dir = Path(_env("PROCURA_VAR_DIR", str(PROJECT_ROOT / "var")))
    smtp = SmtpSettings(
        host=os.environ.get("PROCURA_SMTP_HOST") or None,
        port=_env_int("PROCURA_SMTP_PORT", 587),
        username=os.environ.get("PROCURA_SMTP_USERNAME") or None,
        password=os.environ.get("PROCURA_SMTP_PASSWORD") or None,
        security=_env("PROCURA_SMTP_SECURITY", "starttls").lower(),
        timeout_seconds=float(_env("PROCURA_SMTP_TIMEOUT", "30")),
        connections=_env_int("PROCURA_SMTP_CONNECTIONS", 4),
    )
    values: dict[str, object] = {
        "database_url": _env("PROCURA_DATABASE_URL", f"sqlite+aiosqlite:///{var_dir / 'procura.db'}"),
        "public_base_url": configured_public_base_url()
        or base_url_for(serving_host(), serving_port()),
        "secret_key": "",
        "var_dir": var_dir,
        "maildir_path": Path(_env("PROCURA_MAILDIR", str(var_dir / "maildir"))),
        "mail_from": _env("PROCURA_MAIL_FROM", "Procura+ Events <events@procura.example.org>"),
        "organiser_email": _env("PROCURA_ORGANISER_EMAIL", "procurement@procura.example.org"),
        "organiser_name": _env("PROCURA_ORGANISER_NAME", "Procura+ Network"),
        "smtp": smtp,
        "run_scheduler": _env_bool("PROCURA_RUN_SCHEDULER", True),
        "change_notice_window_seconds": _env_int("PROCURA_CHANGE_NOTICE_WINDOW", 600),
        "reminder_prepare_minutes": _env_int("PROCURA_REMINDER_PREPARE_MINUTES", 30),
        "registration_rate_limit": _env_int("PROCURA_REGISTRATION_RATE_LIMIT", 10),
        "session_idle_minutes": _env_int("PROCURA_SESSION_IDLE_MINUTES", 120),
        "session_max_hours": _env_int("PROCURA_SESSION_MAX_HOURS", 12),
        "debug": _env_bool("PROCURA_DEBUG", False),
        "configured_uid_domain": os.environ.get("PROCURA_UID_DOMAIN", "").strip() or None,
        "retention_months": _env_int("PROCURA_RETENTION_MONTHS", 12),
        "access_note_days": _env_int("PROCURA_ACCESS_NOTE_DAYS", 30),
        "privacy_notice_file": Path(os.environ["PROCURA_PRIVACY_NOTICE_FILE"])
        if os.environ.get("PROCURA_PRIVACY_NOTICE_FILE", "").strip() else None,
    }
    values.update(overrides)
    if not isinstance(values["registration_rate_limit"], int) or values[
            "registration_rate_limit"] < 1:
        raise ValueError("PROCURA_REGISTRATION_RATE_LIMIT must be a whole number, at least 1.")
    for name in ("session_idle_minutes", "session_max_hours"):
        value = values[name]
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"PROCURA_{name.upper()} must be a whole number, at least 1.")
    for name in ("retention_months", "access_note_days"):
        value = values[name]
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"PROCURA_{name.upper()} must be a whole number, at least 0.")
    if not values["secret_key"]:
        values["secret_key"] = _secret_key(Path(str(values["var_dir"])))
    return Settings(**values)  # type: ignore[arg-type]

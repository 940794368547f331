"""Typed settings read once from the environment.

Every knob the service has lives here, with a default that suits the embedded set-up
(a SQLite file under var/, mail to a local Maildir). Nothing secret has a committed value:
the secret key is generated into var/ on first use when none is configured.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

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
    debug: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def uid_domain(self) -> str:
        """The host part of iCalendar UIDs: stable for the lifetime of an installation."""
        host = self.public_base_url.split("://", 1)[-1].split("/", 1)[0]
        return host.split(":", 1)[0] or "procura-events.local"


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
        "public_base_url": _env("PROCURA_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
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
        "debug": _env_bool("PROCURA_DEBUG", False),
    }
    values.update(overrides)
    if not isinstance(values["registration_rate_limit"], int) or values[
            "registration_rate_limit"] < 1:
        raise ValueError("PROCURA_REGISTRATION_RATE_LIMIT must be a whole number, at least 1.")
    if not values["secret_key"]:
        values["secret_key"] = _secret_key(Path(str(values["var_dir"])))
    return Settings(**values)  # type: ignore[arg-type]

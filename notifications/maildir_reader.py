"""Read back the emails the embedded set-up wrote to its Maildir, decoded for a terminal.

Bodies are quoted-printable, so a raw file shows soft line breaks ("=" at a line end) in
the middle of private links, and a link copied from `less` gives a 404. This module decodes
headers (RFC 2047) and the text part, and neutralises control characters, so that what an
email says (names and notes come from registrants) cannot drive the terminal. It only reads.
"""

from __future__ import annotations

import email.policy
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

__all__ = ["ShownEmail", "format_email", "latest_emails"]

SHOWN_HEADERS = ("From", "To", "Subject", "Date")
# C0 controls but tab and line feed, DEL, and C1 controls (ESC starts terminal sequences).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(text: str) -> str:
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


@dataclass(frozen=True)
class ShownEmail:
    """One email as a reader needs it: decoded headers, text, what else it carries."""

    path: Path
    delivered_at: datetime
    headers: tuple[tuple[str, str], ...]
    text: str | None
    attachments: tuple[str, ...]


def _parse(path: Path, delivered_at: datetime) -> ShownEmail:
    message = BytesParser(policy=email.policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, EmailMessage)
    headers = tuple((name, str(message.get(name, ""))) for name in SHOWN_HEADERS)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else None
    others: list[str] = []
    for part in message.walk():
        if part.is_multipart() or part is body:
            continue
        content_type = part.get_content_type()
        method = part.get_param("method")
        described = f"{content_type}; method={method}" if isinstance(method, str) else content_type
        name = part.get_filename()
        others.append(f"{name} ({described})" if name else described)
    return ShownEmail(path=path, delivered_at=delivered_at, headers=headers, text=text,
                      attachments=tuple(others))


def latest_emails(maildir: Path, count: int) -> list[ShownEmail]:
    """The `count` most recently delivered emails, oldest first (the newest ends the list)."""
    if count < 1:
        return []
    # A Maildir keeps delivered messages in new/ (unread) and cur/; names starting with a
    # dot are not messages. A file's time is its delivery time, as mailbox.Maildir says.
    found = sorted(
        (path.stat().st_mtime, path.name, path)
        for folder in ("new", "cur") if (maildir / folder).is_dir()
        for path in (maildir / folder).iterdir()
        if path.is_file() and not path.name.startswith(".")
    )
    return [_parse(path, datetime.fromtimestamp(mtime, UTC)) for mtime, _, path in found[-count:]]


def format_email(shown: ShownEmail, *, position: int, total: int) -> str:
    """The email as plain text for a terminal: headers, a blank line, the decoded text."""
    lines = [f"=== Email {position} of {total}, delivered {shown.delivered_at:%Y-%m-%d %H:%M:%S} "
             f"UTC ({shown.path})"]
    lines += [f"{name}: {_visible(value)}" for name, value in shown.headers]
    lines.append("")
    lines.append(_visible(shown.text.rstrip("\n")) if shown.text is not None
                 else "(this email has no text part)")
    if shown.attachments:
        lines.append("")
        lines.append("Other parts: " + ", ".join(_visible(a) for a in shown.attachments))
    return "\n".join(lines)

"""What an email says and to whom, and the exact bytes that go on the wire.

`EmailMessage` is plain data composed by the domain: one recipient, a template name, its
context and optionally an iCalendar invite. `build_mime` turns it (once rendered) into an
RFC 5322 message. Headers are built with `email.headerregistry` objects under
`email.policy.SMTP`, so names are encoded properly and no value can start a header of its
own. This module neither renders templates nor sends anything.
"""

from __future__ import annotations

import email.policy
import email.utils
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage as MimeMessage
from types import MappingProxyType
from typing import Literal

from notifications.render import RenderedEmail
from service.settings import Settings

CalendarMethod = Literal["REQUEST", "CANCEL"]
CALENDAR_METHODS: frozenset[str] = frozenset({"REQUEST", "CANCEL"})
INVITE_FILENAME = "invite.ics"
NETWORK_NAME = "Procura+ Events"

# Bidirectional overrides let a name display as something other than what it is.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class EmailMessage:
    """One email to one person; never a list of recipients (no BCC)."""

    template: str
    to_address: str
    to_name: str
    context: Mapping[str, object] = field(default_factory=dict)
    calendar: bytes | None = None
    calendar_method: CalendarMethod | None = None
    reply_to: str | None = None
    language: str = "en"

    def __post_init__(self) -> None:
        # A read-only copy: the composed message must not change behind the outbox's back.
        object.__setattr__(self, "context", MappingProxyType(dict(self.context)))
        if (self.calendar is None) != (self.calendar_method is None):
            raise ValueError("calendar and calendar_method go together")
        if self.calendar is not None:
            if self.calendar_method not in CALENDAR_METHODS:
                raise ValueError(f"unsupported calendar method {self.calendar_method!r}")
            if f"METHOD:{self.calendar_method}\r\n".encode() not in self.calendar:
                raise ValueError(
                    f"the calendar's METHOD must be {self.calendar_method} (with CRLF line ends)"
                )


def clean_display_name(name: str) -> str:
    """A display name on one line: control, line-separator and bidi characters become spaces."""
    kept = (
        " " if unicodedata.category(char) in {"Cc", "Zl", "Zp"} or char in _BIDI_CONTROLS else char
        for char in name
    )
    return " ".join("".join(kept).split())[:_MAX_NAME_LENGTH]


def parse_address(addr_spec: str, display_name: str = "") -> Address:
    """An `Address` for one mailbox; ValueError unless `addr_spec` is exactly one address."""
    if any(unicodedata.category(char) == "Cc" or char.isspace() for char in addr_spec):
        raise ValueError(f"invalid email address {addr_spec!r}")
    try:
        address = Address(display_name=clean_display_name(display_name), addr_spec=addr_spec)
    except ValueError as error:
        raise ValueError(f"invalid email address {addr_spec!r}: {error}") from error
    if not address.username or not address.domain:
        raise ValueError(f"invalid email address {addr_spec!r}")
    return address


def parse_mailbox(value: str) -> Address:
    """`Name <addr@example.org>` or a bare address, as configured in settings."""
    header = email.policy.default.header_factory("to", value)
    if header.defects or len(header.addresses) != 1:
        raise ValueError(f"invalid mailbox {value!r}")
    address: Address = header.addresses[0]
    return parse_address(address.addr_spec, address.display_name)


def envelope_sender(settings: Settings) -> str:
    """The SMTP envelope sender (MAIL FROM): the address part of `mail_from`."""
    return parse_mailbox(settings.mail_from).addr_spec


def make_message_id(settings: Settings) -> str:
    """A fresh Message-ID; stored with the outbox row so every re-send carries the same one."""
    return f"<{uuid.uuid4().hex}@{settings.uid_domain}>"


def build_mime(
    message: EmailMessage,
    rendered: RenderedEmail,
    *,
    settings: Settings,
    message_id: str,
    now: datetime,
) -> bytes:
    """The message as sent: alternative text/HTML(/calendar), plus `invite.ics` when invited."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    mime = MimeMessage(policy=email.policy.SMTP)
    mime["Subject"] = rendered.subject
    mime["From"] = parse_mailbox(settings.mail_from)
    mime["To"] = parse_address(message.to_address, message.to_name)
    if message.reply_to is not None:
        mime["Reply-To"] = parse_mailbox(message.reply_to)
    else:
        mime["Reply-To"] = parse_address(settings.organiser_email, settings.organiser_name)
    mime["Date"] = email.utils.format_datetime(now)
    mime["Message-ID"] = message_id
    # RFC 3834: keeps out-of-office replies and auto-responders away from us.
    mime["Auto-Submitted"] = "auto-generated"

    mime.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    mime.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    if message.calendar is not None and message.calendar_method is not None:
        params = {"method": message.calendar_method, "charset": "UTF-8"}
        # Bytes with base64 keep the calendar's CRLF line ends exactly as built.
        mime.add_alternative(message.calendar, "text", "calendar", params=params)
        mime.add_attachment(
            message.calendar,
            "text",
            "calendar",
            filename=INVITE_FILENAME,
            params={**params, "name": INVITE_FILENAME},
        )
    for part in mime.walk():
        if part is not mime:
            del part["MIME-Version"]  # only the top level carries it
    return mime.as_bytes()

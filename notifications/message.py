"""What an email says and to whom, and the exact bytes that go on the wire.

`EmailMessage` is plain data composed by the domain: one recipient, a template name, its
context and optionally iCalendar invites (iTIP objects of one METHOD, one UID each).
`build_mime` turns it (once rendered) into an RFC 5322 message. It writes the bytes
directly rather than through the policy-based `email.message.EmailMessage` (which cost
several milliseconds per message): addresses are still checked with
`email.headerregistry`, display names pass `clean_display_name` (no CR, LF or control
character, so no value can start a header of its own), anything not plain ASCII goes into
RFC 2047 encoded words, bodies are quoted-printable and the calendars base64 (so their CRLF
line ends survive). This module neither renders templates nor sends anything.
"""

from __future__ import annotations

import base64
import binascii
import email.policy
import email.utils
import re
import secrets
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from functools import lru_cache
from types import MappingProxyType
from typing import Literal

from notifications.render import RenderedEmail
from service.i18n import DEFAULT_LANGUAGE, current_language, is_language
from service.settings import Settings

CalendarMethod = Literal["REQUEST", "CANCEL"]
CALENDAR_METHODS: frozenset[str] = frozenset({"REQUEST", "CANCEL"})
INVITE_FILENAME = "invite.ics"
NETWORK_NAME = "Procura+ Events"


def invite_filenames(count: int) -> list[str]:
    """The attachments' names, in order: `invite.ics` alone, else `invite-1.ics`, ..."""
    if count == 1:
        return [INVITE_FILENAME]
    return [f"invite-{number}.ics" for number in range(1, count + 1)]


def calendar_uids(calendar: bytes) -> list[str]:
    """Every UID in a serialised calendar, in order (lines unfolded first)."""
    # Searched for, not split into lines: every email with an invite is checked this way.
    unfolded = b"\n" + calendar.replace(b"\r\n ", b"").replace(b"\r\n\t", b"").replace(
        b"\r\n", b"\n")
    uids = []
    at = unfolded.find(b"\nUID:")
    while at != -1:
        end = unfolded.find(b"\n", at + 1)
        uids.append(unfolded[at + 5:end if end != -1 else None].decode("utf-8"))
        at = unfolded.find(b"\nUID:", at + 1)
    return uids


# Bidirectional overrides let a name display as something other than what it is.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_MAX_NAME_LENGTH = 200
# RFC 5322 dot-atom local part and dot-atom domain, ASCII only: valid as it stands.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
PLAIN_ADDRESS = re.compile(
    rf"({_ATEXT}(?:\.{_ATEXT})*)@([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    rf"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+)",
    re.ASCII,
)


@dataclass(frozen=True)
class EmailMessage:
    """One email to one person; never a list of recipients (no BCC).

    `calendar` is the invite (an iTIP object: one METHOD, one UID); an email about several
    sessions carries one such object per session, the others in `more_calendars`, all of
    the same method and each with its own UID (see `build_mime` for how they travel).
    """

    template: str
    to_address: str
    to_name: str
    context: Mapping[str, object] = field(default_factory=dict)
    calendar: bytes | None = None
    calendar_method: CalendarMethod | None = None
    reply_to: str | None = None
    # The recipient's language: the message is rendered in it (its context built in it).
    # Left out, the language in force where the email is decided.
    language: str = field(default_factory=current_language)
    more_calendars: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        # A read-only copy: the composed message must not change behind the outbox's back.
        object.__setattr__(self, "context", MappingProxyType(dict(self.context)))
        if not is_language(self.language):
            raise ValueError(f"not a language of the service: {self.language!r}")
        if (self.calendar is None) != (self.calendar_method is None):
            raise ValueError("calendar and calendar_method go together")
        if self.more_calendars and self.calendar is None:
            raise ValueError("more_calendars come after a calendar")
        if self.calendar is not None:
            if self.calendar_method not in CALENDAR_METHODS:
                raise ValueError(f"unsupported calendar method {self.calendar_method!r}")
            seen: set[str] = set()
            for calendar in self.calendars:
                if f"METHOD:{self.calendar_method}\r\n".encode() not in calendar:
                    raise ValueError(
                        f"the calendar's METHOD must be {self.calendar_method} "
                        "(with CRLF line ends)"
                    )
                uids = set(calendar_uids(calendar))
                if len(uids) != 1:
                    raise ValueError(
                        f"an iTIP calendar carries exactly one UID (RFC 5546), not {sorted(uids)}"
                    )
                if uids & seen:
                    raise ValueError(f"UID {sorted(uids)[0]!r} is in two calendars of one email")
                seen |= uids

    @property
    def calendars(self) -> tuple[bytes, ...]:
        """Every iTIP object of the message, the inline one first."""
        if self.calendar is None:
            return ()
        return (self.calendar, *self.more_calendars)


def clean_display_name(name: str) -> str:
    """A display name on one line: control, line-separator and bidi characters become spaces."""
    if name.isascii() and name.isprintable():  # the usual case, with nothing to replace
        return " ".join(name.split())[:_MAX_NAME_LENGTH]
    kept = (
        " " if unicodedata.category(char) in {"Cc", "Zl", "Zp"} or char in _BIDI_CONTROLS else char
        for char in name
    )
    return " ".join("".join(kept).split())[:_MAX_NAME_LENGTH]


def parse_address(addr_spec: str, display_name: str = "") -> Address:
    """An `Address` for one mailbox; ValueError unless `addr_spec` is exactly one address."""
    plain = PLAIN_ADDRESS.fullmatch(addr_spec)
    if plain is not None:
        # A dot-atom address needs no parsing (the stdlib parser accepts it unchanged).
        return Address(
            display_name=clean_display_name(display_name),
            username=plain.group(1),
            domain=plain.group(2),
        )
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
    return f"<{uuid.uuid4().hex}@{settings.mail_domain}>"


# Characters that make a display name need quoting (RFC 5322 specials, plus what could read
# as an encoded word).
_SPECIALS = frozenset('()<>[]:;@\\,."')
_MAX_LINE = 78
# UTF-8 bytes per encoded word: "=?utf-8?b?" + 52 base64 characters + "?=" is 64 long, so
# even after "Reply-To: " a line holding one stays within RFC 2047's 76 characters.
_WORD_BYTES = 39
_CRLF = "\r\n"


def _encoded_words(text: str) -> list[str]:
    """`text` as RFC 2047 "B" encoded words, split between characters, never inside one."""
    words: list[str] = []
    chunk = bytearray()
    for char in text:
        encoded = char.encode("utf-8")
        if chunk and len(chunk) + len(encoded) > _WORD_BYTES:
            words.append(_encoded_word(bytes(chunk)))
            chunk.clear()
        chunk += encoded
    if chunk:
        words.append(_encoded_word(bytes(chunk)))
    return words


def _encoded_word(data: bytes) -> str:
    return "=?utf-8?b?" + binascii.b2a_base64(data, newline=False).decode("ascii") + "?="


def _is_plain(text: str) -> bool:
    """Printable ASCII that no reader would take for an encoded word."""
    return text.isascii() and text.isprintable() and "=?" not in text


def _fold(name: str, tokens: list[str], separator: str = " ") -> str:
    """`Name: tokens` folded before a token where a line would pass 78 characters."""
    line = f"{name}: {tokens[0]}"
    lines: list[str] = []
    for token in tokens[1:]:
        if token and len(line) + len(separator) + len(token) > _MAX_LINE:
            lines.append(line)
            line = " " + token if separator == " " else separator + token
        else:
            line += separator + token
    lines.append(line)
    return _CRLF.join(lines)


def _unstructured(name: str, value: str) -> str:
    """One header line (folded) for free text such as the subject."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"{name} must be one line")
    tokens = value.split(" ")
    if _is_plain(value) and max(len(token) for token in tokens) <= _MAX_LINE - len(name) - 2:
        return _fold(name, tokens)
    return _fold(name, _encoded_words(value))


def _display_name(name: str) -> list[str]:
    if not name:
        return []
    if _is_plain(name):
        if any(char in _SPECIALS for char in name):
            return ['"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"']
        return [name]
    return _encoded_words(name)


def _mailbox_header(name: str, address: Address) -> str:
    """`Name: display name <addr-spec>` from a checked address (display name already clean)."""
    return _fold(name, [*_display_name(address.display_name), f"<{address.addr_spec}>"])


@lru_cache(maxsize=64)
def _configured_mailbox_header(name: str, value: str) -> str:
    return _mailbox_header(name, parse_mailbox(value))


@lru_cache(maxsize=64)
def _organiser_header(addr_spec: str, display_name: str) -> str:
    return _mailbox_header("Reply-To", parse_address(addr_spec, display_name))


@lru_cache(maxsize=64)
def _date_header(now: datetime, offset: timedelta | None) -> str:
    """The Date header (a composing batch shares its instant). The offset is part of the
    key: equal instants written in other zones compare equal but print otherwise."""
    return f"Date: {email.utils.format_datetime(now)}"


def _text_part(content_type: str, text: str) -> str:
    """A text part, quoted-printable with CRLF line ends, ending in a line break."""
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    if not body.endswith("\n"):
        body += "\n"
    return (
        f'Content-Type: {content_type}; charset="utf-8"{_CRLF}'
        f"Content-Transfer-Encoding: quoted-printable{_CRLF}{_CRLF}"
        + "".join(_quoted_printable_line(line) for line in body[:-1].split("\n"))
    )


# Lines already encoded. Quoted-printable is line-local (soft breaks, trailing white space),
# so a body encoded line by line is the body encoded whole; and the same email to many
# people shares nearly all its lines, each encoded once instead of once per recipient.
_ENCODED_LINES: dict[str, str] = {}
_MAX_ENCODED_LINES = 4096


def _quoted_printable_line(line: str) -> str:
    """`line` and its CRLF, quoted-printable (soft breaks within 76 characters)."""
    encoded = _ENCODED_LINES.get(line)
    if encoded is None:
        encoded = binascii.b2a_qp(f"{line}{_CRLF}".encode(), istext=True).decode("ascii")
        if len(_ENCODED_LINES) >= _MAX_ENCODED_LINES:
            _ENCODED_LINES.clear()
        _ENCODED_LINES[line] = encoded
    return encoded


def _base64_lines(data: bytes) -> str:
    """Base64 in lines of 76 characters, each ending in CRLF."""
    # `encodebytes` writes the same lines (57 bytes each), ending in LF, in one C call.
    return base64.encodebytes(data).decode("ascii").replace("\n", _CRLF)


def _multipart(subtype: str, parts: list[str], *, top_headers: str = "") -> str:
    # "=_" never occurs in quoted-printable or base64 text, so no body can hold the boundary.
    boundary = "=_" + secrets.token_hex(16)
    head = f'{top_headers}Content-Type: multipart/{subtype};{_CRLF} boundary="{boundary}"'
    body = "".join(f"{_CRLF}--{boundary}{_CRLF}{part}" for part in parts)
    return f"{head}{_CRLF}{body}{_CRLF}--{boundary}--{_CRLF}"


def build_mime(
    message: EmailMessage,
    rendered: RenderedEmail,
    *,
    settings: Settings,
    message_id: str,
    now: datetime,
) -> bytes:
    """The message as sent: alternative text/HTML(/calendar), plus the invites as attachments.

    The layout of an invite, one email whatever the number of sessions:

        multipart/mixed
          multipart/alternative
            text/plain, text/html
            text/calendar; method=M         the first session's invite
          text/calendar; method=M           invite.ics, or invite-1.ics ... invite-N.ics:
                                            every session's own invite, one UID each

    Outlook and Gmail turn the text/calendar part of the body into the meeting card (of
    one event: they act on one per message), Thunderbird and Apple Mail offer the
    attachments; each attachment opens as a meeting of its own in every client, so a
    series is added session by session, and later updates and cancellations (one UID
    each) find what was sent. The first session is both inline and attached: the same
    UID and SEQUENCE, so a client that reads both adds it once.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not _is_plain(message_id) or " " in message_id:
        raise ValueError(f"invalid Message-ID {message_id!r}")
    if message.reply_to is not None:
        reply_to = _configured_mailbox_header("Reply-To", message.reply_to)
    else:
        reply_to = _organiser_header(settings.organiser_email, settings.organiser_name)
    headers = _CRLF.join(
        [
            _unstructured("Subject", rendered.subject),
            _configured_mailbox_header("From", settings.mail_from),
            _mailbox_header("To", parse_address(message.to_address, message.to_name)),
            reply_to,
            _date_header(now, now.utcoffset()),
            f"Message-ID: {message_id}",
            # RFC 3834: keeps out-of-office replies and auto-responders away from us.
            "Auto-Submitted: auto-generated",
            # RFC 3282: the language it is written in, for readers and screen readers (left
            # out for English, the source language, so English mail stays as it always was).
            *([f"Content-Language: {message.language}"]
              if message.language != DEFAULT_LANGUAGE else []),
            "MIME-Version: 1.0",
            "",
        ]
    )
    parts = [_text_part("text/plain", rendered.text), _text_part("text/html", rendered.html)]
    if message.calendar is None or message.calendar_method is None:
        return _multipart("alternative", parts, top_headers=headers).encode("ascii")

    # Bytes with base64 keep the calendar's CRLF line ends exactly as built.
    calendars = [_base64_lines(calendar) for calendar in message.calendars]
    calendar_type = (
        f'Content-Type: text/calendar; method="{message.calendar_method}"; charset="UTF-8"'
    )
    parts.append(
        f"{calendar_type}{_CRLF}Content-Transfer-Encoding: base64{_CRLF}{_CRLF}{calendars[0]}"
    )
    attachments = [
        f'{calendar_type};{_CRLF} name="{filename}"{_CRLF}'
        f"Content-Transfer-Encoding: base64{_CRLF}"
        f'Content-Disposition: attachment; filename="{filename}"{_CRLF}{_CRLF}{calendar}'
        for filename, calendar in zip(invite_filenames(len(calendars)), calendars, strict=True)
    ]
    alternative = _multipart("alternative", parts)
    return _multipart("mixed", [alternative, *attachments], top_headers=headers).encode("ascii")

"""An event's emails for organisers: where each one is, and sending failed ones again.

An email that exhausted its retries, or that a server refused for good, stays `failed`
until an organiser sends it again (after fixing an address, or once the mail server is
back): it is queued afresh, with a note in its attempt history, and the delivery job does
the rest. Only failed emails are sent again, never a withdrawn one (what it said no longer
holds) nor one past its time (a reminder whose session has started).

Takes `db` and `now`, flushes, never commits; knows no HTTP.
"""

from __future__ import annotations

import email.policy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage as MimeMessage
from email.parser import BytesParser

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from notifications.outbox import (
    count_emails_by_status,
    list_attempts_for_email,
    page_emails_for_event,
    resend_failed_emails,
)
from service.db.models import EmailAttempt, OutboxEmail, OutboxStatus
from service.domain import programme
from service.domain.errors import ConflictError, InvalidInputError, NotFoundError
from service.i18n import gettext as _

RESEND_NOTE = "queued again at an organiser's request"
STATUSES = tuple(status.value for status in OutboxStatus)


@dataclass(frozen=True)
class EventEmails:
    counts: dict[OutboxStatus, int]  # every email of the event, by status
    total: int  # those matching the filter
    emails: Sequence[OutboxEmail]  # one page of them, oldest first


@dataclass(frozen=True)
class ResendReport:
    resent: list[int]  # queued again
    too_late: list[int]  # failed, but past their time to go out or never built: left as they are


def _statuses(values: Sequence[str]) -> list[OutboxStatus]:
    for index, value in enumerate(values):
        if value not in STATUSES:
            raise InvalidInputError(
                _("Unknown status %(value)r: use one of %(statuses)s.")
                    % {"value": value, "statuses": ", ".join(STATUSES)},
                f"status[{index}]")
    return [OutboxStatus(value) for value in dict.fromkeys(values)]


async def list_event_emails(
    db: AsyncSession, event_id: int, *, statuses: Sequence[str] = (), page: int = 1,
    page_size: int = 100,
) -> EventEmails:
    """An event's outbox, one page at a time, with how many emails are in each status."""
    wanted = _statuses(statuses)
    await programme.get_event(db, event_id)  # 404 for an unknown event
    emails, total = await page_emails_for_event(
        db, event_id, statuses=wanted, offset=(page - 1) * page_size, limit=page_size)
    return EventEmails(counts=await count_emails_by_status(db, event_id), total=total,
                       emails=emails)


async def _load(db: AsyncSession, email_id: int) -> OutboxEmail:
    email = await db.get(OutboxEmail, email_id, populate_existing=True)
    if email is None:
        raise NotFoundError(_("No email with id %(email_id)s.") % {"email_id": email_id}, "email_id")
    return email


async def resend_email(db: AsyncSession, email_id: int, *, now: datetime) -> OutboxEmail:
    """Send one failed email again; anything else is refused with the reason."""
    email = await _load(db, email_id)
    if email.status != OutboxStatus.FAILED:
        if email.status == OutboxStatus.WITHDRAWN:
            refusal = _("Only a failed email can be sent again; this one is withdrawn: it was "
                        "withdrawn: what it said no longer holds.")
        elif email.status == OutboxStatus.SENT:
            refusal = _("Only a failed email can be sent again; this one is sent: it has been "
                        "sent.")
        else:
            refusal = (_("Only a failed email can be sent again; this one is %(status)s: it is "
                         "on its way.") % {"status": email.status})
        raise ConflictError(refusal, "status")
    if email.raw_message is None:
        raise ConflictError(_("This email could never be built (%(last_error)s): there is nothing "
                                  "to send again.")
                                % {"last_error": email.last_error}, "to_address")
    if email.expires_at is not None and email.expires_at <= now:
        raise ConflictError(_("This email's time to go out has passed (its session has "
                            "started): it is not sent again."), "expires_at")
    if not await resend_failed_emails(db, [email_id], now=now, note=RESEND_NOTE):
        raise ConflictError(_("This email changed meanwhile; look again."), "status")
    return await _load(db, email_id)


async def resend_failed_event_emails(
    db: AsyncSession, event_id: int, *, now: datetime
) -> ResendReport:
    """Send every failed email of an event again, except those past their time."""
    await programme.get_event(db, event_id)  # 404 for an unknown event
    failed, _ = await page_emails_for_event(
        db, event_id, statuses=[OutboxStatus.FAILED], limit=1_000_000)
    resent = await resend_failed_emails(db, [email.id for email in failed], now=now,
                                        note=RESEND_NOTE)
    return ResendReport(resent=resent,
                        too_late=sorted({email.id for email in failed} - set(resent)))


# --- the organisers' email pages: search by recipient, and one email as it was sent -------

SEARCH_MAX = 200


async def find_event_emails(
    db: AsyncSession, event_id: int, *, statuses: Sequence[str] = (), recipient: str = "",
    page: int = 1, page_size: int = 50,
) -> EventEmails:
    """An event's outbox for the organisers' page: newest first, filtered by status and by
    a piece of the recipient's address (case-insensitive), with the counts per status."""
    wanted = _statuses(statuses)
    text = recipient.strip()
    if len(text) > SEARCH_MAX or any(ord(char) < 32 for char in text):
        raise InvalidInputError(_("At most %(search_max)s characters on one line.")
                                    % {"search_max": SEARCH_MAX}, "recipient")
    await programme.get_event(db, event_id)  # 404 for an unknown event
    where = [OutboxEmail.event_id == event_id]
    if wanted:
        where.append(OutboxEmail.status.in_(wanted))
    if text:
        escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(func.lower(OutboxEmail.to_address).like(f"%{escaped}%", escape="\\"))
    total = int(await db.scalar(select(func.count()).select_from(OutboxEmail).where(*where))
                or 0)
    emails = (await db.scalars(
        select(OutboxEmail)
        .options(defer(OutboxEmail.raw_message, raiseload=True),
                 defer(OutboxEmail.details, raiseload=True))
        .where(*where)
        .order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )).all()
    return EventEmails(counts=await count_emails_by_status(db, event_id), total=total,
                       emails=emails)


@dataclass(frozen=True)
class EmailPreview:
    """One email as its recipient gets it: decoded headers, text, HTML, what it carries.

    `text` and `html` are the message's own parts, unsanitised: a page shows the text
    escaped and the HTML only inside a sandbox (no scripts, no outside requests).
    """

    email: OutboxEmail
    headers: tuple[tuple[str, str], ...]  # From, To, Reply-To, Subject, Date
    text: str | None
    html: str | None
    attachments: tuple[str, ...]  # "invite.ics (text/calendar; method=REQUEST)"
    attempts: Sequence[EmailAttempt]


PREVIEW_HEADERS = ("From", "To", "Reply-To", "Subject", "Date")


def _decoded_parts(raw: bytes) -> tuple[tuple[tuple[str, str], ...], str | None, str | None,
                                          tuple[str, ...]]:
    message = BytesParser(policy=email.policy.default).parsebytes(raw)
    assert isinstance(message, MimeMessage)
    headers = tuple((name, str(message[name])) for name in PREVIEW_HEADERS
                    if message[name] is not None)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    text = str(text_part.get_content()) if text_part is not None else None
    html = str(html_part.get_content()) if html_part is not None else None
    carried: list[str] = []
    for part in message.walk():
        if part.is_multipart() or part is text_part or part is html_part:
            continue
        method = part.get_param("method")
        kind = part.get_content_type() + (f"; method={method}" if isinstance(method, str) else "")
        name = part.get_filename()
        carried.append(f"{name} ({kind})" if name else f"in the body ({kind})")
    return headers, text, html, tuple(carried)


async def get_email_preview(db: AsyncSession, email_id: int, *, event_id: int | None = None
                            ) -> EmailPreview:
    """One email of the outbox decoded from the bytes stored (what was, or will be, sent);
    one still being composed has no message yet. `event_id`: refuse an email of another."""
    row = await _load(db, email_id)
    if event_id is not None and row.event_id != event_id:
        raise NotFoundError(_("No email with id %(email_id)s in this event.")
                                % {"email_id": email_id}, "email_id")
    attempts = await list_attempts_for_email(db, email_id)
    if row.raw_message is None:
        return EmailPreview(email=row, headers=(), text=None, html=None, attachments=(),
                            attempts=attempts)
    headers, text, html, carried = _decoded_parts(row.raw_message)
    return EmailPreview(email=row, headers=headers, text=text, html=html, attachments=carried,
                        attempts=attempts)

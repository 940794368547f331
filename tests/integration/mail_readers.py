"""Readers shared by the reminder, change-notice, speaker and scheduler tests (the builders
are in tests/factories.py): what the outbox holds, parsed as a mail client would.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import datetime
from email.message import EmailMessage as MimeMessage

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import OutboxEmail, Registration, Reminder, Session
from service.settings import Settings
from tests.factories import SOCIAL_ICT, make_event, make_registration, make_session

Sessionmaker = async_sessionmaker[AsyncSession]


async def crowded_webinar(db: AsyncSession, settings: Settings, people: int) -> Session:
    """A webinar on Monday 26 October 2026, 10:00 Brussels, with `people` confirmed
    registrants (for the tests of several workers), committed."""
    event = await make_event(db, settings, SOCIAL_ICT)
    session = await make_session(db, settings, event, starts_at="2026-10-26T10:00",
                                 ends_at="2026-10-26T11:00")
    for number in range(people):
        await make_registration(db, event, session, f"Person{number:02d} Test")
    await db.commit()
    return session


async def reminders_of(sessionmaker: Sessionmaker) -> list[tuple[str, int, str, datetime, str | None]]:
    """(registrant name, offset, status, due_at, note) of every reminder, in a stable order."""
    async with sessionmaker() as db:
        rows = (await db.execute(
            select(Registration.name, Reminder.offset_minutes, Reminder.status, Reminder.due_at,
                   Reminder.note)
            .join(Registration, Registration.id == Reminder.registration_id)
            .order_by(Reminder.session_id, Registration.name, Reminder.offset_minutes.desc())
        )).all()
    return [(r[0], r[1], str(r[2]), r[3], r[4]) for r in rows]


async def outbox_messages(sessionmaker: Sessionmaker) -> list[tuple[OutboxEmail, MimeMessage]]:
    """Every queued email with its parsed message, in queueing order (all composed here)."""
    async with sessionmaker() as db:
        rows = list(await db.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
    return [(row, parse(row.raw_message or b"")) for row in rows]


def parse(raw: bytes) -> MimeMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, MimeMessage)
    return message


def subject_of(message: MimeMessage) -> str:
    # The stdlib's folding can leave a space at a fold (before a continuation line, or
    # before an encoded word), which its parser keeps; compare words, not folds.
    return " ".join(str(message["Subject"]).split())


def text_of(message: MimeMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    content: str = part.get_content()
    return content.replace("\r\n", "\n")


def html_of(message: MimeMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    content: str = part.get_content()
    return content


def calendar_of(message: MimeMessage) -> tuple[str | None, str | None]:
    """(MIME method, calendar text) of the inline text/calendar part; (None, None) if none."""
    for part in message.walk():
        if part.get_content_type() == "text/calendar" and not part.get_filename():
            body = part.get_payload(decode=True)
            assert isinstance(body, bytes)
            return part.get_param("method"), body.decode()  # type: ignore[return-value]
    return None, None


def ical_lines(calendar: str, *names: str) -> list[str]:
    """METHOD and the VEVENT's lines (unfolded) whose property name is one of `names`."""
    unfolded = calendar.replace("\r\n ", "").split("\r\n")
    start, end = unfolded.index("BEGIN:VEVENT"), unfolded.index("END:VEVENT")
    lines = [line for line in unfolded if line.startswith("METHOD:")] + unfolded[start:end]
    return [line for line in lines if line.split(":", 1)[0].split(";", 1)[0] in names]


def with_window(settings: Settings, seconds: int) -> Settings:
    return replace(settings, change_notice_window_seconds=seconds)

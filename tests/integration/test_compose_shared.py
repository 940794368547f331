"""A burst of confirmations is composed from what the recipients share (the rendered email
of its shape, the invites' common lines), each filled with its own recipient's details: the
messages must be exactly those composed one by one from nothing, and none may carry another
recipient's name, address or private links.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage as MimeMessage
from typing import Any

import icalendar
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications import render
from service.db.engine import session_scope
from service.db.models import OutboxEmail, OutboxStatus
from service.domain import registration as registrations
from service.domain.calendars import ical
from service.domain.registration.welcome import compose_welcome_emails
from service.settings import Settings
from tests.factories import make_agenda_item, make_event

Sessionmaker = async_sessionmaker[AsyncSession]
NOW = datetime(2035, 10, 1, 8, 30, tzinfo=UTC)
# Two who open each language's shape (the first seen, the second learnt), then the two
# whose emails are filled in from the learnt shapes. An apostrophe and an ampersand, so the
# HTML escaping of a filled-in name is checked too.
WARM_UP = [("Warm One", "warm.one@example.org", "en"), ("Warm Two", "warm.two@example.org", "en"),
           ("Chaud Un", "chaud.un@example.org", "fr"), ("Chaud Deux", "chaud.deux@example.org", "fr")]
ANA = ("Ana O'Neill & Co", "ana.oneill@lisboa.example.pt", "en")
ZOE = ("Zoë Dupré", "zoe.dupre@lyon.example.fr", "fr")
ICAL_FIELDS = ("UID", "SEQUENCE", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "STATUS",
               "LOCATION", "ORGANIZER", "DTSTAMP")


async def _register(db_sessionmaker: Sessionmaker, settings: Settings,
                    people: Sequence[tuple[str, str, str]], slug: str) -> None:
    async with session_scope(db_sessionmaker) as db:
        for name, address, language in people:  # one by one: ids in this order
            await registrations.register_participants(db, [
                (slug, registrations.RegistrationForm(name=name, email=address, consent=True,
                                                      language=language))],
                now=NOW, settings=settings)


async def _messages(db_sessionmaker: Sessionmaker) -> dict[str, MimeMessage]:
    async with db_sessionmaker() as db:
        rows = (await db.execute(select(OutboxEmail.to_address, OutboxEmail.raw_message)
                                 .order_by(OutboxEmail.id))).all()
    return {to: _parse(raw) for to, raw in rows}


def _parse(raw: bytes) -> MimeMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, MimeMessage)
    return message


def _reading(message: MimeMessage) -> dict[str, Any]:
    """What a reader gets of a message: headers, both bodies, every calendar part parsed."""
    headers = {name: str(message[name]) for name in (
        "Subject", "From", "To", "Reply-To", "Date", "Message-ID", "Content-Language")}
    bodies: dict[str, str] = {}
    calendars: list[dict[str, Any]] = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind in {"text/plain", "text/html"}:
            bodies[kind] = part.get_content()
        elif kind == "text/calendar":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            calendar = icalendar.Calendar.from_ical(payload)
            [event] = calendar.walk("VEVENT")
            attendees = event.get("ATTENDEE")
            calendars.append({
                "filename": part.get_filename(),
                "mime_method": part.get_param("method"),
                "METHOD": str(calendar["METHOD"]),
                **{name: event.get(name).to_ical() for name in ICAL_FIELDS},
                "ATTENDEE": [(str(attendees), dict(attendees.params))],
                "bytes": payload,
            })
    return {"headers": headers, "bodies": bodies, "calendars": calendars}


def _clear_shared() -> None:
    render.clear_shapes()
    ical.clear_shared_lines()


async def _compose(db_sessionmaker: Sessionmaker, settings: Settings, *, batch_size: int
                   ) -> int:
    composed = 0
    while True:
        async with session_scope(db_sessionmaker) as db:
            report = await compose_welcome_emails(db, now=NOW, settings=settings,
                                                  batch_size=batch_size)
        composed += report.composed
        if report.claimed < batch_size:
            return composed


async def test_confirmations_filled_from_a_shared_shape_equal_those_composed_alone(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    event = await make_event(db, settings)
    await make_agenda_item(db, settings, event.sessions[0], "2035-11-12T10:00",
                           "2035-11-12T10:30", "Welcome & why social criteria")
    await db.commit()
    await _register(db_sessionmaker, settings, [*WARM_UP, ANA, ZOE], event.slug)
    rendered_whole: list[str] = []
    render_raw = render._render_raw

    def counting(template: str, context: Any, *args: Any) -> tuple[str, str, str]:
        rendered_whole.append(str(context.get("recipient_name")))
        return render_raw(template, context, *args)

    monkeypatch.setattr(render, "_render_raw", counting)
    _clear_shared()

    assert await _compose(db_sessionmaker, settings, batch_size=20) == 6
    shared = await _messages(db_sessionmaker)
    # Ana's and Zoë's emails were filled in, never rendered: the shapes were used.
    assert [name for name in rendered_whole if name in {ANA[0], ZOE[0]}] == []

    # The same two composed from nothing: each the first of its shape, alone in its batch.
    async with session_scope(db_sessionmaker) as db_again:
        await db_again.execute(update(OutboxEmail)
                               .where(OutboxEmail.to_address.in_([ANA[1], ZOE[1]]))
                               .values(status=OutboxStatus.COMPOSING, raw_message=None,
                                       subject=""))
    _clear_shared()
    rendered_whole.clear()
    assert await _compose(db_sessionmaker, settings, batch_size=1) == 2
    assert sorted(rendered_whole) == sorted([ANA[0], ZOE[0]])
    alone = await _messages(db_sessionmaker)

    for name, address, language in (ANA, ZOE):
        reading = _reading(shared[address])
        assert reading == _reading(alone[address])
        [to] = shared[address]["To"].addresses
        assert (to.display_name, to.addr_spec) == (name, address)
        assert reading["headers"]["Content-Language"] == ("None" if language == "en"
                                                          else language)
        assert [c["ATTENDEE"][0][0] for c in reading["calendars"]] == [
            f"mailto:{address}"] * 3
        assert {c["ATTENDEE"][0][1]["CN"] for c in reading["calendars"]} == {name}
    # Nobody else's details in any message, and private links of its own.
    links: list[list[str]] = []
    for address, message in shared.items():
        text = str(_reading(message))
        others = [person for person in (*WARM_UP, ANA, ZOE) if person[1] != address]
        assert [person[1] for person in others if person[1] in text] == []
        assert [person[0] for person in others if person[0] in text] == []
        body = _reading(message)["bodies"]["text/plain"]
        links.append(re.findall(r"https?://\S*/(?:registrations|calendars)/\S+", body))
    assert [len(found) for found in links] == [2] * 6
    assert len({link for found in links for link in found}) == 12

"""Who will be told what: the emails a change to the programme causes, known before it is made.

Publishing, unpublishing or cancelling an event, and moving or cancelling a session, tell
registrants and speakers through change and slot notices gathered over a window. Before an
organiser confirms such a change, a preview runs it for real, inside a savepoint: the
programme command itself, everything that follows it (service/operations/consequences.py,
through the signals), and then the very functions that send the notices it recorded
(`notices.changes.send_change_notice`, `notices.speakers.send_speaker_notice`), at the time
they would go out. The emails they queue are read back (counted per template, the first
one's subject and text kept) and the savepoint is rolled back, so nothing is stored and
nothing is sent. The wording is the emails' own: there is no second copy of it to drift.

A refused change is refused here too, with the same error. Private links in the text are
elided: each recipient's own, they are not the organiser's to see (and a link issued
during the dry run would not survive it). The caller's loaded objects are expired by the
rollback: load what a page shows after calling this. Never commits; knows no HTTP.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage as MimeMessage
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    AgendaItem,
    AgendaItemSpeaker,
    ChangeNotice,
    ChangeNoticeStatus,
    Enrolment,
    EnrolmentStatus,
    OutboxEmail,
    Person,
    Registration,
    RegistrationStatus,
    SpeakerNotice,
)
from service.domain import programme
from service.domain.notices.changes import send_change_notice
from service.domain.notices.speakers import send_speaker_notice
from service.settings import Settings

Action = Literal["publish", "unpublish", "cancel_event", "cancel_session", "update_session"]
Audience = Literal["registrants", "speakers"]

# A private link's token (registrant's page, feed, invite; speaker's page and feed).
_PRIVATE_LINK = re.compile(r"(/(?:registrations|speakers)/)[A-Za-z0-9_\-]{8,}")
PRIVATE_LINK_SHOWN_AS = "…"
# Registrants no longer concerned by anything: not counted among those to be told.
_GONE = (RegistrationStatus.CANCELLED, RegistrationStatus.DECLINED)


@dataclass(frozen=True)
class NoticeText:
    """One kind of email the change causes: to whom, how many, what the first one says."""

    audience: Audience
    template: str
    emails: int
    first_recipient: str
    subject: str
    text: str
    sends_at: datetime  # when the first of them goes out


@dataclass(frozen=True)
class WhoWillBeTold:
    """The consequences of one change, before it is made."""

    action: Action
    event_id: int
    session_ids: tuple[int, ...]
    registrants: dict[str, int]  # registrants of the sessions concerned, by status
    registrants_told: dict[str, int]  # of them, by status, those who get an email
    speakers: int  # people speaking in the sessions concerned
    speakers_told: int
    notices: tuple[NoticeText, ...]

    @property
    def emails(self) -> int:
        return sum(notice.emails for notice in self.notices)


def elide_private_links(text: str) -> str:
    """`text` with every private link's token replaced by an ellipsis."""
    return _PRIVATE_LINK.sub(lambda match: match.group(1) + PRIVATE_LINK_SHOWN_AS, text)


def _text_of(raw: bytes | None) -> str:
    """The plain-text body a mail client shows, decoded from the bytes that will be sent."""
    if raw is None:
        return ""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, MimeMessage)
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    content: str = part.get_content()
    return content.replace("\r\n", "\n")


async def _registrant_statuses(db: AsyncSession, session_ids: Sequence[int]) -> dict[int, str]:
    """Each registrant with a place or a wish in the sessions (not cancelled), by status."""
    if not session_ids:
        return {}
    rows = await db.execute(
        select(Registration.id, Registration.status)
        .join(Enrolment, Enrolment.registration_id == Registration.id)
        .where(Enrolment.session_id.in_(session_ids),
               Enrolment.status != EnrolmentStatus.CANCELLED,
               Registration.status.not_in(_GONE))
        .distinct()
    )
    return {registration_id: str(status) for registration_id, status in rows}


async def _speakers(db: AsyncSession, session_ids: Sequence[int]) -> set[int]:
    if not session_ids:
        return set()
    return set(await db.scalars(
        select(AgendaItemSpeaker.person_id)
        .join(AgendaItem, AgendaItem.id == AgendaItemSpeaker.agenda_item_id)
        .where(AgendaItem.session_id.in_(session_ids))
    ))


@dataclass(frozen=True)
class _Queued:
    template: str
    registration_id: int | None
    person_id: int | None
    to_address: str
    subject: str
    raw_message: bytes | None
    sends_at: datetime


async def _send_what_it_recorded(
    db: AsyncSession, session_ids: Sequence[int], *, now: datetime, settings: Settings,
) -> None:
    """Send, at their own time, the notices this change recorded or joined (and only those)."""
    change_notices = list(await db.scalars(
        select(ChangeNotice)
        .where(ChangeNotice.session_id.in_(session_ids),
               ChangeNotice.status == ChangeNoticeStatus.PENDING,
               ChangeNotice.last_changed_at == now)
        .order_by(ChangeNotice.id)
    ))
    for notice in change_notices:
        await send_change_notice(db, notice, now=max(now, notice.send_after), settings=settings)
    speaker_notices = list(await db.scalars(
        select(SpeakerNotice)
        .where(SpeakerNotice.session_id.in_(session_ids),
               SpeakerNotice.status == ChangeNoticeStatus.PENDING,
               SpeakerNotice.last_changed_at == now)
        .order_by(SpeakerNotice.id)
    ))
    for speaker_notice in speaker_notices:
        await send_speaker_notice(db, speaker_notice, now=max(now, speaker_notice.send_after),
                                  settings=settings)


async def _dry_run(
    db: AsyncSession, action: Action, event_id: int, session_ids: Sequence[int],
    change: Callable[[], Awaitable[object]], *, now: datetime, settings: Settings,
) -> WhoWillBeTold:
    statuses = await _registrant_statuses(db, session_ids)
    speaking = await _speakers(db, session_ids)
    last_email = await db.scalar(select(func.max(OutboxEmail.id))) or 0
    savepoint = await db.begin_nested()
    try:
        await change()
        await db.flush()
        await _send_what_it_recorded(db, session_ids, now=now, settings=settings)
        rows = (await db.execute(
            select(OutboxEmail.template, OutboxEmail.registration_id, OutboxEmail.person_id,
                   OutboxEmail.to_address, OutboxEmail.subject, OutboxEmail.raw_message,
                   OutboxEmail.next_attempt_at)
            .where(OutboxEmail.id > last_email, OutboxEmail.event_id == event_id)
            .order_by(OutboxEmail.id)
        )).all()
        queued = [_Queued(*row) for row in rows]
        # Whoever is told but was not counted above (a status the change itself set).
        unknown = {q.registration_id for q in queued if q.registration_id is not None} - set(
            statuses)
        if unknown:
            statuses.update({
                registration_id: str(status) for registration_id, status in await db.execute(
                    select(Registration.id, Registration.status)
                    .where(Registration.id.in_(unknown)))
            })
        names = await _names(db, queued)
    finally:
        await savepoint.rollback()
    return _summary(action, event_id, session_ids, statuses, speaking, queued, names)


async def _names(db: AsyncSession, queued: Sequence[_Queued]) -> dict[tuple[str, int], str]:
    """The recipients' names, to say whose email the preview shows."""
    registration_ids = {q.registration_id for q in queued if q.registration_id is not None}
    person_ids = {q.person_id for q in queued if q.person_id is not None}
    names: dict[tuple[str, int], str] = {}
    if registration_ids:
        for registration_id, name in await db.execute(
                select(Registration.id, Registration.name)
                .where(Registration.id.in_(registration_ids))):
            names["registration", registration_id] = name
    if person_ids:
        for person_id, name in await db.execute(
                select(Person.id, Person.name).where(Person.id.in_(person_ids))):
            names["person", person_id] = name
    return names


def _summary(
    action: Action, event_id: int, session_ids: Sequence[int], statuses: dict[int, str],
    speaking: set[int], queued: Sequence[_Queued], names: dict[tuple[str, int], str],
) -> WhoWillBeTold:
    registrants = Counter(statuses.values())
    told_registrations = {q.registration_id for q in queued if q.registration_id is not None}
    told_people = {q.person_id for q in queued if q.person_id is not None}
    notices: list[NoticeText] = []
    for template in dict.fromkeys(q.template for q in queued):
        these = [q for q in queued if q.template == template]
        first = these[0]
        audience: Audience = "speakers" if first.person_id is not None else "registrants"
        key = (("person", first.person_id) if first.person_id is not None
               else ("registration", first.registration_id or 0))
        notices.append(NoticeText(
            audience=audience, template=template, emails=len(these),
            first_recipient=names.get(key, first.to_address),
            subject=first.subject, text=elide_private_links(_text_of(first.raw_message)),
            sends_at=min(q.sends_at for q in these),
        ))
    return WhoWillBeTold(
        action=action, event_id=event_id, session_ids=tuple(session_ids),
        registrants=dict(sorted(registrants.items())),
        registrants_told=dict(sorted(Counter(
            statuses[r] for r in told_registrations if r in statuses).items())),
        speakers=len(speaking), speakers_told=len(told_people),
        notices=tuple(notices),
    )


# --- one preview per change an organiser confirms ----------------------------------------------


async def _event_sessions(db: AsyncSession, event_id: int) -> list[int]:
    event = await programme.get_event(db, event_id)
    return [session.id for session in event.sessions]


async def preview_publish_event(
    db: AsyncSession, event_id: int, *, now: datetime, settings: Settings
) -> WhoWillBeTold:
    """`programme.publish_event`, run ahead."""
    sessions = await _event_sessions(db, event_id)
    return await _dry_run(
        db, "publish", event_id, sessions,
        lambda: programme.publish_event(db, event_id, now=now), now=now, settings=settings)


async def preview_unpublish_event(
    db: AsyncSession, event_id: int, *, now: datetime, settings: Settings
) -> WhoWillBeTold:
    """`programme.unpublish_event`, run ahead (refused as it would be)."""
    sessions = await _event_sessions(db, event_id)
    return await _dry_run(
        db, "unpublish", event_id, sessions,
        lambda: programme.unpublish_event(db, event_id, now=now), now=now, settings=settings)


async def preview_cancel_event(
    db: AsyncSession, event_id: int, *, now: datetime, settings: Settings
) -> WhoWillBeTold:
    """`programme.cancel_event`, run ahead: each session's cancellation notice."""
    sessions = await _event_sessions(db, event_id)
    return await _dry_run(
        db, "cancel_event", event_id, sessions,
        lambda: programme.cancel_event(db, event_id, now=now, settings=settings),
        now=now, settings=settings)


async def preview_cancel_session(
    db: AsyncSession, session_id: int, *, now: datetime, settings: Settings
) -> WhoWillBeTold:
    """`programme.cancel_session`, run ahead."""
    session = await programme.get_session(db, session_id)
    return await _dry_run(
        db, "cancel_session", session.event_id, [session_id],
        lambda: programme.cancel_session(db, session_id, now=now, settings=settings),
        now=now, settings=settings)


async def preview_update_session(
    db: AsyncSession, session_id: int, changes: programme.SessionUpdate, *, now: datetime,
    settings: Settings,
) -> WhoWillBeTold:
    """`programme.update_session` (a move: new start and end), run ahead; bad input is
    refused as it would be, naming the field."""
    session = await programme.get_session(db, session_id)
    return await _dry_run(
        db, "update_session", session.event_id, [session_id],
        lambda: programme.update_session(db, session_id, changes, now=now, settings=settings),
        now=now, settings=settings)

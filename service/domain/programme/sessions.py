"""Sessions of an event: adding, moving, editing, cancelling and deleting them.

A session's times are written in its event's zone and stored as UTC instants; moving both
ends by the same amount moves its agenda with it. Every change is announced as a signal
with the session as it was before; what follows (notices, reminders, invites) is decided
in service/operations/consequences.py, never here.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from msgspec import UNSET
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Enrolment, Event, EventStatus, Session, SessionMode, SessionStatus
from service.domain import signals
from service.domain.errors import ConflictError, InvalidInputError
from service.domain.programme.checks import check_places, lets_more_in
from service.domain.programme.inputs import SessionCreate, SessionUpdate
from service.domain.programme.loading import get_event, get_session
from service.domain.snapshots import snapshot_session
from service.domain.text import clean_line, clean_text
from service.domain.times import local_date, parse_instant
from service.i18n import gettext as _
from service.settings import Settings

MAX_SESSION_LENGTH = timedelta(days=7)
# As long as the column allows, and as the API's shapes do.
TITLE_LIMIT, DESCRIPTION_LIMIT = 300, 20_000


def _check_session_times(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise InvalidInputError(_("A session must end after it starts."), "ends_at")
    if ends_at - starts_at > MAX_SESSION_LENGTH:
        raise InvalidInputError(_("A session lasts at most 7 days; add more sessions."), "ends_at")


def _check_join_url(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not re.match(r"^https?://[^\s]+$", value):
        raise InvalidInputError(_("Give an http or https address."), "join_url")
    return value


async def add_session(
    db: AsyncSession, event_id: int, data: SessionCreate, *, now: datetime,
    settings: Settings,
) -> Session:
    event = await get_event(db, event_id)
    if event.status == EventStatus.CANCELLED:
        raise ConflictError(_("The event is cancelled."), "status")
    starts_at = parse_instant(data.starts_at, event.timezone, "starts_at")
    ends_at = parse_instant(
        data.ends_at, event.timezone, "ends_at", on_date=local_date(starts_at, event.timezone)
    )
    _check_session_times(starts_at, ends_at)
    session = Session(
        event_id=event.id,
        title=clean_line(data.title, "title", required=True, max_length=TITLE_LIMIT),
        description=clean_text(data.description, "description",
                               max_length=DESCRIPTION_LIMIT) or "",
        starts_at=starts_at,
        ends_at=ends_at,
        mode=data.mode or SessionMode.ONLINE,
        join_url=_check_join_url(data.join_url),
        capacity=check_places(data.capacity, "capacity"),
        status=SessionStatus.SCHEDULED,
        sequence=0,
        created_at=now,
        updated_at=now,
    )
    db.add(session)
    await db.flush()
    session = await get_session(db, session.id)
    await signals.announce(db, signals.SessionAdded(session, session.event), now=now,
                           settings=settings)
    return session


async def update_session(
    db: AsyncSession, session_id: int, changes: SessionUpdate, *, now: datetime,
    settings: Settings,
) -> Session:
    """Edit a session; moving both ends by the same amount moves its agenda with it."""
    session = await get_session(db, session_id)
    event = session.event
    before = snapshot_session(session, event)
    starts_at, ends_at = session.starts_at, session.ends_at
    if changes.starts_at is not UNSET:
        starts_at = parse_instant(changes.starts_at, event.timezone, "starts_at")
    if changes.ends_at is not UNSET:
        ends_at = parse_instant(
            changes.ends_at, event.timezone, "ends_at",
            on_date=local_date(starts_at, event.timezone),
        )
    _check_session_times(starts_at, ends_at)
    shift = starts_at - session.starts_at
    moves_agenda = shift and (ends_at - session.ends_at) == shift
    for item in session.agenda_items:
        item_start = item.starts_at + shift if moves_agenda else item.starts_at
        item_end = item.ends_at + shift if moves_agenda else item.ends_at
        if item_start < starts_at or item_end > ends_at:
            raise InvalidInputError(
                _("The agenda item %(title)r would fall outside the session; move or shorten it "
                      "first, or move start and end together.")
                    % {"title": item.title},
                "ends_at" if changes.ends_at is not UNSET else "starts_at",
            )
    if moves_agenda:
        for item in session.agenda_items:
            item.starts_at += shift
            item.ends_at += shift
            item.updated_at = now
    session.starts_at, session.ends_at = starts_at, ends_at
    if changes.title is not UNSET:
        session.title = clean_line(changes.title, "title", required=True,
                                   max_length=TITLE_LIMIT)
    if changes.description is not UNSET:
        session.description = clean_text(changes.description, "description",
                                         max_length=DESCRIPTION_LIMIT) or ""
    if changes.mode is not UNSET:
        session.mode = changes.mode
    if changes.join_url is not UNSET:
        session.join_url = _check_join_url(changes.join_url)
    places_added = changes.capacity is not UNSET and lets_more_in(session.capacity,
                                                                   changes.capacity)
    if changes.capacity is not UNSET:
        session.capacity = check_places(changes.capacity, "capacity")
    session.updated_at = now
    await db.flush()
    await signals.announce(db, signals.SessionChanged(session, event, before), now=now,
                           settings=settings)
    if places_added:
        await signals.announce(db, signals.PlacesAdded(event), now=now, settings=settings)
    return await get_session(db, session_id)


async def mark_session_cancelled(
    db: AsyncSession, session: Session, event: Event, *, now: datetime, settings: Settings
) -> None:
    """Cancel one loaded session of `event` and announce it (cancelling an event uses it too)."""
    before = snapshot_session(session, event)
    session.status = SessionStatus.CANCELLED
    session.cancelled_at = now
    session.updated_at = now
    await db.flush()
    await signals.announce(db, signals.SessionChanged(session, event, before), now=now,
                           settings=settings)


async def cancel_session(
    db: AsyncSession, session_id: int, *, now: datetime, settings: Settings
) -> Session:
    session = await get_session(db, session_id)
    if session.status != SessionStatus.CANCELLED:
        await mark_session_cancelled(db, session, session.event, now=now, settings=settings)
    return await get_session(db, session_id)


async def delete_session(db: AsyncSession, session_id: int) -> None:
    session = await get_session(db, session_id)
    enrolled = await db.scalar(
        select(func.count(Enrolment.id)).where(Enrolment.session_id == session.id)
    )
    if enrolled:
        raise ConflictError(
            _("People are enrolled in this session: cancel it instead of deleting it."), "status"
        )
    await db.delete(session)
    await db.flush()


# --- what the event's sessions offer registrants ----------------------------------------------


def offers_session_choice(event: Event) -> bool:
    """Whether registrants choose (and may change) their sessions: the event allows it and
    has more than one session to choose from. Emails and pages offer "change your sessions"
    only then."""
    scheduled = [s for s in event.sessions if s.status == SessionStatus.SCHEDULED]
    return event.allows_session_choice and len(scheduled) > 1


def is_hybrid(event: Event) -> bool:
    """Whether registrants choose between taking part in person and online."""
    return any(s.mode == SessionMode.HYBRID and s.status == SessionStatus.SCHEDULED
               for s in event.sessions)

"""Reading registrations: waiting lists, organisers' lists, a registrant's emails and invite.

Queries only: nothing here changes a registration or queues an email.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from notifications.outbox import list_emails_for_registration
from service.db.models import (
    Enrolment,
    EnrolmentStatus,
    OutboxEmail,
    Registration,
    RegistrationStatus,
    SessionStatus,
)
from service.domain.emails import registration as emails
from service.domain.errors import ConflictError, NotFoundError
from service.i18n import gettext as _
from service.settings import Settings

from .loading import attach, event_id_of, load_event, load_registration


async def waiting_order(db: AsyncSession, event_id: int) -> list[int]:
    """Ids of the registrations on the event's waiting list, first in line first."""
    return list(
        await db.scalars(
            select(Registration.id)
            .where(Registration.event_id == event_id,
                   Registration.status == RegistrationStatus.WAITING)
            .order_by(Registration.waiting_since, Registration.id)
        )
    )


async def waiting_position(db: AsyncSession, registration: Registration) -> int | None:
    """1-based place on the event's waiting list, or None when not waiting."""
    if registration.status != RegistrationStatus.WAITING or registration.waiting_since is None:
        return None
    ahead = await db.scalar(
        select(func.count(Registration.id)).where(
            Registration.event_id == registration.event_id,
            Registration.status == RegistrationStatus.WAITING,
            (Registration.waiting_since < registration.waiting_since)
            | ((Registration.waiting_since == registration.waiting_since)
               & (Registration.id < registration.id)),
        )
    )
    return (ahead or 0) + 1


async def list_registrations(
    db: AsyncSession, event_id: int, *, status: RegistrationStatus | None = None,
    session_id: int | None = None,
) -> list[Registration]:
    """An event's registrations in arrival order, with enrolments and sessions loaded.

    Unconfirmed ones (addresses nobody has confirmed yet) are listed only when asked for
    by their status: until then they are requests, not registrations.
    """
    event = await load_event(db, event_id)
    query = select(Registration).where(Registration.event_id == event_id)
    if status is not None:
        query = query.where(Registration.status == status)
    else:
        query = query.where(Registration.status != RegistrationStatus.UNCONFIRMED)
    if session_id is not None:
        if session_id not in {s.id for s in event.sessions}:
            raise NotFoundError(_("No session %(session_id)s in this event.")
                                    % {"session_id": session_id}, "session_id")
        query = query.where(
            Registration.id.in_(
                select(Enrolment.registration_id).where(
                    Enrolment.session_id == session_id,
                    Enrolment.status != EnrolmentStatus.CANCELLED,
                )
            )
        )
    rows = list(
        await db.scalars(
            query.order_by(Registration.id).options(selectinload(Registration.enrolments))
        )
    )
    for registration in rows:
        attach(registration, event)
    return rows


async def list_registration_emails(db: AsyncSession, registration_id: int) -> list[OutboxEmail]:
    """The emails sent (or still to be sent) to one registrant, oldest first."""
    await event_id_of(db, registration_id)
    return list(await list_emails_for_registration(db, registration_id))


async def registrant_calendar(
    db: AsyncSession, registration: Registration, *, now: datetime, settings: Settings,
    session_ids: Collection[int] | None = None,
) -> bytes:
    """The registrant's sessions to download and import: one VEVENT per confirmed session
    still taking place (or per `session_ids`), as a plain calendar (no METHOD).

    Not an iTIP message: the invites went by email, one per session. A cancelled session
    is left out (its CANCEL went by email too).
    """
    event = await load_event(db, registration.event_id)
    registration = await load_registration(db, registration.id, event)
    if session_ids is None:
        session_ids = {e.session_id for e in registration.enrolments
                       if e.status == EnrolmentStatus.CONFIRMED}
    sessions = [s for s in event.sessions
                if s.id in session_ids and s.status == SessionStatus.SCHEDULED]
    if not sessions:
        raise ConflictError(_("There is no confirmed session to put in a calendar yet."), "status")
    return emails.registrant_download(registration, event, sessions, now=now, settings=settings)


async def count_confirmed_registrations(db: AsyncSession, event_ids: Iterable[int]
                                        ) -> dict[int, int]:
    """Confirmed registrations per event: what holds a place."""
    ids = list(event_ids)
    if not ids:
        return {}
    rows = await db.execute(
        select(Registration.event_id, func.count(Registration.id))
        .where(Registration.event_id.in_(ids),
               Registration.status == RegistrationStatus.CONFIRMED)
        .group_by(Registration.event_id)
    )
    return {event_id: count for event_id, count in rows.all()}


async def count_confirmed_enrolments(db: AsyncSession, session_ids: Iterable[int]
                                     ) -> dict[int, int]:
    """Confirmed places per session."""
    ids = list(session_ids)
    if not ids:
        return {}
    rows = await db.execute(
        select(Enrolment.session_id, func.count(Enrolment.id))
        .where(Enrolment.session_id.in_(ids), Enrolment.status == EnrolmentStatus.CONFIRMED)
        .group_by(Enrolment.session_id)
    )
    return {session_id: count for session_id, count in rows.all()}


async def list_enrolments(db: AsyncSession, registration_id: int) -> list[Enrolment]:
    """A registration's enrolments as they stand now (re-read, not from the identity map)."""
    return list(await db.scalars(
        select(Enrolment).where(Enrolment.registration_id == registration_id)
        .order_by(Enrolment.id)
        .execution_options(populate_existing=True)
    ))

"""Loading and locking what registrations are about: the event with its sessions, and
registrations with their enrolments pointed at those already loaded sessions.

Every function that can take or free a place first locks the event's row here
(`SELECT ... FOR NO KEY UPDATE` on PostgreSQL), so the capacity checks of one event run one
after another. Reads and locks only: nothing here changes a registration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import instance_dict, set_committed_value

from service.db.models import (
    AccessPurpose,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventStatus,
    Registration,
    Session,
)
from service.domain import access, programme
from service.domain.errors import NotFoundError
from service.i18n import gettext as _


def _link_sessions(event: Event) -> Event:
    for session in event.sessions:
        set_committed_value(session, "event", event)
    return event


async def lock_event(db: AsyncSession, *, event_id: int) -> Event:
    """The event, its row locked until commit on PostgreSQL: capacity checks run one at a time."""
    return await programme.get_event(db, event_id, lock=True)


# Built once (the public form's hot path): a published event with its sessions, in one
# statement, locked like `lock_event` on PostgreSQL.
_PUBLISHED_EVENT = (
    select(Event)
    .options(joinedload(Event.sessions))
    .where(Event.slug == bindparam("slug"), Event.status != EventStatus.DRAFT)
    .execution_options(populate_existing=True)
)
_PUBLISHED_EVENT_LOCKED = _PUBLISHED_EVENT.with_for_update(key_share=True, of=Event)


async def lock_published_event(db: AsyncSession, slug: str) -> Event:
    """A published event by slug, with its sessions (not their agenda), locked for places."""
    locked = db.get_bind().dialect.name == "postgresql"
    query = _PUBLISHED_EVENT_LOCKED if locked else _PUBLISHED_EVENT
    event = (await db.scalars(query, {"slug": slug})).unique().first()
    if event is None:
        raise NotFoundError(_("No published event %(slug)r.") % {"slug": slug}, "slug")
    return _link_sessions(event)


async def load_event(db: AsyncSession, event_id: int) -> Event:
    """The event with its sessions, agenda items and speakers (not locked)."""
    return await programme.get_event(db, event_id)


def attach(registration: Registration, event: Event) -> None:
    """Point the registration and its enrolments at the already loaded event and sessions."""
    set_committed_value(registration, "event", event)
    sessions = {s.id: s for s in event.sessions}
    for enrolment in registration.enrolments:
        set_committed_value(enrolment, "session", sessions[enrolment.session_id])
        set_committed_value(enrolment, "registration", registration)


def as_written(registration_id: int, event: Event, values: dict[str, Any],
               enrolments: Sequence[tuple[Session, EnrolmentStatus]],
               invite_sequences: Mapping[int, int] | None = None) -> Registration:
    """A registration as written (or as it stood), built from its values: an object to read,
    not tracked by the database session, so nothing about it is written twice.

    Its columns go straight into the objects' state as committed values, as loading from
    the database puts them (through the constructor each one would be recorded as a change
    to write: five times the cost, paid twice per registration in a burst)."""
    registration = Registration()
    instance_dict(registration).update(values, id=registration_id)
    set_committed_value(registration, "event", event)
    rows = []
    for session, status in enrolments:
        enrolment = Enrolment()
        instance_dict(enrolment).update(
            registration_id=registration_id, session_id=session.id, status=status,
            created_at=values["created_at"], updated_at=values["created_at"],
            invite_sequence=(invite_sequences or {}).get(session.id, 0))
        set_committed_value(enrolment, "session", session)
        set_committed_value(enrolment, "registration", registration)
        rows.append(enrolment)
    set_committed_value(registration, "enrolments", rows)
    return registration


async def load_registration(db: AsyncSession, registration_id: int, event: Event
                             ) -> Registration:
    registration = await db.scalar(
        select(Registration)
        .where(Registration.id == registration_id)
        .options(selectinload(Registration.enrolments))
        .execution_options(populate_existing=True)
    )
    if registration is None:
        raise NotFoundError(_("No registration with id %(registration_id)s.")
                                % {"registration_id": registration_id}, "registration_id")
    attach(registration, event)
    return registration


async def load_registrations(db: AsyncSession, event: Event, ids: Sequence[int]
                             ) -> list[Registration]:
    """The event's registrations with these ids, in the order of `ids`."""
    if not ids:
        return []
    rows = list(
        await db.scalars(
            select(Registration)
            .where(Registration.id.in_(ids))
            .options(selectinload(Registration.enrolments))
        )
    )
    for registration in rows:
        attach(registration, event)
    order = {registration_id: index for index, registration_id in enumerate(ids)}
    return sorted(rows, key=lambda r: order[r.id])


async def event_id_of(db: AsyncSession, registration_id: int) -> int:
    """The registration's event; NotFoundError for an unknown registration."""
    event_id = await db.scalar(
        select(Registration.event_id).where(Registration.id == registration_id)
    )
    if event_id is None:
        raise NotFoundError(_("No registration with id %(registration_id)s.")
                                % {"registration_id": registration_id}, "registration_id")
    return event_id


async def lock_for_registration(
    db: AsyncSession, registration_id: int
) -> tuple[Event, Registration]:
    """The registration and its event, the event locked (see `lock_event`)."""
    event = await lock_event(db, event_id=await event_id_of(db, registration_id))
    return event, await load_registration(db, registration_id, event)


async def get_registration(db: AsyncSession, registration_id: int) -> Registration:
    """A registration with its event (sessions) and enrolments loaded."""
    event = await load_event(db, await event_id_of(db, registration_id))
    return await load_registration(db, registration_id, event)


async def find_registration_by_token(
    db: AsyncSession, token: str, purpose: AccessPurpose = AccessPurpose.REGISTRATION_MANAGE,
) -> Registration:
    """The registration a manage link (or another of its links: `purpose`) belongs to;
    unknown and revoked links look the same."""
    found = await access.find_access(db, purpose, token)
    if found is None or found.registration_id is None:
        raise NotFoundError(_("This link is not valid."), "token")
    return await get_registration(db, found.registration_id)

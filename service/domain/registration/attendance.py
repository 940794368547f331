"""Who attended an event in person: organisers check registrants in at the door
(`checked_in_at`), or take a check-in back when they pressed the wrong line. For every kind
of event with a place to come to (a seminar, a study visit, a Meet-your-Buyer day, whose
report lists who came). Flushes, never commits; knows no HTTP.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Event, Registration, RegistrationStatus, SessionMode
from service.domain.errors import ConflictError, NotFoundError
from service.i18n import gettext as _

from .listing import clean_search, search_condition

# Who can be on the day's list: people with a place (or awaiting one, who may turn up).
ATTENDEE_STATUSES = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITING,
                     RegistrationStatus.PENDING)


def has_a_place_to_come_to(event: Event) -> bool:
    """Whether anyone arrives anywhere: a session in person or hybrid (its sessions loaded)."""
    return any(session.mode != SessionMode.ONLINE for session in event.sessions)


async def check_in(db: AsyncSession, event_id: int, registration_id: int, *, present: bool,
                   now: datetime) -> Registration:
    """Record (or take back) a registrant's arrival; a second check-in keeps the first time."""
    registration = await db.get(Registration, registration_id)
    if registration is None or registration.event_id != event_id:
        raise NotFoundError(_("No such registration for this event."), "registration_id")
    if present and registration.status not in ATTENDEE_STATUSES:
        raise ConflictError(_("This registration is cancelled or declined: nobody to check in."),
                            "registration_id")
    if present and registration.checked_in_at is None:
        registration.checked_in_at = now
    elif not present:
        registration.checked_in_at = None
    registration.updated_at = now
    await db.flush()
    return registration


async def attendance_list(db: AsyncSession, event_id: int, *, search: str = ""
                          ) -> list[Registration]:
    """Everyone who registered (but unconfirmed addresses), by name; with `search`, those
    whose name, email or organisation holds it (a refused search names "q")."""
    query = (select(Registration)
             .where(Registration.event_id == event_id,
                    Registration.status != RegistrationStatus.UNCONFIRMED)
             .order_by(Registration.name, Registration.id))
    term = clean_search(search)
    if term:
        query = query.where(await search_condition(db, term))
    return list(await db.scalars(query))


async def attendance_counts(db: AsyncSession, event_id: int) -> tuple[int, int]:
    """How many came (checked in, not taken back), of how many on the list."""
    checked_in, listed = (await db.execute(
        select(func.count(Registration.checked_in_at), func.count())
        .where(Registration.event_id == event_id,
               Registration.status != RegistrationStatus.UNCONFIRMED))).one()
    return int(checked_in), int(listed)

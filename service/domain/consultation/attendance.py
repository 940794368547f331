"""Who attended: organisers check registrants in on the day (`checked_in_at`), or take a
check-in back when they pressed the wrong line. Flushes, never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Registration, RegistrationStatus
from service.domain.errors import ConflictError, NotFoundError
from service.i18n import gettext as _

from .profile import load_consultation_event

# Who can be on the day's list: people with a place (or awaiting one, who may turn up).
ATTENDEE_STATUSES = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITING,
                     RegistrationStatus.PENDING)


async def check_in(db: AsyncSession, event_id: int, registration_id: int, *, present: bool,
                   now: datetime) -> Registration:
    """Record (or take back) a registrant's arrival; a second check-in keeps the first time."""
    await load_consultation_event(db, event_id)
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


async def attendance_list(db: AsyncSession, event_id: int) -> list[Registration]:
    """Everyone who registered (but unconfirmed addresses), by name."""
    return list(await db.scalars(
        select(Registration)
        .where(Registration.event_id == event_id,
               Registration.status != RegistrationStatus.UNCONFIRMED)
        .order_by(Registration.name, Registration.id)))

"""Who holds a confirmed place in a session: the registrants reminders and notices are for.

A place counts when both the enrolment and the registration are confirmed. Read-only
queries over registrations; this module lives here (not in `registration`) so that
reminders need not import registration, and change notices read the same answer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Enrolment, EnrolmentStatus, Registration, RegistrationStatus


async def confirmed_places(
    db: AsyncSession, session_id: int, *, confirmed_before: datetime | None = None
) -> list[Registration]:
    """Registrations with a confirmed place in the session (confirmed registration too),
    leaving out those whose address was erased: nobody to remind or tell any more."""
    query = (
        select(Registration)
        .join(Enrolment, Enrolment.registration_id == Registration.id)
        .where(
            Enrolment.session_id == session_id,
            Enrolment.status == EnrolmentStatus.CONFIRMED,
            Registration.status == RegistrationStatus.CONFIRMED,
            Registration.contact_erased_at.is_(None),
        )
        .order_by(Registration.id)
    )
    if confirmed_before is not None:
        query = query.where(Enrolment.created_at <= confirmed_before)
    return list(await db.scalars(query))


async def has_confirmed_places(db: AsyncSession, session_id: int) -> bool:
    found = await db.scalar(
        select(Enrolment.id)
        .join(Registration, Registration.id == Enrolment.registration_id)
        .where(
            Enrolment.session_id == session_id,
            Enrolment.status == EnrolmentStatus.CONFIRMED,
            Registration.status == RegistrationStatus.CONFIRMED,
            Registration.contact_erased_at.is_(None),
        )
        .limit(1)
    )
    return found is not None

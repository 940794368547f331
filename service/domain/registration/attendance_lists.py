"""Who attended a session online: nobody passes a door, so organisers record attendance from
the attendee report of their webinar tool (Zoom, Teams, Webex export one as a spreadsheet),
pasted as it is: every email address in it is read. Each registrant of the session found
there counts as having attended it, as a check-in at a door does (certificates of attendance,
the organisers' messages to who attended or did not, the figures). Works for any session
that has started, in person too (a paper list typed up afterwards). Flushes, never commits;
knows no HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Enrolment, EnrolmentStatus, Registration, Session, SessionStatus
from service.domain.errors import ConflictError, NotFoundError
from service.i18n import gettext as _

from .attendance import ATTENDEE_STATUSES
from .form import normalise_email

# An address as attendee reports write it: between separators, quotes or angle brackets.
_ADDRESS = re.compile(r"[^\s,;:<>()\[\]\"']+@[^\s,;:<>()\[\]\"']+\.[^\s,;:<>()\[\]\"']+")
# A report of a big webinar: some thousands of lines of a dozen columns.
MAX_REPORT = 500_000  # the API takes as much (`AttendanceReportIn`)
_SLICE = 500


@dataclass(frozen=True)
class AttendanceRecorded:
    """What a pasted report did: who now counts as attended (by name), how many already
    did, and the addresses of no registrant of the session."""

    marked: list[str]
    already: int
    unknown: list[str]


def addresses_in(report: str) -> list[str]:
    """Every email address in the text, normalised, each once, in order."""
    return list(dict.fromkeys(normalise_email(found) for found in _ADDRESS.findall(report)))


async def record_attendance_list(db: AsyncSession, session_id: int, report: str, *,
                                 now: datetime) -> AttendanceRecorded:
    """Mark as attended each registrant of the session whose address is in `report`, as at
    the session's start (a check-in already recorded keeps its time). The session must have
    started and not be cancelled; who cancelled, was declined or gave the session up is not
    marked (their address counts as unknown)."""
    session = await db.get(Session, session_id)
    if session is None:
        raise NotFoundError(_("No session with id %(session_id)s.") % {"session_id": session_id},
                            "session_id")
    if session.status == SessionStatus.CANCELLED:
        raise ConflictError(_("This session was cancelled: nobody attended it."), "report")
    if now < session.starts_at:
        raise ConflictError(_("Attendance can be recorded once the session has started."),
                            "report")
    wanted = addresses_in(report)
    found: dict[str, tuple[Enrolment, Registration]] = {}
    # In slices: a big webinar's report holds thousands of addresses, more than some
    # databases take as the parameters of one statement.
    for start in range(0, len(wanted), _SLICE):
        places = await db.execute(
            select(Enrolment, Registration)
            .join(Registration, Registration.id == Enrolment.registration_id)
            .where(Enrolment.session_id == session.id,
                   Enrolment.status != EnrolmentStatus.CANCELLED,
                   Registration.status.in_(ATTENDEE_STATUSES),
                   Registration.email_normalised.in_(wanted[start:start + _SLICE])))
        found.update({registration.email_normalised: (enrolment, registration)
                      for enrolment, registration in places.all()})
    marked: list[str] = []
    already = 0
    for enrolment, registration in found.values():
        if enrolment.checked_in_at is not None:
            already += 1
            continue
        enrolment.checked_in_at = session.starts_at
        enrolment.updated_at = now
        arrivals = [registration.checked_in_at, session.starts_at]
        registration.checked_in_at = min(a for a in arrivals if a is not None)
        registration.updated_at = now
        marked.append(registration.name)
    await db.flush()
    return AttendanceRecorded(marked=sorted(marked, key=str.casefold), already=already,
                              unknown=[address for address in wanted if address not in found])


@dataclass(frozen=True)
class Attendee:
    """Someone who counts as having attended a session."""

    registration_id: int
    name: str


async def attendees(db: AsyncSession, session_id: int) -> Sequence[Attendee]:
    """Who counts as having attended the session (checked in, or on its attendance list),
    by name."""
    found = await db.execute(
        select(Registration.id, Registration.name)
        .join(Enrolment, Enrolment.registration_id == Registration.id)
        .where(Enrolment.session_id == session_id, Enrolment.checked_in_at.is_not(None))
        .order_by(Registration.name, Registration.id))
    return [Attendee(registration_id, name) for registration_id, name in found.all()]


async def take_back_attendance(db: AsyncSession, session_id: int, registration_id: int, *,
                               now: datetime) -> str:
    """A mark made by mistake: the registrant no longer counts as having attended the
    session (online or not: a check-in at its door is taken back too). Their name."""
    places = await db.execute(
        select(Enrolment, Registration)
        .join(Registration, Registration.id == Enrolment.registration_id)
        .where(Enrolment.session_id == session_id,
               Enrolment.registration_id == registration_id))
    found = places.first()
    if found is None:
        raise NotFoundError(_("This registration has no place in that session."),
                            "registration_id")
    enrolment, registration = found
    enrolment.checked_in_at = None
    enrolment.updated_at = registration.updated_at = now
    await db.flush()
    registration.checked_in_at = await db.scalar(
        select(func.min(Enrolment.checked_in_at))
        .where(Enrolment.registration_id == registration.id))
    await db.flush()
    return registration.name

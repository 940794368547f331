"""What happens to a registration after it is made: changing sessions, cancelling, an
organiser's approval or refusal, and enrolment in a session added later.

Each command locks the event first (`loading`), lets `places` move people, and queues the
registrant's own email in the same transaction; whoever else moved up hears of it through
`places.follow_up`. Never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    Enrolment,
    EnrolmentStatus,
    Event,
    EventStatus,
    Registration,
    RegistrationStatus,
    Session,
    SessionStatus,
)
from service.domain import signals
from service.domain.emails import registration as emails
from service.domain.errors import ConflictError
from service.domain.text import clean_text
from service.i18n import gettext as _
from service.settings import Settings

from .form import MAX_NOTE
from .links import registrant_links
from .loading import load_event, load_registrations, lock_for_registration
from .places import (
    Changes,
    admit,
    end_enrolments,
    end_registration,
    enrolments_for,
    fill_places,
    follow_up,
    place_enrolments,
    session_counts,
)
from .queries import waiting_position
from .rules import ACTIVE_STATUSES, check_open, chosen_sessions, status_refusal


async def change_session_choices(
    db: AsyncSession, registration_id: int, session_ids: Sequence[int], *, now: datetime,
    settings: Settings,
) -> Registration:
    """Replace the sessions a registration covers (it then no longer follows new sessions)."""
    event, registration = await lock_for_registration(db, registration_id)
    if registration.status not in ACTIVE_STATUSES:
        raise ConflictError(status_refusal(registration.status), "status")
    check_open(event, now)
    chosen = chosen_sessions(event, tuple(dict.fromkeys(session_ids)), now)
    chosen_ids = {s.id for s in chosen}
    before = {e.session_id: e.status for e in registration.enrolments}

    registration.is_whole_event = False
    registration.updated_at = now
    dropped_ids = {sid for sid, status in before.items()
                   if sid not in chosen_ids and status != EnrolmentStatus.CANCELLED}
    dropped = await end_enrolments(db, registration, now=now, settings=settings,
                                   sessions=dropped_ids)
    enrolments_for(registration, chosen, now)
    await db.flush()

    changes = Changes()
    await place_enrolments(db, registration, changes, now=now)
    added = [s for s in chosen if before.get(s.id) in (None, EnrolmentStatus.CANCELLED)]
    if dropped:
        await fill_places(db, event, changes, now=now)
    await follow_up(db, event, changes, now=now, settings=settings,
                    skip_email_for=registration.id)
    if dropped or added:
        links = await registrant_links(db, registration, now=now, settings=settings)
        await emails.send_sessions_changed(
            db, registration, event, added=added, dropped=dropped, links=links, now=now,
            settings=settings,
        )
    return registration


async def cancel_registration(
    db: AsyncSession, registration_id: int, *, now: datetime, settings: Settings
) -> Registration:
    """The registrant withdraws; their places go to the first people waiting. Idempotent."""
    event, registration = await lock_for_registration(db, registration_id)
    if registration.status not in ACTIVE_STATUSES:
        return registration
    registration.cancelled_at = now
    ended = await end_registration(db, event, registration, RegistrationStatus.CANCELLED,
                                   now=now, settings=settings)
    await signals.announce(db, signals.RegistrationWithdrawn(registration), now=now,
                           settings=settings)
    links = await registrant_links(db, registration, now=now, settings=settings)
    await emails.send_cancellation(db, registration, event, ended, links=links, now=now,
                                   settings=settings)
    return registration


async def release_registration(
    db: AsyncSession, registration_id: int, *, now: datetime, settings: Settings
) -> Registration:
    """Its place ends exactly as a cancellation's does (the first people waiting move up and
    hear of it), but the registrant is sent nothing: their data is about to be erased.
    Idempotent; an unconfirmed registration (no place) is simply cancelled."""
    event, registration = await lock_for_registration(db, registration_id)
    if registration.status == RegistrationStatus.UNCONFIRMED:
        registration.status = RegistrationStatus.CANCELLED
        registration.cancelled_at = registration.updated_at = now
        registration.confirmation_expires_at = None
        await db.flush()
        return registration
    if registration.status not in ACTIVE_STATUSES:
        return registration
    registration.cancelled_at = now
    await end_registration(db, event, registration, RegistrationStatus.CANCELLED, now=now,
                           settings=settings)
    return registration


async def approve_registration(
    db: AsyncSession, registration_id: int, *, now: datetime, settings: Settings,
    note: str | emails.OrganiserNote | None = None,
) -> Registration:
    """An organiser accepts an application: a place, or the waiting list if the event is full.
    `note`, a message from the organisers, goes into the email that tells them."""
    clean_note = _checked_note(note, "note")
    event, registration = await lock_for_registration(db, registration_id)
    if registration.status in (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITING):
        return registration
    if registration.status != RegistrationStatus.PENDING:
        raise ConflictError(status_refusal(registration.status), "status")
    # Only a cancelled event stops an approval: the registration window may have closed
    # while the application waited for the organisers.
    if event.status == EventStatus.CANCELLED:
        raise ConflictError(_("This event is cancelled."), "status")
    registration.decided_at = now
    changes = Changes()
    admitted = await admit(db, event, registration, now=now)
    await place_enrolments(db, registration, changes, now=now)
    await follow_up(db, event, changes, now=now, settings=settings,
                    skip_email_for=registration.id)
    links = await registrant_links(db, registration, now=now, settings=settings)
    if admitted == RegistrationStatus.WAITING:
        await emails.send_waiting_list(
            db, registration, event, position=await waiting_position(db, registration),
            links=links, now=now, settings=settings, approved=True, note=clean_note,
        )
    else:
        await emails.send_approved(db, registration, event, links=links, now=now,
                                   settings=settings, note=clean_note)
    return registration


async def decline_registration(
    db: AsyncSession, registration_id: int, *, now: datetime, settings: Settings,
    reason: str | emails.OrganiserNote | None = None,
) -> Registration:
    """An organiser turns a registration down (any place it held goes to the next person);
    `reason`, a message from the organisers, goes into the email that tells them."""
    event, registration = await lock_for_registration(db, registration_id)
    if registration.status == RegistrationStatus.DECLINED:
        return registration
    if registration.status not in ACTIVE_STATUSES:
        raise ConflictError(status_refusal(registration.status), "status")
    clean_reason = _checked_note(reason, "reason")
    registration.decided_at = now
    ended = await end_registration(db, event, registration, RegistrationStatus.DECLINED,
                                   now=now, settings=settings)
    await signals.announce(db, signals.RegistrationWithdrawn(registration), now=now,
                           settings=settings)
    links = await registrant_links(db, registration, now=now, settings=settings)
    await emails.send_declined(db, registration, event, ended, reason=clean_reason, links=links,
                               now=now, settings=settings)
    return registration


def _checked_note(note: str | emails.OrganiserNote | None, field: str
                  ) -> emails.OrganiserNote | None:
    """A note typed for one decision, cleaned (its language unknown: the email's); one that
    comes checked with its translations (`decide_registrations`) is taken as it is."""
    if isinstance(note, emails.OrganiserNote):
        return note
    text = clean_text(note, field, max_length=MAX_NOTE)
    return emails.OrganiserNote(text) if text else None


async def enrol_in_new_session(
    db: AsyncSession, session: Session, *, now: datetime, settings: Settings
) -> None:
    """Whole-event registrants are enrolled in a session the organiser added; confirmed
    ones get a place (while there are places) and an invite for it."""
    if session.status != SessionStatus.SCHEDULED:
        return
    # Lock first, then look: a registration committed meanwhile is seen here (and one still
    # running cannot see this session yet, so it is enrolled by this transaction).
    if db.get_bind().dialect.name == "postgresql":
        await db.execute(
            select(Event.id).where(Event.id == session.event_id).with_for_update(key_share=True)
        )
    ids = list(
        await db.scalars(
            select(Registration.id)
            .where(Registration.event_id == session.event_id,
                   Registration.is_whole_event.is_(True),
                   Registration.status.in_(ACTIVE_STATUSES),
                   # Anonymised (past its retention): nobody to enrol or tell any more.
                   Registration.contact_erased_at.is_(None))
            .order_by(Registration.id)
        )
    )
    if not ids:
        return
    event = await load_event(db, session.event_id)
    session = next(s for s in event.sessions if s.id == session.id)
    counts = await session_counts(db, [session])
    taken = counts.get(session.id, 0)
    changes = Changes()
    for registration in await load_registrations(db, event, ids):
        if any(e.session_id == session.id for e in registration.enrolments):
            continue
        has_place = registration.status == RegistrationStatus.CONFIRMED and (
            session.capacity is None or taken < session.capacity
        )
        enrolment = Enrolment(
            session=session, session_id=session.id,
            status=EnrolmentStatus.CONFIRMED if has_place else EnrolmentStatus.WAITING,
            created_at=now, updated_at=now,
        )
        registration.enrolments.append(enrolment)
        if has_place:
            taken += 1
            changes.note_confirmed(registration, session)
    await db.flush()
    for registration_id in changes.confirmed:
        registration = changes.registrations[registration_id]
        await signals.announce(db, signals.EnrolmentConfirmed(registration, session), now=now,
                               settings=settings)
        if session.ends_at > now:
            await emails.send_new_session(
                db, registration, event, session,
                links=await registrant_links(db, registration, now=now, settings=settings),
                now=now, settings=settings,
            )

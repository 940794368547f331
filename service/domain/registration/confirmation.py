"""Confirming a registrant's address (double opt-in), for events that ask for it.

Anyone can type anyone's address into the form. Where the event asks for confirmation, a
registration is recorded `unconfirmed`: it holds no place and no position, and the only
email it causes is "confirm your address" (re-sent, rate-limited, when the form is sent
again). Following the link files it as if it had just arrived: a place or the waiting list
in the order of confirmation, or the organisers' approval, then the usual first email. What
is never confirmed lapses after `CONFIRMATION_PERIOD` and is deleted with its emails.
Never commits; the hot path (`batch`) only calls in here for events that ask for it.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.outbox import queue_emails
from service.db.engine import insert_returning_ids, is_postgres, table_of
from service.db.models import (
    AccessPurpose,
    AccessToken,
    Enrolment,
    EnrolmentStatus,
    Event,
    OutboxEmail,
    OutboxStatus,
    Registration,
    RegistrationStatus,
    Session,
    SessionStatus,
)
from service.domain import access
from service.domain.emails.registration import address_confirmation_email
from service.domain.errors import ConflictError, NotFoundError
from service.domain.urls import address_confirmation_url
from service.i18n import gettext as _
from service.settings import Settings

from .loading import as_written, get_registration, lock_for_registration
from .places import Changes, admit, follow_up, place_enrolments
from .queries import waiting_position
from .rules import check_open, chosen_sessions
from .welcome import welcome_email

logger = logging.getLogger("procura_events.address_confirmation")

# How long a confirmation link works; an unconfirmed registration lapses with its last link.
CONFIRMATION_PERIOD = timedelta(hours=48)
# Sending the form again re-sends the link, at most this often and this many times per
# period: the form must not become a way to flood someone's inbox.
RESEND_INTERVAL = timedelta(minutes=10)
MAX_LINKS_PER_PERIOD = 5
# A lapsed registration that could not be deleted is tried again this much later.
EXPIRY_RETRY = timedelta(hours=1)
_PURPOSE = AccessPurpose.ADDRESS_CONFIRMATION


class LinkState(enum.StrEnum):
    READY = "ready"  # the link works: its page offers the button that confirms
    CONFIRMED = "confirmed"  # confirmed by this request: the registration is filed
    ALREADY = "already"  # confirmed before (a second press, a second tab): nothing changes
    REPLACED = "replaced"  # a newer link was sent since
    EXPIRED = "expired"  # older than CONFIRMATION_PERIOD: register again


@dataclass(frozen=True)
class AddressLink:
    """Where a confirmation link stands, with its registration (and event) loaded."""

    state: LinkState
    registration: Registration
    waiting_position: int | None = None


@dataclass(frozen=True)
class UnconfirmedEntry:
    """A new unconfirmed registration decided in memory, for `record_unconfirmed`."""

    event: Event
    values: dict[str, Any]
    sessions: Sequence[Session]


# --- recording: the form, for events that ask for confirmation ---------------------------------


async def record_unconfirmed(db: AsyncSession, entries: Sequence[UnconfirmedEntry], *,
                             now: datetime, settings: Settings) -> list[Registration]:
    """New unconfirmed registrations, one INSERT per table, each with its link and email.

    `values` are the registration's columns as the form sets them; the requested sessions
    are kept as waiting enrolments, which count for nothing until the address is confirmed.
    """
    expires_at = now + CONFIRMATION_PERIOD
    rows = [{**entry.values, "status": RegistrationStatus.UNCONFIRMED, "waiting_since": None,
             "confirmation_expires_at": expires_at} for entry in entries]
    ids = await insert_returning_ids(db, table_of(Registration), rows,
                                     key=("event_id", "email_normalised"))
    enrolments = [{"registration_id": registration_id, "session_id": session.id,
                   "status": EnrolmentStatus.WAITING, "created_at": now, "updated_at": now}
                  for entry, registration_id in zip(entries, ids, strict=True)
                  for session in entry.sessions]
    if enrolments:
        await db.execute(insert(table_of(Enrolment)), enrolments)
    tokens = await access.issue_first_registration_tokens(
        db, ids, (_PURPOSE,), secret_key=settings.secret_key, now=now)
    await queue_emails(db, [
        address_confirmation_email(
            registration_id, entry.event, name=row["name"], to_address=row["email"],
            confirm_url=address_confirmation_url(settings, entry.event.slug, token),
            expires_at=expires_at, language=row.get("language"))
        for entry, row, registration_id, [token] in zip(entries, rows, ids, tokens, strict=True)
    ], settings=settings, now=now)
    return [
        as_written(registration_id, entry.event, row,
                   [(session, EnrolmentStatus.WAITING) for session in entry.sessions])
        for entry, row, registration_id in zip(entries, rows, ids, strict=True)
    ]


async def ask_again(
    db: AsyncSession, event: Event, registration: Registration, values: dict[str, Any],
    sessions: Sequence[Session], *, now: datetime, settings: Settings,
) -> Registration:
    """The form sent again for an address awaiting confirmation (or one that cancelled, for
    an event that asks for confirmation): the latest details count, and the link is sent
    again unless it was sent moments ago or too often already."""
    for name, value in values.items():
        setattr(registration, name, value)
    registration.status = RegistrationStatus.UNCONFIRMED
    registration.waiting_since = None
    registration.decided_at = None
    registration.cancelled_at = None
    _request_sessions(registration, sessions, now)
    await db.flush()
    if await _may_send_link(db, registration.id, now):
        registration.confirmation_expires_at = now + CONFIRMATION_PERIOD
        # A new link replaces the earlier ones (their page says so).
        token = await access.issue_access_token(
            db, _PURPOSE, secret_key=settings.secret_key, now=now,
            registration_id=registration.id)
        await queue_emails(db, [address_confirmation_email(
            registration.id, event, name=registration.name, to_address=registration.email,
            confirm_url=address_confirmation_url(settings, event.slug, token),
            expires_at=registration.confirmation_expires_at, language=registration.language)],
            settings=settings, now=now)
    elif registration.confirmation_expires_at is None:  # a cancelled one, asked moments ago
        registration.confirmation_expires_at = now + CONFIRMATION_PERIOD
    await db.flush()
    return registration


async def _may_send_link(db: AsyncSession, registration_id: int, now: datetime) -> bool:
    count, last = (await db.execute(
        select(func.count(AccessToken.id), func.max(AccessToken.created_at)).where(
            AccessToken.purpose == _PURPOSE, AccessToken.registration_id == registration_id,
            AccessToken.created_at > now - CONFIRMATION_PERIOD)
    )).one()
    return last is None or (count < MAX_LINKS_PER_PERIOD and now - last >= RESEND_INTERVAL)


def _request_sessions(registration: Registration, sessions: Sequence[Session],
                      now: datetime) -> None:
    """The registration's enrolments become exactly `sessions`, waiting (the others end)."""
    wanted = {s.id: s for s in sessions}
    for enrolment in registration.enrolments:
        status = (EnrolmentStatus.WAITING if wanted.pop(enrolment.session_id, None)
                  else EnrolmentStatus.CANCELLED)
        if enrolment.status != status:
            enrolment.status, enrolment.updated_at = status, now
    for session in wanted.values():
        registration.enrolments.append(
            Enrolment(session=session, session_id=session.id, status=EnrolmentStatus.WAITING,
                      created_at=now, updated_at=now))


# --- the link ----------------------------------------------------------------------------------


async def _link(db: AsyncSession, token: str) -> AccessToken:
    found = await access.find_issued_access(db, _PURPOSE, token)
    if found is None or found.registration_id is None:
        raise NotFoundError(_("This link is not valid."), "token")
    return found


def _state(link: AccessToken, registration: Registration, slug: str, now: datetime
           ) -> LinkState:
    if registration.event.slug != slug:
        raise NotFoundError(_("This link is not valid."), "token")
    if registration.status != RegistrationStatus.UNCONFIRMED:
        return LinkState.ALREADY
    if link.revoked_at is not None:
        return LinkState.REPLACED
    if now >= link.created_at + CONFIRMATION_PERIOD:
        return LinkState.EXPIRED
    return LinkState.READY


async def check_address_link(db: AsyncSession, slug: str, token: str, *, now: datetime
                             ) -> AddressLink:
    """Where a link stands, changing nothing (mail scanners open links before people do)."""
    link = await _link(db, token)
    assert link.registration_id is not None
    registration = await get_registration(db, link.registration_id)
    state = _state(link, registration, slug, now)
    return AddressLink(state, registration, await waiting_position(db, registration))


async def confirm_address(db: AsyncSession, slug: str, token: str, *, now: datetime,
                          settings: Settings) -> AddressLink:
    """The registrant confirmed their address: the registration is filed as if it arrived
    now (a place or the waiting list, or the organisers' approval) and its first email is
    recorded. Idempotent: a link used already answers ALREADY and changes nothing."""
    link = await _link(db, token)
    assert link.registration_id is not None
    event, registration = await lock_for_registration(db, link.registration_id)
    # With the event locked, only the expiry job may still touch the row (it deletes under
    # this lock, without the event's): one of the two sees the other's outcome.
    if is_postgres(db) and await db.scalar(
            select(Registration.id).where(Registration.id == registration.id)
            .with_for_update()) is None:
        raise NotFoundError(_("This link is not valid."), "token")
    state = _state(link, registration, slug, now)
    if state != LinkState.READY:
        return AddressLink(state, registration, await waiting_position(db, registration))
    check_open(event, now)
    _request_sessions(registration, _sessions_to_file(event, registration, now), now)
    registration.address_confirmed_at = now
    registration.confirmation_expires_at = None
    registration.updated_at = now
    await access.revoke_registration_tokens(db, _PURPOSE, registration.id, now=now)
    changes = Changes()
    if event.is_approval_required:
        registration.status = RegistrationStatus.PENDING
        await db.flush()
    else:
        await admit(db, event, registration, now=now)
        await db.flush()
        await place_enrolments(db, registration, changes, now=now)
    await follow_up(db, event, changes, now=now, settings=settings,
                    skip_email_for=registration.id)
    position = await waiting_position(db, registration)
    enrolments = [(e.session, e.status) for e in registration.enrolments
                  if e.status != EnrolmentStatus.CANCELLED]
    await queue_emails(db, [welcome_email(registration.id, event.id, registration.status,
                                          registration.email, enrolments, position,
                                          language=registration.language)],
                       settings=settings, now=now)
    return AddressLink(LinkState.CONFIRMED, registration, position)


def _sessions_to_file(event: Event, registration: Registration, now: datetime
                      ) -> list[Session]:
    """What the registration covers when it is filed: every coming session for the whole
    event (sessions added meanwhile too), else the chosen ones still scheduled and to come."""
    if registration.is_whole_event:
        return chosen_sessions(event, None, now)
    chosen = sorted((e.session for e in registration.enrolments
                     if e.status == EnrolmentStatus.WAITING
                     and e.session.status == SessionStatus.SCHEDULED and e.session.ends_at > now),
                    key=lambda s: (s.starts_at, s.id))
    if not chosen:
        raise ConflictError(_("The sessions you chose are over or cancelled: please register "
                            "again and choose others."), "session_ids")
    return chosen


# --- expiry --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpiryReport:
    claimed: int = 0
    deleted: int = 0
    failed: int = 0


async def expire_unconfirmed_registrations(
    db: AsyncSession, *, now: datetime, batch_size: int = 50
) -> ExpiryReport:
    """Unconfirmed registrations whose link lapsed are deleted with everything they hold
    (enrolments, links, the emails sent to confirm). Each in a savepoint of its own: one
    that fails is logged and tried again `EXPIRY_RETRY` later, and the others go on."""
    query = (select(Registration.id)
             .where(Registration.status == RegistrationStatus.UNCONFIRMED,
                    Registration.confirmation_expires_at <= now)
             .order_by(Registration.confirmation_expires_at, Registration.id)
             .limit(batch_size))
    if is_postgres(db):
        query = query.with_for_update(skip_locked=True)
    ids = list(await db.scalars(query))
    deleted = failed = 0
    for registration_id in ids:
        try:
            async with db.begin_nested():
                deleted += await _delete_unconfirmed(db, registration_id)
        except Exception as error:
            failed += 1
            logger.warning("unconfirmed registration %s not deleted: %s: %s", registration_id,
                           type(error).__name__, str(error).splitlines()[0][:300])
            row = await db.get(Registration, registration_id)
            if row is not None:
                row.confirmation_expires_at = now + EXPIRY_RETRY
    await db.flush()
    return ExpiryReport(claimed=len(ids), deleted=deleted, failed=failed)


async def _delete_unconfirmed(db: AsyncSession, registration_id: int) -> int:
    # Its emails first (deleting the row would only unlink them), except one being sent.
    await db.execute(delete(OutboxEmail).where(OutboxEmail.registration_id == registration_id,
                                               OutboxEmail.status != OutboxStatus.SENDING))
    result = await db.execute(
        delete(Registration).where(Registration.id == registration_id,
                                   Registration.status == RegistrationStatus.UNCONFIRMED))
    return int(getattr(result, "rowcount", 0) or 0)

"""A new registration's first email: recorded with the registration, composed after the commit.

Registering (the hot path) only records which email follows and what it must say
(`welcome_email`); `compose_welcome_emails`, a scheduled job, composes it later: rendering
and building invites would cost more than all the rest of a registration together. The job
claims a batch in one short transaction, composes it with no transaction open and writes it
back in another; one row that cannot be composed is recorded as failed with its reason and
the others go on: it must never hold back everyone after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.outbox import (
    EmailToCompose,
    OutboxEntry,
    claim_emails_to_compose,
    find_emails_to_compose,
    write_composed_emails,
)
from service.db.engine import one_of, table_of
from service.db.models import (
    AccessPurpose,
    EnrolmentStatus,
    Event,
    OutboxEmail,
    OutboxStatus,
    Registration,
    RegistrationStatus,
    Session,
)
from service.domain import access
from service.domain.calendars.shared import sharing_entries
from service.domain.emails import registration as emails
from service.i18n import supported
from service.settings import Settings

from .links import links_from_tokens
from .loading import as_written, load_event

logger = logging.getLogger("procura_events.welcome_emails")

# A new registration's first email: which one follows from where it stands.
WELCOME_TEMPLATES: dict[RegistrationStatus, str] = {
    RegistrationStatus.CONFIRMED: "registration_confirmed_to_registrant",
    RegistrationStatus.WAITING: "registration_waiting_to_registrant",
    RegistrationStatus.PENDING: "registration_pending_to_registrant",
}
NOTE_NO_LONGER_HOLDS = "the registration no longer exists"
_PURPOSES = (AccessPurpose.REGISTRATION_MANAGE, AccessPurpose.REGISTRATION_FEED)


def welcome_email(registration_id: int, event_id: int, status: RegistrationStatus,
                  to_address: str, enrolments: Sequence[tuple[Session, EnrolmentStatus]],
                  position: int | None,
                  invite_sequences: Mapping[int, int] | None = None,
                  language: str | None = None) -> OutboxEntry:
    """The first email, recorded with what it must say: where the registration stood when it
    was decided (what changes later has emails of its own), including each invite's
    SEQUENCE then: a CANCEL sent meanwhile must still outrank this email's invite; and the
    registrant's language, in which the composing job words it."""
    sequences = invite_sequences or {}
    return OutboxEntry(
        EmailToCompose(
            template=WELCOME_TEMPLATES[status], to_address=to_address,
            details={"status": str(status), "position": position,
                     "language": supported(language),
                     "enrolments": [[session.id, str(state), sequences.get(session.id, 0)]
                                    for session, state in enrolments]},
        ),
        event_id=event_id, registration_id=registration_id,
    )


@dataclass(frozen=True)
class ComposeReport:
    claimed: int = 0
    composed: int = 0
    withdrawn: int = 0
    failed: int = 0


@dataclass(frozen=True)
class Registrant:
    """What composing a first email reads of its registration (the rest comes from the
    details recorded with the email): plain values, no ORM object to load or track."""

    id: int
    event: Event
    name: str
    email: str
    created_at: datetime
    language: str


_REGISTRANTS = table_of(Registration)
_REGISTRANT_COLUMNS = select(_REGISTRANTS.c.id, _REGISTRANTS.c.event_id, _REGISTRANTS.c.name,
                             _REGISTRANTS.c.email, _REGISTRANTS.c.created_at,
                             _REGISTRANTS.c.language)


async def _registrations_for(db: AsyncSession, rows: Sequence[Row[Any]]
                             ) -> dict[int, Registrant]:
    """The registrations the rows are about, each with its event's sessions and agenda (one
    Core query for the registrations: loading them as ORM objects with their enrolments
    cost more than composing)."""
    ids = sorted({row.registration_id for row in rows
                  if row.event_id is not None and row.registration_id is not None})
    if not ids:
        return {}
    found = (await db.execute(_REGISTRANT_COLUMNS.where(one_of(db, _REGISTRANTS.c.id, ids)))).all()
    events = {event_id: await load_event(db, event_id)
              for event_id in sorted({row.event_id for row in found})}
    return {row.id: Registrant(id=row.id, event=events[row.event_id], name=row.name,
                               email=row.email, created_at=row.created_at,
                               language=row.language) for row in found}


def _as_decided(registration: Registrant, details: dict[str, Any]) -> Registration:
    """The registration as it stood when its first email was decided (a copy to read only)."""
    sessions = {s.id: s for s in registration.event.sessions}
    # [session id, state, invite sequence] (rows recorded before the sequence: two items).
    recorded = [(row[0], row[1], row[2] if len(row) > 2 else 0) for row in details["enrolments"]]
    enrolments = [(sessions[session_id], EnrolmentStatus(state))
                  for session_id, state, _ in recorded if session_id in sessions]
    values = {"event_id": registration.event.id, "name": registration.name,
              "email": registration.email, "status": RegistrationStatus(details["status"]),
              "created_at": registration.created_at,
              # Recorded with the email (older rows: the registrant's language now).
              "language": details.get("language") or registration.language}
    return as_written(registration.id, registration.event, values, enrolments,
                      {session_id: sequence for session_id, _, sequence in recorded})


async def _compose(db: AsyncSession, row: OutboxEmail, registration: Registrant,
                   details: dict[str, Any], links: emails.RegistrantLinks, *, now: datetime,
                   settings: Settings) -> None:
    """Fill in one row's message. It is built whole before the row is touched, so a failure
    leaves the row as it was (see `notifications.outbox.fill_composed_email`)."""
    decided = _as_decided(registration, details)
    event = registration.event
    if decided.status == RegistrationStatus.CONFIRMED:
        await emails.send_confirmation(db, decided, event, links=links, now=now,
                                       settings=settings, into=row)
    elif decided.status == RegistrationStatus.WAITING:
        await emails.send_waiting_list(
            db, decided, event, position=details.get("position"), links=links, now=now,
            settings=settings, into=row)
    else:
        await emails.send_pending_approval(db, decided, event, links=links, now=now,
                                           settings=settings, into=row)


@dataclass(frozen=True)
class WelcomeBatch:
    """Claimed rows and what composing them needs, all read in the claiming transaction."""

    rows: list[OutboxEmail]  # detached: filled in memory, written by `record_welcome_emails`
    registrations: dict[int, Registrant]
    tokens: dict[tuple[int, AccessPurpose], str]
    worker_id: str


# How long a claim holds: a batch takes well under a second; a worker that died mid-batch
# leaves its rows to the others after this.
COMPOSE_LEASE = timedelta(seconds=60)
# Filling a row in (`into`) never touches the database: a use would fail loudly.
_NO_DATABASE = cast(AsyncSession, None)


async def claim_welcome_emails(
    db: AsyncSession, *, now: datetime, settings: Settings, batch_size: int, worker_id: str,
    lease: timedelta = COMPOSE_LEASE,
) -> WelcomeBatch:
    """Claim the oldest first emails to compose and read what they need (registrations,
    private links): a short transaction, committed before anything is composed.

    What they need is read before the claim: on SQLite the claim's UPDATE takes the one
    write lock, held until commit, and registrations wait for it; reads before it hold none.
    """
    templates = tuple(WELCOME_TEMPLATES.values())
    found = await find_emails_to_compose(db, templates=templates, batch_size=batch_size,
                                         now=now)
    if not found:
        return WelcomeBatch([], {}, {}, worker_id)
    registrations = await _registrations_for(db, found)
    tokens = await access.registration_tokens(db, _PURPOSES, sorted(registrations),
                                              secret_key=settings.secret_key, now=now)
    rows = await claim_emails_to_compose(db, found, templates=templates, now=now,
                                         worker_id=worker_id, lease=lease)
    return WelcomeBatch(rows, registrations, tokens, worker_id)


async def compose_claimed(batch: WelcomeBatch, *, now: datetime, settings: Settings) -> None:
    """Compose each claimed row in memory, with no transaction open (on SQLite the one
    connection stays free for registrations meanwhile). A row that cannot be composed is
    marked failed with its reason, one whose registration is gone withdrawn; the others go on.

    Between rows it lets the event loop run: composing is all computation, and the emails
    already composed are being sent on the same loop meanwhile (the delivery job), whose
    connections would otherwise wait for the whole batch.
    """
    # The batch's invites share their sessions' entries, their bodies the sessions' views.
    with sharing_entries(), emails.sharing_session_views():
        for row in batch.rows:
            await asyncio.sleep(0)
            await _compose_row(batch, row, now=now, settings=settings)


async def _compose_row(batch: WelcomeBatch, row: OutboxEmail, *, now: datetime,
                       settings: Settings) -> None:
    registration = batch.registrations.get(row.registration_id or 0)
    if registration is None or row.details is None:
        row.status, row.last_error = OutboxStatus.WITHDRAWN, NOTE_NO_LONGER_HOLDS
        return
    links = links_from_tokens(settings, batch.tokens[(registration.id, _PURPOSES[0])],
                              batch.tokens[(registration.id, _PURPOSES[1])])
    try:
        await _compose(_NO_DATABASE, row, registration, row.details, links, now=now,
                       settings=settings)
    except Exception as error:
        # This row alone: left failed with its reason, it is not claimed again.
        row.status = OutboxStatus.FAILED
        row.last_error = f"could not compose: {type(error).__name__}: {error}"[:1000]
        logger.warning("welcome email %s not composed: %s", row.id, row.last_error)


async def record_welcome_emails(db: AsyncSession, batch: WelcomeBatch) -> ComposeReport:
    """Write the composed rows back (a short transaction). A row withdrawn meanwhile stays
    withdrawn and counts as such; so does one another worker took over."""
    written = await write_composed_emails(db, batch.rows, worker_id=batch.worker_id)
    statuses = [row.status for row in batch.rows if row.id in written]
    composed = sum(1 for status in statuses if status == OutboxStatus.QUEUED)
    failed = sum(1 for status in statuses if status == OutboxStatus.FAILED)
    return ComposeReport(claimed=len(batch.rows), composed=composed, failed=failed,
                         withdrawn=len(batch.rows) - composed - failed)


async def compose_welcome_emails(
    db: AsyncSession, *, now: datetime, settings: Settings, batch_size: int = 50,
    worker_id: str = "composer",
) -> ComposeReport:
    """Compose the first emails that new registrations recorded: the confirmation with its
    invite, the waiting-list email with the position, or "application received".

    Each says what was decided at registration, from the details recorded with it; the
    sessions' times and places are read now, so the invite is current. A change since
    (a cancellation, a promotion) has sent an email of its own, after this one in the
    outbox. Only an email whose registration is gone is withdrawn; one that cannot be
    composed (an address no mail server would take, details it cannot read) is marked
    failed with the reason, and the others go on.

    Here the three steps share the caller's transaction; the scheduled job gives the claim
    and the write transactions of their own and composes between them, with none open.
    """
    batch = await claim_welcome_emails(db, now=now, settings=settings, batch_size=batch_size,
                                       worker_id=worker_id)
    if not batch.rows:
        return ComposeReport()
    await compose_claimed(batch, now=now, settings=settings)
    return await record_welcome_emails(db, batch)

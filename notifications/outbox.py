"""Queueing emails: the outbox owns its rows, written in the caller's transaction.

`queue_emails` is the one way a row gets in: callers describe each email (`OutboxEntry`)
and it writes them all in one multi-row INSERT (ON CONFLICT DO NOTHING on the dedupe key).
A message is rendered now, so what is sent is what was decided; an `EmailToCompose`
(a registration's first email, kept off the hot path) is recorded `composing`, for a job
to claim and fill in later (`fill_composed_email`, the same composed fields) or withdraw.
`withdraw_emails` takes back what no longer holds, never a message being sent. Flushes,
never commits, never sends (`notifications.delivery` does, after the commit).

An email that has exhausted its retries (or was refused for good) stays `failed` until an
organiser sends it again (`resend_failed_emails`, with a note in its attempt history): only
failed emails move, never a withdrawn one or one past its `expires_at`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from notifications import wakeups
from notifications.message import NETWORK_NAME, EmailMessage, build_mime, make_message_id
from notifications.render import render_email
from service.db.engine import (
    insert_unless_exists,
    is_postgres,
    one_of,
    table_of,
    unnested_rows,
)
from service.db.models import EmailAttempt, OutboxEmail, OutboxStatus
from service.settings import Settings

logger = logging.getLogger("procura_events.outbox")


def base_context(settings: Settings) -> dict[str, object]:
    """What every email template may use, whatever the message."""
    return {
        "network_name": NETWORK_NAME,
        "organiser_name": settings.organiser_name,
        "organiser_email": settings.organiser_email,
        "public_base_url": settings.public_base_url,
    }


@dataclass(frozen=True)
class EmailToCompose:
    """An email decided now and composed after the commit (see the module docstring)."""

    template: str
    to_address: str
    # What it must say, as decided now (JSON): the composer reads it back.
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class OutboxEntry:
    """One email for `queue_emails`, with what its outbox row records about it."""

    email: EmailMessage | EmailToCompose
    event_id: int | None = None
    registration_id: int | None = None
    person_id: int | None = None
    # An Interest Group member's emails (decisions, meeting invites, reminders, minutes).
    group_member_id: int | None = None
    # Set for emails that must exist at most once (a reminder, a change notice).
    dedupe_key: str | None = None
    # Held back (and dated) until then; None: as soon as possible.
    send_at: datetime | None = None
    # Withdrawn unsent from this instant on (a reminder once its session has started).
    expires_at: datetime | None = None
    # When its cause fell due (a reminder), for lag measurements.
    due_at: datetime | None = None


def _composed(
    message: EmailMessage, *, message_id: str, send_at: datetime, settings: Settings
) -> dict[str, Any]:
    """A row's composed fields: `message` rendered now, dated and queued for `send_at`.

    A message that cannot be built for its recipient (an address that no mail server would
    take, stored before the door refused such addresses) is recorded failed with the reason,
    so the change that caused it still happens and nothing else waits on it.
    """
    rendered = render_email(
        message.template, {**base_context(settings), **message.context}, message.language
    )
    fields: dict[str, Any] = {
        "template": message.template,
        "to_address": message.to_address,
        "subject": rendered.subject[:500],
        "next_attempt_at": send_at,
        "last_error": None,
    }
    try:
        raw = build_mime(message, rendered, settings=settings, message_id=message_id,
                         now=send_at)
    except ValueError as error:
        logger.warning("Email %s to an unusable address recorded as failed: %s",
                       message_id, error)
        return {**fields, "raw_message": None, "status": OutboxStatus.FAILED,
                "last_error": f"not sent: {error}"[:1000]}
    return {**fields, "raw_message": raw, "status": OutboxStatus.QUEUED}


def _row(entry: OutboxEntry, *, settings: Settings, now: datetime) -> dict[str, Any]:
    """The outbox row of one entry."""
    message_id = make_message_id(settings)
    send_at = entry.send_at or now
    email = entry.email
    if isinstance(email, EmailMessage):
        composed = _composed(email, message_id=message_id, send_at=send_at, settings=settings)
        details = None
    else:
        composed = {"template": email.template, "to_address": email.to_address, "subject": "",
                    "raw_message": None, "status": OutboxStatus.COMPOSING,
                    "next_attempt_at": send_at, "last_error": None}
        details = email.details
    return {
        "message_id": message_id,
        "dedupe_key": entry.dedupe_key,
        **composed,
        "details": details,
        "attempts": 0,
        "event_id": entry.event_id,
        "registration_id": entry.registration_id,
        "person_id": entry.person_id,
        "group_member_id": entry.group_member_id,
        "due_at": entry.due_at,
        "expires_at": entry.expires_at,
        "created_at": now,
    }


async def queue_emails(
    db: AsyncSession, entries: Sequence[OutboxEntry], *, settings: Settings, now: datetime
) -> list[int | None]:
    """Write the entries' outbox rows in one multi-row INSERT; each one's outbox id, in order.

    An id is None where the entry's `dedupe_key` was already in the outbox (nothing added
    for it). Flushes the session first, so rows it holds are written before these.
    """
    if not entries:
        return []
    rows = [_row(entry, settings=settings, now=now) for entry in entries]
    await db.flush()
    # Core, not the ORM: no objects to track, and the rows are matched back by Message-ID.
    table = table_of(OutboxEmail)
    statement = (
        insert_unless_exists(db, table, [OutboxEmail.dedupe_key])
        if any(entry.dedupe_key is not None for entry in entries)
        else insert(table)
    )
    result = await db.execute(statement.returning(table.c.id, table.c.message_id), rows)
    ids: dict[str, int] = {message_id: row_id for row_id, message_id in result.all()}
    # The jobs start on it once this transaction commits, not at their next tick.
    if any(row["status"] == OutboxStatus.COMPOSING for row in rows):
        await wakeups.announce(db, wakeups.COMPOSE)
    if any(row["status"] == OutboxStatus.QUEUED and row["next_attempt_at"] <= now
           for row in rows):
        await wakeups.announce(db, wakeups.DELIVER)
    return [ids.get(row["message_id"]) for row in rows]


# What composing a claimed email reads of its row, and what `write_composed_emails` writes
# back even for a row that was not composed (withdrawn, failed).
_TO_COMPOSE = tuple(table_of(OutboxEmail).c[name] for name in (
    "id", "message_id", "template", "to_address", "subject", "details", "event_id",
    "registration_id", "next_attempt_at"))


def _claimable(templates: Sequence[str], now: datetime) -> tuple[ColumnElement[bool], ...]:
    table = table_of(OutboxEmail)
    return (table.c.status == OutboxStatus.COMPOSING, table.c.template.in_(templates),
            or_(table.c.claimed_until.is_(None), table.c.claimed_until < now))


async def find_emails_to_compose(
    db: AsyncSession, *, templates: Sequence[str], batch_size: int, now: datetime
) -> list[Row[Any]]:
    """The oldest emails waiting to be composed that no live worker holds (a claim whose
    lease has run out was a worker's that died mid-batch), with what composing reads
    (`_TO_COMPOSE`). On PostgreSQL they stay locked (SKIP LOCKED) until the transaction
    ends; `claim_emails_to_compose` claims them."""
    table = table_of(OutboxEmail)
    query = (select(*_TO_COMPOSE).where(*_claimable(templates, now)).order_by(table.c.id)
             .limit(batch_size))
    if is_postgres(db):
        query = query.with_for_update(skip_locked=True)
    return list((await db.execute(query)).all())


async def claim_emails_to_compose(
    db: AsyncSession, found: Sequence[Row[Any]], *, templates: Sequence[str], now: datetime,
    worker_id: str, lease: timedelta,
) -> list[OutboxEmail]:
    """Claim emails `find_emails_to_compose` found for `worker_id` until `now + lease`
    (`claimed_by`, `claimed_until`), so they can be composed after this transaction commits,
    with none open, and written back by `write_composed_emails`.

    The UPDATE repeats the finding's condition as its guard: on SQLite the finding held no
    lock, and another worker may have claimed some meanwhile (those are left out). The rows
    returned are in no session, with what composing reads (loading whole rows as ORM objects
    cost a sixth of composing): setting their fields writes nothing until
    `write_composed_emails`.
    """
    if not found:
        return []
    table = table_of(OutboxEmail)
    claimed = set(await db.scalars(
        update(table)
        .where(one_of(db, table.c.id, [row.id for row in found]), *_claimable(templates, now))
        .values(claimed_by=worker_id, claimed_until=now + lease)
        .returning(table.c.id)
    ))
    return [OutboxEmail(**row._asdict(), status=OutboxStatus.COMPOSING, claimed_by=worker_id,
                        claimed_until=now + lease)
            for row in found if row.id in claimed]


# What `write_composed_emails` writes back, by the name each value goes under.
_COMPOSED_COLUMNS = {"row_id": "id", "new_subject": "subject", "new_raw": "raw_message",
                     "new_status": "status", "new_error": "last_error",
                     "new_next": "next_attempt_at"}
# The columns written from those values (all but the row's id), and the claim released.
_WRITTEN_COLUMNS = {column: key for key, column in _COMPOSED_COLUMNS.items() if key != "row_id"}
_RELEASED = {"claimed_by": None, "claimed_until": None}


async def write_composed_emails(
    db: AsyncSession, rows: Sequence[OutboxEmail], *, worker_id: str
) -> set[int]:
    """Write back what was composed into claimed rows (filled by `fill_composed_email`, or
    marked failed or withdrawn), releasing the claims; the ids written.

    Only rows still `composing` and still claimed by `worker_id` are written: one withdrawn
    meanwhile (`withdraw_emails`) stays withdrawn, one another worker took over after the
    lease ran out is that worker's to write.
    """
    if not rows:
        return set()
    table = table_of(OutboxEmail)
    ours = (table.c.status == OutboxStatus.COMPOSING, table.c.claimed_by == worker_id)
    lookup = select(table.c.id).where(one_of(db, table.c.id, [row.id for row in rows]), *ours)
    if is_postgres(db):
        lookup = lookup.with_for_update()
    held = set(await db.scalars(lookup))
    if held:
        written = [{key: getattr(row, column) for key, column in _COMPOSED_COLUMNS.items()}
                   for row in rows if row.id in held]
        if is_postgres(db):
            # One statement for the batch (see `unnested_rows`): this write was a third of
            # the database's work in a burst of registrations.
            given = unnested_rows(table, written, _COMPOSED_COLUMNS).c
            await db.execute(
                update(table).where(table.c.id == given.row_id, *ours)
                .values(**{column: given[key] for column, key in _WRITTEN_COLUMNS.items()},
                        **_RELEASED))
        else:  # SQLite runs a list of rows in-process, one prepared statement
            await db.execute(
                update(table).where(table.c.id == bindparam("row_id"), *ours)
                .values(**{column: bindparam(key) for column, key in _WRITTEN_COLUMNS.items()},
                        **_RELEASED),
                written)
        if any(row.status == OutboxStatus.QUEUED for row in rows if row.id in held):
            await wakeups.announce(db, wakeups.DELIVER)
    return held


def fill_composed_email(
    row: OutboxEmail, message: EmailMessage, *, settings: Settings, now: datetime
) -> None:
    """Give a `composing` row its message (keeping its Message-ID): it is queued from `now`."""
    for name, value in _composed(
        message, message_id=row.message_id, send_at=now, settings=settings
    ).items():
        setattr(row, name, value)


async def withdraw_emails(
    db: AsyncSession, ids: Sequence[int], *, note: str
) -> list[int]:
    """Take back emails not yet sent (composing, queued or waiting to retry); the ids withdrawn.

    A message already claimed for sending (or sent) is left alone: the UPDATE's own WHERE
    decides, so a worker sending at the same moment wins cleanly.
    """
    if not ids:
        return []
    result = await db.scalars(
        update(OutboxEmail)
        .where(OutboxEmail.id.in_(ids),
               OutboxEmail.status.in_([OutboxStatus.COMPOSING, OutboxStatus.QUEUED,
                                       OutboxStatus.RETRY]))
        .values(status=OutboxStatus.WITHDRAWN, last_error=note[:1000], claimed_until=None,
                claimed_by=None)
        .returning(OutboxEmail.id)
        .execution_options(synchronize_session="fetch")
    )
    return list(result)


async def find_email_by_dedupe_key(db: AsyncSession, dedupe_key: str) -> OutboxEmail | None:
    """The email queued under `dedupe_key`, if any (`raw_message` not loaded)."""
    return await db.scalar(
        select(OutboxEmail)
        .options(defer(OutboxEmail.raw_message, raiseload=True))
        .where(OutboxEmail.dedupe_key == dedupe_key)
    )


async def list_emails_for_registration(
    db: AsyncSession, registration_id: int
) -> Sequence[OutboxEmail]:
    """Emails to one registrant, oldest first (`raw_message` not loaded)."""
    result = await db.scalars(
        select(OutboxEmail)
        .options(defer(OutboxEmail.raw_message, raiseload=True))
        .where(OutboxEmail.registration_id == registration_id)
        .order_by(OutboxEmail.created_at, OutboxEmail.id)
    )
    return result.all()


async def list_emails_for_event(
    db: AsyncSession, event_id: int, status: OutboxStatus | None = None
) -> Sequence[OutboxEmail]:
    """Emails about one event, optionally in one status, oldest first (`raw_message` not loaded)."""
    query = (
        select(OutboxEmail)
        .options(defer(OutboxEmail.raw_message, raiseload=True))
        .where(OutboxEmail.event_id == event_id)
        .order_by(OutboxEmail.created_at, OutboxEmail.id)
    )
    if status is not None:
        query = query.where(OutboxEmail.status == status)
    result = await db.scalars(query)
    return result.all()


async def list_attempts_for_email(db: AsyncSession, outbox_email_id: int) -> Sequence[EmailAttempt]:
    """Every delivery attempt of one email and what the server said, oldest first."""
    result = await db.scalars(
        select(EmailAttempt)
        .where(EmailAttempt.outbox_email_id == outbox_email_id)
        .order_by(EmailAttempt.attempted_at, EmailAttempt.id)
    )
    return result.all()


# The attempt history's word for "queued again by an organiser".
RESENT = "resent"


def _resendable(now: datetime) -> Any:
    # A message that could never be built (an unusable address) has nothing to send again.
    return ((OutboxEmail.status == OutboxStatus.FAILED) & OutboxEmail.raw_message.is_not(None)
            & or_(OutboxEmail.expires_at.is_(None), OutboxEmail.expires_at > now))


async def resend_failed_emails(
    db: AsyncSession, ids: Sequence[int], *, now: datetime, note: str
) -> list[int]:
    """Queue the failed emails among `ids` again from `now`, with a fresh round of attempts
    and `note` in each one's attempt history; the ids queued.

    Anything not failed (withdrawn, sent, still on its way) or past its `expires_at` is left
    as it is: the UPDATE's own WHERE decides.
    """
    if not ids:
        return []
    before = {row.id: (row.attempts, row.last_error) for row in (await db.execute(
        select(OutboxEmail.id, OutboxEmail.attempts, OutboxEmail.last_error)
        .where(OutboxEmail.id.in_(ids), _resendable(now))
    )).all()}
    if not before:
        return []
    queued = sorted(await db.scalars(
        update(OutboxEmail)
        .where(OutboxEmail.id.in_(sorted(before)), _resendable(now))
        .values(status=OutboxStatus.QUEUED, attempts=0, next_attempt_at=now,
                claimed_until=None, claimed_by=None)
        .returning(OutboxEmail.id)
        .execution_options(synchronize_session="fetch")
    ))
    if queued:
        await db.execute(insert(table_of(EmailAttempt)), [
            {"outbox_email_id": email_id, "attempted_at": now, "outcome": RESENT,
             "smtp_code": None,
             "detail": _resend_note(note, *before[email_id])}
            for email_id in queued
        ])
        await wakeups.announce(db, wakeups.DELIVER)
    return queued


def _resend_note(note: str, attempts: int, last_error: str | None) -> str:
    tried = f"{attempts} attempt{'s' if attempts != 1 else ''}"
    return f"{note}; it had failed after {tried}: {last_error or 'no error recorded'}"[:1000]


async def count_emails_by_status(db: AsyncSession, event_id: int) -> dict[OutboxStatus, int]:
    """How many of an event's emails are in each status (every status, zeros included)."""
    counts = dict.fromkeys(OutboxStatus, 0)
    for status, count in (await db.execute(
        select(OutboxEmail.status, func.count())
        .where(OutboxEmail.event_id == event_id)
        .group_by(OutboxEmail.status)
    )).all():
        counts[OutboxStatus(status)] = int(count)
    return counts


async def page_emails_for_event(
    db: AsyncSession, event_id: int, *, statuses: Sequence[OutboxStatus] = (),
    offset: int = 0, limit: int = 100,
) -> tuple[Sequence[OutboxEmail], int]:
    """One page of an event's emails (in `statuses`, or all), oldest first, and how many
    match in all (`raw_message` not loaded)."""
    where = [OutboxEmail.event_id == event_id]
    if statuses:
        where.append(OutboxEmail.status.in_(list(statuses)))
    total = int(await db.scalar(select(func.count()).select_from(OutboxEmail).where(*where))
                or 0)
    rows = (await db.scalars(
        select(OutboxEmail)
        .options(defer(OutboxEmail.raw_message, raiseload=True),
                 defer(OutboxEmail.details, raiseload=True))
        .where(*where)
        .order_by(OutboxEmail.created_at, OutboxEmail.id)
        .offset(offset)
        .limit(limit)
    )).all()
    return rows, total


@dataclass(frozen=True)
class ForgottenEmails:
    """What `forget_emails` did: how many rows it stripped, and of those how many it withdrew."""

    forgotten: int = 0
    withdrawn: int = 0


async def forget_emails(
    db: AsyncSession, ids: Sequence[int], *, now: datetime, address_hash: Callable[[str], str],
    scrub: Callable[[str], str], note: str,
) -> ForgottenEmails:
    """Emails to a person whose data is erased: none of them is sent any more, and none keeps
    what identifies them.

    Not yet sent (composing, queued, waiting to retry, or claimed by a worker whose claim has
    lapsed) is withdrawn; the body and the composing details are dropped; the address becomes
    `address_hash(address)` (a keyed hash: the delivery record stays, unreadable); `scrub`
    cleans the subject, the last error and each attempt's server reply. A message a worker
    is sending at this very moment goes (it was on its way before), but nothing is left to
    send again: a retry then fails with nothing to send.
    """
    if not ids:
        return ForgottenEmails()
    withdrawn = set(await withdraw_emails(db, ids, note=note))
    table = table_of(OutboxEmail)
    withdrawn |= set(await db.scalars(
        update(table)
        .where(table.c.id.in_(ids), table.c.status == OutboxStatus.SENDING,
               table.c.claimed_until < now)
        .values(status=OutboxStatus.WITHDRAWN, claimed_until=None, claimed_by=None)
        .returning(table.c.id)
    ))
    rows = (await db.execute(
        select(table.c.id, table.c.to_address, table.c.subject, table.c.last_error)
        .where(table.c.id.in_(ids))
    )).all()
    for row_id, to_address, subject, last_error in rows:
        error = note if row_id in withdrawn else (scrub(last_error) if last_error else None)
        await db.execute(
            update(table).where(table.c.id == row_id)
            .values(to_address=address_hash(to_address), subject=scrub(subject)[:500],
                    raw_message=None, details=None, last_error=error)
        )
    attempts = table_of(EmailAttempt)
    for attempt_id, detail in (await db.execute(
        select(attempts.c.id, attempts.c.detail)
        .where(attempts.c.outbox_email_id.in_(ids), attempts.c.detail.is_not(None))
    )).all():
        cleaned = scrub(detail)
        if cleaned != detail:
            await db.execute(update(attempts).where(attempts.c.id == attempt_id)
                             .values(detail=cleaned))
    # The ORM's copies of these rows (if any) are out of date now.
    stripped = {row_id for row_id, *_ in rows}
    for held in list(db.identity_map.values()):
        if isinstance(held, OutboxEmail) and held.id in stripped:
            db.expire(held)
    return ForgottenEmails(forgotten=len(rows), withdrawn=len(withdrawn))

"""Delivering queued emails: claim due outbox rows, send them, record every outcome.

A scheduled job calls `deliver_due_emails` every second or so. Each call

1. claims up to `batch_size` due rows in one short transaction and commits the claim
   before anything is sent: status `sending`, `claimed_by` this worker, `claimed_until` the
   end of a lease, `attempts` + 1. Due means queued/retry with `next_attempt_at <= now`, or
   `sending` with `claimed_until < now` (a worker that crashed mid-send). On PostgreSQL the
   rows are picked with `FOR UPDATE SKIP LOCKED`, so workers never claim the same row; on
   SQLite (one writer at a time) the UPDATE repeats the "due" condition as its guard;
2. sends on up to `settings.smtp.connections` connections at once;
3. records the outcomes as they come in, in short transactions, each holding the outcomes
   that arrived within `GROUP_COMMIT_DELAY` or while the previous one committed (group
   commit: a few transactions per batch instead of one per email), with an `EmailAttempt`
   row every time: sent; retry with exponential backoff and jitter (failed after
   `MAX_ATTEMPTS`); failed at once on a permanent (5xx) refusal. A row is only moved if
   this worker still holds the claim it made (same `claimed_by` and `attempts`, in each
   UPDATE's WHERE): a worker that overran its lease cannot overwrite what the new claimant
   recorded.

Nothing is lost, but one double send remains possible: a crash after the server's 250 and
before the outcome commits leaves the row `sending`; once the lease ends another run sends
it again, with the SAME Message-ID (stored with the row), which receiving systems use to
drop duplicates. Group commit keeps that window short: an outcome waits at most
`GROUP_COMMIT_DELAY` plus the transaction under way, never for the rest of the batch.
Messages not yet started when the lease is about to run out are handed back instead of
sent, so a slow batch does not widen that window.

All timestamps come from the `now` passed in; this module never reads the clock for them.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.message import envelope_sender
from notifications.transport import (
    DeliveryError,
    MailTransport,
    PermanentDeliveryError,
)
from service.db.engine import is_postgres, session_scope
from service.db.models import EmailAttempt, OutboxEmail, OutboxStatus
from service.settings import Settings

MAX_ATTEMPTS = 10
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)
MIN_LEASE = timedelta(minutes=5)
# How long a sent email's outcome may wait for others to share its transaction.
GROUP_COMMIT_DELAY = 0.05
_JITTER = random.Random()


class Outcome(StrEnum):
    SENT = "sent"
    TRANSIENT = "transient"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    # Claimed but handed back unsent because the lease was about to run out.
    released: int = 0
    # Outcomes not applied because another worker had taken the claim over meanwhile.
    lost_claims: int = 0


@dataclass(frozen=True)
class _Claim:
    id: int
    to_address: str
    raw_message: bytes
    attempts: int


@dataclass(frozen=True)
class _Result:
    outcome: Outcome | None  # None: released unsent
    smtp_code: int | None = None
    detail: str | None = None


def retry_delay(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Wait before the next try: 30 s x 2^(attempts-1), +0-25 % jitter, never over 1 h."""
    exponent = min(max(attempts - 1, 0), 16)
    delay = min(RETRY_BASE * (1 << exponent), RETRY_CAP)
    jitter = (rng or _JITTER).uniform(1.0, 1.25)
    return min(delay * jitter, RETRY_CAP)


def lease_for(settings: Settings, batch_size: int) -> timedelta:
    """Long enough for a whole batch on slow connections, so claims rarely expire mid-send."""
    rounds = math.ceil(batch_size / max(1, settings.smtp.connections))
    return max(MIN_LEASE, timedelta(seconds=2 * settings.smtp.timeout_seconds * rounds))


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(
            OutboxEmail.status.in_([OutboxStatus.QUEUED, OutboxStatus.RETRY]),
            OutboxEmail.next_attempt_at <= now,
        ),
        and_(OutboxEmail.status == OutboxStatus.SENDING, OutboxEmail.claimed_until < now),
    )


async def _claim(
    db: AsyncSession, *, now: datetime, lease: timedelta, batch_size: int, worker_id: str
) -> list[_Claim]:
    candidates = (
        select(OutboxEmail.id)
        .where(_due(now))
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(batch_size)
    )
    if is_postgres(db):
        # Locked until our commit; rows other workers hold are skipped, not waited for.
        candidates = candidates.with_for_update(skip_locked=True)
    # Two statements on purpose: as a subquery of the UPDATE, PostgreSQL may run the locking
    # SELECT again per row and, skipping the rows it has just updated, claim past the LIMIT.
    ids = list((await db.scalars(candidates)).all())
    if not ids:
        return []
    # The guard repeats the condition: on SQLite (no row locks) a row another writer claimed
    # since the SELECT is no longer due, so it is left alone.
    statement = (
        update(OutboxEmail)
        .where(OutboxEmail.id.in_(ids), _due(now))
        .values(
            status=OutboxStatus.SENDING,
            claimed_until=now + lease,
            claimed_by=worker_id,
            attempts=OutboxEmail.attempts + 1,
        )
        .returning(
            OutboxEmail.id, OutboxEmail.to_address, OutboxEmail.raw_message, OutboxEmail.attempts
        )
        .execution_options(synchronize_session=False)
    )
    rows = (await db.execute(statement)).all()
    claims = [_Claim(id=r[0], to_address=r[1], raw_message=r[2], attempts=r[3]) for r in rows]
    return sorted(claims, key=lambda claim: claim.id)


def _values_for(
    claim: _Claim, result: _Result, *, now: datetime, rng: random.Random | None
) -> dict[str, object]:
    """The row's new values for one outcome."""
    values: dict[str, object] = {"claimed_until": None}
    if result.outcome is None:
        # Handed back unsent: that was not an attempt.
        values |= {
            "status": OutboxStatus.QUEUED if claim.attempts <= 1 else OutboxStatus.RETRY,
            "attempts": claim.attempts - 1,
            "next_attempt_at": now,
        }
    elif result.outcome is Outcome.SENT:
        values |= {"status": OutboxStatus.SENT, "sent_at": now, "last_error": None}
    elif result.outcome is Outcome.PERMANENT or claim.attempts >= MAX_ATTEMPTS:
        detail = result.detail or "refused"
        if result.outcome is Outcome.TRANSIENT:
            detail = f"gave up after {claim.attempts} attempts: {detail}"
        values |= {"status": OutboxStatus.FAILED, "last_error": detail}
    else:
        values |= {
            "status": OutboxStatus.RETRY,
            "next_attempt_at": now + retry_delay(claim.attempts, rng),
            "last_error": result.detail,
        }
    return values


def _still_ours(worker_id: str) -> ColumnElement[bool]:
    return and_(OutboxEmail.status == OutboxStatus.SENDING, OutboxEmail.claimed_by == worker_id)


async def _record(
    db: AsyncSession,
    outcomes: Sequence[tuple[_Claim, _Result]],
    *,
    now: datetime,
    worker_id: str,
    rng: random.Random | None,
) -> list[OutboxStatus | None]:
    """Apply outcomes whose claims are still ours; each one's new status (None if lost)."""
    moved: set[int] = set()
    statuses: dict[int, OutboxStatus] = {}
    sent = [claim for claim, result in outcomes if result.outcome is Outcome.SENT]
    # Lock-and-recheck in the UPDATE itself: only the claims we made (id and attempts) move.
    if sent:
        values = _values_for(sent[0], _Result(Outcome.SENT), now=now, rng=rng)
        moved.update(
            await db.scalars(
                update(OutboxEmail)
                .where(
                    OutboxEmail.id.in_([claim.id for claim in sent]),  # the primary key's index
                    tuple_(OutboxEmail.id, OutboxEmail.attempts).in_(
                        [(claim.id, claim.attempts) for claim in sent]
                    ),
                    _still_ours(worker_id),
                )
                .values(**values)
                .returning(OutboxEmail.id)
                .execution_options(synchronize_session=False)
            )
        )
        statuses |= {claim.id: OutboxStatus.SENT for claim in sent}
    # Retries, failures and hand-backs (rare) each have values of their own.
    for claim, result in outcomes:
        if result.outcome is Outcome.SENT:
            continue
        values = _values_for(claim, result, now=now, rng=rng)
        row_id = await db.scalar(
            update(OutboxEmail)
            .where(
                OutboxEmail.id == claim.id,
                OutboxEmail.attempts == claim.attempts,
                _still_ours(worker_id),
            )
            .values(**values)
            .returning(OutboxEmail.id)
            .execution_options(synchronize_session=False)
        )
        if row_id is not None:
            moved.add(row_id)
        status = values["status"]
        assert isinstance(status, OutboxStatus)
        statuses[claim.id] = status
    attempts = [
        {
            "outbox_email_id": claim.id,
            "attempted_at": now,
            "outcome": result.outcome.value,
            "smtp_code": result.smtp_code,
            "detail": result.detail,
        }
        for claim, result in outcomes
        if result.outcome is not None
    ]
    if attempts:
        await db.execute(insert(EmailAttempt), attempts)
    return [statuses[claim.id] if claim.id in moved else None for claim, _ in outcomes]


async def _send(transport: MailTransport, claim: _Claim, sender: str) -> _Result:
    try:
        await transport.send(claim.raw_message, sender, claim.to_address)
    except PermanentDeliveryError as error:
        return _Result(Outcome.PERMANENT, error.smtp_code, error.detail)
    except DeliveryError as error:  # transient, or any other kind a transport may add
        return _Result(Outcome.TRANSIENT, error.smtp_code, error.detail)
    except Exception as error:  # a bug in a transport must not strand the row in `sending`
        return _Result(Outcome.TRANSIENT, None, f"unexpected {type(error).__name__}: {error}")
    return _Result(Outcome.SENT, 250, None)


async def deliver_due_emails(
    sessionmaker: async_sessionmaker[AsyncSession],
    transport: MailTransport,
    *,
    settings: Settings,
    now: datetime,
    batch_size: int = 100,
    worker_id: str,
    lease: timedelta | None = None,
    rng: random.Random | None = None,
) -> DeliveryReport:
    """Claim, send and record up to `batch_size` due emails; see the module docstring."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    lease = lease if lease is not None else lease_for(settings, batch_size)
    async with session_scope(sessionmaker) as db:
        claims = await _claim(db, now=now, lease=lease, batch_size=batch_size, worker_id=worker_id)
    if not claims:
        return DeliveryReport()

    sender = envelope_sender(settings)
    loop = asyncio.get_running_loop()
    # Measured on the loop's clock, not `now`: how long this batch has really been running.
    start_by = loop.time() + lease.total_seconds() * 0.8
    parallel = asyncio.Semaphore(max(1, settings.smtp.connections))

    finished: asyncio.Queue[tuple[_Claim, _Result]] = asyncio.Queue()

    async def handle(claim: _Claim) -> None:
        async with parallel:
            if loop.time() > start_by:
                result = _Result(outcome=None)
            else:
                result = await _send(transport, claim, sender)
        finished.put_nowait((claim, result))

    async def record_all() -> list[tuple[Outcome | None, OutboxStatus | None]]:
        # Group commit: whatever finished while the last transaction ran goes into the next.
        recorded: list[tuple[Outcome | None, OutboxStatus | None]] = []
        while len(recorded) < len(claims):
            group = [await finished.get()]
            if len(recorded) + 1 < len(claims):
                # A moment for more outcomes to join: fewer, larger transactions.
                await asyncio.sleep(GROUP_COMMIT_DELAY)
            while not finished.empty():
                group.append(finished.get_nowait())
            async with session_scope(sessionmaker) as db:
                statuses = await _record(db, group, now=now, worker_id=worker_id, rng=rng)
            recorded += [(r.outcome, status) for (_, r), status in zip(group, statuses, strict=True)]
        return recorded

    # gather, not a TaskGroup: a failing record must not cancel sends already under way.
    recorder = asyncio.ensure_future(record_all())
    done = await asyncio.gather(*(handle(claim) for claim in claims), return_exceptions=True)
    errors = [item for item in done if isinstance(item, BaseException)]
    if errors:  # not expected (`_send` turns every error into an outcome), but never hang
        recorder.cancel()
        raise errors[0]
    outcomes = await recorder
    applied = [(outcome, status) for outcome, status in outcomes if status is not None]
    return DeliveryReport(
        claimed=len(claims),
        sent=sum(1 for _, status in applied if status is OutboxStatus.SENT),
        retrying=sum(
            1 for outcome, status in applied if outcome is not None and status is OutboxStatus.RETRY
        ),
        failed=sum(1 for _, status in applied if status is OutboxStatus.FAILED),
        released=sum(1 for outcome, _ in applied if outcome is None),
        lost_claims=len(outcomes) - len(applied),
    )

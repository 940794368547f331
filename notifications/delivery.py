"""Delivering queued emails: claim due outbox rows, send them, record every outcome.

`drain_due_emails` (a scheduled job, every second or so) runs a pipeline until nothing is
due: claim a batch in a short committed transaction (SKIP LOCKED on PostgreSQL; a short
`CLAIM_LEASE` renewed by a heartbeat while this worker lives, so a dead worker's emails are
due again within a minute); send on `settings.smtp.connections` connections; record each
outcome with an `EmailAttempt` in group commits (retry with backoff, fail on 5xx or on
anything unexpected about one message, so one bad row never blocks the others). A row is
only moved while this worker still holds its claim. The one double send left (a crash
between the server's 250 and the commit) re-sends the SAME Message-ID. The clock comes in
as `now`/`clock`; this module never reads it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Insert,
    Select,
    Update,
    and_,
    bindparam,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.message import envelope_sender
from notifications.transport import (
    DeliveryError,
    MailTransport,
    PermanentDeliveryError,
)
from service.db.engine import is_postgres, one_of_bound, session_scope, table_of
from service.db.models import EmailAttempt, OutboxEmail, OutboxStatus
from service.settings import Settings

logger = logging.getLogger("procura_events.delivery")

MAX_ATTEMPTS = 10
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)
# How long a claim holds without renewal: how late a dead worker's emails can be. The
# heartbeat renews it four times per lease, so a live worker keeps it through a slow
# database transaction or two.
CLAIM_LEASE = timedelta(seconds=60)
HEARTBEAT_INTERVAL = 15.0  # seconds (the event loop's clock)
# How long a sent email's outcome may wait for others to share its transaction: at several
# hundred emails a second, groups of dozens (each transaction costs a few milliseconds of
# the event loop, which the SMTP connections share). It is also the window for a double
# send after a crash: killed mid-run (2,000 emails, 4 connections; seven runs each), a
# worker left 4-24 messages sent but unrecorded on PostgreSQL (median 7) with 0.05 s,
# against 12-60 (median 32) with 0.1 s; 1-16 on SQLite (median 8, as with 0.1 s). Shorter
# delays cost throughput on PostgreSQL.
GROUP_COMMIT_DELAY = 0.05
# At most this many outcomes known and not yet committed: the senders wait for the record
# when it is reached. It bounds the double
# sends after a crash whatever the pace (a fast loop, a database slow to commit): at most
# this many plus one per connection. Before it, a worker killed while the machine was
# loaded (the whole suite on two cores) left 123 messages sent but unrecorded.
MAX_UNRECORDED = 32
# The record does not wait out its delay once this many outcomes wait: started at half the
# bound, it commits while the senders go on towards it, instead of stopping them at the
# bound for a commit's round trips (2,000 emails in one worker on PostgreSQL: the senders
# stopped ~180 times, 0.7 s of connection time, when the record started at the bound).
RECORD_AT = MAX_UNRECORDED // 2
# The note on an email withdrawn because it was still unsent at its `expires_at`.
EXPIRED_NOTE = "not sent: its time to go out had passed"
# The attempt history's word for an attempt whose worker died (or lost its claim) mid-send.
ABANDONED = "abandoned"
NOTHING_TO_SEND = "nothing to send: the message was never composed"
_DETAIL_LIMIT = 1000
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
    # Due but past their `expires_at`: withdrawn instead of claimed.
    expired: int = 0


@dataclass(frozen=True)
class _Claim:
    id: int
    to_address: str
    raw_message: bytes | None  # None only in a row that was queued without being composed
    attempts: int


@dataclass(frozen=True)
class _Claimed:
    claims: list[_Claim]
    expired: int
    is_full: bool  # the batch was full: more may be due


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


def _cause(error: BaseException) -> str:
    # The first line only: database errors put the statement after it.
    lines = str(error).splitlines()
    return clean_detail(f"{type(error).__name__}: {lines[0] if lines else ''}")[:300]


def clean_detail(detail: str | None) -> str:
    """A cause fit for `last_error`, the attempt history and the log: one line, no control
    characters (PostgreSQL refuses NUL in text), bounded, never empty."""
    text = "".join(c if c.isprintable() else " " for c in (detail or "")).strip()
    return text[:_DETAIL_LIMIT] or "no detail given"


# Core statements on the session's connection, built once with bound parameters: the ORM's
# bookkeeping for an UPDATE, and building a statement anew each time, cost more of the event
# loop than the SQL itself.
_OUTBOX = table_of(OutboxEmail)
_ATTEMPTS = table_of(EmailAttempt)
_c = _OUTBOX.c
_NOW = bindparam("now", type_=_c.next_attempt_at.type)

# Due: queued or retrying and its time has come, or claimed by a worker whose lease ran out.
_DUE = or_(
    and_(_c.status.in_([OutboxStatus.QUEUED, OutboxStatus.RETRY]), _c.next_attempt_at <= _NOW),
    and_(_c.status == OutboxStatus.SENDING, _c.claimed_until < _NOW),
)


def _candidates_of(kind: ColumnElement[bool], *, locked: bool) -> Select[Any]:
    query = (
        # Whether it has expired, worked out by the database: no timestamps to parse per row.
        select(_c.id, and_(_c.expires_at.is_not(None), _c.expires_at <= _NOW),
               _c.status, _c.claimed_by, _c.claimed_until)
        .where(kind)
        .order_by(_c.next_attempt_at)
        .limit(bindparam("limit"))
    )
    # Locked until our commit; rows other workers hold are skipped, not waited for.
    return query.with_for_update(skip_locked=True) if locked else query


# Each kind of due row is an ordered range of the (status, next_attempt_at) index, so each
# query stops after `limit` rows: one query over all kinds at once (an OR, or an IN, ordered
# by time) collects and sorts every due row, so each claim of a 10,000-email burst would
# read the whole backlog. Queued first, then retries, then claims of workers that died.
_KINDS = (
    and_(_c.status == OutboxStatus.QUEUED, _c.next_attempt_at <= _NOW),
    and_(_c.status == OutboxStatus.RETRY, _c.next_attempt_at <= _NOW),
    and_(_c.status == OutboxStatus.SENDING, _c.claimed_until < _NOW),
)
_CANDIDATES = {locked: [_candidates_of(kind, locked=locked) for kind in _KINDS]
               for locked in (False, True)}


@dataclass(frozen=True)
class _IdStatements:
    """The statements on rows named by an `ids` list, as one database writes them
    (`one_of_bound`: on PostgreSQL one text whatever the number of ids)."""

    claim: Update
    expire: Update
    renew: Update
    record_sent: Update
    attempts_sent: Insert


def _id_statements(postgres: bool) -> _IdStatements:
    ids = one_of_bound(_c.id, "ids", postgres=postgres)
    return _IdStatements(
        # The guard repeats the condition: on SQLite (no row locks) a row another writer
        # claimed or withdrew since the SELECT is no longer due, so it is left alone.
        claim=(
            update(_OUTBOX)
            .where(ids, _DUE)
            .values(status=OutboxStatus.SENDING, claimed_until=bindparam("lease_end"),
                    claimed_by=bindparam("worker"), attempts=_c.attempts + 1)
            .returning(_c.id, _c.to_address, _c.raw_message, _c.attempts)
        ),
        expire=(
            update(_OUTBOX)
            .where(ids, _DUE)
            .values(status=OutboxStatus.WITHDRAWN, last_error=EXPIRED_NOTE,
                    claimed_until=None)
            .returning(_c.id)
        ),
        # The heartbeat: this worker's claims still in flight hold for another lease.
        renew=(
            update(_OUTBOX)
            .where(ids, _c.status == OutboxStatus.SENDING,
                   _c.claimed_by == bindparam("worker"))
            .values(claimed_until=bindparam("lease_end"))
            .returning(_c.id)
        ),
        # Only the claims this worker made (same attempts, still its own) move.
        # `last_error` stays: after a failed attempt, it says why the email went out late.
        record_sent=(
            update(_OUTBOX)
            .where(ids, _c.attempts == bindparam("claim_attempts"),
                   _c.status == OutboxStatus.SENDING, _c.claimed_by == bindparam("worker"))
            .values(status=OutboxStatus.SENT, sent_at=bindparam("sent_at"),
                    claimed_until=None)
            .returning(_c.id)
        ),
        # One attempt row per message sent, built by the database from the ids.
        attempts_sent=insert(_ATTEMPTS).from_select(
            ["outbox_email_id", "attempted_at", "outcome", "smtp_code"],
            select(_c.id, bindparam("attempted_at", type_=_ATTEMPTS.c.attempted_at.type),
                   literal(Outcome.SENT.value), literal(250))
            .where(ids),
        ),
    )


_BY_IDS = {postgres: _id_statements(postgres) for postgres in (False, True)}


async def _candidates(db: AsyncSession, *, now: datetime, limit: int) -> list[Any]:
    """Up to `limit` due rows (id, whether expired), kind after kind (see `_KINDS`)."""
    connection = await db.connection()
    rows: list[Any] = []
    for query in _CANDIDATES[is_postgres(db)]:
        rows += (await connection.execute(query, {"now": now, "limit": limit - len(rows)})).all()
        if len(rows) >= limit:
            break
    return rows


async def _claim(
    db: AsyncSession, *, now: datetime, lease: timedelta, batch_size: int, worker_id: str
) -> _Claimed:
    # Two steps on purpose: as a subquery of the UPDATE, PostgreSQL may run the locking
    # SELECT again per row and, skipping the rows it has just updated, claim past the LIMIT.
    rows = await _candidates(db, now=now, limit=batch_size)
    is_full = len(rows) == batch_size
    expired_ids = [r[0] for r in rows if r[1]]
    ids = [r[0] for r in rows if not r[1]]
    # Claims of workers that died (or lost the database) mid-send: who held them, until when.
    lapsed = {r[0]: (r[3], r[4]) for r in rows if not r[1] and r[2] == OutboxStatus.SENDING}
    connection = await db.connection()
    expired = 0
    if expired_ids:
        # Too late to be of use (a reminder of a session that has started): never sent.
        expired = len((await connection.execute(
            _BY_IDS[is_postgres(db)].expire, {"ids": expired_ids, "now": now})).all())
    if not ids:
        return _Claimed([], expired, is_full)
    claimed = (await connection.execute(
        _BY_IDS[is_postgres(db)].claim,
        {"ids": ids, "now": now, "lease_end": now + lease, "worker": worker_id}
    )).all()
    claims = [_Claim(id=r[0], to_address=r[1], raw_message=cast(bytes | None, r[2]),
                     attempts=r[3]) for r in claimed]
    abandoned = [claim for claim in claims if claim.id in lapsed]
    if abandoned:
        await _record_abandoned(db, abandoned, lapsed, now=now)
    return _Claimed(sorted(claims, key=lambda claim: claim.id), expired, is_full)


async def _record_abandoned(
    db: AsyncSession, claims: Sequence[_Claim],
    lapsed: dict[int, tuple[str | None, datetime | None]], *, now: datetime,
) -> None:
    """The attempt a dead worker left without an outcome goes into the history, with why."""
    connection = await db.connection()
    for claim in claims:
        holder, until = lapsed[claim.id]
        until_text = until.isoformat(timespec="seconds") if until is not None else "?"
        detail = clean_detail(
            f"no outcome: the claim of worker {holder} lapsed at {until_text} "
            "(it stopped or lost the database mid-send); sending again")
        await connection.execute(
            update(_OUTBOX).where(_c.id == claim.id).values(last_error=detail))
        await connection.execute(insert(_ATTEMPTS), {
            "outbox_email_id": claim.id, "attempted_at": now, "outcome": ABANDONED,
            "smtp_code": None, "detail": detail})
        logger.warning("Email %d: attempt %d abandoned: %s", claim.id, claim.attempts - 1,
                       detail)


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
        values |= {"status": OutboxStatus.SENT, "sent_at": now}
    elif result.outcome is Outcome.PERMANENT or claim.attempts >= MAX_ATTEMPTS:
        detail = clean_detail(result.detail)
        if result.outcome is Outcome.TRANSIENT:
            detail = clean_detail(f"gave up after {claim.attempts} attempts: {detail}")
        values |= {"status": OutboxStatus.FAILED, "last_error": detail}
    else:
        values |= {
            "status": OutboxStatus.RETRY,
            "next_attempt_at": now + retry_delay(claim.attempts, rng),
            "last_error": clean_detail(result.detail),
        }
    return values


def _still_ours(worker_id: str) -> ColumnElement[bool]:
    return and_(_c.status == OutboxStatus.SENDING, _c.claimed_by == worker_id)


async def _record(
    db: AsyncSession,
    outcomes: Sequence[tuple[_Claim, _Result]],
    *,
    now: datetime,
    worker_id: str,
    rng: random.Random | None,
) -> list[OutboxStatus | None]:
    """Apply outcomes whose claims are still ours; each one's new status (None if lost)."""
    connection = await db.connection()
    moved: set[int] = set()
    statuses: dict[int, OutboxStatus] = {}
    sent = [claim for claim, result in outcomes if result.outcome is Outcome.SENT]
    # Lock-and-recheck in the UPDATE itself: only the claims we made (id and attempts) move.
    # One statement per number of attempts: nearly always just the first.
    by_attempts: dict[int, list[int]] = {}
    for claim in sent:
        by_attempts.setdefault(claim.attempts, []).append(claim.id)
    for attempts, ids in by_attempts.items():
        moved.update(row[0] for row in await connection.execute(
            _BY_IDS[is_postgres(db)].record_sent,
            {"ids": ids, "claim_attempts": attempts, "worker": worker_id, "sent_at": now}))
    statuses |= {claim.id: OutboxStatus.SENT for claim in sent}
    # Retries, failures and hand-backs (rare) each have values of their own.
    for claim, result in outcomes:
        if result.outcome is Outcome.SENT:
            continue
        values = _values_for(claim, result, now=now, rng=rng)
        row_id = (await connection.execute(
            update(_OUTBOX)
            .where(_c.id == claim.id, _c.attempts == claim.attempts, _still_ours(worker_id))
            .values(**values)
            .returning(_c.id)
        )).scalar()
        if row_id is not None:
            moved.add(row_id)
        status = values["status"]
        assert isinstance(status, OutboxStatus)
        statuses[claim.id] = status
    if sent:
        await connection.execute(
            _BY_IDS[is_postgres(db)].attempts_sent,
            {"ids": [claim.id for claim in sent], "attempted_at": now})
    others = [
        {
            "outbox_email_id": claim.id,
            "attempted_at": now,
            "outcome": result.outcome.value,
            "smtp_code": result.smtp_code,
            "detail": clean_detail(result.detail),
        }
        for claim, result in outcomes
        if result.outcome is not None and result.outcome is not Outcome.SENT
    ]
    if others:
        await connection.execute(insert(_ATTEMPTS), others)
    return [statuses[claim.id] if claim.id in moved else None for claim, _ in outcomes]


async def _record_plainly(
    db: AsyncSession, claim: _Claim, result: _Result, error: Exception, *, now: datetime,
    worker_id: str,
) -> OutboxStatus | None:
    """Last resort for an outcome the database refused as it was: sent, or failed with a
    plain reason (a handed-back claim is left to lapse)."""
    if result.outcome is None:
        return None
    if result.outcome is Outcome.SENT:
        values: dict[str, object] = {"status": OutboxStatus.SENT, "sent_at": now}
    else:
        values = {"status": OutboxStatus.FAILED, "last_error": clean_detail(
            f"its outcome could not be recorded: {type(error).__name__}")}
    row_id = (await db.execute(
        update(_OUTBOX)
        .where(_c.id == claim.id, _c.attempts == claim.attempts, _still_ours(worker_id))
        .values(claimed_until=None, **values)
        .returning(_c.id)
    )).scalar()
    status = values["status"]
    assert isinstance(status, OutboxStatus)
    return status if row_id is not None else None


async def _send(transport: MailTransport, claim: _Claim, sender: str) -> _Result:
    if not claim.raw_message:
        return _Result(Outcome.PERMANENT, None, NOTHING_TO_SEND)
    try:
        await transport.send(claim.raw_message, sender, claim.to_address)
    except PermanentDeliveryError as error:
        return _Result(Outcome.PERMANENT, error.smtp_code, error.detail)
    except DeliveryError as error:  # transient, or any other kind a transport may add
        return _Result(Outcome.TRANSIENT, error.smtp_code, error.detail)
    except Exception as error:
        # Not a delivery error: something about this message (or a bug) that trying again
        # will not cure. It fails alone, with its reason; the other messages go on.
        return _Result(Outcome.PERMANENT, None, f"unexpected {type(error).__name__}: {error}")
    return _Result(Outcome.SENT, 250, None)


def _log_outcome(claim: _Claim, result: _Result, status: OutboxStatus | None) -> None:
    if status is None:
        logger.warning("Email %d: outcome of attempt %d (%s) not applied: another worker "
                       "had taken its claim over", claim.id, claim.attempts,
                       result.outcome or "handed back")
    elif result.outcome is None:
        logger.info("Email %d: handed back unsent (its claim was about to lapse)", claim.id)
    elif result.outcome is not Outcome.SENT:
        if status is OutboxStatus.RETRY:
            then = "will be retried"
        elif result.outcome is Outcome.TRANSIENT:
            then = f"failed: gave up after {claim.attempts} attempts"
        else:
            then = "failed for good"
        logger.warning("Email %d: attempt %d %s (%s): %s", claim.id, claim.attempts, then,
                       result.outcome, clean_detail(result.detail))


def _tally(counts: Counter[str], outcome: Outcome | None, status: OutboxStatus | None) -> None:
    if status is None:
        counts["lost_claims"] += 1
    elif outcome is None:
        counts["released"] += 1
    elif status is OutboxStatus.SENT:
        counts["sent"] += 1
    elif status is OutboxStatus.RETRY:
        counts["retrying"] += 1
    elif status is OutboxStatus.FAILED:
        counts["failed"] += 1


class _Pipeline:
    """Claims, renews, sends and records at the same time; see the module docstring."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        transport: MailTransport,
        *,
        settings: Settings,
        clock: Callable[[], datetime],
        batch_size: int,
        worker_id: str,
        lease: timedelta,
        rng: random.Random | None,
        more: Callable[[], bool],
        heartbeat_sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.sessionmaker, self.transport = sessionmaker, transport
        self.clock, self.batch_size, self.worker_id = clock, batch_size, worker_id
        self.lease, self.rng, self.more = lease, rng, more
        self.heartbeat_sleep = heartbeat_sleep
        self.sender = envelope_sender(settings)
        self.connections = max(1, settings.smtp.connections)
        # The next batch is claimed once fewer than this many claimed messages wait.
        self.low_water = max(self.connections, batch_size // 2)
        self.loop = asyncio.get_running_loop()
        # A claim is started only this long (loop clock) after it was made or last renewed.
        self.start_within = lease.total_seconds() * 0.8
        self.renewed_at = float("-inf")
        self.in_flight: set[int] = set()  # claimed by this run, outcome not yet recorded
        self.lost: set[int] = set()  # found taken over by the heartbeat: not to be started
        self.to_send: asyncio.Queue[tuple[_Claim, float] | None] = asyncio.Queue()
        self.finished: asyncio.Queue[tuple[_Claim, _Result] | None] = asyncio.Queue()
        self.wanted = asyncio.Event()  # senders ask for the next batch
        self.counts: Counter[str] = Counter()
        self.claiming = True
        self.recorded = 0
        # Outcomes in `finished` or being recorded; `room` is set while below the bound.
        self.unrecorded = 0
        self.room = asyncio.Event()
        self.room.set()
        self.group_full = asyncio.Event()
        self.broken = False  # outcomes can no longer be recorded: send nothing more

    async def claim_all(self) -> None:
        try:
            while True:
                now = self.clock()
                async with session_scope(self.sessionmaker) as db:
                    batch = await _claim(db, now=now, lease=self.lease,
                                         batch_size=self.batch_size, worker_id=self.worker_id)
                # Measured on the loop's clock, not `now`: how long the claim has really waited.
                claimed_at = self.loop.time()
                self.counts["claimed"] += len(batch.claims)
                self.counts["expired"] += batch.expired
                for claim in batch.claims:
                    self.in_flight.add(claim.id)
                    self.to_send.put_nowait((claim, claimed_at))
                if not batch.is_full or not self.more():
                    return
                while self.to_send.qsize() > self.low_water and not self.broken:
                    self.wanted.clear()
                    await self.wanted.wait()
                if self.broken or not self.more():
                    return
        finally:
            self.claiming = False
            for _ in range(self.connections):
                self.to_send.put_nowait(None)

    async def keep_claims(self) -> None:
        """The heartbeat: renew the lease of every claim still in flight, until cancelled."""
        while not self.broken:
            await self.heartbeat_sleep(HEARTBEAT_INTERVAL)
            ids = sorted(self.in_flight)
            if not ids:
                continue
            started = self.loop.time()
            try:
                async with session_scope(self.sessionmaker) as db:
                    held = await renew_claims(db, ids, worker_id=self.worker_id,
                                              now=self.clock(), lease=self.lease)
            except Exception as error:  # the next beat tries again; unrenewed claims wait
                logger.warning("Could not renew %d email claims: %s", len(ids), _cause(error))
                continue
            self.renewed_at = started
            # Recorded meanwhile (no longer in flight), or taken over by another worker.
            self.lost.update(i for i in ids if i not in held and i in self.in_flight)

    async def send_all(self) -> None:
        while (item := await self.to_send.get()) is not None:
            if self.to_send.qsize() <= self.low_water:
                self.wanted.set()
            claim, claimed_at = item
            if self.broken:
                continue  # left claimed: sent again once its lease has run out
            while self.unrecorded >= MAX_UNRECORDED and not self.broken:
                await self.room.wait()
            if self.broken:
                continue
            held_since = max(claimed_at, self.renewed_at)
            if claim.id in self.lost or self.loop.time() > held_since + self.start_within:
                result = _Result(outcome=None)
            else:
                result = await _send(self.transport, claim, self.sender)
            self.unrecorded += 1
            if self.unrecorded >= RECORD_AT:
                self.group_full.set()
            if self.unrecorded >= MAX_UNRECORDED:
                self.room.clear()
            self.finished.put_nowait((claim, result))

    def _more_outcomes_coming(self, waiting: int) -> bool:
        return self.claiming or self.recorded + waiting < self.counts["claimed"]

    async def _record_group(
        self, group: Sequence[tuple[_Claim, _Result]]
    ) -> list[OutboxStatus | None]:
        """One transaction for the group; if the database refuses it, one per outcome, so a
        row it cannot take does not keep the others in `sending`."""
        try:
            async with session_scope(self.sessionmaker) as db:
                return await _record(db, group, now=self.clock(), worker_id=self.worker_id,
                                     rng=self.rng)
        except Exception as error:
            if len(group) == 1:
                return [await self._record_failure(group[0], error)]
            logger.error("Could not record %d email outcomes together (%s); one by one",
                         len(group), _cause(error))
        statuses: list[OutboxStatus | None] = []
        for outcome in group:
            try:
                async with session_scope(self.sessionmaker) as db:
                    statuses += await _record(db, [outcome], now=self.clock(),
                                              worker_id=self.worker_id, rng=self.rng)
            except Exception as error:
                statuses.append(await self._record_failure(outcome, error))
        return statuses

    async def _record_failure(
        self, outcome: tuple[_Claim, _Result], error: Exception
    ) -> OutboxStatus | None:
        claim, result = outcome
        logger.error("Email %d: could not record the outcome of attempt %d: %s", claim.id,
                     claim.attempts, _cause(error))
        try:
            async with session_scope(self.sessionmaker) as db:
                return await _record_plainly(db, claim, result, error, now=self.clock(),
                                             worker_id=self.worker_id)
        except Exception:
            # The database itself is unwell: the claim lapses and another run retries it.
            return None

    async def record_all(self) -> None:
        try:
            done = False
            while not done:
                first = await self.finished.get()
                if first is None:
                    return
                group = [first]
                if self._more_outcomes_coming(len(group)) and not self.group_full.is_set():
                    # A moment for more outcomes to join: fewer, larger transactions (cut
                    # short once RECORD_AT outcomes wait).
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(GROUP_COMMIT_DELAY):
                            await self.group_full.wait()
                self.group_full.clear()
                while not self.finished.empty():
                    item = self.finished.get_nowait()
                    if item is None:
                        done = True
                        break
                    group.append(item)
                statuses = await self._record_group(group)
                self.recorded += len(group)
                self.unrecorded -= len(group)
                if self.unrecorded < MAX_UNRECORDED:
                    self.room.set()
                for (claim, result), status in zip(group, statuses, strict=True):
                    self.in_flight.discard(claim.id)
                    _tally(self.counts, result.outcome, status)
                    _log_outcome(claim, result, status)
        except BaseException:
            self.broken = True
            self.wanted.set()
            self.room.set()
            raise

    async def run(self) -> DeliveryReport:
        claimer = asyncio.ensure_future(self.claim_all())
        senders = [asyncio.ensure_future(self.send_all()) for _ in range(self.connections)]
        recorder = asyncio.ensure_future(self.record_all())
        heartbeat = asyncio.ensure_future(self.keep_claims())
        tasks = [claimer, *senders, recorder, heartbeat]
        try:
            # gather, not a TaskGroup: a failing claim or record must not cancel sends
            # already under way.
            claimed = await asyncio.gather(claimer, return_exceptions=True)
            await asyncio.gather(*senders)
            self.finished.put_nowait(None)
            await recorder
            if isinstance(claimed[0], BaseException):
                raise claimed[0]
        finally:
            for task in tasks:
                task.cancel()  # the heartbeat; the others only when this run is cancelled
        return DeliveryReport(**self.counts)


async def renew_claims(
    db: AsyncSession, ids: Sequence[int], *, worker_id: str, now: datetime, lease: timedelta
) -> set[int]:
    """Extend `worker_id`'s claims on `ids` to `now + lease`; the ids it still holds."""
    if not ids:
        return set()
    connection = await db.connection()
    rows = await connection.execute(
        _BY_IDS[is_postgres(db)].renew,
        {"ids": list(ids), "worker": worker_id, "lease_end": now + lease})
    return {row[0] for row in rows}


async def drain_due_emails(
    sessionmaker: async_sessionmaker[AsyncSession],
    transport: MailTransport,
    *,
    settings: Settings,
    clock: Callable[[], datetime],
    batch_size: int = 200,
    worker_id: str,
    should_stop: Callable[[], bool] = lambda: False,
    rng: random.Random | None = None,
    lease: timedelta = CLAIM_LEASE,
    heartbeat_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> DeliveryReport:
    """Claim, send and record batch after batch until a batch comes back short or
    `should_stop()`; each batch claimed at `clock()`, each outcome recorded at `clock()`,
    every claim in flight renewed each `HEARTBEAT_INTERVAL` (slept with `heartbeat_sleep`)."""
    pipeline = _Pipeline(
        sessionmaker, transport, settings=settings, clock=clock, batch_size=batch_size,
        worker_id=worker_id, lease=lease, rng=rng, more=lambda: not should_stop(),
        heartbeat_sleep=heartbeat_sleep,
    )
    return await pipeline.run()


async def next_due_in(
    sessionmaker: async_sessionmaker[AsyncSession], *, now: datetime
) -> timedelta | None:
    """How long until the next queued or retrying email falls due (None: none waits)."""
    async with sessionmaker() as db:
        connection = await db.connection()
        times = [
            (await connection.execute(
                select(_c.next_attempt_at)
                .where(_c.status == status, _c.next_attempt_at > now)
                .order_by(_c.next_attempt_at).limit(1)
            )).scalar()
            for status in (OutboxStatus.QUEUED, OutboxStatus.RETRY)
        ]
    upcoming = [at for at in times if at is not None]
    return min(upcoming) - now if upcoming else None


async def deliver_due_emails(
    sessionmaker: async_sessionmaker[AsyncSession],
    transport: MailTransport,
    *,
    settings: Settings,
    now: datetime,
    batch_size: int = 100,
    worker_id: str,
    lease: timedelta = CLAIM_LEASE,
    rng: random.Random | None = None,
    heartbeat_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> DeliveryReport:
    """Claim, send and record up to `batch_size` due emails, all at `now`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    pipeline = _Pipeline(
        sessionmaker, transport, settings=settings, clock=lambda: now, batch_size=batch_size,
        worker_id=worker_id, lease=lease, rng=rng, more=lambda: False,
        heartbeat_sleep=heartbeat_sleep,
    )
    return await pipeline.run()

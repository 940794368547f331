"""The composing job claims first emails in one short transaction, composes them with no
transaction open and writes them back in another: registrations (and cancellations) go on
meanwhile, a withdrawal made meanwhile wins, and a claim holds only for its lease."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.outbox import withdraw_emails
from notifications.transport import make_transport
from scheduling.jobs import JobContext, job_compose_welcome_emails
from service.clock import utc_now
from service.db.engine import session_scope
from service.db.models import OutboxEmail
from service.domain import registration as registrations
from service.domain.registration import welcome
from service.settings import Settings
from tests.factories import make_event
from tests.statements import recorded_statements

Sessionmaker = async_sessionmaker[AsyncSession]
PEOPLE = [("Ana Silva", "ana@example.org"), ("Ben Okafor", "ben@example.org"),
          ("Cleo Early", "cleo@example.org")]


async def _register(db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings) -> None:
    event = await make_event(db, settings)
    async with session_scope(db_sessionmaker) as batch_db:
        await registrations.register_participants(batch_db, [
            (event.slug, registrations.RegistrationForm(name=name, email=address, consent=True))
            for name, address in PEOPLE], now=utc_now(), settings=settings)


async def _rows(db_sessionmaker: Sessionmaker) -> list[OutboxEmail]:
    async with db_sessionmaker() as check:
        return list(await check.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


async def test_the_job_composes_with_no_transaction_open_and_a_withdrawal_meanwhile_wins(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _register(db, db_sessionmaker, settings)
    before = await _rows(db_sessionmaker)
    context = JobContext(sessionmaker=db_sessionmaker, settings=settings,
                         transport=make_transport(settings))
    seen_while_composing: list[tuple[str, str | None]] = []
    compose = welcome._compose

    async def compose_after_a_cancellation(*args: Any, **kwargs: Any) -> None:
        if not seen_while_composing:
            # Another request while the job composes: with the job's transaction open it
            # would wait for SQLite's one connection (or the PostgreSQL row locks).
            async with asyncio.timeout(5), session_scope(db_sessionmaker) as other:
                rows = list(await other.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
                seen_while_composing.extend((str(r.status), r.claimed_by) for r in rows)
                assert await withdraw_emails(other, [rows[1].id], note="cancelled") == [
                    rows[1].id]
        await compose(*args, **kwargs)

    monkeypatch.setattr(welcome, "_compose", compose_after_a_cancellation)
    assert await job_compose_welcome_emails(context) == 3

    assert seen_while_composing == [("composing", context.worker_id)] * 3
    after = await _rows(db_sessionmaker)
    assert [(str(r.status), r.raw_message is not None, r.claimed_by, r.claimed_until)
            for r in after] == [("queued", True, None, None), ("withdrawn", False, None, None),
                                ("queued", True, None, None)]
    assert [r.message_id for r in after] == [r.message_id for r in before]


async def test_a_claim_holds_for_its_lease_and_only_its_holder_writes(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    await _register(db, db_sessionmaker, settings)
    now = utc_now()

    async def claim(worker_id: str, at: Any) -> welcome.WelcomeBatch:
        async with session_scope(db_sessionmaker) as claim_db:
            return await welcome.claim_welcome_emails(
                claim_db, now=at, settings=settings, batch_size=50, worker_id=worker_id)

    async def finish(batch: welcome.WelcomeBatch) -> welcome.ComposeReport:
        await welcome.compose_claimed(batch, now=now, settings=settings)
        async with session_scope(db_sessionmaker) as record_db:
            return await welcome.record_welcome_emails(record_db, batch)

    first = await claim("worker-a", now)
    assert len(first.rows) == 3
    assert (await claim("worker-b", now + timedelta(seconds=59))).rows == []
    # Worker A seems dead: once its lease has run out, worker B takes the rows over ...
    second = await claim("worker-b", now + welcome.COMPOSE_LEASE + timedelta(seconds=1))
    assert [r.id for r in second.rows] == [r.id for r in first.rows]
    # ... and A, late, writes nothing; B's composition is the one recorded.
    assert await finish(first) == welcome.ComposeReport(claimed=3, composed=0, withdrawn=3)
    assert {str(r.status) for r in await _rows(db_sessionmaker)} == {"composing"}
    assert await finish(second) == welcome.ComposeReport(claimed=3, composed=3)
    rows = await _rows(db_sessionmaker)
    assert [(str(r.status), r.claimed_by) for r in rows] == [("queued", None)] * 3
    assert (await claim("worker-c", now + timedelta(hours=1))).rows == []


async def test_a_claim_reads_what_composing_needs_before_its_one_write(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    """SQLite holds its one write lock from a transaction's first write to its commit, and
    registrations wait for it meanwhile: the registrations and private links are read before
    the claim's UPDATE, the transaction's only write and last statement."""
    await _register(db, db_sessionmaker, settings)
    async with session_scope(db_sessionmaker) as claim_db:
        with recorded_statements(claim_db) as sent:
            batch = await welcome.claim_welcome_emails(
                claim_db, now=utc_now(), settings=settings, batch_size=50, worker_id="w")
    assert len(batch.rows) == 3
    assert sorted(r.name for r in batch.registrations.values()) == sorted(n for n, _ in PEOPLE)
    assert len(batch.tokens) == 6
    verbs = [statement.verb for statement in sent]
    assert verbs[-1] == "UPDATE"
    assert set(verbs[:-1]) == {"SELECT"}


async def test_the_job_composes_what_was_filed_while_it_composed_a_short_batch(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing wakes the job when another process files a registration (SQLite): one filed
    while it composed must not wait for its next tick because the batch was short."""
    event = await make_event(db, settings)
    latecomer = ("Dara Late", "dara@example.org")
    async with session_scope(db_sessionmaker) as first_db:
        await registrations.register_participants(first_db, [
            (event.slug, registrations.RegistrationForm(name=name, email=address, consent=True))
            for name, address in PEOPLE[:1]], now=utc_now(), settings=settings)
    context = JobContext(sessionmaker=db_sessionmaker, settings=settings,
                         transport=make_transport(settings), compose_batch=2)
    compose = welcome._compose
    filed: list[str] = []

    async def compose_while_someone_registers(*args: Any, **kwargs: Any) -> None:
        if not filed:
            async with session_scope(db_sessionmaker) as other:
                await registrations.register_participants(other, [
                    (event.slug, registrations.RegistrationForm(
                        name=latecomer[0], email=latecomer[1], consent=True))],
                    now=utc_now(), settings=settings)
            filed.append(latecomer[1])
        await compose(*args, **kwargs)

    monkeypatch.setattr(welcome, "_compose", compose_while_someone_registers)
    assert await job_compose_welcome_emails(context) == 2

    assert [(r.to_address, str(r.status)) for r in await _rows(db_sessionmaker)] == [
        (PEOPLE[0][1], "queued"), (latecomer[1], "queued")]

"""Many rows are written by one statement on PostgreSQL, not one statement per row (what
asyncpg makes of a list of rows): inserted rows, and the composing job's write-back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications import delivery
from service.clock import utc_now
from service.db.engine import insert_rows, is_postgres, session_scope, table_of
from service.db.models import (
    Event,
    NetworkStanding,
    Organisation,
    OrganisationKind,
    OutboxEmail,
    OutboxStatus,
    Reminder,
    ReminderStatus,
)
from service.domain import registration as registrations
from service.domain.registration import welcome
from service.domain.reminders.policy import reminder_due_at, reminder_offsets
from service.settings import Settings
from tests.factories import make_event
from tests.statements import recorded_statements

NOW = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


async def test_insert_rows_writes_every_value_in_one_insert(db: AsyncSession) -> None:
    rows = [{"name": f"City of Example {n}", "kind": kind, "country": country,
             "standing": NetworkStanding.NONE, "created_at": NOW + timedelta(minutes=n),
             "updated_at": NOW}
            for n, kind, country in [(1, OrganisationKind.PUBLIC_AUTHORITY, "BE"),
                                     (2, OrganisationKind.SUPPLIER, None),
                                     (3, OrganisationKind.PUBLIC_AUTHORITY, "ES")]]

    with recorded_statements(db) as seen:
        async with db.begin():
            await insert_rows(db, table_of(Organisation), rows)
            await insert_rows(db, table_of(Organisation), [])
    async with db.begin():
        stored = (await db.execute(
            select(Organisation.name, Organisation.kind, Organisation.country,
                   Organisation.created_at).order_by(Organisation.name))).all()

    inserts = [s.executemany for s in seen if s.verb == "INSERT"]
    # One INSERT; on PostgreSQL a single execution, not one per row.
    assert inserts == ([False] if is_postgres(db) else [True])
    assert [tuple(row) for row in stored] == [
        (row["name"], row["kind"], row["country"], row["created_at"]) for row in rows]


async def _register_three(db: AsyncSession, event: Event, settings: Settings
                          ) -> list[registrations.RegistrationOutcome]:
    """Three registrations for `event`, filed as one batch in `db`'s transaction."""
    return await registrations.register_participants(db, [
        (event.slug, registrations.RegistrationForm(name=name, email=address, consent=True))
        for name, address in [("Ana Silva", "ana@example.org"), ("Ben Okafor", "ben@example.org"),
                              ("Cleo Early", "cleo@example.org")]],
        now=utc_now(), settings=settings)


async def test_composed_emails_are_written_back_in_one_update(
    db: AsyncSession, db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
) -> None:
    event = await make_event(db, settings)
    async with session_scope(db_sessionmaker) as filing:
        await _register_three(filing, event, settings)
    now = utc_now()
    async with session_scope(db_sessionmaker) as claiming:
        batch = await welcome.claim_welcome_emails(
            claiming, now=now, settings=settings, batch_size=50, worker_id="worker-a")
    await welcome.compose_claimed(batch, now=now, settings=settings)
    composed = {row.id: (row.subject, row.raw_message) for row in batch.rows}

    async with db_sessionmaker() as recording:
        with recorded_statements(recording) as seen:
            async with recording.begin():
                report = await welcome.record_welcome_emails(recording, batch)
    async with db_sessionmaker() as check:
        stored = {row.id: row for row in await check.scalars(select(OutboxEmail))}

    assert report == welcome.ComposeReport(claimed=3, composed=3)
    updates = [s.executemany for s in seen if s.verb == "UPDATE"]
    assert updates == ([False] if is_postgres(db) else [True])
    assert {row_id: (row.subject, row.raw_message) for row_id, row in stored.items()} == composed
    assert all(row.raw_message for row in stored.values())
    assert {(row.status, row.claimed_by, row.claimed_until, row.last_error)
            for row in stored.values()} == {(OutboxStatus.QUEUED, None, None, None)}
    assert {row.next_attempt_at for row in stored.values()} == {now}


async def test_statements_naming_rows_by_id_read_the_same_for_any_number_of_rows(
    db: AsyncSession, db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
) -> None:
    """On PostgreSQL a list of ids travels as one array (`= ANY`), so a connection prepares
    each such statement once; an IN list is a new statement, parsed, planned and prepared
    again, for every length a batch happens to have."""
    event = await make_event(db, settings)
    async with session_scope(db_sessionmaker) as filing:
        await _register_three(filing, event, settings)
    now = utc_now()
    sent: list[list[str]] = []
    claimed: list[int] = []
    for batch_size in (1, 2):
        async with db_sessionmaker() as claiming:
            with recorded_statements(claiming) as seen:
                async with claiming.begin():
                    batch = await welcome.claim_welcome_emails(
                        claiming, now=now, settings=settings, batch_size=batch_size,
                        worker_id="worker-a")
                    claimed += [row.id for row in batch.rows]
                    renewed = await delivery.renew_claims(
                        claiming, claimed, worker_id="worker-a", now=now,
                        lease=timedelta(minutes=1))
        sent.append([statement.sql for statement in seen])
        assert (len(batch.rows), renewed) == (batch_size, set())  # not claimed for sending

    assert len(set(claimed)) == 3
    assert all(len(sql) >= 4 for sql in sent)  # rows, registrations, links, claim, renewal
    if is_postgres(db):
        assert sent[0] == sent[1]
        assert sum("= ANY (" in sql for sql in sent[0]) >= 3  # rows, links, claim, renewal


async def test_a_batch_of_registrations_gets_its_reminders_in_one_insert(
    db: AsyncSession, db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
) -> None:
    """Each registrant gets the reminders of every session (each offset of the event's
    policy, due at its own time); the whole batch's go in one INSERT, on PostgreSQL the
    reminders once and the registrations' ids once, joined by the database."""
    event = await make_event(db, settings)
    async with db_sessionmaker() as filing:
        with recorded_statements(filing) as seen:
            async with filing.begin():
                outcomes = await _register_three(filing, event, settings)
    async with db_sessionmaker() as check:
        stored = set((await check.execute(select(
            Reminder.registration_id, Reminder.session_id, Reminder.offset_minutes,
            Reminder.due_at, Reminder.status))).all())

    registered = [outcome.registration.id for outcome in outcomes]
    assert len(set(registered)) == 3
    assert stored == {
        (registration_id, session.id, offset,
         reminder_due_at(session.starts_at, offset, event.timezone), ReminderStatus.PENDING)
        for registration_id in registered for session in event.sessions
        for offset in reminder_offsets(event)}
    inserts = [s.executemany for s in seen if s.sql.startswith("INSERT INTO reminders")]
    assert inserts == ([False] if is_postgres(db) else [True])

"""The migrations build exactly the schema the models describe, and unwind cleanly."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service.db.migrate import alembic_config, head_revision
from service.db.models import (
    Account,
    Base,
    Enrolment,
    EnrolmentStatus,
    GroupMember,
    Registration,
    Session,
    SessionMode,
)
from service.domain.accounts import create_account
from service.settings import Settings
from service.web.app import create_app
from tests.databases import run_off_loop
from tests.factories import (
    BUILT_AT,
    VISIT,
    WINTER,
    EventSpec,
    make_event,
    make_group_member,
    make_interest_group,
    make_registration,
)


async def test_migrated_schema_has_no_drift_from_the_models(engine: AsyncEngine) -> None:
    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        drift = await connection.run_sync(differences)

    assert drift == []


async def test_migrations_downgrade_to_nothing_and_upgrade_again(
    settings: Settings, engine: AsyncEngine
) -> None:
    config = alembic_config(settings.database_url)

    run_off_loop(lambda: command.downgrade(config, "base"))
    async with engine.connect() as connection:
        tables_after_downgrade = await connection.run_sync(
            lambda sync: set(inspect(sync).get_table_names()))
    run_off_loop(lambda: command.upgrade(config, "head"))
    async with engine.connect() as connection:
        tables_after_upgrade = await connection.run_sync(
            lambda sync: set(inspect(sync).get_table_names()))

    assert tables_after_downgrade == {"alembic_version"}
    assert tables_after_upgrade == set(Base.metadata.tables) | {"alembic_version"}


async def test_the_app_refuses_to_start_on_an_unmigrated_database(settings: Settings) -> None:
    run_off_loop(lambda: command.downgrade(alembic_config(settings.database_url), "base"))
    app: Litestar = create_app(settings)

    with pytest.raises(Exception) as raised:  # the lifespan wraps the error in its own types
        async with AsyncTestClient(app=app):
            pass

    assert "procura-events migrate" in str(raised.value) or any(
        "procura-events migrate" in str(error) for error in _causes(raised.value)
    )
    assert head_revision(settings.database_url) is not None


def _causes(error: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    while error.__cause__ or error.__context__:
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
        found.append(error)
    found.extend(getattr(error, "exceptions", []))
    return found


async def test_composed_messages_are_compressed_with_lz4_where_postgresql_has_it(
    engine: AsyncEngine,
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite does not compress column values")
    async with engine.connect() as connection:
        has_lz4 = (await connection.execute(text(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
            "WHERE name = 'default_toast_compression'"))).scalar()
        method = (await connection.execute(text(
            "SELECT attcompression::text FROM pg_attribute "
            "WHERE attrelid = 'outbox_emails'::regclass AND attname = 'raw_message'"))).scalar()

    assert has_lz4, "the test server is built with lz4 (pgserver's is)"
    assert method == "l"


async def test_members_and_accounts_erased_before_get_their_erased_at_from_the_migration(
    settings: Settings, engine: AsyncEngine, db: AsyncSession,
) -> None:
    group = await make_interest_group(db)
    kept = await make_group_member(db, group, email="ana@lisboa.example.pt")
    erased = await make_group_member(db, group, name="Erased", email="erased-7f3a@invalid")
    erased.updated_at = BUILT_AT + timedelta(days=30)
    former = await create_account(db, email="olga@procura.example.org", name="Olga",
                                  role="organiser", now=BUILT_AT)
    former.email, former.updated_at = "erased-9c1d@invalid", BUILT_AT + timedelta(days=40)
    await db.commit()
    ids = (kept.id, erased.id)
    former_id = former.id
    config = alembic_config(settings.database_url)

    run_off_loop(lambda: command.downgrade(config, "8d2f6b1e4a37"))  # before the column
    run_off_loop(lambda: command.upgrade(config, "head"))
    db.expire_all()

    rows = (await db.execute(select(GroupMember.id, GroupMember.erased_at)
                             .order_by(GroupMember.id))).all()
    assert [tuple(row) for row in rows] == [(ids[0], None),
                                            (ids[1], BUILT_AT + timedelta(days=30))]
    assert await db.scalar(select(Account.erased_at).where(Account.id == former_id)) == (
        BUILT_AT + timedelta(days=40))


async def test_a_check_in_made_for_the_registration_counts_for_its_first_session_with_a_door(
    settings: Settings, engine: AsyncEngine, db: AsyncSession,
) -> None:
    event = await make_event(db, settings, EventSpec(commit=False, sessions=(WINTER, VISIT)))
    online, visit = sorted(event.sessions, key=lambda s: s.mode == SessionMode.IN_PERSON)
    ana = await make_registration(db, event, online, "Ana Silva")
    db.add(Enrolment(registration_id=ana.id, session_id=visit.id, created_at=BUILT_AT,
                     updated_at=BUILT_AT, status=EnrolmentStatus.CONFIRMED))
    bruno = await make_registration(db, event, online, "Bruno Costa")
    ana.checked_in_at = bruno.checked_in_at = BUILT_AT
    online_id, visit_id = online.id, visit.id
    await db.commit()
    config = alembic_config(settings.database_url)

    run_off_loop(lambda: command.downgrade(config, "6f3b8d2a9e41"))  # before the column
    run_off_loop(lambda: command.upgrade(config, "head"))
    db.expire_all()

    rows = (await db.execute(select(Registration.name, Enrolment.session_id,
                                    Enrolment.checked_in_at)
                             .join(Registration).order_by(Registration.name,
                                                          Enrolment.session_id))).all()
    # Ana came to the visit (its door), not to the webinar; Bruno had only the webinar.
    assert sorted(tuple(row) for row in rows) == sorted([
        ("Ana Silva", online_id, None), ("Ana Silva", visit_id, BUILT_AT),
        ("Bruno Costa", online_id, BUILT_AT)])


async def test_downgrading_keeps_the_rows_of_the_tables_a_migration_rebuilds(
    settings: Settings, engine: AsyncEngine, db: AsyncSession,
) -> None:
    """On SQLite a column is dropped by copying its table: the events table's copy must not
    take the registrations, sessions and enrolments with it (foreign keys cascade)."""
    event = await make_event(db, settings, EventSpec(commit=False))
    await make_registration(db, event, event.sessions[0], "Ana Silva")
    await db.commit()
    config = alembic_config(settings.database_url)

    # Before the content translations, whose downgrade drops a column of `events`.
    run_off_loop(lambda: command.downgrade(config, "7d3f1a9c2b64"))
    run_off_loop(lambda: command.upgrade(config, "head"))
    db.expire_all()

    assert [name for name, in (await db.execute(select(Registration.name))).all()] == [
        "Ana Silva"]
    assert await db.scalar(select(func.count()).select_from(Enrolment)) == 1
    assert await db.scalar(select(func.count()).select_from(Session)) == 2

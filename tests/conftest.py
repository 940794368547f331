"""Shared fixtures: real databases (SQLite file and PostgreSQL), settings, the app and a client.

Every test that asks for `database_url` (directly or through `db`, `app`, `client`) runs
twice: once on a SQLite file, once on PostgreSQL. TEST_BACKENDS=sqlite (or postgresql)
narrows that for a quick local run; the README's test command runs both. A module marked
`one_database` (how pages and forms read, where the same domain calls are tested on both
databases elsewhere) runs on SQLite only. A test that asks for `demo` gets its database
copied from one that already holds the demo programme.

A worker's tests use the same places one after another (one SQLite file, its PostgreSQL
databases by name, one directory for mail and files), copied or emptied afresh for each
test, so that their settings are the same and they can share apps (`tests.apps`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service.db.engine import create_engine, make_sessionmaker
from service.domain.auth import create_api_token
from service.operations import consequences
from service.operations.demo import load_demo_programme
from service.settings import Settings, load_settings
from tests import databases
from tests.apps import lent_app
from tests.factories import DEMO_LOADED_AT, DEMO_NOW

pytest_plugins = ["tests.smtp_server"]

# What follows each change is wired at start-up in the app, worker and CLI; so too here.
consequences.wire()

BACKENDS = [b for b in os.environ.get("TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
TEST_BASE_URL = "http://events.test"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `one_database` run once, on SQLite."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("database_url") if callspec is not None else None
        if backend == "postgresql" and item.get_closest_marker("one_database"):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[databases.PostgresServer]:
    server = databases.start_postgres()
    try:
        databases.run_off_loop(lambda: asyncio.run(databases.create_template(server)))
        databases.migrate_template(server)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_databases(postgres_server: databases.PostgresServer
                       ) -> Iterator[databases.EmptyDatabases]:
    pool = databases.EmptyDatabases(postgres_server)
    yield pool
    databases.run_off_loop(lambda: asyncio.run(pool.drop_all()))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return databases.sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


def settings_for(database_url: str, directory: Path) -> Settings:
    return load_settings(
        database_url=database_url,
        public_base_url=TEST_BASE_URL,
        secret_key="test-secret-key-not-for-production",
        var_dir=directory / "var",
        maildir_path=directory / "maildir",
        run_scheduler=False,
    )


def load_demo_into(database_url: str, directory: Path) -> None:
    """The demo programme as loaded at DEMO_LOADED_AT, read at DEMO_NOW (`frozen_clock`)."""

    async def load() -> None:
        engine = create_engine(database_url)
        try:
            async with make_sessionmaker(engine)() as db:
                await load_demo_programme(db, now=DEMO_LOADED_AT,
                                          settings=settings_for(database_url, directory))
                await db.commit()
        finally:
            await engine.dispose()

    with time_machine.travel(DEMO_NOW, tick=False):
        databases.run_off_loop(lambda: asyncio.run(load()))


@pytest.fixture(scope="session")
def sqlite_demo_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("sqlite-demo-template")
    path = directory / "demo.db"
    shutil.copyfile(sqlite_template, path)
    load_demo_into(f"sqlite+aiosqlite:///{path}", directory)
    return path


@pytest.fixture(scope="session")
def postgres_demo_template(
    postgres_server: databases.PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> str:
    name = databases.DEMO_TEMPLATE_DB

    async def create() -> None:
        await databases.drop_database(postgres_server, name)
        await databases.create_database(postgres_server, name)

    databases.run_off_loop(lambda: asyncio.run(create()))
    load_demo_into(postgres_server.url_for(name), tmp_path_factory.mktemp("postgres-demo"))
    return name


@pytest.fixture(scope="session")
def worker_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this worker's tests keep their SQLite file, mail and files, one test at a time."""
    return tmp_path_factory.mktemp("tests")


@pytest.fixture(params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, worker_directory: Path
) -> AsyncIterator[str]:
    with_demo = "demo" in request.fixturenames
    if request.param == "sqlite":
        path = worker_directory / "procura.db"
        # A new file (a new inode), never the last test's overwritten: a connection that test
        # left open keeps what it had and cannot mix it into this one.
        for old in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            old.unlink(missing_ok=True)
        template = "sqlite_demo_template" if with_demo else "sqlite_template"
        shutil.copyfile(request.getfixturevalue(template), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    server: databases.PostgresServer = request.getfixturevalue("postgres_server")
    if with_demo:
        # One name per worker, so that its tests' settings are the same (`tests.apps`).
        name = f"demo_copy_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
        await databases.drop_database(server, name)
        await databases.create_database(
            server, name, from_template=request.getfixturevalue("postgres_demo_template"))
        try:
            yield server.url_for(name)
        finally:
            await databases.drop_database(server, name)
        return
    pool: databases.EmptyDatabases = request.getfixturevalue("postgres_databases")
    name = await pool.take()
    try:
        yield server.url_for(name)
    finally:
        await pool.give_back(name)


@pytest.fixture
def demo() -> None:
    """The demo programme, loaded at DEMO_LOADED_AT. Loading it takes a second or two, so it
    is loaded once per backend into a template, and the database of a test that asks for
    `demo` is copied from that template (`database_url`): the rows are there before any
    other fixture's."""


@pytest.fixture
def settings(database_url: str, worker_directory: Path) -> Settings:
    for directory in (worker_directory / "var", worker_directory / "maildir"):
        shutil.rmtree(directory, ignore_errors=True)
    return settings_for(database_url, worker_directory)


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings.database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def db_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture
async def db(db_sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A database session for arranging and checking; tests commit when they mean to."""
    async with db_sessionmaker() as session:
        yield session


@pytest.fixture
def app(settings: Settings) -> Iterator[Litestar]:
    with lent_app(settings) as app:
        yield app


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url=TEST_BASE_URL) as test_client:
        yield test_client


async def _token(db_sessionmaker: async_sessionmaker[AsyncSession], role: str) -> str:
    async with db_sessionmaker() as db, db.begin():
        issued = await create_api_token(db, name=f"test {role}", role=role,
                                        now=datetime.now(UTC))
        return issued.secret


@pytest.fixture
async def organiser_headers(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> dict[str, str]:
    return {"Authorization": f"Bearer {await _token(db_sessionmaker, 'organiser')}"}


@pytest.fixture
async def viewer_headers(db_sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    return {"Authorization": f"Bearer {await _token(db_sessionmaker, 'viewer')}"}


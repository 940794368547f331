"""Shared fixtures: real databases (SQLite file and PostgreSQL), settings, the app and a client.

Every test that asks for `database_url` (directly or through `db`, `app`, `client`) runs
twice: once on a SQLite file, once on PostgreSQL. TEST_BACKENDS=sqlite (or postgresql)
narrows that for a quick local run; the README's test command runs both. A module marked
`one_database` (how pages and forms read, where the same domain calls are tested on both
databases elsewhere) runs on SQLite only.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service.db.engine import create_engine, make_sessionmaker
from service.domain.auth import create_api_token
from service.operations import consequences
from service.settings import Settings, load_settings
from service.web.app import create_app
from tests import databases

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
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return databases.sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "procura.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    server: databases.PostgresServer = request.getfixturevalue("postgres_server")
    name = await databases.create_database(server)
    try:
        yield server.url_for(name)
    finally:
        await databases.drop_database(server, name)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        database_url=database_url,
        public_base_url=TEST_BASE_URL,
        secret_key="test-secret-key-not-for-production",
        var_dir=tmp_path / "var",
        maildir_path=tmp_path / "maildir",
        run_scheduler=False,
    )


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
def app(settings: Settings) -> Litestar:
    return create_app(settings)


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


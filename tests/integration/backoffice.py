"""Back-office test fixtures: clients signed in through the real sign-in form.

`admin_client`, `organiser_client` (member of the default "Programme team", which owns the
demo events and every event the factories make), `viewer_client` (same team, read only) and
`other_team_client` (an organiser of another team). Each is a `SignedInClient`: use it as
the AsyncTestClient it wraps, with `.csrf` the form token of its session, and
`post_form(url, data)` to post a form with that token included.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.domain.accounts import create_account, default_team_id, find_or_create_team
from service.domain.accounts.passwords import hash_password
from service.settings import Settings
from tests.apps import lent_app
from tests.conftest import TEST_BASE_URL

PASSWORD = "lantern-quarry-velvet-29"
OTHER_TEAM = "Regional team"
_CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


def csrf_in(html: str) -> str:
    """The form token of a back-office page (the first form's)."""
    found = _CSRF.search(html)
    if found is None:
        raise AssertionError("no form token in the page")
    return found.group(1)


@dataclass
class SignedInClient:
    """An AsyncTestClient signed in as one account; `.csrf` is its session's form token."""

    client: AsyncTestClient[Litestar]
    csrf: str
    account_id: int
    email: str
    password: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    async def post_form(self, url: str, data: dict[str, Any] | None = None,
                        **kwargs: Any) -> httpx.Response:
        """POST a form with the session's token (a test of refusals uses `.post` instead)."""
        return await self.client.post(url, data={"_csrf": self.csrf, **(data or {})},
                                      follow_redirects=False, **kwargs)


async def sign_in(client: AsyncTestClient[Litestar], email: str,
                  password: str = PASSWORD) -> httpx.Response:
    """Through the form, as a browser does: the sign-in page first (its token), then post."""
    page = await client.get("/organiser/login")
    return await client.post("/organiser/login", follow_redirects=False, data={
        "_csrf": csrf_in(page.text), "email": email, "password": password})


async def make_account(
    db_sessionmaker: async_sessionmaker[AsyncSession], *, email: str, name: str, role: str,
    team: str | None = None, password: str = PASSWORD,
) -> int:
    """An account with a password, in the default team or the named one."""
    now = datetime.now(UTC)
    async with db_sessionmaker() as db, db.begin():
        if team is None:
            default = await default_team_id(db)
            team_ids = [default] if default is not None else []
        else:
            team_ids = [(await find_or_create_team(db, team, now=now)).id]
        account = await create_account(db, email=email, name=name, role=role,
                                       team_ids=team_ids, now=now)
        account.password_hash = password_hash_of(password)
        return account.id


@cache
def password_hash_of(password: str) -> str:
    """The argon2id hash of a test password, made once per process: signing in still
    verifies it for real, the hash is only not recomputed for every test's account."""
    return hash_password(password)


async def _signed_in(settings: Settings, db_sessionmaker: async_sessionmaker[AsyncSession], *,
                     email: str, name: str, role: str, team: str | None = None,
                     ) -> AsyncIterator[SignedInClient]:
    account_id = await make_account(db_sessionmaker, email=email, name=name, role=role, team=team)
    # An app lent to this client alone (`tests.apps`): PostgreSQL connections (asyncpg) must
    # never pass from one event loop to another.
    with lent_app(settings) as app:
        async with AsyncTestClient(app=app, base_url=TEST_BASE_URL) as client:
            answer = await sign_in(client, email)
            assert (answer.status_code, answer.headers.get("location")) == (303, "/organiser/")
            home = await client.get("/organiser/")
            assert home.status_code == 200
            yield SignedInClient(client=client, csrf=csrf_in(home.text), account_id=account_id,
                                 email=email, password=PASSWORD)


@pytest.fixture
async def admin_client(settings: Settings, db_sessionmaker: async_sessionmaker[AsyncSession]
                       ) -> AsyncIterator[SignedInClient]:
    async for client in _signed_in(settings, db_sessionmaker, email="ada@procura.example.org",
                                   name="Ada Admin", role="admin"):
        yield client


@pytest.fixture
async def organiser_client(settings: Settings, db_sessionmaker: async_sessionmaker[AsyncSession]
                           ) -> AsyncIterator[SignedInClient]:
    async for client in _signed_in(settings, db_sessionmaker, email="olga@procura.example.org",
                                   name="Olga Organiser", role="organiser"):
        yield client


@pytest.fixture
async def viewer_client(settings: Settings, db_sessionmaker: async_sessionmaker[AsyncSession]
                        ) -> AsyncIterator[SignedInClient]:
    async for client in _signed_in(settings, db_sessionmaker, email="vic@procura.example.org",
                                   name="Vic Viewer", role="viewer"):
        yield client


@pytest.fixture
async def other_team_client(settings: Settings, db_sessionmaker: async_sessionmaker[AsyncSession]
                            ) -> AsyncIterator[SignedInClient]:
    async for client in _signed_in(settings, db_sessionmaker, email="otto@procura.example.org",
                                   name="Otto Other", role="organiser", team=OTHER_TEAM):
        yield client

"""Signing in to the back office: sessions in the database, timeouts, throttling, CSRF, roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import AccountSession, LoginFailure
from service.settings import Settings
from service.web.app import create_app
from service.web.backoffice.guards import SESSION_COOKIE
from tests.conftest import TEST_BASE_URL
from tests.factories import make_event
from tests.integration.backoffice import (
    PASSWORD,
    SignedInClient,
    csrf_in,
    make_account,
    sign_in,
)

# How pages and forms read: the database makes no difference (SQLite only).
pytestmark = pytest.mark.one_database

T0 = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


async def _sessions(db: AsyncSession) -> list[AccountSession]:
    db.expire_all()
    return list(await db.scalars(select(AccountSession).order_by(AccountSession.created_at)))


async def test_sign_in_with_the_right_password_opens_the_dashboard(
    client: AsyncTestClient[Litestar], db_sessionmaker: async_sessionmaker[AsyncSession],
    db: AsyncSession, settings: Settings,
) -> None:
    await make_account(db_sessionmaker, email="Ana@Example.org", name="Ana Pérez", role="organiser")
    await make_event(db, settings, title="Fair ICT procurement webinars")
    await db.commit()

    answer = await sign_in(client, " ana@example.ORG ")
    home = await client.get("/organiser/")

    assert (answer.status_code, answer.headers["location"]) == (303, "/organiser/")
    assert home.status_code == 200
    assert "Fair ICT procurement webinars" in home.text
    assert "Ana Pérez" in home.text


async def test_a_wrong_password_is_refused_and_keeps_the_address_typed(
    client: AsyncTestClient[Litestar], db_sessionmaker: async_sessionmaker[AsyncSession],
    db: AsyncSession,
) -> None:
    await make_account(db_sessionmaker, email="ana@example.org", name="Ana Pérez", role="organiser")

    answer = await sign_in(client, "ana@example.org", "not-the-password-at-all")
    home = await client.get("/organiser/", follow_redirects=False)

    assert answer.status_code == 400
    assert "The email address or the password is not right." in answer.text
    assert 'value="ana@example.org"' in answer.text
    assert SESSION_COOKIE not in answer.cookies
    assert (home.status_code, home.headers["location"]) == (303, "/organiser/login?next=/organiser")
    assert [(f.email, f.client_address) for f in await db.scalars(select(LoginFailure))] == [
        ("ana@example.org", "testclient")]  # the test client's address


async def test_signing_in_gives_a_new_session_id_and_ends_the_old_one(
    client: AsyncTestClient[Litestar], db_sessionmaker: async_sessionmaker[AsyncSession],
    db: AsyncSession,
) -> None:
    await make_account(db_sessionmaker, email="ana@example.org", name="Ana Pérez", role="organiser")
    await sign_in(client, "ana@example.org")
    first_cookie = client.cookies[SESSION_COOKIE]

    page = await client.get("/organiser/login")  # signed in: sent on to the dashboard
    await client.post("/organiser/login", follow_redirects=False, data={
        "_csrf": csrf_in((await client.get("/organiser/")).text), "email": "ana@example.org",
        "password": PASSWORD})
    second_cookie = client.cookies[SESSION_COOKIE]

    assert page.status_code == 200 and "Upcoming events" in page.text
    assert second_cookie != first_cookie
    sessions = await _sessions(db)
    assert [s.ended_at is not None for s in sessions] == [True, False]


async def test_a_session_survives_a_restart_of_the_app(
    client: AsyncTestClient[Litestar], db_sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    await make_account(db_sessionmaker, email="ana@example.org", name="Ana Pérez", role="organiser")
    await sign_in(client, "ana@example.org")
    cookie = client.cookies[SESSION_COOKIE]

    restarted = create_app(settings)
    async with AsyncTestClient(app=restarted, base_url=TEST_BASE_URL) as again:
        again.cookies.set(SESSION_COOKIE, cookie, domain="events.test", path="/organiser")
        home = await again.get("/organiser/", follow_redirects=False)

    assert home.status_code == 200
    assert "Ana Pérez" in home.text


async def test_signing_out_ends_the_session_on_the_server(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    cookie = organiser_client.cookies[SESSION_COOKIE]

    answer = await organiser_client.post_form("/organiser/logout")
    async with AsyncTestClient(app=create_app(settings), base_url=TEST_BASE_URL) as replay:
        replay.cookies.set(SESSION_COOKIE, cookie, domain="events.test", path="/organiser")
        home = await replay.get("/organiser/", follow_redirects=False)

    assert (answer.status_code, answer.headers["location"]) == (303, "/organiser/login?signed_out=1")
    assert (home.status_code, home.headers["location"]) == (303, "/organiser/login?next=/organiser")
    assert [s.ended_at is not None for s in await _sessions(db)] == [True]


async def test_a_session_ends_after_the_idle_timeout(
    client: AsyncTestClient[Litestar], db_sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    await make_account(db_sessionmaker, email="ana@example.org", name="Ana Pérez", role="organiser")
    idle = timedelta(minutes=settings.session_idle_minutes)
    with time_machine.travel(T0, tick=False) as traveller:
        await sign_in(client, "ana@example.org")
        traveller.move_to(T0 + idle - timedelta(minutes=1))
        still = await client.get("/organiser/", follow_redirects=False)
        traveller.move_to(T0 + 2 * idle - timedelta(minutes=1))  # idle since the last request
        kept_alive = await client.get("/organiser/", follow_redirects=False)
        traveller.move_to(T0 + 3 * idle)
        timed_out = await client.get("/organiser/", follow_redirects=False)

    assert [still.status_code, kept_alive.status_code, timed_out.status_code] == [200, 200, 303]


async def test_a_session_ends_after_the_absolute_timeout_however_busy(
    client: AsyncTestClient[Litestar], db_sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    await make_account(db_sessionmaker, email="ana@example.org", name="Ana Pérez", role="organiser")
    step = timedelta(minutes=settings.session_idle_minutes - 1)
    limit = T0 + timedelta(hours=settings.session_max_hours)
    statuses: list[int] = []
    with time_machine.travel(T0, tick=False) as traveller:
        await sign_in(client, "ana@example.org")
        moment = T0
        while moment + step < limit:
            moment += step
            traveller.move_to(moment)
            statuses.append((await client.get("/organiser/", follow_redirects=False)).status_code)
        traveller.move_to(limit + timedelta(seconds=1))
        after = await client.get("/organiser/", follow_redirects=False)

    assert set(statuses) == {200}
    assert (after.status_code, after.headers["location"]) == (303, "/organiser/login?next=/organiser")


async def test_ten_failures_for_an_account_lock_it_for_fifteen_minutes(
    client: AsyncTestClient[Litestar], db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_account(db_sessionmaker, email="ana@example.org", name="Ana Pérez", role="organiser")
    with time_machine.travel(T0, tick=False) as traveller:
        failures = []
        for minute in range(10):
            traveller.move_to(T0 + timedelta(minutes=minute))
            failures.append((await sign_in(client, "ana@example.org", "wrong guess")).status_code)
        traveller.move_to(T0 + timedelta(minutes=10))
        locked = await sign_in(client, "ana@example.org")  # even the right password
        traveller.move_to(T0 + timedelta(minutes=9 + 15, seconds=-1))
        still_locked = await sign_in(client, "ana@example.org")
        traveller.move_to(T0 + timedelta(minutes=9 + 15))
        open_again = await sign_in(client, "ana@example.org")

    assert failures == [400] * 10
    assert locked.status_code == 429
    assert "Too many failed sign-ins. Try again in 14 minutes." in locked.text
    assert locked.headers["retry-after"] == str(14 * 60 + 1)
    assert still_locked.status_code == 429
    assert (open_again.status_code, open_again.headers["location"]) == (303, "/organiser/")


async def test_ten_failures_from_one_address_lock_out_other_accounts_too(
    client: AsyncTestClient[Litestar], db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_account(db_sessionmaker, email="ana@example.org", name="Ana Pérez", role="organiser")
    with time_machine.travel(T0, tick=False):
        failures = [(await sign_in(client, f"guess{n}@example.org", "wrong guess")).status_code
                    for n in range(10)]
        locked = await sign_in(client, "ana@example.org")

    assert failures == [400] * 10
    assert locked.status_code == 429


async def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(
    client: AsyncTestClient[Litestar], db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_account(db_sessionmaker, email="ana@example.org", name="Ana Pérez", role="organiser")
    with time_machine.travel(T0, tick=False) as traveller:
        for n in range(10):
            traveller.move_to(T0 + timedelta(minutes=2 * n))
            await sign_in(client, "ana@example.org", "wrong guess")
        traveller.move_to(T0 + timedelta(minutes=19))
        answer = await sign_in(client, "ana@example.org")

    assert (answer.status_code, answer.headers["location"]) == (303, "/organiser/")


async def test_a_form_without_its_token_is_refused_and_changes_nothing(
    organiser_client: SignedInClient, db: AsyncSession,
) -> None:
    without = await organiser_client.post("/organiser/logout", follow_redirects=False)
    forged = await organiser_client.post("/organiser/logout", data={"_csrf": "0" * 64},
                                         follow_redirects=False)

    assert without.status_code == 403
    assert "This form has expired" in without.text
    assert forged.status_code == 403
    assert [s.ended_at for s in await _sessions(db)] == [None]


async def test_the_sign_in_form_needs_its_token_too(
    client: AsyncTestClient[Litestar], db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_account(db_sessionmaker, email="ana@example.org", name="Ana Pérez", role="organiser")

    answer = await client.post("/organiser/login", follow_redirects=False,
                               data={"email": "ana@example.org", "password": PASSWORD})

    assert answer.status_code == 403
    assert SESSION_COOKIE not in answer.cookies


async def test_the_session_cookie_is_http_only_and_same_site_lax(
    client: AsyncTestClient[Litestar], db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_account(db_sessionmaker, email="ana@example.org", name="Ana Pérez", role="organiser")

    answer = await sign_in(client, "ana@example.org")

    cookie = answer.headers["set-cookie"].lower()
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/organiser" in cookie
    assert "secure" not in cookie  # served over plain http in this test


async def test_the_session_cookie_is_secure_when_the_site_is_served_over_https(
    settings: Settings, db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    from dataclasses import replace

    await make_account(db_sessionmaker, email="ana@example.org", name="Ana Pérez", role="organiser")
    app = create_app(replace(settings, public_base_url="https://events.example.org"))
    async with AsyncTestClient(app=app, base_url="https://events.test") as client:
        answer = await sign_in(client, "ana@example.org")

    cookies = [value.lower() for key, value in answer.headers.multi_items() if key == "set-cookie"]
    assert len(cookies) == 1
    assert "; secure" in cookies[0] and "httponly" in cookies[0]


async def test_a_viewer_may_read_but_not_change(viewer_client: SignedInClient) -> None:
    home = await viewer_client.get("/organiser/")

    assert home.status_code == 200
    assert "Vic Viewer" in home.text


async def test_an_organiser_sees_only_the_events_of_their_teams(
    organiser_client: SignedInClient, other_team_client: SignedInClient,
    admin_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    await make_event(db, settings, title="Programme team webinars")
    await db.commit()

    mine = await organiser_client.get("/organiser/")
    theirs = await other_team_client.get("/organiser/")
    everything = await admin_client.get("/organiser/")

    assert "Programme team webinars" in mine.text
    assert "Programme team webinars" not in theirs.text
    assert "No upcoming events for your teams." in theirs.text
    assert "Programme team webinars" in everything.text

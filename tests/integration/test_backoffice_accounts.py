"""Accounts in the back office: invitations and resets by emailed single-use links, through
the outbox; disabling an account; roles and teams; only administrators manage them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import Account, AccountRole, OutboxEmail, OutboxStatus
from service.domain.accounts import (
    account_team_ids,
    default_team_id,
    find_or_create_team,
    list_audit_entries,
)
from service.settings import Settings
from service.web.app import create_app
from tests.conftest import TEST_BASE_URL
from tests.integration.backoffice import (
    OTHER_TEAM,
    PASSWORD,
    SignedInClient,
    csrf_in,
    make_account,
    sign_in,
)
from tests.integration.mail_readers import outbox_messages, subject_of, text_of

# How pages and forms read: the database makes no difference (SQLite only).
pytestmark = pytest.mark.one_database

NEW_PASSWORD = "copper-meadow-violin-77"
_LINK = re.compile(r"http://events\.test(/organiser/(?:invitations|password-reset)/[\w-]+)")


async def _link_in_last_email(db_sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    _row, message = (await outbox_messages(db_sessionmaker))[-1]
    found = _LINK.search(text_of(message))
    assert found is not None, text_of(message)
    return found.group(1)


async def _choose_password(client: AsyncTestClient[Litestar], path: str, password: str,
                           again: str | None = None) -> tuple[int, str]:
    page = await client.get(path)
    if page.status_code == 404:  # no form on the page: the token of another one
        page = await client.get("/organiser/login")
    answer = await client.post(path, follow_redirects=False, data={
        "_csrf": csrf_in(page.text), "password": password,
        "password_again": password if again is None else again})
    return answer.status_code, answer.headers.get("location", answer.text)


async def test_an_admin_invites_an_organiser_who_chooses_a_password_and_signs_in(
    admin_client: SignedInClient, client: AsyncTestClient[Litestar],
    db_sessionmaker: async_sessionmaker[AsyncSession], db: AsyncSession,
) -> None:
    team = await default_team_id(db)
    await db.rollback()  # SQLite's one connection is needed by the outbox reader

    invited = await admin_client.post_form("/organiser/accounts/", {
        "name": "Carla Canal", "email": "Carla.Canal@Barcelona.example.org",
        "role": "organiser", "teams": [str(team)]})
    listing = await admin_client.get("/organiser/accounts/?done=invited")
    path = await _link_in_last_email(db_sessionmaker)
    page = await client.get(path)
    chosen = await _choose_password(client, path, NEW_PASSWORD)
    signed = await sign_in(client, "carla.canal@barcelona.example.org", NEW_PASSWORD)
    again = await client.get(path)

    assert (invited.status_code, invited.headers["location"]) == (
        303, "/organiser/accounts?done=invited")
    assert "Invitation sent: the link works for 72 hours." in listing.text
    assert "Invited, no password yet" in listing.text
    row, message = (await outbox_messages(db_sessionmaker))[-1]
    assert (row.template, row.to_address, row.status, subject_of(message)) == (
        "account_invitation_to_organiser", "carla.canal@barcelona.example.org",
        OutboxStatus.QUEUED, "You are invited to the Procura+ Events back office")
    assert "Ada Admin has made you an account" in " ".join(text_of(message).split())
    assert page.status_code == 200 and "Welcome to the back office" in page.text
    assert chosen == (303, "/organiser/login?password_set=1")
    assert (signed.status_code, signed.headers["location"]) == (303, "/organiser/")
    assert again.status_code == 404 and "This link no longer works" in again.text
    account = await db.scalar(select(Account).where(Account.email.like("carla%")))
    assert account is not None
    assert (account.role, await account_team_ids(db, account.id)) == (
        AccountRole.ORGANISER, frozenset({team}))


async def test_an_invitation_expires_after_72_hours(
    admin_client: SignedInClient, client: AsyncTestClient[Litestar],
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as traveller:
        await admin_client.post_form("/organiser/accounts/", {
            "name": "Carla Canal", "email": "carla@example.org", "role": "viewer"})
        path = await _link_in_last_email(db_sessionmaker)
        traveller.move_to(start + timedelta(hours=72, seconds=-1))
        still = await client.get(path)
        traveller.move_to(start + timedelta(hours=72))
        expired = await client.get(path)
        refused = await _choose_password(client, path, NEW_PASSWORD)

    assert still.status_code == 200
    assert expired.status_code == 404 and "This link no longer works" in expired.text
    assert refused[0] == 404


async def test_an_invitation_with_mistakes_lists_them_all_and_stores_nothing(
    admin_client: SignedInClient, db: AsyncSession,
) -> None:
    accounts_before = await db.scalar(select(func.count(Account.id)))

    answer = await admin_client.post_form("/organiser/accounts/", {
        "name": "", "email": "not-an-address", "role": "superuser", "teams": ["999"]})

    assert answer.status_code == 400
    assert 'href="#name"' in answer.text and "Enter the person&#39;s name." in answer.text
    assert "Enter an email address like name@example.org." in answer.text
    assert "Choose admin, organiser or viewer." in answer.text
    assert 'value="not-an-address"' in answer.text
    assert await db.scalar(select(func.count(Account.id))) == accounts_before
    assert await db.scalar(select(func.count(OutboxEmail.id))) == 0


async def test_a_weak_or_mistyped_password_is_refused_beside_its_field(
    admin_client: SignedInClient, client: AsyncTestClient[Litestar],
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await admin_client.post_form("/organiser/accounts/", {
        "name": "Carla Canal", "email": "carla.canal@example.org", "role": "organiser"})
    path = await _link_in_last_email(db_sessionmaker)

    short = await _choose_password(client, path, "short")
    named = await _choose_password(client, path, "carla.canal is the best!")
    mistyped = await _choose_password(client, path, NEW_PASSWORD, "something else entirely")
    fine = await _choose_password(client, path, NEW_PASSWORD)

    assert short[0] == 400 and "Use at least 12 characters." in short[1]
    assert named[0] == 400 and "Do not use your email address in your password." in named[1]
    assert "Do not use your name in your password." in named[1]
    assert mistyped[0] == 400 and "The two passwords differ." in mistyped[1]
    assert fine == (303, "/organiser/login?password_set=1")


async def test_a_password_reset_is_emailed_only_to_an_existing_account_with_the_same_answer(
    organiser_client: SignedInClient, client: AsyncTestClient[Litestar],
    db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
) -> None:
    async def ask(email: str) -> str:
        page = await client.get("/organiser/password-reset")
        answer = await client.post("/organiser/password-reset", data={
            "_csrf": csrf_in(page.text), "email": email})
        assert answer.status_code == 200
        return answer.text.replace(email, "ADDRESS")

    unknown = await ask("nobody@example.org")
    emails_after_unknown = len(await outbox_messages(db_sessionmaker))
    known = await ask(organiser_client.email)
    path = await _link_in_last_email(db_sessionmaker)
    chosen = await _choose_password(client, path, NEW_PASSWORD)
    old_session = await organiser_client.get("/organiser/", follow_redirects=False)
    old_password = await sign_in(client, organiser_client.email, PASSWORD)
    new_password = await sign_in(client, organiser_client.email, NEW_PASSWORD)

    assert unknown == known
    assert emails_after_unknown == 0
    row, message = (await outbox_messages(db_sessionmaker))[-1]
    assert (row.template, row.to_address, subject_of(message)) == (
        "password_reset_to_organiser", organiser_client.email,
        "Choose a new password for the Procura+ Events back office")
    assert chosen == (303, "/organiser/login?password_set=1")
    assert old_session.status_code == 303  # choosing a password signs out everywhere
    assert old_password.status_code == 400
    assert (new_password.status_code, new_password.headers["location"]) == (303, "/organiser/")


async def test_reset_emails_are_capped_per_account_and_hour(
    organiser_client: SignedInClient, client: AsyncTestClient[Litestar],
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    page = await client.get("/organiser/password-reset")
    for _ in range(5):
        await client.post("/organiser/password-reset", data={
            "_csrf": csrf_in(page.text), "email": organiser_client.email})

    assert [row.template for row, _ in await outbox_messages(db_sessionmaker)] == [
        "password_reset_to_organiser"] * 3


async def test_what_is_not_an_address_is_refused_beside_the_field_and_nothing_is_sent(
    client: AsyncTestClient[Litestar], db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Only what is not an address at all: any address gets the same answer."""
    page = await client.get("/organiser/password-reset")
    answers = [await client.post("/organiser/password-reset", data={
        "_csrf": csrf_in(page.text), "email": email})
        for email in ("anna.keller@", "x" * 400, "a b@example.org")]

    assert [answer.status_code for answer in answers] == [400, 400, 400]
    assert all('id="email-error"' in answer.text for answer in answers)
    assert "Give a whole email address, e.g. name@example.org." in answers[0].text
    assert await outbox_messages(db_sessionmaker) == []


async def test_disabling_an_account_signs_it_out_and_keeps_it_out(
    admin_client: SignedInClient, organiser_client: SignedInClient,
    client: AsyncTestClient[Litestar],
) -> None:
    disabled = await admin_client.post_form(
        f"/organiser/accounts/{organiser_client.account_id}/disable")
    kicked_out = await organiser_client.get("/organiser/", follow_redirects=False)
    refused = await sign_in(client, organiser_client.email)
    own = await admin_client.post_form(f"/organiser/accounts/{admin_client.account_id}/disable")
    enabled = await admin_client.post_form(
        f"/organiser/accounts/{organiser_client.account_id}/enable")
    back = await sign_in(client, organiser_client.email)

    assert (disabled.status_code, disabled.headers["location"]) == (
        303, f"/organiser/accounts/{organiser_client.account_id}?done=disabled")
    assert kicked_out.status_code == 303
    assert refused.status_code == 400
    assert own.status_code == 400 and "You cannot disable your own account." in own.text
    assert enabled.status_code == 303
    assert back.status_code == 303


async def test_an_admin_changes_a_role_and_teams(
    admin_client: SignedInClient, organiser_client: SignedInClient, db: AsyncSession,
) -> None:
    other = (await find_or_create_team(db, OTHER_TEAM, now=datetime.now(UTC))).id
    await db.commit()
    url = f"/organiser/accounts/{organiser_client.account_id}"

    changed = await admin_client.post_form(url, {"role": "viewer", "teams": [str(other)]})
    page = await admin_client.get(f"{url}?done=changed")
    refused = await organiser_client.post_form(url, {"role": "admin"})
    own_role = await admin_client.post_form(f"/organiser/accounts/{admin_client.account_id}",
                                            {"role": "viewer"})

    assert (changed.status_code, changed.headers["location"]) == (303, f"{url}?done=changed")
    assert "Changes saved." in page.text
    account = await db.get(Account, organiser_client.account_id)
    assert account is not None
    await db.refresh(account)
    assert (account.role, await account_team_ids(db, account.id)) == (
        AccountRole.VIEWER, frozenset({other}))
    assert refused.status_code == 403
    assert own_role.status_code == 400
    assert "You cannot change your own role; ask another administrator." in own_role.text
    entries = (await list_audit_entries(db, account_id=admin_client.account_id)).entries
    assert [(e.subject_type, e.subject_id, e.before, e.after) for e in entries
            if e.subject_type == "account"] == [
        ("account", organiser_client.account_id, {"role": "organiser"}, {"role": "viewer"})]


async def test_only_administrators_see_the_accounts(
    organiser_client: SignedInClient, viewer_client: SignedInClient,
    admin_client: SignedInClient,
) -> None:
    pages = [await c.get("/organiser/accounts/") for c in
             (organiser_client, viewer_client, admin_client)]

    assert [p.status_code for p in pages] == [403, 403, 200]
    assert "Only administrators can do this." in pages[0].text
    assert [name in pages[2].text for name in ("Olga Organiser", "Vic Viewer", "Ada Admin")] == [
        True, True, True]
    assert '<a href="/organiser/accounts"' not in pages[0].text


async def test_a_signed_in_page_survives_without_a_team(
    db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
) -> None:
    await make_account(db_sessionmaker, email="lone@example.org", name="Lone Ranger",
                       role="organiser", team=OTHER_TEAM)
    async with AsyncTestClient(app=create_app(settings), base_url=TEST_BASE_URL) as client:
        await sign_in(client, "lone@example.org")
        home = await client.get("/organiser/")

    assert "No upcoming events for your teams." in home.text

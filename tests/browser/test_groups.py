"""Interest Groups' pages in a real browser, checked by axe-core: the list, a group's page,
its "express interest" form refused (the error summary takes the focus) and sent, and the
private page of the member approved afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.engine import create_engine, make_sessionmaker
from service.db.models import GroupMember
from service.domain import groups
from service.operations.demo_groups import load_demo_groups
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import CLOCK, DESKTOP, LiveServer
from tests.databases import run_off_loop

pytestmark = pytest.mark.browser


def _in_db(live_server: LiveServer, work: Callable[[AsyncSession], Awaitable[str]]) -> str:
    """Run `work(db)` against the live server's database, committed; its answer."""
    found: list[str] = []

    async def run() -> None:
        engine = create_engine(live_server.settings.database_url)
        async with make_sessionmaker(engine)() as db:
            found.append(await work(db))
            await db.commit()
        await engine.dispose()

    run_off_loop(lambda: asyncio.run(run()))
    return found[0]


def test_a_newcomer_expresses_interest_and_finds_their_meetings_once_approved(
    live_server: LiveServer, browser: Browser,
) -> None:
    async def load(db: AsyncSession) -> str:
        await load_demo_groups(db, now=CLOCK, settings=live_server.settings)
        return ""

    _in_db(live_server, load)
    context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Brussels")
    context.set_default_timeout(10_000)
    page = context.new_page()

    page.goto(f"{live_server.base_url}/groups")
    assert_no_axe_violations(page, context="Interest Groups")
    page.get_by_role("link", name="Socially Responsible Public Procurement of ICT").click()
    assert_no_axe_violations(page, context="a group's page")
    page.get_by_role("button", name="Send my interest").click()
    expect(page.locator("#error-summary")).to_be_focused()
    assert_no_axe_violations(page, context="the interest form with errors")
    page.get_by_label("Your name").fill("Nora Quist")
    page.get_by_label("Email address").fill("nora@aldermoor.example.org")
    page.get_by_label("Your organisation").fill("City of Aldermoor")
    page.get_by_role("button", name="Send my interest").click()
    expect(page.get_by_role("status")).to_contain_text("Thank you: we have your interest.")

    async def approve(db: AsyncSession) -> str:
        member = await db.scalar(select(GroupMember).where(
            GroupMember.email_normalised == "nora@aldermoor.example.org"))
        assert member is not None
        now = datetime.now(UTC)
        await groups.approve_member(db, member.id, now=now, settings=live_server.settings)
        links = await groups.member_links(db, member, now=now, settings=live_server.settings)
        return links.page_url

    page.goto(_in_db(live_server, approve))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Socially Responsible Public Procurement of ICT")
    expect(page.get_by_role("link", name="https://meet.example.org/procura-ig-ict").first) \
        .to_be_visible()
    assert_no_axe_violations(page, context="a member's private page")
    context.close()

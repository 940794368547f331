"""Interest Groups' pages over HTTP: the list, a public and a members-only
group page, the "express interest" form (stored and acknowledged; a bad form answered 422
with every field named and nothing stored), and a member's private page with its join link,
minutes and leaving.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    GroupMember,
    GroupMemberStatus,
    GroupVisibility,
    InterestGroup,
    MeetingSeries,
    OutboxEmail,
    SessionMode,
)
from service.domain import groups
from service.settings import Settings
from service.web.app import create_app
from tests.conftest import TEST_BASE_URL
from tests.factories import BUILT_AT, make_approved_member, make_group, make_organisation, make_person

# How pages and forms read: the database makes no difference (SQLite only).
pytestmark = pytest.mark.one_database

Client = AsyncTestClient[Litestar]
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
JOIN = "https://meet.example.org/circular-web-meeting"
MEETS_AT = datetime(2035, 3, 13, 9, 0, tzinfo=UTC)  # 10:00 in Brussels
# The pages list meetings from "now": read two months before the first one.
READ_AT = datetime(2035, 1, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _reading_time() -> Iterator[None]:
    with time_machine.travel(READ_AT, tick=False):
        yield


def _token(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None
    return found.group(1)


async def _group_with_meeting(db: AsyncSession, settings: Settings, *,
                              visibility: GroupVisibility = GroupVisibility.PUBLIC,
                              ) -> tuple[InterestGroup, GroupMember]:
    paula = await make_person(db, "Paula Land", "paula@iclei.example.org")
    group = await make_group(db, visibility=visibility, facilitator=paula)
    member = await make_approved_member(db, settings, group, "Ana Silva",
                                     await make_organisation(db, "Câmara Municipal de Lisboa"))
    db.add(MeetingSeries(group_id=group.id, uid="series-pages@events.test", title="Web meeting",
                         starts_at=MEETS_AT, duration_minutes=90, timezone="Europe/Brussels",
                         recurrence="FREQ=MONTHLY;INTERVAL=3", mode=SessionMode.ONLINE,
                         join_url=JOIN, agenda="", created_at=BUILT_AT, updated_at=BUILT_AT))
    await db.commit()
    return group, member


async def test_the_list_and_a_public_group_show_members_and_meetings_but_no_join_link(
    client: Client, db: AsyncSession, settings: Settings,
) -> None:
    group, _ = await _group_with_meeting(db, settings)

    listing = await client.get("/groups")
    page = await client.get(f"/groups/{group.slug}")

    assert (listing.status_code, page.status_code) == (200, 200)
    assert re.findall(r'<h2><a href="(/groups/[^"]+)">([^<]+)</a>', listing.text) == [
        ("/groups/circular-procurement", "Circular procurement")]
    assert "Facilitated by Paula Land" in listing.text
    assert ("Câmara Municipal de Lisboa" in page.text, "13 March 2035" in page.text,
            JOIN in page.text) == (True, True, False)


async def test_a_members_only_group_shows_its_topic_and_form_but_not_its_members(
    client: Client, db: AsyncSession, settings: Settings,
) -> None:
    group, _ = await _group_with_meeting(db, settings, visibility=GroupVisibility.MEMBERS)

    page = await client.get(f"/groups/{group.slug}")

    assert page.status_code == 200
    assert ("Circular procurement" in page.text, "Câmara Municipal de Lisboa" in page.text,
            "13 March 2035" in page.text, 'action="/groups/circular-procurement/interest"'
            in page.text) == (True, False, False, True)


async def test_expressing_interest_through_the_form_records_the_person_and_emails_them(
    client: Client, db: AsyncSession, settings: Settings,
) -> None:
    group, _ = await _group_with_meeting(db, settings)
    token = _token((await client.get(f"/groups/{group.slug}")).text)

    answer = await client.post(f"/groups/{group.slug}/interest", follow_redirects=False, data={
        "csrf_token": token, "name": "Bram <b>Jansen</b>", "email": "bram@haarlem.example.nl",
        "organisation_name": "Gemeente Haarlem", "message": "ICT & circularity"})
    thanks = await client.get(answer.headers["location"])

    assert (answer.status_code, answer.headers["location"]) == (
        303, "/groups/circular-procurement?done=interest#interest")
    assert "Thank you: we have your interest." in thanks.text
    rows = (await db.execute(select(GroupMember.name, GroupMember.status).where(
        GroupMember.email_normalised == "bram@haarlem.example.nl"))).all()
    assert [tuple(r) for r in rows] == [("Bram <b>Jansen</b>", GroupMemberStatus.INTERESTED)]
    templates = list(await db.scalars(select(OutboxEmail.template).where(
        OutboxEmail.to_address == "bram@haarlem.example.nl")))
    assert templates == ["group_interest_received_to_member"]


async def test_a_bad_interest_form_is_answered_422_naming_every_field_and_stores_nothing(
    client: Client, db: AsyncSession, settings: Settings,
) -> None:
    group, _ = await _group_with_meeting(db, settings)
    token = _token((await client.get(f"/groups/{group.slug}")).text)

    answer = await client.post(f"/groups/{group.slug}/interest", data={
        "csrf_token": token, "name": "", "email": "bram", "organisation_name": "<script>x"})

    assert answer.status_code == 422
    assert re.findall(r'<li><a href="#(\w+)">', answer.text) == ["name", "email"]
    assert 'value="&lt;script&gt;x"' in answer.text
    assert len(await groups.list_members(db, group.id)) == 1  # the member of the arrangement


async def test_the_member_page_shows_join_links_minutes_and_lets_them_leave(
    client: Client, db: AsyncSession, settings: Settings,
) -> None:
    _, member = await _group_with_meeting(db, settings)
    series = await db.scalar(select(MeetingSeries))
    assert series is not None
    await groups.publish_minutes(db, series.id, MEETS_AT, minutes="We agreed on <criteria>.",
                                 now=MEETS_AT + timedelta(days=1), settings=settings)
    links = await groups.member_links(db, member, now=BUILT_AT, settings=settings)
    await db.commit()
    path = links.page_url.removeprefix(settings.public_base_url)

    page = await client.get(path)
    declined = await client.post(f"{path}/decline", follow_redirects=False, data={
        "csrf_token": _token(page.text), "series_id": str(series.id),
        "recurrence_id": "2035-06-13T08:00:00Z"})
    after_decline = await client.get(path)
    bad = await client.post(f"{path}/decline", data={
        "csrf_token": _token(page.text), "series_id": str(series.id),
        "recurrence_id": "2035-06-14T08:00:00Z"})
    left = await client.post(f"{path}/leave", follow_redirects=False,
                             data={"csrf_token": _token(page.text)})
    after = await client.get(path)
    unknown = await client.get("/groups/me/" + "x" * 43)

    assert (page.status_code, declined.status_code, bad.status_code, left.status_code,
            unknown.status_code) == (200, 303, 404, 303, 404)
    assert re.findall(r"<h3>Web meeting(.*?)</h3>", after_decline.text)[:3] == [
        "", ' <span class="badge">You declined</span>', ""]
    assert (JOIN in page.text, "We agreed on &lt;criteria&gt;." in page.text,
            links.feed_url in page.text) == (True, True, True)
    assert ("You have left the group" in (await client.get(left.headers["location"])).text,
            JOIN in after.text, "Left the group" in after.text) == (True, False, True)


async def test_the_interest_form_is_rate_limited_per_client_like_registrations(
    db: AsyncSession, settings: Settings,
) -> None:
    """Each form sends emails: a client sends as many a minute as registrations, then 429."""
    group = await make_group(db)
    await db.commit()
    app = create_app(replace(settings, registration_rate_limit=1))
    async with AsyncTestClient(app=app, base_url=TEST_BASE_URL) as client:
        token = _token((await client.get(f"/groups/{group.slug}")).text)
        form = {"csrf_token": token, "name": "Bram Jansen", "organisation_name": "Haarlem"}
        first = await client.post(f"/groups/{group.slug}/interest", follow_redirects=False,
                                  data={**form, "email": "bram@haarlem.example.nl"})
        second = await client.post(f"/groups/{group.slug}/interest", follow_redirects=False,
                                   data={**form, "email": "else@haarlem.example.nl"})

    assert (first.status_code, second.status_code, "Retry-After" in second.headers) == (
        303, 429, True)
    assert "many requests to join Interest Groups" in second.text
    assert [m.member.email for m in await groups.list_members(db, group.id)] == [
        "bram@haarlem.example.nl"]

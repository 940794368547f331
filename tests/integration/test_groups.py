"""Interest Groups and their members (domain, both databases): groups refuse bad input with
every field named, expressing interest records the person once and tells them and the
facilitators, only Participants' and Strategic Partners' people are approved, a decline
says why, leaving stops the personal feed, and minutes reach every member once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    AccessPurpose,
    GroupMemberStatus,
    MeetingSeries,
    NetworkStanding,
    OutboxEmail,
    SessionMode,
)
from service.domain import access, groups
from service.domain.errors import ConflictError, InvalidInputError, NotFoundError
from service.settings import Settings
from tests.factories import (
    BUILT_AT,
    make_approved_member,
    make_group,
    make_organisation,
    make_person,
)

NOW = BUILT_AT + timedelta(days=1)


async def _emails(db: AsyncSession) -> list[tuple[str, str, str]]:
    rows = await db.scalars(select(OutboxEmail).order_by(OutboxEmail.id))
    return [(row.template, row.to_address, row.subject) for row in rows]


async def test_a_group_with_bad_input_is_refused_naming_every_field(db: AsyncSession) -> None:
    with pytest.raises(InvalidInputError) as refused:
        await groups.create_group(db, groups.GroupInput(
            slug="Not a slug", topic=" ", timezone="Europe/Atlantis", starts_on=date(2027, 1, 1),
            ends_on=date(2026, 1, 1)), now=NOW)

    assert sorted(e.field or "" for e in refused.value.errors) == [
        "ends_on", "slug", "timezone", "topic"]
    assert await groups.list_groups(db) == []


async def test_a_second_group_cannot_take_a_slug_in_use(db: AsyncSession) -> None:
    await make_group(db, "market-development", topic="Market and supplier development")

    with pytest.raises(ConflictError) as refused:
        await make_group(db, "market-development", topic="Another")

    assert refused.value.field == "slug"


async def test_interest_is_recorded_and_told_to_the_person_and_the_facilitators_once(
    db: AsyncSession, settings: Settings,
) -> None:
    paula = await make_person(db, "Paula Land", "paula@iclei.example.org")
    group = await make_group(db, facilitator=paula)
    form = groups.InterestForm(name="Ana Silva", email="Ana.Silva@Lisboa.example.pt",
                               organisation_name="Câmara Municipal de Lisboa",
                               message="We buy <laptops> for 40 schools.")

    first = await groups.express_interest(db, group, form, now=NOW, settings=settings)
    again = await groups.express_interest(db, group, form, now=NOW, settings=settings)

    assert again.id == first.id
    assert (first.status, first.email, first.organisation_id) == (
        GroupMemberStatus.INTERESTED, "Ana.Silva@lisboa.example.pt", None)
    assert await _emails(db) == [
        ("group_interest_received_to_member", "Ana.Silva@lisboa.example.pt",
         "We received your interest in the Interest Group Circular procurement"),
        ("group_interest_to_facilitator", "paula@iclei.example.org",
         "New interest in Circular procurement: Ana Silva"),
    ]


async def test_a_bad_interest_form_names_every_field_and_stores_nothing(
    db: AsyncSession, settings: Settings,
) -> None:
    group = await make_group(db)

    with pytest.raises(InvalidInputError) as refused:
        await groups.express_interest(db, group, groups.InterestForm(
            name="", email="not an address", organisation_name="Line\nbreak"), now=NOW,
            settings=settings)

    assert sorted(e.field or "" for e in refused.value.errors) == [
        "email", "name", "organisation_name"]
    assert await groups.list_members(db, group.id) == []


async def test_only_participants_and_strategic_partners_are_approved(
    db: AsyncSession, settings: Settings,
) -> None:
    group = await make_group(db)
    lisboa = await make_organisation(db, "Câmara Municipal de Lisboa")
    vendor = await make_organisation(db, "Info Service Ltd",
                                     standing=NetworkStanding.INFORMATION_SERVICE)
    ana = await groups.express_interest(db, group, groups.InterestForm(
        name="Ana Silva", email="ana@lisboa.example.pt",
        organisation_name="câmara municipal de lisboa"), now=NOW, settings=settings)
    ivo = await groups.express_interest(db, group, groups.InterestForm(
        name="Ivo Info", email="ivo@info.example.org", organisation_name="Info Service Ltd"),
        now=NOW, settings=settings)

    with pytest.raises(ConflictError) as refused:
        await groups.approve_member(db, ivo.id, now=NOW, settings=settings)
    approved = await groups.approve_member(db, ana.id, now=NOW, settings=settings,
                                           note="Welcome!")

    assert refused.value.field == "organisation_id"
    assert "Participants and Strategic Partners" in refused.value.message
    assert (ivo.status, approved.status, approved.organisation_id, vendor.id != lisboa.id) == (
        GroupMemberStatus.INTERESTED, GroupMemberStatus.MEMBER, lisboa.id, True)
    welcome = await db.scalar(select(OutboxEmail).where(
        OutboxEmail.template == "group_member_approved_to_member"))
    assert welcome is not None and welcome.raw_message is not None
    assert (welcome.to_address, welcome.group_member_id) == ("ana@lisboa.example.pt", ana.id)
    links = await groups.member_links(db, approved, now=NOW, settings=settings)
    token = links.page_url.rsplit("/", 1)[1]
    assert (await groups.find_member_by_token(db, token)).id == ana.id
    assert links.page_url.encode() in welcome.raw_message.replace(b"=\r\n", b"")


async def test_a_decline_says_why_when_the_organisation_is_not_in_the_network(
    db: AsyncSession, settings: Settings,
) -> None:
    group = await make_group(db)
    ivo = await groups.express_interest(db, group, groups.InterestForm(
        name="Ivo Info", email="ivo@info.example.org", organisation_name="Not Known GmbH"),
        now=NOW, settings=settings)

    await groups.decline_member(db, ivo.id, now=NOW, settings=settings, note="Try us in 2027.")

    declined = await db.scalar(select(OutboxEmail).where(
        OutboxEmail.template == "group_member_declined_to_member"))
    assert declined is not None and declined.raw_message is not None
    text = declined.raw_message.replace(b"=\r\n", b"").decode()
    assert ("open to Participants and Strategic Partners" in text, "Try us in 2027." in text,
            ivo.status) == (True, True, GroupMemberStatus.DECLINED)
    with pytest.raises(ConflictError):
        await groups.decline_member(db, ivo.id, now=NOW, settings=settings)


async def test_leaving_ends_membership_and_the_personal_feed_but_not_the_page(
    db: AsyncSession, settings: Settings,
) -> None:
    group = await make_group(db)
    member = await make_approved_member(db, settings, group, "Ana Silva",
                                     await make_organisation(db, "Lisboa"))
    links = await groups.member_links(db, member, now=NOW, settings=settings)
    page_token = links.page_url.rsplit("/", 1)[1]
    feed_token = links.feed_url.rsplit("/", 1)[1].removesuffix(".ics")

    await groups.leave_group(db, member, now=NOW, settings=settings)

    assert (member.status, member.left_at) == (GroupMemberStatus.LEFT, NOW)
    assert await access.find_access(db, AccessPurpose.GROUP_MEMBER_FEED, feed_token) is None
    assert (await groups.find_member_by_token(db, page_token)).id == member.id
    assert await groups.member_organisation_names(db, group.id) == []
    with pytest.raises(NotFoundError):
        await groups.find_member_by_token(db, feed_token)


async def test_minutes_reach_every_current_member_once_and_show_on_their_pages(
    db: AsyncSession, settings: Settings,
) -> None:
    group = await make_group(db)
    ana = await make_approved_member(db, settings, group, "Ana Silva",
                                  await make_organisation(db, "Lisboa"))
    bram = await make_approved_member(db, settings, group, "Bram Jansen",
                                   await make_organisation(db, "Haarlem"))
    await groups.leave_group(db, bram, now=NOW, settings=settings)
    met_at = datetime(2026, 10, 13, 8, 0, tzinfo=UTC)
    series = MeetingSeries(group_id=group.id, uid="series-test@events.test", title="Web meeting",
                           starts_at=met_at, duration_minutes=90, timezone="Europe/Brussels",
                           recurrence="FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU", mode=SessionMode.ONLINE,
                           agenda="", created_at=NOW, updated_at=NOW)
    db.add(series)
    await db.flush()
    document = groups.MinutesDocument(title="Criteria draft", url="https://docs.example.org/1")

    with pytest.raises(InvalidInputError):
        await groups.publish_minutes(db, series.id, met_at, minutes="Too early", now=NOW,
                                     settings=settings)
    later = met_at + timedelta(days=2)
    with pytest.raises(InvalidInputError) as not_a_meeting:
        await groups.publish_minutes(db, series.id, met_at + timedelta(hours=1), minutes="x",
                                     now=later, settings=settings)
    assert not_a_meeting.value.field == "recurrence_id"
    await groups.publish_minutes(db, series.id, met_at, minutes="We agreed on <criteria>.",
                                 documents=[document], now=later, settings=settings)
    await groups.publish_minutes(db, series.id, met_at, minutes="We agreed on criteria.",
                                 documents=[document], now=later, settings=settings)

    sent = [(t, to) for t, to, _ in await _emails(db)
            if t == "group_minutes_published_to_member"]
    assert sent == [("group_minutes_published_to_member", ana.email)]
    published = await groups.list_published_minutes(db, group.id)
    assert [(m.series_title, m.starts_at, m.minutes, m.documents) for m in published] == [
        ("Web meeting", met_at, "We agreed on criteria.", [document])]

"""The demo's Interest Groups (both databases): the three groups of the network's page with a
facilitator each, sample member organisations, series as the groups describe them with one
moved and one cancelled meeting and one with its own agenda, on /groups; loading twice adds
nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import GroupMember, MeetingSeries
from service.domain import groups
from service.domain.groups import invites, meetings
from service.domain.groups.translations import occurrence_agenda
from service.operations.demo_groups import load_demo_groups
from service.settings import Settings

LOADED_AT = datetime(2026, 9, 15, 8, 0, tzinfo=UTC)


async def test_the_demo_groups_have_facilitators_sample_members_and_series(
    db: AsyncSession, settings: Settings, client: AsyncTestClient[Litestar],
) -> None:
    added = await load_demo_groups(db, now=LOADED_AT, settings=settings)
    again = await load_demo_groups(db, now=LOADED_AT, settings=settings)
    await db.commit()

    assert (added, again) == (["socially-responsible-ict", "circular-procurement",
                               "market-and-supplier-development"], [])
    summaries = {s.group.slug: (s.facilitators, s.member_organisations)
                 for s in await groups.group_summaries(db)}
    assert summaries == {"socially-responsible-ict": (["Paula Land"], 3),
                         "circular-procurement": (["Lotte Verhaeghe"], 2),
                         "market-and-supplier-development": (["Mervyn Achterberg"], 3)}
    assert await db.scalar(select(func.count()).select_from(GroupMember).where(
        GroupMember.is_sample_data.is_(False))) == 0
    ict = await db.scalar(select(MeetingSeries).where(
        MeetingSeries.title == "ICT Interest Group web meeting"))
    assert ict is not None
    assert invites.describe_series(ict) == (
        "Every second Tuesday of every other month, 10:00 Brussels time, 12 times")
    found = meetings.occurrences(ict, (await invites.overrides_of(db, [ict.id]))[ict.id])
    assert [(o.starts_at, o.is_moved, o.is_cancelled) for o in found[:4]] == [
        (datetime(2026, 10, 13, 8, 0, tzinfo=UTC), False, False),
        (datetime(2026, 12, 9, 9, 0, tzinfo=UTC), True, False),
        (datetime(2027, 2, 9, 9, 0, tzinfo=UTC), False, True),
        (datetime(2027, 4, 13, 8, 0, tzinfo=UTC), False, False)]
    # The April meeting has an agenda of its own, in German and French too.
    assert [o.has_own_agenda for o in found[:5]] == [False, False, False, True, False]
    assert occurrence_agenda(ict, found[3], "en", "de").startswith("Zu Gast: ein Anbieter")
    assert occurrence_agenda(ict, found[3], "en", "nl").startswith("Guest: a supplier")
    page = await client.get("/groups")
    assert page.status_code == 200
    assert [topic in page.text for topic in (
        "Socially Responsible Public Procurement of ICT", "Circular procurement",
        "Market and Supplier Development")] == [True, True, True]

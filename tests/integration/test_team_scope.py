"""Team scope: an API token (or account) of one team reaches only that team's events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import Event
from service.domain.accounts import default_team_id, find_or_create_team
from service.domain.auth import create_api_token
from service.settings import Settings
from tests.conftest import TEST_BASE_URL
from tests.factories import make_event
from tests.integration.backoffice import OTHER_TEAM, SignedInClient

Client = AsyncTestClient[Litestar]


async def _team_token(db_sessionmaker: async_sessionmaker[AsyncSession], team: str | None,
                      role: str = "organiser") -> dict[str, str]:
    now = datetime.now(UTC)
    async with db_sessionmaker() as db, db.begin():
        team_id = (await default_team_id(db) if team is None
                   else (await find_or_create_team(db, team, now=now)).id)
        issued = await create_api_token(db, name=f"{team} token", role=role, now=now,
                                        team_id=team_id)
        return {"Authorization": f"Bearer {issued.secret}"}


@pytest.fixture
async def two_teams_events(db: AsyncSession, settings: Settings) -> tuple[int, int]:
    """An event of the default team (no team named) and one of the other team."""
    ours = await make_event(db, settings, slug="programme-webinars", title="Programme webinars")
    theirs = await make_event(db, settings, slug="regional-webinars", title="Regional webinars")
    theirs.team_id = (await find_or_create_team(db, OTHER_TEAM, now=datetime.now(UTC))).id
    await db.commit()
    return ours.id, theirs.id


async def test_a_team_token_lists_and_reaches_only_its_teams_events(
    client: Client, db_sessionmaker: async_sessionmaker[AsyncSession],
    two_teams_events: tuple[int, int], organiser_headers: dict[str, str],
) -> None:
    ours, theirs = two_teams_events
    headers = await _team_token(db_sessionmaker, OTHER_TEAM)

    listed = await client.get("/api/organiser/events", headers=headers)
    everything = await client.get("/api/organiser/events", headers=organiser_headers)
    own = await client.get(f"/api/organiser/events/{theirs}", headers=headers)
    other = await client.get(f"/api/organiser/events/{ours}", headers=headers)
    change = await client.patch(f"/api/organiser/events/{ours}", headers=headers,
                                json={"title": "Taken over"})
    registrations = await client.get(f"/api/organiser/events/{ours}/registrations",
                                     headers=headers)

    assert [e["title"] for e in listed.json()] == ["Regional webinars"]
    assert sorted(e["title"] for e in everything.json()) == ["Programme webinars",
                                                               "Regional webinars"]
    assert own.status_code == 200
    assert [other.status_code, change.status_code, registrations.status_code] == [404, 404, 404]
    assert other.json()["detail"] == "Not found."


async def test_the_default_teams_token_reaches_events_that_name_no_team(
    client: Client, db_sessionmaker: async_sessionmaker[AsyncSession],
    two_teams_events: tuple[int, int],
) -> None:
    ours, theirs = two_teams_events
    headers = await _team_token(db_sessionmaker, None)

    listed = await client.get("/api/organiser/events", headers=headers)
    other = await client.get(f"/api/organiser/events/{theirs}", headers=headers)

    assert [e["id"] for e in listed.json()] == [ours]
    assert other.status_code == 404


async def test_an_event_made_with_a_team_token_belongs_to_that_team(
    client: Client, db_sessionmaker: async_sessionmaker[AsyncSession], db: AsyncSession,
) -> None:
    headers = await _team_token(db_sessionmaker, OTHER_TEAM)

    created = await client.post("/api/organiser/events", headers=headers,
                                json={"kind": "seminar", "title": "Regional seminar"})

    team_id = await db.scalar(select(Event.team_id).where(Event.id == created.json()["id"]))
    other_team = await find_or_create_team(db, OTHER_TEAM, now=datetime.now(UTC))
    assert (created.status_code, team_id) == (201, other_team.id)


async def test_a_team_tokens_organiser_feed_holds_only_that_teams_events(
    client: Client, db_sessionmaker: async_sessionmaker[AsyncSession],
    two_teams_events: tuple[int, int], organiser_headers: dict[str, str],
) -> None:
    headers = await _team_token(db_sessionmaker, OTHER_TEAM)
    team_feed = (await client.get("/api/organiser/feed-token", headers=headers)).json()["feed_url"]
    all_feed = (await client.get("/api/organiser/feed-token",
                                 headers=organiser_headers)).json()["feed_url"]

    team_body = (await client.get(team_feed.removeprefix(TEST_BASE_URL))).text
    all_body = (await client.get(all_feed.removeprefix(TEST_BASE_URL))).text

    assert ("Regional webinars" in team_body, "Programme webinars" in team_body) == (True, False)
    assert ("Regional webinars" in all_body, "Programme webinars" in all_body) == (True, True)


async def test_back_office_pages_of_another_teams_event_are_refused(
    other_team_client: SignedInClient, organiser_client: SignedInClient,
    two_teams_events: tuple[int, int],
) -> None:
    ours, theirs = two_teams_events

    refused = await other_team_client.get(f"/organiser/events/{ours}/audit")
    allowed = await other_team_client.get(f"/organiser/events/{theirs}/audit")
    own = await organiser_client.get(f"/organiser/events/{ours}/audit")

    assert (refused.status_code, "This belongs to an event of another team." in refused.text) == (
        403, True)
    assert [allowed.status_code, own.status_code] == [200, 200]

"""Choosing the team of an event or an Interest Group in the back office.

An organiser in several teams picks the team when making or editing an event or a group;
an admin may pick any team; an organiser in one team is not asked. A team the account may
not use is refused beside the field, with every other error of the form at once, and
nothing is stored. Putting something in the default team stores no team (see Team).
Through real HTTP with signed-in clients, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from service.db.models import Event, InterestGroup
from service.domain.accounts import (
    DEFAULT_TEAM_NAME,
    default_team_id,
    find_or_create_team,
    set_account_teams,
)
from tests.integration.backoffice import OTHER_TEAM, SignedInClient
from tests.integration.mail_readers import Sessionmaker
from tests.integration.test_backoffice_events import NEW_EVENT, count_events, field_error
from tests.integration.test_backoffice_groups import GROUP_FORM

_OPTION = re.compile(r'<option value="(\d+)"( selected)?>([^<]*)</option>')


def team_select(html: str) -> list[tuple[str, bool]] | None:
    """The team field's choices (name, selected), or None if the page does not ask."""
    found = re.search(r'<select id="team_id" name="team_id"[^>]*>(.*?)</select>', html, re.S)
    if found is None:
        return None
    return [(name, bool(selected)) for _, selected, name in _OPTION.findall(found.group(1))]


async def teams(db_sessionmaker: Sessionmaker) -> tuple[int, int, int]:
    """The default team, the other team and a third one, by id."""
    now = datetime.now(UTC)
    async with db_sessionmaker() as db, db.begin():
        default = await default_team_id(db)
        assert default is not None
        other = (await find_or_create_team(db, OTHER_TEAM, now=now)).id
        third = (await find_or_create_team(db, "Third team", now=now)).id
    return default, other, third


async def join(db_sessionmaker: Sessionmaker, client: SignedInClient, *team_ids: int) -> None:
    async with db_sessionmaker() as db, db.begin():
        await set_account_teams(db, client.account_id, team_ids, now=datetime.now(UTC))


async def test_an_organiser_in_two_teams_makes_an_event_in_either(
    organiser_client: SignedInClient, db_sessionmaker: Sessionmaker,
) -> None:
    default, other, _third = await teams(db_sessionmaker)
    await join(db_sessionmaker, organiser_client, default, other)

    page = await organiser_client.get("/organiser/events/new")
    theirs = await organiser_client.post_form("/organiser/events", {
        **NEW_EVENT, "title": "Regional webinars", "team_id": str(other)})
    ours = await organiser_client.post_form("/organiser/events", {
        **NEW_EVENT, "title": "Programme webinars", "team_id": str(default)})

    # By name; the default team chosen beforehand (the organiser belongs to it).
    assert team_select(page.text) == [(DEFAULT_TEAM_NAME, True), (OTHER_TEAM, False)]
    assert [theirs.status_code, ours.status_code] == [303, 303]
    async with db_sessionmaker() as db:
        stored = {e.title: e.team_id for e in await db.scalars(select(Event))}
    assert stored == {"Regional webinars": other, "Programme webinars": None}


async def test_a_team_the_organiser_is_not_in_is_refused_with_the_other_errors(
    organiser_client: SignedInClient, db_sessionmaker: Sessionmaker,
) -> None:
    default, other, third = await teams(db_sessionmaker)
    await join(db_sessionmaker, organiser_client, default, other)

    refused = await organiser_client.post_form("/organiser/events", {
        **NEW_EVENT, "title": "", "team_id": str(third)})
    garbled = await organiser_client.post_form("/organiser/events", {
        **NEW_EVENT, "team_id": "9" * 40})

    assert refused.status_code == 422
    assert (field_error(refused.text, "title"), field_error(refused.text, "team_id")) == (
        "Give the event a title.", "Choose one of the teams in the list.")
    assert '<a href="#team_id">' in refused.text
    assert (garbled.status_code, field_error(garbled.text, "team_id")) == (
        422, "Choose one of the teams in the list.")
    assert await count_events(db_sessionmaker) == 0


async def test_an_organiser_of_one_team_is_not_asked_and_an_admin_may_choose_any(
    organiser_client: SignedInClient, admin_client: SignedInClient,
    db_sessionmaker: Sessionmaker,
) -> None:
    _default, _other, third = await teams(db_sessionmaker)

    organisers = await organiser_client.get("/organiser/events/new")
    admins = await admin_client.get("/organiser/events/new")
    made = await admin_client.post_form("/organiser/events", {**NEW_EVENT,
                                                               "team_id": str(third)})

    assert team_select(organisers.text) is None
    assert team_select(admins.text) == [
        (DEFAULT_TEAM_NAME, True), (OTHER_TEAM, False), ("Third team", False)]
    assert made.status_code == 303
    async with db_sessionmaker() as db:
        assert list(await db.scalars(select(Event.team_id))) == [third]


async def test_an_event_moves_to_another_of_the_organisers_teams_and_back(
    organiser_client: SignedInClient, db_sessionmaker: Sessionmaker,
) -> None:
    default, other, third = await teams(db_sessionmaker)
    await join(db_sessionmaker, organiser_client, default, other)
    made = await organiser_client.post_form("/organiser/events", NEW_EVENT)
    url = made.headers["location"].split("?")[0]
    editing = {**NEW_EVENT, "slug": "make-ict-fair"}

    moved = await organiser_client.post_form(url, {**editing, "team_id": str(other)})
    page = await organiser_client.get(url)
    refused = await organiser_client.post_form(url, {**editing, "title": "Taken",
                                                     "team_id": str(third)})
    async with db_sessionmaker() as db:
        after_refusal = (await db.execute(select(Event.title, Event.team_id))).one()
    back = await organiser_client.post_form(url, {**editing, "team_id": str(default)})

    assert [moved.status_code, page.status_code, refused.status_code, back.status_code] == [
        303, 200, 422, 303]
    assert (OTHER_TEAM, True) in (team_select(page.text) or [])
    assert tuple(after_refusal) == ("Make ICT Fair", other)
    async with db_sessionmaker() as db:
        assert list(await db.scalars(select(Event.team_id))) == [None]


async def test_an_interest_group_is_made_in_a_chosen_team_and_moved(
    organiser_client: SignedInClient, db_sessionmaker: Sessionmaker,
) -> None:
    default, other, third = await teams(db_sessionmaker)
    await join(db_sessionmaker, organiser_client, default, other)

    page = await organiser_client.get("/organiser/groups/new")
    refused = await organiser_client.post_form("/organiser/groups/new", {
        **GROUP_FORM, "topic": "", "team_id": str(third)})
    made = await organiser_client.post_form("/organiser/groups/new", {
        **GROUP_FORM, "team_id": str(other)})
    async with db_sessionmaker() as db:
        made_in = list(await db.scalars(select(InterestGroup.team_id)))
    url = made.headers["location"].split("?")[0]
    editor = await organiser_client.get(url)
    moved = await organiser_client.post_form(url, {**GROUP_FORM, "team_id": str(default)})

    assert team_select(page.text) is not None
    assert refused.status_code == 422
    assert (field_error(refused.text, "topic") is not None,
            field_error(refused.text, "team_id")) == (True, "Choose one of the teams in the list.")
    assert made_in == [other]
    assert (OTHER_TEAM, True) in (team_select(editor.text) or [])
    assert moved.status_code == 303
    async with db_sessionmaker() as db:
        assert list(await db.scalars(select(InterestGroup.team_id))) == [None]

"""The Interest Groups' public JSON API: what the groups' pages show, in the language of the
request, and nothing a page would not show (no join link, address or member's name; a
members-only group's organisations and meetings stay with its members)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import GroupVisibility
from service.domain import groups
from service.domain.groups.recurrence import RecurrenceRule
from service.domain.groups.translations import series_field, set_group_translations
from service.settings import Settings
from tests.conftest import TEST_BASE_URL
from tests.factories import (
    BUILT_AT,
    JOIN_URL,
    make_approved_member,
    make_group,
    make_organisation,
    make_person,
)

# How the API reads: the database makes no difference (SQLite only).
pytestmark = pytest.mark.one_database

READ_AT = datetime(2026, 9, 20, 8, 0, tzinfo=UTC)


async def _groups(db: AsyncSession, settings: Settings) -> None:
    paula = await make_person(db, "Paula Land", "paula@iclei.example.org")
    circular = await make_group(db, facilitator=paula)
    await make_approved_member(db, settings, circular, "Ana Silva",
                               await make_organisation(db, "Câmara Municipal de Lisboa"))
    series = await groups.create_series(
        db, circular, title="Web meeting", starts_at_local="2026-10-06T10:00",
        duration_minutes=60, rule=RecurrenceRule("monthly", weekday=1, ordinal=1, count=3),
        join_url=JOIN_URL, now=BUILT_AT, settings=settings)
    second = groups.occurrences(series, [])[1]
    await groups.move_occurrence(db, series, second.recurrence_id,
                                 starts_at_local="2026-11-04T10:00", now=BUILT_AT,
                                 settings=settings)
    await set_group_translations(db, circular.id, "de", {
        "topic": "Zirkuläre Beschaffung", series_field(series): "Webmeeting"}, now=BUILT_AT)
    await make_group(db, "market", topic="Market and supplier development",
                     visibility=GroupVisibility.MEMBERS, facilitator=paula)
    await db.commit()


async def test_the_groups_read_as_their_pages_in_the_language_asked_for(
    client: AsyncTestClient[Litestar], db: AsyncSession, settings: Settings,
) -> None:
    await _groups(db, settings)

    with time_machine.travel(READ_AT, tick=False):
        listed = await client.get("/api/groups", params={"lang": "de"})
        circular = await client.get("/api/groups/circular-procurement", params={"lang": "de"})
        english = await client.get("/api/groups/circular-procurement", params={"lang": "en"})
        members_only = await client.get("/api/groups/market")
        missing = await client.get("/api/groups/nowhere")

    assert listed.status_code == 200
    assert [(g["slug"], g["topic"], g["language"], g["visibility"], g["member_organisations"])
            for g in listed.json()] == [
        ("market", "Market and supplier development", "en", "members", None),
        ("circular-procurement", "Zirkuläre Beschaffung", "de", "public", 1)]
    body = circular.json()
    assert (body["topic"], body["language"], body["default_language"], body["summary"]) == (
        "Zirkuläre Beschaffung", "de", "en", "Authorities working on circular procurement.")
    assert (body["facilitators"], body["organisations"], body["calendar_url"]) == (
        ["Paula Land"], ["Câmara Municipal de Lisboa"],
        f"{TEST_BASE_URL}/groups/circular-procurement/calendar.ics")
    assert [(m["title"], m["starts_at"]["local"], m["starts_at"]["abbreviation"],
             m["moved_from"] and m["moved_from"]["local"], m["place"])
            for m in body["meetings"]] == [
        ("Webmeeting", "2026-10-06T10:00:00+02:00", "CEST", None, "Online"),
        ("Webmeeting", "2026-11-04T10:00:00+01:00", "CET", "2026-11-03T10:00:00+01:00",
         "Online"),
        ("Webmeeting", "2026-12-01T10:00:00+01:00", "CET", None, "Online")]
    assert [m["title"] for m in english.json()["meetings"]] == ["Web meeting"] * 3
    # Nothing a page would not show: no join link, no address, no member's name.
    for answer in (listed, circular, english, members_only):
        assert JOIN_URL not in answer.text and "@" not in answer.text
        assert "Ana Silva" not in answer.text
    hidden = members_only.json()
    assert (hidden["description"], hidden["organisations"], hidden["meetings"],
            hidden["calendar_url"], hidden["member_organisations"]) == ("", [], [], None, None)
    assert (missing.status_code, missing.json()["errors"][0]["field"]) == (404, "slug")

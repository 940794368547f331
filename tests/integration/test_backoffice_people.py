"""Back-office pages for people and organisations, an event's speakers, the calendars and
the dashboard's figures, through real HTTP with signed-in clients. SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.engine import session_scope
from service.db.models import Organisation, OutboxEmail, Person
from service.domain.notices.speakers import process_due_speaker_notices
from service.settings import Settings
from tests.factories import (
    SOCIAL_ICT,
    make_agenda_item,
    make_event,
    make_person,
    make_registration,
    make_session,
)
from tests.integration.backoffice import SignedInClient
from tests.integration.mail_readers import Sessionmaker, outbox_messages, text_of

# How pages and forms read: the database makes no difference (SQLite only).
pytestmark = pytest.mark.one_database

EDIT = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
AFTER_WINDOW = EDIT + timedelta(seconds=600)
_ERROR_SUMMARY = re.compile(r'<div class="error-summary".*?</div>', re.S)


def summary_links(html: str) -> list[str]:
    """The error summary's entries, as "#field: message"."""
    found = _ERROR_SUMMARY.search(html)
    assert found is not None, "no error summary"
    return [f"{href}: {unescape(text)}" for href, text in
            re.findall(r'<li><a href="([^"]+)">([^<]+)</a></li>', found.group(0))]


def copy_box(html: str, box_id: str) -> str:
    found = re.search(rf'id="{box_id}" class="copy-field" type="text" readonly value="([^"]+)"',
                      html)
    assert found is not None, f"no copy box {box_id}"
    return found.group(1)


async def _people(db: AsyncSession) -> list[tuple[str, str | None]]:
    db.expire_all()
    rows = await db.execute(select(Person.name, Person.email).order_by(Person.name))
    return [(name, email) for name, email in rows]


async def test_people_are_searched_added_and_edited_with_every_error_at_once(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    await make_person(db, "Carla Canal", "carla@bcn.example.org",
                      organisation="Barcelona City Council")
    organisation_id = await db.scalar(select(Organisation.id))
    await db.commit()

    refused = await organiser_client.post_form("/organiser/people/new", {
        "name": "", "email": "not an address", "job_title": "x" * 201,
        "organisation_id": "999"})
    added = await organiser_client.post_form("/organiser/people/new", {
        "name": "Rudie de Vries", "email": "rudie@haarlem.example.nl",
        "organisation_id": str(organisation_id)})
    person_url = added.headers["location"].split("?")[0]
    unknown_organisation = await organiser_client.post_form(person_url, {
        "name": "Rudie de Vries", "organisation_id": "999"})
    edited = await organiser_client.post_form(person_url, {
        "name": "Rudie de Vries", "email": "", "job_title": "Buyer", "organisation_id": ""})
    search = await organiser_client.get("/organiser/people", params={"q": "BARCELONA"})

    assert refused.status_code == 422
    assert summary_links(refused.text) == [
        "#name: Enter the person's name (one line, at most 200 characters).",
        "#email: Enter an email address like name@example.org, or leave it empty.",
        "#job_title: Enter a job title of one line, at most 200 characters, or leave it empty.",
    ]
    assert 'value="not an address"' in refused.text
    assert (added.status_code, re.fullmatch(r"/organiser/people/\d+\?done=created",
                                            added.headers["location"]) is not None) == (303, True)
    assert (unknown_organisation.status_code, summary_links(unknown_organisation.text)) == (
        422, ["#organisation_id: No organisation with id 999."])
    assert (edited.status_code, edited.headers["location"]) == (303, person_url + "?done=saved")
    assert await _people(db) == [("Carla Canal", "carla@bcn.example.org"),
                                 ("Rudie de Vries", None)]
    assert search.status_code == 200
    assert re.findall(r'<th scope="row"><a href="/organiser/people/\d+">([^<]+)</a>',
                      search.text) == ["Carla Canal"]


async def test_merging_people_shows_what_moves_and_acts_on_confirmation(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, SOCIAL_ICT)
    session = await make_session(db, settings, event, starts_at="2026-10-26T10:00",
                                 ends_at="2026-10-26T11:30")
    kept = await make_person(db, "Carla Canal", None)
    duplicate = await make_person(db, "C. Canal", "carla@bcn.example.org")
    await make_agenda_item(db, settings, session, "10:10", "10:40", "Market challenges",
                           [duplicate], now=EDIT)
    kept_id, duplicate_id = kept.id, duplicate.id
    await db.commit()

    candidates = await organiser_client.get(f"/organiser/people/{kept_id}/merge",
                                            params={"q": "canal"})
    preview = await organiser_client.get(f"/organiser/people/{kept_id}/merge",
                                         params={"duplicate_id": duplicate_id})
    nothing_chosen = await organiser_client.post_form(f"/organiser/people/{kept_id}/merge")
    merged = await organiser_client.post_form(f"/organiser/people/{kept_id}/merge",
                                              {"duplicate_id": str(duplicate_id)})

    assert re.findall(r'merge\?duplicate_id=(\d+)">([^<]+)<', candidates.text) == [
        (str(duplicate_id), "C. Canal (carla@bcn.example.org)")]
    assert preview.status_code == 200
    assert "<li>Agenda items: 1 (Market challenges)</li>" in preview.text
    assert "<li>Email address taken over: carla@bcn.example.org</li>" in preview.text
    assert (nothing_chosen.status_code, summary_links(nothing_chosen.text)) == (
        422, ["#duplicate_id: Choose the duplicate record to merge into this one."])
    assert (merged.status_code, merged.headers["location"]) == (
        303, f"/organiser/people/{kept_id}?done=merged")
    assert await _people(db) == [("Carla Canal", "carla@bcn.example.org")]


async def test_organisations_are_added_and_merged(
    organiser_client: SignedInClient, db: AsyncSession,
) -> None:
    refused = await organiser_client.post_form("/organiser/organisations/new", {
        "name": "", "kind": "castle", "country": "Belgium", "website": "ftp://x"})
    first = await organiser_client.post_form("/organiser/organisations/new", {
        "name": "Barcelona City Council", "kind": "public_authority"})
    twice = await organiser_client.post_form("/organiser/organisations/new", {
        "name": "Barcelona City Council", "kind": "public_authority"})
    second = await organiser_client.post_form("/organiser/organisations/new", {
        "name": "Ajuntament de Barcelona", "kind": "public_authority", "country": "es"})
    kept_url = first.headers["location"].split("?")[0]
    duplicate_id = second.headers["location"].split("?")[0].rsplit("/", 1)[1]
    merged = await organiser_client.post_form(kept_url + "/merge",
                                              {"duplicate_id": duplicate_id})
    listed = await organiser_client.get("/organiser/organisations")

    assert summary_links(refused.text) == [
        "#name: Enter the organisation's name (one line, at most 200 characters).",
        "#kind: Choose what kind of organisation it is.",
        "#country: Enter a two-letter country code such as BE, or leave it empty.",
        "#website: Enter an address starting with https:// or http://, or leave it empty.",
    ]
    assert (twice.status_code, summary_links(twice.text)) == (
        422, ["#name: An organisation called 'Barcelona City Council' exists already."])
    assert (merged.status_code, merged.headers["location"]) == (303, kept_url + "?done=merged")
    db.expire_all()
    rows = await db.execute(select(Organisation.name, Organisation.country))
    assert [(name, country) for name, country in rows] == [("Barcelona City Council", "ES")]
    assert re.findall(r'<th scope="row"><a href="/organiser/organisations/\d+">([^<]+)</a>',
                      listed.text) == ["Barcelona City Council"]


async def _speaking_event(db: AsyncSession, db_sessionmaker: Sessionmaker,
                          settings: Settings) -> tuple[int, int]:
    event = await make_event(db, settings, SOCIAL_ICT)
    session = await make_session(db, settings, event, starts_at="2026-10-26T10:00",
                                 ends_at="2026-10-26T11:30")
    carla = await make_person(db, "Carla Canal", "carla@bcn.example.org")
    await make_agenda_item(db, settings, session, "10:10", "10:40", "Market challenges", [carla],
                           now=EDIT)
    event_id, carla_id = event.id, carla.id
    await db.commit()
    async with session_scope(db_sessionmaker) as work:
        await process_due_speaker_notices(work, now=AFTER_WINDOW, settings=settings)
    return event_id, carla_id


async def test_speakers_page_shows_the_emailed_link_sends_it_again_and_replaces_it_on_confirmation(
    organiser_client: SignedInClient, client: AsyncTestClient[Litestar], db: AsyncSession,
    db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    event_id, carla_id = await _speaking_event(db, db_sessionmaker, settings)
    [(_, notice)] = await outbox_messages(db_sessionmaker)
    emailed = next(line.strip() for line in text_of(notice).splitlines() if "/speakers/" in line)
    base = f"/organiser/events/{event_id}/speakers"

    page = await organiser_client.get(base + "/")
    again = await organiser_client.get(base + "/")
    sent = await organiser_client.post_form(f"{base}/{carla_id}/send-link")
    confirm = await organiser_client.get(f"{base}/{carla_id}/new-link")
    still = await client.get(emailed.removeprefix("http://events.test"))
    replaced = await organiser_client.post_form(f"{base}/{carla_id}/new-link")
    after = await organiser_client.get(replaced.headers["location"])
    gone = await client.get(emailed.removeprefix("http://events.test"))

    assert copy_box(page.text, f"link-{carla_id}") == emailed
    assert copy_box(again.text, f"link-{carla_id}") == emailed
    assert "Notice sent: Thursday 1 October 2026 at 14:10 CEST (queued)" in page.text
    assert (sent.status_code, sent.headers["location"]) == (
        303, f"{base}?done=sent&person={carla_id}#speaker-{carla_id}")
    rows = await outbox_messages(db_sessionmaker)
    assert [row.template for row, _ in rows] == ["speaker_slot_to_speaker",
                                                 "speaker_links_to_speaker"]
    assert emailed in text_of(rows[1][1])
    assert confirm.status_code == 200
    assert "will stop working" in confirm.text
    assert still.status_code == 200
    assert (replaced.status_code, gone.status_code) == (303, 404)
    assert "Carla Canal has a new link; the old one no longer works." in after.text
    new = copy_box(after.text, f"link-{carla_id}")
    assert new != emailed
    assert (await client.get(new.removeprefix("http://events.test"))).status_code == 200


async def test_speakers_and_calendar_changes_are_refused_outside_the_role_and_the_team(
    viewer_client: SignedInClient, other_team_client: SignedInClient, db: AsyncSession,
    db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    event_id, carla_id = await _speaking_event(db, db_sessionmaker, settings)
    base = f"/organiser/events/{event_id}/speakers"

    viewer_page = await viewer_client.get(base + "/")
    viewer_send = await viewer_client.post_form(f"{base}/{carla_id}/send-link")
    other_page = await other_team_client.get(base + "/")
    other_send = await other_team_client.post_form(f"{base}/{carla_id}/send-link")
    no_token = await other_team_client.post(f"{base}/{carla_id}/send-link", data={})
    viewer_person = await viewer_client.post_form("/organiser/people/new", {"name": "X"})

    assert viewer_page.status_code == 200
    assert "Send the link again" not in viewer_page.text
    assert [viewer_send.status_code, other_page.status_code, other_send.status_code,
            no_token.status_code, viewer_person.status_code] == [403, 403, 403, 403, 403]
    assert await db.scalar(select(OutboxEmail.template).where(
        OutboxEmail.template == "speaker_links_to_speaker")) is None


async def test_calendars_page_gives_the_teams_private_feed_and_the_public_feeds(
    organiser_client: SignedInClient, other_team_client: SignedInClient,
    client: AsyncTestClient[Litestar], db: AsyncSession, settings: Settings,
) -> None:
    # Both events are the default team's (the organiser's), none the other team's.
    ours = await make_event(db, settings, title="Fair ICT procurement webinars")
    await make_event(db, settings, slug="regional-webinar", title="Regional webinar")

    before = await organiser_client.get("/organiser/calendars/")
    made = await organiser_client.post_form(
        re.findall(r'href="(/organiser/calendars/teams/\d+/new-link)"', before.text)[0])
    page = await organiser_client.get("/organiser/calendars/")
    other = await other_team_client.get("/organiser/calendars/")
    other_made = await other_team_client.post_form(
        re.findall(r'href="(/organiser/calendars/teams/\d+/new-link)"', other.text)[0])
    other_page = await other_team_client.get("/organiser/calendars/")
    team_feed = re.findall(r'class="copy-field" type="text" readonly value="([^"]+/feeds/'
                           r'organisers/[^"]+)"', page.text)
    other_feed = re.findall(r'class="copy-field" type="text" readonly value="([^"]+/feeds/'
                            r'organisers/[^"]+)"', other_page.text)

    assert "has no private feed link yet" in before.text
    assert made.status_code == 303
    assert copy_box(page.text, "feed-programme") == "http://events.test/feeds/programme.ics"
    assert copy_box(page.text, f"feed-event-{ours.id}") == (
        "http://events.test/feeds/events/fair-ict-webinars.ics")
    assert f"feed-event-{ours.id}" not in other.text
    assert (len(team_feed), len(other_feed), other_made.status_code) == (1, 1, 303)
    ours_body = (await client.get(team_feed[0].removeprefix("http://events.test"))).text
    theirs_body = (await client.get(other_feed[0].removeprefix("http://events.test"))).text
    assert (ours_body.count("BEGIN:VEVENT"), theirs_body.count("BEGIN:VEVENT")) == (4, 0)


async def test_the_dashboard_shows_each_events_figures(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, capacity=3, commit=False)
    await make_registration(db, event, event.sessions[0], "Ana Silva")
    await db.commit()

    page = await organiser_client.get("/organiser/")

    row = re.search(rf'<tr id="event-{event.id}">(.*?)</tr>', page.text, re.S)
    assert row is not None
    cells = [re.sub(r"<[^>]+>", "", cell).strip()
             for cell in re.findall(r"<td>(.*?)</td>", row.group(1), re.S)]
    assert cells[2:] == ["1 of 3", "2", "0", "0", "0"]
    assert ("<li>Sunday 11 November 2035 at 10:00 CET: 1 reminder for “Social criteria in "
            "ICT tenders” (Fair ICT procurement webinars)</li>") in page.text

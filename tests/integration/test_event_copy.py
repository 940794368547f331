"""Copying an event to other days: the domain (wall-clock times kept across a change of
summer time, cancelled sessions left out, translations under the copy's own targets,
nothing of the registrations, speakers only when asked and then told) and the back office's
form (its offer, every problem at once, nothing stored on a refusal) and the organiser API.
Both databases.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    ContentTranslation,
    Event,
    EventStatus,
    OutboxEmail,
    Registration,
    SessionMaterial,
    SpeakerNotice,
)
from service.domain import programme
from service.domain.errors import InvalidInputError
from service.domain.link_lists import Link
from service.domain.programme.materials import set_materials
from service.domain.programme.translations import TextChange, set_translations
from service.settings import Settings
from tests.factories import (
    BUILT_AT,
    EventSpec,
    SessionSpec,
    make_agenda_item,
    make_event,
    make_person,
    make_registration,
)
from tests.integration.backoffice import SignedInClient
from tests.integration.test_pages import parse

SEMINAR = EventSpec(
    slug="procura-seminar-2035", title="Procura+ Seminar 2035",
    sessions=(SessionSpec("Winter webinar", "2035-11-12T10:00", "2035-11-12T11:45",
                          join_url="https://meet.example.org/seminar"),
              SessionSpec("Spring webinar", "2036-04-10T10:00", "2036-04-10T11:30"),
              SessionSpec("Dropped webinar", "2036-05-06T10:00", "2036-05-06T11:00")),
    extra={"registration_opens_at": "2035-10-01T09:00",
           "registration_closes_at": "2036-04-09T12:00"},
    commit=False, now=BUILT_AT)


async def _seminar(db: AsyncSession, settings: Settings) -> Event:
    """The seminar with an agenda item and its speaker, German texts, a registrant and a
    cancelled session."""
    event = await make_event(db, settings, SEMINAR)
    winter, _spring, dropped = event.sessions
    carla = await make_person(db, "Carla Canal", "carla@bcn.example.es",
                              organisation="Barcelona City Council")
    item = await make_agenda_item(db, settings, winter, "10:10", "10:40",
                                  "Facing market challenges", [carla])
    await programme.cancel_session(db, dropped.id, now=BUILT_AT, settings=settings)
    await set_translations(db, event.id, [
        TextChange(event, "de", "title", "Procura+ Seminar 2035 (de)", "title"),
        TextChange(winter, "de", "title", "Winter-Webinar", "winter"),
        TextChange(item, "de", "title", "Herausforderungen des Marktes", "item"),
    ], now=BUILT_AT)
    await make_registration(db, event, winter, "Ana Silva")
    await db.commit()
    return await programme.get_event(db, event.id)


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat()


async def test_a_copy_keeps_wall_clock_times_texts_and_translations_and_nothing_else(
    db: AsyncSession, settings: Settings,
) -> None:
    original = await _seminar(db, settings)
    # The slides of this year's winter webinar, titled in German too: this year's own.
    winter_id = original.sessions[0].id
    shared = await set_materials(db, winter_id, now=BUILT_AT, for_registrants=(),
                                 public=[Link("Slides", "https://docs.example.org/slides.pdf")])
    [slides] = shared[winter_id]
    await set_translations(db, original.id, [TextChange(slides, "de", "title", "Folien", "t")],
                           now=BUILT_AT)
    original = await programme.get_event(db, original.id)
    emails_before = await db.scalar(select(func.count()).select_from(OutboxEmail))
    proposed = programme.proposed_copy(original)

    copy = await programme.copy_event(db, original.id, programme.EventCopy(
        title=proposed.title, first_day=proposed.first_day), now=BUILT_AT, settings=settings)
    await db.commit()

    assert (proposed.title, proposed.first_day) == ("Procura+ Seminar 2036", date(2036, 11, 10))
    assert (copy.title, copy.slug, copy.status) == (
        "Procura+ Seminar 2036", "procura-seminar-2036", EventStatus.DRAFT)
    assert (copy.team_id, copy.kind, copy.timezone, copy.default_language) == (
        original.team_id, original.kind, original.timezone, original.default_language)
    # 364 days on, each at its own wall-clock time: 10:00 CET is 09:00 UTC, 10:00 CEST 08:00.
    assert [(s.title, _utc(s.starts_at), _utc(s.ends_at), s.join_url, s.sequence)
            for s in copy.sessions] == [
        ("Winter webinar", "2036-11-10T09:00:00+00:00", "2036-11-10T10:45:00+00:00", None, 0),
        ("Spring webinar", "2037-04-09T08:00:00+00:00", "2037-04-09T09:30:00+00:00", None, 0)]
    [item] = copy.sessions[0].agenda_items
    assert (item.title, _utc(item.starts_at), item.speakers) == (
        "Facing market challenges", "2036-11-10T09:10:00+00:00", [])
    assert (_utc(copy.registration_opens_at or BUILT_AT),
            _utc(copy.registration_closes_at or BUILT_AT)) == (
        "2036-09-29T07:00:00+00:00", "2037-04-08T10:00:00+00:00")
    translations = {(row.target, row.field, row.text, row.session_id, row.agenda_item_id)
                    for row in await db.scalars(select(ContentTranslation).where(
                        ContentTranslation.event_id == copy.id))}
    winter = copy.sessions[0]
    assert translations == {
        ("event", "title", "Procura+ Seminar 2035 (de)", None, None),
        (f"session-{winter.id}", "title", "Winter-Webinar", winter.id, None),
        (f"agenda-item-{item.id}", "title", "Herausforderungen des Marktes", winter.id, item.id)}
    # No materials, no registrant, no email, no speaker told; the original is as it was.
    assert await db.scalar(select(func.count()).select_from(SessionMaterial).where(
        SessionMaterial.session_id.in_([s.id for s in copy.sessions]))) == 0
    assert await db.scalar(select(func.count()).select_from(Registration).where(
        Registration.event_id == copy.id)) == 0
    assert await db.scalar(select(func.count()).select_from(OutboxEmail)) == emails_before
    assert await db.scalar(select(func.count()).select_from(SpeakerNotice).where(
        SpeakerNotice.session_id == winter.id)) == 0
    again = await programme.get_event(db, original.id)
    assert [s.title for s in again.sessions] == [
        "Winter webinar", "Spring webinar", "Dropped webinar"]
    assert again.sessions[0].join_url is not None

    # In May, the winter webinar's 10:00 is summer time: 08:00 UTC.
    summer = await programme.copy_event(db, original.id, programme.EventCopy(
        title="Procura+ Seminar, spring edition", first_day=date(2036, 5, 12),
        keeps_speakers=True), now=BUILT_AT, settings=settings)
    await db.commit()
    assert summer.slug == "procura-seminar-spring-edition"
    assert _utc(summer.sessions[0].starts_at) == "2036-05-12T08:00:00+00:00"
    # Carla's slot came along, and she will hear of it.
    [kept] = summer.sessions[0].agenda_items
    assert [speaker.person.name for speaker in kept.speakers] == ["Carla Canal"]
    assert await db.scalar(select(func.count()).select_from(SpeakerNotice).where(
        SpeakerNotice.session_id == summer.sessions[0].id,
        SpeakerNotice.agenda_item_id == kept.id)) == 1


async def test_a_copy_is_refused_whole_naming_each_problem(
    db: AsyncSession, settings: Settings,
) -> None:
    original = await _seminar(db, settings)
    events = await db.scalar(select(func.count()).select_from(Event))

    with pytest.raises(InvalidInputError) as refused:
        await programme.copy_event(db, original.id, programme.EventCopy(
            title=" ", slug="Bad Slug", first_day=None), now=BUILT_AT, settings=settings)
    # As long as the columns allow (PostgreSQL would refuse longer ones).
    with pytest.raises(InvalidInputError) as too_long:
        await programme.copy_event(db, original.id, programme.EventCopy(
            title="T" * 301, slug="a" * 121, first_day=date(2036, 11, 10)), now=BUILT_AT,
            settings=settings)
    with pytest.raises(InvalidInputError) as taken:
        await programme.copy_event(db, original.id, programme.EventCopy(
            title="Again", slug=original.slug, first_day=date(3000, 1, 1)), now=BUILT_AT,
            settings=settings)
    await db.rollback()
    # A session at 02:30 moved onto the night the clocks go forward (30 March 2036).
    night = await make_event(db, settings, EventSpec(
        slug="night-owls", title="Night owls", sessions=(
            SessionSpec("Late", "2036-03-23T02:30", "2036-03-23T04:00"),), now=BUILT_AT))
    with pytest.raises(InvalidInputError) as skipped:
        await programme.copy_event(db, night.id, programme.EventCopy(
            title="Night owls again", first_day=date(2036, 3, 30)), now=BUILT_AT,
            settings=settings)
    await db.rollback()

    assert [e.field for e in refused.value.errors] == ["title", "slug", "first_day"]
    assert [e.field for e in taken.value.errors] == ["slug", "first_day"]
    assert [(e.field, e.message) for e in too_long.value.errors] == [
        ("title", "At most 300 characters."), ("slug", "At most 120 characters.")]
    assert skipped.value.field == "first_day"
    assert skipped.value.message == (
        "The session “Late” would be at 2036-03-30T02:30, which the clocks skip or repeat "
        "that day in Europe/Brussels: choose another first day.")
    assert await db.scalar(select(func.count()).select_from(Event)) == events + 1


async def test_the_back_office_offers_a_copy_and_makes_it(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    original = await _seminar(db, settings)
    url = f"/organiser/events/{original.id}/copy"
    events = await db.scalar(select(func.count()).select_from(Event))

    event_page = await organiser_client.get(f"/organiser/events/{original.id}")
    form = await organiser_client.get(url)
    refused = await organiser_client.post_form(url, {
        "title": "", "slug": "procura-seminar-2035", "first_day": "10 November"})
    counted = await db.scalar(select(func.count()).select_from(Event))
    made = await organiser_client.post_form(url, {
        "title": "Procura+ Seminar 2036", "slug": "", "first_day": "2036-11-10",
        "keeps_speakers": "yes"})
    copy_page = await organiser_client.get(made.headers["location"])

    assert url in [a.attrs.get("href") for a in parse(event_page.text).find_all("a")]
    page = parse(form.text)
    assert page.one(id="title").attrs["value"] == "Procura+ Seminar 2036"
    assert page.one(id="first_day").attrs["value"] == "2036-11-10"
    assert page.one(id="keeps_speakers").attrs.get("checked") is None
    assert "Now Monday 12 November 2035" in form.text
    assert refused.status_code == 422
    assert re.findall(r'<li><a href="#(\w+)">', refused.text) == ["title", "slug", "first_day"]
    assert "Give the copy a title." in refused.text
    assert "Give the day as a date, such as 2027-11-08." in refused.text
    assert 'value="10 November"' in refused.text
    assert counted == events
    assert made.status_code == 303
    assert "This is the copy, a draft" in copy_page.text
    copy_id = int(made.headers["location"].split("/")[-1].split("?")[0])
    copy = await programme.get_event(db, copy_id)
    assert (copy.title, copy.slug, copy.status) == (
        "Procura+ Seminar 2036", "procura-seminar-2036", EventStatus.DRAFT)
    assert [sp.person.name for sp in copy.sessions[0].agenda_items[0].speakers] == [
        "Carla Canal"]


async def test_the_organiser_api_copies_an_event(
    client: AsyncTestClient[Litestar], organiser_headers: dict[str, str],
    viewer_headers: dict[str, str], db: AsyncSession, settings: Settings,
) -> None:
    original = await _seminar(db, settings)
    original.is_sample_data = True  # a copy of sample data is sample data
    await db.commit()
    url = f"/api/organiser/events/{original.id}/copy"
    events = await db.scalar(select(func.count()).select_from(Event))

    as_viewer = await client.post(url, json={"title": "Copy", "first_day": "2036-11-10"},
                                  headers=viewer_headers)
    no_day = await client.post(url, json={"title": "Copy"}, headers=organiser_headers)
    far = await client.post(url, json={"title": "Copy", "first_day": "0001-01-01"},
                            headers=organiser_headers)
    unknown = await client.post(url, json={"title": "Copy", "first_day": "2036-11-10",
                                           "sessions": []}, headers=organiser_headers)
    counted = await db.scalar(select(func.count()).select_from(Event))
    made = await client.post(url, json={"title": "Procura+ Seminar 2036",
                                        "first_day": "2036-11-10"}, headers=organiser_headers)

    assert as_viewer.status_code == 403
    assert (no_day.status_code, [e["field"] for e in no_day.json()["errors"]]) == (
        422, ["first_day"])
    assert (far.status_code, [e["field"] for e in far.json()["errors"]]) == (422, ["first_day"])
    assert unknown.status_code == 400 and "sessions" in unknown.text
    assert counted == events
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["title"], body["slug"], body["status"], body["is_sample_data"]) == (
        "Procura+ Seminar 2036", "procura-seminar-2036", "draft", True)
    assert [s["starts"]["utc"] for s in body["sessions"]] == [
        "2036-11-10T09:00:00Z", "2037-04-09T08:00:00Z"]

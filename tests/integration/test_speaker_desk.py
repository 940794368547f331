"""An event's speakers as organisers see them: slots, notices, private links shown, sent
again and replaced; the API shows the current link without revoking it; the speaker's page
shows the feed link their email promises. SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.engine import session_scope
from service.db.models import AccessPurpose, AccessToken, Event, OutboxStatus
from service.domain import programme
from service.domain.calendars import feeds
from service.domain.errors import InvalidInputError
from service.domain.notices import speaker_desk
from service.domain.notices.speakers import process_due_speaker_notices
from service.settings import Settings
from tests.factories import (
    SOCIAL_ICT,
    make_agenda_item,
    make_event,
    make_person,
    make_session,
)
from tests.integration.mail_readers import Sessionmaker, outbox_messages, subject_of, text_of

# How pages and forms read: the database makes no difference (SQLite only).
pytestmark = pytest.mark.one_database

EDIT = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
AFTER_WINDOW = EDIT + timedelta(seconds=600)
Client = AsyncTestClient[Litestar]


async def _programme(db: AsyncSession, settings: Settings) -> tuple[int, int, int]:
    """A published webinar with two talks by Carla (one shared with Rudie, who has no
    address); returns the event's, Carla's and Rudie's ids."""
    event = await make_event(db, settings, SOCIAL_ICT)
    session = await make_session(db, settings, event, starts_at="2026-10-26T10:00",
                                 ends_at="2026-10-26T11:30", title="Market challenges")
    carla = await make_person(db, "Carla Canal", "carla@barcelona.example.org",
                              organisation="Barcelona City Council")
    rudie = await make_person(db, "Rudie de Vries", None, organisation="Municipality of Haarlem")
    await make_agenda_item(db, settings, session, "10:10", "10:40", "Facing market challenges",
                           [carla, rudie], now=EDIT)
    await make_agenda_item(db, settings, session, "11:00", "11:20", "Questions", [carla],
                           now=EDIT)
    await programme.publish_event(db, event.id, now=EDIT)
    await db.commit()
    return event.id, carla.id, rudie.id


async def _send_notices(sessionmaker: Sessionmaker, settings: Settings) -> None:
    async with session_scope(sessionmaker) as db:
        await process_due_speaker_notices(db, now=AFTER_WINDOW, settings=settings)


async def test_the_speakers_list_shows_slots_notices_and_the_emailed_link_without_replacing_it(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    event_id, carla_id, rudie_id = await _programme(db, settings)
    before = await speaker_desk.list_event_speakers(db, event_id, settings=settings)
    await db.commit()
    await _send_notices(db_sessionmaker, settings)
    [(_, first_email), (_, second_email)] = await outbox_messages(db_sessionmaker)
    emailed_page = next(line for line in text_of(first_email).splitlines()
                        if "/speakers/" in line).strip()

    async with db_sessionmaker() as fresh:
        speakers = await speaker_desk.list_event_speakers(fresh, event_id, settings=settings)
        again = await speaker_desk.list_event_speakers(fresh, event_id, settings=settings)

    assert [(s.person.name, s.links) for s in before] == [
        ("Carla Canal", None), ("Rudie de Vries", None)]
    assert [(s.person.id, s.organisation_name, [(slot.title, slot.notice) for slot in s.slots])
            for s in speakers] == [
        (carla_id, "Barcelona City Council",
         [("Facing market challenges", "sent"), ("Questions", "sent")]),
        (rudie_id, "Municipality of Haarlem", [("Facing market challenges", "none")]),
    ]
    carla = speakers[0]
    assert [(slot.notice_at, slot.email_status) for slot in carla.slots] == [
        (AFTER_WINDOW, OutboxStatus.QUEUED), (AFTER_WINDOW, OutboxStatus.QUEUED)]
    assert carla.links is not None
    assert (carla.links.page_url, carla.links.feed_url, carla.links.webcal_url) == (
        emailed_page, None, None)
    assert again[0].links == carla.links
    assert speakers[1].links is None
    assert text_of(second_email).count(emailed_page) == 1


async def test_api_reads_the_current_speaker_link_without_revoking_it(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    organiser_headers: dict[str, str],
) -> None:
    _, carla_id, _ = await _programme(db, settings)
    await _send_notices(db_sessionmaker, settings)
    [(_, email), _second] = await outbox_messages(db_sessionmaker)
    emailed_page = next(line for line in text_of(email).splitlines()
                        if "/speakers/" in line).strip()
    url = f"/api/organiser/persons/{carla_id}/speaker-links"

    first = await client.get(url, headers=organiser_headers)
    second = await client.get(url, headers=organiser_headers)
    page = await client.get(emailed_page.removeprefix("http://events.test"))

    assert (first.status_code, second.json()) == (200, first.json())
    assert first.json()["page_url"] == emailed_page
    assert page.status_code == 200
    assert "Carla Canal" in page.text
    replaced = await client.post(url, headers=organiser_headers)
    old_page = await client.get(emailed_page.removeprefix("http://events.test"))
    current = await client.get(url, headers=organiser_headers)
    assert (replaced.status_code, old_page.status_code) == (201, 404)
    assert current.json() == replaced.json()
    assert current.json()["page_url"] != emailed_page


async def test_sending_the_link_again_emails_the_same_link_and_revokes_nothing(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    event_id, carla_id, rudie_id = await _programme(db, settings)
    await _send_notices(db_sessionmaker, settings)
    async with session_scope(db_sessionmaker) as work:
        [before] = [s.links for s in await speaker_desk.list_event_speakers(
            work, event_id, settings=settings) if s.person.id == carla_id]
        email_id = await speaker_desk.send_speaker_links(work, event_id, carla_id, now=EDIT,
                                                         settings=settings)
        [carla] = [s for s in await speaker_desk.list_event_speakers(
            work, event_id, settings=settings) if s.person.id == carla_id]
    async with session_scope(db_sessionmaker) as work:
        with pytest.raises(InvalidInputError) as no_address:
            await speaker_desk.send_speaker_links(work, event_id, rudie_id, now=EDIT,
                                                  settings=settings)
        with pytest.raises(InvalidInputError) as not_speaking:
            await speaker_desk.send_speaker_links(work, event_id, 999_999, now=EDIT,
                                                  settings=settings)

    rows = await outbox_messages(db_sessionmaker)
    row, message = rows[-1]
    assert carla.links is not None and before is not None
    assert carla.links.page_url == before.page_url
    assert (len(rows), row.id, row.template, row.to_address, row.person_id, row.event_id) == (
        3, email_id, "speaker_links_to_speaker", "carla@barcelona.example.org", carla_id,
        event_id)
    assert subject_of(message) == "Your speaker page: Socially responsible ICT procurement"
    body = text_of(message)
    assert [line.strip() for line in body.splitlines() if "events.test/" in line] == [
        carla.links.page_url, carla.links.feed_url, "Event page: http://events.test/events/social-ict",
        "How we use your details (privacy notice): http://events.test/privacy"]
    assert (no_address.value.field, no_address.value.message) == (
        "email", "Rudie de Vries has no email address: add one first.")
    assert (not_speaking.value.field, not_speaking.value.message) == (
        "person_id", "This person does not speak in this event.")
    live = await db.scalars(select(AccessToken.purpose).where(
        AccessToken.person_id == carla_id, AccessToken.revoked_at.is_(None))
        .order_by(AccessToken.purpose))
    assert list(live) == [AccessPurpose.SPEAKER_FEED, AccessPurpose.SPEAKER_PAGE]


async def test_issuing_a_new_link_revokes_the_old_page_and_feed(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    event_id, carla_id, rudie_id = await _programme(db, settings)
    await _send_notices(db_sessionmaker, settings)
    async with session_scope(db_sessionmaker) as work:
        old = speaker_desk.link_urls(settings, await feeds.current_speaker_links(
            work, carla_id, now=EDIT, settings=settings))
    async with session_scope(db_sessionmaker) as work:
        new = await speaker_desk.replace_speaker_links(work, event_id, carla_id, now=EDIT,
                                                       settings=settings)
        rudie = await speaker_desk.replace_speaker_links(work, event_id, rudie_id, now=EDIT,
                                                         settings=settings)

    statuses = [(await client.get(url.removeprefix("http://events.test"))).status_code
                for url in (old.page_url, old.feed_url or "", new.page_url,
                            new.feed_url or "", rudie.page_url)]
    assert statuses == [404, 404, 200, 200, 200]


async def test_the_speaker_page_shows_the_feed_link_their_email_promises(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    _, carla_id, _ = await _programme(db, settings)
    await _send_notices(db_sessionmaker, settings)
    [(_, email), _second] = await outbox_messages(db_sessionmaker)
    emailed_page = next(line for line in text_of(email).splitlines()
                        if "/speakers/" in line).strip()

    page = await client.get(emailed_page.removeprefix("http://events.test"))
    async with db_sessionmaker() as work:
        [links] = [s.links for s in await speaker_desk.list_event_speakers(
            work, (await _event_id(work)), settings=settings) if s.person.id == carla_id]
    assert links is not None and links.feed_url is not None
    feed = await client.get(links.feed_url.removeprefix("http://events.test"))

    assert "a calendar feed for them" in text_of(email)
    assert page.status_code == 200
    assert f'href="{links.webcal_url}"' in page.text
    assert f'value="{links.feed_url}"' in page.text
    assert (feed.status_code, feed.headers["content-type"]) == (
        200, "text/calendar; charset=utf-8")


async def _event_id(db: AsyncSession) -> int:
    event_id = await db.scalar(select(Event.id).where(Event.slug == "social-ict"))
    assert event_id is not None
    return event_id

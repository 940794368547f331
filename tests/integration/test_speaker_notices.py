"""Speaker notices: assigned, moved, taken off, item deleted, session cancelled.

Each change records a pending notice in the transaction of the programme change; the
notices go out, gathered over the change-notice window, when `process_due_speaker_notices`
runs at a chosen instant, and these tests read the emails back from the outbox. Runs on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.engine import session_scope
from service.db.models import AccessPurpose, Person, SpeakerNotice
from service.domain import programme
from service.domain.access import find_access
from service.domain.notices.changes import process_due_change_notices
from service.domain.notices.speakers import SpeakerNoticeReport, process_due_speaker_notices
from service.settings import Settings
from tests.factories import (
    JOIN_URL,
    SOCIAL_ICT,
    make_agenda_item,
    make_event,
    make_person,
    make_registration,
    make_session,
)
from tests.integration.mail_readers import (
    Sessionmaker,
    calendar_of,
    ical_lines,
    outbox_messages,
    subject_of,
    text_of,
)

EDIT = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=600)


async def send(sessionmaker: Sessionmaker, settings: Settings, now: datetime
               ) -> SpeakerNoticeReport:
    """What the scheduler's speaker-notice job does at `now`."""
    async with session_scope(sessionmaker) as db:
        return await process_due_speaker_notices(db, now=now, settings=settings)


async def programme_with_speakers(
    db: AsyncSession, settings: Settings
) -> tuple[int, int, Person, Person]:
    """A webinar session with a talk by Carla (with Rudie as co-speaker); ids and people."""
    event = await make_event(db, settings, SOCIAL_ICT)
    session = await make_session(db, settings, event, starts_at="2026-10-26T10:00",
                                 ends_at="2026-10-26T11:30")
    carla = await make_person(db, "Carla Canal", "carla@barcelona.example.org",
                              organisation="Barcelona City Council")
    rudie = await make_person(db, "Rudie de Vries", None, organisation="Municipality of Haarlem")
    item = await make_agenda_item(db, settings, session, "10:10", "10:40",
                                  "Facing market challenges", [carla, rudie], now=EDIT)
    await db.commit()
    return session.id, item.id, carla, rudie


async def test_an_assigned_speaker_gets_their_slot_with_an_invite_and_their_page(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    _, _, carla, _ = await programme_with_speakers(db, settings)
    await send(db_sessionmaker, settings, EDIT + WINDOW)

    [(row, message)] = await outbox_messages(db_sessionmaker)

    assert (row.to_address, row.person_id, row.template) == (
        "carla@barcelona.example.org", carla.id, "speaker_slot_to_speaker")
    assert subject_of(message) == (
        "Your speaking slot: Facing market challenges on Monday 26 October 2026 at 10:10 CET")
    paragraphs = text_of(message).split("\n\n")
    assert paragraphs[1:4] == [
        "Thank you for speaking at Socially responsible ICT procurement. Your slot:",
        "  Facing market challenges\n"
        "  Monday 26 October 2026, 10:10–10:40 CET (Europe/Brussels)\n"
        "  2026-10-26 09:10–09:40 UTC\n"
        '  in "Keeping social criteria alive" (Monday 26 October 2026, 10:00–11:30 CET '
        "(Europe/Brussels))\n"
        "  with Rudie de Vries, Municipality of Haarlem",
        f"Join online: {JOIN_URL}",
    ]
    page_line = paragraphs[5].splitlines()[1]
    assert page_line.startswith("http://events.test/speakers/")
    async with db_sessionmaker() as check:
        access = await find_access(check, AccessPurpose.SPEAKER_PAGE,
                                   page_line.rsplit("/", 1)[1])
    assert access is not None and access.person_id == carla.id
    method, calendar = calendar_of(message)
    assert method == "REQUEST"
    assert sorted(ical_lines(calendar or "", "METHOD", "UID", "SEQUENCE", "SUMMARY",
                             "DTSTART", "STATUS")) == [
        "DTSTART;TZID=Europe/Brussels:20261026T101000",
        "METHOD:REQUEST",
        "SEQUENCE:0",
        "STATUS:CONFIRMED",
        "SUMMARY:Speaking: Facing market challenges (Socially responsible ICT procurement)",
        "UID:agenda-item-1-speaker-1@events.test",
    ]


async def test_a_moved_slot_sends_an_update_with_a_higher_sequence(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    _, item_id, _, _ = await programme_with_speakers(db, settings)
    await send(db_sessionmaker, settings, EDIT + WINDOW)

    async with session_scope(db_sessionmaker) as work:
        await programme.update_agenda_item(work, item_id,
                                           programme.AgendaItemUpdate(starts_at="10:40",
                                                                      ends_at="11:10"),
                                           now=EDIT + timedelta(hours=1), settings=settings)
    await send(db_sessionmaker, settings, EDIT + timedelta(hours=1) + WINDOW)

    [_, (row, message)] = await outbox_messages(db_sessionmaker)
    assert row.template == "speaker_slot_changed_to_speaker"
    assert subject_of(message) == (
        "Your speaking slot has changed: Facing market challenges, now on Monday 26 October 2026 "
        "at 10:40 CET")
    assert text_of(message).split("\n\n")[1] == (
        "Your slot at Socially responsible ICT procurement has changed:\n"
        "- Your slot: Monday 26 October 2026, 10:10–10:40 CET (Europe/Brussels)\n"
        "  -> now: Monday 26 October 2026, 10:40–11:10 CET (Europe/Brussels)")
    method, calendar = calendar_of(message)
    assert method == "REQUEST"
    assert sorted(ical_lines(calendar or "", "UID", "SEQUENCE", "DTSTART")) == [
        "DTSTART;TZID=Europe/Brussels:20261026T104000",
        "SEQUENCE:1",
        "UID:agenda-item-1-speaker-1@events.test",
    ]


async def test_moving_the_session_moves_the_slot_and_tells_the_speaker(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    session_id, _, _, _ = await programme_with_speakers(db, settings)
    await send(db_sessionmaker, settings, EDIT + WINDOW)

    async with session_scope(db_sessionmaker) as work:
        await programme.update_session(
            work, session_id,
            programme.SessionUpdate(starts_at="2026-10-27T10:00", ends_at="2026-10-27T11:30"),
            now=EDIT + timedelta(hours=1), settings=settings)
    await send(db_sessionmaker, settings, EDIT + timedelta(hours=1) + WINDOW)

    [_, (_, message)] = await outbox_messages(db_sessionmaker)
    assert text_of(message).split("\n\n")[1] == (
        "Your slot at Socially responsible ICT procurement has changed:\n"
        "- Your slot: Monday 26 October 2026, 10:10–10:40 CET (Europe/Brussels)\n"
        "  -> now: Tuesday 27 October 2026, 10:10–10:40 CET (Europe/Brussels)")
    assert ical_lines(calendar_of(message)[1] or "", "SEQUENCE") == ["SEQUENCE:1"]


async def test_a_speaker_taken_off_the_item_gets_a_cancel_that_outranks_the_invite(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    _, item_id, _, rudie = await programme_with_speakers(db, settings)
    await send(db_sessionmaker, settings, EDIT + WINDOW)

    async with session_scope(db_sessionmaker) as work:
        await programme.update_agenda_item(
            work, item_id,
            programme.AgendaItemUpdate(speakers=[programme.SpeakerRef(person_id=rudie.id)]),
            now=EDIT + timedelta(hours=1), settings=settings)
    await send(db_sessionmaker, settings, EDIT + timedelta(hours=1) + WINDOW)

    [_, (row, message)] = await outbox_messages(db_sessionmaker)
    assert (row.to_address, row.template) == (
        "carla@barcelona.example.org", "speaker_slot_cancelled_to_speaker")
    assert subject_of(message) == (
        "Speaking slot cancelled: Facing market challenges on Monday 26 October 2026 at 10:10 CET")
    assert text_of(message).split("\n\n")[1] == (
        "You are no longer listed as a speaker for this agenda item. Your slot is cancelled:")
    method, calendar = calendar_of(message)
    assert method == "CANCEL"
    assert sorted(ical_lines(calendar or "", "METHOD", "UID", "SEQUENCE", "STATUS")) == [
        "METHOD:CANCEL", "SEQUENCE:1", "STATUS:CANCELLED",
        "UID:agenda-item-1-speaker-1@events.test",
    ]


async def test_deleting_the_item_or_cancelling_the_session_cancels_the_slot(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    session_id, item_id, carla, _ = await programme_with_speakers(db, settings)
    async with session_scope(db_sessionmaker) as work:
        session = await programme.get_session(work, session_id)
        other = await make_agenda_item(work, settings, session, "10:40", "11:10", "Second talk", [carla],
                               now=EDIT)
    await send(db_sessionmaker, settings, EDIT + WINDOW)

    async with session_scope(db_sessionmaker) as work:
        await programme.delete_agenda_item(work, item_id, now=EDIT + timedelta(hours=1),
                                           settings=settings)
    await send(db_sessionmaker, settings, EDIT + timedelta(hours=1) + WINDOW)
    async with session_scope(db_sessionmaker) as work:
        await programme.cancel_session(work, session_id, now=EDIT + timedelta(hours=2),
                                       settings=settings)
    await send(db_sessionmaker, settings, EDIT + timedelta(hours=2) + WINDOW)

    messages = await outbox_messages(db_sessionmaker)
    assert [(row.template, calendar_of(m)[0]) for row, m in messages] == [
        ("speaker_slot_to_speaker", "REQUEST"),
        ("speaker_slot_to_speaker", "REQUEST"),
        ("speaker_slot_cancelled_to_speaker", "CANCEL"),
        ("speaker_slot_cancelled_to_speaker", "CANCEL"),
    ]
    deleted, cancelled = messages[2][1], messages[3][1]
    assert text_of(deleted).split("\n\n")[1] == (
        "This agenda item has been taken off the programme. Your slot is cancelled:")
    assert sorted(ical_lines(calendar_of(deleted)[1] or "", "UID", "SEQUENCE")) == [
        "SEQUENCE:1", "UID:agenda-item-1-speaker-1@events.test"]
    assert text_of(cancelled).split("\n\n")[1] == (
        "The session has been cancelled. Your slot is cancelled:")
    assert sorted(ical_lines(calendar_of(cancelled)[1] or "", "UID", "SEQUENCE")) == [
        "SEQUENCE:1", f"UID:agenda-item-{other.id}-speaker-1@events.test"]


async def test_speakers_without_an_address_and_past_sessions_get_nothing(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    event = await make_event(db, settings, SOCIAL_ICT)
    session = await make_session(db, settings, event, starts_at="2026-10-26T10:00",
                                 ends_at="2026-10-26T11:30")
    rudie = await make_person(db, "Rudie de Vries", None)
    carla = await make_person(db, "Carla Canal", "carla@barcelona.example.org")

    await make_agenda_item(db, settings, session, "10:00", "10:10", "Welcome", [rudie], now=EDIT)
    await make_agenda_item(db, settings, session, "10:10", "10:40", "Too late", [carla],
                   now=datetime(2026, 10, 27, 8, 0, tzinfo=UTC))
    await db.commit()
    await send(db_sessionmaker, settings, EDIT + WINDOW)
    await send(db_sessionmaker, settings, datetime(2026, 10, 27, 8, 0, tzinfo=UTC) + WINDOW)

    assert await outbox_messages(db_sessionmaker) == []


async def test_two_moves_a_second_apart_send_the_speaker_one_update_as_registrants_get_one(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    session_id, item_id, carla, _ = await programme_with_speakers(db, settings)
    async with session_scope(db_sessionmaker) as work:
        session = await programme.get_session(work, session_id)
        await make_registration(work, session.event, session, "Ana Silva")
    await send(db_sessionmaker, settings, EDIT + WINDOW)
    moved_at = EDIT + timedelta(hours=1)

    for offset, (start, end) in enumerate((("10:40", "11:10"), ("11:00", "11:30"))):
        async with session_scope(db_sessionmaker) as work:
            await programme.update_agenda_item(
                work, item_id, programme.AgendaItemUpdate(starts_at=start, ends_at=end),
                now=moved_at + timedelta(seconds=offset), settings=settings)
    early = await send(db_sessionmaker, settings, moved_at + WINDOW - timedelta(seconds=1))
    due = await send(db_sessionmaker, settings, moved_at + WINDOW)
    async with session_scope(db_sessionmaker) as work:
        await process_due_change_notices(work, now=moved_at + WINDOW, settings=settings)

    assert (early, due) == (SpeakerNoticeReport(), SpeakerNoticeReport(claimed=1, sent=1))
    messages = await outbox_messages(db_sessionmaker)
    assert [(row.to_address, row.template) for row, _ in messages] == [
        ("carla@barcelona.example.org", "speaker_slot_to_speaker"),
        ("carla@barcelona.example.org", "speaker_slot_changed_to_speaker"),
        ("ana@social-ict.example.org", "session_changed_to_registrant"),
    ]
    update = messages[1][1]
    assert text_of(update).split("\n\n")[1] == (
        "Your slot at Socially responsible ICT procurement has changed:\n"
        "- Your slot: Monday 26 October 2026, 10:10–10:40 CET (Europe/Brussels)\n"
        "  -> now: Monday 26 October 2026, 11:00–11:30 CET (Europe/Brussels)")
    assert sorted(ical_lines(calendar_of(update)[1] or "", "UID", "SEQUENCE", "DTSTART")) == [
        "DTSTART;TZID=Europe/Brussels:20261026T110000",
        "SEQUENCE:2",
        f"UID:agenda-item-{item_id}-speaker-{carla.id}@events.test",
    ]


async def test_a_slot_assigned_and_taken_back_within_the_window_sends_nothing(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    _, item_id, _, rudie = await programme_with_speakers(db, settings)
    async with session_scope(db_sessionmaker) as work:
        await programme.update_agenda_item(
            work, item_id,
            programme.AgendaItemUpdate(speakers=[programme.SpeakerRef(person_id=rudie.id)]),
                                           now=EDIT + timedelta(minutes=1), settings=settings)

    report = await send(db_sessionmaker, settings, EDIT + WINDOW)

    assert report == SpeakerNoticeReport(claimed=1, reverted=1)
    assert await outbox_messages(db_sessionmaker) == []
    async with db_sessionmaker() as check:
        notices = list(await check.scalars(select(SpeakerNotice)))
    assert [(str(n.status), n.sent_at) for n in notices] == [("cancelled", None)]


async def test_news_of_a_slot_about_to_start_is_not_held_back(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    _, item_id, _, _ = await programme_with_speakers(db, settings)
    await send(db_sessionmaker, settings, EDIT + WINDOW)
    # Five minutes before the session (10:00 CET = 09:00 UTC): less than a window ahead.
    late = datetime(2026, 10, 26, 8, 55, tzinfo=UTC)
    async with session_scope(db_sessionmaker) as work:
        await programme.update_agenda_item(
            work, item_id, programme.AgendaItemUpdate(starts_at="10:40", ends_at="11:10"),
                                           now=late, settings=settings)

    report = await send(db_sessionmaker, settings, late)

    assert report == SpeakerNoticeReport(claimed=1, sent=1)
    assert [row.template for row, _ in await outbox_messages(db_sessionmaker)] == [
        "speaker_slot_to_speaker", "speaker_slot_changed_to_speaker"]


async def test_a_speaker_put_back_after_their_cancel_gets_an_invite_that_outranks_it(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    _, item_id, carla, rudie = await programme_with_speakers(db, settings)
    await send(db_sessionmaker, settings, EDIT + WINDOW)
    for hours, people in ((1, [rudie]), (2, [carla, rudie])):
        async with session_scope(db_sessionmaker) as work:
            await programme.update_agenda_item(
                work, item_id,
                programme.AgendaItemUpdate(
                    speakers=[programme.SpeakerRef(person_id=p.id) for p in people]),
                now=EDIT + timedelta(hours=hours), settings=settings)
        await send(db_sessionmaker, settings, EDIT + timedelta(hours=hours) + WINDOW)

    messages = await outbox_messages(db_sessionmaker)
    assert [(row.template, calendar_of(message)[0],
             ical_lines(calendar_of(message)[1] or "", "SEQUENCE"))
            for row, message in messages] == [
        ("speaker_slot_to_speaker", "REQUEST", ["SEQUENCE:0"]),
        ("speaker_slot_cancelled_to_speaker", "CANCEL", ["SEQUENCE:1"]),
        ("speaker_slot_to_speaker", "REQUEST", ["SEQUENCE:2"]),
    ]

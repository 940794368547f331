"""Change notices: edits within the window coalesce into ONE email with old -> new and an update.

Edits go through the programme's functions with explicit `now`s; the notices are sent by
calling `process_due_change_notices` at chosen instants. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.engine import session_scope
from service.db.models import ChangeNotice, Registration, Session
from service.domain import programme
from service.domain.notices.changes import ChangeNoticeReport, process_due_change_notices
from service.settings import Settings
from tests.factories import (
    JOIN_URL,
    SOCIAL_ICT,
    make_agenda_item,
    make_event,
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


async def webinar(db: AsyncSession, settings: Settings, *names: str) -> tuple[int, int, list[int]]:
    """Monday 26 October 2026 10:00-11:30 Brussels, two agenda items, registrants; ids."""
    event = await make_event(db, settings, SOCIAL_ICT)
    session = await make_session(db, settings, event, starts_at="2026-10-26T10:00",
                                 ends_at="2026-10-26T11:30")
    first = await make_agenda_item(db, settings, session, "10:00", "10:10",
                                   "Welcome and introduction")
    await make_agenda_item(db, settings, session, "10:10", "11:30", "Contract management in practice")
    registrations = [await make_registration(db, event, session, name) for name in names]
    await db.commit()
    return session.id, first.id, [r.id for r in registrations]


async def edit_session(
    sessionmaker: Sessionmaker, settings: Settings, session_id: int, now: datetime,
    **changes: str,
) -> None:
    async with session_scope(sessionmaker) as db:
        await programme.update_session(db, session_id, programme.SessionUpdate(**changes),
                                       now=now, settings=settings)


async def send(sessionmaker: Sessionmaker, settings: Settings, now: datetime) -> ChangeNoticeReport:
    async with session_scope(sessionmaker) as db:
        return await process_due_change_notices(db, now=now, settings=settings)


async def test_two_edits_within_the_window_send_one_update_from_the_first_state_to_the_last(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    session_id, _, _ = await webinar(db, settings, "Ana Silva", "Ben Weber")
    await edit_session(db_sessionmaker, settings, session_id, EDIT,
                       starts_at="2026-10-26T14:00", ends_at="2026-10-26T15:30")
    await edit_session(db_sessionmaker, settings, session_id, EDIT + timedelta(minutes=4),
                       join_url="https://meet.example.org/new-room")

    early = await send(db_sessionmaker, settings, EDIT + WINDOW - timedelta(seconds=1))
    due = await send(db_sessionmaker, settings, EDIT + WINDOW)
    again = await send(db_sessionmaker, settings, EDIT + 2 * WINDOW)

    assert (early, due, again) == (
        ChangeNoticeReport(), ChangeNoticeReport(claimed=1, sent=1, emails=2), ChangeNoticeReport())
    messages = await outbox_messages(db_sessionmaker)
    assert [(row.to_address, row.dedupe_key) for row, _ in messages] == [
        ("ana@social-ict.example.org", "change-notice:1:1"),
        ("ben@social-ict.example.org", "change-notice:1:2"),
    ]
    message = messages[0][1]
    assert subject_of(message) == (
        "New time: Keeping social criteria alive is now on Monday 26 October 2026 at 14:00 CET")
    assert text_of(message).split("\n\n")[1:4] == [
        '"Keeping social criteria alive" (Socially responsible ICT procurement) has changed. '
        "The attached invite updates your calendar.",
        "What changed:\n"
        "- Date and time: Monday 26 October 2026, 10:00–11:30 CET (Europe/Brussels)\n"
        "  -> now: Monday 26 October 2026, 14:00–15:30 CET (Europe/Brussels)\n"
        f"- Join link: {JOIN_URL}\n"
        "  -> now: https://meet.example.org/new-room",
        "When: Monday 26 October 2026, 14:00–15:30 CET (Europe/Brussels)\n"
        "      2026-10-26 13:00–14:30 UTC\n"
        "Join online: https://meet.example.org/new-room",
    ]
    method, calendar = calendar_of(message)
    assert method == "REQUEST"
    assert calendar is not None
    assert sorted(ical_lines(calendar, "METHOD", "UID", "SEQUENCE", "DTSTART", "STATUS")) == [
        "DTSTART;TZID=Europe/Brussels:20261026T140000",
        "METHOD:REQUEST",
        "SEQUENCE:2",
        "STATUS:CONFIRMED",
        "UID:session-1@events.test",
    ]
    assert ical_lines(calendar, "ATTENDEE") == [
        'ATTENDEE;CN="Ana Silva";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:'
        "mailto:ana@social-ict.example.org"]


async def test_an_edit_undone_within_the_window_sends_nothing(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    session_id, _, _ = await webinar(db, settings, "Ana Silva")
    await edit_session(db_sessionmaker, settings, session_id, EDIT,
                       starts_at="2026-10-26T14:00", ends_at="2026-10-26T15:30")
    await edit_session(db_sessionmaker, settings, session_id, EDIT + timedelta(minutes=2),
                       starts_at="2026-10-26T10:00", ends_at="2026-10-26T11:30")

    report = await send(db_sessionmaker, settings, EDIT + WINDOW)

    assert report == ChangeNoticeReport(claimed=1, reverted=1)
    assert await outbox_messages(db_sessionmaker) == []
    async with db_sessionmaker() as check:
        notices = list(await check.scalars(select(ChangeNotice)))
    assert [(str(n.status), n.sent_at) for n in notices] == [("cancelled", None)]


async def test_edits_after_a_notice_went_out_start_a_new_one_from_what_was_announced(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    session_id, _, _ = await webinar(db, settings, "Ana Silva")
    await edit_session(db_sessionmaker, settings, session_id, EDIT,
                       starts_at="2026-10-26T14:00", ends_at="2026-10-26T15:30")
    await send(db_sessionmaker, settings, EDIT + WINDOW)
    later = EDIT + timedelta(hours=1)
    await edit_session(db_sessionmaker, settings, session_id, later,
                       starts_at="2026-10-27T14:00", ends_at="2026-10-27T15:30")

    report = await send(db_sessionmaker, settings, later + WINDOW)

    assert report == ChangeNoticeReport(claimed=1, sent=1, emails=1)
    second = (await outbox_messages(db_sessionmaker))[1][1]
    assert text_of(second).split("\n\n")[2] == (
        "What changed:\n"
        "- Date and time: Monday 26 October 2026, 14:00–15:30 CET (Europe/Brussels)\n"
        "  -> now: Tuesday 27 October 2026, 14:00–15:30 CET (Europe/Brussels)")
    assert ical_lines(calendar_of(second)[1] or "", "SEQUENCE") == ["SEQUENCE:2"]


async def test_agenda_additions_removals_and_moves_are_summarised_in_local_time(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    session_id, first_item, _ = await webinar(db, settings, "Ana Silva")
    async with session_scope(db_sessionmaker) as work:
        session = await programme.get_session(work, session_id)
        await programme.update_agenda_item(work, first_item,
                                           programme.AgendaItemUpdate(title="Welcome"), now=EDIT,
                                           settings=settings)  # not news: no notice
        session = await programme.get_session(work, session_id)
        items = {i.title: i.id for i in session.agenda_items}
        await programme.update_agenda_item(
            work, items["Contract management in practice"],
            programme.AgendaItemUpdate(ends_at="11:00"),
            now=EDIT, settings=settings)
        await make_agenda_item(work, settings, session, "11:00", "11:30", "Q&A",
                       now=EDIT + timedelta(minutes=1))
        await programme.delete_agenda_item(work, items["Welcome"],
                                           now=EDIT + timedelta(minutes=2), settings=settings)

    report = await send(db_sessionmaker, settings, EDIT + WINDOW)

    assert report == ChangeNoticeReport(claimed=1, sent=1, emails=1)
    [(_, message)] = await outbox_messages(db_sessionmaker)
    assert subject_of(message) == (
        "Update: Keeping social criteria alive on Monday 26 October 2026 at 10:00 CET")
    assert text_of(message).split("\n\n")[2:4] == [
        "What changed:\n"
        "- Agenda:\n"
        "  Removed: 10:00-10:10 CET Welcome\n"
        "  Moved: Contract management in practice: 10:10-11:30 CET -> 10:10-11:00 CET\n"
        "  Added: 11:00-11:30 CET Q&A",
        "When: Monday 26 October 2026, 10:00–11:30 CET (Europe/Brussels)\n"
        "      2026-10-26 09:00–10:30 UTC\n"
        f"Join online: {JOIN_URL}",
    ]


async def test_a_cancelled_session_sends_a_cancel_with_the_same_uid(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    session_id, _, _ = await webinar(db, settings, "Ana Silva")
    async with session_scope(db_sessionmaker) as work:
        await programme.cancel_session(work, session_id, now=EDIT, settings=settings)

    await send(db_sessionmaker, settings, EDIT + WINDOW)

    [(_, message)] = await outbox_messages(db_sessionmaker)
    assert subject_of(message) == (
        "Cancelled: Keeping social criteria alive on Monday 26 October 2026 at 10:00 CET")
    assert text_of(message).split("\n\n")[2] == "What changed:\n- Status: Scheduled\n  -> now: Cancelled"
    method, calendar = calendar_of(message)
    assert method == "CANCEL"
    assert sorted(ical_lines(calendar or "", "METHOD", "UID", "SEQUENCE", "STATUS")) == [
        "METHOD:CANCEL", "SEQUENCE:1", "STATUS:CANCELLED", "UID:session-1@events.test"]


async def test_news_of_an_imminent_session_is_not_held_back(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    session_id, _, _ = await webinar(db, settings, "Ana Silva")
    now = datetime(2026, 10, 26, 8, 40, tzinfo=UTC)  # 09:40 CET, 20 minutes before

    await edit_session(db_sessionmaker, settings, session_id, now,
                       starts_at="2026-10-26T09:50", ends_at="2026-10-26T11:20")
    report = await send(db_sessionmaker, settings, now)

    assert report == ChangeNoticeReport(claimed=1, sent=1, emails=1)


async def test_people_who_registered_after_the_change_are_not_told_of_it(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    session_id, _, _ = await webinar(db, settings, "Ana Silva")
    await edit_session(db_sessionmaker, settings, session_id, EDIT,
                       starts_at="2026-10-26T14:00", ends_at="2026-10-26T15:30")
    async with session_scope(db_sessionmaker) as work:
        session = await work.get(Session, session_id)
        event = await programme.get_event(work, 1)
        assert session is not None
        await make_registration(work, event, session, "Newcomer Nina", now=EDIT + timedelta(minutes=3))

    await send(db_sessionmaker, settings, EDIT + WINDOW)

    assert [row.to_address for row, _ in await outbox_messages(db_sessionmaker)] == [
        "ana@social-ict.example.org"]


async def test_a_session_nobody_registered_for_records_no_notice(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    session_id, _, _ = await webinar(db, settings)

    await edit_session(db_sessionmaker, settings, session_id, EDIT,
                       starts_at="2026-10-26T14:00", ends_at="2026-10-26T15:30")

    async with db_sessionmaker() as check:
        assert list(await check.scalars(select(ChangeNotice))) == []


async def test_agenda_times_across_the_change_of_the_clocks_carry_their_own_labels(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    """29 March 2026: clocks go from 02:00 CET to 03:00 CEST."""
    built = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
    event = await make_event(db, settings, SOCIAL_ICT, now=built)
    session = await make_session(db, settings, event, starts_at="2026-03-29T01:00",
                                 ends_at="2026-03-29T04:00", now=built)
    talk = await make_agenda_item(db, settings, session, "01:00", "01:30", "Night talk", now=built)
    await make_registration(db, event, session, "Ana Silva", now=built)
    await db.commit()
    edit = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    async with session_scope(db_sessionmaker) as work:
        await programme.update_agenda_item(
            work, talk.id, programme.AgendaItemUpdate(starts_at="01:40", ends_at="03:10"),
            now=edit, settings=settings)

    await send(db_sessionmaker, settings, edit + WINDOW)

    [(_, message)] = await outbox_messages(db_sessionmaker)
    assert text_of(message).split("\n\n")[2] == (
        "What changed:\n"
        "- Agenda:\n"
        "  Moved: Night talk: 01:00-01:30 CET -> 01:40 CET - 03:10 CEST")
    assert text_of(message).split("\n\n")[3].splitlines()[0] == (
        "When: Sunday 29 March 2026, 01:00 CET – 04:00 CEST (Europe/Brussels)")


async def test_a_notice_written_in_german_says_what_changed_in_german_and_is_still_a_new_time(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    """The kind of notice follows the fact that changed, not its label in one language."""
    session_id, _, _ = await webinar(db, settings, "Ana Silva")
    await db.execute(update(Registration).values(language="de"))  # Ana reads German
    await db.commit()
    await edit_session(db_sessionmaker, settings, session_id, EDIT,
                       starts_at="2026-10-26T14:00", ends_at="2026-10-26T15:30")

    report = await send(db_sessionmaker, settings, EDIT + WINDOW)

    assert report == ChangeNoticeReport(claimed=1, sent=1, emails=1)
    message = (await outbox_messages(db_sessionmaker))[0][1]
    assert subject_of(message) == (
        "Neue Zeit: Keeping social criteria alive findet jetzt am Montag, 26. Oktober 2026 um "
        "14:00 MEZ statt")
    assert text_of(message).split("\n\n")[2].splitlines()[1:3] == [
        "- Datum und Uhrzeit: Montag, 26. Oktober 2026, 10:00–11:30 MEZ (Europe/Brussels)",
        "  -> jetzt: Montag, 26. Oktober 2026, 14:00–15:30 MEZ (Europe/Brussels)",
    ]
    method, calendar = calendar_of(message)
    assert calendar is not None
    assert (method, sorted(ical_lines(calendar, "METHOD", "UID", "SEQUENCE"))) == (
        "REQUEST", ["METHOD:REQUEST", "SEQUENCE:1", "UID:session-1@events.test"])

"""Who will be told what: a preview of a change equals what the change then queues.

Each preview runs the programme command and the notice senders inside a savepoint and rolls
it back; these tests check that nothing is left behind, and that after the real change the
notice jobs queue exactly the emails (templates, counts, subjects, texts) the preview
announced. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.engine import session_scope
from service.db.models import (
    ChangeNotice,
    EnrolmentStatus,
    EventStatus,
    OutboxEmail,
    RegistrationStatus,
    Session,
    SessionStatus,
    SpeakerNotice,
)
from service.domain import programme
from service.domain.errors import ConflictError, InvalidInputError
from service.domain.notices import previews
from service.domain.notices.changes import process_due_change_notices
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
from tests.integration.mail_readers import Sessionmaker, outbox_messages, subject_of, text_of

# How pages and forms read: the database makes no difference (SQLite only).
pytestmark = pytest.mark.one_database

EDIT = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=600)
LATER = EDIT + timedelta(hours=1)


async def webinar(db: AsyncSession, sessionmaker: Sessionmaker, settings: Settings
                  ) -> tuple[int, int]:
    """Monday 26 October 2026 10:00-11:30 Brussels: a talk by Carla (Rudie, without an
    address, co-speaks); Ana and Ben have places, Cleo waits, Dan awaits approval. The
    speakers' first notice has gone out. (event id, session id)"""
    event = await make_event(db, settings, SOCIAL_ICT)
    session = await make_session(db, settings, event, starts_at="2026-10-26T10:00",
                                 ends_at="2026-10-26T11:30", now=EDIT)
    carla = await make_person(db, "Carla Canal", "carla@barcelona.example.org",
                              organisation="Barcelona City Council")
    rudie = await make_person(db, "Rudie de Vries", None, organisation="Municipality of Haarlem")
    await make_agenda_item(db, settings, session, "10:10", "10:40", "Facing market challenges",
                           [carla, rudie], now=EDIT)
    await make_registration(db, event, session, "Ana Silva")
    await make_registration(db, event, session, "Ben Weber")
    await make_registration(db, event, session, "Cleo Martin", status=RegistrationStatus.WAITING,
                            enrolment=EnrolmentStatus.WAITING)
    await make_registration(db, event, session, "Dan Novak", status=RegistrationStatus.PENDING,
                            enrolment=EnrolmentStatus.WAITING)
    await programme.publish_event(db, event.id, now=EDIT)
    await db.commit()
    await send_notices(sessionmaker, settings, EDIT + WINDOW)
    return event.id, session.id


async def send_notices(sessionmaker: Sessionmaker, settings: Settings, now: datetime) -> None:
    """What the scheduler's two notice jobs do at `now`."""
    async with session_scope(sessionmaker) as db:
        await process_due_change_notices(db, now=now, settings=settings)
        await process_due_speaker_notices(db, now=now, settings=settings)


async def stored(sessionmaker: Sessionmaker) -> tuple[int, int, int]:
    """(outbox emails, pending change notices, pending speaker notices)."""
    async with sessionmaker() as db:
        return (
            await db.scalar(select(func.count(OutboxEmail.id))) or 0,
            await db.scalar(select(func.count(ChangeNotice.id))
                            .where(ChangeNotice.status == "pending")) or 0,
            await db.scalar(select(func.count(SpeakerNotice.id))
                            .where(SpeakerNotice.status == "pending")) or 0,
        )


async def queued_after(
    sessionmaker: Sessionmaker, first_id: int
) -> list[tuple[str, str, str, str]]:
    """(template, to, subject, text with private links elided) of emails after `first_id`."""
    return [
        (row.template, row.to_address, subject_of(message),
         previews.elide_private_links(text_of(message)))
        for row, message in await outbox_messages(sessionmaker) if row.id > first_id
    ]


def announced(preview: previews.WhoWillBeTold) -> list[tuple[str, int, str, str]]:
    return [(n.template, n.emails, n.subject, n.text) for n in preview.notices]


def as_queued(queued: list[tuple[str, str, str, str]]) -> list[tuple[str, int, str, str]]:
    """The queued emails in the preview's shape: per template, its count and the first one."""
    shape: list[tuple[str, int, str, str]] = []
    for template in dict.fromkeys(q[0] for q in queued):
        these = [q for q in queued if q[0] == template]
        shape.append((template, len(these), these[0][2], these[0][3]))
    return shape


async def test_moving_a_session_previews_the_notices_then_queues_exactly_them(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    _, session_id = await webinar(db, db_sessionmaker, settings)
    before = await stored(db_sessionmaker)
    move = programme.SessionUpdate(starts_at="2026-10-26T14:00", ends_at="2026-10-26T15:30")

    async with session_scope(db_sessionmaker) as work:
        preview = await previews.preview_update_session(work, session_id, move, now=LATER,
                                                        settings=settings)
    assert await stored(db_sessionmaker) == before
    async with db_sessionmaker() as check:
        session = await check.get(Session, session_id)
        assert session is not None
        assert session.starts_at == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)

    assert (preview.action, preview.registrants, preview.registrants_told, preview.speakers,
            preview.speakers_told, preview.emails) == (
        "update_session", {"confirmed": 2, "pending": 1, "waiting": 1}, {"confirmed": 2}, 2, 1, 3)
    [to_registrants, to_speakers] = preview.notices
    assert (to_registrants.audience, to_registrants.template, to_registrants.emails,
            to_registrants.first_recipient, to_registrants.subject, to_registrants.sends_at) == (
        "registrants", "session_changed_to_registrant", 2, "Ana Silva",
        "New time: Keeping social criteria alive is now on Monday 26 October 2026 at 14:00 CET",
        LATER + WINDOW)
    assert (to_speakers.audience, to_speakers.template, to_speakers.emails,
            to_speakers.first_recipient) == (
        "speakers", "speaker_slot_changed_to_speaker", 1, "Carla Canal")
    assert "http://events.test/registrations/…" in to_registrants.text.split()
    assert "- Date and time: Monday 26 October 2026, 10:00–11:30 CET (Europe/Brussels)" in (
        to_registrants.text.splitlines())

    last_id = before[0]
    async with session_scope(db_sessionmaker) as work:
        await programme.update_session(work, session_id, move, now=LATER, settings=settings)
    await send_notices(db_sessionmaker, settings, LATER + WINDOW)

    queued = await queued_after(db_sessionmaker, last_id)
    assert as_queued(queued) == announced(preview)
    assert [q[1] for q in queued] == [
        "ana@social-ict.example.org", "ben@social-ict.example.org", "carla@barcelona.example.org"]


async def test_cancelling_the_event_previews_each_sessions_cancellation(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    event_id, _ = await webinar(db, db_sessionmaker, settings)
    before = await stored(db_sessionmaker)

    async with session_scope(db_sessionmaker) as work:
        preview = await previews.preview_cancel_event(work, event_id, now=LATER,
                                                      settings=settings)
        # The caller's session goes on after the rollback: the event loads as it is.
        assert (await programme.get_event(work, event_id)).status == EventStatus.PUBLISHED
    assert await stored(db_sessionmaker) == before

    assert [(n.audience, n.template, n.emails) for n in preview.notices] == [
        ("registrants", "session_changed_to_registrant", 2),
        ("speakers", "speaker_slot_cancelled_to_speaker", 1),
    ]
    assert preview.notices[0].subject == (
        "Cancelled: Keeping social criteria alive on Monday 26 October 2026 at 10:00 CET")
    # Nobody waiting or awaiting approval is told: the preview says so before anyone acts.
    assert (preview.registrants, preview.registrants_told) == (
        {"confirmed": 2, "pending": 1, "waiting": 1}, {"confirmed": 2})

    async with session_scope(db_sessionmaker) as work:
        await programme.cancel_event(work, event_id, now=LATER, settings=settings)
    await send_notices(db_sessionmaker, settings, LATER + WINDOW)
    assert as_queued(await queued_after(db_sessionmaker, before[0])) == announced(preview)


async def test_cancelling_a_session_previews_the_same_emails_as_it_queues(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    _, session_id = await webinar(db, db_sessionmaker, settings)
    before = await stored(db_sessionmaker)

    async with session_scope(db_sessionmaker) as work:
        preview = await previews.preview_cancel_session(work, session_id, now=LATER,
                                                        settings=settings)
    assert await stored(db_sessionmaker) == before
    async with session_scope(db_sessionmaker) as work:
        await programme.cancel_session(work, session_id, now=LATER, settings=settings)
    await send_notices(db_sessionmaker, settings, LATER + WINDOW)

    assert preview.emails == 3
    assert as_queued(await queued_after(db_sessionmaker, before[0])) == announced(preview)


async def test_publishing_tells_nobody_and_changes_nothing_until_confirmed(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    event = await make_event(db, settings, SOCIAL_ICT)
    await make_session(db, settings, event, starts_at="2026-10-26T10:00",
                       ends_at="2026-10-26T11:30", now=EDIT)
    await db.commit()

    async with session_scope(db_sessionmaker) as work:
        preview = await previews.preview_publish_event(work, event.id, now=LATER,
                                                       settings=settings)
    async with db_sessionmaker() as check:
        assert (await programme.get_event(check, event.id)).status == EventStatus.DRAFT

    assert (preview.action, preview.registrants, preview.registrants_told, preview.speakers,
            preview.notices, preview.emails) == ("publish", {}, {}, 0, (), 0)


async def test_a_refused_change_is_refused_by_its_preview_naming_the_field(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    event_id, session_id = await webinar(db, db_sessionmaker, settings)
    before = await stored(db_sessionmaker)

    async with session_scope(db_sessionmaker) as work:
        with pytest.raises(ConflictError) as refused:
            await previews.preview_unpublish_event(work, event_id, now=LATER, settings=settings)
        with pytest.raises(InvalidInputError) as gap:
            # 02:30 on 28 March 2027 does not exist in Brussels.
            await previews.preview_update_session(
                work, session_id,
                programme.SessionUpdate(starts_at="2027-03-28T02:30", ends_at="2027-03-28T04:00"),
                now=LATER, settings=settings)
    assert (refused.value.field, gap.value.field) == ("status", "starts_at")
    assert await stored(db_sessionmaker) == before
    async with db_sessionmaker() as check:
        session = await check.get(Session, session_id)
        assert session is not None
        assert (session.status, session.starts_at) == (
            SessionStatus.SCHEDULED, datetime(2026, 10, 26, 9, 0, tzinfo=UTC))

"""The dashboard's figures: places taken and left, waiting, pending, failed emails, next
reminders; the same few queries however many events. SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.outbox import OutboxEntry, queue_emails
from service.db.models import (
    EmailAttempt,
    EnrolmentStatus,
    OutboxEmail,
    OutboxStatus,
    RegistrationStatus,
)
from service.domain import programme
from service.domain.registration import dashboard
from service.settings import Settings
from tests.factories import (
    BUILT_AT,
    EventSpec,
    SessionSpec,
    make_email_message,
    make_event,
    make_registration,
)
from tests.statements import recorded_statements

NOW = datetime(2035, 11, 1, 9, 0, tzinfo=UTC)


async def _failed_email(db: AsyncSession, settings: Settings, event_id: int,
                        attempted_at: datetime) -> None:
    [email_id] = await queue_emails(db, [OutboxEntry(make_email_message(), event_id=event_id)],
                                    settings=settings, now=attempted_at)
    await db.execute(update(OutboxEmail).where(OutboxEmail.id == email_id)
                     .values(status=OutboxStatus.FAILED))
    db.add(EmailAttempt(outbox_email_id=email_id, attempted_at=attempted_at,
                        outcome="permanent", smtp_code=550, detail="no such mailbox"))
    await db.flush()


async def test_dashboard_counts_places_waiting_pending_failed_emails_and_next_reminders(
    db: AsyncSession, settings: Settings,
) -> None:
    series = await make_event(db, settings, capacity=2, commit=False, now=BUILT_AT)
    winter, spring = series.sessions
    visit = await make_event(
        db, settings, EventSpec(
            slug="citymatch-lisbon", title="CityMatch Lisbon", sessions=(
                SessionSpec("Day one", "2035-12-01T09:00", "2035-12-01T17:00", capacity=3),
                SessionSpec("Day two", "2035-12-02T09:00", "2035-12-02T17:00", capacity=1))),
        commit=False, now=BUILT_AT, allows_session_choice=True)
    day_one, day_two = visit.sessions
    draft = await make_event(db, settings, slug="draft-webinar", title="Draft webinar",
                             publish=False, commit=False, now=BUILT_AT, sessions=(
                                 SessionSpec("Later", "2036-05-01T10:00", "2036-05-01T11:00"),))
    past = await make_event(db, settings, slug="past-webinar", title="Past webinar",
                            commit=False, now=BUILT_AT, sessions=(
                                SessionSpec("Gone", "2035-10-01T10:00", "2035-10-01T11:00"),))
    gone = await make_event(db, settings, slug="cancelled-webinar", title="Cancelled webinar",
                            commit=False, now=BUILT_AT)
    await programme.cancel_event(db, gone.id, now=BUILT_AT, settings=settings)
    for name in ("Ana Silva", "Bo Berg"):
        await make_registration(db, series, winter, name)
    await make_registration(db, series, None, "Cleo Waits", status=RegistrationStatus.WAITING)
    await make_registration(db, series, None, "Dan Applies", status=RegistrationStatus.PENDING)
    await make_registration(db, visit, day_one, "Eva Visits")
    await make_registration(db, visit, day_two, "Finn Visits")
    await make_registration(db, visit, day_two, "Gus Hopes", enrolment=EnrolmentStatus.WAITING)
    await _failed_email(db, settings, series.id, NOW - timedelta(days=2))
    await _failed_email(db, settings, series.id, NOW - timedelta(days=8))
    await _failed_email(db, settings, visit.id, NOW - timedelta(hours=1))
    await _failed_email(db, settings, past.id, NOW - timedelta(days=1))
    ids = (series.id, visit.id, draft.id)
    await db.commit()

    with recorded_statements(db) as statements:
        figures = await dashboard.get_dashboard(db, now=NOW)
    scoped = await dashboard.get_dashboard(db, now=NOW, event_ids=[visit.id])

    assert [(f.event.id, f.places, f.taken, f.places_left, f.waiting, f.waiting_for_sessions,
             f.pending, f.failed_emails) for f in figures.events] == [
        (ids[0], 2, 2, 0, 1, 0, 1, 1),
        (ids[1], 4, 2, 2, 0, 1, 0, 1),
        (ids[2], None, 0, None, 0, 0, 0, 0),
    ]
    assert figures.failed_emails == 3  # the past event's counts too; the old one not
    assert [(r.session_title, r.offset_minutes, r.due_at, r.count)
            for r in figures.next_reminders] == [
        (winter.title, 1440, winter.starts_at - timedelta(days=1), 2),
        (winter.title, 60, winter.starts_at - timedelta(hours=1), 2),
        (day_one.title, 1440, day_one.starts_at - timedelta(days=1), 1),
        (day_one.title, 60, day_one.starts_at - timedelta(hours=1), 1),
        (day_two.title, 1440, day_two.starts_at - timedelta(days=1), 1),
    ]
    assert ([f.event.id for f in scoped.events], scoped.failed_emails,
            {r.event_id for r in scoped.next_reminders}) == ([visit.id], 1, {visit.id})
    assert spring.capacity is None
    # A fixed number of statements, not one per event.
    assert len(statements) == 7


async def test_dashboard_queries_do_not_grow_with_the_number_of_events(
    db: AsyncSession, settings: Settings,
) -> None:
    first = await make_event(db, settings, slug="one", commit=False, now=BUILT_AT)
    await make_registration(db, first, first.sessions[0], "Ana Silva")
    await db.commit()
    with recorded_statements(db) as one:
        await dashboard.get_dashboard(db, now=NOW)
    for number in range(5):
        event = await make_event(db, settings, slug=f"more-{number}", commit=False, now=BUILT_AT)
        await make_registration(db, event, event.sessions[0], "Bo Berg")
    await db.commit()

    with recorded_statements(db) as six:
        result = await dashboard.get_dashboard(db, now=NOW)

    assert (len(result.events), len(six)) == (6, len(one))

"""Reminders before group meetings: planned on a rolling horizon per member and occurrence,
none for a cancelled or declined occurrence, composed ahead and held in the outbox, taken
back and planned again when the occurrence moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import GroupMember, MeetingReminder, OutboxEmail, OutboxStatus
from service.domain.errors import InvalidInputError
from service.domain.groups import (
    RecurrenceRule,
    cancel_occurrence,
    create_series,
    decline_occurrence,
    move_occurrence,
    set_series_reminders,
)
from service.domain.groups.meeting_reminders import plan_reminders, prepare_meeting_reminders
from service.settings import Settings
from tests.factories import JOIN_URL, make_group_member, make_interest_group

NOW = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
WEEKLY = RecurrenceRule("weekly", weekday=1, count=20)  # Tuesdays 10:00 Brussels (09:00 UTC)
JAN_13, JAN_20, JAN_27 = (datetime(2026, 1, day, 9, tzinfo=UTC) for day in (13, 20, 27))


async def _reminders(db: AsyncSession) -> list[tuple[str, datetime, int, datetime, str]]:
    rows = (await db.execute(
        select(GroupMember.name, MeetingReminder.recurrence_id, MeetingReminder.offset_minutes,
               MeetingReminder.due_at, MeetingReminder.status)
        .join(GroupMember, GroupMember.id == MeetingReminder.member_id)
        .order_by(MeetingReminder.recurrence_id, GroupMember.name,
                  MeetingReminder.offset_minutes.desc())
        .execution_options(populate_existing=True))).all()
    return [(r[0], r[1].astimezone(UTC), r[2], r[3].astimezone(UTC), str(r[4])) for r in rows]


async def test_reminders_are_planned_per_member_and_occurrence_within_the_horizon(
    db: AsyncSession, settings: Settings
) -> None:
    group = await make_interest_group(db)
    ana = await make_group_member(db, group)
    await make_group_member(db, group, name="Ben Member", email="ben@gent.example.be")
    series = await create_series(db, group, title="Weekly call", starts_at_local="2026-01-13T10:00",
                                 duration_minutes=60, rule=WEEKLY, join_url=JOIN_URL, now=NOW,
                                 settings=settings)
    await cancel_occurrence(db, series, JAN_20, now=NOW, settings=settings)
    await decline_occurrence(db, ana, series, JAN_13, now=NOW)

    added_again = await plan_reminders(db, now=NOW, horizon=timedelta(days=27))

    assert added_again == 0  # planned when the series was created (60 days): nothing to add
    planned = [r for r in await _reminders(db) if r[1] <= JAN_27]
    assert planned == [
        ("Ana Silva", JAN_13, 1440, JAN_13 - timedelta(days=1), "cancelled"),
        ("Ana Silva", JAN_13, 60, JAN_13 - timedelta(hours=1), "cancelled"),
        ("Ben Member", JAN_13, 1440, JAN_13 - timedelta(days=1), "pending"),
        ("Ben Member", JAN_13, 60, JAN_13 - timedelta(hours=1), "pending"),
        ("Ana Silva", JAN_27, 1440, JAN_27 - timedelta(days=1), "pending"),
        ("Ana Silva", JAN_27, 60, JAN_27 - timedelta(hours=1), "pending"),
        ("Ben Member", JAN_27, 1440, JAN_27 - timedelta(days=1), "pending"),
        ("Ben Member", JAN_27, 60, JAN_27 - timedelta(hours=1), "pending"),
    ]
    horizon = NOW + timedelta(days=60)
    assert max(r[1] for r in await _reminders(db)) <= horizon


async def test_the_series_reminders_are_changed_and_every_one_to_come_planned_again(
    db: AsyncSession, settings: Settings
) -> None:
    group = await make_interest_group(db)
    await make_group_member(db, group)
    series = await create_series(db, group, title="Weekly call", starts_at_local="2026-01-13T10:00",
                                 duration_minutes=60, rule=WEEKLY, join_url=JOIN_URL, now=NOW,
                                 settings=settings)

    async def first_meeting() -> list[tuple[int, datetime, str]]:
        return [(offset, due, status) for _, rid, offset, due, status in await _reminders(db)
                if rid == JAN_13]

    await set_series_reminders(db, series, [2880, 30], now=NOW)
    own = await first_meeting()
    with pytest.raises(InvalidInputError) as refused:
        await set_series_reminders(db, series, [1], now=NOW)
    await set_series_reminders(db, series, None, now=NOW)

    assert own == [(2880, JAN_13 - timedelta(days=2), "pending"),
                   (30, JAN_13 - timedelta(minutes=30), "pending")]
    assert [e.field for e in refused.value.errors] == ["reminder_offsets_minutes"]
    assert await first_meeting() == [(1440, JAN_13 - timedelta(days=1), "pending"),
                                      (60, JAN_13 - timedelta(hours=1), "pending")]
    assert series.reminder_offsets_minutes is None


async def test_a_reminder_is_composed_ahead_once_and_taken_back_when_the_meeting_moves(
    db: AsyncSession, db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    group = await make_interest_group(db)
    await make_group_member(db, group)
    series = await create_series(db, group, title="Weekly call", starts_at_local="2026-01-13T10:00",
                                 duration_minutes=60, rule=WEEKLY, join_url=JOIN_URL, now=NOW,
                                 settings=settings)
    await db.commit()
    composing_at = JAN_13 - timedelta(days=1, minutes=20)  # within the 30 minutes ahead

    first = await prepare_meeting_reminders(db, now=composing_at, settings=settings)
    second = await prepare_meeting_reminders(db, now=composing_at, settings=settings)
    await db.commit()
    email = await db.scalar(select(OutboxEmail).where(OutboxEmail.template ==
                                                      "group_meeting_reminder_to_member"))
    assert email is not None
    assert (first.sent, second.claimed) == (1, 0)
    assert (email.to_address, email.status, email.next_attempt_at.astimezone(UTC),
            email.expires_at and email.expires_at.astimezone(UTC), email.subject) == (
        "ana.silva@lisboa.example.pt", OutboxStatus.QUEUED, JAN_13 - timedelta(days=1), JAN_13,
        "Reminder: Weekly call starts tomorrow at 10:00 CET")

    await move_occurrence(db, series, JAN_13, starts_at_local="2026-01-15T10:00",
                          now=composing_at, settings=settings)
    await db.commit()

    await db.refresh(email)
    moved = datetime(2026, 1, 15, 9, tzinfo=UTC)
    assert email.status == OutboxStatus.WITHDRAWN
    assert [r for r in await _reminders(db) if r[1] == JAN_13] == [
        ("Ana Silva", JAN_13, 1440, moved - timedelta(days=1), "pending"),
        ("Ana Silva", JAN_13, 60, moved - timedelta(hours=1), "pending"),
    ]


async def test_a_reminder_delivered_before_its_meeting_moved_is_sent_again_for_the_new_time(
    db: AsyncSession, settings: Settings
) -> None:
    group = await make_interest_group(db)
    await make_group_member(db, group)
    series = await create_series(db, group, title="Weekly call", starts_at_local="2026-01-13T10:00",
                                 duration_minutes=60, rule=WEEKLY, join_url=JOIN_URL, now=NOW,
                                 settings=settings)
    await prepare_meeting_reminders(db, now=JAN_13 - timedelta(days=1, minutes=20),
                                    settings=settings)
    email = await db.scalar(select(OutboxEmail).where(OutboxEmail.template ==
                                                      "group_meeting_reminder_to_member"))
    assert email is not None
    email.status, email.sent_at = OutboxStatus.SENT, JAN_13 - timedelta(days=1)  # delivered
    await db.commit()
    later_that_day = JAN_13 - timedelta(hours=20)

    await move_occurrence(db, series, JAN_13, starts_at_local="2026-01-15T10:00",
                          now=later_that_day, settings=settings)
    await db.commit()

    await db.refresh(email)
    moved = datetime(2026, 1, 15, 9, tzinfo=UTC)
    assert email.status == OutboxStatus.SENT
    assert [r for r in await _reminders(db) if r[1] == JAN_13] == [
        ("Ana Silva", JAN_13, 1440, moved - timedelta(days=1), "pending"),
        ("Ana Silva", JAN_13, 60, moved - timedelta(hours=1), "pending"),
    ]

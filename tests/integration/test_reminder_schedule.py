"""The organisers' reminder schedule (domain, both databases): one row per session and
offset with its due time and counts per state, agreeing with the reminder list; and the
policy form's rows read into offsets, every problem named at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.engine import session_scope
from service.domain import programme
from service.domain.errors import InvalidInputError
from service.domain.reminders import list_reminders_for_event, prepare_reminders
from service.domain.reminders.schedule import (
    offset_text,
    offsets_from_parts,
    reminder_schedule,
)
from service.settings import Settings
from tests.integration.mail_readers import Sessionmaker
from tests.integration.test_reminders import (
    DAY_BEFORE,
    HOUR_BEFORE,
    webinar_with_registrants,
)

EARLY = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


def _rows(schedule: object) -> list[tuple[int, datetime, bool, dict[str, int]]]:
    return [(row.offset_minutes, row.due_at, row.is_in_policy,
             {k: v for k, v in row.counts.items() if v})
            for row in schedule.rows]  # type: ignore[attr-defined]


async def test_the_schedule_counts_each_session_and_offset_as_the_reminder_list_does(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    event_id, _, _ = await webinar_with_registrants(db, settings, "Ana Silva", "Ben Weber")
    # Composed ahead (within the preparation window of the day-before reminder): still
    # "scheduled" until its time.
    async with session_scope(db_sessionmaker) as work:
        await prepare_reminders(work, now=DAY_BEFORE - timedelta(minutes=10), settings=settings,
                                batch_size=100)

    async with db_sessionmaker() as read:
        schedule = await reminder_schedule(read, event_id, now=DAY_BEFORE - timedelta(minutes=5))
        listed = await list_reminders_for_event(read, event_id,
                                                now=DAY_BEFORE - timedelta(minutes=5))

    assert (schedule.offsets, schedule.is_default_policy, schedule.timezone) == (
        (1440, 60), True, "Europe/Brussels")
    assert _rows(schedule) == [
        (1440, DAY_BEFORE, True, {"scheduled": 2}),
        (60, HOUR_BEFORE, True, {"scheduled": 2}),
    ]
    assert schedule.totals == listed.counts


async def test_a_new_policy_shows_its_offsets_and_the_cancelled_old_ones(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    event_id, _, _ = await webinar_with_registrants(db, settings, "Ana Silva")
    async with session_scope(db_sessionmaker) as work:
        await programme.update_event(work, event_id,
                                     programme.EventUpdate(reminder_offsets_minutes=[2880, 60]),
                                     now=EARLY, settings=settings)

    async with db_sessionmaker() as read:
        schedule = await reminder_schedule(read, event_id, now=EARLY)

    assert (schedule.offsets, schedule.is_default_policy, schedule.default_offsets) == (
        (2880, 60), False, (1440, 60))
    assert _rows(schedule) == [
        # Saturday 10:00 in Brussels, still summer time (CEST).
        (2880, datetime(2026, 10, 24, 8, 0, tzinfo=UTC), True, {"scheduled": 1}),
        (1440, DAY_BEFORE, False, {"cancelled": 1}),
        (60, HOUR_BEFORE, True, {"scheduled": 1}),
    ]


def test_policy_rows_become_offsets_largest_first_blank_rows_skipped() -> None:
    assert offsets_from_parts([("1", "days"), ("", "hours"), ("90", "minutes"),
                               ("1", "days")]) == [1440, 90]
    assert [offset_text(m) for m in (10080, 1440, 120, 60, 90, 1)] == [
        "7 days", "1 day", "2 hours", "1 hour", "90 minutes", "1 minute"]


def test_every_bad_policy_row_is_named_at_once() -> None:
    with pytest.raises(InvalidInputError) as refused:
        offsets_from_parts([("one", "days"), ("61", "days"), ("2", "weeks"), ("1", "hours")])

    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("offset-1-amount", "Write a whole number, such as 1 or 24."),
        ("offset-2-amount", "Each reminder is 1 minute to 60 days before the session."),
        ("offset-3-unit", "Choose days, hours or minutes."),
    ]


def test_a_policy_needs_at_least_one_reminder() -> None:
    with pytest.raises(InvalidInputError) as refused:
        offsets_from_parts([("", "days"), (" ", "hours")])

    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("offset-1-amount", "Give at least one reminder, or choose the default.")]

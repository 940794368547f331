"""The agenda editor's domain: moving an item up or down, and the problems listed beside
each item (gaps, overlaps, items outside the session, clock changes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Session
from service.domain import programme
from service.domain.errors import InvalidInputError
from service.domain.programme.agenda_review import AgendaProblem, Slot, review_slots
from service.settings import Settings
from tests.factories import DEMO_LOADED_AT, EventSpec, SessionSpec, make_agenda_item, make_event

NOW = DEMO_LOADED_AT
SPEC = EventSpec(slug="agenda-editing", sessions=(
    SessionSpec("Social criteria", "2020-11-09T10:00", "2020-11-09T11:45"),), publish=False,
    now=NOW)


async def _times(db: AsyncSession, session_id: int) -> list[tuple[str, str, str, int]]:
    db.expire_all()
    session = await programme.get_session(db, session_id)
    return [(i.title, i.starts_at.astimezone(UTC).strftime("%H:%M"),
             i.ends_at.astimezone(UTC).strftime("%H:%M"), i.sequence)
            for i in sorted(session.agenda_items, key=lambda i: i.starts_at)]


async def _session(db: AsyncSession, settings: Settings) -> Session:
    event = await make_event(db, settings, SPEC)
    session = event.sessions[0]
    await make_agenda_item(db, settings, session, "10:00", "10:10", "Welcome")
    await make_agenda_item(db, settings, session, "10:10", "10:40", "Barcelona")
    await make_agenda_item(db, settings, session, "10:50", "11:10", "Haarlem")
    await db.commit()
    return session


async def test_moving_an_item_up_swaps_it_with_the_one_before(
    db: AsyncSession, settings: Settings,
) -> None:
    session = await _session(db, settings)
    session_id = session.id
    haarlem = next(i for i in (await programme.get_session(db, session_id)).agenda_items
                   if i.title == "Haarlem")

    await programme.move_agenda_item(db, haarlem.id, earlier=True, now=NOW, settings=settings)
    await db.commit()

    # Haarlem (20 min) takes 10:10 UTC+1, the 10-minute gap stays, Barcelona (30 min) follows.
    assert await _times(db, session_id) == [
        ("Welcome", "09:00", "09:10", 0), ("Haarlem", "09:10", "09:30", 1),
        ("Barcelona", "09:40", "10:10", 1)]


async def test_moving_the_first_item_up_is_refused_naming_the_position(
    db: AsyncSession, settings: Settings,
) -> None:
    session = await _session(db, settings)
    session_id = session.id
    welcome = next(i for i in (await programme.get_session(db, session_id)).agenda_items
                   if i.title == "Welcome")

    with pytest.raises(InvalidInputError) as refused:
        await programme.move_agenda_item(db, welcome.id, earlier=True, now=NOW, settings=settings)

    assert (refused.value.field, refused.value.message) == (
        "position", "'Welcome' is the first item already.")
    await db.rollback()
    assert await _times(db, session_id) == [
        ("Welcome", "09:00", "09:10", 0), ("Barcelona", "09:10", "09:40", 0),
        ("Haarlem", "09:50", "10:10", 0)]


async def test_review_lists_gaps_and_the_unused_end_of_the_session(
    db: AsyncSession, settings: Settings,
) -> None:
    session = await _session(db, settings)
    loaded = await programme.get_session(db, session.id)
    ids = {i.title: i.id for i in loaded.agenda_items}

    assert programme.review_agenda(loaded) == [
        AgendaProblem(ids["Haarlem"], "starts_at", "A gap of 10 min after 'Barcelona'.",
                      is_warning=True),
        AgendaProblem(ids["Haarlem"], "ends_at",
                      "The agenda ends 35 min before the session (11:45).", is_warning=True),
    ]


def test_review_of_slots_names_overlaps_items_outside_and_clock_changes() -> None:
    start = datetime(2026, 10, 25, 0, 0, tzinfo=UTC)  # 02:00 CEST, the night clocks go back
    end = start + timedelta(hours=3)  # 02:00 CET
    slots = [
        Slot("a", "Early", start - timedelta(minutes=15), start + timedelta(minutes=30)),
        Slot("b", "Overlapping", start + timedelta(minutes=20), start + timedelta(hours=1, minutes=30)),
        Slot("c", "Late", start + timedelta(hours=2, minutes=30), end + timedelta(minutes=10)),
    ]

    problems = review_slots(slots, session_starts_at=start, session_ends_at=end,
                            zone_name="Europe/Brussels")

    assert problems == [
        AgendaProblem("a", "starts_at", "Starts before the session does (02:00)."),
        AgendaProblem("a", "ends_at", "02:30 happens twice that day in Europe/Brussels "
                      "(clocks go back): readers may take the other one.", is_warning=True),
        AgendaProblem("b", "starts_at", "Overlaps 'Early' (01:45–02:30)."),
        AgendaProblem("b", "starts_at", "02:20 happens twice that day in Europe/Brussels "
                      "(clocks go back): readers may take the other one.", is_warning=True),
        AgendaProblem("b", "ends_at", "02:30 happens twice that day in Europe/Brussels "
                      "(clocks go back): readers may take the other one.", is_warning=True),
        AgendaProblem("b", "ends_at", "The clocks change during this item: it lasts 1 h 10 min, "
                      "not what the wall clock says.", is_warning=True),
        AgendaProblem("c", "starts_at", "A gap of 1 h after 'Overlapping'.", is_warning=True),
        AgendaProblem("c", "ends_at", "Ends after the session does (04:00)."),
    ]

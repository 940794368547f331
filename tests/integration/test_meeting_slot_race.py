"""Two suppliers taking the last free slot of a host at the same moment: exactly one has it.

Each supplier's request runs in its own engine (as two web processes would), both at once
on this loop, each committing its own transaction. The slot's check passes for both; the
database's partial unique indexes (a host, a table, a supplier: one live meeting per slot)
let one INSERT through and refuse the other, which the domain reports as a 409 naming the
slot. On SQLite the second writer waits for the first's lock, then meets the index.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.engine import create_engine, make_sessionmaker
from service.db.models import OneToOneMeeting, OneToOneStatus
from service.domain.consultation import meetings
from service.domain.errors import ConflictError
from service.settings import Settings
from tests.factories import BUILT_AT
from tests.integration.meeting_fixtures import grid_input, make_consultation

P = meetings.Period


async def test_two_suppliers_taking_the_last_free_slot_at_once_one_gets_it(
    db: AsyncSession, settings: Settings
) -> None:
    c = await make_consultation(db, settings, suppliers=2, hosts=1,
                                grid=grid_input(suppliers_pick_slots=True, accepts_automatically=True))
    host = c.hosts[0]
    # The host is free for one slot only: 09:00-09:20.
    await meetings.set_availability(db, c.event.id, host.id, [P("2035-11-12", "09:00", "09:25")],
                                    now=BUILT_AT)
    requests = [
        (await meetings.request_meetings(db, s.id, [host.id], "Docking stations", now=BUILT_AT,
                                         settings=settings))[0]
        for s in c.suppliers
    ]
    [slot] = await meetings.free_slots_for(db, c.suppliers[0].id, requests[0].id)
    slot_id, event_id = slot.id, c.event.id
    suppliers, request_ids = [s.id for s in c.suppliers], [r.id for r in requests]
    await db.commit()

    engines = [create_engine(settings.database_url) for _ in suppliers]
    try:
        async def take(index: int) -> int | str:
            async with make_sessionmaker(engines[index])() as session:
                try:
                    meeting = await meetings.pick_slot(
                        session, suppliers[index], request_ids[index], slot_id, now=BUILT_AT,
                        settings=settings)
                except ConflictError as refused:
                    await session.rollback()
                    return f"409 {refused.field}"
                await session.commit()
                return meeting.id

        outcomes = await asyncio.gather(take(0), take(1))
    finally:
        for engine in engines:
            await engine.dispose()

    winners = [o for o in outcomes if isinstance(o, int)]
    assert sorted(map(str, outcomes)) == sorted([str(winners[0]), "409 slot_id"])
    db.expire_all()
    live = (await db.execute(select(OneToOneMeeting.id, OneToOneMeeting.slot_id, OneToOneMeeting.status)
                             .where(OneToOneMeeting.event_id == event_id))).all()
    assert live == [(winners[0], slot_id, OneToOneStatus.SCHEDULED)]

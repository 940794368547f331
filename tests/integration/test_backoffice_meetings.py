"""The back office's one-to-one meeting pages: the schedule grid, the grid editor, hosts'
availability and requests, each read and changed over HTTP as a browser would."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    MeetingGridDay,
    MeetingRequestStatus,
    MeetingTable,
    OneToOneMeeting,
    OutboxEmail,
)
from service.domain.consultation import meetings
from service.settings import Settings
from tests.factories import BUILT_AT
from tests.integration.backoffice import SignedInClient
from tests.integration.meeting_fixtures import make_consultation


async def test_an_organiser_answers_requests_schedules_all_and_sees_the_grid(
    db: AsyncSession, settings: Settings, organiser_client: SignedInClient
) -> None:
    c = await make_consultation(db, settings, suppliers=2, hosts=1)
    for supplier in c.suppliers:
        await meetings.request_meetings(db, supplier.id, [c.hosts[0].id], "Refurbished <laptops>",
                                        now=BUILT_AT, settings=settings)
    event_id = c.event.id
    request_ids = [r.id for r in await meetings.requests_of(db, event_id)]
    await db.commit()
    base = f"/organiser/events/{event_id}/meetings"

    page = await organiser_client.get(f"{base}/requests")
    assert page.status_code == 200
    assert page.text.count("Waiting for the host") == 2
    assert "Refurbished &lt;laptops&gt;" in page.text
    for request_id in request_ids:
        answer = await organiser_client.post_form(f"{base}/requests/decide",
                                                  {"request_id": str(request_id), "decision": "accept"})
        assert (answer.status_code, answer.headers["location"]) == (303, f"{base}/requests?done=decided")

    answer = await organiser_client.post_form(f"{base}/schedule-all")
    assert (answer.status_code, answer.headers["location"]) == (303, f"{base}?done=scheduled")
    page = await organiser_client.get(f"{base}?done=scheduled")
    assert page.status_code == 200
    assert page.text.count("</strong> with Host 1<br>") == 2
    assert "Schedule all has run" in page.text
    db.expire_all()
    assert await db.scalar(select(func.count()).select_from(OneToOneMeeting)) == 2
    # The invites, and reminders 7 days and 1 day before (the kind's policy) held until due.
    assert await db.scalar(select(func.count()).select_from(OutboxEmail)
                           .where(OutboxEmail.dedupe_key.is_(None))) == 4
    assert await db.scalar(select(func.count()).select_from(OutboxEmail)
                           .where(OutboxEmail.dedupe_key.like("meeting-reminder:%"))) == 8
    assert [r.status for r in await meetings.requests_of(db, event_id)] == [MeetingRequestStatus.ACCEPTED] * 2
    # The event's Reminders page counts them, per offset, beside the sessions' schedule.
    page = await organiser_client.get(f"/organiser/events/{event_id}/reminders")
    section = page.text.split("<h2>One-to-one meetings</h2>", 1)[1].split("</table>", 1)[0]
    assert (page.status_code, re.findall(r"<tr><th scope=\"row\">([^<]+)</th><td>([^<]+)</td>",
                                         section)) == (
        200, [("7 days", "Scheduled: 4"), ("1 day", "Scheduled: 4")])


async def test_a_bad_grid_or_availability_is_refused_on_the_page_naming_the_field(
    db: AsyncSession, settings: Settings, organiser_client: SignedInClient
) -> None:
    c = await make_consultation(db, settings, suppliers=0, hosts=1)
    event_id, host_id = c.event.id, c.hosts[0].id
    await db.commit()
    base = f"/organiser/events/{event_id}/meetings"
    page = await organiser_client.get(f"{base}/grid")
    assert page.status_code == 200
    assert "2035-11-12 09:00-10:30\n2035-11-12 12:00-13:00</textarea>" in page.text

    refused = await organiser_client.post_form(f"{base}/grid", {
        "meeting_minutes": "20", "gap_minutes": "0", "tables": "Table 1",
        "days": "2035-11-12 09:00-11:00\n2035-11-12 10:30-12:00"})
    assert refused.status_code == 422
    assert '<a href="#days">Two days&#39; times overlap.</a>' in refused.text
    db.expire_all()
    assert await db.scalar(select(func.count()).select_from(MeetingGridDay)) == 2

    refused = await organiser_client.post_form(f"{base}/hosts/availability", {
        "host_id": str(host_id), "availability": "2035-11-12 15:00-16:00"})
    assert refused.status_code == 422
    assert '<a href="#availability">2035-11-12 15:00-16:00 is outside the meeting days.</a>' in refused.text
    page = await organiser_client.get(f"{base}/hosts")
    assert (page.status_code, "Availability of Host 1" in page.text) == (200, True)


async def test_a_long_list_of_tables_is_kept_whole_or_refused_whole(
    db: AsyncSession, settings: Settings, organiser_client: SignedInClient
) -> None:
    """150 online tables with their join links (about 9,000 characters) are all kept as
    typed; a list longer than the box holds is refused naming it, and nothing changes (it
    was read cut short before, and a join link cut in the middle was kept)."""
    c = await make_consultation(db, settings, suppliers=0, hosts=1)
    event_id = c.event.id
    await db.commit()
    url = f"/organiser/events/{event_id}/meetings/grid"
    tables = [f"Room {n} https://meet.example.org/haarlem-dialogue-room-{n:03d}"
              for n in range(1, 151)]
    grid = {"meeting_minutes": "20", "gap_minutes": "0",
            "days": "2035-11-12 09:00-10:30\n2035-11-12 12:00-13:00"}

    saved = await organiser_client.post_form(url, grid | {"tables": "\n".join(tables)})
    db.expire_all()
    kept = list(await db.execute(select(MeetingTable.name, MeetingTable.join_url)
                                 .where(MeetingTable.event_id == event_id)
                                 .order_by(MeetingTable.id)))
    too_long = await organiser_client.post_form(url, grid | {
        "tables": "\n".join(tables + [f"Spare {n}" for n in range(2_000)])})
    db.expire_all()
    after = await db.scalar(select(func.count()).select_from(MeetingTable)
                            .where(MeetingTable.event_id == event_id))

    assert len("\n".join(tables)) > 4_000 and saved.status_code == 303
    assert kept[-1] == ("Room 150", "https://meet.example.org/haarlem-dialogue-room-150")
    assert len(kept) == 150
    assert too_long.status_code == 422
    assert '<a href="#tables">At most 20000 characters.</a>' in too_long.text
    assert after == 150

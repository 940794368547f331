"""The service reads one time-zone database, the pinned `tzdata`, whatever the machine has.

Africa/Casablanca is the witness: tzdata 2026f (pinned) keeps +00 from 2026-09-20, while
older copies (Debian's 2025b on the machine this was written on) keep +01 with a Ramadan
break. The test on the system copy lives in tests/unit/test_zones.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Session
from tests.unit.test_ical import blocks, read_vobject_via_vtimezones

Client = AsyncTestClient[Litestar]

# What tzdata 2026f says for 2026 in Casablanca: the VTIMEZONE built from it.
PINNED_CASABLANCA_2026 = [
    ["TZID:Africa/Casablanca",
     "BEGIN:DAYLIGHT", "DTSTART:20250406T020000", "TZOFFSETFROM:+0000", "TZOFFSETTO:+0100",
     "TZNAME:+01", "END:DAYLIGHT",
     "BEGIN:STANDARD", "DTSTART:20260215T030000", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0000",
     "TZNAME:+00", "END:STANDARD",
     "BEGIN:DAYLIGHT", "DTSTART:20260322T020000", "TZOFFSETFROM:+0000", "TZOFFSETTO:+0100",
     "TZNAME:+01", "END:DAYLIGHT",
     "BEGIN:STANDARD", "DTSTART:20260920T020000", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0000",
     "TZNAME:+00", "END:STANDARD"],
]


async def _post(client: Client, headers: dict[str, str], url: str, body: dict[str, Any]) -> Any:
    return await client.post(url, json=body, headers=headers)


async def test_casablanca_sessions_follow_the_pinned_database(
    client: Client, organiser_headers: dict[str, str], db: AsyncSession
) -> None:
    event = (await _post(client, organiser_headers, "/api/organiser/events", {
        "kind": "seminar", "title": "Rabat procurement seminar",
        "timezone": "Africa/Casablanca"})).json()
    sessions_url = f"/api/organiser/events/{event['id']}/sessions"

    # 10:00 in Casablanca on 15 October 2026 is 10:00 UTC (+00); the old rules said 09:00.
    autumn = await _post(client, organiser_headers, sessions_url, {
        "title": "Opening", "starts_at": "2026-10-15T10:00", "ends_at": "2026-10-15T11:30"})
    # 02:30 on 14 March 2027 exists now; the old rules put it in a spring-forward gap.
    night = await _post(client, organiser_headers, sessions_url, {
        "title": "Night market", "starts_at": "2027-03-14T02:30", "ends_at": "2027-03-14T03:30"})
    # 01:30 on 20 September 2026 happens twice now (clocks go back); the old rules had no change.
    fold = await _post(client, organiser_headers, sessions_url, {
        "title": "Changeover", "starts_at": "2026-09-20T01:30", "ends_at": "2026-09-20T04:00"})

    assert (autumn.status_code, autumn.json()["starts"]["utc"],
            autumn.json()["starts"]["abbreviation"]) == (201, "2026-10-15T10:00:00Z", "+00")
    assert (night.status_code, night.json()["starts"]["utc"]) == (201, "2027-03-14T02:30:00Z")
    assert (fold.status_code, [e["field"] for e in fold.json()["errors"]]) == (422, ["starts_at"])
    assert "happens twice" in fold.json()["detail"]
    stored = (await db.scalars(select(Session.starts_at).order_by(Session.starts_at))).all()
    assert [instant.astimezone(UTC) for instant in stored] == [
        datetime(2026, 10, 15, 10, 0, tzinfo=UTC), datetime(2027, 3, 14, 2, 30, tzinfo=UTC)]

    await client.post(f"/api/organiser/events/{event['id']}/publish", headers=organiser_headers)
    download = await client.get(f"/feeds/sessions/{autumn.json()['id']}.ics")

    assert blocks(download.content, "VTIMEZONE") == PINNED_CASABLANCA_2026
    # Read through the calendar's own VTIMEZONE, as a calendar app with no zone data would.
    assert list(read_vobject_via_vtimezones(download.content).values()) == [
        (datetime(2026, 10, 15, 10, 0, tzinfo=UTC), datetime(2026, 10, 15, 11, 30, tzinfo=UTC))]

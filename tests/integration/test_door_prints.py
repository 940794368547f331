"""What is printed for a session's door, through real HTTP: the attendance sheet and the
name badges of a two-day seminar list, by name, exactly those holding a place that day (not
who waits, who gave that day up, or who holds only the other day), escaped, with their
organisation and country, and blank numbered lines for walk-ins; the check-in page links
to both; a viewer reads them, another team cannot, nor another event's session. Both
databases.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import EnrolmentStatus, EventKind, RegistrationStatus
from service.settings import Settings
from service.web.backoffice.door_prints import BLANK_LINES
from tests.factories import VISIT, EventSpec, make_event, make_registration
from tests.integration.backoffice import SignedInClient
from tests.integration.test_pages import parse
from tests.integration.test_registration_on_behalf import DAY_1, DAY_2


async def test_each_day_prints_its_own_sheet_and_badges_of_who_has_a_place(
    organiser_client: SignedInClient, viewer_client: SignedInClient,
    other_team_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, EventSpec(
        slug="seminar", title="Seminar", kind=EventKind.SEMINAR, sessions=(DAY_1, DAY_2),
        commit=False, extra={"venue_name": "Stadhuis", "venue_city": "Haarlem"}))
    other = await make_event(db, settings, EventSpec(
        slug="visit", title="Visit", kind=EventKind.CITYMATCH, sessions=(VISIT,), commit=False))
    day_1, day_2 = sorted(event.sessions, key=lambda s: s.starts_at)
    ana = await make_registration(db, event, day_1, "Ana Silva", organisation="City of Lisbon")
    ana.country = "PT"
    await make_registration(db, event, day_1, "<b>Bold</b> Name", organisation="Ville & Cie")
    await make_registration(db, event, day_1, "Carla Waiting", status=RegistrationStatus.WAITING,
                            enrolment=EnrolmentStatus.WAITING)
    await make_registration(db, event, day_1, "Dora Gave-Up", enrolment=EnrolmentStatus.CANCELLED)
    await make_registration(db, event, day_2, "Emil Second-Day")
    await db.commit()
    ids = {"event": event.id, "day_1": day_1.id, "day_2": day_2.id,
           "elsewhere": other.sessions[0].id}
    base = f"/organiser/events/{ids['event']}/check-in"

    check_in = await organiser_client.get(base, params={"session": ids["day_1"]})
    sheet = await organiser_client.get(f"{base}/sheet", params={"session": ids["day_1"]})
    badges = await organiser_client.get(f"{base}/badges", params={"session": ids["day_2"]})
    as_viewer = await viewer_client.get(f"{base}/sheet", params={"session": ids["day_1"]})
    refused = [await other_team_client.get(f"{base}/sheet"),
               await other_team_client.get(f"{base}/badges"),
               await organiser_client.get(f"{base}/sheet", params={"session": ids["elsewhere"]})]

    links = [a.attrs["href"] for a in parse(check_in.text).find_all("a")]
    assert f"{base}/sheet?session={ids['day_1']}" in links
    assert f"{base}/badges?session={ids['day_1']}" in links
    assert (sheet.status_code, sheet.headers["cache-control"]) == (200, "no-store")
    facts = parse(sheet.text).one("dl", cls="sheet-facts").find_all("dd")
    assert facts[1].text.startswith("Day 1 (") and facts[2].text == "Stadhuis, Haarlem"
    rows = parse(sheet.text).one("table", cls="attendance-sheet").one("tbody").find_all("tr")
    cells = [[cell.text for cell in row.children if not isinstance(cell, str)] for row in rows]
    assert cells[:2] == [["1", "<b>Bold</b> Name", "Ville & Cie", "", ""],
                         ["2", "Ana Silva", "City of Lisbon", "Portugal", ""]]
    assert "&lt;b&gt;Bold&lt;/b&gt; Name" in sheet.text and "Ville &amp; Cie" in sheet.text
    assert cells[2:] == [[str(n), "", "", "", ""] for n in range(3, 3 + BLANK_LINES)]
    assert [p.text for p in parse(badges.text).find_all("p", cls="badge-name")] == [
        "Emil Second-Day"]
    assert as_viewer.status_code == 200
    assert [r.status_code for r in refused] == [403, 403, 404]

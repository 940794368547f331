"""Participation in figures, through real HTTP: an event's registrations by state, who has
a place and who came, by country and type of organisation (a country not given counted
apart, last; unconfirmed addresses and those neither registered nor come left out), as a
page and as a spreadsheet; a viewer reads them, another team cannot; and a year's programme
gathered the same way, event by event. Both databases.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    EnrolmentStatus,
    EventKind,
    Feedback,
    OrganisationKind,
    RegistrationStatus,
)
from service.domain import registration
from service.domain.accounts import find_or_create_team
from service.domain.auth import create_api_token
from service.settings import Settings
from tests.factories import BUILT_AT, VISIT, EventSpec, make_event, make_registration
from tests.integration.backoffice import SignedInClient
from tests.integration.test_pages import Element, parse


def _cells(table: Element) -> list[list[str]]:
    """The table's body, row by row, cell by cell."""
    return [[cell.text for cell in row.children if not isinstance(cell, str)]
            for row in table.one("tbody").find_all("tr")]


async def test_figures_count_who_registered_and_came_by_country_and_kind(
    organiser_client: SignedInClient, viewer_client: SignedInClient,
    other_team_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, EventSpec(commit=False))
    first = sorted(event.sessions, key=lambda s: s.starts_at)[0]
    people = {
        "Ana Silva": (RegistrationStatus.CONFIRMED, "PT", OrganisationKind.PUBLIC_AUTHORITY),
        "Bruno Costa": (RegistrationStatus.CONFIRMED, "PT", OrganisationKind.SUPPLIER),
        "Carla Canal": (RegistrationStatus.WAITING, "ES", OrganisationKind.PUBLIC_AUTHORITY),
        "Dora Weiss": (RegistrationStatus.CONFIRMED, None, None),
        "Emil Novak": (RegistrationStatus.CANCELLED, "DE", OrganisationKind.SUPPLIER),
        "Fritz Unsure": (RegistrationStatus.UNCONFIRMED, "AT", OrganisationKind.SUPPLIER),
    }
    made = {}
    for name, (status, country, kind) in people.items():
        person = await make_registration(
            db, event, first, name, status=status,
            enrolment=EnrolmentStatus.CONFIRMED if status == RegistrationStatus.CONFIRMED
            else EnrolmentStatus.WAITING)
        person.country, person.organisation_kind = country, kind
        made[name] = person.id
    for name in ("Ana Silva", "Carla Canal"):  # Carla waited, and came all the same
        await registration.check_in(db, event, made[name], session_id=first.id,
                                    present=True, now=BUILT_AT)
    await db.commit()
    url = f"/organiser/events/{event.id}/figures"

    page = await organiser_client.get(url)
    sheet = await organiser_client.get(f"{url}.csv")
    as_viewer = await viewer_client.get(url)
    refused = [await other_team_client.get(url), await other_team_client.get(f"{url}.csv")]

    cells = [_cells(table) for table in parse(page.text).find_all("table")]
    assert cells[0] == [["Confirmed", "3"], ["On the waiting list", "1"], ["Cancelled", "1"]]
    assert cells[1] == [["Portugal", "2", "1"], ["Spain", "0", "1"], ["Not given", "1", "0"]]
    assert cells[2] == [["Public authority", "1", "2"], ["Supplier or company", "1", "0"],
                        ["Not given", "1", "0"]]
    assert "Registered: 3 with a place; came: 2" in page.text
    assert (sheet.status_code, sheet.headers["content-type"].split(";")[0]) == (200, "text/csv")
    lines = sheet.content.decode("utf-8-sig").splitlines()
    assert lines[:3] == ["group,value,registered,came", "total,,3,2", "status,Confirmed,3,"]
    assert "country,Portugal,2,1" in lines and "organisation kind,Not given,1,0" in lines
    assert as_viewer.status_code == 200
    assert [r.status_code for r in refused] == [403, 403]


async def test_a_years_figures_gather_the_published_events_held_that_year(
    organiser_client: SignedInClient, other_team_client: SignedInClient, db: AsyncSession,
    settings: Settings,
) -> None:
    """Webinars in November 2035 and April 2036 count in 2035, the year they start, and
    not again in 2036; a study visit in September 2035 comes first in 2035; a draft is
    left out; another team sees none of
    them; a year out of range is refused naming it. Ana, registered for the webinars and
    the visit, is one person reached; the webinars' feedback shows beside them."""
    webinars = await make_event(db, settings, EventSpec(commit=False))
    visit = await make_event(db, settings, EventSpec(
        slug="visit", title="Study visit", kind=EventKind.CITYMATCH, sessions=(VISIT,),
        commit=False))
    draft = await make_event(db, settings, EventSpec(
        slug="draft", title="Draft visit", kind=EventKind.CITYMATCH, sessions=(VISIT,),
        publish=False, commit=False))
    winter = sorted(webinars.sessions, key=lambda s: s.starts_at)[0]
    ana = await make_registration(db, webinars, winter, "Ana Silva",
                                  email_address="ana@lisboa.example.pt")
    ana.country = "PT"
    bruno = await make_registration(db, webinars, winter, "Bruno Costa")
    bruno.country = "PT"
    carla = await make_registration(db, visit, visit.sessions[0], "Carla Canal")
    carla.country = "ES"
    ana_again = await make_registration(db, visit, visit.sessions[0], "Ana Silva",
                                        email_address="ana@lisboa.example.pt")
    ana_again.country = "PT"
    await make_registration(db, draft, draft.sessions[0], "Dora Draft")
    await registration.check_in(db, webinars, ana.id, session_id=winter.id, present=True,
                                now=BUILT_AT)
    for person, rating in ((ana, 4), (bruno, 5)):
        db.add(Feedback(registration_id=person.id, session_id=winter.id, event_id=webinars.id,
                        rating=rating, given_at=BUILT_AT, updated_at=BUILT_AT))
    await db.commit()
    titles = (webinars.title, visit.title)

    dashboard = await organiser_client.get("/organiser/")
    of_2035 = await organiser_client.get("/organiser/figures", params={"year": "2035"})
    of_2036 = await organiser_client.get("/organiser/figures", params={"year": "2036"})
    sheet = await organiser_client.get("/organiser/figures.csv", params={"year": "2035"})
    theirs = await other_team_client.get("/organiser/figures", params={"year": "2035"})
    out_of_range = await organiser_client.get("/organiser/figures", params={"year": "1999"})

    assert "/organiser/figures" in [a.attrs.get("href") for a in parse(dashboard.text)
                                    .find_all("a")]
    tables = parse(of_2035.text).find_all("table")
    assert _cells(tables[0]) == [
        [titles[1], "CityMatch study visit", "2", "0", "none yet"],
        [titles[0], "Webinar series", "2", "1", "4.5 out of 5 (2 answers)"]]
    assert _cells(tables[2]) == [["Portugal", "3", "1"], ["Spain", "1", "0"]]
    assert "Registered: 4 with a place; came: 1" in of_2035.text
    assert "Different people: 3 with a place, 1 came" in of_2035.text
    assert "Draft visit" not in of_2035.text
    assert _cells(parse(of_2036.text).find_all("table")[0]) == [
        ["No published event starts this year."]]
    assert "Registered: 0 with a place" in of_2036.text
    lines = sheet.content.decode("utf-8-sig").splitlines()
    assert lines[1:3] == ["total,,4,1", "different people,,3,1"]
    assert f"event,{titles[0]},2,1" in lines
    assert theirs.status_code == 200 and titles[0] not in theirs.text
    assert out_of_range.status_code == 400 and "year" in out_of_range.text


async def test_the_organiser_api_gives_an_events_and_a_years_figures(
    client: AsyncTestClient[Litestar], viewer_headers: dict[str, str], db: AsyncSession,
    settings: Settings,
) -> None:
    """The same counts as JSON, for a viewer's token too (counts only, never a name); an
    unknown event is a 404, a year out of range a 400 naming it; a team's token sees only
    its team's events in a year."""
    webinars = await make_event(db, settings, EventSpec(commit=False))
    visit = await make_event(db, settings, EventSpec(
        slug="visit", title="Study visit", kind=EventKind.CITYMATCH, sessions=(VISIT,),
        commit=False))
    winter = sorted(webinars.sessions, key=lambda s: s.starts_at)[0]
    ana = await make_registration(db, webinars, winter, "Ana Silva")
    ana.country, ana.organisation_kind = "PT", OrganisationKind.PUBLIC_AUTHORITY
    await make_registration(db, webinars, winter, "Bruno Costa",
                            status=RegistrationStatus.WAITING, enrolment=EnrolmentStatus.WAITING)
    carla = await make_registration(db, visit, visit.sessions[0], "Carla Canal")
    carla.country = "ES"
    await registration.check_in(db, webinars, ana.id, session_id=winter.id, present=True,
                                now=BUILT_AT)
    other_team = await find_or_create_team(db, "Regional team", now=BUILT_AT)
    issued = await create_api_token(db, name="regional", role="viewer", now=BUILT_AT,
                                    team_id=other_team.id)
    await db.commit()
    ids = (webinars.id, visit.id)

    one = await client.get(f"/api/organiser/events/{ids[0]}/figures", headers=viewer_headers)
    year = await client.get("/api/organiser/figures", params={"year": 2035},
                            headers=viewer_headers)
    theirs = await client.get("/api/organiser/figures", params={"year": 2035},
                              headers={"Authorization": f"Bearer {issued.secret}"})
    unknown = await client.get("/api/organiser/events/999999/figures", headers=viewer_headers)
    out_of_range = await client.get("/api/organiser/figures", params={"year": 1999},
                                    headers=viewer_headers)

    assert one.json() == {
        "registrations": {"confirmed": 1, "waiting": 1}, "registered": 1, "came": 1,
        "people": 1, "people_came": 1,
        "by_country": [{"key": "PT", "registered": 1, "came": 1}],
        "by_organisation_kind": [{"key": "public_authority", "registered": 1, "came": 1}],
        "event_id": ids[0]}
    assert "Ana" not in one.text
    body = year.json()
    assert (body["year"], body["registered"], body["came"]) == (2035, 2, 1)
    assert [(e["event_id"], e["registered"], e["came"], e["feedback_average"],
             e["feedback_answers"]) for e in body["events"]] == [
        (ids[1], 1, 0, None, 0), (ids[0], 1, 1, None, 0)]
    assert theirs.json()["events"] == [] and theirs.json()["registered"] == 0
    assert unknown.status_code == 404
    assert out_of_range.status_code == 400 and "year" in out_of_range.text

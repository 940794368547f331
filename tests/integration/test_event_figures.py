"""An event's participation in figures, through real HTTP: registrations by state, who has
a place and who came, by country and type of organisation (a country not given counted
apart, last; unconfirmed addresses and those neither registered nor come left out), as a
page and as a spreadsheet; a viewer reads them, another team cannot. Both databases.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import EnrolmentStatus, OrganisationKind, RegistrationStatus
from service.domain import registration
from service.settings import Settings
from tests.factories import BUILT_AT, EventSpec, make_event, make_registration
from tests.integration.backoffice import SignedInClient
from tests.integration.test_pages import parse


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

    tables = parse(page.text).find_all("table")
    cells = [[[c.text for c in row.children if not isinstance(c, str)]
              for row in table.one("tbody").find_all("tr")] for table in tables]
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

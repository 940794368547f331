"""Checking people in at the door of an in-person event (a CityMatch study visit here), in
the back office through real HTTP: the list (unconfirmed addresses left out), a search that
keeps its place across a check-in (and one with a control character refused), undoing one,
a cancelled registration refused, the count of who came, the registrations CSV's
`checked_in_at`, the message form's audiences of who came and who did not, and the link
only on events with a place to come to; and the organiser API's check-in. Both databases.
"""

from __future__ import annotations

import csv
import io
import re

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import EventKind, Registration, RegistrationStatus
from service.domain.times import iso_utc
from service.settings import Settings
from tests.factories import VISIT, EventSpec, make_event, make_registration
from tests.integration.backoffice import SignedInClient
from tests.integration.test_pages import parse

STUDY_VISIT = EventSpec(slug="citymatch-zurich", title="CityMatch Zurich",
                        kind=EventKind.CITYMATCH, sessions=(VISIT,))


def _names(html: str) -> list[str]:
    return [row.text for row in parse(html).find_all("th", scope="row")]


async def test_an_organiser_checks_people_in_at_the_door(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, STUDY_VISIT)
    webinar = await make_event(db, settings)
    session = event.sessions[0]
    ana = await make_registration(db, event, session, "Ana Silva", organisation="Lisboa")
    bruno = await make_registration(db, event, session, "Bruno Costa",
                                    status=RegistrationStatus.WAITING)
    carla = await make_registration(db, event, session, "Carla Canal",
                                    status=RegistrationStatus.CANCELLED)
    await make_registration(db, event, session, "Dora Unconfirmed",
                            status=RegistrationStatus.UNCONFIRMED)
    await db.commit()
    ids = {"ana": ana.id, "bruno": bruno.id, "carla": carla.id}
    event_id, webinar_id = event.id, webinar.id
    url = f"/organiser/events/{event_id}/check-in"

    event_page = await organiser_client.get(f"/organiser/events/{event_id}")
    webinar_page = await organiser_client.get(f"/organiser/events/{webinar_id}")
    everyone = await organiser_client.get(url)
    found = await organiser_client.get(url, params={"q": "BRU"})
    checked = await organiser_client.post_form(f"{url}/{ids['bruno']}",
                                               {"present": "yes", "q": "BRU"})
    db.expire_all()
    first_time = await db.scalar(select(Registration.checked_in_at).where(
        Registration.id == ids["bruno"]))
    again = await organiser_client.post_form(f"{url}/{ids['bruno']}", {"present": "yes"})
    ana_in = await organiser_client.post_form(f"{url}/{ids['ana']}", {"present": "yes"})
    undone = await organiser_client.post_form(f"{url}/{ids['ana']}", {"present": "no"})
    cancelled = await organiser_client.post_form(f"{url}/{ids['carla']}", {"present": "yes"})
    after = await organiser_client.get(checked.headers["location"].split("#")[0])
    event_page_after = await organiser_client.get(f"/organiser/events/{event_id}")
    nobody = await organiser_client.get(url, params={"q": "zzz"})
    control = await organiser_client.get(url, params={"q": "Ana\x00Silva"})
    export = await organiser_client.get(f"/organiser/events/{event_id}/registrations.csv")
    message_form = await organiser_client.get(f"/organiser/events/{event_id}/message")
    webinar_message_form = await organiser_client.get(f"/organiser/events/{webinar_id}/message")

    assert url in [a.attrs.get("href") for a in parse(event_page.text).find_all("a")]
    assert "Check-in</a> (0 checked in)" in event_page.text
    assert f"/organiser/events/{webinar_id}/check-in" not in webinar_page.text
    assert _names(everyone.text) == ["Ana Silva", "Bruno Costa", "Carla Canal"]
    # Carla cancelled: no button to check her in, she is not expected.
    carla_row = parse(everyone.text).one("tr", id=f"registration-{ids['carla']}")
    assert carla_row.find_all("button") == [] and "Not expected" in carla_row.text
    assert "0 of 3 checked in." in everyone.text
    assert _names(found.text) == ["Bruno Costa"]
    assert parse(found.text).one("input", name="q", type="hidden").attrs["value"] == "BRU"
    assert checked.status_code == 303
    assert checked.headers["location"] == f"{url}?q=BRU&done=checked-in#registration-{ids['bruno']}"
    assert (again.status_code, ana_in.status_code, undone.status_code) == (303, 303, 303)
    assert cancelled.status_code == 409
    assert _names(after.text) == ["Bruno Costa"]
    assert "Checked in." in after.text and "1 of 3 checked in." in after.text
    assert "Check-in</a> (1 checked in)" in event_page_after.text
    # When, in the event's zone.
    assert re.search(r"\d{2}:\d{2} CES?T", after.text)
    assert "Nobody registered matches “zzz”." in nobody.text
    # PostgreSQL refuses a NUL in a text: the search is refused beside its field instead.
    assert control.status_code == 422
    assert re.findall(r'<li><a href="#(\w+)">', control.text) == ["q"]
    assert "Search with words, without control characters." in control.text
    assert _names(control.text) == ["Ana Silva", "Bruno Costa", "Carla Canal"]
    db.expire_all()
    stored = dict((await db.execute(select(Registration.name, Registration.checked_in_at).where(
        Registration.id.in_(ids.values())))).all())
    # A second check-in keeps the first time.
    assert first_time is not None
    assert stored == {"Ana Silva": None, "Bruno Costa": first_time, "Carla Canal": None}
    rows = {row["name"]: row["checked_in_at"] for row in csv.DictReader(
        io.StringIO(export.content.decode("utf-8-sig")))}
    assert rows["Bruno Costa"] == iso_utc(first_time)
    assert rows["Ana Silva"] == ""
    # Afterwards, a message can go to those who came, or to the confirmed who did not.
    door = [label.text for label in parse(message_form.text).find_all("label")
            if label.attrs.get("for", "").startswith("audience")]
    assert door[-2:] == ["Checked in at the door", "Confirmed, not checked in"]
    assert "Checked in at the door" not in webinar_message_form.text


async def test_the_organiser_api_checks_people_in(
    client: AsyncTestClient[Litestar], organiser_headers: dict[str, str],
    viewer_headers: dict[str, str], db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, STUDY_VISIT)
    session = event.sessions[0]
    ana = await make_registration(db, event, session, "Ana Silva")
    carla = await make_registration(db, event, session, "Carla Canal",
                                    status=RegistrationStatus.CANCELLED)
    await db.commit()
    ana_url = f"/api/organiser/registrations/{ana.id}/check-in"

    as_viewer = await client.post(ana_url, headers=viewer_headers)
    checked = await client.post(ana_url, headers=organiser_headers)
    listed = await client.get(f"/api/organiser/registrations/{ana.id}", headers=organiser_headers)
    taken_back = await client.post(ana_url, json={"present": False}, headers=organiser_headers)
    cancelled = await client.post(f"/api/organiser/registrations/{carla.id}/check-in",
                                  headers=organiser_headers)
    unknown = await client.post("/api/organiser/registrations/999999/check-in",
                                headers=organiser_headers)
    wrong = await client.post(ana_url, json={"present": "yes"}, headers=organiser_headers)

    assert as_viewer.status_code == 403
    assert checked.status_code == 200 and checked.json()["checked_in_at"] is not None
    assert listed.json()["checked_in_at"] == checked.json()["checked_in_at"]
    assert taken_back.status_code == 200 and taken_back.json()["checked_in_at"] is None
    assert cancelled.status_code == 409
    assert unknown.status_code == 404
    assert wrong.status_code == 400 and "present" in wrong.text

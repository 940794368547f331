"""Checking people in at the door of an in-person event (a CityMatch study visit here; a
two-day seminar, each day with its own list), in
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
from datetime import UTC, datetime

import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    Enrolment,
    EnrolmentStatus,
    EventKind,
    Registration,
    RegistrationStatus,
    SessionMode,
)
from service.domain.times import iso_utc
from service.settings import Settings
from tests.factories import VISIT, EventSpec, SessionSpec, make_event, make_registration
from tests.integration.backoffice import SignedInClient, csrf_in, sign_in
from tests.integration.test_pages import parse

STUDY_VISIT = EventSpec(slug="citymatch-zurich", title="CityMatch Zurich",
                        kind=EventKind.CITYMATCH, sessions=(VISIT,))
DAY_1 = SessionSpec("Day 1", "2035-05-14T09:00", "2035-05-14T17:00", mode=SessionMode.IN_PERSON)
DAY_2 = SessionSpec("Day 2", "2035-05-15T09:00", "2035-05-15T13:00", mode=SessionMode.HYBRID)
SEMINAR = EventSpec(slug="procura-seminar", title="Procura+ Seminar", kind=EventKind.SEMINAR,
                    sessions=(DAY_1, DAY_2))
# Day 2, before the doors open (08:30 CEST).
DAY_2_MORNING = "2035-05-15T06:30:00Z"
NOW_1 = datetime(2035, 5, 1, 9, 0, tzinfo=UTC)


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


async def _sign_in_again(organiser: SignedInClient) -> None:
    answer = await sign_in(organiser.client, organiser.email, organiser.password)
    assert answer.status_code == 303
    organiser.csrf = csrf_in((await organiser.get("/organiser/")).text)


async def test_each_day_of_a_seminar_has_its_own_check_in_list_and_today_opens_first(
    organiser_client: SignedInClient, client: AsyncTestClient[Litestar],
    organiser_headers: dict[str, str], db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, SEMINAR)
    day_1, day_2 = sorted(event.sessions, key=lambda s: s.starts_at)
    other = await make_event(db, settings, STUDY_VISIT)
    ana = await make_registration(db, event, day_1, "Ana Silva")
    bruno = await make_registration(db, event, day_2, "Bruno Costa")
    carla = await make_registration(db, event, day_1, "Carla Canal",
                                    enrolment=EnrolmentStatus.CANCELLED)
    for person in (ana, carla):
        db.add(Enrolment(registration_id=person.id, session_id=day_2.id, created_at=NOW_1,
                         updated_at=NOW_1, status=EnrolmentStatus.CONFIRMED))
    await db.commit()
    ids = {"ana": ana.id, "bruno": bruno.id, "carla": carla.id, "day_1": day_1.id,
           "day_2": day_2.id, "other": other.sessions[0].id}
    url = f"/organiser/events/{event.id}/check-in"
    event_id = event.id

    with time_machine.travel(DAY_2_MORNING, tick=False):
        await _sign_in_again(organiser_client)  # years later: the session has lapsed
        today = await organiser_client.get(url)
        ana_today = await organiser_client.post_form(
            f"{url}/{ids['ana']}", {"present": "yes", "session_id": str(ids["day_2"])})
        first_day = await organiser_client.get(url, params={"session": ids["day_1"]})
        carla_day_1 = await organiser_client.post_form(
            f"{url}/{ids['carla']}", {"present": "yes", "session_id": str(ids["day_1"])})
        elsewhere = await organiser_client.post_form(
            f"{url}/{ids['ana']}", {"present": "yes", "session_id": str(ids["other"])})
        no_such_door = await organiser_client.get(url, params={"session": ids["other"]})
        # The door app, without saying which session: today's.
        bruno_api = await client.post(f"/api/organiser/registrations/{ids['bruno']}/check-in",
                                      headers=organiser_headers)
    with time_machine.travel("2035-05-15T07:00:00Z", tick=False):
        # Ana was there yesterday too: checked in late, for Day 1.
        ana_yesterday = await organiser_client.post_form(
            f"{url}/{ids['ana']}", {"present": "yes", "session_id": str(ids["day_1"])})
        today_after = await organiser_client.get(url)
        db.expire_all()
        first_arrival = await db.scalar(select(Registration.checked_in_at).where(
            Registration.id == ids["ana"]))
        # Today's taken back: she still came, on Day 1; then Day 1 too, through the API.
        await organiser_client.post_form(
            f"{url}/{ids['ana']}", {"present": "no", "session_id": str(ids["day_2"])})
        db.expire_all()
        after_undo = await db.scalar(select(Registration.checked_in_at).where(
            Registration.id == ids["ana"]))
        none_left = await client.post(
            f"/api/organiser/registrations/{ids['ana']}/check-in",
            json={"present": False, "session_id": ids["day_1"]}, headers=organiser_headers)
        export = await client.get(f"/api/organiser/events/{event_id}/registrations.csv",
                                  headers=organiser_headers)

    tabs = parse(today.text).one("nav", cls="tabs")
    assert [(a.text, a.attrs.get("aria-current")) for a in tabs.find_all("a")] == [
        ("Day 1 (Mon 14 May 2035)", None), ("Day 2 (Tue 15 May 2035)", "page")]
    assert parse(today.text).one("h2").text == "Day 2 (Tue 15 May 2035)"
    assert _names(today.text) == ["Ana Silva", "Bruno Costa", "Carla Canal"]
    assert "0 of 3 checked in." in today.text
    assert ana_today.headers["location"] == (
        f"{url}?session={ids['day_2']}&done=checked-in#registration-{ids['ana']}")
    # Day 1: Ana not yet; Carla gave up her place that day (no button, not expected).
    assert _names(first_day.text) == ["Ana Silva", "Carla Canal"]
    assert "0 of 2 checked in." in first_day.text
    carla_row = parse(first_day.text).one("tr", id=f"registration-{ids['carla']}")
    assert carla_row.find_all("button") == [] and "Not expected" in carla_row.text
    assert carla_day_1.status_code == 409
    assert (elsewhere.status_code, no_such_door.status_code) == (404, 404)
    assert bruno_api.status_code == 200 and bruno_api.json()["checked_in_at"] is not None
    assert [(s["title"], s["checked_in_at"]) for s in bruno_api.json()["sessions"]] == [
        ("Day 2", "2035-05-15T06:30:00Z")]
    assert ana_yesterday.status_code == 303
    assert "2 of 3 checked in." in today_after.text
    # The registration's own check-in is its first arrival, whichever day it was recorded.
    assert first_arrival == datetime(2035, 5, 15, 6, 30, tzinfo=UTC)
    assert after_undo == datetime(2035, 5, 15, 7, 0, tzinfo=UTC)
    assert none_left.status_code == 200 and none_left.json()["checked_in_at"] is None
    db.expire_all()
    doors = dict((await db.execute(select(Enrolment.session_id, Enrolment.checked_in_at).where(
        Enrolment.registration_id == ids["bruno"]))).all())
    assert doors == {ids["day_2"]: datetime(2035, 5, 15, 6, 30, tzinfo=UTC)}
    rows = {row["name"]: row["checked_in_sessions"] for row in csv.DictReader(
        io.StringIO(export.content.decode("utf-8-sig")))}
    assert rows == {"Ana Silva": "", "Bruno Costa": "Day 2", "Carla Canal": ""}

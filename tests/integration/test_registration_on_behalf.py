"""An organiser registers someone in the back office, through real HTTP: someone who asked by
phone, after registration closed and on an event that approves each registration, gets a
place and the usual confirmation; every problem with the form at once, nothing stored; an
address registered already; a full event's waiting list; someone who cancelled comes back;
a Meet-your-Buyer dialogue's role and supplier's offer; a viewer, a draft and a finished
event are refused; and the same through the organiser API; at a session's door, registered
and checked in at once. Both databases.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import (
    AuditEntry,
    Enrolment,
    Event,
    EventKind,
    OutboxEmail,
    Registration,
    RegistrationStatus,
    Session,
    SessionMode,
)
from service.domain.programme import checks
from service.settings import Settings
from tests.factories import VISIT, EventSpec, SessionSpec, make_event, make_registration
from tests.integration.backoffice import SignedInClient
from tests.integration.test_pages import parse

ANNA = {"name": "Anna Keller", "email": "anna.keller@zurich.example.ch",
        "organisation_name": "City of Zurich", "organisation_kind": "public_authority",
        "country": "CH", "language": "de", "consent": "yes"}


DAY_1 = SessionSpec("Day 1", "2035-05-14T09:00", "2035-05-14T17:00", mode=SessionMode.IN_PERSON)
DAY_2 = SessionSpec("Day 2", "2035-05-15T09:00", "2035-05-15T13:00", mode=SessionMode.IN_PERSON)
PAST = SessionSpec("Study visit day", "2020-09-18T09:00", "2020-09-18T17:00",
                   mode=SessionMode.IN_PERSON)


def _errors(html: str) -> list[str]:
    """The error summary's links: the fields named, in the form's order."""
    summary = parse(html).one("div", cls="error-summary")
    return [a.attrs["href"].lstrip("#") for a in summary.find_all("a")]


async def _count(db: AsyncSession) -> int:
    await db.rollback()  # see what the app committed
    return await db.scalar(select(func.count()).select_from(Registration)) or 0


async def test_an_organiser_registers_someone_who_asked_by_phone(
    organiser_client: SignedInClient, viewer_client: SignedInClient, db: AsyncSession,
    db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
) -> None:
    closed = EventSpec(slug="citymatch-zurich", title="CityMatch Zurich",
                       kind=EventKind.CITYMATCH, sessions=(VISIT,), is_approval_required=True,
                       extra={"registration_closes_at": "2026-01-01T00:00:00+00:00"})
    event = await make_event(db, settings, closed)
    event_id = event.id
    url = f"/organiser/events/{event_id}/registrations/new"

    form = await organiser_client.get(url)
    as_viewer = await viewer_client.post_form(url, ANNA)
    registered = await organiser_client.post_form(url, ANNA)
    detail = await organiser_client.get(registered.headers["location"])
    again = await organiser_client.post_form(url, ANNA)
    listed = await organiser_client.get(f"/organiser/events/{event_id}/registrations")

    assert form.status_code == 200
    assert [f.attrs["name"] for f in parse(form.text).find_all("input", type="text")] == [
        "name", "job_title", "organisation_name"]
    assert as_viewer.status_code == 403
    assert registered.status_code == 303
    assert "Anna Keller is registered (Confirmed); their confirmation email is on its way." \
        in detail.text
    # Its email, named for people (written a moment after the commit).
    row = parse(detail.text).one("tbody").find_all("td")
    assert [cell.text for cell in row[:2]] == ["Registration confirmed", "Being written"]
    async with db_sessionmaker() as fresh:
        anna = await fresh.scalar(select(Registration).where(
            Registration.email == ANNA["email"]))
        emails = list(await fresh.scalars(select(OutboxEmail.template).where(
            OutboxEmail.registration_id == anna.id)))
        audited = (await fresh.execute(select(AuditEntry.action, AuditEntry.actor_label,
                                              AuditEntry.event_id).where(
            AuditEntry.subject_type == "registration",
            AuditEntry.subject_id == anna.id))).all()
    # Approval and the closed window are the public's rules: Anna has her place.
    assert anna is not None and anna.status == RegistrationStatus.CONFIRMED
    assert (anna.language, anna.country, anna.consent_at is not None) == ("de", "CH", True)
    assert emails == ["registration_confirmed_to_registrant"]
    # Who registered her, in the event's audit log.
    assert [(a, organiser_client.email in label, e) for a, label, e in audited] == [
        ("created", True, event_id)]
    assert again.status_code == 422 and _errors(again.text) == ["email"]
    assert f'/organiser/events/{event_id}/registrations/new"' in listed.text


async def test_every_problem_is_reported_at_once_and_nothing_is_stored(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, EventSpec(allows_session_choice=True))
    url = f"/organiser/events/{event.id}/registrations/new"
    before = await _count(db)

    refused = await organiser_client.post_form(url, {
        "name": "", "email": "anna.keller@", "country": "XX", "organisation_kind": "spy",
        "job_title": "j" * 301})

    assert refused.status_code == 422
    assert _errors(refused.text) == ["name", "email", "job_title", "organisation_kind",
                                     "country", "session_ids", "consent"]
    assert 'value="anna.keller@"' in refused.text
    assert await _count(db) == before


async def test_a_full_event_puts_them_on_its_waiting_list_and_a_cancelled_one_comes_back(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, EventSpec(capacity=1, commit=False))
    await make_registration(db, event, None, "Bruno Costa")
    await make_registration(db, event, None, "Anna Keller", email_address=ANNA["email"],
                            status=RegistrationStatus.CANCELLED)
    await db.commit()
    url = f"/organiser/events/{event.id}/registrations/new"

    waiting = await organiser_client.post_form(url, ANNA)

    assert waiting.status_code == 303
    await db.rollback()
    statuses = list(await db.scalars(select(Registration.status).where(
        Registration.email == ANNA["email"])))
    assert statuses == [RegistrationStatus.WAITING]


async def test_a_dialogue_asks_the_role_and_a_suppliers_offer(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    dialogue = await make_event(db, settings, EventSpec(
        slug="myb", title="Meet your buyer", kind=EventKind.MEET_YOUR_BUYER, sessions=(VISIT,)))
    url = f"/organiser/events/{dialogue.id}/registrations/new"
    supplier = ANNA | {"email": "sales@fairlaptops.example.nl", "organisation_kind": "supplier",
                       "organisation_name": "Fairlaptops BV"}

    form = await organiser_client.get(url)
    no_role = await organiser_client.post_form(url, ANNA | {"organisation_kind": ""})
    no_offer = await organiser_client.post_form(url, supplier)
    buyer_with_offer = await organiser_client.post_form(url, ANNA | {"sector": "ICT"})
    registered = await organiser_client.post_form(url, supplier | {
        "sector": "ICT hardware", "offer_note": "Refurbished laptops, leasing."})

    assert [i.attrs["value"] for i in parse(form.text).find_all("input", type="radio")] == [
        "supplier", "public_authority"]
    assert _errors(no_role.text) == ["organisation_kind"]
    assert _errors(no_offer.text) == ["sector", "offer_note"]
    assert _errors(buyer_with_offer.text) == ["sector"]
    assert registered.status_code == 303
    await db.rollback()
    stored = await db.scalar(select(Registration).where(
        Registration.email == "sales@fairlaptops.example.nl"))
    assert stored is not None
    assert (stored.company, stored.sector, stored.status) == (
        "Fairlaptops BV", "ICT hardware", RegistrationStatus.CONFIRMED)


async def test_a_draft_and_a_finished_event_are_not_registered_for(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    draft = await make_event(db, settings, EventSpec(publish=False))
    over = await make_event(db, settings, EventSpec(slug="over", sessions=(PAST,)))
    ids = (draft.id, over.id)
    before = await _count(db)

    pages = [await organiser_client.get(f"/organiser/events/{i}/registrations/new")
             for i in ids]
    posts = [await organiser_client.post_form(f"/organiser/events/{i}/registrations/new", ANNA)
             for i in ids]

    assert "publish it first" in pages[0].text
    assert parse(pages[0].text).find_all("input", name="name") == []
    assert [p.status_code for p in posts] == [422, 422]
    assert all(_errors(p.text) == ["form"] for p in posts)
    assert await _count(db) == before


async def test_the_organiser_api_registers_someone_for_a_door_app(
    client: AsyncTestClient[Litestar], organiser_headers: dict[str, str],
    viewer_headers: dict[str, str], db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, EventSpec(
        slug="citymatch-zurich", title="CityMatch Zurich", kind=EventKind.CITYMATCH,
        sessions=(VISIT,), is_approval_required=True))
    dialogue = await make_event(db, settings, EventSpec(
        slug="myb", title="Meet your buyer", kind=EventKind.MEET_YOUR_BUYER, sessions=(VISIT,)))
    url = f"/api/organiser/events/{event.id}/registrations"
    body = {"name": "Anna Keller", "email": ANNA["email"], "consent": True, "language": "de"}

    as_viewer = await client.post(url, json=body, headers=viewer_headers)
    created = await client.post(url, json=body, headers=organiser_headers)
    again = await client.post(url, json=body, headers=organiser_headers)
    no_consent = await client.post(url, json=body | {"email": "b@example.org", "consent": False},
                                   headers=organiser_headers)
    buyer = await client.post(f"/api/organiser/events/{dialogue.id}/registrations",
                              json=body | {"organisation_kind": "public_authority"},
                              headers=organiser_headers)

    assert as_viewer.status_code == 403
    assert created.status_code == 201
    assert created.json()["status"] == "confirmed"
    assert [s["title"] for s in created.json()["sessions"]] == ["Study visit day"]
    assert (again.status_code, [e["field"] for e in again.json()["errors"]]) == (409, ["email"])
    assert no_consent.status_code == 422
    assert [e["field"] for e in no_consent.json()["errors"]] == ["consent"]
    assert buyer.status_code == 201 and buyer.json()["status"] == "confirmed"


async def test_at_the_door_they_are_registered_and_checked_in_at_once(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, EventSpec(
        slug="seminar", title="Seminar", kind=EventKind.SEMINAR, sessions=(DAY_1, DAY_2)))
    other = await make_event(db, settings, EventSpec(slug="visit", title="Visit",
                                                     kind=EventKind.CITYMATCH, sessions=(VISIT,)))
    day_1, day_2 = sorted(event.sessions, key=lambda s: s.starts_at)
    ids = {"event": event.id, "day_1": day_1.id, "day_2": day_2.id,
           "elsewhere": other.sessions[0].id}
    url = f"/organiser/events/{ids['event']}/registrations/new"

    form = await organiser_client.get(url, params={"door": ids["day_2"], "q": ANNA["email"]})
    at_the_door = await organiser_client.post_form(url, ANNA | {"door": str(ids["day_2"])})
    elsewhere = await organiser_client.post_form(url, ANNA | {
        "email": "bruno@example.org", "door": str(ids["elsewhere"])})

    assert f'value="{ANNA["email"]}"' in form.text
    assert "They are at the door of Day 2: once registered, they are checked in there." \
        in form.text
    await db.rollback()
    anna = await db.scalar(select(Registration).where(Registration.email == ANNA["email"]))
    assert anna is not None
    assert at_the_door.headers["location"] == (
        f"/organiser/events/{ids['event']}/check-in?session={ids['day_2']}&done=checked-in"
        f"#registration-{anna.id}")
    arrivals = dict((await db.execute(select(Enrolment.session_id, Enrolment.checked_in_at)
                                      .where(Enrolment.registration_id == anna.id))).all())
    assert arrivals[ids["day_1"]] is None and arrivals[ids["day_2"]] is not None
    assert anna.checked_in_at == arrivals[ids["day_2"]]
    # A session of another event is no door of this one: registered, not checked in.
    assert "/registrations/" in elsewhere.headers["location"]


async def test_where_all_places_are_taken_the_organiser_may_add_one_for_them(
    organiser_client: SignedInClient, client: AsyncTestClient[Litestar],
    organiser_headers: dict[str, str], db: AsyncSession, settings: Settings,
) -> None:
    """The event and its first day are full, with someone waiting: the form says so; with
    "Add a place" the person gets a place on both days (each limit up by one) and whoever
    waits keeps waiting; at the door it is ticked already; the API's `add_places` too."""
    event = await make_event(db, settings, EventSpec(
        slug="seminar", title="Seminar", kind=EventKind.SEMINAR, capacity=1, commit=False,
        sessions=(replace(DAY_1, capacity=1), DAY_2)))
    day_1, day_2 = sorted(event.sessions, key=lambda s: s.starts_at)
    await make_registration(db, event, day_1, "Bruno Costa")
    await make_registration(db, event, None, "Carla Canal", status=RegistrationStatus.WAITING)
    await db.commit()
    ids = {"event": event.id, "day_1": day_1.id, "day_2": day_2.id}
    url = f"/organiser/events/{ids['event']}/registrations/new"

    form = await organiser_client.get(url)
    at_the_door = await organiser_client.get(url, params={"door": ids["day_2"]})
    added = await organiser_client.post_form(url, ANNA | {"add_places": "yes"})
    detail = await organiser_client.get(added.headers["location"])
    api_url = f"/api/organiser/events/{ids['event']}/registrations"
    body = {"name": "Dana Weiss", "email": "dana@example.org", "consent": True}
    waits = await client.post(api_url, json=body, headers=organiser_headers)
    given = await client.post(api_url, params={"add_places": "true"}, headers=organiser_headers,
                              json=body | {"email": "emil@example.org"})

    places = parse(form.text).one("fieldset", cls="places-full")
    assert [li.text for li in places.find_all("li")] == [
        "The event: its one place is taken.", "Day 1: its one place is taken."]
    assert "checked" not in places.one("input", id="add_places").attrs
    assert "checked" in parse(at_the_door.text).one("input", id="add_places").attrs
    assert added.headers["location"].endswith("?done=added-place")
    assert "Anna Keller is registered (Confirmed), with a place added for them where all " \
        "were taken" in detail.text
    await db.rollback()
    anna = await db.scalar(select(Registration).where(Registration.email == ANNA["email"]))
    assert anna is not None and anna.status == RegistrationStatus.CONFIRMED
    places_of_anna = dict((await db.execute(select(Enrolment.session_id, Enrolment.status)
                                            .where(Enrolment.registration_id == anna.id))).all())
    assert places_of_anna == {ids["day_1"]: "confirmed", ids["day_2"]: "confirmed"}
    carla = await db.scalar(select(Registration.status).where(Registration.name == "Carla Canal"))
    assert carla == RegistrationStatus.WAITING
    assert (waits.status_code, waits.json()["status"]) == (201, "waiting")
    assert (given.status_code, given.json()["status"]) == (201, "confirmed")
    limits = (await db.execute(select(Event.capacity).where(Event.id == ids["event"]))).scalar()
    day_limits = dict((await db.execute(select(Session.id, Session.capacity).where(
        Session.event_id == ids["event"]))).all())
    # Anna's place, then Emil's: two more on the event and on its first day.
    assert (limits, day_limits) == (3, {ids["day_1"]: 3, ids["day_2"]: None})
    # Who raised them, in the event's audit log.
    await db.rollback()
    changes = (await db.execute(select(AuditEntry.before, AuditEntry.after).where(
        AuditEntry.subject_type == "event", AuditEntry.subject_id == ids["event"],
        AuditEntry.action == "changed"))).all()
    assert [(b["capacity"], a["capacity"]) for b, a in changes] == [(1, 2), (2, 3)]


async def test_no_place_is_added_beyond_the_most_places_an_event_has(
    organiser_client: SignedInClient, client: AsyncTestClient[Litestar],
    organiser_headers: dict[str, str], db: AsyncSession, settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where the places taken already reach the most an event may have (100,000; lowered
    to one here, so that one registrant fills it), "Add a place" is refused naming it, on
    the form and in the API, and nothing is stored."""
    monkeypatch.setattr(checks, "MAX_PLACES", 1)
    event = await make_event(db, settings, EventSpec(
        slug="seminar", title="Seminar", kind=EventKind.SEMINAR, capacity=1, commit=False,
        sessions=(DAY_1,)))
    await make_registration(db, event, event.sessions[0], "Bruno Costa")
    await db.commit()
    event_id = event.id
    before = await _count(db)

    refused = await organiser_client.post_form(
        f"/organiser/events/{event_id}/registrations/new", ANNA | {"add_places": "yes"})
    api_refused = await client.post(
        f"/api/organiser/events/{event_id}/registrations", params={"add_places": "true"},
        headers=organiser_headers,
        json={"name": "Dana Weiss", "email": "dana@example.org", "consent": True})

    assert refused.status_code == 422 and _errors(refused.text) == ["add_places"]
    assert "At most 1 places: no place can be added." in refused.text
    assert (api_refused.status_code, api_refused.json()["errors"][0]["field"]) == (
        409, "add_places")
    assert await _count(db) == before
    assert await db.scalar(select(Event.capacity).where(Event.id == event_id)) == 1

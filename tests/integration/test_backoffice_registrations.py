"""The back office's registrations pages over HTTP, on both databases: the list's query
(filter, search, sort, pages, bad parameters), decisions on one or many with a message, the
waiting list and promotion, a registration's page (details, cancelling on their behalf),
the CSV of the current filter, and who may do what.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    EnrolmentStatus,
    OutboxEmail,
    Registration,
    RegistrationStatus,
    SessionMode,
)
from service.settings import Settings
from service.web.backoffice.registrations import RegistrationsController
from tests.factories import BUILT_AT, EventSpec, SessionSpec, make_event, make_registration
from tests.integration.backoffice import SignedInClient
from tests.integration.mail_readers import parse, text_of

Status = RegistrationStatus
_ROW = re.compile(r'<tr id="registration-(\d+)">')
_WAITING_ROW = re.compile(r'<tr id="waiting-(\d+)">')


def rows_in(html: str) -> list[int]:
    return [int(found) for found in _ROW.findall(html)]


@dataclass(frozen=True)
class Made:
    """What a test needs of an event it made (plain values: they outlive the db session)."""

    id: int
    slug: str


async def _event_with_people(db: AsyncSession, settings: Settings) -> tuple[Made, dict[str, int]]:
    """An event needing approval with two places, both taken, and people in every state."""
    event = await make_event(db, settings, EventSpec(now=BUILT_AT), is_approval_required=True,
                             capacity=2, sessions=(
                                 SessionSpec("Site visit", "2035-09-18T09:00",
                                             "2035-09-18T17:00", mode=SessionMode.IN_PERSON),),
                             venue_name="City hall", venue_city="Lisboa")
    [visit] = event.sessions
    people = [
        ("Ana Silva", "Lisboa", Status.CONFIRMED), ("Ben Brown", "Ghent", Status.CONFIRMED),
        ("Cleo Pending", "Oslo", Status.PENDING), ("Dirk Pending", "Bonn", Status.PENDING),
        ("Wim Wouters", "Porto", Status.WAITING), ("Xia Xu", "Malmö", Status.WAITING),
        ("Zed Gone", "Cork", Status.CANCELLED),
    ]
    ids = {}
    for minute, (name, city, status) in enumerate(people):
        registration = await make_registration(
            db, event, visit, name, status=status, organisation=f"City of {city}",
            now=BUILT_AT + timedelta(minutes=minute),
            enrolment=EnrolmentStatus.CONFIRMED if status == Status.CONFIRMED
            else EnrolmentStatus.CANCELLED if status == Status.CANCELLED
            else EnrolmentStatus.WAITING)
        ids[name.split()[0]] = registration.id
    await db.commit()
    return Made(event.id, event.slug), ids


async def _emails(db: AsyncSession) -> list[tuple[str, str]]:
    db.expire_all()
    return [(row.template, row.to_address)
            for row in await db.scalars(select(OutboxEmail).order_by(OutboxEmail.id))]


async def _statuses(db: AsyncSession, event_id: int) -> dict[str, Status]:
    db.expire_all()
    return dict((await db.execute(select(Registration.name, Registration.status).where(
        Registration.event_id == event_id))).all())


# --- the list -------------------------------------------------------------------------------


async def test_the_list_filters_searches_sorts_and_pages_through_its_query_string(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event, ids = await _event_with_people(db, settings)
    base = f"/organiser/events/{event.id}/registrations"

    first = await organiser_client.get(base)
    pending = await organiser_client.get(base, params={"status": "pending"})
    search = await organiser_client.get(base, params={"q": "MALMÖ"})
    by_name = await organiser_client.get(base, params={"sort": "name", "order": "desc"})

    assert first.status_code == 200
    assert rows_in(first.text) == [ids[n] for n in ("Ana", "Ben", "Cleo", "Dirk", "Wim", "Xia",
                                                    "Zed")]
    assert "Showing 1–7 of 7." in first.text
    assert rows_in(pending.text) == [ids["Cleo"], ids["Dirk"]]
    assert rows_in(search.text) == [ids["Xia"]]
    assert rows_in(by_name.text) == [ids[n] for n in ("Zed", "Xia", "Wim", "Dirk", "Cleo", "Ben",
                                                      "Ana")]
    # The sorted column says so, and its link turns the order round.
    assert f'aria-sort="descending">\n          <a href="{base}?sort=name">Name' in by_name.text


async def test_pages_link_to_each_other_keeping_the_filter(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, EventSpec(now=BUILT_AT))
    ids = [(await make_registration(db, event, None, f"Person {n:02d}",
                                    email_address=f"p{n}@example.org",
                                    now=BUILT_AT + timedelta(minutes=n))).id for n in range(53)]
    await db.commit()
    base = f"/organiser/events/{event.id}/registrations"

    first = await organiser_client.get(base, params={"q": "person"})
    second = await organiser_client.get(base, params={"q": "person", "page": "2"})
    past_the_end = await organiser_client.get(base, params={"q": "person", "page": "9"})

    assert rows_in(first.text) == ids[:50]
    assert f'<a href="{base}?q=person&amp;page=2" rel="next">Next</a>' in first.text
    assert rows_in(second.text) == ids[50:]
    assert f'<a href="{base}?q=person" rel="prev">Previous</a>' in second.text
    assert "Showing 51–53 of 53." in second.text
    assert rows_in(past_the_end.text) == ids[50:]


@pytest.mark.parametrize(("query", "field"), [
    ("page=abc", "page"), ("page=0", "page"), ("page=99999999999999999999", "page"),
    ("status=everyone", "status"), ("sort=shoe-size", "sort"), ("order=up", "order"),
    ("session=x", "session"), ("session=999999", "session"), ("q=" + "x" * 201, "q"),
    ("status=waiting&status=pending", "status"),
])
async def test_a_query_the_list_cannot_read_is_a_400_naming_the_parameter(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings, query: str,
    field: str,
) -> None:
    event = await make_event(db, settings, EventSpec(now=BUILT_AT))

    answer = await organiser_client.get(f"/organiser/events/{event.id}/registrations?{query}")
    export = await organiser_client.get(f"/organiser/events/{event.id}/registrations.csv?{query}")

    expected = 404 if query == "session=999999" else 400
    assert (answer.status_code, export.status_code) == (expected, expected)
    assert f"<strong>{field}</strong>: " in answer.text


async def test_the_csv_holds_the_whole_filter_in_the_lists_order(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event, ids = await _event_with_people(db, settings)

    answer = await organiser_client.get(
        f"/organiser/events/{event.id}/registrations.csv",
        params={"status": "waiting", "sort": "name", "order": "desc", "page": "3"})

    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="registrations-event-{event.id}.csv"')
    assert [(r["id"], r["name"], r["waiting_position"]) for r in rows] == [
        (str(ids["Xia"]), "Xia Xu", "2"), (str(ids["Wim"]), "Wim Wouters", "1")]


# --- decisions ------------------------------------------------------------------------------


async def test_approving_the_ticked_ones_sends_the_message_and_comes_back_to_the_same_list(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event, ids = await _event_with_people(db, settings)
    base = f"/organiser/events/{event.id}/registrations"

    answer = await organiser_client.post_form(f"{base}/decide", {
        "back": "status=pending&sort=name", "decision": "approve",
        "registration_ids": [str(ids["Cleo"]), str(ids["Dirk"]), str(ids["Zed"])],
        "message": "Lunch is at 12:30.",
    })
    page = await organiser_client.get(answer.headers["location"])

    assert (answer.status_code, answer.headers["location"]) == (
        303, f"{base}?status=pending&sort=name&done=approve&changed={ids['Cleo']}%2C"
             f"{ids['Dirk']}&skipped={ids['Zed']}")
    assert "Approved 2: Cleo Pending, Dirk Pending." in page.text
    assert "Left as they were: Zed Gone (cancelled)." in page.text
    statuses = await _statuses(db, event.id)
    assert (statuses["Cleo Pending"], statuses["Dirk Pending"], statuses["Zed Gone"]) == (
        Status.WAITING, Status.WAITING, Status.CANCELLED)  # full: approved onto the list
    rows = list(await db.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
    assert [(r.template, r.to_address) for r in rows] == [
        ("registration_waiting_to_registrant", f"cleo@{event.slug}.example.org"),
        ("registration_waiting_to_registrant", f"dirk@{event.slug}.example.org")]
    assert all("A note from the organisers:\nLunch is at 12:30." in text_of(parse(r.raw_message))
               for r in rows if r.raw_message is not None)


async def test_a_rows_own_button_declines_that_row_only(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event, ids = await _event_with_people(db, settings)
    base = f"/organiser/events/{event.id}/registrations"

    answer = await organiser_client.post_form(f"{base}/decide", {
        "decline_one": str(ids["Cleo"]), "registration_ids": [str(ids["Dirk"])],
        "message": "The bus is full."})

    assert answer.status_code == 303
    statuses = await _statuses(db, event.id)
    assert (statuses["Cleo Pending"], statuses["Dirk Pending"]) == (Status.DECLINED,
                                                                    Status.PENDING)
    assert await _emails(db) == [("registration_declined_to_registrant",
                                  f"cleo@{event.slug}.example.org")]


async def test_a_decision_with_nothing_ticked_or_too_long_a_message_keeps_what_was_typed(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event, ids = await _event_with_people(db, settings)
    base = f"/organiser/events/{event.id}/registrations"

    nothing = await organiser_client.post_form(f"{base}/decide", {
        "decision": "approve", "message": "Kept <as typed>", "back": "status=pending"})
    too_long = await organiser_client.post_form(f"{base}/decide", {
        "decision": "decline", "registration_ids": [str(ids["Cleo"])], "message": "x" * 2001})

    assert nothing.status_code == 422
    assert "Tick at least one registration first." in nothing.text
    assert "Kept &lt;as typed&gt;</textarea>" in nothing.text
    assert rows_in(nothing.text) == [ids["Cleo"], ids["Dirk"]]  # the list it came from
    assert too_long.status_code == 422
    assert 'href="#message">At most 2000 characters.' in too_long.text
    assert f'value="{ids["Cleo"]}" checked' in too_long.text
    assert (await _statuses(db, event.id))["Cleo Pending"] == Status.PENDING
    assert await _emails(db) == []


# --- the waiting list -----------------------------------------------------------------------


async def test_the_waiting_list_is_in_order_and_promotion_needs_an_added_place_when_full(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event, ids = await _event_with_people(db, settings)
    base = f"/organiser/events/{event.id}/registrations"

    waiting = await organiser_client.get(f"{base}/waiting")
    refused = await organiser_client.post_form(f"{base}/{ids['Xia']}/promote", {})
    promoted = await organiser_client.post_form(f"{base}/{ids['Xia']}/promote",
                                                {"add_place": "yes"})
    after = await organiser_client.get(promoted.headers["location"])

    assert [int(i) for i in _WAITING_ROW.findall(waiting.text)] == [ids["Wim"], ids["Xia"]]
    assert refused.status_code == 409
    assert ("All 2 places are taken: promoting Xia Xu needs one more place. Add a place to "
            "raise the limit to 3.") in refused.text
    assert (promoted.status_code, promoted.headers["location"]) == (
        303, f"{base}/waiting?promoted={ids['Xia']}")
    assert "Xia Xu has a place now" in after.text
    assert [int(i) for i in _WAITING_ROW.findall(after.text)] == [ids["Wim"]]
    assert (await _statuses(db, event.id))["Xia Xu"] == Status.CONFIRMED
    assert await _emails(db) == [("registration_promoted_to_registrant",
                                  f"xia@{event.slug}.example.org")]


# --- one registration -----------------------------------------------------------------------


async def test_correcting_details_on_their_behalf_reports_every_error_and_saves_nothing(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event, ids = await _event_with_people(db, settings)
    url = f"/organiser/events/{event.id}/registrations/{ids['Ana']}"

    page = await organiser_client.get(url)
    bad = await organiser_client.post_form(f"{url}/details", {
        "name": "", "organisation_name": "Lisboa <city>", "job_title": "x" * 201})
    good = await organiser_client.post_form(f"{url}/details", {
        "name": "Ana Sofia Silva", "organisation_name": "Câmara de Lisboa",
        "job_title": "Buyer", "access_note": "Step-free access"})

    assert page.status_code == 200
    assert 'value="Ana Silva"' in page.text
    assert bad.status_code == 422
    assert re.findall(r'<li><a href="#(\w+)">', bad.text) == ["name", "job_title"]
    assert 'value="Lisboa &lt;city&gt;"' in bad.text
    assert (good.status_code, good.headers["location"]) == (303, f"{url}?done=details")
    db.expire_all()
    saved = await db.get(Registration, ids["Ana"])
    assert saved is not None
    assert (saved.name, saved.organisation_name, saved.job_title, saved.access_note) == (
        "Ana Sofia Silva", "Câmara de Lisboa", "Buyer", "Step-free access")


async def test_cancelling_on_their_behalf_asks_first_then_frees_the_place(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event, ids = await _event_with_people(db, settings)
    url = f"/organiser/events/{event.id}/registrations/{ids['Ana']}"

    confirm = await organiser_client.get(f"{url}/cancel")
    assert await _emails(db) == []
    done = await organiser_client.post_form(f"{url}/cancel")

    assert confirm.status_code == 200
    assert "Their place goes to the first person on the waiting list" in confirm.text
    assert (done.status_code, done.headers["location"]) == (303, f"{url}?done=cancel")
    statuses = await _statuses(db, event.id)
    assert (statuses["Ana Silva"], statuses["Wim Wouters"]) == (Status.CANCELLED,
                                                                Status.CONFIRMED)
    assert await _emails(db) == [
        ("registration_promoted_to_registrant", f"wim@{event.slug}.example.org"),
        ("registration_cancelled_to_registrant", f"ana@{event.slug}.example.org")]


# --- who may do what ------------------------------------------------------------------------


def _changing_routes() -> list[str]:
    """Every state-changing path of this controller, from its route table."""
    paths = []
    for handler_name in dir(RegistrationsController):
        handler = getattr(RegistrationsController, handler_name)
        methods = getattr(handler, "http_methods", None)
        if methods and methods - {"GET", "HEAD"}:
            paths.extend(handler.paths)
    return sorted(paths)


def _concrete(path: str, event_id: int, registration_id: int) -> str:
    return ("/organiser" + path).replace("{event_id:int}", str(event_id)).replace(
        "{registration_id:int}", str(registration_id))


async def test_every_change_refuses_viewers_other_teams_and_missing_tokens(
    organiser_client: SignedInClient, viewer_client: SignedInClient,
    other_team_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event, ids = await _event_with_people(db, settings)
    routes = _changing_routes()
    form = {"decision": "approve", "registration_ids": str(ids["Cleo"]), "add_place": "yes",
            "name": "Changed"}

    answers = []
    for route in routes:
        url = _concrete(route, event.id, ids["Cleo"])
        answers.append((
            route,
            (await viewer_client.post_form(url, form)).status_code,
            (await other_team_client.post_form(url, form)).status_code,
            (await organiser_client.post(url, data=form, follow_redirects=False)).status_code,
        ))

    assert [route for route, *_ in answers] == [
        "/events/{event_id:int}/registrations/decide",
        "/events/{event_id:int}/registrations/{registration_id:int}/cancel",
        "/events/{event_id:int}/registrations/{registration_id:int}/details",
        "/events/{event_id:int}/registrations/{registration_id:int}/promote",
    ]
    assert [codes for _, *codes in answers] == [[403, 404, 403]] * len(routes)
    assert (await _statuses(db, event.id))["Cleo Pending"] == Status.PENDING
    assert await _emails(db) == []


async def test_viewers_read_without_the_means_to_change_and_other_teams_see_nothing(
    viewer_client: SignedInClient, other_team_client: SignedInClient,
    client: AsyncTestClient[Litestar], db: AsyncSession, settings: Settings,
) -> None:
    event, ids = await _event_with_people(db, settings)
    base = f"/organiser/events/{event.id}/registrations"

    viewer = await viewer_client.get(base)
    other = [(await other_team_client.get(url)).status_code
             for url in (base, f"{base}.csv", f"{base}/waiting", f"{base}/{ids['Ana']}")]
    anonymous = await client.get(base, follow_redirects=False)

    assert viewer.status_code == 200
    assert rows_in(viewer.text) == [ids[n] for n in ("Ana", "Ben", "Cleo", "Dirk", "Wim",
                                                     "Xia", "Zed")]
    means_to_change = ('name="registration_ids"', "approve_one", "/decide", "/promote")
    assert [marker for marker in means_to_change if marker in viewer.text] == []
    assert other == [404, 404, 404, 404]
    assert (anonymous.status_code, anonymous.headers["location"]) == (
        303, f"/organiser/login?next={base}")

"""The organiser and public JSON API over real HTTP (Litestar's test client), on both databases."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.clock import utc_now
from service.db.models import AgendaItem, Event, Session
from service.operations.demo import MAKE_ICT_FAIR_SLUG, load_demo_programme
from service.settings import Settings

Client = AsyncTestClient[Litestar]


async def _load_demo(db: AsyncSession, settings: Settings) -> None:
    await load_demo_programme(db, now=utc_now(), settings=settings)
    await db.commit()


async def _create_event(client: Client, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = {"kind": "webinar_series", "title": "Circular furniture webinars", **overrides}
    response = await client.post("/api/organiser/events", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _add_session(client: Client, headers: dict[str, str], event_id: int,
                       **overrides: Any) -> dict[str, Any]:
    body = {"title": "Session 1", "starts_at": "2026-06-15T10:00", "ends_at": "2026-06-15T11:30",
            "join_url": "https://meet.example.org/secret-room", **overrides}
    response = await client.post(f"/api/organiser/events/{event_id}/sessions", json=body,
                                 headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _error_fields(response: Any) -> list[str | None]:
    return [error["field"] for error in response.json()["errors"]]


async def _counts(db: AsyncSession) -> tuple[int, int, int]:
    return (
        await db.scalar(select(func.count(Event.id))) or 0,
        await db.scalar(select(func.count(Session.id))) or 0,
        await db.scalar(select(func.count(AgendaItem.id))) or 0,
    )


# --- the seed agenda, exactly ----------------------------------------------------------------


async def test_public_api_shows_the_make_ict_fair_agenda_in_cet_and_utc(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    await _load_demo(db, settings)

    response = await client.get(f"/api/events/{MAKE_ICT_FAIR_SLUG}")

    assert response.status_code == 200
    event = response.json()
    first, second = event["sessions"]
    assert (first["starts"]["utc"], first["ends"]["utc"]) == (
        "2020-11-09T09:00:00Z", "2020-11-09T10:45:00Z")
    assert (first["starts"]["local"], first["starts"]["abbreviation"]) == (
        "2020-11-09T10:00:00+01:00", "CET")
    assert (second["starts"]["utc"], second["ends"]["utc"]) == (
        "2020-12-10T09:00:00Z", "2020-12-10T10:30:00Z")
    agenda = [
        (item["starts"]["local"][11:16], item["title"].split(":")[0],
         [(s["name"], s["organisation"]) for s in item["speakers"]])
        for item in first["agenda"]
    ]
    assert agenda == [
        ("10:00", "Welcome and introduction",
         [("Paula Land", "ICLEI Local Governments for Sustainability")]),
        ("10:10", "Facing market challenges", [("Carla Canal", "Barcelona City Council")]),
        ("10:40", "Facing internal challenges", [("Rudie de Vries", "Municipality of Haarlem")]),
        ("11:10", "Including social criteria", [("Elin Seveholt", "City of Stavanger")]),
        ("11:30", "Q&A and opportunity for discussion", []),
    ]
    stockholm = second["agenda"][2]
    assert (stockholm["starts"]["utc"], stockholm["speakers"][0]["name"]) == (
        "2020-12-10T09:40:00Z", "Kathleen McCaughey")


async def test_demo_loader_is_idempotent(db: AsyncSession, settings: Settings) -> None:
    await _load_demo(db, settings)
    before = await _counts(db)

    added = await load_demo_programme(db, now=utc_now(), settings=settings)

    assert (added, await _counts(db)) == ([], before)
    assert before[0] == 5


async def test_demo_has_a_summer_time_sample(client: Client, db: AsyncSession,
                                             settings: Settings) -> None:
    await _load_demo(db, settings)

    response = await client.get("/api/events/procura-plus-seminar-2027")

    starts = response.json()["sessions"][0]["starts"]
    assert (starts["local"], starts["abbreviation"], starts["utc"]) == (
        "2027-06-15T09:00:00+02:00", "CEST", "2027-06-15T07:00:00Z")
    assert response.json()["is_sample_data"] is True


# --- daylight saving time edges ----------------------------------------------------------


@pytest.mark.parametrize(
    ("starts_at", "expected_utc", "abbreviation"),
    [
        ("2026-03-28T10:00", "2026-03-28T09:00:00Z", "CET"),   # Saturday before spring forward
        ("2026-03-29T10:00", "2026-03-29T08:00:00Z", "CEST"),  # the last Sunday of March
        ("2026-10-25T10:00", "2026-10-25T09:00:00Z", "CET"),   # the last Sunday of October
        ("2026-10-24T10:00", "2026-10-24T08:00:00Z", "CEST"),
        ("2026-10-25T02:30+02:00", "2026-10-25T00:30:00Z", "CEST"),  # fold, made explicit
        ("2026-10-25T02:30+01:00", "2026-10-25T01:30:00Z", "CET"),
    ],
)
async def test_wall_times_around_dst_changes_become_exact_instants(
    client: Client, organiser_headers: dict[str, str], starts_at: str, expected_utc: str,
    abbreviation: str,
) -> None:
    event = await _create_event(client, organiser_headers)

    session = await _add_session(client, organiser_headers, event["id"], starts_at=starts_at,
                                 ends_at="2026-10-26T04:00+00:00" if "+" in starts_at
                                 else starts_at[:11] + "11:00")

    assert (session["starts"]["utc"], session["starts"]["abbreviation"]) == (
        expected_utc, abbreviation)


@pytest.mark.parametrize(
    ("starts_at", "words"),
    [("2026-03-29T02:30", "does not exist"), ("2026-10-25T02:30", "happens twice")],
)
async def test_a_local_time_in_a_dst_gap_or_fold_is_refused_naming_the_field(
    client: Client, organiser_headers: dict[str, str], db: AsyncSession, starts_at: str,
    words: str,
) -> None:
    event = await _create_event(client, organiser_headers)
    before = await _counts(db)

    response = await client.post(
        f"/api/organiser/events/{event['id']}/sessions",
        json={"title": "Night session", "starts_at": starts_at, "ends_at": starts_at[:11] + "05:00"},
        headers=organiser_headers,
    )

    assert (response.status_code, _error_fields(response)) == (422, ["starts_at"])
    assert words in response.json()["detail"]
    assert await _counts(db) == before


# --- validation -----------------------------------------------------------------------------


async def test_session_ending_before_it_starts_is_refused(
    client: Client, organiser_headers: dict[str, str]
) -> None:
    event = await _create_event(client, organiser_headers)

    response = await client.post(
        f"/api/organiser/events/{event['id']}/sessions",
        json={"title": "Backwards", "starts_at": "2026-05-05T11:00", "ends_at": "2026-05-05T10:00"},
        headers=organiser_headers,
    )

    assert (response.status_code, _error_fields(response)) == (422, ["ends_at"])


async def test_agenda_items_must_stay_inside_their_session_and_not_overlap(
    client: Client, organiser_headers: dict[str, str], db: AsyncSession
) -> None:
    event = await _create_event(client, organiser_headers)
    session = await _add_session(client, organiser_headers, event["id"])
    url = f"/api/organiser/sessions/{session['id']}/agenda-items"
    first = await client.post(url, json={"title": "Welcome", "starts_at": "10:00",
                                         "ends_at": "10:15"}, headers=organiser_headers)
    assert first.status_code == 201
    before = await _counts(db)

    outside = await client.post(url, json={"title": "Late", "starts_at": "11:20",
                                           "ends_at": "11:45"}, headers=organiser_headers)
    overlap = await client.post(url, json={"title": "Clash", "starts_at": "10:10",
                                           "ends_at": "10:30"}, headers=organiser_headers)
    early = await client.post(url, json={"title": "Early", "starts_at": "09:50",
                                         "ends_at": "10:00"}, headers=organiser_headers)

    assert (outside.status_code, _error_fields(outside)) == (422, ["ends_at"])
    assert (overlap.status_code, _error_fields(overlap)) == (422, ["starts_at"])
    assert "Welcome" in overlap.json()["detail"]
    assert (early.status_code, _error_fields(early)) == (422, ["starts_at"])
    assert await _counts(db) == before


async def test_moving_a_session_moves_its_agenda_and_bumps_the_sequence(
    client: Client, organiser_headers: dict[str, str]
) -> None:
    event = await _create_event(client, organiser_headers)
    session = await _add_session(client, organiser_headers, event["id"])
    await client.post(f"/api/organiser/sessions/{session['id']}/agenda-items",
                      json={"title": "Talk", "starts_at": "10:10", "ends_at": "10:40"},
                      headers=organiser_headers)

    moved = await client.patch(
        f"/api/organiser/sessions/{session['id']}",
        json={"starts_at": "2026-06-16T14:00", "ends_at": "2026-06-16T15:30"},
        headers=organiser_headers,
    )
    retitled = await client.patch(f"/api/organiser/sessions/{session['id']}",
                                  json={"title": "Session one"}, headers=organiser_headers)

    assert moved.status_code == 200
    assert moved.json()["agenda"][0]["starts"]["local"] == "2026-06-16T14:10:00+02:00"
    assert (session["sequence"], moved.json()["sequence"], retitled.json()["sequence"]) == (0, 1, 1)


async def test_a_patch_changes_only_the_fields_sent_and_null_clears_them(
    client: Client, organiser_headers: dict[str, str]
) -> None:
    event = await _create_event(client, organiser_headers, capacity=40, venue_name="Stadhuis",
                                venue_city="Haarlem", registration_closes_at="2026-06-01T12:00")
    path = f"/api/organiser/events/{event['id']}"

    retitled = await client.patch(path, json={"title": "Circular furniture, again"},
                                  headers=organiser_headers)
    cleared = await client.patch(
        path, json={"capacity": None, "venue_name": None, "registration_closes_at": None},
        headers=organiser_headers,
    )
    refused = await client.patch(path, json={"title": None}, headers=organiser_headers)

    def seen(body: dict[str, Any]) -> tuple[object, ...]:
        return (body["title"], body["capacity"], body["venue"],
                (body["registration_closes"] or {}).get("local"))

    assert seen(retitled.json()) == (
        "Circular furniture, again", 40,
        {"name": "Stadhuis", "address": None, "city": "Haarlem", "country": None},
        "2026-06-01T12:00:00+02:00")
    assert seen(cleared.json()) == (
        "Circular furniture, again", None,
        {"name": None, "address": None, "city": "Haarlem", "country": None}, None)
    assert (refused.status_code, _error_fields(refused)) == (400, ["title"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "webinar_series", "title": "x", "timezone": "Europe/Bruxelles"}, "timezone"),
        ({"kind": "party", "title": "x"}, "kind"),
        ({"kind": "seminar", "title": "x" * 301}, "title"),
        ({"kind": "seminar", "title": ""}, "title"),
        ({"kind": "seminar", "title": "Bad\u0000byte"}, "title"),
        ({"kind": "seminar", "title": "Two\u2028lines"}, "title"),
        ({"kind": "seminar"}, "title"),
        ({"kind": "seminar", "title": "x", "capacity": 0}, "capacity"),
        ({"kind": "seminar", "title": "x", "venue_country": "Belgium"}, "venue_country"),
        ({"kind": "seminar", "title": "x", "unknown": 1}, "unknown"),
        ({"kind": "seminar", "title": "x", "registration_opens_at": "2026-05-01T10:00",
          "registration_closes_at": "2026-04-01T10:00"}, "registration_closes_at"),
        ({"kind": "seminar", "title": "x", "host_organisation_id": 999}, "host_organisation_id"),
    ],
)
async def test_bad_event_input_names_the_field_and_stores_nothing(
    client: Client, organiser_headers: dict[str, str], db: AsyncSession, body: dict[str, Any],
    field: str,
) -> None:
    before = await _counts(db)

    response = await client.post("/api/organiser/events", json=body, headers=organiser_headers)

    assert response.status_code in (400, 422)
    assert field in _error_fields(response)
    assert await _counts(db) == before


async def test_malformed_json_is_a_400(client: Client, organiser_headers: dict[str, str]) -> None:
    response = await client.post(
        "/api/organiser/events", content=b'{"kind": "seminar", "title": ',
        headers={**organiser_headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["status_code"] == 400


async def test_unknown_ids_are_404_and_slug_clashes_409(
    client: Client, organiser_headers: dict[str, str]
) -> None:
    await _create_event(client, organiser_headers, slug="circular-furniture")

    missing = await client.get("/api/organiser/events/4242", headers=organiser_headers)
    missing_session = await client.patch("/api/organiser/sessions/77", json={"title": "x"},
                                         headers=organiser_headers)
    clash = await client.post("/api/organiser/events", headers=organiser_headers,
                              json={"kind": "seminar", "title": "Other", "slug": "circular-furniture"})
    public_missing = await client.get("/api/events/no-such-event")

    assert (missing.status_code, _error_fields(missing)) == (404, ["event_id"])
    assert missing_session.status_code == 404
    assert (clash.status_code, _error_fields(clash)) == (409, ["slug"])
    assert public_missing.status_code == 404


# --- authentication --------------------------------------------------------------------------


async def test_organiser_routes_need_a_token_and_writes_need_the_organiser_role(
    client: Client, organiser_headers: dict[str, str], viewer_headers: dict[str, str],
    db: AsyncSession,
) -> None:
    anonymous = await client.get("/api/organiser/events")
    wrong = await client.get("/api/organiser/events", headers={"Authorization": "Bearer nope"})
    viewer_read = await client.get("/api/organiser/events", headers=viewer_headers)
    viewer_write = await client.post("/api/organiser/events", headers=viewer_headers,
                                     json={"kind": "seminar", "title": "Sneaky"})

    assert (anonymous.status_code, anonymous.headers["www-authenticate"]) == (
        401, 'Bearer realm="procura-events"')
    assert wrong.status_code == 401
    assert (viewer_read.status_code, viewer_read.json()) == (200, [])
    assert viewer_write.status_code == 403
    assert await _counts(db) == (0, 0, 0)


# --- public output ---------------------------------------------------------------------------


async def test_public_output_has_no_drafts_join_links_or_emails(
    client: Client, organiser_headers: dict[str, str], db: AsyncSession, settings: Settings
) -> None:
    await _load_demo(db, settings)
    draft = await _create_event(client, organiser_headers, title="Secret draft",
                                contact_email="organiser@example.org")
    await _add_session(client, organiser_headers, draft["id"])
    person = await client.post("/api/organiser/persons", headers=organiser_headers,
                               json={"name": "Carla Canal", "email": "carla@example.org"})
    assert person.status_code == 201

    listing = await client.get("/api/events", params={"page_size": 100})
    details = [await client.get(f"/api/events/{e['slug']}") for e in listing.json()["items"]]
    draft_public = await client.get(f"/api/events/{draft['slug']}")

    public_text = listing.text + "".join(d.text for d in details)
    assert draft_public.status_code == 404
    assert "Secret draft" not in public_text
    assert "meet.example.org" not in public_text
    assert "join_url" not in public_text
    assert "@" not in public_text
    assert listing.json()["total"] == 5


async def test_public_listing_filters_by_kind_and_date_and_pages(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    await _load_demo(db, settings)

    webinars = await client.get("/api/events", params={"kind": "webinar_series"})
    upcoming = await client.get("/api/events", params={"from": "2026-11-23"})
    in_2020 = await client.get("/api/events", params={"from": "2020-01-01", "to": "2020-12-31"})
    page_two = await client.get("/api/events", params={"page": 2, "page_size": 3})

    assert [e["slug"] for e in webinars.json()["items"]] == [
        MAKE_ICT_FAIR_SLUG, "circular-ict-webinar-series-2027"]
    assert [e["slug"] for e in upcoming.json()["items"]] == [
        "meet-your-buyer-haarlem-fair-circular-ict",
        "circular-ict-webinar-series-2027",
        "citymatch-zurich-recycled-concrete",
        "procura-plus-seminar-2027",
    ]
    assert [e["slug"] for e in in_2020.json()["items"]] == [MAKE_ICT_FAIR_SLUG]
    assert (page_two.json()["total"], len(page_two.json()["items"])) == (5, 2)


async def test_organiser_sees_join_links_and_can_publish_and_cancel(
    client: Client, organiser_headers: dict[str, str]
) -> None:
    event = await _create_event(client, organiser_headers)
    empty_publish = await client.post(f"/api/organiser/events/{event['id']}/publish",
                                      headers=organiser_headers)
    session = await _add_session(client, organiser_headers, event["id"])

    published = await client.post(f"/api/organiser/events/{event['id']}/publish",
                                  headers=organiser_headers)
    public = await client.get(f"/api/events/{event['slug']}")
    cancelled = await client.post(f"/api/organiser/events/{event['id']}/cancel",
                                  headers=organiser_headers)

    assert (empty_publish.status_code, _error_fields(empty_publish)) == (409, ["sessions"])
    assert session["join_url"] == "https://meet.example.org/secret-room"
    assert (published.status_code, published.json()["status"]) == (200, "published")
    assert public.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["sessions"][0]["status"],
            cancelled.json()["sessions"][0]["sequence"]) == ("cancelled", "cancelled", 1)


async def test_openapi_document_is_served(client: Client) -> None:
    response = await client.get("/api/docs/openapi.json")

    paths = json.loads(response.text)["paths"]
    assert "/api/events/{slug}" in paths
    assert "/api/organiser/events/{event_id}/sessions" in paths


async def test_the_organiser_api_keeps_and_shows_an_organisations_standing(
    client: Client, organiser_headers: dict[str, str]
) -> None:
    created = await client.post("/api/organiser/organisations", json={
        "name": "City of Ghent", "kind": "public_authority", "standing": "participant"},
        headers=organiser_headers)
    url = f"/api/organiser/organisations/{created.json()['id']}"
    changed = await client.patch(url, json={"standing": "strategic_partner"},
                                 headers=organiser_headers)
    refused = await client.patch(url, json={"standing": "friend"}, headers=organiser_headers)
    listed = await client.get("/api/organiser/organisations", headers=organiser_headers)

    assert (created.status_code, created.json()["standing"]) == (201, "participant")
    assert (changed.status_code, changed.json()["standing"]) == (200, "strategic_partner")
    assert (refused.status_code, _error_fields(refused)) == (400, ["standing"])
    assert [(o["name"], o["standing"]) for o in listed.json()] == [
        ("City of Ghent", "strategic_partner")]
    assert (await client.get(url, headers=organiser_headers)).json()["standing"] == (
        "strategic_partner")

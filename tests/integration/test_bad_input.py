"""Hostile input is the client's mistake: a 4xx naming the field, nothing stored, no traceback.

Each case here once answered 500 (and logged a traceback) on at least one database: days and
times at the ends of the calendar, JSON bodies the decoder chokes on, control characters in
path parameters. The demo programme is loaded as of 1 October 2020 and the clock stands
still on 20 October 2020.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    AgendaItem,
    Event,
    Organisation,
    Registration,
    RegistrationStatus,
    Session,
)
from service.operations.demo import MAKE_ICT_FAIR_SLUG
from tests.factories import DEMO_LOADED_AT, DEMO_NOW

Client = AsyncTestClient[Litestar]

LOADED_AT = DEMO_LOADED_AT
NOW = DEMO_NOW
REGISTER = f"/api/events/{MAKE_ICT_FAIR_SLUG}/registrations"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Whatever the test sends, nothing may be logged as an unexpected error."""
    with caplog.at_level(logging.ERROR):
        yield
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


pytestmark = pytest.mark.usefixtures("frozen_clock", "demo", "no_tracebacks")


def fields_of(response: httpx.Response) -> tuple[int, list[str | None]]:
    return response.status_code, [e["field"] for e in response.json()["errors"]]


async def count(db: AsyncSession, model: type[object]) -> int:
    return await db.scalar(select(func.count()).select_from(model)) or 0


# --- days asked for ------------------------------------------------------------------------


async def test_days_outside_the_calendar_are_refused_naming_the_filter(client: Client) -> None:
    answers = {query: fields_of(await client.get(f"/api/events?{query}")) for query in (
        "from=0001-01-01", "to=9999-12-31", "from=9999-12-31", "to=0001-01-01",
        "from=1899-12-31", "to=3000-01-01",
    )}
    within = await client.get("/api/events?from=1900-01-01&to=2999-12-31")
    everything = await client.get("/api/events")

    assert answers == {
        "from=0001-01-01": (422, ["from"]), "to=9999-12-31": (422, ["to"]),
        "from=9999-12-31": (422, ["from"]), "to=0001-01-01": (422, ["to"]),
        "from=1899-12-31": (422, ["from"]), "to=3000-01-01": (422, ["to"]),
    }
    assert (within.status_code, within.json()["total"]) == (200, everything.json()["total"])


# --- times given by organisers -------------------------------------------------------------


EDGE_TIMES = ("0001-01-01T00:00", "0001-01-01T00:30+01:00", "9999-12-31T23:59",
              "9999-12-31T23:59-05:00", "1899-12-31T23:00Z", "3000-01-01T00:00")


async def test_times_at_the_ends_of_the_calendar_are_refused_naming_the_field(
    client: Client, db: AsyncSession, organiser_headers: dict[str, str]
) -> None:
    before = (await count(db, Event), await count(db, Session), await count(db, AgendaItem))
    answers: dict[tuple[str, str], tuple[int, list[str | None]]] = {}
    expected: dict[tuple[str, str], tuple[int, list[str | None]]] = {}
    for value in EDGE_TIMES:
        writes = {
            "session starts_at": ("POST", "/api/organiser/events/1/sessions", {
                "title": "Edge", "starts_at": value, "ends_at": "2020-11-30T11:00"}),
            "session ends_at": ("POST", "/api/organiser/events/1/sessions", {
                "title": "Edge", "starts_at": "2020-11-30T10:00", "ends_at": value}),
            "moved session starts_at": ("PATCH", "/api/organiser/sessions/1",
                                        {"starts_at": value}),
            "agenda item ends_at": ("POST", "/api/organiser/sessions/1/agenda-items", {
                "title": "Edge", "starts_at": "10:00", "ends_at": value}),
            "event registration_opens_at": ("PATCH", "/api/organiser/events/1",
                                            {"registration_opens_at": value}),
            "new event registration_closes_at": ("POST", "/api/organiser/events", {
                "kind": "seminar", "title": "Edge", "registration_closes_at": value}),
        }
        for name, (method, url, body) in writes.items():
            response = await client.request(method, url, json=body, headers=organiser_headers)
            answers[(name, value)] = fields_of(response)
            expected[(name, value)] = (422, [name.rsplit(" ", 1)[1]])

    assert answers == expected
    assert (await count(db, Event), await count(db, Session), await count(db, AgendaItem)
            ) == before


async def test_texts_longer_than_their_columns_are_refused_naming_the_field(
    client: Client, db: AsyncSession, organiser_headers: dict[str, str]
) -> None:
    """Each as long as the API's shape allows, one character longer than its column: on
    PostgreSQL such a text reached the database and answered 500."""
    before = (await count(db, Event), await count(db, Organisation))
    writes = {
        "venue_name": ("POST", "/api/organiser/events", {
            "kind": "seminar", "title": "Long", "venue_name": "v" * 201}),
        "venue_city": ("PATCH", "/api/organiser/events/1", {"venue_city": "c" * 121}),
        "website": ("POST", "/api/organiser/organisations", {
            "name": "Long", "kind": "public_authority",
            "website": "https://example.org/" + "w" * 481}),
    }
    answers = {}
    for name, (method, url, body) in writes.items():
        response = await client.request(method, url, json=body, headers=organiser_headers)
        answers[name] = (response.status_code, [e["field"] for e in response.json()["errors"]])

    assert answers == {name: (400, [name]) for name in writes}
    assert (await count(db, Event), await count(db, Organisation)) == before


# Every JSON write that takes texts: a body it accepts, which each text field in turn
# overwrites with a text longer than any field takes. (A supplier's meeting requests and
# questions go through the same checks as their forms, walked in test_http_edges.py.)
_API_WRITES = {
    ("POST", REGISTER): {"name": "Ana Novak", "email": "ana.long@example.org", "consent": True},
    ("POST", f"{REGISTER}/link"): {"email": "ana.long@example.org"},
    ("POST", "/api/organiser/events"): {"kind": "seminar", "title": "Long"},
    ("PATCH", "/api/organiser/events/1"): {},
    ("POST", "/api/organiser/events/1/copy"): {"title": "Copy", "first_day": "2021-11-08"},
    ("POST", "/api/organiser/events/1/registrations"): {
        "name": "Ana Novak", "email": "ana.long@example.org", "consent": True},
    ("POST", "/api/organiser/events/1/sessions"): {
        "title": "Extra", "starts_at": "2020-12-01T10:00", "ends_at": "2020-12-01T11:00"},
    ("PATCH", "/api/organiser/sessions/1"): {},
    ("POST", "/api/organiser/sessions/1/agenda-items"): {
        "title": "Extra", "starts_at": "11:40", "ends_at": "11:45"},
    ("PATCH", "/api/organiser/agenda-items/1"): {},
    ("POST", "/api/organiser/organisations"): {"name": "Long", "kind": "public_authority"},
    ("PATCH", "/api/organiser/organisations/1"): {},
    ("POST", "/api/organiser/persons"): {"name": "Long"},
    ("PATCH", "/api/organiser/persons/1"): {},
    ("POST", "/api/organiser/registrations/{pending}/approve"): {},
    ("POST", "/api/organiser/registrations/{pending}/decline"): {},
    ("PATCH", "/api/registrations/{token}"): {},
}
_LONG = "x" * 100_001


def _text_fields(app: Litestar, method: str, template: str) -> list[str]:
    """The text fields of a write's JSON body, from the API's own description."""
    schema = app.openapi_schema.to_schema()
    components = schema["components"]["schemas"]

    def properties(part: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in part:
            return properties(components[part["$ref"].rsplit("/", 1)[1]])
        found: dict[str, Any] = {}
        for alternative in part.get("oneOf", []) + part.get("anyOf", []):
            found |= properties(alternative)
        return found | part.get("properties", {})

    def is_text(part: dict[str, Any]) -> bool:
        return part.get("type") == "string" or any(
            is_text(p) for p in part.get("oneOf", []) + part.get("anyOf", []))

    body = schema["paths"][template][method.lower()]["requestBody"]["content"]
    return sorted(name for name, part in properties(body["application/json"]["schema"]).items()
                  if is_text(part))


async def test_each_text_of_each_json_write_alone_is_refused_naming_it(
    app: Litestar, client: Client, db: AsyncSession, organiser_headers: dict[str, str]
) -> None:
    """Each alone, the rest of the body as the write accepts it: a text that no field takes
    is refused (4xx) naming it, never stored cut short nor a server error."""
    receipt = await client.post(REGISTER, json={
        "name": "Ana Novak", "email": "ana.novak@example.org", "consent": True})
    token = receipt.json()["manage_url"].rsplit("/", 1)[1]
    applied = await client.post("/api/events/citymatch-zurich-recycled-concrete/registrations",
                                json={"name": "Anna Keller", "consent": True,
                                      "email": "anna.keller@zurich.example.ch"})
    await db.rollback()  # see what the app committed
    pending = await db.scalar(select(Registration.id).where(
        Registration.email == "anna.keller@zurich.example.ch"))
    assert applied.json()["status"] == RegistrationStatus.PENDING
    templates = {route.path: route for route in app.routes if isinstance(route, HTTPRoute)}
    failures, sent = [], 0
    for (method, url), base in _API_WRITES.items():
        url = url.format(token=token, pending=pending)
        template = next(path for path in templates
                        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", path), url))
        fields = _text_fields(app, method, template.replace(":int}", "}").replace(":str}", "}"))
        headers = organiser_headers if url.startswith("/api/organiser") else {}
        for name in fields:
            answer = await client.request(method, url, json=base | {name: _LONG},
                                          headers=headers)
            sent += 1
            named = [e.get("field") for e in answer.json().get("errors", [])] \
                if answer.headers.get("content-type", "").startswith("application/json") else []
            if answer.status_code not in (400, 422) or name not in named:
                failures.append(f"{method} {template} with a long {name}: "
                                f"{answer.status_code} {named}")

    assert not failures, "\n".join(failures)
    assert sent >= 60


# --- bodies the JSON decoder chokes on -----------------------------------------------------


async def test_unreadable_json_bodies_are_refused_naming_the_body(
    client: Client, db: AsyncSession
) -> None:
    registrations = await count(db, Registration)  # the demo's sample suppliers
    valid = {"name": "Ana Novak", "email": "ana@example.org", "consent": True}
    bodies = {
        "nested 1,000 deep": b"[" * 1000 + b"]" * 1000,
        "nested objects": b'{"a":' * 5000 + b"1" + b"}" * 5000,
        "invalid UTF-8": b'{"name": "Ana \xff\xfe", "email": "ana@example.org", "consent": true}',
        "truncated": json.dumps(valid).encode()[:-1],
        "lone surrogate": b'{"name": "\\ud800", "email": "ana@example.org", "consent": true}',
    }

    answers = {name: fields_of(await client.post(REGISTER, content=body, headers=JSON))
               for name, body in bodies.items()}

    assert answers == {
        "nested 1,000 deep": (400, ["body"]), "nested objects": (400, ["body"]),
        "invalid UTF-8": (400, ["body"]), "truncated": (400, ["body"]),
        "lone surrogate": (400, ["body"]),
    }
    assert await count(db, Registration) == registrations


# --- control characters in the path --------------------------------------------------------


def _string_path_routes(app: Litestar) -> list[tuple[str, str, str]]:
    """(method, path template, parameter) for every text path parameter the app declares."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(("/static", "/api/docs")):
            continue
        for name, parameter in route.path_parameters.items():
            if parameter.type is str:
                found += [(method, route.path, name) for method in sorted(route.methods)
                          if method != "OPTIONS"]
    return found


def _fill(template: str, name: str, value: str) -> str:
    """The bad value in `name`; a whole-number parameter beside it gets a good one (1)."""
    return re.sub(r"\{\w+:int\}", "1", template.replace(f"{{{name}:str}}", value))


async def test_control_characters_in_any_path_parameter_are_refused_naming_it(
    app: Litestar, client: Client, db: AsyncSession, organiser_headers: dict[str, str]
) -> None:
    registrations = await count(db, Registration)  # the demo's sample suppliers
    routes = _string_path_routes(app)
    answers: dict[tuple[str, str, str], int] = {}
    expected: dict[tuple[str, str, str], int] = {}
    for method, template, name in routes:
        for label, value in (("NUL", "%00"), ("NUL inside", "a%00.ics"), ("escape", "%1b"),
                             ("delete", "x%7F")):
            response = await client.request(method, _fill(template, name, value),
                                             headers={**organiser_headers, **JSON})
            is_page = not template.startswith(("/api", "/feeds"))
            # Interest Groups' calendar feeds answer like the other feeds.
            is_page = is_page and not template.endswith(".ics") and \
                not template.startswith("/groups/feed/")
            # A back-office form without its CSRF token is refused before anything is read.
            is_backoffice_form = method == "POST" and template.startswith("/organiser/")
            # (a JSON body left out is named as well: the parameter must be among them)
            named = ("This form has expired" in response.text if is_backoffice_form
                     else f"(in: {name})" in response.text if is_page
                     else name in [e["field"] for e in response.json()["errors"]])
            answers[(method, template, label)] = response.status_code if named else -1
            expected[(method, template, label)] = 403 if is_backoffice_form else 400

    assert len({template for _, template, _ in routes}) == 52
    assert answers == expected
    assert await count(db, Registration) == registrations


async def test_event_page_with_a_nul_slug_says_which_part_is_wrong(client: Client) -> None:
    response = await client.get("/events/%00")

    assert response.status_code == 400
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "we cannot read (in: slug)" in response.text


async def test_the_registration_form_refuses_control_characters_and_broken_encoding(
    client: Client, db: AsyncSession
) -> None:
    page = (await client.get(f"/events/{MAKE_ICT_FAIR_SLUG}/register")).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    form = (f"csrf_token={token.group(1)}&email=ana%40example.org&consent=yes&website="
            "&session_ids=1")

    nul = await client.post(f"/events/{MAKE_ICT_FAIR_SLUG}/register",
                            content=f"{form}&name=Ana%00Novak".encode(),
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    broken = await client.post(f"/events/{MAKE_ICT_FAIR_SLUG}/register",
                               content=f"{form}&name=Ana%FF%FENovak".encode(),
                               headers={"Content-Type": "application/x-www-form-urlencoded"})

    assert nul.status_code == 422
    assert 'id="name-error"' in nul.text
    # Bytes that are not UTF-8 are read as U+FFFD (as browsers, which always send UTF-8 here,
    # never produce them): stored as such, never a 500.
    assert broken.status_code == 200
    assert list(await db.scalars(select(Registration.name).where(
        Registration.email_normalised == "ana@example.org"))) == ["Ana\ufffd\ufffdNovak"]

"""Rules every HTTP answer obeys: HEAD wherever GET is, nosniff everywhere, no server banner,
no server error for hostile values in any public form.

The demo programme is loaded as of 1 October 2020 and the clock stands still on 20 October
2020, so registrations for the Make ICT Fair series are open and every private link exists.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import socket
from email.message import EmailMessage

import httpx
import pytest
import uvicorn
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from service.cli import build_parser, server_config
from service.db.models import AccessPurpose, Event, GroupMember, OutboxEmail, Registration
from service.domain import access, consultation
from service.operations.demo import MAKE_ICT_FAIR_SLUG, load_demo_meetings
from service.operations.demo_consultation import HAARLEM_SLUG
from service.settings import Settings
from tests.conftest import TEST_BASE_URL
from tests.factories import DEMO_LOADED_AT, DEMO_NOW, make_group_member, make_interest_group
from tests.integration.hostile_forms import (
    FORM_CONTENT,
    HOSTILE,
    LONG_TEXT,
    field_names,
    form_body,
    problem_with,
    problem_with_refusal,
    typed_forms,
)
from tests.integration.test_address_confirmation import Sessionmaker, link_for
from tests.integration.test_pages import CITYMATCH, MEET_YOUR_BUYER, SEMINAR

Client = AsyncTestClient[Litestar]

LOADED_AT = DEMO_LOADED_AT
NOW = DEMO_NOW
SERIES = MAKE_ICT_FAIR_SLUG


pytestmark = pytest.mark.usefixtures("frozen_clock", "demo")


def _tail(url: str) -> str:
    """`http://events.test/feeds/x.ics` -> `/feeds/x.ics`."""
    return url.removeprefix(TEST_BASE_URL)


async def _private_links(client: Client, organiser: dict[str, str]) -> dict[str, str]:
    """Real private links, made the way their owners get them."""
    receipt = await client.post(
        f"/api/events/{SERIES}/registrations",
        json={"name": "Ana Novak", "email": "ana.novak@ljubljana.example.org", "consent": True},
    )
    manage_token = receipt.json()["manage_url"].rsplit("/", 1)[1]
    mine = (await client.get(f"/api/registrations/{manage_token}")).json()
    speaker = (await client.post("/api/organiser/persons/1/speaker-links",
                                 headers=organiser)).json()
    organiser_feed = (await client.get("/api/organiser/feed-token", headers=organiser)).json()
    return {
        "manage_token": manage_token,
        "registration_feed": _tail(mine["feed_url"]).rsplit("/", 1)[1],
        "speaker_page": _tail(speaker["page_url"]).rsplit("/", 1)[1],
        "speaker_feed": _tail(speaker["feed_url"]).rsplit("/", 1)[1],
        "organiser_feed": _tail(organiser_feed["feed_url"]).rsplit("/", 1)[1],
    }


def _get_routes(app: Litestar) -> set[str]:
    """The public and API GET routes (the back office's pages need an account: they are
    walked by tests/integration/test_backoffice_authorisation.py)."""
    return {route.path for route in app.routes
            if isinstance(route, HTTPRoute) and "GET" in route.methods
            and route.path != "/organiser" and not route.path.startswith("/organiser/")}


def _urls_for_every_get_route(links: dict[str, str]) -> dict[str, str]:
    token = links["manage_token"]
    return {
        "/": "/",
        "/archive": "/archive",
        "/events/{slug:str}": f"/events/{SERIES}",
        "/events/{slug:str}/register": f"/events/{SERIES}/register",
        "/events/{slug:str}/link": f"/events/{SERIES}/link",
        "/registrations/{token:str}": f"/registrations/{token}",
        "/registrations/{token:str}/cancel": f"/registrations/{token}/cancel",
        "/registrations/{token:str}/certificate": f"/registrations/{token}/certificate",
        "/certificates/{token:str}": "/certificates/no-such-certificate",
        "/registrations/{token:str}/erase": f"/registrations/{token}/erase",
        "/registrations/{token:str}/feedback": f"/registrations/{token}/feedback",
        "/speakers/{token:str}": f"/speakers/{links['speaker_page']}",
        "/static/{file_path:path}": "/static/site.css",
        "/feeds/programme.ics": "/feeds/programme.ics",
        "/feeds/events/{name:str}": f"/feeds/events/{SERIES}.ics",
        "/feeds/kinds/{name:str}": "/feeds/kinds/webinar_series.ics",
        "/feeds/sessions/{name:str}": "/feeds/sessions/1.ics",
        "/feeds/registrations/{name:str}": f"/feeds/registrations/{links['registration_feed']}",
        "/feeds/speakers/{name:str}": f"/feeds/speakers/{links['speaker_feed']}",
        "/feeds/organisers/{name:str}": f"/feeds/organisers/{links['organiser_feed']}",
        "/groups/{slug:str}/calendar.ics": "/groups/edge-calendars/calendar.ics",
        "/groups/feed/{name:str}": f"/groups/feed/{links['group_member_feed']}.ics",
        "/groups": "/groups",
        "/groups/{slug:str}": "/groups/edge-calendars",
        "/groups/me/{token:str}": f"/groups/me/{links['group_member_page']}",
        "/api/groups": "/api/groups",
        "/api/groups/{slug:str}": "/api/groups/edge-calendars",
        "/api/events": "/api/events?kind=webinar_series",
        "/api/events/{slug:str}": f"/api/events/{SERIES}",
        "/api/registrations/{token:str}": f"/api/registrations/{token}",
        "/api/registrations/{token:str}/invite.ics": f"/api/registrations/{token}/invite.ics",
        "/api/registrations/{token:str}/feedback": f"/api/registrations/{token}/feedback",
        "/api/organiser/events": "/api/organiser/events",
        "/api/organiser/events/{event_id:int}": "/api/organiser/events/1",
        "/api/organiser/events/{event_id:int}/registrations":
            "/api/organiser/events/1/registrations",
        "/api/organiser/events/{event_id:int}/registrations.csv":
            "/api/organiser/events/1/registrations.csv",
        "/api/organiser/events/{event_id:int}/reminders": "/api/organiser/events/1/reminders",
        "/api/organiser/events/{event_id:int}/emails": "/api/organiser/events/1/emails",
        "/api/organiser/events/{event_id:int}/figures": "/api/organiser/events/1/figures",
        "/api/organiser/events/{event_id:int}/feedback": "/api/organiser/events/1/feedback",
        "/api/organiser/events/{event_id:int}/feedback/questions":
            "/api/organiser/events/1/feedback/questions",
        "/api/organiser/events/{event_id:int}/scheduled-messages":
            "/api/organiser/events/1/scheduled-messages",
        "/api/organiser/figures": "/api/organiser/figures",
        "/api/organiser/registrations/{registration_id:int}":
            "/api/organiser/registrations/1",
        "/api/organiser/registrations/{registration_id:int}/emails":
            "/api/organiser/registrations/1/emails",
        "/api/organiser/sessions/{session_id:int}": "/api/organiser/sessions/1",
        "/api/organiser/sessions/{session_id:int}/materials":
            "/api/organiser/sessions/1/materials",
        "/api/organiser/agenda-items/{agenda_item_id:int}": "/api/organiser/agenda-items/1",
        "/api/organiser/organisations": "/api/organiser/organisations",
        "/api/organiser/organisations/{organisation_id:int}": "/api/organiser/organisations/1",
        "/api/organiser/persons": "/api/organiser/persons",
        "/api/organiser/persons/{person_id:int}": "/api/organiser/persons/1",
        "/api/organiser/persons/{person_id:int}/speaker-links":
            "/api/organiser/persons/1/speaker-links",
        "/api/organiser/feed-token": "/api/organiser/feed-token",
        "/api/docs": "/api/docs",
        "/api/docs/swagger": "/api/docs/swagger",
        "/api/docs/{path:str}": "/api/docs/swagger",
        "/api/docs/openapi.json": "/api/docs/openapi.json",
        "/api/docs/oauth2-redirect.html": "/api/docs/oauth2-redirect.html",
        "/api/privacy-notice": "/api/privacy-notice",
        "/privacy": "/privacy",
        "/privacy/my-data": "/privacy/my-data",
    }


async def _data_link(client: Client, sessionmaker: Sessionmaker) -> str:
    """A real link to one's own data, asked for on its form and read from the outbox."""
    form = await client.get("/privacy/my-data")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    await client.post("/privacy/my-data", data={
        "csrf_token": token.group(1), "email": "ana.novak@ljubljana.example.org"})
    async with sessionmaker() as db:
        raw = await db.scalar(select(OutboxEmail.raw_message).where(
            OutboxEmail.template == "data_request_link_to_person"))
    assert raw is not None
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    found = re.search(r"/privacy/my-data/[A-Za-z0-9_-]+", body.get_content())
    assert found is not None
    return found.group(0)


async def _confirm_link(client: Client, sessionmaker: Sessionmaker,
                        organiser: dict[str, str]) -> str:
    """A real "confirm your address" link, on an event that asks for one."""
    event_id = (await client.get(f"/api/events/{SERIES}")).json()["id"]
    switched = await client.patch(f"/api/organiser/events/{event_id}", headers=organiser,
                                  json={"is_address_confirmation_required": True})
    assert switched.status_code == 200
    asked = await client.post(f"/api/events/{SERIES}/registrations", json={
        "name": "Bo Lind", "email": "bo.lind@malmo.example.se", "consent": True})
    assert asked.status_code == 202
    return await link_for(sessionmaker, "bo.lind@malmo.example.se")


async def _group_member_feed(sessionmaker: Sessionmaker, settings: Settings) -> str:
    """A public Interest Group with one member: their feed token."""
    async with sessionmaker() as db:
        group = await make_interest_group(db, slug="edge-calendars", now=LOADED_AT)
        member = await make_group_member(db, group, now=LOADED_AT)
        token = await access.group_member_token(db, member.id, AccessPurpose.GROUP_MEMBER_FEED,
                                                secret_key=settings.secret_key, now=LOADED_AT)
        await db.commit()
    return token


async def _shared_file(sessionmaker: Sessionmaker, settings: Settings) -> str:
    """A file shared in the demo's market consultation: where it is downloaded."""
    async with sessionmaker() as db, db.begin():
        event_id = await db.scalar(select(Event.id).where(Event.slug == HAARLEM_SLUG))
        assert event_id is not None
        document = await consultation.share_document(
            db, event_id, title="Draft criteria", now=NOW, settings=settings,
            upload=consultation.UploadedFile("criteria.txt", b"Criteria, draft 1\n"))
    return f"/events/{HAARLEM_SLUG}/consultation/documents/{document.id}"


async def _group_member_page(sessionmaker: Sessionmaker, settings: Settings) -> str:
    """The private page token of that group's member."""
    async with sessionmaker() as db:
        member_id = await db.scalar(select(GroupMember.id))
        assert member_id is not None
        token = await access.group_member_token(db, member_id, AccessPurpose.GROUP_MEMBER_PAGE,
                                                secret_key=settings.secret_key, now=LOADED_AT)
        await db.commit()
    return token


async def _consultation_urls(sessionmaker: Sessionmaker, settings: Settings) -> dict[str, str]:
    """The demo's market consultation through the API: public, a sample supplier's own
    meetings (through their private link) and the organisers' list."""
    async with sessionmaker() as db:
        await load_demo_meetings(db, now=LOADED_AT, settings=settings)
        event_id = await db.scalar(select(Event.id).where(Event.slug == HAARLEM_SLUG))
        supplier_id = await db.scalar(
            select(Registration.id).where(Registration.event_id == event_id,
                                          Registration.organisation_kind == "supplier",
                                          Registration.status == "confirmed")
            .order_by(Registration.id))
        assert event_id is not None and supplier_id is not None
        token = await access.current_access_token(
            db, AccessPurpose.REGISTRATION_MANAGE, secret_key=settings.secret_key,
            now=LOADED_AT, registration_id=supplier_id)
        await db.commit()
    return {
        "/api/events/{slug:str}/consultation": f"/api/events/{HAARLEM_SLUG}/consultation",
        "/api/registrations/{token:str}/meetings": f"/api/registrations/{token}/meetings",
        "/api/organiser/events/{event_id:int}/meetings":
            f"/api/organiser/events/{event_id}/meetings",
    }


async def _every_get_url(client: Client, db_sessionmaker: Sessionmaker,
                         organiser_headers: dict[str, str], settings: Settings
                         ) -> dict[str, str]:
    """A working URL for every public and API GET route, by its template (private links
    made for real)."""
    links = await _private_links(client, organiser_headers)
    links["group_member_feed"] = await _group_member_feed(db_sessionmaker, settings)
    links["group_member_page"] = await _group_member_page(db_sessionmaker, settings)
    urls = _urls_for_every_get_route(links)
    urls["/events/{slug:str}/consultation/documents/{document_id:int}"] = await _shared_file(
        db_sessionmaker, settings)
    urls["/events/{slug:str}/confirm/{token:str}"] = await _confirm_link(
        client, db_sessionmaker, organiser_headers)
    data_link = await _data_link(client, db_sessionmaker)
    urls["/privacy/my-data/{token:str}"] = data_link
    urls["/privacy/my-data/{token:str}/erase"] = f"{data_link}/erase"
    urls.update(await _consultation_urls(db_sessionmaker, settings))
    return urls


async def test_head_answers_every_get_route_like_get_without_the_body(
    app: Litestar, client: Client, db_sessionmaker: Sessionmaker,
    organiser_headers: dict[str, str], settings: Settings,
) -> None:
    urls = await _every_get_url(client, db_sessionmaker, organiser_headers, settings)
    answers: dict[str, tuple[int, str, str, int, str]] = {}
    expected: dict[str, tuple[int, str, str, int, str]] = {}

    for template, url in sorted(urls.items()):
        headers = organiser_headers if url.startswith("/api/organiser") else {}
        got = await client.get(url, headers=headers)
        head = await client.head(url, headers=headers)
        expected[template] = (got.status_code, got.headers["content-type"],
                              got.headers["content-length"], 0, "nosniff")
        answers[template] = (head.status_code, head.headers["content-type"],
                             head.headers["content-length"], len(head.content),
                             head.headers["x-content-type-options"])

    assert set(urls) == _get_routes(app)  # every GET route of the app is in the table
    assert answers == expected
    # Every page answers, but a certificate of attendance: nobody here came to a session yet,
    # and no certificate has the link walked (their HEAD answers 404 like their GET, with the
    # page that says why).
    assert {template: status for template, (status, *_) in answers.items() if status != 200} \
        == {"/registrations/{token:str}/certificate": 404, "/certificates/{token:str}": 404}
    assert [length for _, _, length, _, _ in answers.values()].count("0") == 0


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _post_routes(app: Litestar) -> set[str]:
    """The public pages' forms: every POST route outside the API and the back office."""
    return {route.path for route in app.routes
            if isinstance(route, HTTPRoute) and "POST" in route.methods
            and not route.path.startswith(("/api/", "/organiser"))}


async def _public_forms(client: Client, db_sessionmaker: Sessionmaker,
                        organiser_headers: dict[str, str], settings: Settings
                        ) -> dict[str, tuple[str, str]]:
    """Each public form's route, its address with real private links, and the page that
    carries it; last, what ends a link's use."""
    links = await _private_links(client, organiser_headers)
    await _group_member_feed(db_sessionmaker, settings)
    member = await _group_member_page(db_sessionmaker, settings)
    confirm = _tail(await _confirm_link(client, db_sessionmaker, organiser_headers))
    data = await _data_link(client, db_sessionmaker)
    supplier = (await _consultation_urls(db_sessionmaker, settings))[
        "/api/registrations/{token:str}/meetings"].split("/")[3]
    mine, theirs = f"/registrations/{links['manage_token']}", f"/registrations/{supplier}"
    return {
        "/events/{slug:str}/register": (f"/events/{SERIES}/register", f"/events/{SERIES}/register"),
        "/events/{slug:str}/link": (f"/events/{SERIES}/link", f"/events/{SERIES}/link"),
        "/events/{slug:str}/confirm/{token:str}": (confirm, confirm),
        "/registrations/{token:str}/details": (f"{mine}/details", mine),
        "/registrations/{token:str}/sessions": (f"{mine}/sessions", mine),
        "/registrations/{token:str}/keep-informed": (f"{mine}/keep-informed", mine),
        "/registrations/{token:str}/questions": (f"{theirs}/questions", theirs),
        "/registrations/{token:str}/meetings": (f"{theirs}/meetings", theirs),
        "/registrations/{token:str}/meetings/pick": (f"{theirs}/meetings/pick", theirs),
        "/registrations/{token:str}/meetings/withdraw": (f"{theirs}/meetings/withdraw", theirs),
        "/registrations/{token:str}/feedback": (f"{mine}/feedback", mine),
        "/groups/{slug:str}/interest": ("/groups/edge-calendars/interest",
                                        "/groups/edge-calendars"),
        "/groups/me/{token:str}/decline": (f"/groups/me/{member}/decline", f"/groups/me/{member}"),
        "/privacy/my-data": ("/privacy/my-data", "/privacy/my-data"),
        "/privacy/my-data/{token:str}/export": (f"{data}/export", data),
        "/registrations/{token:str}/cancel": (f"{mine}/cancel", f"{mine}/cancel"),
        "/registrations/{token:str}/erase": (f"{mine}/erase", f"{mine}/erase"),
        "/groups/me/{token:str}/leave": (f"/groups/me/{member}/leave", f"/groups/me/{member}"),
        "/privacy/my-data/{token:str}/erase": (f"{data}/erase", f"{data}/erase"),
    }


async def test_every_public_form_answers_hostile_values_without_a_server_error(
    app: Litestar, client: Client, db_sessionmaker: Sessionmaker,
    organiser_headers: dict[str, str], settings: Settings,
) -> None:
    """Each public form (real private links, each with its page's own form token) gets every
    field name the public pages use, filled with one hostile value at a time: no answer is a
    server error or echoes the markup unescaped. Sent last: what ends a link's use."""
    forms = await _public_forms(client, db_sessionmaker, organiser_headers, settings)
    names: set[str] = set()
    for _, page in forms.values():
        names.update(field_names((await client.get(page)).text))
    # The form token is the page's own; the field no person sees (`website`) would mark the
    # request as a robot's, which is thanked and ignored before anything is read.
    names -= {"csrf_token", "website"}
    failures: list[str] = []
    for template, (url, page) in forms.items():
        for kind, value in HOSTILE.items():
            token = _CSRF.search((await client.get(page)).text)
            answer = await client.post(url, headers=FORM_CONTENT, content=form_body(
                ("csrf_token", token.group(1) if token else ""), names, value))
            problem = problem_with(answer, f"{template} with {kind}")
            if problem:
                failures.append(problem)

    assert set(forms) == _post_routes(app)  # every public form is in the table
    assert not failures, "\n".join(failures)
    assert len(names) >= 20


# Forms whose sending ends a link's use or the registration: not sent by the walk below.
_ENDING = ("/cancel", "/erase", "/leave")


async def test_each_typed_field_of_each_public_form_refuses_a_long_text_alone(
    client: Client, db_sessionmaker: Sessionmaker, organiser_headers: dict[str, str],
    settings: Settings,
) -> None:
    """Every field a person types into, on every public page's form, alone gets a text
    longer than any field takes, the others as the page fills them (so that no other refusal
    hides this one's): it is refused (4xx) beside the field, never stored cut short and never
    a server error."""
    forms = await _public_forms(client, db_sessionmaker, organiser_headers, settings)
    failures: list[str] = []
    sent: set[str] = set()
    # The register form of every kind of event: each asks its own questions.
    registers = [f"{event}/register" for event in (SEMINAR, CITYMATCH, MEET_YOUR_BUYER)]
    for page in sorted({page for _, page in forms.values()} | set(registers)):
        html = (await client.get(page)).text
        for action, fields, typed in typed_forms(html):
            if action.endswith(_ENDING) or action.startswith(("/organiser", "/api/")):
                continue
            for name in typed:
                if name == "website":  # the field no person sees: a robot's, thanked
                    continue
                body = [(field, LONG_TEXT if field == name else value)
                        for field, value in fields]
                answer = await client.post(action, data=dict(body), follow_redirects=False)
                sent.add(action)
                what = f"POST {action} (on {page}) with a long {name}"
                problem = problem_with_refusal(answer, what, name)
                if problem:
                    failures.append(problem)

    assert not failures, "\n".join(failures)
    assert len(sent) >= 10


async def test_every_kind_of_answer_says_nosniff(
    client: Client, organiser_headers: dict[str, str]
) -> None:
    answers = {
        "json": await client.get("/api/events"),
        "html": await client.get("/"),
        "calendar": await client.get("/feeds/programme.ics"),
        "csv": await client.get("/api/organiser/events/1/registrations.csv",
                                headers=organiser_headers),
        "static": await client.get("/static/site.css"),
        "unknown path": await client.get("/no/such/page"),
        "unknown event": await client.get("/api/events/no-such-event"),
        "wrong method": await client.delete("/api/events"),
        "no token": await client.get("/api/organiser/events"),
        "bad query": await client.get("/api/events?page=0"),
    }

    assert {name: (r.status_code, r.headers.get("x-content-type-options"))
            for name, r in answers.items()} == {
        "json": (200, "nosniff"), "html": (200, "nosniff"), "calendar": (200, "nosniff"),
        "csv": (200, "nosniff"), "static": (200, "nosniff"),
        "unknown path": (404, "nosniff"), "unknown event": (404, "nosniff"),
        "wrong method": (405, "nosniff"), "no token": (401, "nosniff"),
        "bad query": (400, "nosniff"),
    }
    # One header, never two: pages set their own, the edge adds it only where missing.
    assert answers["html"].headers.get_list("x-content-type-options") == ["nosniff"]


async def test_a_405_lists_head_wherever_it_lists_get(client: Client) -> None:
    response = await client.delete("/api/events")
    post_only = await client.get(f"/api/events/{SERIES}/registrations")

    assert response.status_code == 405
    assert sorted(response.headers["allow"].split(", ")) == ["GET", "HEAD", "OPTIONS"]
    assert (post_only.status_code, sorted(post_only.headers["allow"].split(", "))) == (
        405, ["OPTIONS", "POST"])


def test_serve_runs_uvicorn_without_server_header_or_access_log(app: Litestar) -> None:
    args = build_parser().parse_args(["serve", "--port", "8123"])

    config = server_config(app, host=args.host, port=args.port)

    assert (config.host, config.port, config.server_header, config.access_log) == (
        "127.0.0.1", 8123, False, False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_the_served_app_names_no_server_and_answers_head(app: Litestar) -> None:
    port = _free_port()
    server = uvicorn.Server(server_config(app, host="127.0.0.1", port=port))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # start-up, not time: yields until uvicorn listens
            assert not serving.done(), "uvicorn stopped while starting"
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as live:
            got = await live.get("/api/events")
            head = await live.head("/")
    finally:
        server.should_exit = True
        await serving

    assert (got.status_code, got.headers.get("server"), got.headers["x-content-type-options"]
            ) == (200, None, "nosniff")
    assert (head.status_code, head.headers.get("server"), head.content) == (200, None, b"")
    assert int(head.headers["content-length"]) > 0


# What public pages, feeds and the API read from their query: texts (language, searches,
# days, kinds, which meeting) and numbers (pages). Each group goes alone, so that a refused
# number does not hide what a text would do.
_PUBLIC_QUERY_NAMES = (("lang", "q", "from", "to", "kind", "status", "at", "done", "format"),
                       ("page", "page_size", "session"))
_IN_QUERIES = ("a NUL byte", "broken UTF-8", "a huge number", "markup")


async def test_every_public_get_route_answers_hostile_query_values_without_a_server_error(
    app: Litestar, client: Client, db_sessionmaker: Sessionmaker,
    organiser_headers: dict[str, str], settings: Settings,
) -> None:
    urls = await _every_get_url(client, db_sessionmaker, organiser_headers, settings)
    failures: list[str] = []
    for template, url in sorted(urls.items()):
        headers = organiser_headers if url.startswith("/api/organiser") else {}
        for kind in (*_IN_QUERIES, "a long text"):
            value = "x" * 3_000 if kind == "a long text" else HOSTILE[kind]
            for names in _PUBLIC_QUERY_NAMES:
                query = "&".join(f"{name}={value}" for name in names)
                answer = await client.get(f"{url}?{query}", headers=headers)
                problem = problem_with(answer, f"GET {template} with {kind} in {names[0]}...")
                if problem:
                    failures.append(problem)

    assert not failures, "\n".join(failures)
    assert set(urls) == _get_routes(app)

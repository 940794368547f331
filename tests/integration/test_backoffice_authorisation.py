"""The authorisation walk: every state-changing route under /organiser/ and /api/organiser/,
found in the application's own route table (not a hand-kept list), refuses

- a viewer (403),
- an organiser of another team, for anything that belongs to an event or an Interest Group
  (403 or 404),
- a back-office form without its CSRF token (403).

A route whose path names something new must be classified below before this passes, and
a route that forgets its guard fails here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import EventKind
from service.domain.accounts import (
    EVENT_OWNED_PARAMS,
    GROUP_OWNED_PARAMS,
    find_or_create_team,
)
from service.domain.auth import create_api_token
from service.settings import Settings
from service.web.app import create_app
from tests.conftest import TEST_BASE_URL
from tests.factories import EventSpec, make_event, make_group
from tests.integration.backoffice import OTHER_TEAM, SignedInClient
from tests.integration.route_walk import PUBLIC_PARAMS, Route, page_routes, state_changing_routes

# People and organisations are shared by every team: no team owns them.
SHARED_PARAMS = frozenset({"person_id", "organisation_id"})
# Accounts are the administrators' alone.
ADMIN_PARAMS = frozenset({"account_id"})
# A team's own things (its calendar feed): its members' and the administrators'.
TEAM_PARAMS = frozenset({"team_id"})
# How one gets a session or a password in the first place (and leaves the session): open
# to anyone, CSRF only; an emailed link's token is their only path parameter.
PUBLIC_ROUTES = frozenset({
    ("POST", "/organiser/login"), ("POST", "/organiser/logout"),
    ("POST", "/organiser/invitations/{token:str}"), ("POST", "/organiser/password-reset"),
    ("POST", "/organiser/password-reset/{token:str}"),
})
# Every signed-in account, viewers included, changes its own settings (its language).
OWN_ACCOUNT_ROUTES = frozenset({("POST", "/organiser/account")})


async def _token(db_sessionmaker: async_sessionmaker[AsyncSession], role: str,
                 team: str | None) -> dict[str, str]:
    now = datetime.now(UTC)
    async with db_sessionmaker() as db, db.begin():
        team_id = (await find_or_create_team(db, team, now=now)).id if team else None
        issued = await create_api_token(db, name=f"walk {role}", role=role, now=now,
                                        team_id=team_id)
        return {"Authorization": f"Bearer {issued.secret}"}


async def _send(client: AsyncTestClient[Litestar] | SignedInClient, route: Route, url: str, *,
                csrf: str | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
    if route.is_backoffice:
        data = {"_csrf": csrf} if csrf is not None else {}
        return await client.request(route.method, url, data=data, headers=headers,
                                    follow_redirects=False)
    return await client.request(route.method, url, json={}, headers=headers,
                                follow_redirects=False)


def _refused(answer: httpx.Response, statuses: tuple[int, ...]) -> str | None:
    """None when the answer is a refusal of ours (status and what it says), else why not."""
    if answer.status_code not in statuses:
        return f"answered {answer.status_code}"
    if answer.headers.get("content-type", "").startswith("text/html"):
        said = ("Not allowed" in answer.text or "another team" in answer.text)
    else:
        said = bool(answer.json().get("detail"))
    return None if said else "refused without saying why"


def test_the_walk_finds_the_back_office_and_api_routes_and_knows_their_parameters(
    app: Litestar,
) -> None:
    routes = state_changing_routes(app)
    walked = {(r.method, r.template) for r in routes}
    known = EVENT_OWNED_PARAMS | GROUP_OWNED_PARAMS | SHARED_PARAMS | ADMIN_PARAMS | TEAM_PARAMS
    unknown = sorted({(r.template, p) for r in routes for p in r.params
                      if p not in known and not (r.is_public and p in PUBLIC_PARAMS)})

    assert unknown == [], "classify these path parameters in this test and in the guards"
    assert {("POST", "/organiser/logout"), ("POST", "/api/organiser/events"),
            ("PATCH", "/api/organiser/sessions/{session_id:int}"),
            ("POST", "/api/organiser/registrations/{registration_id:int}/approve")} <= walked
    assert {(r.method, r.template) for r in routes if r.is_public} == PUBLIC_ROUTES


async def test_every_state_changing_route_refuses_a_viewer(
    viewer_client: SignedInClient, ids: dict[str, Any], app: Litestar,
    db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
) -> None:
    viewer_token = await _token(db_sessionmaker, "viewer", None)
    failures: list[str] = []
    async with AsyncTestClient(app=create_app(settings), base_url=TEST_BASE_URL) as api:
        for route in state_changing_routes(viewer_client.app):
            if route.is_public or (route.method, route.template) in OWN_ACCOUNT_ROUTES:
                continue
            url = route.url(ids)
            answer = (await _send(viewer_client, route, url, csrf=viewer_client.csrf)
                      if route.is_backoffice else await _send(api, route, url, headers=viewer_token))
            why = _refused(answer, (403,))
            if why:
                failures.append(f"{route.method} {route.template}: {why}")

    assert failures == []


async def test_every_state_changing_route_refuses_an_organiser_of_another_team(
    other_team_client: SignedInClient, ids: dict[str, Any],
    db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
) -> None:
    """For what belongs to an event of another team; accounts are admins' only."""
    other_token = await _token(db_sessionmaker, "organiser", OTHER_TEAM)
    failures: list[str] = []
    checked = 0
    async with AsyncTestClient(app=create_app(settings), base_url=TEST_BASE_URL) as api:
        for route in state_changing_routes(other_team_client.app):
            owned = set(route.params) & (EVENT_OWNED_PARAMS | GROUP_OWNED_PARAMS | ADMIN_PARAMS
                                         | TEAM_PARAMS)
            if route.is_public or not owned:
                continue
            checked += 1
            url = route.url(ids)
            answer = (await _send(other_team_client, route, url, csrf=other_team_client.csrf)
                      if route.is_backoffice else await _send(api, route, url, headers=other_token))
            why = _refused(answer, (403, 404))
            if why:
                failures.append(f"{route.method} {route.template}: {why}")

    assert failures == []
    assert checked >= 10


async def test_every_back_office_form_refuses_a_request_without_its_csrf_token(
    admin_client: SignedInClient, ids: dict[str, Any],
) -> None:
    """Even an administrator's, on routes open to anyone too."""
    failures: list[str] = []
    routes = [r for r in state_changing_routes(admin_client.app) if r.is_backoffice]
    for route in routes:
        for token in (None, "f" * 64):
            answer = await _send(admin_client, route, route.url(ids), csrf=token)
            if answer.status_code != 403 or "This form has expired" not in answer.text:
                failures.append(f"{route.method} {route.template} (token {token!r}): "
                                f"answered {answer.status_code}")

    assert failures == []
    assert len(routes) >= 2


async def test_every_back_office_page_answers_an_administrator_and_head_like_get(
    admin_client: SignedInClient, ids: dict[str, Any],
) -> None:
    """No page of the back office fails on real data; HEAD answers as GET does, bodiless."""
    # Answers other than 200 that are right for the walked data.
    not_200 = {
        "/organiser/login": 303,  # already signed in: on to the dashboard
        "/organiser/events/{event_id:int}/unpublish": 409,  # people registered: explained
        "/organiser/agenda-items/{agenda_item_id:int}/row": 303,  # a row is htmx's: the agenda
        # The walked event is a webinar series: one-to-one meetings are Meet-your-Buyer's only.
        "/organiser/events/{event_id:int}/meetings": 409,
        "/organiser/events/{event_id:int}/meetings/grid": 409,
        "/organiser/events/{event_id:int}/meetings/hosts": 409,
        "/organiser/events/{event_id:int}/meetings/requests": 409,
        # The walked event is a webinar: no market consultation, explained.
        **{f"/organiser/events/{{event_id:int}}/consultation{page}": 409
           for page in ("", "/documents", "/questions", "/report", "/report.csv")},
        # Which meeting (?at=) is chosen on the series' page.
        "/organiser/meeting-series/{series_id:int}/occurrence": 303,
        # The walked account is enabled: erasing waits until it is disabled (its page).
        "/organiser/accounts/{account_id:int}/erase": 303,
    }
    answers: dict[str, tuple[int, int, str, int]] = {}
    expected: dict[str, tuple[int, int, str, int]] = {}
    for route in page_routes(admin_client.app):
        if route.params and set(route.params) <= PUBLIC_PARAMS:
            continue  # an emailed link's page: walked by its own tests with a real token
        url = route.url(ids)
        got = await admin_client.get(url, follow_redirects=False)
        head = await admin_client.head(url, follow_redirects=False)
        status = not_200.get(route.template, 200)
        expected[route.template] = (status, status, got.headers["content-type"], 0)
        answers[route.template] = (got.status_code, head.status_code,
                                   head.headers["content-type"], len(head.content))

    assert answers == expected
    assert len(answers) >= 20


async def test_every_page_of_a_new_event_answers_before_it_is_set_up(
    admin_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    """A Meet-your-Buyer event just made has no grid, hosts, consultation, materials or
    registrations yet, a draft seminar not even a session, a new Interest Group no member
    or meeting: each of their pages still answers, and the Meet-your-Buyer event's own
    pages with a form."""
    dialogue = await make_event(db, settings, EventSpec(
        slug="new-dialogue", title="New dialogue", kind=EventKind.MEET_YOUR_BUYER))
    seminar = await make_event(db, settings, EventSpec(
        slug="new-seminar", title="New seminar", kind=EventKind.SEMINAR, sessions=(),
        publish=False))
    group = await make_group(db, slug="new-group", topic="New group")
    await db.commit()
    answers = {}
    for ids in ({"event_id": dialogue.id, "session_id": dialogue.sessions[0].id},
                {"event_id": seminar.id}, {"group_id": group.id}):
        for route in page_routes(admin_client.app):
            if route.params and set(route.params) <= set(ids):
                answer = await admin_client.get(route.url(ids), follow_redirects=False)
                answers[(next(iter(ids.values())), route.template)] = answer.status_code
    own = [key for key in answers if key[0] == dialogue.id and "{event_id" in key[1] and any(
        part in key[1] for part in ("/meetings", "/consultation", "/materials"))]

    assert [key for key, status in answers.items() if status >= 500] == []
    assert len(own) >= 8 and all(answers[key] == 200 for key in own
                                 if not key[1].endswith(("/report", "/report.csv")))

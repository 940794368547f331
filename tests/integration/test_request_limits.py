"""What the API refuses before it reads a request: bodies not declared as JSON (415), and
more registrations from one address than the limit allows (429).

Any website can make its visitors' browsers send `text/plain`, form-encoded or untyped bodies
to us without a CORS preflight; only a JSON content type needs one. The rate limit is counted
in the database, so the form and the API, and every web process, share it. The demo
programme is loaded as of 1 October 2020 and the clock stands still on 20 October 2020
at 08:00:00, the start of a window.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.engine import create_engine, make_sessionmaker
from service.db.models import Event, RateLimitCounter, Registration
from service.operations.demo import MAKE_ICT_FAIR_SLUG
from service.settings import Settings
from service.web.app import create_app, openapi_document
from service.web.rate_limit import RateLimit, RateLimiter
from tests.conftest import TEST_BASE_URL
from tests.factories import DEMO_LOADED_AT, DEMO_NOW

Client = AsyncTestClient[Litestar]

LOADED_AT = DEMO_LOADED_AT
NOW = DEMO_NOW
REGISTER = f"/api/events/{MAKE_ICT_FAIR_SLUG}/registrations"


pytestmark = pytest.mark.usefixtures("frozen_clock", "demo")


def person(number: int) -> dict[str, Any]:
    return {"name": f"Person {number}", "email": f"person{number}@example.org", "consent": True}


async def count_registrations(db: AsyncSession) -> int:
    return await db.scalar(select(func.count(Registration.id))) or 0


def refusal(response: httpx.Response) -> tuple[int, list[str | None]]:
    return response.status_code, [e["field"] for e in response.json()["errors"]]


# --- content types ---------------------------------------------------------------------------


async def test_a_registration_not_declared_as_json_is_refused_and_not_stored(
    client: Client, db: AsyncSession
) -> None:
    body = json.dumps(person(1)).encode()
    answers = {
        sent: await client.post(REGISTER, content=body,
                                headers={"Content-Type": sent} if sent else {})
        for sent in ("text/plain", "text/plain;charset=UTF-8",
                     "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                     "application/jsonp", "text/json", "")
    }

    assert {sent: refusal(r) for sent, r in answers.items()} == {
        sent: (415, ["Content-Type"]) for sent in answers
    }
    assert answers["text/plain"].json()["detail"] == (
        "Send the body as JSON, with the header Content-Type: application/json "
        "(got 'text/plain').")
    assert answers[""].json()["detail"] == (
        "Send the body as JSON, with the header Content-Type: application/json "
        "(none was sent).")
    assert await count_registrations(db) == 0


async def test_json_content_types_with_parameters_or_a_json_suffix_are_read(
    client: Client, db: AsyncSession
) -> None:
    statuses = [
        (await client.post(REGISTER, content=json.dumps(person(number)).encode(),
                           headers={"Content-Type": sent})).status_code
        for number, sent in enumerate(("application/json", "application/json; charset=utf-8",
                                       "Application/JSON", "application/vnd.procura+json"))
    ]

    assert statuses == [201, 201, 201, 201]
    assert await count_registrations(db) == 4


async def test_every_json_write_of_the_api_refuses_text_plain(
    app: Litestar, client: Client, db: AsyncSession, organiser_headers: dict[str, str]
) -> None:
    paths = openapi_document(app).to_schema()["paths"]
    writes = sorted(
        (method.upper(), path) for path, item in paths.items()
        for method, operation in item.items()
        if method in ("post", "patch", "put") and "requestBody" in operation
    )
    titles_before = list(await db.scalars(select(Event.title).order_by(Event.id)))

    answers = {}
    for method, path in writes:
        url = re.sub(r"\{[a-z_]*id\}", "1", path).replace("{slug}", MAKE_ICT_FAIR_SLUG)
        url = url.replace("{token}", "unknown-token")
        response = await client.request(method, url, content=b'{"title": "Changed"}',
                                         headers={**organiser_headers,
                                                  "Content-Type": "text/plain"})
        answers[(method, path)] = refusal(response)

    assert len(writes) == 28
    assert answers == {write: (415, ["Content-Type"]) for write in writes}
    assert {write for write in writes
            if "415" in paths[write[1]][write[0].lower()]["responses"]} == set(writes)
    assert list(await db.scalars(select(Event.title).order_by(Event.id))) == titles_before


async def test_an_optional_body_may_be_left_out_without_a_content_type(
    client: Client, db: AsyncSession, organiser_headers: dict[str, str]
) -> None:
    event_id = await db.scalar(select(Event.id).where(Event.slug == MAKE_ICT_FAIR_SLUG))
    await client.patch(f"/api/organiser/events/{event_id}", json={"is_approval_required": True},
                       headers=organiser_headers)
    receipt = await client.post(REGISTER, json=person(1))
    registration_id = await db.scalar(select(Registration.id))

    declined = await client.post(f"/api/organiser/registrations/{registration_id}/decline",
                                 headers=organiser_headers)

    assert receipt.json()["status"] == "pending"
    assert (declined.status_code, declined.json()["status"]) == (200, "declined")


# --- rate limit ------------------------------------------------------------------------------


async def test_the_eleventh_api_registration_in_a_minute_is_refused_naming_the_limit(
    app: Litestar, client: Client, db: AsyncSession
) -> None:
    statuses = [(await client.post(REGISTER, json=person(n))).status_code for n in range(10)]

    refused = await client.post(REGISTER, json=person(10))

    assert statuses == [201] * 10
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "60"
    assert refused.json() == {
        "status_code": 429,
        "detail": "Too many registrations from your address: at most 10 registrations a "
                  "minute. Try again in 60 seconds.",
        "errors": [{"field": None, "message": "Too many registrations from your address: at "
                    "most 10 registrations a minute. Try again in 60 seconds."}],
        "limit": {"name": "registrations", "max_requests": 10, "window_seconds": 60,
                  "retry_after_seconds": 60},
    }
    assert await count_registrations(db) == 10
    assert openapi_document(app).to_schema()["paths"]["/api/events/{slug}/registrations"]["post"][
        "responses"]["429"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RateLimitedOut"}
    with time_machine.travel(datetime(2020, 10, 20, 8, 0, 45, tzinfo=UTC), tick=False):
        later = await client.post(REGISTER, json=person(11))
    with time_machine.travel(datetime(2020, 10, 20, 8, 1, tzinfo=UTC), tick=False):
        next_minute = await client.post(REGISTER, json=person(12))
    assert (later.status_code, later.headers["retry-after"]) == (429, "15")
    assert next_minute.status_code == 201
    assert await count_registrations(db) == 11


async def test_registrations_arriving_together_are_counted_where_they_are_filed(
    client: Client, db: AsyncSession
) -> None:
    """The desk files them in batches and counts them in the same transaction: of 14 sent at
    once, 10 are filed and 4 refused (in the asker's language), nothing else stored."""
    answers = await asyncio.gather(*(
        client.post(REGISTER, json=person(n), headers={"Accept-Language": "fr"})
        for n in range(14)))

    assert sorted(a.status_code for a in answers) == [201] * 10 + [429] * 4
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.json()["detail"].startswith("Trop d")
    assert await count_registrations(db) == 10
    assert list(await db.execute(select(RateLimitCounter.hits))) == [(14,)]


async def test_a_registration_refused_for_its_input_is_not_counted(
    client: Client, db: AsyncSession
) -> None:
    refused = [await client.post(REGISTER, json={**person(n), "email": "anna.keller@"})
               for n in range(12)]

    accepted = await client.post(REGISTER, json=person(12))

    assert {(a.status_code, a.json()["errors"][0]["field"]) for a in refused} == {(400, "email")}
    assert accepted.status_code == 201


async def test_the_form_and_the_api_share_one_limit(client: Client, db: AsyncSession) -> None:
    page = (await client.get(f"/events/{MAKE_ICT_FAIR_SLUG}/register")).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    for n in range(10):
        await client.post(REGISTER, json=person(n))

    form = await client.post(f"/events/{MAKE_ICT_FAIR_SLUG}/register", data={
        "csrf_token": token.group(1), "name": "Ana Novak", "email": "ana@example.org",
        "consent": "yes", "website": "", "session_ids": "1"})

    assert (form.status_code, form.headers["retry-after"]) == (429, "60")
    assert "<h1>Too many attempts</h1>" in form.text
    assert await count_registrations(db) == 10


async def test_one_limit_holds_across_processes(settings: Settings, db: AsyncSession) -> None:
    """Two app instances on one database stand for two web processes: they share the count."""
    first, second = create_app(settings), create_app(settings)
    async with (AsyncTestClient(app=first, base_url=TEST_BASE_URL) as one,
                AsyncTestClient(app=second, base_url=TEST_BASE_URL) as other):
        statuses = [(await (one if n % 2 else other).post(REGISTER, json=person(n))).status_code
                    for n in range(12)]

    assert statuses == [201] * 10 + [429, 429]
    assert await count_registrations(db) == 10


async def test_concurrent_hits_from_two_processes_are_each_counted_once(
    settings: Settings, db: AsyncSession
) -> None:
    limit = RateLimit(name="test", limit=10, window=timedelta(minutes=1), what="tests")
    engines = [create_engine(settings.database_url) for _ in range(2)]
    limiters = [RateLimiter(make_sessionmaker(engine)) for engine in engines]
    try:
        answers = await asyncio.gather(*(
            limiters[n % 2].hit(limit, "192.0.2.7") for n in range(40)
        ))
    finally:
        for engine in engines:
            await engine.dispose()

    assert sorted(answers, key=lambda wait: wait or 0) == [None] * 10 + [60] * 30
    assert list(await db.execute(select(RateLimitCounter.key, RateLimitCounter.hits))) == [
        ("test:192.0.2.7", 40)]


async def test_counters_of_ended_windows_are_pruned(settings: Settings, db: AsyncSession) -> None:
    limiter = RateLimiter(make_sessionmaker(engine := create_engine(settings.database_url)))
    limit = RateLimit(name="test", limit=10, window=timedelta(minutes=1), what="tests")
    try:
        await limiter.hit(limit, "192.0.2.7")  # its window ends at 08:01
        with time_machine.travel(datetime(2020, 10, 20, 8, 3, tzinfo=UTC), tick=False):
            await limiter.hit(limit, "192.0.2.8")  # (ends 08:04) no pruning due yet
        with time_machine.travel(datetime(2020, 10, 20, 8, 9, tzinfo=UTC), tick=False):
            # Pruned: windows that ended over five minutes ago (08:01), not 08:04's.
            await limiter.hit(limit, "192.0.2.9")
    finally:
        await engine.dispose()

    rows = await db.execute(select(RateLimitCounter.key, RateLimitCounter.window_started_at)
                            .order_by(RateLimitCounter.key))
    assert list(rows) == [
        ("test:192.0.2.8", datetime(2020, 10, 20, 8, 3, tzinfo=UTC)),
        ("test:192.0.2.9", datetime(2020, 10, 20, 8, 9, tzinfo=UTC)),
    ]

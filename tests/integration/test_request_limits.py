"""What the API refuses before it reads a request: bodies not declared as JSON (415).

Any website can make its visitors' browsers send `text/plain`, form-encoded or untyped bodies
to us without a CORS preflight; only a JSON content type needs one. The demo programme is
loaded as of 1 October 2020 and the clock stands still on 20 October 2020.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Event, Registration
from service.domain.demo import MAKE_ICT_FAIR_SLUG, load_demo_programme
from service.settings import Settings

Client = AsyncTestClient[Litestar]

LOADED_AT = datetime(2020, 10, 1, 8, tzinfo=UTC)
NOW = datetime(2020, 10, 20, 8, tzinfo=UTC)
REGISTER = f"/api/events/{MAKE_ICT_FAIR_SLUG}/registrations"


@pytest.fixture
def frozen_clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
async def demo(db: AsyncSession, settings: Settings) -> None:
    await load_demo_programme(db, now=LOADED_AT, settings=settings)
    await db.commit()


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
    paths = app.openapi_schema.to_schema()["paths"]
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

    assert len(writes) == 13
    assert answers == {write: (415, ["Content-Type"]) for write in writes}
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

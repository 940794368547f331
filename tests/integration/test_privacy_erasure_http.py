"""A registrant erases their registration: from the private page (explained first, then a
button) and through the API (only with `confirm=erase`). The link then answers 410."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Registration, RegistrationStatus
from service.domain.privacy.erasure import ERASED_NAME
from service.settings import Settings
from tests.factories import make_event, registration_form
from tests.integration.test_pages import parse

Client = AsyncTestClient[Litestar]
ADDRESS = "ana.silva@lisboa.example.pt"


async def registered(client: Client, db: AsyncSession, settings: Settings) -> str:
    event = await make_event(db, settings)
    response = await client.post(f"/api/events/{event.slug}/registrations",
                                 json=registration_form(email_address=ADDRESS))
    return str(response.json()["manage_url"].rsplit("/", 1)[1])


async def stored(db: AsyncSession) -> list[tuple[str, str, RegistrationStatus]]:
    db.expire_all()
    return [(r.name, r.email, r.status) for r in await db.scalars(select(Registration))]


def text_of(body: str) -> str:
    return parse(body).one("main").text


async def test_the_private_page_explains_erasure_and_erases_on_the_button(
    client: Client, db: AsyncSession, settings: Settings,
) -> None:
    token = await registered(client, db, settings)
    manage = await client.get(f"/registrations/{token}")
    links = [a.attrs.get("href") for a in parse(manage.text).find_all("a")]
    assert f"/registrations/{token}/erase" in links

    page = await client.get(f"/registrations/{token}/erase")
    assert page.status_code == 200
    assert "and it goes to the first person waiting" in text_of(page.text)
    assert "This cannot be undone." in text_of(page.text)
    assert await stored(db) == [("Ana Silva", ADDRESS, RegistrationStatus.CONFIRMED)]

    csrf = parse(page.text).one("input", name="csrf_token").attrs["value"]
    refused = await client.post(f"/registrations/{token}/erase", data={"csrf_token": "x"})
    assert (refused.status_code, (await stored(db))[0][0]) == (403, "Ana Silva")
    done = await client.post(f"/registrations/{token}/erase", data={"csrf_token": csrf})
    assert (done.status_code, parse(done.text).one("h1").text) == (200, "Registration erased")
    assert "Your registration for Fair ICT procurement webinars has been erased." in text_of(
        done.text)

    [(name, email, status)] = await stored(db)
    assert (name, status, email.endswith("@invalid")) == (
        ERASED_NAME, RegistrationStatus.CANCELLED, True)
    for path in (f"/registrations/{token}", f"/registrations/{token}/erase"):
        gone = await client.get(path)
        assert (gone.status_code, parse(gone.text).one("h1").text) == (
            410, "Registration erased")
        assert "the registration it belonged to has been erased" in text_of(gone.text)


async def test_the_api_erases_only_when_confirmed_and_then_answers_410(
    client: Client, db: AsyncSession, settings: Settings,
) -> None:
    token = await registered(client, db, settings)

    unconfirmed = await client.delete(f"/api/registrations/{token}")
    wrong = await client.delete(f"/api/registrations/{token}?confirm=yes")
    for response in (unconfirmed, wrong):
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["confirm"]
    assert await stored(db) == [("Ana Silva", ADDRESS, RegistrationStatus.CONFIRMED)]

    erased = await client.delete(f"/api/registrations/{token}?confirm=erase")
    body: dict[str, Any] = erased.json()
    assert (erased.status_code, body["detail"]) == (200, "This registration has been erased.")
    assert erased.headers["cache-control"] == "no-store"
    [(name, _, status)] = await stored(db)
    assert (name, status) == (ERASED_NAME, RegistrationStatus.CANCELLED)

    again = await client.delete(f"/api/registrations/{token}?confirm=erase")
    assert (again.status_code, again.json()["errors"]) == (
        410, [{"field": "token", "message": "This registration has been erased."}])
    read = await client.get(f"/api/registrations/{token}")
    assert (read.status_code, [e["field"] for e in read.json()["errors"]]) == (404, ["token"])
    spec = (await client.get("/api/docs/openapi.json")).json()
    erase = spec["paths"]["/api/registrations/{token}"]["delete"]
    assert [(p["name"], p["in"]) for p in erase["parameters"] if p["name"] == "confirm"] == [
        ("confirm", "query")]

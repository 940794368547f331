"""Refusals speak the request's language: the sentence is translated, the field it names is not.

The same bad registration (an address whose domain mail cannot reach) is sent to the public
JSON API and to the public form page with the browser asking for German or French. The demo
programme is loaded as of 1 October 2020 and the clock stands still on 20 October 2020.
"""

from __future__ import annotations

import html
import re

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Registration
from service.operations.demo import MAKE_ICT_FAIR_SLUG

Client = AsyncTestClient[Litestar]

pytestmark = [pytest.mark.usefixtures("frozen_clock", "demo"), pytest.mark.one_database]

BAD_ADDRESS = "ana@exa_mple.org"
# "The part after @ is not a domain that mail can reach." as the catalogues say it.
UNREACHABLE = {
    "de": "Der Teil nach dem @ ist keine Domain, die per E-Mail erreichbar ist.",
    "fr": "La partie après @ n'est pas un domaine joignable par e-mail.",
}


async def _registrations(db: AsyncSession) -> int:
    return await db.scalar(select(func.count()).select_from(Registration)) or 0


@pytest.mark.parametrize("language", ["de", "fr"])
async def test_the_api_refuses_a_bad_address_in_the_request_language_naming_the_field(
    client: Client, db: AsyncSession, language: str
) -> None:
    before = await _registrations(db)

    response = await client.post(
        f"/api/events/{MAKE_ICT_FAIR_SLUG}/registrations",
        json={"name": "Ana Novak", "email": BAD_ADDRESS, "consent": True},
        headers={"Accept-Language": f"{language}-CH, {language};q=0.9, en;q=0.5"},
    )

    assert (response.status_code, response.json()) == (422, {
        "status_code": 422,
        "detail": UNREACHABLE[language],
        "errors": [{"field": "email", "message": UNREACHABLE[language]}],
    })
    assert await _registrations(db) == before


async def test_the_api_names_a_missing_field_in_french_with_the_field_name_unchanged(
    client: Client,
) -> None:
    response = await client.post(
        f"/api/events/{MAKE_ICT_FAIR_SLUG}/registrations",
        json={"name": "Ana Novak", "consent": True},
        headers={"Accept-Language": "fr"},
    )

    assert (response.status_code, response.json()["errors"]) == (
        400, [{"field": "email", "message": "L'objet n'a pas le champ obligatoire `email`"}])
    assert response.json()["detail"] == "email: L'objet n'a pas le champ obligatoire `email`"


async def test_english_stays_as_it_was(client: Client) -> None:
    response = await client.post(
        f"/api/events/{MAKE_ICT_FAIR_SLUG}/registrations",
        json={"name": "Ana Novak", "email": BAD_ADDRESS, "consent": True},
        headers={"Accept-Language": "en"},
    )

    assert (response.status_code, response.json()["detail"]) == (
        422, "The part after @ is not a domain that mail can reach.")


@pytest.mark.parametrize("language", ["de", "fr"])
async def test_the_form_page_shows_the_refusal_beside_the_field_in_the_request_language(
    client: Client, db: AsyncSession, language: str
) -> None:
    headers = {"Accept-Language": language}
    page = (await client.get(f"/events/{MAKE_ICT_FAIR_SLUG}/register", headers=headers)).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    before = await _registrations(db)

    response = await client.post(
        f"/events/{MAKE_ICT_FAIR_SLUG}/register",
        data={"csrf_token": token.group(1), "name": "Ana Novak", "email": BAD_ADDRESS,
              "consent": "yes", "website": "", "session_ids": "1"},
        headers=headers,
    )

    assert response.status_code == 422
    beside_email = re.search(
        r'id="email-error">(?:<span class="visually-hidden">[^<]*</span>)?([^<]*)</span>',
        response.text)
    assert beside_email is not None
    assert html.unescape(beside_email.group(1)).strip() == UNREACHABLE[language]
    assert await _registrations(db) == before

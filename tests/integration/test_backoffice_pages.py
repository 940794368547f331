"""Every back-office page, read by a signed-in administrator: GET and HEAD agree, nothing
fails, and each page is the back office's (not the API's JSON)."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.routes import HTTPRoute
from sqlalchemy.ext.asyncio import AsyncSession

from service.settings import Settings
from tests.factories import make_event
from tests.integration.backoffice import SignedInClient

_PARAM = re.compile(r"\{(\w+):\w+\}")


def backoffice_get_routes(app: Litestar) -> list[str]:
    return sorted(route.path for route in app.routes
                  if isinstance(route, HTTPRoute) and "GET" in route.methods
                  and (route.path == "/organiser" or route.path.startswith("/organiser/")))


async def test_head_answers_every_back_office_page_like_get_without_the_body(
    admin_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings)
    await db.commit()
    values = {"event_id": str(event.id), "account_id": str(admin_client.account_id),
              "token": "no-such-link"}
    answers: dict[str, tuple[int, str, str, int]] = {}
    expected: dict[str, tuple[int, str, str, int]] = {}

    for template in backoffice_get_routes(admin_client.app):
        url = _PARAM.sub(lambda m: values[m.group(1)], template)
        got = await admin_client.get(url, follow_redirects=False)
        head = await admin_client.head(url, follow_redirects=False)
        expected[template] = (got.status_code, got.headers.get("content-type", ""),
                              got.headers.get("content-length", ""), 0)
        answers[template] = (head.status_code, head.headers.get("content-type", ""),
                             head.headers.get("content-length", ""), len(head.content))
        assert got.status_code in (200, 303, 404), (template, got.status_code)
        if got.status_code != 303:
            assert got.headers["content-type"] == "text/html; charset=utf-8", template

    assert answers == expected
    assert {"/organiser", "/organiser/login", "/organiser/accounts",
            "/organiser/events/{event_id:int}/audit"} <= set(answers)

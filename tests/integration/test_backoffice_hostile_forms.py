"""Hostile values in every back-office form, sent by a signed-in administrator with a valid
form token: each state-changing route of the back office (from the route table, as the
authorisation walk finds them) gets a form that fills every field name the back office's
pages use with one hostile value at a time (a NUL byte, broken UTF-8, a very long text,
numbers and dates out of every range, markup). No answer may be a server error, and none
may echo the markup unescaped.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from tests.integration.backoffice import SignedInClient
from tests.integration.route_walk import PUBLIC_PARAMS, Route, page_routes, state_changing_routes

# Each value as it travels in the form body (percent-encoded), so that bytes no browser
# would send (a NUL, broken UTF-8) reach the app as they are.
HOSTILE = {
    "a NUL byte": "Ana%00Novak",
    "broken UTF-8": "Ana%FF%FENovak",
    "a lone surrogate, as CESU-8": "Ana%ED%A0%80Novak",
    "a very long text": "x" * 100_001,
    "a huge number": "-99999999999999999999999",
    "a date out of range": "0001-01-01T00%3A00",
    "markup": "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
}
MARKUP = "<script>alert(1)</script>"
# Routes that end the walk for the routes after them (signing out) or need what they
# destroy: sent last, in this order.
_LAST = ("/logout", "/erase", "/delete", "/disable")
_FIELD = re.compile(r'\bname="([^"]+)"')


def _order(route: Route) -> tuple[int, str]:
    last = [index for index, ending in enumerate(_LAST) if route.template.endswith(ending)]
    return (last[0] + 1 if last else 0, route.template)


async def _field_names(client: SignedInClient, ids: dict[str, Any]) -> set[str]:
    """Every form field name on the back office's pages, as they stand with the walk's data."""
    names: set[str] = set()
    for route in page_routes(client.app):
        if route.params and set(route.params) <= PUBLIC_PARAMS:
            continue
        page = await client.get(route.url(ids), follow_redirects=False)
        names.update(_FIELD.findall(page.text))
    return names - {"_csrf"}


async def test_no_back_office_form_answers_a_server_error_to_hostile_values(
    admin_client: SignedInClient, ids: dict[str, Any],
) -> None:
    names = await _field_names(admin_client, ids)
    routes = sorted((r for r in state_changing_routes(admin_client.app) if r.is_backoffice),
                    key=_order)
    failures: list[str] = []
    for route in routes:
        for kind, value in HOSTILE.items():
            body = "&".join([f"_csrf={admin_client.csrf}",
                             *(f"{quote(name)}={value}" for name in sorted(names))])
            answer = await admin_client.client.request(
                route.method, route.url(ids), content=body.encode("ascii"),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                follow_redirects=False)
            if answer.status_code >= 500:
                failures.append(f"{route.method} {route.template} with {kind}: "
                                f"{answer.status_code}")
            elif MARKUP in answer.text:
                failures.append(f"{route.method} {route.template} echoes the markup")

    assert not failures, "\n".join(failures)
    assert len(names) >= 50 and len(routes) >= 50

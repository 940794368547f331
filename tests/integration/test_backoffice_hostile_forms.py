"""Hostile values in every back-office form, sent by a signed-in administrator with a valid
form token: each state-changing route of the back office (from the route table, as the
authorisation walk finds them) gets a form that fills every field name the back office's
pages use with one hostile value at a time (a NUL byte, broken UTF-8, a very long text,
numbers and dates out of every range, markup). No answer may be a server error, and none
may echo the markup unescaped.
"""

from __future__ import annotations

from typing import Any

from tests.integration.backoffice import SignedInClient
from tests.integration.hostile_forms import FORM_CONTENT, HOSTILE, MARKUP, field_names, form_body
from tests.integration.route_walk import PUBLIC_PARAMS, Route, page_routes, state_changing_routes

# Routes that end the walk for the routes after them (signing out) or need what they
# destroy: sent last, in this order.
_LAST = ("/logout", "/erase", "/delete", "/disable")


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
        names.update(field_names(page.text))
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
            answer = await admin_client.client.request(
                route.method, route.url(ids), headers=FORM_CONTENT, follow_redirects=False,
                content=form_body(("_csrf", admin_client.csrf), names, value))
            if answer.status_code >= 500:
                failures.append(f"{route.method} {route.template} with {kind}: "
                                f"{answer.status_code}")
            elif MARKUP in answer.text:
                failures.append(f"{route.method} {route.template} echoes the markup")

    assert not failures, "\n".join(failures)
    assert len(names) >= 50 and len(routes) >= 50

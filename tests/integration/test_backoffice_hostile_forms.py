"""Hostile values in every back-office form, sent by a signed-in administrator with a valid
form token: each state-changing route of the back office (from the route table, as the
authorisation walk finds them) gets a form that fills every field name the back office's
pages use with one hostile value at a time (a NUL byte, broken UTF-8, a very long text,
numbers and dates out of every range, markup). No answer may be a server error, and none
may echo the markup unescaped. The same values go into the query of every back-office page
(its search, filters, sort, page, language and notices).
"""

from __future__ import annotations

from typing import Any

from tests.integration.backoffice import SignedInClient
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
            problem = problem_with(answer, f"{route.method} {route.template} with {kind}")
            if problem:
                failures.append(problem)

    assert not failures, "\n".join(failures)
    assert len(names) >= 50 and len(routes) >= 50


# What the back office's pages read from their query: texts (searches, filters, sorting,
# languages, which meeting, which notice) and numbers (pages). Each group goes alone, so
# that a refused number does not hide what a text would do.
_QUERY_NAMES = (("q", "status", "sort", "order", "language", "lang", "at", "meeting_at",
                 "done", "saved", "kind", "template", "since"),
                ("session", "page", "page_size"))
# The values a query string can carry that a page might trip on (dates are a form's).
_IN_QUERIES = ("a NUL byte", "broken UTF-8", "a very long text", "a huge number", "markup")


async def test_no_back_office_page_answers_a_server_error_to_hostile_query_values(
    admin_client: SignedInClient, ids: dict[str, Any],
) -> None:
    routes = [r for r in page_routes(admin_client.app)
              if not (r.params and set(r.params) <= PUBLIC_PARAMS)]
    failures: list[str] = []
    for route in routes:
        for kind in _IN_QUERIES:
            # A long text, as long as an address may carry in every name at once.
            value = "x" * 3_000 if kind == "a very long text" else HOSTILE[kind]
            for names in _QUERY_NAMES:
                query = "&".join(f"{name}={value}" for name in names)
                answer = await admin_client.client.get(f"{route.url(ids)}?{query}",
                                                       follow_redirects=False)
                problem = problem_with(answer, f"GET {route.template} with {kind} in "
                                               f"{names[0]}...")
                if problem:
                    failures.append(problem)

    assert not failures, "\n".join(failures)
    assert len(routes) >= 50


# Forms that end the walk's session or destroy what later pages need: not sent.
_NOT_SENT = ("/logout", "/erase", "/delete", "/disable", "/cancel", "/unpublish", "/publish",
             "/leave", "/merge")


async def test_each_typed_field_of_each_back_office_form_refuses_a_long_text_alone(
    admin_client: SignedInClient, ids: dict[str, Any],
) -> None:
    """The other fields as the page fills them, so that no other refusal hides this one's
    (a value longer than its column reached PostgreSQL this way)."""
    failures: list[str] = []
    sent = 0
    for route in page_routes(admin_client.app):
        if route.params and set(route.params) <= PUBLIC_PARAMS:
            continue
        page = await admin_client.get(route.url(ids), follow_redirects=False)
        for action, fields, typed in typed_forms(page.text):
            if action.endswith(_NOT_SENT) or not action.startswith("/organiser/"):
                continue
            for name in typed:
                body = [(field, LONG_TEXT if field == name else value) for field, value in fields]
                if name.startswith("offset-"):  # read when the organiser's own are chosen
                    body = [(field, "custom" if field == "policy" else value)
                            for field, value in body]
                answer = await admin_client.client.post(
                    action, data=dict(body), follow_redirects=False)
                sent += 1
                what = f"POST {action} ({route.template}) with a long {name}"
                problem = problem_with_refusal(answer, what, name)
                if problem:
                    failures.append(problem)

    assert not failures, "\n".join(failures)
    assert sent >= 50

"""Back-office pages rendered with the one Jinja environment (templates/organiser/).

Every page gets the signed-in `account` (or None), the form token `csrf_token` that
`{{ csrf_field() }}` puts in forms, and `nav` (which menu entry is current).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import MediaType, Request, Response
from litestar.datastructures import Cookie

from service.web.backoffice.guards import signed_in
from service.web.page_render import PAGE_HEADERS, get_environment

AnyRequest = Request[Any, Any, Any]


def render_organiser(template: str, context: Mapping[str, Any]) -> str:
    return get_environment().get_template(f"organiser/{template}").render(context)


def organiser_page(
    request: AnyRequest, template: str, context: Mapping[str, Any], *, status_code: int = 200,
    cookies: list[Cookie] | None = None, headers: Mapping[str, str] | None = None,
) -> Response[str]:
    """An HTML page of the back office, with what the layout needs from the request."""
    full = {"account": signed_in(request), "csrf_token": request.state.csrf_token,
            "nav": None, "robots": "noindex", **context}
    if "errors" in full and "error_links" not in full:
        full["error_links"] = error_links(full["errors"])
    new_form_cookie = getattr(request.state, "new_form_cookie", None)
    all_cookies = [*(cookies or []), *([new_form_cookie] if new_form_cookie else [])]
    return Response(content=render_organiser(template, full), status_code=status_code,
                    media_type=MediaType.HTML, headers={**PAGE_HEADERS, **(headers or {})},
                    cookies=all_cookies)


def error_links(errors: Mapping[str, str]) -> list[tuple[str, str]]:
    """The error summary's links: each message to its field (ids are the field names)."""
    return [(f"#{field}", message) for field, message in errors.items()]

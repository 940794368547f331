"""How the back office answers refusals: a 303 to sign in, or a 403 page."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, Response
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from service.web.backoffice.guards import (
    BackofficeForbidden,
    SignInRequired,
    sign_in_url,
    signed_in,
)
from service.web.backoffice.rendering import render_organiser
from service.web.page_render import PAGE_HEADERS


def sign_in_required(_: Request[Any, Any, Any], error: SignInRequired) -> Response[Any]:
    return Redirect(sign_in_url(error.next_path), status_code=HTTP_303_SEE_OTHER)


def forbidden_page(request: Request[Any, Any, Any], error: BackofficeForbidden) -> Response[str]:
    html = render_organiser("forbidden.html", {
        "account": signed_in(request), "csrf_token": getattr(request.state, "csrf_token", ""),
        "nav": None, "robots": "noindex", "message": error.detail})
    return Response(html, status_code=error.status_code, media_type=MediaType.HTML,
                    headers=PAGE_HEADERS)


BACKOFFICE_EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    SignInRequired: sign_in_required,
    BackofficeForbidden: forbidden_page,
}

"""How the back office answers refusals and errors: a 303 to sign in, or an HTML page.

Registered on the app, so every back-office route gets pages (not the API's JSON) without
doing anything; outside /organiser these handlers hand over to the API's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_400_BAD_REQUEST,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
)

from service.domain.errors import DomainError, NotFoundError, PermissionDeniedError
from service.i18n import gettext as _
from service.web import errors as api_errors
from service.web.backoffice.guards import (
    BackofficeForbidden,
    SignInRequired,
    is_backoffice_path,
    sign_in_url,
    signed_in,
)
from service.web.backoffice.rendering import render_organiser
from service.web.page_render import PAGE_HEADERS

AnyRequest = Request[Any, Any, Any]
Handler = Callable[[AnyRequest, Any], Response[Any]]


def sign_in_required(_: AnyRequest, error: SignInRequired) -> Response[Any]:
    return Redirect(sign_in_url(error.next_path), status_code=HTTP_303_SEE_OTHER)


def error_page(request: AnyRequest, status: int, title: str, message: str) -> Response[str]:
    html = render_organiser("error.html", {
        "account": signed_in(request), "csrf_token": getattr(request.state, "csrf_token", ""),
        "nav": None, "robots": "noindex", "title": title, "message": message})
    return Response(html, status_code=status, media_type=MediaType.HTML, headers=PAGE_HEADERS)


def forbidden_page(request: AnyRequest, error: BackofficeForbidden) -> Response[str]:
    return error_page(request, error.status_code, _("Not allowed"), error.detail)


def _invalid_fields(error: Exception) -> list[str]:
    extra = error.extra if isinstance(error, ValidationException) else None
    items = extra if isinstance(extra, list) else []
    return [str(item["key"]) for item in items if isinstance(item, dict) and item.get("key")]


def _http_page(request: AnyRequest, error: HTTPException) -> Response[str]:
    if error.status_code == HTTP_404_NOT_FOUND:
        return error_page(request, HTTP_404_NOT_FOUND, _("Page not found"),
                          _("There is nothing at this address in the back office."))
    fields = _invalid_fields(error)
    message = (_("This address holds something we cannot read (in: %(fields)s). Check the "
                 "link, or go back and try again.") % {"fields": ", ".join(fields)} if fields
               else _("Please go back and try again."))
    return error_page(request, error.status_code or HTTP_400_BAD_REQUEST,
                      _("Something is not right with this request"), message)


def _domain_page(request: AnyRequest, error: DomainError) -> Response[str]:
    if isinstance(error, NotFoundError):
        return error_page(request, HTTP_404_NOT_FOUND, _("Not found"), error.message)
    if isinstance(error, PermissionDeniedError):
        return error_page(request, 403, _("Not allowed"), error.message)
    return error_page(request, HTTP_409_CONFLICT, _("This cannot be done"), error.message)


def _by_path(page: Handler, api: Handler) -> Handler:
    def handler(request: AnyRequest, error: Any) -> Response[Any]:
        if is_backoffice_path(request.scope.get("path", "")):
            return page(request, error)
        return api(request, error)

    return handler


BACKOFFICE_EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    SignInRequired: sign_in_required,
    BackofficeForbidden: forbidden_page,
    ValidationException: _by_path(_http_page, api_errors.validation_error_handler),
    HTTPException: _by_path(_http_page, api_errors.http_error_handler),
    DomainError: _by_path(_domain_page, api_errors.domain_error_handler),
}

"""Every error the API returns has one shape: a status, a sentence, and the fields at fault.

Domain errors map to statuses here and nowhere else. Anything unexpected is logged and
answered with a plain 500 that reveals nothing.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import (
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
)
from sqlalchemy.exc import IntegrityError

from service.domain.errors import (
    ConflictError,
    DomainError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from service.i18n import N_
from service.i18n import gettext as _
from service.web.rate_limit import RateLimitExceeded

logger = logging.getLogger("procura_events.web")

_STATUS_FOR = {
    InvalidInputError: HTTP_422_UNPROCESSABLE_ENTITY,
    NotFoundError: HTTP_404_NOT_FOUND,
    ConflictError: HTTP_409_CONFLICT,
    PermissionDeniedError: HTTP_403_FORBIDDEN,
}

_MSGSPEC_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_MSGSPEC_NAMED_FIELD = re.compile(r"(?:missing required|unknown) field `(?P<name>[^`]+)`")


def _body(status: int, detail: str, errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"status_code": status, "detail": detail, "errors": errors}


def _json(status: int, detail: str, errors: list[dict[str, Any]],
          headers: dict[str, str] | None = None) -> Response[dict[str, Any]]:
    return Response(_body(status, detail, errors), status_code=status,
                    media_type=MediaType.JSON, headers=headers)


def domain_error_handler(_request: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
    status = next((code for kind, code in _STATUS_FOR.items() if isinstance(error, kind)), 400)
    return _json(status, error.message,
                 [{"field": e.field, "message": e.message} for e in error.errors])


# msgspec's own sentences (English, from C), each with the message that says it in the
# language in force; the names and values in backquotes are code and stay as they are.
_MSGSPEC_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Object missing required field `(?P<name>[^`]+)`"),
     N_("Object missing required field `%(name)s`")),
    (re.compile(r"Object contains unknown field `(?P<name>[^`]+)`"),
     N_("Object contains unknown field `%(name)s`")),
    (re.compile(r"Expected `(?P<expected>[^`]+)`, got `(?P<got>[^`]+)`"),
     N_("Expected `%(expected)s`, got `%(got)s`")),
    (re.compile(r"Expected `(?P<expected>[^`]+)` of length >= (?P<limit>\d+)"),
     N_("Expected `%(expected)s` of length >= %(limit)s")),
    (re.compile(r"Expected `(?P<expected>[^`]+)` of length <= (?P<limit>\d+)"),
     N_("Expected `%(expected)s` of length <= %(limit)s")),
    (re.compile(r"Expected `(?P<expected>[^`]+)` >= (?P<limit>\S+)"),
     N_("Expected `%(expected)s` >= %(limit)s")),
    (re.compile(r"Expected `(?P<expected>[^`]+)` <= (?P<limit>\S+)"),
     N_("Expected `%(expected)s` <= %(limit)s")),
    (re.compile(r"Invalid enum value (?P<value>.+)"), N_("Invalid enum value %(value)s")),
    # Litestar's own, for a parameter left out of the request.
    (re.compile(r"Missing required (?P<kind>\w+) parameter (?P<name>'[^']*') for path (?P<path>.*)",
                re.S),
     N_("Missing required %(kind)s parameter %(name)s for path %(path)s")),
)
# Litestar's stock details (the status's phrase), said in the language in force.
_STOCK_DETAILS = {
    "Bad Request": N_("Bad Request"),
    "Not Found": N_("Not Found"),
    "Method Not Allowed": N_("Method Not Allowed"),
    "Request Entity Too Large": N_("Request Entity Too Large"),
    "Unsupported Media Type": N_("Unsupported Media Type"),
    "Too Many Requests": N_("Too Many Requests"),
}


def _translated(text: str) -> str:
    """msgspec's (or Litestar's) sentence in the language in force, when it is one known above."""
    for pattern, message in _MSGSPEC_MESSAGES:
        match = pattern.fullmatch(text)
        if match:
            return _(message) % match.groupdict()
    return text


def _field_from_message(message: str) -> tuple[str | None, str]:
    """msgspec says "Expected `int`, got `str` - at `$.speakers[0].person_id`"."""
    match = _MSGSPEC_PATH.search(message)
    path = match.group("path").lstrip(".") if match else ""
    text = message[: match.start()] if match else message
    named = _MSGSPEC_NAMED_FIELD.search(text)
    if named:
        path = f"{path}.{named.group('name')}" if path else named.group("name")
    return path or None, _translated(text)


def validation_error_handler(
    _request: Request[Any, Any, Any], error: ValidationException
) -> Response[Any]:
    errors: list[dict[str, Any]] = []
    for item in error.extra if isinstance(error.extra, list) else []:
        if not isinstance(item, dict):
            continue
        field, message = _field_from_message(str(item.get("message", "")))
        key = item.get("key")
        errors.append({"field": field or key, "message": message})
    if not errors:
        errors.append({"field": None, "message": _translated(error.detail)})
    detail = "; ".join(
        f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors
    )
    return _json(error.status_code, detail, errors)


def http_error_handler(_request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    # Refusals of ours (415) name what is at fault in `extra`, as validation errors do.
    items = error.extra if isinstance(error.extra, list) else []
    errors = [{"field": item["key"], "message": item["message"]} for item in items
              if isinstance(item, dict) and "key" in item and "message" in item]
    detail = _(_STOCK_DETAILS[error.detail]) if error.detail in _STOCK_DETAILS else error.detail
    return _json(error.status_code, detail, errors, headers=error.headers)


def rate_limit_handler(_request: Request[Any, Any, Any], error: RateLimitExceeded) -> Response[Any]:
    """429 naming the limit, so a client can tell which one it ran into and pace itself."""
    limit = error.rate_limit
    body = {
        **_body(error.status_code, error.detail, [{"field": None, "message": error.detail}]),
        "limit": {"name": limit.name, "max_requests": limit.limit,
                  "window_seconds": int(limit.window.total_seconds()),
                  "retry_after_seconds": error.retry_after},
    }
    return Response(body, status_code=error.status_code, media_type=MediaType.JSON,
                    headers=error.headers)


def integrity_error_handler(_request: Request[Any, Any, Any], error: IntegrityError) -> Response[Any]:
    # Two concurrent requests raced for the same unique value; the loser is told plainly.
    logger.info("integrity error answered with 409: %s", type(error.orig).__name__)
    message = _("This clashes with something saved at the same moment; reload and try again.")
    return _json(HTTP_409_CONFLICT, message, [{"field": None, "message": message}])


def unexpected_error_handler(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    # The route template, not the path: private links carry their token in the path.
    route = request.scope.get("path_template", "unknown route")
    logger.exception("unexpected error on %s %s", request.method, route, exc_info=error)
    return _json(HTTP_500_INTERNAL_SERVER_ERROR, _("Internal server error."), [])


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    DomainError: domain_error_handler,
    ValidationException: validation_error_handler,
    RateLimitExceeded: rate_limit_handler,
    HTTPException: http_error_handler,
    IntegrityError: integrity_error_handler,
    Exception: unexpected_error_handler,
}

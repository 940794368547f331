"""JSON request bodies: declared as JSON, and readable as JSON, or refused with a 4xx.

A body the API reads as JSON must say so (`Content-Type: application/json`, or any
`application/*+json`), else 415. Browsers send `text/plain`, form encodings or no type at
all from any website without asking first (no CORS preflight), so an API that parsed those
would let every site on the web post to it through its visitors' browsers.

Litestar turns malformed JSON into a 400 but lets two failures of the decoder through as
500s: text that is not UTF-8 (`UnicodeDecodeError`) and nesting deeper than the decoder's
recursion limit (`RecursionError`). Every JSON body of the API is read through
`ApiRequest.json`, so all three become one 400 naming the `body`.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException, SerializationException, ValidationException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import BodyKwarg
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE

from service.i18n import gettext as _

BODY_FIELD = "body"
CONTENT_TYPE_HEADER = "Content-Type"
_WRITE_METHODS = frozenset({"POST", "PATCH", "PUT"})


def is_json_media_type(content_type: str) -> bool:
    """`application/json` or `application/<anything>+json`, with or without parameters."""
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _reads_json_body(handler: BaseRouteHandler) -> bool:
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return False
    body = data.kwarg_definition
    return not isinstance(body, BodyKwarg) or body.media_type == RequestEncodingType.JSON


def _has_body(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    headers = connection.headers
    return headers.get("content-length", "0") != "0" or "transfer-encoding" in headers


async def require_json_content_type(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Guard for every route: a body sent to a handler that reads JSON must be declared JSON.

    A request with no body at all passes (the handler's own validation names what is missing).
    """
    if connection.scope.get("method") not in _WRITE_METHODS or not _reads_json_body(handler):
        return
    sent = connection.headers.get("content-type", "")
    if not _has_body(connection) or is_json_media_type(sent):
        return
    message = (_("Send the body as JSON, with the header %(header)s: application/json (got "
                 "%(sent)r).") % {"header": CONTENT_TYPE_HEADER, "sent": sent[:100]} if sent
               else _("Send the body as JSON, with the header %(header)s: application/json "
                      "(none was sent).") % {"header": CONTENT_TYPE_HEADER})
    raise ClientException(
        detail=message, status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        extra=[{"key": CONTENT_TYPE_HEADER, "message": message}],
    )


def _unreadable(message: str) -> ValidationException:
    return ValidationException(f"{BODY_FIELD}: {message}",
                               extra=[{"key": BODY_FIELD, "message": message}])


class ApiRequest(Request[Any, Any, Any]):
    """The application's request: JSON bodies fail as a 400 naming the body, never a 500."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except SerializationException as error:
            raise _unreadable(str(error)) from None
        except UnicodeDecodeError:
            raise _unreadable(_("JSON is malformed: the text is not UTF-8.")) from None
        except RecursionError:
            raise _unreadable(_("JSON is nested too deeply.")) from None

"""JSON request bodies: a body that cannot be read as JSON is the client's mistake, named.

Litestar turns malformed JSON into a 400 but lets two failures of the decoder through as
500s: text that is not UTF-8 (`UnicodeDecodeError`) and nesting deeper than the decoder's
recursion limit (`RecursionError`). Every JSON body of the API is read through
`ApiRequest.json`, so all three become one 400 naming the `body`.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import SerializationException, ValidationException

BODY_FIELD = "body"


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
            raise _unreadable("JSON is malformed: the text is not UTF-8.") from None
        except RecursionError:
            raise _unreadable("JSON is nested too deeply.") from None

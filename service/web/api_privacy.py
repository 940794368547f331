"""A registrant erases their own registration through the API, with their private link.

`DELETE /api/registrations/{token}?confirm=erase` (routed in `api_registration`, beside the
link's other methods): the confirmation is a query parameter (not a body, which some
clients and proxies drop from a DELETE), the same step the private page asks for; without
it the answer is 422 naming `confirm`, and nothing is erased. Once erased, the link answers
410 here and 404 elsewhere. Thin: one domain call.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from litestar import Response
from litestar.openapi import ResponseSpec
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_410_GONE
from msgspec import Struct

from service.clock import utc_now
from service.domain import privacy
from service.domain import registration as registrations
from service.domain.errors import InvalidInputError, NotFoundError
from service.i18n import N_
from service.i18n import gettext as _
from service.settings import Settings
from service.web.params import DbSession
from service.web.schemas import ErrorOut, FieldError

CONFIRM_WORD = "erase"
ERASED_DETAIL = N_("This registration has been erased.")

ConfirmParam = Annotated[str | None, QueryParameter(
    description="Must be `erase`: erasing cannot be undone.", max_length=20)]
ERASE_RESPONSES = {
    410: ResponseSpec(data_container=ErrorOut, generate_examples=False,
                      description="The registration was erased already."),
    422: ResponseSpec(data_container=ErrorOut, generate_examples=False,
                      description="`confirm=erase` is missing: nothing was erased."),
}


class ErasedOut(Struct):
    detail: str
    erased_at: datetime


def _gone(headers: Mapping[str, str]) -> Response[ErrorOut]:
    return Response(
        ErrorOut(status_code=HTTP_410_GONE, detail=_(ERASED_DETAIL),
                 errors=[FieldError(field="token", message=_(ERASED_DETAIL))]),
        status_code=HTTP_410_GONE, headers=headers)


async def erase_by_link(db_session: DbSession, settings: Settings, token: str,
                        confirm: str | None, *, headers: Mapping[str, str]) -> Response[Any]:
    """The DELETE's answer (see the module doc)."""
    if confirm != CONFIRM_WORD:
        raise InvalidInputError(
            _("Add ?confirm=%(word)s to erase this registration: it cannot be undone.")
                % {"word": CONFIRM_WORD},
            "confirm")
    try:
        found = await registrations.find_registration_by_token(db_session, token)
    except NotFoundError:
        if await privacy.is_erased_registration_link(db_session, token):
            return _gone(headers)
        raise
    now = utc_now()
    await privacy.erase_registration(db_session, found, now=now, reason="registrant",
                                     settings=settings)
    return Response(ErasedOut(detail=_(ERASED_DETAIL), erased_at=now), headers=headers)

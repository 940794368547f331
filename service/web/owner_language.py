"""A private link's page speaks its owner's language.

A registrant's, a speaker's or an Interest Group member's private page opens in the language
that person reads (the one their emails are in), unless the address names one (`?lang=`) or
this browser remembers a choice (the switcher's cookie): a German registrant opening her
link in an English browser reads German, and once she picks English on the page, English it
stays (also after each form she sends there).
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from service.db.models import AccessPurpose
from service.domain import access
from service.i18n import set_language
from service.web.languages import chosen_language
from service.web.request_db import request_db

# The pages behind private links: where their address starts, and whose link it is.
PRIVATE_PAGES = (
    ("/registrations/", AccessPurpose.REGISTRATION_MANAGE),
    ("/speakers/", AccessPurpose.SPEAKER_PAGE),
    ("/groups/me/", AccessPurpose.GROUP_MEMBER_PAGE),
)


async def speak_the_owners_language(connection: ASGIConnection[Any, Any, Any, Any],
                                    _: BaseRouteHandler) -> None:
    token = connection.path_params.get("token")
    if not isinstance(token, str):
        return
    path = connection.scope.get("path", "")
    purpose = next((purpose for start, purpose in PRIVATE_PAGES if path.startswith(start)), None)
    if purpose is None:
        return
    choice = chosen_language(connection.scope)
    if choice.named or choice.remembered:
        return
    language = await access.owner_language(request_db(connection), purpose, token)
    if language is not None:
        set_language(language)

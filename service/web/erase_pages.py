"""A registrant erases their own registration from their private page.

Opening `/registrations/{token}/erase` changes nothing (mail scanners open links too): it
explains what erasing does, and its button (a POST with the CSRF token every public form
carries) erases. The answer is a page of its own, since the link dies with the registration;
opened again later, the link answers 410 with a page that says why. Thin: one domain call
per request; the token is in the path and never logged.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post

from service.clock import utc_now
from service.domain import privacy, registration
from service.i18n import gettext as _
from service.web.page_render import html_response
from service.web.pages import (
    ERASED_LINK,
    AnyRequest,
    PublicPages,
    _csrf,
    erased_link_page,
    form_from_private_link,
    live_registration,
)
from service.web.params import DbSession, SettingsDep, TokenParam


class ErasurePages(Controller):
    include_in_schema = False
    exception_handlers = PublicPages.exception_handlers

    @get("/registrations/{token:str}/erase")
    async def confirm_erase(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep, token: TokenParam
    ) -> Response[str]:
        reg = await live_registration(db_session, token)
        if reg is None:
            return erased_link_page()
        csrf_token, cookies = _csrf(request, settings)
        return html_response("erase.html", {
            "token": token,
            "event_title": reg.event.title,
            "is_active": reg.status in registration.ACTIVE_STATUSES,
            "status": str(reg.status),
            "csrf_token": csrf_token,
            "robots": "noindex",
        }, cookies=cookies)

    @post("/registrations/{token:str}/erase", status_code=200)
    async def erase(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep, token: TokenParam
    ) -> Response[str]:
        sent = await form_from_private_link(request, db_session, settings, token)
        if isinstance(sent, Response):
            return sent
        _form, reg = sent
        title = reg.event.title
        await privacy.erase_registration(db_session, reg, now=utc_now(), reason="registrant",
                                         settings=settings)
        return html_response("erased.html", {"title": _(ERASED_LINK[0]), "event_title": title,
                                             "robots": "noindex"})


ROUTE_HANDLERS: list[Any] = [ErasurePages]

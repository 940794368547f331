"""Public pages about personal data: the privacy notice, and a person's own copy.

`/privacy` shows the current notice; `/privacy/my-data` asks for an address and emails a
link to it (the same answer whether or not the address is known; limited per client like
the lost-link form and per address in the domain); the link's page offers the export as a
JSON download and erasing everything. Every form carries the public pages' CSRF token.
Thin: one domain call per request; tokens are in paths and never logged, nor addresses.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from litestar import Controller, Litestar, MediaType, Response, get, post
from litestar.response import Redirect
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_404_NOT_FOUND,
    HTTP_410_GONE,
    HTTP_422_UNPROCESSABLE_ENTITY,
)
from msgspec import Struct

from service.clock import utc_now
from service.db.engine import session_scope
from service.domain import privacy, registration
from service.domain.accounts.audit import Actor
from service.domain.errors import InvalidInputError, NotFoundError
from service.i18n import current_language
from service.i18n import gettext as _
from service.settings import Settings
from service.web.page_render import PAGE_HEADERS, html_response
from service.web.pages import (
    AnyRequest,
    PublicPages,
    _add_domain_errors,
    _add_error,
    _csrf,
    _csrf_ok,
    _error_page,
    _form_expired_page,
    _text,
)
from service.web.params import DbSession, SettingsDep, TokenParam
from service.web.rate_limit import RateLimit, count_request

logger = logging.getLogger("procura_events.privacy")

# Who downloads their own copy, in the audit log (the link proves they hold the address).
SELF_SERVICE = Actor(label="The person themselves (emailed link to their data)")
_HOURS = int(privacy.LINK_VALID_FOR.total_seconds() // 3600)
_LINK_STATUS = {"ready": 200, "expired": HTTP_410_GONE, "used": HTTP_410_GONE}


def data_request_limit(_settings: Settings) -> RateLimit:
    """Asking for a link to one's data: few per client, so nobody can flood inboxes or probe
    which addresses are known (as the lost-link form)."""
    return RateLimit(name="data-requests", limit=5, window=timedelta(minutes=10),
                     what="requests for a link to your data")


def export_download(export: dict[str, Any], filename: str) -> Response[bytes]:
    """An export as a JSON file to save, never cached."""
    body = json.dumps(export, ensure_ascii=False, indent=2).encode("utf-8")
    return Response(body, media_type=MediaType.JSON, headers={
        **PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'})


class PrivacyPages(Controller):
    include_in_schema = False
    exception_handlers = PublicPages.exception_handlers

    @get("/privacy")
    async def notice(self, db_session: DbSession, settings: SettingsDep) -> Response[str]:
        notice = await privacy.current_notice(db_session, now=utc_now(), settings=settings)
        language = current_language()
        text, text_language = privacy.notice_text_for(notice, language, settings)
        return html_response("privacy.html", {
            "sections": privacy.notice_paragraphs(text),
            # Marked when not the page's: screen readers then read it with the right voice.
            "text_language": text_language if text_language not in (None, language) else None,
            "version": notice.id,
            "published": notice.created_at.date().isoformat(),
            "nav": "privacy",
        })

    # -- asking for one's data --

    def _request_page(self, request: AnyRequest, settings: Settings, *, email: str = "",
                      sent: bool = False, errors: dict[str, str] | None = None,
                      status_code: int = 200) -> Response[str]:
        errors = errors or {}
        token, cookies = _csrf(request, settings)
        return html_response("my_data.html", {
            "values": {"email": email}, "email": email, "sent": sent, "errors": errors,
            "error_links": [("#email" if field == "email" else "#main", message)
                            for field, message in errors.items()],
            "csrf_token": token, "hours": _HOURS, "robots": "noindex",
        }, status_code=status_code, cookies=cookies)

    @get("/privacy/my-data")
    async def request_form(self, request: AnyRequest, settings: SettingsDep) -> Response[str]:
        return self._request_page(request, settings)

    @post("/privacy/my-data", status_code=200)
    async def request_link(self, request: AnyRequest, db_session: DbSession,
                           settings: SettingsDep) -> Response[str]:
        """Email a link to the address's data, to that address only; the answer is the same
        whether or not we hold anything about it."""
        await count_request(request, data_request_limit(settings))
        form = await request.form()
        if not _csrf_ok(request, form, settings):
            return _form_expired_page(request, settings)
        email = _text(form, "email")
        errors: dict[str, str] = {}
        if not email:
            _add_error(errors, "email", _("Enter your email address."))
        else:
            try:
                sent = await privacy.request_data_link(db_session, email, now=utc_now(),
                                                       settings=settings)
            except InvalidInputError as error:
                _add_domain_errors(errors, error.errors, ("email",))
            else:
                logger.info("link to personal data asked for (%s)",
                            "sent" if sent else "not sent")
        if errors:
            return self._request_page(request, settings, email=email, errors=errors,
                                      status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        return self._request_page(request, settings, email=email, sent=True)

    # -- the emailed link --

    @get("/privacy/my-data/{token:str}")
    async def link_page(self, request: AnyRequest, db_session: DbSession,
                        settings: SettingsDep, token: TokenParam) -> Response[str]:
        try:
            link = await privacy.check_data_link(db_session, token, now=utc_now())
        except NotFoundError:
            return _unknown_link_page()
        csrf_token, cookies = _csrf(request, settings)
        return html_response("my_data_link.html", {
            "state": link.state, "email": link.email, "token": token, "can_erase": True,
            "expires_at": link.request.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
            "csrf_token": csrf_token, "robots": "noindex",
        }, status_code=_LINK_STATUS[link.state], cookies=cookies)

    @post("/privacy/my-data/{token:str}/export", status_code=200)
    async def download(self, request: AnyRequest, db_session: DbSession,
                       settings: SettingsDep, token: TokenParam) -> Response[Any]:
        """Everything held about the link's address, as JSON (recorded in the audit log)."""
        form = await request.form()
        if not _csrf_ok(request, form, settings):
            return _form_expired_page(request, settings)
        now = utc_now()
        try:
            link = await privacy.live_data_link(db_session, token, now=now)
        except NotFoundError:
            return _unknown_link_page()
        export = await privacy.export_personal_data(db_session, link.email, now=now)
        await privacy.record_personal_data_export(db_session, SELF_SERVICE, export, now=now,
                                                  settings=settings)
        return export_download(export, "my-data-procura-events.json")

    @get("/privacy/my-data/{token:str}/erase")
    async def erase_form(self, request: AnyRequest, db_session: DbSession,
                         settings: SettingsDep, token: TokenParam) -> Response[str]:
        """What erasing does, and the button that does it (opening this changes nothing)."""
        try:
            link = await privacy.live_data_link(db_session, token, now=utc_now())
        except NotFoundError:
            return _unknown_link_page()
        csrf_token, cookies = _csrf(request, settings)
        return html_response("my_data_erase.html", {
            "state": "confirm", "email": link.email, "token": token,
            "csrf_token": csrf_token, "robots": "noindex",
        }, cookies=cookies)

    @post("/privacy/my-data/{token:str}/erase", status_code=200)
    async def erase(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                    token: TokenParam) -> Response[str]:
        """Erase everything held about the link's address, every event; the link is used."""
        form = await request.form()
        if not _csrf_ok(request, form, settings):
            return _form_expired_page(request, settings)
        try:
            summary = await privacy.erase_by_link(db_session, token, now=utc_now(),
                                                  settings=settings)
        except NotFoundError:
            return _unknown_link_page()
        logger.info("personal data erased through an emailed link")
        return html_response("my_data_erase.html", {
            "state": "erased", "summary": summary, "robots": "noindex"})


def _unknown_link_page() -> Response[str]:
    return _error_page(
        HTTP_404_NOT_FOUND, _("This link does not work"),
        _("This link to your data is not valid, or it has lapsed. Ask for a new one on the "
          "\"my data\" page: /privacy/my-data."))


class KeepInformedPages(Controller):
    """The registrant withdraws the "keep me informed of future events" consent."""

    include_in_schema = False
    exception_handlers = PublicPages.exception_handlers

    @post("/registrations/{token:str}/keep-informed", status_code=303)
    async def withdraw(self, request: AnyRequest, db_session: DbSession,
                       settings: SettingsDep, token: TokenParam) -> Response[Any]:
        form = await request.form()
        reg = await registration.find_registration_by_token(db_session, token)
        if not _csrf_ok(request, form, settings):
            return _form_expired_page(request, settings)
        await privacy.withdraw_keep_informed(db_session, reg, now=utc_now())
        return Redirect(f"/registrations/{token}?done=keep-informed#keep-informed",
                        status_code=HTTP_303_SEE_OTHER)


class NoticeOut(Struct):
    version: int
    # In the language of the request where the installation's default text is current;
    # as written otherwise.
    text: str
    # The text's language; null for a text the operator wrote (the service cannot tell).
    language: str | None
    created_at: str


class PrivacyNoticeApi(Controller):
    path = "/api"
    tags = ["registration"]

    @get("/privacy-notice")
    async def current(self, db_session: DbSession, settings: SettingsDep) -> NoticeOut:
        """The current privacy notice, in the language of the request where it is the
        installation's default text: give its `version` as `privacy_notice_version_id` when
        registering, to record that the person consented to this version."""
        notice = await privacy.current_notice(db_session, now=utc_now(), settings=settings)
        text, language = privacy.notice_text_for(notice, current_language(), settings)
        return NoticeOut(version=notice.id, text=text, language=language,
                         created_at=notice.created_at.isoformat())


class NoticeLifespanHook:
    """At start-up, the installation's first privacy notice is written if there is none, so
    that every registration (form or API) records the version it consented to."""

    async def start(self, app: Litestar) -> None:
        async with session_scope(app.state.sessionmaker) as db:
            await privacy.current_notice(db, now=utc_now(), settings=app.state.settings)

    async def stop(self, app: Litestar, handle: None) -> None:
        return None


ROUTE_HANDLERS: list[Any] = [PrivacyPages, KeepInformedPages, PrivacyNoticeApi]

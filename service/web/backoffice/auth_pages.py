"""Signing in and out of the back office.

A sign-in makes a new session (and ends the one the browser had, if any), so a session id
planted before signing in is worthless afterwards. Signing out ends the session on the
server, not only in the browser.
"""

from __future__ import annotations

import math
import re
from typing import Any

from litestar import Controller, Response, get, post
from litestar.response import Redirect
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_400_BAD_REQUEST,
    HTTP_429_TOO_MANY_REQUESTS,
)

from service.clock import utc_now
from service.domain.accounts import authenticate, end_session, start_session
from service.i18n import gettext as _
from service.i18n import ngettext
from service.web.backoffice.guards import (
    BACKOFFICE_PATH,
    expired_session_cookie,
    session_cookie,
    signed_in,
)
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, SettingsDep
from service.web.rate_limit import client_address

HOME = BACKOFFICE_PATH + "/"
_SAFE_NEXT = re.compile(r"^/organiser(?:/[^\\]*)?$")

# Routes anyone may post to (they are how one gets an account's session in the first
# place); the authorisation walk checks that no other state-changing route is open.
PUBLIC = {"backoffice_public": True}


def safe_next(value: Any) -> str:
    """Where to go after signing in: only back-office paths on this site."""
    if isinstance(value, str) and _SAFE_NEXT.match(value) and "//" not in value:
        return value
    return HOME


class AuthPagesController(Controller):
    path = BACKOFFICE_PATH
    tags = ["back office"]
    include_in_schema = False

    @get("/login")
    async def login_form(self, request: AnyRequest) -> Response[Any]:
        next_path = safe_next(request.query_params.get("next"))
        if signed_in(request) is not None:
            return Redirect(next_path, status_code=HTTP_303_SEE_OTHER)
        return organiser_page(request, "login.html", {
            "values": {"email": "", "next": next_path}, "errors": {}, "title": _("Sign in"),
            "signed_out": request.query_params.get("signed_out") == "1",
            "password_set": request.query_params.get("password_set") == "1"})

    @post("/login", opt=PUBLIC, status_code=200)
    async def login(self, request: AnyRequest, db_session: DbSession,
                    settings: SettingsDep) -> Response[Any]:
        form = await request.form()
        email = str(form.get("email") or "").strip()
        password = str(form.get("password") or "")
        next_path = safe_next(form.get("next"))
        values = {"email": email, "next": next_path}
        errors: dict[str, str] = {}
        if not email:
            errors["email"] = _("Enter your email address.")
        if not password:
            errors["password"] = _("Enter your password.")
        if errors:
            return organiser_page(request, "login.html", {
                "values": values, "errors": errors, "title": _("Sign in")},
                status_code=HTTP_400_BAD_REQUEST)
        now = utc_now()
        outcome = await authenticate(db_session, email=email, password=password,
                                     client_address=client_address(request), now=now)
        if outcome.locked_until is not None:
            minutes = max(1, math.ceil((outcome.locked_until - now).total_seconds() / 60))
            retry = int((outcome.locked_until - now).total_seconds()) + 1
            return organiser_page(request, "login.html", {
                "values": values, "title": _("Sign in"),
                "errors": {"email": ngettext(
                    "Too many failed sign-ins. Try again in %(count)s minute.",
                    "Too many failed sign-ins. Try again in %(count)s minutes.",
                    minutes) % {"count": minutes}}},
                status_code=HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": str(retry)})
        if outcome.account is None:
            # The failure must count towards the throttle although the answer is an error
            # (the request's transaction is only committed for 2xx and 3xx answers).
            await db_session.commit()
            return organiser_page(request, "login.html", {
                "values": values, "title": _("Sign in"),
                "errors": {"email": _("The email address or the password is not right.")}},
                status_code=HTTP_400_BAD_REQUEST)
        previous = request.state.account_session_id
        if previous is not None:
            await end_session(db_session, previous, now=now)
        started = await start_session(db_session, outcome.account, now=now)
        return Redirect(next_path, status_code=HTTP_303_SEE_OTHER,
                        cookies=[session_cookie(settings, started.secret)])

    @post("/logout", opt=PUBLIC, status_code=HTTP_303_SEE_OTHER)
    async def logout(self, request: AnyRequest, db_session: DbSession,
                     settings: SettingsDep) -> Response[Any]:
        session_id = request.state.account_session_id
        if session_id is not None:
            await end_session(db_session, session_id, now=utc_now())
        return Redirect(f"{BACKOFFICE_PATH}/login?signed_out=1", status_code=HTTP_303_SEE_OTHER,
                        cookies=[expired_session_cookie(settings)])

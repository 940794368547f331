"""Who may use the back office (`/organiser/...`), and the CSRF check on its forms.

`guard_backoffice` runs for every route of the application (registered on the app): on
paths under /organiser it finds the signed-in account from the session cookie, puts it on
`request.state.account` and on the request's database session as the acting `Actor` (for
the audit log), and refuses any request that changes something (not GET, HEAD or OPTIONS)
without the form token: 403. Because it is on the app, a new back-office route is covered
without doing anything.

Controllers then add `require_account` (anyone signed in; otherwise a 303 to the sign-in
page that comes back afterwards), `require_editor` (admins and organisers; viewers get
403) or `require_admin`. Handlers take the account as `account: CurrentAccount`.

The form token is an HMAC of the session id under the installation's secret key: a page
can only be posted by someone who could read a page of that session. Before signing in,
the sign-in form uses a random cookie instead (so nobody can sign a visitor into another
account either).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.handlers.base import BaseRouteHandler
from litestar.status_codes import HTTP_403_FORBIDDEN

from service.clock import utc_now
from service.domain.accounts import (
    Actor,
    SessionTimeouts,
    SignedInAccount,
    find_session,
    may_reach,
    set_actor,
    signed_in_account,
)
from service.i18n import gettext, set_language
from service.settings import Settings
from service.web.languages import chosen_language
from service.web.page_render import CSRF_FIELD_NAME
from service.web.request_db import request_db

BACKOFFICE_PATH = "/organiser"
SESSION_COOKIE = "procura_organiser_session"
FORM_COOKIE = "procura_organiser_form"
CSRF_FIELD = CSRF_FIELD_NAME
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_NONCE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def is_backoffice_path(path: str) -> bool:
    return path == BACKOFFICE_PATH or path.startswith(BACKOFFICE_PATH + "/")


class SignInRequired(HTTPException):
    """Nobody is signed in: answered with a 303 to the sign-in page (see `exceptions.py`)."""

    status_code = 303

    def __init__(self, next_path: str) -> None:
        super().__init__(detail="Sign in first.")
        self.next_path = next_path


class BackofficeForbidden(HTTPException):
    """Signed in, but not allowed (or the form token is missing): a 403 page."""

    status_code = HTTP_403_FORBIDDEN


def timeouts(settings: Settings) -> SessionTimeouts:
    return SessionTimeouts(idle=timedelta(minutes=settings.session_idle_minutes),
                           absolute=timedelta(hours=settings.session_max_hours))


def csrf_token_for_session(settings: Settings, session_id: str) -> str:
    return hmac.new(settings.secret_key.encode(), f"organiser-session:{session_id}".encode(),
                    hashlib.sha256).hexdigest()


def _csrf_token_for_form(settings: Settings, nonce: str) -> str:
    return hmac.new(settings.secret_key.encode(), f"organiser-form:{nonce}".encode(),
                    hashlib.sha256).hexdigest()


def session_cookie(settings: Settings, secret: str) -> Cookie:
    return Cookie(key=SESSION_COOKIE, value=secret, path=BACKOFFICE_PATH, httponly=True,
                  samesite="lax", secure=settings.is_https,
                  max_age=settings.session_max_hours * 3600)


def expired_session_cookie(settings: Settings) -> Cookie:
    return Cookie(key=SESSION_COOKIE, value="", path=BACKOFFICE_PATH, httponly=True,
                  samesite="lax", secure=settings.is_https, max_age=0)


async def _sent_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = connection.headers.get(CSRF_HEADER.lower(), "")
    if header:
        return header
    if isinstance(connection, Request):
        content_type, _ = connection.content_type
        if content_type in (RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART):
            sent = (await connection.form()).get(CSRF_FIELD)
            return sent if isinstance(sent, str) else ""
    return ""


async def guard_backoffice(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """For every route: nothing outside /organiser; inside, who is signed in, and CSRF."""
    if not is_backoffice_path(connection.scope.get("path", "")):
        return
    settings: Settings = connection.app.state.settings
    state = connection.state
    state.account = None
    state.account_session_id = None
    secret = connection.cookies.get(SESSION_COOKIE, "")
    if secret:
        db = request_db(connection)
        found = await find_session(db, secret, now=utc_now(), timeouts=timeouts(settings))
        if found is not None:
            session, account = found
            state.account = await signed_in_account(db, account)
            state.account_session_id = session.id
            # Their own back-office language, unless the address names one (a shared link).
            if not chosen_language(connection.scope).named:
                set_language(state.account.language)
            set_actor(db, Actor(label=f"{account.name} <{account.email}>", account_id=account.id))
            if not state.account.is_admin and not await may_reach(
                    db, connection.path_params, team_ids=state.account.team_ids):
                raise BackofficeForbidden(gettext("This belongs to an event of another team."))
    if state.account_session_id is not None:
        expected = csrf_token_for_session(settings, state.account_session_id)
    else:
        nonce = connection.cookies.get(FORM_COOKIE, "")
        if not _NONCE.match(nonce):
            nonce = secrets.token_urlsafe(32)
            state.new_form_cookie = Cookie(key=FORM_COOKIE, value=nonce, path=BACKOFFICE_PATH,
                                           httponly=True, samesite="lax",
                                           secure=settings.is_https)
        expected = _csrf_token_for_form(settings, nonce)
    state.csrf_token = expected
    if connection.scope.get("method", "GET") in SAFE_METHODS:
        return
    sent = await _sent_token(connection)
    if not sent or not hmac.compare_digest(sent, expected):
        raise BackofficeForbidden(
            gettext("This form has expired or did not come from the back office: nothing was "
              "changed. Go back, reload the page and send it again."))


def signed_in(connection: ASGIConnection[Any, Any, Any, Any]) -> SignedInAccount | None:
    account = getattr(connection.state, "account", None)
    return account if isinstance(account, SignedInAccount) else None


async def require_account(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Anyone signed in; otherwise to the sign-in page, coming back here afterwards."""
    if signed_in(connection) is None:
        path = connection.scope.get("path", BACKOFFICE_PATH)
        query = connection.scope.get("query_string", b"").decode("latin-1")
        next_path = f"{path}?{query}" if query and connection.scope.get("method") == "GET" else path
        raise SignInRequired(next_path)


async def require_editor(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Admins and organisers: viewers only read."""
    await require_account(connection, handler)
    account = signed_in(connection)
    if account is None or not account.is_editor:
        raise BackofficeForbidden(gettext("Your account can look but not change anything."))


async def require_admin(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    await require_account(connection, handler)
    account = signed_in(connection)
    if account is None or not account.is_admin:
        raise BackofficeForbidden(gettext("Only administrators can do this."))


def _provide_account(request: Request[Any, Any, Any]) -> SignedInAccount:
    account = signed_in(request)
    if account is None:  # a handler asked for the account without `require_account`
        raise SignInRequired(request.scope.get("path", BACKOFFICE_PATH))
    return account


CurrentAccount = NamedDependency[SignedInAccount]
ACCOUNT_DEPENDENCY = {"account": Provide(_provide_account, sync_to_thread=False)}


def sign_in_url(next_path: str) -> str:
    return f"{BACKOFFICE_PATH}/login?next={quote(next_path, safe='/')}"

"""Choosing a password: from an invitation, or after asking for a reset by email.

Open to anyone (that is how one gets a password), behind the same CSRF check as every form
of the back office. Asking for a reset shows the same answer whether the address has an
account or not.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_400_BAD_REQUEST, HTTP_404_NOT_FOUND

from notifications.addresses import AddressRefused, accept_address
from service.clock import utc_now
from service.db.models import AccountLinkPurpose
from service.domain.accounts import (
    MIN_LENGTH,
    find_account_link,
    request_password_reset,
    set_password_with_link,
)
from service.domain.errors import DomainError, NotFoundError
from service.i18n import N_
from service.i18n import gettext as _
from service.web.backoffice.auth_pages import PUBLIC
from service.web.backoffice.forms import field_errors, text
from service.web.backoffice.guards import BACKOFFICE_PATH
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, SettingsDep, TokenParam

PAGES = {
    AccountLinkPurpose.INVITATION: (N_("Choose your password"), N_("Welcome to the back office")),
    AccountLinkPurpose.PASSWORD_RESET: (N_("Choose a new password"), N_("Choose a new password")),
}


class PasswordPagesController(Controller):
    path = BACKOFFICE_PATH
    include_in_schema = False

    async def _form(self, request: AnyRequest, db: DbSession, token: str,
                    purpose: AccountLinkPurpose, *, errors: dict[str, str],
                    status_code: int = 200) -> Response[Any]:
        holder = await find_account_link(db, token, purpose, now=utc_now())
        if holder is None:
            return organiser_page(request, "link_expired.html", {
                "title": _("This link no longer works"), "purpose": purpose.value},
                status_code=HTTP_404_NOT_FOUND)
        title, heading = PAGES[purpose]
        return organiser_page(request, "set_password.html", {
            "title": _(title), "heading": _(heading), "name": holder.account.name,
            "email": holder.account.email, "errors": errors, "min_length": MIN_LENGTH,
            "action": request.url.path}, status_code=status_code)

    async def _choose(self, request: AnyRequest, db: DbSession, token: str,
                      purpose: AccountLinkPurpose) -> Response[Any]:
        form = await request.form()
        password = form.get("password")
        again = form.get("password_again")
        try:
            await set_password_with_link(
                db, token, purpose, password=password if isinstance(password, str) else "",
                password_again=again if isinstance(again, str) else "", now=utc_now())
        except NotFoundError:
            return await self._form(request, db, token, purpose, errors={})
        except DomainError as error:
            return await self._form(request, db, token, purpose, errors=field_errors(error),
                                    status_code=HTTP_400_BAD_REQUEST)
        return Redirect(f"{BACKOFFICE_PATH}/login?password_set=1",
                        status_code=HTTP_303_SEE_OTHER)

    @get("/invitations/{token:str}")
    async def invitation(self, request: AnyRequest, db_session: DbSession,
                         token: TokenParam) -> Response[Any]:
        return await self._form(request, db_session, token, AccountLinkPurpose.INVITATION,
                                errors={})

    @post("/invitations/{token:str}", opt=PUBLIC, status_code=HTTP_303_SEE_OTHER)
    async def accept_invitation(self, request: AnyRequest, db_session: DbSession,
                                token: TokenParam) -> Response[Any]:
        return await self._choose(request, db_session, token, AccountLinkPurpose.INVITATION)

    @get("/password-reset")
    async def reset_request_form(self, request: AnyRequest) -> Response[Any]:
        return organiser_page(request, "password_reset_request.html", {
            "title": _("Forgot your password?"), "values": {"email": ""}, "errors": {},
            "sent": False})

    @post("/password-reset", opt=PUBLIC, status_code=200)
    async def request_reset(self, request: AnyRequest, db_session: DbSession,
                            settings: SettingsDep) -> Response[Any]:
        form = await request.form()
        email = text(form, "email", 321)
        refused = None if email else _("Enter the email address you sign in with.")
        try:
            if email:
                accept_address(email)
        except AddressRefused as problem:
            # Only what is not an address at all: the answer is the same for any address.
            refused = str(problem)
        if refused:
            return organiser_page(request, "password_reset_request.html", {
                "title": _("Forgot your password?"), "values": {"email": email[:320]},
                "sent": False, "errors": {"email": refused}},
                status_code=HTTP_400_BAD_REQUEST)
        await request_password_reset(db_session, email, now=utc_now(), settings=settings)
        return organiser_page(request, "password_reset_request.html", {
            "title": _("Check your inbox"), "values": {"email": email}, "errors": {},
            "sent": True})

    @get("/password-reset/{token:str}")
    async def reset_form(self, request: AnyRequest, db_session: DbSession,
                         token: TokenParam) -> Response[Any]:
        return await self._form(request, db_session, token, AccountLinkPurpose.PASSWORD_RESET,
                                errors={})

    @post("/password-reset/{token:str}", opt=PUBLIC, status_code=HTTP_303_SEE_OTHER)
    async def reset(self, request: AnyRequest, db_session: DbSession,
                    token: TokenParam) -> Response[Any]:
        return await self._choose(request, db_session, token, AccountLinkPurpose.PASSWORD_RESET)

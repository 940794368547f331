"""The signed-in organiser's own account: the language the back office speaks to them.

Stored on the account (`service.domain.accounts.set_account_language`): the guard puts it in
force on every back-office page they open (unless the address names `?lang=`), and their
emails (password resets) are written in it.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_ENTITY

from service.clock import utc_now
from service.domain.accounts import set_account_language
from service.domain.errors import DomainError
from service.i18n import LANGUAGE_NAMES, set_language
from service.i18n import gettext as _
from service.web.backoffice.forms import field_errors, text
from service.web.backoffice.guards import BACKOFFICE_PATH, CurrentAccount, require_account
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession

MY_ACCOUNT = f"{BACKOFFICE_PATH}/account"


class MyAccountController(Controller):
    path = MY_ACCOUNT
    guards = [require_account]
    include_in_schema = False

    def _page(self, request: AnyRequest, account: CurrentAccount, *, values: dict[str, Any],
              errors: dict[str, str], status_code: int = 200) -> Response[Any]:
        saved = request.query_params.get("done") == "saved"
        return organiser_page(request, "my_account.html", {
            "title": _("Your account"), "nav": "account", "values": values, "errors": errors,
            "error_links": [(f"#{name}", message) for name, message in errors.items()],
            "languages": list(LANGUAGE_NAMES.items()),
            "done": _("Your language was saved.") if saved else None},
            status_code=status_code)

    @get("/")
    async def my_account(self, request: AnyRequest, account: CurrentAccount) -> Response[Any]:
        return self._page(request, account, values={"language": account.language}, errors={})

    @post("/", status_code=HTTP_303_SEE_OTHER)
    async def change_language(self, request: AnyRequest, db_session: DbSession,
                              account: CurrentAccount) -> Response[Any]:
        form = await request.form()
        language = text(form, "language", 8)
        try:
            await set_account_language(db_session, account.id, language, now=utc_now())
        except DomainError as error:
            return self._page(request, account, values={"language": language},
                              errors=field_errors(error),
                              status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        set_language(language)
        return Redirect(f"{MY_ACCOUNT}?done=saved", status_code=HTTP_303_SEE_OTHER)

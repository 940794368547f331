"""Accounts, for administrators: who has access, with which role and teams; invitations by
email, disabling an account, and the teams themselves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Response, get, post
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_400_BAD_REQUEST

from service.clock import utc_now
from service.db.models import Account, AccountRole, Team
from service.domain.accounts import (
    account_team_ids,
    change_account,
    disable_account,
    enable_account,
    find_or_create_team,
    get_account,
    invite_account,
    list_accounts,
    list_teams,
    send_invitation,
    team_names,
)
from service.domain.errors import DomainError
from service.domain.privacy import erase_account
from service.domain.privacy.accounts import former_account_label
from service.i18n import DEFAULT_LANGUAGE, N_, pgettext
from service.i18n import gettext as _
from service.web.backoffice.forms import field_errors, ids, refusal_status, text
from service.web.backoffice.guards import BACKOFFICE_PATH, CurrentAccount, require_admin
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam, SettingsDep

ACCOUNTS = f"{BACKOFFICE_PATH}/accounts"
# Marked here, translated where shown (`_role_options`, `_done_note`).
ROLE_OPTIONS = [(AccountRole.ORGANISER.value, N_("Organiser: changes their teams' events")),
                (AccountRole.VIEWER.value, N_("Viewer: reads their teams' events")),
                (AccountRole.ADMIN.value, N_("Administrator: everything, and the accounts"))]
DONE_NOTES = {
    "invited": N_("Invitation sent: the link works for 72 hours."),
    "changed": N_("Changes saved."),
    "disabled": N_("Account disabled: it is signed out everywhere and can no longer sign in."),
    "enabled": N_("Account enabled: it can sign in again."),
    "reinvited": N_("A new invitation was sent; the previous link no longer works."),
    "team": N_("Team added."),
    "erased": N_("The account's personal data is erased."),
}


def role_word(role: str) -> str:
    """The role as the accounts list and the signed-in name show it ("admin")."""
    words = {"admin": pgettext("role", "admin"), "organiser": pgettext("role", "organiser"),
             "viewer": pgettext("role", "viewer")}
    return words.get(role, role)


def _role_options() -> list[tuple[str, str]]:
    return [(value, _(label)) for value, label in ROLE_OPTIONS]


def _done_note(done: str | None) -> str | None:
    return _(DONE_NOTES[done]) if isinstance(done, str) and done in DONE_NOTES else None


@dataclass(frozen=True)
class AccountRow:
    id: int
    name: str
    email: str
    role: str
    teams: list[str]
    state: str


def _state(account: Account) -> str:
    if account.disabled_at is not None:
        return _("Disabled")
    return _("Invited, no password yet") if account.password_hash is None else _("Active")


async def _rows(db: DbSession, teams: list[Team]) -> list[AccountRow]:
    rows = []
    for account in await list_accounts(db):
        rows.append(AccountRow(
            id=account.id, name=account.name, email=account.email,
            role=role_word(account.role.value),
            teams=team_names(teams, await account_team_ids(db, account.id)),
            state=_state(account)))
    return rows


class AccountsController(Controller):
    path = ACCOUNTS
    guards = [require_admin]
    include_in_schema = False

    async def _list_page(self, request: AnyRequest, db: DbSession, *, values: dict[str, Any],
                         errors: dict[str, str], team_errors: dict[str, str] | None = None,
                         status_code: int = 200) -> Response[Any]:
        teams = await list_teams(db)
        done = request.query_params.get("done")
        return organiser_page(request, "accounts.html", {
            "title": _("Accounts"), "nav": "accounts", "accounts": await _rows(db, teams),
            "teams": teams, "roles": _role_options(), "values": values, "errors": errors,
            "team_errors": team_errors or {}, "team_values": {},
            "done": _done_note(done)},
            status_code=status_code)

    @get("/")
    async def accounts(self, request: AnyRequest, db_session: DbSession) -> Response[Any]:
        return await self._list_page(request, db_session,
                                     values={"role": "organiser", "teams": []}, errors={})

    @post("/", status_code=HTTP_303_SEE_OTHER)
    async def invite(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                     account: CurrentAccount) -> Response[Any]:
        form = await request.form()
        values: dict[str, Any] = {"email": text(form, "email", 320), "name": text(form, "name"),
                                  "role": text(form, "role", 20), "teams": ids(form, "teams"),
                                  "language": text(form, "language", 8)}
        try:
            await invite_account(db_session, email=values["email"], name=values["name"],
                                 role=values["role"], team_ids=values["teams"],
                                 invited_by=account.name, now=utc_now(), settings=settings,
                                 language=values["language"] or DEFAULT_LANGUAGE)
        except DomainError as error:
            return await self._list_page(request, db_session, values=values,
                                         errors=field_errors(error),
                                         status_code=HTTP_400_BAD_REQUEST)
        return Redirect(f"{ACCOUNTS}?done=invited", status_code=HTTP_303_SEE_OTHER)

    @post("/teams", status_code=HTTP_303_SEE_OTHER)
    async def add_team(self, request: AnyRequest, db_session: DbSession) -> Response[Any]:
        form = await request.form()
        try:
            await find_or_create_team(db_session, text(form, "team_name", 300), now=utc_now())
        except DomainError as error:
            errors = {"team_name": error.message}
            return await self._list_page(request, db_session,
                                         values={"role": "organiser", "teams": []}, errors={},
                                         team_errors=errors, status_code=HTTP_400_BAD_REQUEST)
        return Redirect(f"{ACCOUNTS}?done=team", status_code=HTTP_303_SEE_OTHER)

    async def _edit_page(self, request: AnyRequest, db: DbSession, subject: Account, *,
                         values: dict[str, Any], errors: dict[str, str],
                         status_code: int = 200) -> Response[Any]:
        done = request.query_params.get("done")
        return organiser_page(request, "account.html", {
            "title": _("Account: %(name)s") % {"name": subject.name}, "nav": "accounts",
            "subject": subject, "state": _state(subject), "teams": await list_teams(db),
            "is_erased": subject.erased_at is not None,
            "roles": _role_options(), "values": values, "errors": errors,
            "done": _done_note(done)},
            status_code=status_code)

    @get("/{account_id:int}")
    async def account(self, request: AnyRequest, db_session: DbSession,
                      account_id: IdParam) -> Response[Any]:
        subject = await get_account(db_session, account_id)
        return await self._edit_page(request, db_session, subject, values={
            "role": subject.role.value,
            "teams": sorted(await account_team_ids(db_session, subject.id))}, errors={})

    @post("/{account_id:int}", status_code=HTTP_303_SEE_OTHER)
    async def change(self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
                     account_id: IdParam) -> Response[Any]:
        form = await request.form()
        values: dict[str, Any] = {"role": text(form, "role", 20), "teams": ids(form, "teams")}
        try:
            await change_account(db_session, account_id, role=values["role"],
                                 team_ids=values["teams"], by_account_id=account.id,
                                 now=utc_now())
        except DomainError as error:
            subject = await get_account(db_session, account_id)
            return await self._edit_page(request, db_session, subject, values=values,
                                         errors=field_errors(error),
                                         status_code=HTTP_400_BAD_REQUEST)
        return Redirect(f"{ACCOUNTS}/{account_id}?done=changed", status_code=HTTP_303_SEE_OTHER)

    @post("/{account_id:int}/disable", status_code=HTTP_303_SEE_OTHER)
    async def disable(self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
                      account_id: IdParam) -> Response[Any]:
        try:
            await disable_account(db_session, account_id, by_account_id=account.id,
                                  now=utc_now())
        except DomainError as error:
            subject = await get_account(db_session, account_id)
            return await self._edit_page(request, db_session, subject, values={
                "role": subject.role.value,
                "teams": sorted(await account_team_ids(db_session, subject.id))},
                errors=field_errors(error), status_code=HTTP_400_BAD_REQUEST)
        return Redirect(f"{ACCOUNTS}/{account_id}?done=disabled", status_code=HTTP_303_SEE_OTHER)

    @get("/{account_id:int}/erase")
    async def erase_page(self, request: AnyRequest, db_session: DbSession,
                         account_id: IdParam) -> Response[Any]:
        """What erasing the account's personal data does, before it is done."""
        subject = await get_account(db_session, account_id)
        if subject.disabled_at is None or subject.erased_at is not None:
            return Redirect(f"{ACCOUNTS}/{account_id}", status_code=HTTP_303_SEE_OTHER)
        return organiser_page(request, "account_erase.html", {
            "title": _("Erase the personal data of %(name)s?") % {"name": subject.name},
            "nav": "accounts", "subject": subject,
            "former": former_account_label(subject.id)})

    @post("/{account_id:int}/erase", status_code=HTTP_303_SEE_OTHER)
    async def erase(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                    account: CurrentAccount, account_id: IdParam) -> Response[Any]:
        try:
            await erase_account(db_session, account_id, by_account_id=account.id,
                                now=utc_now(), secret_key=settings.secret_key)
        except DomainError as error:
            subject = await get_account(db_session, account_id)
            return await self._edit_page(request, db_session, subject, values={
                "role": subject.role.value,
                "teams": sorted(await account_team_ids(db_session, subject.id))},
                errors=field_errors(error), status_code=refusal_status(error))
        return Redirect(f"{ACCOUNTS}/{account_id}?done=erased", status_code=HTTP_303_SEE_OTHER)

    @post("/{account_id:int}/enable", status_code=HTTP_303_SEE_OTHER)
    async def enable(self, db_session: DbSession, account_id: IdParam) -> Response[Any]:
        await enable_account(db_session, account_id, now=utc_now())
        return Redirect(f"{ACCOUNTS}/{account_id}?done=enabled", status_code=HTTP_303_SEE_OTHER)

    @post("/{account_id:int}/invitation", status_code=HTTP_303_SEE_OTHER)
    async def reinvite(self, db_session: DbSession, settings: SettingsDep,
                       account: CurrentAccount, account_id: IdParam) -> Response[Any]:
        subject = await get_account(db_session, account_id)
        await send_invitation(db_session, subject, invited_by=account.name, now=utc_now(),
                              settings=settings)
        return Redirect(f"{ACCOUNTS}/{account_id}?done=reinvited",
                        status_code=HTTP_303_SEE_OTHER)

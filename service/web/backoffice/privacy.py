"""Personal data, for administrators: the privacy notice's versions and its editor, and one
person's data across all events by email address (export as JSON, erase).

Publishing the notice adds a version (its text, the text's language and the same notice in
other languages); earlier versions, and who consented to them, stay.
Every export is recorded in the audit log (by whom, when, how many rows, whose address as a
keyed hash). The address travels in POSTed forms only, never in a URL.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_ENTITY

from notifications.addresses import AddressRefused, accept_address
from service.clock import utc_now
from service.db.models import PrivacyNotice
from service.domain import privacy
from service.domain.accounts import Actor
from service.domain.errors import DomainError
from service.i18n import LANGUAGE_NAMES, LANGUAGES, N_
from service.i18n import gettext as _
from service.web.backoffice.forms import field_errors, refusal_status, text
from service.web.backoffice.guards import BACKOFFICE_PATH, CurrentAccount, require_admin
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, SettingsDep
from service.web.privacy_pages import export_download

PRIVACY = f"{BACKOFFICE_PATH}/privacy"
DONE_NOTES = {"published": N_("The new version of the privacy notice is published: new "
                                 "registrations consent to it; earlier ones keep the version "
                                 "they saw."),
              "erased": N_("Everything held about the address is erased.")}
ERASE_CONFIRMATION = "erase"
# What the summary of one person's data counts, by the export's sections.
SUMMARY = (("registrations", N_("Registrations (all events)")),
           ("speaker_profiles", N_("Speaker or host records")),
           ("group_memberships", N_("Interest Group memberships")),
           ("meeting_guest_invitations", N_("Invitations as a guest to a group meeting")),
           ("emails", N_("Emails sent or queued")),
           ("data_requests", N_("Requests for their own copy")),
           ("audit_entries", N_("Audit log entries about them")),
           ("organiser_accounts", N_("Organiser accounts")),
           ("sign_in_failures", N_("Failed sign-ins with the address")))
# What "Erase everything" takes: an organiser account (and its sign-in records) is erased
# from its own page, once disabled.
ERASED_HERE = tuple(item for item in SUMMARY
                    if item[0] not in ("organiser_accounts", "sign_in_failures"))


def _notice_values(notice: PrivacyNotice) -> dict[str, str]:
    """The editor's fields for a version: its text, language and translations."""
    return {"text": notice.text, "language": notice.language or "",
            **{f"text_{code}": (notice.translations or {}).get(code, "") for code in LANGUAGES}}


def _actor(account: CurrentAccount) -> Actor:
    return Actor(label=f"{account.name} <{account.email}>", account_id=account.id)


class PrivacyController(Controller):
    path = PRIVACY
    guards = [require_admin]
    include_in_schema = False

    async def _page(self, request: AnyRequest, db: DbSession, settings: SettingsDep, *,
                    values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                    person_values: dict[str, str] | None = None,
                    person_errors: dict[str, str] | None = None,
                    status_code: int = 200) -> Response[Any]:
        current = await privacy.current_notice(db, now=utc_now(), settings=settings)
        done = request.query_params.get("done")
        return organiser_page(request, "privacy.html", {
            "title": _("Privacy"), "nav": "privacy",
            "current": current, "versions": await privacy.list_notice_versions(db),
            "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            "values": values or _notice_values(current), "errors": errors or {},
            "person_values": person_values or {}, "person_errors": person_errors or {},
            "done": _(DONE_NOTES[done]) if isinstance(done, str) and done in DONE_NOTES else None,
        }, status_code=status_code)

    @get("/")
    async def overview(self, request: AnyRequest, db_session: DbSession,
                       settings: SettingsDep) -> Response[Any]:
        return await self._page(request, db_session, settings)

    @post("/notice", status_code=HTTP_303_SEE_OTHER)
    async def publish(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                      account: CurrentAccount) -> Response[Any]:
        """A new version of the notice (never a change to one)."""
        form = await request.form()
        values = {name: text(form, name, privacy.MAX_NOTICE + 1)
                  for name in ("text", *(f"text_{code}" for code in LANGUAGES))}
        values["language"] = text(form, "language", 8)
        try:
            await privacy.publish_notice(
                db_session, values["text"], author=_actor(account).label, now=utc_now(),
                settings=settings, language=values["language"] or None,
                translations={code: values[f"text_{code}"] for code in LANGUAGES})
        except DomainError as error:
            # The domain names a translation `translations.de`; its field is `text_de`.
            errors = {name.replace("translations.", "text_"): message
                      for name, message in field_errors(error).items()}
            return await self._page(request, db_session, settings, values=values,
                                    errors=errors, status_code=refusal_status(error))
        return Redirect(f"{PRIVACY}?done=published", status_code=HTTP_303_SEE_OTHER)

    @post("/person", status_code=200)
    async def person(self, request: AnyRequest, db_session: DbSession,
                     settings: SettingsDep) -> Response[Any]:
        """What is held about one address, counted, with the export and erasure to confirm."""
        form = await request.form()
        email = text(form, "email", 320)
        try:
            key = privacy.normalise_address(accept_address(email))
        except AddressRefused as refused:
            return await self._page(request, db_session, settings,
                                    person_values={"email": email},
                                    person_errors={"email": str(refused)},
                                    status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        export = await privacy.export_personal_data(db_session, key, now=utc_now())
        return organiser_page(request, "privacy_person.html", {
            "title": _("Personal data of one address"), "nav": "privacy", "email": key,
            "counts": [(_(label), len(export[section])) for section, label in SUMMARY],
            "rows": export["row_count"], "can_erase": True,
        })

    @post("/person/export", status_code=200)
    async def export(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                     account: CurrentAccount) -> Response[Any]:
        """Everything held about the address, as JSON; recorded in the audit log."""
        form = await request.form()
        try:
            key = privacy.normalise_address(accept_address(text(form, "email", 320)))
        except AddressRefused:
            return Redirect(PRIVACY, status_code=HTTP_303_SEE_OTHER)
        now = utc_now()
        export = await privacy.export_personal_data(db_session, key, now=now)
        await privacy.record_personal_data_export(db_session, _actor(account), export, now=now,
                                                  settings=settings)
        return export_download(export, "personal-data.json")


    @post("/person/erase-confirm", status_code=200)
    async def erase_confirm(self, request: AnyRequest, db_session: DbSession) -> Response[Any]:
        """What erasing the address does, and the button that does it."""
        form = await request.form()
        try:
            key = privacy.normalise_address(accept_address(text(form, "email", 320)))
        except AddressRefused:
            return Redirect(PRIVACY, status_code=HTTP_303_SEE_OTHER)
        export = await privacy.export_personal_data(db_session, key, now=utc_now())
        return organiser_page(request, "privacy_erase.html", {
            "title": _("Erase one person's data"), "nav": "privacy", "email": key,
            "counts": [(_(label), len(export[section])) for section, label in ERASED_HERE],
            "accounts": [account["id"] for account in export["organiser_accounts"]],
            "confirmation": ERASE_CONFIRMATION,
        })

    @post("/person/erase", status_code=HTTP_303_SEE_OTHER)
    async def erase(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep
                    ) -> Response[Any]:
        """Erase everything held about the address, every event (confirmed on the page)."""
        form = await request.form()
        try:
            key = privacy.normalise_address(accept_address(text(form, "email", 320)))
        except AddressRefused:
            return Redirect(PRIVACY, status_code=HTTP_303_SEE_OTHER)
        if text(form, "confirm", 20) != ERASE_CONFIRMATION:
            return Redirect(PRIVACY, status_code=HTTP_303_SEE_OTHER)
        await privacy.erase_everything_held(db_session, key, now=utc_now(),
                                            reason=privacy.ADMIN_ERASURE_REASON,
                                            settings=settings)
        return Redirect(f"{PRIVACY}?done=erased", status_code=HTTP_303_SEE_OTHER)

"""Importing registrations from a spreadsheet (CSV) in the back office: the organiser
chooses the file and confirms that the people in it agreed; "Check the file" names every
problem by line and column, or lists who would be registered; "Import" registers them all
(`registration.importing`), each with the usual first email, and says how many have a place
and how many wait. Nothing is stored before "Import"; the file comes back with that form
(base64 in a hidden field) and is checked again then. Editors of a published event.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.params import QueryParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_ENTITY

from service.clock import utc_now
from service.db.models import Event, EventStatus, RegistrationStatus
from service.domain.accounts import audit
from service.domain.errors import DomainError
from service.domain.registration import importing
from service.i18n import N_, ngettext
from service.i18n import gettext as _
from service.settings import Settings
from service.web.backoffice.event_figures import spreadsheet_response
from service.web.backoffice.event_pages import event_for, heading
from service.web.backoffice.forms import FORM_LEVEL, text
from service.web.backoffice.guards import (
    BACKOFFICE_PATH,
    CurrentAccount,
    require_account,
    require_editor,
)
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.countries import COUNTRY_NAMES
from service.web.params import DbSession, IdParam, SettingsDep

# The file twice over (sent as it is, or back in base64), and room for the form around it.
BODY_LIMIT = importing.MAX_BYTES * 2 + 64 * 1024
UNKNOWN_COUNTRY = N_("Not a country code we know: use two letters of ISO 3166, such as BE.")
CONSENT_MISSING = N_("Tick the box once the people in the file have agreed that we use their "
                     "details for this event.")


async def _read_file(form: FormMultiDict) -> bytes | None:
    """The file chosen, or the one checked already (back in the hidden field)."""
    sent = form.get("file")
    if isinstance(sent, UploadFile) and sent.filename:
        return await sent.read()
    checked = text(form, "checked", importing.MAX_BYTES * 2)
    if checked:
        try:
            return base64.b64decode(checked, validate=True)
        except (binascii.Error, ValueError):
            return None
    return None


class RegistrationImportController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account, require_editor]
    include_in_schema = False

    def _page(self, request: AnyRequest, event: Event, account: CurrentAccount, *,
              errors: dict[str, str] | None = None,
              problems: list[importing.RowProblem] | None = None,
              people: list[importing.ImportRow] | None = None, checked: bytes = b"",
              consent: bool = False, done: tuple[int, int] | None = None,
              status_code: int = 200) -> Response[Any]:
        return organiser_page(request, "registration_import.html", {
            "title": _("Import registrations: %(title)s") % {"title": event.title},
            "nav": "events", "event": heading(event, account),
            "is_published": event.status != EventStatus.DRAFT,
            "columns": importing.COLUMNS, "max_rows": importing.MAX_ROWS,
            "max_kb": importing.MAX_BYTES // 1024,
            "errors": errors or {}, "problems": problems or [], "people": people or [],
            "checked": base64.b64encode(checked).decode() if people else "",
            "consent": consent, "done": done,
        }, status_code=status_code)

    @get("/events/{event_id:int}/registrations/import")
    async def import_form(
        self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
        event_id: IdParam,
        confirmed: Annotated[int | None, QueryParameter(ge=0, le=100_000)] = None,
        waiting: Annotated[int | None, QueryParameter(ge=0, le=100_000)] = None,
    ) -> Response[Any]:
        """After an import (`confirmed`, `waiting`): how many have a place, how many wait."""
        event = await event_for(db_session, account, event_id, editing=True)
        done = (confirmed, waiting) if confirmed is not None and waiting is not None else None
        return self._page(request, event, account, done=done)

    @get("/events/{event_id:int}/registrations/import/example.csv", media_type="text/csv")
    async def example_file(self, db_session: DbSession, account: CurrentAccount,
                           event_id: IdParam) -> Response[bytes]:
        """The columns this event reads and one person, to fill in and import."""
        event = await event_for(db_session, account, event_id, editing=True)
        return spreadsheet_response(importing.example_rows(event),
                                    f"registrations-to-import-{event.slug}.csv")

    @post("/events/{event_id:int}/registrations/import", status_code=HTTP_303_SEE_OTHER,
          request_max_body_size=BODY_LIMIT)
    async def import_registrations(self, request: AnyRequest, db_session: DbSession,
                                   settings: SettingsDep, account: CurrentAccount,
                                   event_id: IdParam) -> Response[Any]:
        """"Check the file" (`step=check`) or "Import" (`step=import`): checked each time."""
        event = await event_for(db_session, account, event_id, editing=True)
        form = await request.form()
        consent = text(form, "consent", 3) == "yes"
        data = await _read_file(form)
        errors: dict[str, str] = {}
        if data is None:
            errors["file"] = _("Choose the CSV file to import.")
        if not consent:
            errors["consent"] = _(CONSENT_MISSING)
        if errors or data is None:
            return self._page(request, event, account, errors=errors, consent=consent,
                              status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        rows, problems = importing.read_rows(data, language=event.default_language)
        # A country the forms' list knows (the domain takes any two letters).
        unknown = [importing.RowProblem(row.line, "country", _(UNKNOWN_COUNTRY))
                   for row in rows if row.form.country
                   and row.form.country.strip().upper() not in COUNTRY_NAMES]
        problems = importing.merged(problems, unknown,
                                    await importing.check_rows(db_session, event, rows))
        if problems:
            return self._refused(request, event, account, problems, consent)
        if text(form, "step", 10) == "import":
            return await self._import(request, db_session, settings, account, event, rows)
        return self._page(request, event, account, people=rows, checked=data, consent=True)

    def _refused(self, request: AnyRequest, event: Event, account: CurrentAccount,
                 problems: list[importing.RowProblem], consent: bool) -> Response[Any]:
        message = ngettext("The file has a problem: correct it in the file, then choose it "
                           "again.",
                           "The file has %(count)s problems: correct them in the file, then "
                           "choose it again.", len(problems)) % {"count": len(problems)}
        return self._page(request, event, account, errors={"file": message},
                          problems=problems, consent=consent,
                          status_code=HTTP_422_UNPROCESSABLE_ENTITY)

    async def _import(self, request: AnyRequest, db: DbSession, settings: Settings,
                      account: CurrentAccount, event: Event, rows: list[importing.ImportRow]
                      ) -> Response[Any]:
        try:
            outcomes = await importing.import_rows(db, event, rows, now=utc_now(),
                                                   settings=settings)
        except DomainError as refused:
            # The event's own reasons (cancelled, over), or someone registered meanwhile.
            await db.rollback()
            event = await event_for(db, account, event.id, editing=True)
            return self._page(request, event, account, consent=True,
                              errors={problem.field if problem.field == "file" else FORM_LEVEL:
                                      problem.message for problem in refused.errors},
                              status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        for outcome in outcomes:
            # Filed like the organisers' one by one: the audit log hears of each here.
            await audit.record_created(db, outcome.registration)
        confirmed = sum(1 for o in outcomes
                        if o.registration.status == RegistrationStatus.CONFIRMED)
        return Redirect(f"{BACKOFFICE_PATH}/events/{event.id}/registrations/import"
                        f"?confirmed={confirmed}&waiting={len(outcomes) - confirmed}",
                        status_code=HTTP_303_SEE_OTHER)

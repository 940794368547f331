"""Copying an event in the back office: a form with the copy's title, address and first
day (the same weekday a year later, offered first), and whether its speakers come along;
saving makes a new draft (`programme.copy_event`) and opens it.

Needs an editor of the event; the copy is in the event's team.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_ENTITY

from service.clock import utc_now
from service.db.models import Event
from service.domain import programme
from service.domain.errors import ConflictError, InvalidInputError, NotFoundError
from service.domain.wording import date_text
from service.i18n import gettext as _
from service.web.backoffice.event_pages import event_for
from service.web.backoffice.events import missing_page
from service.web.backoffice.forms import field_errors, text
from service.web.backoffice.guards import (
    BACKOFFICE_PATH,
    CurrentAccount,
    require_account,
    require_editor,
)
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam, SettingsDep

# The order of the form's fields (and of its error summary).
_FIELDS = ("title", "slug", "first_day")


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


class EventCopyController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False
    exception_handlers = {NotFoundError: missing_page}

    async def _page(self, request: AnyRequest, event: Event, values: dict[str, str],
                    errors: dict[str, str], status_code: int = 200) -> Response[Any]:
        first = programme.first_session_day(event)
        return organiser_page(request, "event_copy.html", {
            "title": _("Copy %(title)s") % {"title": event.title}, "nav": "events",
            "event": event, "values": values,
            "errors": {name: errors[name] for name in (*_FIELDS, *errors) if name in errors},
            "first_day_text": date_text(first) if first else "",
            "has_speakers": any(item.speakers for session in event.sessions
                                for item in session.agenda_items),
            "timezone": event.timezone,
        }, status_code=status_code)

    @get("/events/{event_id:int}/copy", guards=[require_editor])
    async def copy_form(self, request: AnyRequest, db_session: DbSession,
                        account: CurrentAccount, event_id: IdParam) -> Response[Any]:
        event = await event_for(db_session, account, event_id, editing=True)
        proposed = programme.proposed_copy(event)
        return await self._page(request, event, {
            "title": proposed.title, "slug": "",
            "first_day": proposed.first_day.isoformat() if proposed.first_day else ""}, {})

    @post("/events/{event_id:int}/copy", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def copy_event(self, request: AnyRequest, db_session: DbSession,
                         settings: SettingsDep, account: CurrentAccount,
                         event_id: IdParam) -> Response[Any]:
        """A new draft from the event; every problem with the form at once."""
        event = await event_for(db_session, account, event_id, editing=True)
        form: FormMultiDict = await request.form()
        values = {"title": text(form, "title", 301), "slug": text(form, "slug", 121),
                  "first_day": text(form, "first_day", 40),
                  "keeps_speakers": "yes" if text(form, "keeps_speakers", 8) else ""}
        first_day = _day(values["first_day"])
        errors: dict[str, str] = {}
        try:
            copy = await programme.copy_event(db_session, event.id, programme.EventCopy(
                title=values["title"], slug=values["slug"], first_day=first_day,
                keeps_speakers=bool(values["keeps_speakers"])), now=utc_now(),
                settings=settings)
        except (InvalidInputError, ConflictError) as refused:
            errors = field_errors(refused)
        if values["first_day"] and first_day is None:
            errors["first_day"] = _("Give the day as a date, such as 2027-11-08.")
        if errors:
            await db_session.rollback()
            event = await programme.get_event(db_session, event_id)
            return await self._page(request, event, values, errors,
                                    status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        return Redirect(f"{BACKOFFICE_PATH}/events/{copy.id}?done=copied",
                        status_code=HTTP_303_SEE_OTHER)

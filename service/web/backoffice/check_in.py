"""Checking people in at the door of an event with a place to come to (a seminar, a study
visit, a Meet-your-Buyer day): everyone registered, by name, found by a search without
script, each checked in (or the check-in taken back) with one button; how many came.

Reading needs an account that sees the event; checking in needs an editor of it. A
Meet-your-Buyer event's page carries its consultation's navigation, whose report lists who
came.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_ENTITY

from service.clock import utc_now
from service.db.models import EventKind
from service.domain import registration
from service.domain.errors import InvalidInputError
from service.domain.wording import ORGANISATION_KIND_LABELS, STATUS_LABELS
from service.i18n import N_
from service.i18n import gettext as _
from service.web.backoffice.event_pages import event_for, heading, local_and_utc
from service.web.backoffice.forms import field_errors, text
from service.web.backoffice.guards import (
    BACKOFFICE_PATH,
    CurrentAccount,
    require_account,
    require_editor,
)
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam

DONE = {"checked-in": N_("Checked in."), "checked-out": N_("Check-in taken back.")}
SEARCH_LIMIT = 200


def _page_url(event_id: int, *, search: str = "", done: str = "") -> str:
    query = urlencode({key: value for key, value in (("q", search), ("done", done)) if value})
    return f"{BACKOFFICE_PATH}/events/{event_id}/check-in" + (f"?{query}" if query else "")


class CheckInController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False

    @get("/events/{event_id:int}/check-in")
    async def show_check_in(
        self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
        event_id: IdParam, q: Annotated[str, QueryParameter(max_length=SEARCH_LIMIT)] = "",
        done: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Response[Any]:
        event = await event_for(db_session, account, event_id)
        errors: dict[str, str] = {}
        try:
            people = await registration.attendance_list(db_session, event.id, search=q)
        except InvalidInputError as refused:
            errors = field_errors(refused)
            people = await registration.attendance_list(db_session, event.id)
        attended, total = await registration.attendance_counts(db_session, event.id)
        return organiser_page(request, "check_in.html", {
            "title": _("Check-in: %(title)s") % {"title": event.title}, "nav": "events",
            "event": heading(event, account), "section": "check-in",
            "is_meet_your_buyer": event.kind == EventKind.MEET_YOUR_BUYER,
            "is_in_person": registration.has_a_place_to_come_to(event),
            # Each person, their organisation's kind, their registration's state, when
            # they were checked in, and whether they may be (not once cancelled or declined).
            "people": [(r, _(ORGANISATION_KIND_LABELS[r.organisation_kind])
                        if r.organisation_kind is not None else "",
                        _(STATUS_LABELS[r.status]),
                        local_and_utc(r.checked_in_at, event.timezone)[0],
                        r.status in registration.ATTENDEE_STATUSES) for r in people],
            "attended": attended, "total": total, "search": q.strip(), "values": {"q": q},
            "errors": errors, "done": _(DONE[done]) if done in DONE else None,
        }, status_code=HTTP_422_UNPROCESSABLE_ENTITY if errors else 200)

    @post("/events/{event_id:int}/check-in/{registration_id:int}", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def check_in(self, request: AnyRequest, db_session: DbSession,
                       account: CurrentAccount, event_id: IdParam,
                       registration_id: IdParam) -> Response[Any]:
        """Check one person in ("present": "yes") or take it back ("no"); back to the list
        as it was searched, at their line."""
        event = await event_for(db_session, account, event_id, editing=True)
        form = await request.form()
        present = text(form, "present") != "no"
        await registration.check_in(db_session, event.id, registration_id, present=present,
                                    now=utc_now())
        url = _page_url(event.id, search=text(form, "q", SEARCH_LIMIT),
                        done="checked-in" if present else "checked-out")
        return Redirect(f"{url}#registration-{registration_id}", status_code=HTTP_303_SEE_OTHER)

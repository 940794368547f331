"""Checking people in at the door of an event with a place to come to (a seminar, a study
visit, a Meet-your-Buyer day), session by session (each day of a multi-day event has its
own list; today's opens first): everyone with a place, by name, found by a search without
script, each checked in (or the check-in taken back) with one button; how many came.

Reading needs an account that sees the event; checking in needs an editor of it. A
Meet-your-Buyer event's page carries its consultation's navigation, whose report lists who
came.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_ENTITY

from service.clock import utc_now
from service.db.models import Event, EventKind, Session
from service.domain import registration
from service.domain.errors import InvalidInputError, NotFoundError
from service.domain.wording import ORGANISATION_KIND_LABELS, STATUS_LABELS, short_date_text
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
from service.web.params import DbSession, IdParam, OptionalIdQuery

DONE = {"checked-in": N_("Checked in."), "checked-out": N_("Check-in taken back.")}
SEARCH_LIMIT = 200


def _page_url(event_id: int, *, session_id: int | None = None, search: str = "",
              done: str = "") -> str:
    query = urlencode({key: value for key, value in (
        ("session", str(session_id or "")), ("q", search), ("done", done)) if value})
    return f"{BACKOFFICE_PATH}/events/{event_id}/check-in" + (f"?{query}" if query else "")


def door_label(session: Session, event: Event) -> str:
    """"Day 1 (Mon 15 May 2028)": which door, and on which day."""
    day = session.starts_at.astimezone(ZoneInfo(event.timezone)).date()
    return f"{session.title} ({short_date_text(day)} {day.year})"


def _named_door(event: Event, door: Session | None) -> int | None:
    """The session a page's address names: only where the event has several doors."""
    return door.id if door is not None and len(registration.door_sessions(event)) > 1 else None


def check_in_url(event: Event, door: Session | None, *, search: str = "", done: str = "") -> str:
    """A session's check-in list (as searched, with what was just done)."""
    return _page_url(event.id, session_id=_named_door(event, door), search=search, done=done)


def chosen_door(event: Event, session_id: int | None) -> Session | None:
    """The session asked for (404 when the event has no such door), or the one under way."""
    doors = registration.door_sessions(event)
    if session_id is None:
        return registration.session_at_the_door(event, utc_now())
    for session in doors:
        if session.id == session_id:
            return session
    raise NotFoundError(_("This event has no such session."), "session")


class CheckInController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False

    @get("/events/{event_id:int}/check-in")
    async def show_check_in(
        self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
        event_id: IdParam, q: Annotated[str, QueryParameter(max_length=SEARCH_LIMIT)] = "",
        session: OptionalIdQuery = None,
        done: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Response[Any]:
        event = await event_for(db_session, account, event_id)
        door = chosen_door(event, session)
        errors: dict[str, str] = {}
        people: list[registration.Arrival] = []
        attended = total = 0
        if door is not None:
            try:
                people = await registration.door_list(db_session, door.id, search=q)
            except InvalidInputError as refused:
                errors = field_errors(refused)
                people = await registration.door_list(db_session, door.id)
            attended, total = await registration.door_counts(db_session, door.id)
        doors = registration.door_sessions(event)
        return organiser_page(request, "check_in.html", {
            "title": _("Check-in: %(title)s") % {"title": event.title}, "nav": "events",
            "event": heading(event, account), "section": "check-in",
            "is_meet_your_buyer": event.kind == EventKind.MEET_YOUR_BUYER,
            "is_in_person": registration.has_a_place_to_come_to(event),
            # Each door to choose from (when there are several): its link, label, whether
            # it is the one shown.
            "doors": [(_page_url(event.id, session_id=s.id), door_label(s, event),
                       door is not None and s.id == door.id) for s in doors]
            if len(doors) > 1 else [],
            "door": door, "door_label": door_label(door, event) if door else "",
            # Each person, their organisation's kind, their registration's state, when
            # they were checked in at this door, and whether they are expected there.
            "people": [(a.registration, _(ORGANISATION_KIND_LABELS[a.registration.organisation_kind])
                        if a.registration.organisation_kind is not None else "",
                        _(STATUS_LABELS[a.registration.status]),
                        local_and_utc(a.checked_in_at, event.timezone)[0],
                        a.is_expected) for a in people],
            "attended": attended, "total": total, "search": q.strip(), "values": {"q": q},
            "page_url": check_in_url(event, door),
            "errors": errors, "done": _(DONE[done]) if done in DONE else None,
        }, status_code=HTTP_422_UNPROCESSABLE_ENTITY if errors else 200)

    @post("/events/{event_id:int}/check-in/{registration_id:int}", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def check_in(self, request: AnyRequest, db_session: DbSession,
                       account: CurrentAccount, event_id: IdParam,
                       registration_id: IdParam) -> Response[Any]:
        """Check one person in at a session's door ("present": "yes") or take it back
        ("no"); back to that session's list as it was searched, at their line."""
        event = await event_for(db_session, account, event_id, editing=True)
        form = await request.form()
        present = text(form, "present") != "no"
        chosen = text(form, "session_id", 10)
        door = chosen_door(event, int(chosen) if chosen.isdigit() else None)
        await registration.check_in(db_session, event, registration_id,
                                    session_id=door.id if door else None, present=present,
                                    now=utc_now())
        url = check_in_url(event, door, search=text(form, "q", SEARCH_LIMIT),
                           done="checked-in" if present else "checked-out")
        return Redirect(f"{url}#registration-{registration_id}", status_code=HTTP_303_SEE_OTHER)

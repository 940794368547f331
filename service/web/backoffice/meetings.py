"""A Meet-your-Buyer event's one-to-one meetings in the back office.

Pages under /organiser/events/{event_id}/meetings: the schedule as a grid (rows the slots,
columns the tables) with "Schedule all", lock and unlock, move, cancel and "held"; the grid
editor; the hosts and their availability; the suppliers' requests to accept or decline.
The objects acted on (a meeting, a request, a host) travel as form fields, never in the
path: the guard's team check is the event's, and the domain finds each object only within
that event (another event's id is a 404). Viewers read; editing needs an editor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Controller, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from service.clock import utc_now
from service.db.models import Event, EventKind, MeetingRequestStatus
from service.domain import programme
from service.domain.accounts import SignedInAccount, can_edit_event
from service.domain.consultation import meetings
from service.domain.errors import ConflictError, DomainError, InvalidInputError
from service.domain.times import in_zone
from service.domain.wording import period_text
from service.i18n import N_
from service.i18n import gettext as _
from service.web.backoffice.forms import field_errors, refusal_status, text
from service.web.backoffice.guards import BACKOFFICE_PATH, CurrentAccount, require_account, require_editor
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.backoffice.speakers import visible_event
from service.web.params import DbSession, IdParam, SettingsDep

# A list box is read one past what the domain takes: a longer list is refused by name.
LIST_LIMIT = meetings.MAX_LIST_TEXT + 1
DONE = {
    "grid": N_("The meeting grid is saved."),
    "host": N_("The host is added."),
    "availability": N_("The host's availability is saved."),
    "decided": N_("The request is answered."),
    "scheduled": N_("Schedule all has run: new meetings, moves and cancellations are emailed."),
    "locked": N_("The meeting is locked: Schedule all leaves it where it is."),
    "unlocked": N_("The meeting is unlocked."),
    "moved": N_("The meeting is moved; both people are sent the update."),
    "cancelled": N_("The meeting is cancelled; both people are sent the cancellation."),
    "held": N_("The meeting is recorded as held."),
}
STATUS_LABELS = {"pending": N_("Waiting for the host"), "accepted": N_("Accepted"),
                 "declined": N_("Declined"), "withdrawn": N_("Withdrawn")}


def _done(request: AnyRequest) -> str | None:
    """The `?done=` note in the language in force."""
    note = DONE.get(request.query_params.get("done") or "")
    return _(note) if note else None


def _url(event_id: int, page: str = "", done: str | None = None) -> str:
    suffix = f"/{page}" if page else ""
    return f"{BACKOFFICE_PATH}/events/{event_id}/meetings{suffix}" + (f"?done={done}" if done else "")


def _number(form: FormMultiDict, name: str) -> int:
    raw = text(form, name, 12)
    if not raw.isdigit():
        raise InvalidInputError(_("Choose one."), name)
    return int(raw)


async def _meeting_event(db: DbSession, account: SignedInAccount, event_id: int, *,
                         editing: bool = False) -> Event:
    event = await visible_event(db, account, event_id, editing=editing)
    if event.kind != EventKind.MEET_YOUR_BUYER:
        raise ConflictError(_("Only Meet-your-Buyer events have one-to-one meetings."), "event_id")
    return event


def _grid_values(form: FormMultiDict | None, saved: Mapping[str, Any]) -> dict[str, str]:
    if form is None:
        return dict(saved)
    return {name: text(form, name, LIST_LIMIT) for name in
            ("meeting_minutes", "gap_minutes", "days", "breaks", "tables")} | {
        "accepts_automatically": "on" if form.get("accepts_automatically") else "",
        "suppliers_pick_slots": "on" if form.get("suppliers_pick_slots") else ""}


class MeetingsController(Controller):
    path = BACKOFFICE_PATH + "/events/{event_id:int}/meetings"
    include_in_schema = False

    async def _schedule_page(self, request: AnyRequest, db: DbSession, account: SignedInAccount,
                             event: Event, *, errors: dict[str, str] | None = None,
                             status_code: int = 200) -> Response[Any]:
        slots = await meetings.grid_slots(db, event.id)
        tables = await meetings.tables_of(db, event.id)
        views = await meetings.meeting_views(db, event.id, live_only=True)
        cells = {(v.slot_id, v.table_id): v for v in views}
        requests = await meetings.requests_of(db, event.id)
        placed = {v.request_id for v in views}
        unplaced = [r for r in requests if r.status == MeetingRequestStatus.ACCEPTED and r.id not in placed]
        return organiser_page(request, "meetings.html", {
            "title": _("One-to-one meetings: %(title)s") % {"title": event.title}, "nav": "events",
            "event": event,
            "section": "schedule", "slots": [(s, period_text(s.starts_at, s.ends_at, event.timezone))
                                              for s in slots],
            "tables": tables, "cells": cells, "unplaced": len(unplaced),
            "slot_choices": [(s.id, f"{in_zone(s.starts_at, event.timezone).local:%a %d %b %H:%M}")
                             for s in slots],
            "message": _done(request), "errors": errors or {},
            "can_edit": can_edit_event(account, event), "grid": await meetings.get_grid(db, event.id),
        }, status_code=status_code)

    @get("/", guards=[require_account])
    async def schedule(self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
                       event_id: IdParam) -> Response[Any]:
        event = await _meeting_event(db_session, account, event_id)
        return await self._schedule_page(request, db_session, account, event)

    async def _act(self, request: AnyRequest, db: DbSession, account: SignedInAccount,
                   event_id: int, action: Any, done: str) -> Response[Any]:
        """Run one change; a refusal shows the schedule again with its reason."""
        event = await _meeting_event(db, account, event_id, editing=True)
        try:
            await action(await request.form())
        except DomainError as error:
            await db.rollback()
            event = await programme.get_event(db, event_id)
            return await self._schedule_page(request, db, account, event, errors=field_errors(error),
                                             status_code=refusal_status(error))
        return Redirect(_url(event.id, done=done), status_code=HTTP_303_SEE_OTHER)

    @post("/schedule-all", guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def schedule_all(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                           account: CurrentAccount, event_id: IdParam) -> Response[Any]:
        async def run(form: FormMultiDict) -> None:
            await meetings.schedule_all_meetings(db_session, event_id, now=utc_now(), settings=settings)
        return await self._act(request, db_session, account, event_id, run, "scheduled")

    @post("/lock", guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def lock(self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
                   event_id: IdParam) -> Response[Any]:
        locking = text(await request.form(), "locked") == "1"

        async def run(form: FormMultiDict) -> None:
            await meetings.set_locked(db_session, event_id, _number(form, "meeting_id"), locking,
                                      now=utc_now())
        return await self._act(request, db_session, account, event_id, run,
                               "locked" if locking else "unlocked")

    @post("/move", guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def move(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                   account: CurrentAccount, event_id: IdParam) -> Response[Any]:
        async def run(form: FormMultiDict) -> None:
            table = text(form, "table_id", 12)
            await meetings.move_meeting(
                db_session, event_id, _number(form, "meeting_id"), _number(form, "slot_id"),
                int(table) if table.isdigit() else None, now=utc_now(), settings=settings)
        return await self._act(request, db_session, account, event_id, run, "moved")

    @post("/cancel", guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def cancel(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                     account: CurrentAccount, event_id: IdParam) -> Response[Any]:
        async def run(form: FormMultiDict) -> None:
            await meetings.cancel_meeting(db_session, event_id, _number(form, "meeting_id"),
                                          now=utc_now(), settings=settings)
        return await self._act(request, db_session, account, event_id, run, "cancelled")

    @post("/held", guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def held(self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
                   event_id: IdParam) -> Response[Any]:
        async def run(form: FormMultiDict) -> None:
            await meetings.mark_held(db_session, event_id, _number(form, "meeting_id"), now=utc_now())
        return await self._act(request, db_session, account, event_id, run, "held")

    # -- the grid --

    async def _grid_page(self, request: AnyRequest, db: DbSession, account: SignedInAccount,
                         event: Event, *, form: FormMultiDict | None = None,
                         errors: dict[str, str] | None = None, status_code: int = 200) -> Response[Any]:
        grid = await meetings.get_grid(db, event.id)
        # No grid yet: the usual lengths, nothing else chosen.
        saved: dict[str, str] = {"meeting_minutes": "20", "gap_minutes": "5", "days": "", "breaks": "",
                                 "tables": "", "accepts_automatically": "",
                                 "suppliers_pick_slots": ""}
        if grid is not None:
            saved = {
                "meeting_minutes": str(grid.meeting_minutes), "gap_minutes": str(grid.gap_minutes),
                "days": "\n".join(await meetings.grid_text(db, event, "days")),
                "breaks": "\n".join(await meetings.grid_text(db, event, "breaks")),
                "tables": "\n".join(t.name + (f" {t.join_url}" if t.join_url else "")
                                    for t in await meetings.tables_of(db, event.id)),
                "accepts_automatically": "on" if grid.accepts_automatically else "",
                "suppliers_pick_slots": "on" if grid.suppliers_pick_slots else ""}
        return organiser_page(request, "meetings_grid.html", {
            "title": _("Meeting grid: %(title)s") % {"title": event.title}, "nav": "events", "event": event,
            "section": "grid", "values": _grid_values(form, saved), "errors": errors or {},
            "message": _done(request),
            "can_edit": can_edit_event(account, event)}, status_code=status_code)

    @get("/grid", guards=[require_account])
    async def grid(self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
                   event_id: IdParam) -> Response[Any]:
        event = await _meeting_event(db_session, account, event_id)
        return await self._grid_page(request, db_session, account, event)

    @post("/grid", guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def save_grid(self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
                        event_id: IdParam) -> Response[Any]:
        event = await _meeting_event(db_session, account, event_id, editing=True)
        form = await request.form()
        try:
            minutes = {}
            for name in ("meeting_minutes", "gap_minutes"):
                raw = text(form, name, 6)
                if not raw.isdigit():
                    raise InvalidInputError(_("Give a whole number of minutes."), name)
                minutes[name] = int(raw)
            data = meetings.GridInput(
                meeting_minutes=minutes["meeting_minutes"], gap_minutes=minutes["gap_minutes"],
                days=meetings.parse_periods(text(form, "days", LIST_LIMIT), "days"),
                breaks=meetings.parse_breaks(text(form, "breaks", LIST_LIMIT)),
                tables=meetings.parse_tables(text(form, "tables", LIST_LIMIT)),
                accepts_automatically=bool(form.get("accepts_automatically")),
                suppliers_pick_slots=bool(form.get("suppliers_pick_slots")))
            await meetings.save_grid(db_session, event_id, data, now=utc_now())
        except DomainError as error:
            await db_session.rollback()
            event = await programme.get_event(db_session, event_id)
            return await self._grid_page(request, db_session, account, event, form=form,
                                         errors=field_errors(error), status_code=refusal_status(error))
        return Redirect(_url(event.id, "grid", "grid"), status_code=HTTP_303_SEE_OTHER)

    # -- hosts --

    async def _hosts_page(self, request: AnyRequest, db: DbSession, account: SignedInAccount,
                          event: Event, *, errors: dict[str, str] | None = None,
                          status_code: int = 200, sent: Mapping[str, str] | None = None) -> Response[Any]:
        hosts = await meetings.hosts_of(db, event.id)
        availability = await meetings.availability_of(db, [h.id for h in hosts])
        people = await meetings.host_candidates(db, event) if can_edit_event(account, event) else []
        known = {h.person_id for h in hosts}
        return organiser_page(request, "meetings_hosts.html", {
            "title": _("Hosts: %(title)s") % {"title": event.title}, "nav": "events", "event": event,
            "section": "hosts",
            "hosts": [(h, "\n".join(meetings.period_line(s, e, event.timezone)
                                    for s, e in availability[h.id])) for h in hosts],
            "people": [(str(p.id), p.name + (f" ({p.organisation.name})" if p.organisation else ""))
                       for p in people if p.id not in known],
            "errors": errors or {}, "sent": dict(sent or {}),
            "message": _done(request),
            "can_edit": can_edit_event(account, event)}, status_code=status_code)

    @get("/hosts", guards=[require_account])
    async def hosts(self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
                    event_id: IdParam) -> Response[Any]:
        event = await _meeting_event(db_session, account, event_id)
        return await self._hosts_page(request, db_session, account, event)

    async def _hosts_act(self, request: AnyRequest, db: DbSession, account: SignedInAccount,
                         event_id: int, action: Any, done: str) -> Response[Any]:
        event = await _meeting_event(db, account, event_id, editing=True)
        form = await request.form()
        try:
            await action(form)
        except DomainError as error:
            await db.rollback()
            event = await programme.get_event(db, event_id)
            return await self._hosts_page(request, db, account, event, errors=field_errors(error),
                                          status_code=refusal_status(error),
                                          sent={"availability": text(form, "availability", LIST_LIMIT),
                                                "host_id": text(form, "host_id", 12)})
        return Redirect(_url(event.id, "hosts", done), status_code=HTTP_303_SEE_OTHER)

    @post("/hosts", guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def add_host(self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
                       event_id: IdParam) -> Response[Any]:
        async def run(form: FormMultiDict) -> None:
            await meetings.add_host(db_session, event_id, _number(form, "person_id"), now=utc_now())
        return await self._hosts_act(request, db_session, account, event_id, run, "host")

    @post("/hosts/availability", guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def availability(self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
                           event_id: IdParam) -> Response[Any]:
        async def run(form: FormMultiDict) -> None:
            await meetings.set_availability(
                db_session, event_id, _number(form, "host_id"),
                meetings.parse_periods(text(form, "availability", LIST_LIMIT), "availability"), now=utc_now())
        return await self._hosts_act(request, db_session, account, event_id, run, "availability")

    # -- requests --

    @get("/requests", guards=[require_account])
    async def requests(self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
                       event_id: IdParam) -> Response[Any]:
        event = await _meeting_event(db_session, account, event_id)
        return await self._requests_page(request, db_session, account, event)

    async def _requests_page(self, request: AnyRequest, db: DbSession, account: SignedInAccount,
                             event: Event, *, errors: dict[str, str] | None = None,
                             status_code: int = 200) -> Response[Any]:
        rows = await meetings.request_rows(db, event.id)
        return organiser_page(request, "meetings_requests.html", {
            "title": _("Meeting requests: %(title)s") % {"title": event.title}, "nav": "events",
            "event": event,
            "section": "requests", "rows": rows,
            "status_labels": {key: _(label) for key, label in STATUS_LABELS.items()},
            "errors": errors or {}, "message": _done(request),
            "can_edit": can_edit_event(account, event)}, status_code=status_code)

    @post("/requests/decide", guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def decide(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                     account: CurrentAccount, event_id: IdParam) -> Response[Any]:
        event = await _meeting_event(db_session, account, event_id, editing=True)
        form = await request.form()
        try:
            await meetings.decide_request(db_session, event_id, _number(form, "request_id"),
                                          accept=text(form, "decision") == "accept", now=utc_now(),
                                          settings=settings)
        except DomainError as error:
            await db_session.rollback()
            event = await programme.get_event(db_session, event_id)
            return await self._requests_page(request, db_session, account, event,
                                             errors=field_errors(error), status_code=refusal_status(error))
        return Redirect(_url(event.id, "requests", "decided"), status_code=HTTP_303_SEE_OTHER)


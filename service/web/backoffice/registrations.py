"""Registrations in the back office: an event's (or a session's) list with filter, search,
sort and pages; approving or declining one or many with a message; the waiting list in
order with promotion; a registration's page, where organisers correct details or cancel on
the registrant's behalf; the CSV of the current filter.

Everything a list shows is in its GET query (`status`, `session`, `q`, `sort`, `order`,
`page`), so it works without JavaScript, can be bookmarked, and the CSV link exports what
is on screen. A query that cannot be read is answered 400 naming the parameter. Handlers
translate: the rules and emails are the domain's (`service.domain.registration`).
Reading needs an account that may see the event (another team's event is a 404); changes
need an editor of the event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_400_BAD_REQUEST,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
)
from msgspec import UNSET

from service.clock import utc_now
from service.db.models import (
    Attendance,
    EnrolmentStatus,
    Event,
    EventKind,
    OrganisationKind,
    Registration,
    RegistrationStatus,
    SessionMode,
)
from service.domain import programme, registration, wording
from service.domain.accounts import SignedInAccount, can_edit_event, can_see_event
from service.domain.errors import ConflictError, DomainError, InvalidInputError, NotFoundError
from service.domain.registration import (
    MAX_NOTE,
    Decision,
    RegistrationPage,
    RegistrationQuery,
    RegistrationSort,
)
from service.i18n import LANGUAGE_NAMES, LANGUAGES, N_
from service.i18n import gettext as _
from service.web.api_registration import record_csv_export, registrations_csv
from service.web.backoffice.emails import STATUS_LABELS as EMAIL_STATUS_LABELS
from service.web.backoffice.emails import template_label
from service.web.backoffice.forms import other_languages, refusal_status, translations_typed
from service.web.backoffice.guards import (
    BACKOFFICE_PATH,
    BackofficeForbidden,
    CurrentAccount,
    require_account,
    require_editor,
)
from service.web.backoffice.htmx import (
    VARY_HX_REQUEST,
    OrganiserRequest,
    organiser_part,
    wants_part,
)
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam, SettingsDep

PAGE_SIZE = 50
MAX_QUERY_PAGE = 1_000_000
MAX_SELECTED = 500
SORT_LABELS = {RegistrationSort.NAME: N_("Name"), RegistrationSort.ORGANISATION: N_("Organisation"),
               RegistrationSort.REGISTERED_AT: N_("Registered"),
               RegistrationSort.STATUS: N_("Status")}
# Marked with N_: translated where shown, `_(STATUS_LABELS[status])`.
STATUS_LABELS = {
    RegistrationStatus.PENDING: N_("Pending approval"),
    RegistrationStatus.CONFIRMED: N_("Confirmed"),
    RegistrationStatus.WAITING: N_("Waiting list"),
    RegistrationStatus.DECLINED: N_("Declined"),
    RegistrationStatus.CANCELLED: N_("Cancelled"),
    RegistrationStatus.UNCONFIRMED: N_("Address not confirmed"),
}
# What the page's form fields are called, in the order of the form (the error summary's).
DETAIL_FIELDS = ("name", "organisation_name", "job_title", "sector", "offer_note",
                 "attendance", "access_note")
DECISION_FIELDS = ("registration_ids", "message", *(f"message_{code}" for code in LANGUAGES))


def when_text(instant: datetime | None, zone: str) -> str:
    """"9 Nov 2026, 10:05" in the event's zone (no locale involved)."""
    if instant is None:
        return ""
    local = instant.astimezone(ZoneInfo(zone))
    return f"{local.day} {wording.month_name(local.month)[:3]} {local.year}, {local:%H:%M}"


# --- the list's query ---------------------------------------------------------------------


class BadQuery(Exception):
    """A list query that cannot be read: answered 400 with every problem named."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = dict(problems)


@dataclass(frozen=True)
class ListState:
    """The list as asked for in the query string: what it filters, how it sorts, which page."""

    status: RegistrationStatus | None = None
    session_id: int | None = None
    search: str = ""
    sort: RegistrationSort = RegistrationSort.REGISTERED_AT
    descending: bool = False
    page: int = 1

    def query(self, event_id: int) -> RegistrationQuery:
        return RegistrationQuery(
            event_id=event_id, session_id=self.session_id,
            statuses=(self.status,) if self.status else (), search=self.search,
            sort=self.sort, descending=self.descending)

    def params(self, **changes: Any) -> dict[str, str]:
        """The query string's parameters for this state (defaults left out), changed."""
        values: dict[str, Any] = {
            "status": self.status.value if self.status else None,
            "session": self.session_id, "q": self.search or None,
            "sort": self.sort.value if self.sort != RegistrationSort.REGISTERED_AT else None,
            "order": "desc" if self.descending else None,
            "page": self.page if self.page != 1 else None,
        }
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v not in (None, "")}

    def link(self, base: str, **changes: Any) -> str:
        params = self.params(**changes)
        return f"{base}?{urlencode(params)}" if params else base


def _positive(value: str, name: str, problems: dict[str, str], maximum: int) -> int | None:
    if not value.isdigit() or not 1 <= int(value) <= maximum:
        problems[name] = _("Must be a whole number from 1 to %(maximum)s.") % {"maximum": maximum}
        return None
    return int(value)


def read_list_state(params: Mapping[str, str]) -> ListState:
    """The list's state from query parameters; BadQuery names every one it cannot read."""
    problems: dict[str, str] = {}
    status = None
    if raw := params.get("status", "").strip():
        try:
            status = RegistrationStatus(raw)
        except ValueError:
            problems["status"] = _("Must be one of: %(values)s") % {
                "values": ", ".join(s.value for s in STATUS_LABELS)}
    session_id = None
    if raw := params.get("session", "").strip():
        session_id = _positive(raw, "session", problems, 2_147_483_647)
    try:
        search = registration.listing.clean_search(params.get("q", ""))
    except InvalidInputError as error:
        problems["q"], search = error.message, ""
    sort = RegistrationSort.REGISTERED_AT
    if raw := params.get("sort", "").strip():
        try:
            sort = RegistrationSort(raw)
        except ValueError:
            problems["sort"] = _("Must be one of: %(values)s") % {
                "values": ", ".join(s.value for s in RegistrationSort)}
    order = params.get("order", "asc").strip() or "asc"
    if order not in ("asc", "desc"):
        problems["order"] = _("Must be asc or desc.")
    page = 1
    if raw := params.get("page", "").strip():
        page = _positive(raw, "page", problems, MAX_QUERY_PAGE) or 1
    if problems:
        raise BadQuery(problems)
    return ListState(status=status, session_id=session_id, search=search, sort=sort,
                     descending=order == "desc", page=page)


def _query_params(request: AnyRequest) -> dict[str, str]:
    """The query string's parameters; a repeated one is unreadable, not silently one of them."""
    params: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key in params:
            raise BadQuery({key: _("Give it once.")})
        params[key] = value
    return params


# --- the event and what an account may do with it ------------------------------------------


async def event_for(db: DbSession, account: SignedInAccount, event_id: int, *,
                    edit: bool = False) -> Event:
    """The event with its sessions, if the account may see it (else as unknown: 404), and
    change it when `edit` (else 403)."""
    event = await registration.get_event_outline(db, event_id)
    if not can_see_event(account, event):
        raise NotFoundError(_("No event with id %(id)s.") % {"id": event_id}, "event_id")
    if edit and not can_edit_event(account, event):
        raise BackofficeForbidden(_("Your account can look at this event but not change it."))
    return event


def _session_title(event: Event, session_id: int | None) -> str | None:
    if session_id is None:
        return None
    for session in event.sessions:
        if session.id == session_id:
            return session.title
    raise NotFoundError(_("No session %(id)s in this event.") % {"id": session_id}, "session")


def _base(event_id: int) -> str:
    return f"{BACKOFFICE_PATH}/events/{event_id}/registrations"


# --- views ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowView:
    id: int
    name: str
    email: str
    organisation: str
    status: str
    status_label: str
    session_status_label: str | None
    registered: str
    can_approve: bool
    can_decline: bool


def _row_views(page: RegistrationPage, zone: str) -> list[RowView]:
    return [
        RowView(
            id=row.id, name=row.name, email=row.email, organisation=row.organisation_name,
            status=row.status.value, status_label=_(STATUS_LABELS[row.status]),
            session_status_label=_(wording.ENROLMENT_LABELS[row.session_status])
            if row.session_status else None,
            registered=when_text(row.registered_at, zone),
            can_approve=row.status == RegistrationStatus.PENDING,
            can_decline=row.status in registration.ACTIVE_STATUSES,
        )
        for row in page.rows
    ]


def _sort_headers(state: ListState, base: str) -> list[dict[str, Any]]:
    """Each sortable column's link: the other direction when it is the current sort."""
    headers = []
    for sort, label in SORT_LABELS.items():
        current = state.sort == sort
        descending = not state.descending if current else False
        headers.append({
            "label": _(label), "current": current,
            "aria_sort": ("descending" if state.descending else "ascending") if current
            else None,
            "href": state.link(base, sort=sort.value if sort != RegistrationSort.REGISTERED_AT
                               else None, order="desc" if descending else None, page=None),
            "next_order": "descending" if descending else "ascending",
        })
    return headers


def _pagination(state: ListState, page: RegistrationPage, base: str) -> dict[str, Any]:
    def href(number: int) -> str:
        return state.link(base, page=number if number != 1 else None)
    return {
        "page": page.page, "pages": page.pages, "total": page.total,
        "first_number": page.first_number, "last_number": page.last_number,
        "first": href(1) if page.page > 1 else None,
        "previous": href(page.page - 1) if page.page > 1 else None,
        "next": href(page.page + 1) if page.page < page.pages else None,
        "last": href(page.pages) if page.page < page.pages else None,
    }


def _session_options(event: Event) -> list[tuple[str, str]]:
    sessions = sorted(event.sessions, key=lambda s: (s.starts_at, s.id))
    zone = ZoneInfo(event.timezone)
    return [(str(s.id), f"{s.title} ({wording.date_text(s.starts_at.astimezone(zone).date())})")
            for s in sessions]


# --- the controller -----------------------------------------------------------------------


def _problem_page(request: AnyRequest, status_code: int, title: str,
                  problems: Mapping[str, str], back: str | None = None) -> Response[str]:
    return organiser_page(request, "registrations_problem.html", {
        "title": title, "nav": "events", "problems": list(problems.items()),
        "back": back or f"{BACKOFFICE_PATH}/"}, status_code=status_code)


def _bad_query(request: AnyRequest, error: BadQuery) -> Response[str]:
    return _problem_page(request, HTTP_400_BAD_REQUEST, _("This list cannot be shown"),
                         error.problems, back=request.url.path)


def _not_found(request: AnyRequest, error: NotFoundError) -> Response[str]:
    return _problem_page(request, HTTP_404_NOT_FOUND, _("Not found"),
                         {error.field or "page": error.message})


def _domain_error(request: AnyRequest, error: DomainError) -> Response[str]:
    return _problem_page(request, refusal_status(error), _("Nothing was changed"),
                         {e.field or "form": e.message for e in error.errors})


class RegistrationsController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False
    exception_handlers = {BadQuery: _bad_query, NotFoundError: _not_found,
                          DomainError: _domain_error}
    request_class = OrganiserRequest

    async def _list_page(
        self, request: AnyRequest, db: DbSession, account: SignedInAccount, event: Event,
        state: ListState, *, errors: Mapping[str, str] | None = None,
        values: Mapping[str, str] | None = None, selected: Sequence[int] = (),
        outcome: Mapping[str, Any] | None = None, status_code: int = 200, part: bool = False,
    ) -> Response[str]:
        """The list's page, or (`part`, for a live filter) its results alone."""
        session_title = _session_title(event, state.session_id)
        counts = await registration.count_registrations_by_status(
            db, event.id, session_id=state.session_id)
        page = await registration.list_registration_page(
            db, state.query(event.id), page=state.page, page_size=PAGE_SIZE, counts=counts,
            check_session=False)
        base = _base(event.id)
        context = {
            "title": _("Registrations: %(title)s") % {"title": event.title}, "nav": "events",
            "tab": "list",
            "event": event, "base": base, "session_title": session_title,
            "state": state, "params": state.params(),
            "can_edit": can_edit_event(account, event),
            "rows": _row_views(page, event.timezone),
            "pagination": _pagination(state, page, base),
            "headers": _sort_headers(state, base),
            "status_options": [(s.value, f"{_(label)} ({counts[s]})")
                               for s, label in STATUS_LABELS.items()],
            "all_count": sum(n for s, n in counts.items() if s != RegistrationStatus.UNCONFIRMED),
            "session_options": _session_options(event),
            "csv_href": state.link(base + ".csv", page=None),
            "waiting_href": f"{base}/waiting"
            + (f"?session={state.session_id}" if state.session_id else ""),
            "back": urlencode(state.params()),
            "errors": dict(errors or {}), "values": dict(values or {}),
            "selected": set(selected), "outcome": outcome,
            "written_in": LANGUAGE_NAMES[event.default_language],
            "other_languages": other_languages(event), "max_note": MAX_NOTE,
            "translations_open": any(name.startswith("message_")
                                     for name in (*(values or {}), *(errors or {}))),
        }
        if part:
            return organiser_part(request, ("_registrations_results.html",), context,
                                  status_code=status_code)
        return organiser_page(request, "registrations.html", context, status_code=status_code,
                              headers=VARY_HX_REQUEST)

    @get("/events/{event_id:int}/registrations")
    async def list_registrations(
        self, request: OrganiserRequest, db_session: DbSession, account: CurrentAccount,
        event_id: IdParam,
    ) -> Response[str]:
        """An event's registrations, one page at a time, as the query string asks; a live
        filter (htmx) gets the results alone."""
        state = read_list_state(_query_params(request))
        event = await event_for(db_session, account, event_id)
        outcome = await self._outcome(request, db_session, event)
        return await self._list_page(request, db_session, account, event, state,
                                     outcome=outcome, part=wants_part(request))

    async def _outcome(self, request: AnyRequest, db: DbSession, event: Event
                       ) -> dict[str, Any] | None:
        """What the last decision did, from the redirect's query (`done`, `changed`,
        `skipped`): names and statuses as they stand, of this event's registrations only."""
        done = request.query_params.get("done")
        if done not in ("approve", "decline", "promote", "cancel", "details"):
            return None
        def ids(name: str) -> list[int]:
            raw = request.query_params.get(name, "")
            return [int(v) for v in raw.split(",") if v.isdigit()][:MAX_SELECTED]
        changed, skipped = ids("changed"), ids("skipped")
        found = {row.id: row for row in await registration.find_registration_rows(
            db, event.id, [*changed, *skipped])}
        return {
            "done": done,
            "changed": [found[i].name for i in changed if i in found],
            "skipped": [(found[i].name, _(STATUS_LABELS[found[i].status]).lower())
                        for i in skipped if i in found],
        }

    @get("/events/{event_id:int}/registrations.csv", media_type="text/csv")
    async def export_registrations(
        self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
        event_id: IdParam,
    ) -> Response[bytes]:
        """The current filter (every page of it) as CSV, in the list's order."""
        state = read_list_state(_query_params(request))
        event = await event_for(db_session, account, event_id)
        _session_title(event, state.session_id)
        rows, positions = await registration.list_registrations_to_export(
            db_session, state.query(event.id))
        await record_csv_export(db_session, event.id, len(rows), {
            "status": state.status, "session_id": state.session_id,
            # Whether a search narrowed it, not what was typed (a name, an address).
            "searched": "yes" if state.search else None})
        name = f"registrations-event-{event.id}"
        if state.session_id:
            name += f"-session-{state.session_id}"
        return Response(registrations_csv(rows, positions), media_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{name}.csv"',
            "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})

    @post("/events/{event_id:int}/registrations/decide", guards=[require_editor],
          status_code=303)
    async def decide(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
        account: CurrentAccount, event_id: IdParam,
    ) -> Response[Any]:
        """Approve or decline the chosen registrations (or the one whose button was
        pressed), the message going into each email; back to the same list."""
        form = await request.form()
        state = _back_state(form)
        event = await event_for(db_session, account, event_id, edit=True)
        message = _field(form, "message")
        translations = translations_typed(form, "message")
        errors: dict[str, str] = {}
        decision, ids = _decision_in(form, errors)
        if decision is None or errors:
            # Nothing to decide on yet: the message is still checked, so that every problem
            # of the form shows at once.
            try:
                registration.check_decision_message(message, translations,
                                                    event.default_language)
            except InvalidInputError as error:
                errors.update((problem.field or "message", problem.message)
                              for problem in error.errors)
        else:
            try:
                report = await registration.decide_registrations(
                    db_session, event.id, ids, decision, message=message,
                    translations=translations, now=utc_now(), settings=settings)
            except (InvalidInputError, NotFoundError) as error:
                for problem in error.errors:
                    errors.setdefault(problem.field if problem.field in DECISION_FIELDS
                                      else "registration_ids", problem.message)
            else:
                return Redirect(state.link(
                    _base(event.id), done=decision.value,
                    changed=",".join(str(r.id) for r in report.changed) or None,
                    skipped=",".join(str(r.id) for r, _ in report.skipped) or None),
                    status_code=HTTP_303_SEE_OTHER)
        await db_session.rollback()  # nothing of a refused decision stays
        errors = {name: errors[name] for name in DECISION_FIELDS if name in errors}
        event = await event_for(db_session, account, event_id, edit=True)
        return await self._list_page(
            request, db_session, account, event, state, errors=errors,
            values={"message": message, **{f"message_{code}": text
                                            for code, text in translations.items()}},
            selected=ids, status_code=HTTP_422_UNPROCESSABLE_ENTITY)

    # -- the waiting list --

    @get("/events/{event_id:int}/registrations/waiting")
    async def waiting_list(
        self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
        event_id: IdParam,
    ) -> Response[str]:
        """The event's (or a session's) waiting list, first in line first."""
        params = _query_params(request)
        state = read_list_state({"session": params.get("session", "")})
        event = await event_for(db_session, account, event_id)
        return await self._waiting_page(request, db_session, account, event, state.session_id,
                                        promoted=params.get("promoted"))

    async def _waiting_page(
        self, request: AnyRequest, db: DbSession, account: SignedInAccount, event: Event,
        session_id: int | None, *, promoted: str | None = None,
        errors: Mapping[str, str] | None = None, error_for: int | None = None,
        status_code: int = 200,
    ) -> Response[str]:
        session_title = _session_title(event, session_id)
        waiting = await registration.list_waiting(db, event.id, session_id=session_id)
        limited = next((s for s in event.sessions if s.id == session_id), None)
        capacity = event.capacity if session_id is None else (
            limited.capacity if limited else None)
        promoted_name = None
        if promoted and promoted.isdigit():
            rows = await registration.find_registration_rows(db, event.id, [int(promoted)])
            promoted_name = rows[0].name if rows else None
        base = _base(event.id)
        return organiser_page(request, "registrations_waiting.html", {
            "title": _("Waiting list: %(title)s") % {"title": event.title}, "nav": "events",
            "tab": "waiting",
            "event": event, "base": base, "session_id": session_id,
            "session_title": session_title, "capacity": capacity,
            "session_options": _session_options(event),
            "rows": [{"position": r.position, "id": r.id, "name": r.name, "email": r.email,
                      "organisation": r.organisation_name,
                      "since": when_text(r.waiting_since, event.timezone)} for r in waiting],
            "can_edit": can_edit_event(account, event),
            "list_href": base + (f"?session={session_id}" if session_id else ""),
            "promoted_name": promoted_name,
            "errors": dict(errors or {}), "error_for": error_for,
        }, status_code=status_code)

    @post("/events/{event_id:int}/registrations/{registration_id:int}/promote",
          guards=[require_editor], status_code=303)
    async def promote(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
        account: CurrentAccount, event_id: IdParam, registration_id: IdParam,
    ) -> Response[Any]:
        """Give this person a place ahead of the queue; a full event or session needs the
        organiser to tick "add a place" (see registration.organiser_actions)."""
        form = await request.form()
        event = await event_for(db_session, account, event_id, edit=True)
        session_id = read_list_state({"session": _field(form, "session")}).session_id
        _session_title(event, session_id)
        await _registration_in(db_session, event, registration_id)
        try:
            await registration.promote_from_waiting_list(
                db_session, registration_id, now=utc_now(), settings=settings,
                session_id=session_id, add_place=_field(form, "add_place") == "yes")
        except ConflictError as error:
            await db_session.rollback()
            event = await event_for(db_session, account, event_id, edit=True)
            return await self._waiting_page(
                request, db_session, account, event, session_id,
                errors={f"add_place-{registration_id}" if error.field == "add_place"
                        else "form": error.message},
                error_for=registration_id, status_code=HTTP_409_CONFLICT)
        query = {"promoted": registration_id, **({"session": session_id} if session_id else {})}
        return Redirect(f"{_base(event.id)}/waiting?{urlencode(query)}",
                        status_code=HTTP_303_SEE_OTHER)

    # -- one registration --

    @get("/events/{event_id:int}/registrations/{registration_id:int}")
    async def registration_page(
        self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
        event_id: IdParam, registration_id: IdParam,
    ) -> Response[str]:
        """Everything about one registration, its emails, and the form to correct it."""
        event = await event_for(db_session, account, event_id)
        reg = await _registration_in(db_session, event, registration_id)
        done = request.query_params.get("done")
        return await self._registration_page(request, db_session, account, reg,
                                             values=_detail_values(reg), done=done)

    async def _registration_page(
        self, request: AnyRequest, db: DbSession, account: SignedInAccount, reg: Registration,
        *, values: Mapping[str, str], errors: Mapping[str, str] | None = None,
        done: str | None = None, status_code: int = 200,
    ) -> Response[str]:
        event = reg.event
        zone = event.timezone
        emails = await registration.list_registration_emails(db, reg.id)
        sessions = sorted(reg.enrolments, key=lambda e: (e.session.starts_at, e.session_id))
        return organiser_page(request, "registration_detail.html", {
            "title": f"{reg.name}: {event.title}", "nav": "events", "event": event,
            "base": _base(event.id), "reg": reg,
            "status_label": _(STATUS_LABELS[reg.status]),
            "position": await registration.waiting_position(db, reg),
            "facts": _facts(reg, zone),
            "sessions": [(e.session.title, _(wording.ENROLMENT_LABELS[e.status]))
                         for e in sessions],
            "emails": [{"subject": e.subject or template_label(e.template),
                        "status": _(EMAIL_STATUS_LABELS[e.status.value]),
                        "attempts": e.attempts, "created": when_text(e.created_at, zone),
                        "sent": when_text(e.sent_at, zone)} for e in emails],
            "is_active": reg.status in registration.ACTIVE_STATUSES,
            "can_edit": can_edit_event(account, event),
            "fields": _detail_fields(reg),
            "values": dict(values), "errors": dict(errors or {}),
            "done": done if done in ("details", "cancel", "added", "added-place") else None,
        }, status_code=status_code)

    @post("/events/{event_id:int}/registrations/{registration_id:int}/details",
          guards=[require_editor], status_code=303)
    async def change_details(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
        account: CurrentAccount, event_id: IdParam, registration_id: IdParam,
    ) -> Response[Any]:
        """Correct a registrant's details on their behalf: the registrant's own rules,
        every error at once beside its field, nothing saved on error."""
        form = await request.form()
        event = await event_for(db_session, account, event_id, edit=True)
        reg = await _registration_in(db_session, event, registration_id)
        fields = _detail_fields(reg)
        values = {name: _field(form, name) for name in DETAIL_FIELDS}
        errors: dict[str, str] = {}
        attendance: Attendance | None = None
        if fields["attendance"] and values["attendance"]:
            try:
                attendance = Attendance(values["attendance"])
            except ValueError:
                errors["attendance"] = _("Choose in person or online.")
        changes = registration.DetailsChange(
            name=values["name"], organisation_name=values["organisation_name"],
            job_title=values["job_title"] or None,
            attendance=attendance if fields["attendance"] else UNSET,
            access_note=values["access_note"] or None if fields["in_person"] else UNSET,
            sector=values["sector"] or None if fields["supplier"] else UNSET,
            offer_note=values["offer_note"] or None if fields["supplier"] else UNSET,
        )
        if not errors:
            try:
                await registration.change_registrant_details(
                    db_session, reg.id, changes, now=utc_now(), settings=settings)
            except (InvalidInputError, ConflictError) as error:
                for problem in error.errors:
                    errors.setdefault(problem.field if problem.field in DETAIL_FIELDS
                                      else "name", problem.message)
        if not errors:
            return Redirect(f"{_base(event.id)}/{reg.id}?done=details",
                            status_code=HTTP_303_SEE_OTHER)
        await db_session.rollback()
        event = await event_for(db_session, account, event_id, edit=True)
        reg = await _registration_in(db_session, event, registration_id)
        ordered = {name: errors[name] for name in DETAIL_FIELDS if name in errors}
        return await self._registration_page(request, db_session, account, reg,
                                             values=values, errors=ordered,
                                             status_code=HTTP_422_UNPROCESSABLE_ENTITY)

    @get("/events/{event_id:int}/registrations/{registration_id:int}/cancel")
    async def confirm_cancel(
        self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
        event_id: IdParam, registration_id: IdParam,
    ) -> Response[str]:
        """The confirmation step: what cancelling on their behalf does, before it is done."""
        event = await event_for(db_session, account, event_id, edit=True)
        reg = await _registration_in(db_session, event, registration_id)
        confirmed = [e.session.title for e in reg.enrolments
                     if e.status == EnrolmentStatus.CONFIRMED]
        return organiser_page(request, "registration_cancel.html", {
            "title": _("Cancel %(name)s's registration") % {"name": reg.name}, "nav": "events",
            "event": event, "base": _base(event.id), "reg": reg,
            "status_label": _(STATUS_LABELS[reg.status]),
            "is_active": reg.status in registration.ACTIVE_STATUSES,
            "confirmed_sessions": confirmed,
            "frees_place": reg.status == RegistrationStatus.CONFIRMED,
        })

    @post("/events/{event_id:int}/registrations/{registration_id:int}/cancel",
          guards=[require_editor], status_code=303)
    async def cancel(
        self, db_session: DbSession, settings: SettingsDep, account: CurrentAccount,
        event_id: IdParam, registration_id: IdParam,
    ) -> Response[Any]:
        """Cancel on the registrant's behalf: as if they had, email and freed place included."""
        event = await event_for(db_session, account, event_id, edit=True)
        await _registration_in(db_session, event, registration_id)
        await registration.cancel_registration(db_session, registration_id, now=utc_now(),
                                               settings=settings)
        return Redirect(f"{_base(event.id)}/{registration_id}?done=cancel",
                        status_code=HTTP_303_SEE_OTHER)


# --- forms ----------------------------------------------------------------------------------


def _field(form: FormMultiDict, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _back_state(form: FormMultiDict) -> ListState:
    """The list the form came from (its query string in `back`), read like any list query:
    only what a list may ask for, so a redirect cannot lead anywhere else."""
    back = _field(form, "back")
    try:
        params = dict(parse_qsl(back, max_num_fields=10))
        return read_list_state(params)
    except (BadQuery, ValueError):
        return ListState()


def _decision_in(form: FormMultiDict, errors: dict[str, str]
                 ) -> tuple[Decision | None, list[int]]:
    """Which decision, on which registrations: a row's own button (`approve_one`,
    `decline_one`) decides that row alone; otherwise the ticked boxes."""
    for decision in Decision:
        one = _field(form, f"{decision.value}_one")
        if one:
            if not one.isdigit():
                errors["registration_ids"] = _("Choose a registration from the list.")
                return decision, []
            return decision, [int(one)]
    raw = _field(form, "decision")
    try:
        decision = Decision(raw)
    except ValueError:
        errors["registration_ids"] = _("Choose approve or decline.")
        return None, []
    ids: list[int] = []
    for value in form.getall("registration_ids", []):
        if not isinstance(value, str) or not value.isdigit() or not 1 <= int(value) <= 2**31 - 1:
            errors["registration_ids"] = _("Choose registrations from the list.")
            return decision, []
        ids.append(int(value))
    if not ids:
        errors["registration_ids"] = _("Tick at least one registration first.")
    elif len(ids) > MAX_SELECTED:
        errors["registration_ids"] = _("Choose at most %(count)s at once.") % {"count": MAX_SELECTED}
    return decision, ids


async def _registration_in(db: DbSession, event: Event, registration_id: int) -> Registration:
    """The registration, loaded, if it belongs to this event (else 404 like any unknown)."""
    reg = await registration.get_registration(db, registration_id)
    if reg.event_id != event.id:
        raise NotFoundError(_("No registration %(id)s in this event.") % {"id": registration_id},
                            "registration_id")
    return reg


def _detail_fields(reg: Registration) -> dict[str, Any]:
    """Which details the form offers, as on the registrant's own page."""
    event = reg.event
    return {
        "supplier": event.kind == EventKind.MEET_YOUR_BUYER
        and reg.organisation_kind == OrganisationKind.SUPPLIER,
        "attendance": programme.is_hybrid(event),
        "attendance_choices": [(str(a), _(label))
                               for a, label in wording.ATTENDANCE_LABELS.items()],
        "in_person": any(s.mode != SessionMode.ONLINE for s in event.sessions),
    }


def _detail_values(reg: Registration) -> dict[str, str]:
    return {name: str(getattr(reg, name) or "") for name in DETAIL_FIELDS}


def _facts(reg: Registration, zone: str) -> list[tuple[str, str]]:
    rows = [
        (_("Email"), reg.email),
        (_("Organisation"), reg.organisation_name),
        (_("Type of organisation"),
         wording.ORGANISATION_KIND_LABELS[reg.organisation_kind]
         if reg.organisation_kind is not None else ""),
        (_("Country"), reg.country or ""),
        (_("Job title"), reg.job_title or ""),
        (_("Sector"), reg.sector or ""),
        (_("Offer"), reg.offer_note or ""),
        (_("Takes part"), _(wording.ATTENDANCE_LABELS[reg.attendance]) if reg.attendance else ""),
        (_("Accessibility or dietary needs"), reg.access_note or ""),
        (_("Registered"), when_text(reg.created_at, zone)),
        (_("Address confirmed"), when_text(reg.address_confirmed_at, zone)),
        (_("Decided"), when_text(reg.decided_at, zone)),
        (_("Cancelled"), when_text(reg.cancelled_at, zone)),
    ]
    return [(label, value) for label, value in rows if value]

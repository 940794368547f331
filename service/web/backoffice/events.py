"""The event editor: the events an account can see, a new event, an event's page with its
sessions, and the changes that tell people something, each shown first as "who will be
told what" and made only on a confirming POST.

Handlers translate: they read the form (`event_forms`), call the programme's own commands
(the ones the JSON API calls) or a preview of them (`notices.previews`), and render. Read
pages need an account; changes need an editor of one of the event's teams.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Controller, Response, get, post
from litestar.response import Redirect
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
)
from msgspec import UNSET
from sqlalchemy.ext.asyncio import AsyncSession

from service.clock import utc_now
from service.db.models import Event, EventKind, EventStatus, Session, SessionStatus
from service.domain import programme
from service.domain.accounts import (
    SignedInAccount,
    can_edit_event,
    can_see_event,
    event_team_id,
    new_work_team,
    visible_events_filter,
)
from service.domain.errors import ConflictError, DomainError, InvalidInputError, NotFoundError
from service.domain.notices import previews
from service.domain.programme.materials import session_materials
from service.domain.registration import (
    attendance_counts,
    count_confirmed_enrolments,
    count_confirmed_registrations,
    has_a_place_to_come_to,
)
from service.domain.times import in_zone
from service.domain.urls import event_page_url
from service.domain.wording import KIND_LABELS, MODE_LABELS, date_range_text, period_text, venue_line
from service.i18n import N_, ngettext
from service.i18n import gettext as _
from service.settings import Settings
from service.web.backoffice import event_forms as forms
from service.web.backoffice.forms import TEAM_FIELD, read_team, team_options
from service.web.backoffice.guards import (
    BACKOFFICE_PATH,
    BackofficeForbidden,
    CurrentAccount,
    require_account,
    require_editor,
)
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam, SettingsDep
from service.zones import zones_by_region

EVENT_STATUS_LABELS = {"draft": N_("Draft"), "published": N_("Published"),
                       "cancelled": N_("Cancelled")}
SESSION_STATUS_LABELS = {"scheduled": N_("Scheduled"), "cancelled": N_("Cancelled")}
# The statuses of the people a change tells, as "who will be told what" lists them.
TOLD_STATUS_LABELS = {"pending": N_("Pending"), "confirmed": N_("Confirmed"),
                      "waiting": N_("Waiting"), "declined": N_("Declined"),
                      "cancelled": N_("Cancelled"), "unconfirmed": N_("Unconfirmed")}
DONE = {
    "created": N_("The draft is saved. Add its sessions, then publish it."),
    "saved": N_("The event is saved."),
    "published": N_("The event is published: it is on the programme and open to "
                    "registration."),
    "unpublished": N_("The event is a draft again: it is off the programme."),
    "cancelled": N_("The event is cancelled. Registrants and speakers are told as shown."),
    "copied": N_("This is the copy, a draft: check its sessions and agendas, add join links, "
                 "then publish it."),
    "session-added": N_("The session is added."),
    "session-saved": N_("The session is saved."),
    "session-moved": N_("The session is saved. Registrants and speakers are told as shown."),
    "session-cancelled": N_("The session is cancelled. Registrants and speakers are told as "
                            "shown."),
}


# --- what the pages show -------------------------------------------------------------------------


def _dates(event: Event) -> str:
    if not event.sessions:
        return _("No sessions yet")
    first = min(s.starts_at for s in event.sessions)
    last = max(s.ends_at for s in event.sessions)
    return date_range_text(in_zone(first, event.timezone).local.date(),
                           in_zone(last, event.timezone).local.date())


@dataclass(frozen=True)
class EventRow:
    id: int
    title: str
    kind: str
    dates: str
    status: str
    status_label: str
    taken: int
    left: str


@dataclass(frozen=True)
class Action:
    path: str
    label: str
    is_danger: bool = False


@dataclass(frozen=True)
class EventHeader:
    id: int
    title: str
    kind: str
    dates: str
    status: str
    status_label: str
    timezone: str
    taken: int
    left: int | None
    is_public: bool
    public_url: str
    actions: tuple[Action, ...]
    is_meet_your_buyer: bool = False
    has_a_place_to_come_to: bool = False
    checked_in: int = 0


@dataclass(frozen=True)
class SessionRow:
    id: int
    title: str
    when: str
    where: str
    taken: int
    capacity: int | None
    status: str
    status_label: str
    is_scheduled: bool
    items: int
    materials: int


def _places_left(capacity: int | None, taken: int) -> int | None:
    return None if capacity is None else max(capacity - taken, 0)


def _actions(event: Event) -> tuple[Action, ...]:
    if event.status == EventStatus.DRAFT:
        return (Action("publish", _("Publish")), Action("cancel", _("Cancel the event"), True))
    if event.status == EventStatus.PUBLISHED:
        return (Action("unpublish", _("Unpublish")),
                Action("cancel", _("Cancel the event"), True))
    return ()


async def _header(db: AsyncSession, event: Event, settings: Settings) -> EventHeader:
    taken = (await count_confirmed_registrations(db, [event.id])).get(event.id, 0)
    return EventHeader(
        id=event.id, title=event.title, kind=_(KIND_LABELS[event.kind]), dates=_dates(event),
        status=str(event.status), status_label=_(EVENT_STATUS_LABELS[str(event.status)]),
        timezone=event.timezone, taken=taken, left=_places_left(event.capacity, taken),
        is_public=event.status != EventStatus.DRAFT,
        public_url=event_page_url(settings, event.slug), actions=_actions(event),
        is_meet_your_buyer=event.kind == EventKind.MEET_YOUR_BUYER,
        has_a_place_to_come_to=has_a_place_to_come_to(event),
        checked_in=(await attendance_counts(db, event.id))[0],
    )


async def _session_rows(db: AsyncSession, event: Event) -> list[SessionRow]:
    taken = await count_confirmed_enrolments(db, [s.id for s in event.sessions])
    materials = await session_materials(db, [s.id for s in event.sessions], for_registrants=True)
    venue = venue_line(event)
    return [
        SessionRow(
            id=s.id, title=s.title, when=period_text(s.starts_at, s.ends_at, event.timezone),
            where=_(MODE_LABELS[s.mode]) + (f": {venue}" if venue and s.mode != "online" else ""),
            taken=taken.get(s.id, 0), capacity=s.capacity, status=str(s.status),
            status_label=_(SESSION_STATUS_LABELS[str(s.status)]),
            is_scheduled=s.status == SessionStatus.SCHEDULED, items=len(s.agenda_items),
            materials=len(materials[s.id]),
        )
        for s in sorted(event.sessions, key=lambda s: (s.starts_at, s.id))
    ]


def _error_links(errors: Mapping[str, str], order: Sequence[str]) -> list[tuple[str, str]]:
    rank = {name: index for index, name in enumerate(order)}
    return [(f"#{name}" if name in rank else "#main", message)
            for name, message in sorted(errors.items(), key=lambda kv: rank.get(kv[0], -1))]


async def _organisation_choices(db: AsyncSession) -> list[tuple[str, str]]:
    return [(str(o.id), o.name) for o in await programme.list_organisations(db)]


async def _read_team(db: AsyncSession, raw: Mapping[str, str], form: forms.ReadForm,
                     account: SignedInAccount) -> tuple[bool, int | None]:
    """Whether the form chose the event's team, and the team to store (None: the default)."""
    form.values[TEAM_FIELD] = raw.get(TEAM_FIELD, "").strip()
    try:
        return await read_team(db, form.values[TEAM_FIELD], account)
    except InvalidInputError as error:
        form.add_domain_error(error, (TEAM_FIELD,))
        return False, None


async def _event_form_context(db: AsyncSession, account: SignedInAccount,
                              form_values: Mapping[str, str], errors: Mapping[str, str], *,
                              creating: bool) -> dict[str, Any]:
    defaults = forms.default_reminders_text()
    return {
        "values": form_values, "errors": errors,
        "error_links": _error_links(errors, (*forms.EVENT_FIELDS, TEAM_FIELD)),
        "kinds": forms.kind_choices(), "zones": zones_by_region(),
        "organisations": await _organisation_choices(db), "creating": creating,
        "teams": await team_options(db, account),
        "reminder_hint": _("Days, hours or minutes before each session, separated by commas "
                           "(7d, 1d, 1h). Empty: the kind's default (%(defaults)s).") % {
            "defaults": "; ".join(f"{kind}: {text}" for kind, text in defaults.items())},
    }


def _told_view(told: previews.WhoWillBeTold, zone_name: str) -> list[dict[str, Any]]:
    views = []
    for notice in told.notices:
        if notice.audience == "registrants":
            count_text = ngettext("%(count)s email to registrant",
                                  "%(count)s emails to registrants", notice.emails)
        else:
            count_text = ngettext("%(count)s email to speaker", "%(count)s emails to speakers",
                                  notice.emails)
        local = in_zone(notice.sends_at, zone_name).local
        views.append({
            "count_text": count_text % {"count": notice.emails},
            "sends": _("on %(date)s at %(time)s (changes made meanwhile are gathered into "
                       "it)") % {"date": local.strftime("%d %B %Y"),
                                 "time": local.strftime("%H:%M %Z")},
            "first_recipient": notice.first_recipient, "subject": notice.subject,
            "text": notice.text,
        })
    return views


# --- who may do what ------------------------------------------------------------------------------


def _refuse_unseen(account: SignedInAccount, event: Event) -> None:
    """An event of another team is as unknown as one that does not exist."""
    if not can_see_event(account, event):
        raise NotFoundError(_("No event with id %(id)s.") % {"id": event.id}, "event_id")


def _refuse_uneditable(account: SignedInAccount, event: Event) -> None:
    _refuse_unseen(account, event)
    if not can_edit_event(account, event):
        raise BackofficeForbidden(_("Your account cannot change this event."))


async def _form(request: AnyRequest) -> dict[str, str]:
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str)}


def _done(event_id: int, what: str, anchor: str = "") -> Response[Any]:
    return Redirect(f"/organiser/events/{event_id}?done={what}{anchor}",
                    status_code=HTTP_303_SEE_OTHER)


def missing_page(request: AnyRequest, error: DomainError) -> Response[str]:
    """An unknown (or unseen) event or session, in the back office's own layout."""
    return organiser_page(request, "event_missing.html", {"message": error.message},
                          status_code=HTTP_404_NOT_FOUND)


# --- the pages ------------------------------------------------------------------------------------


class EventEditorController(Controller):
    """Events and their sessions, under /organiser."""

    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False
    exception_handlers = {NotFoundError: missing_page}

    # --- the list and a new event ---

    @get("/events")
    async def list_events(self, request: AnyRequest, db_session: DbSession,
                          account: CurrentAccount) -> Response[Any]:
        page = await programme.list_events(
            db_session, programme.EventFilter(statuses=tuple(EventStatus),
                                              only=visible_events_filter(account)),
            page=1, page_size=500)
        taken = await count_confirmed_registrations(db_session, [e.id for e in page.events])
        rows = [
            EventRow(id=e.id, title=e.title, kind=_(KIND_LABELS[e.kind]), dates=_dates(e),
                     status=str(e.status), status_label=_(EVENT_STATUS_LABELS[str(e.status)]),
                     taken=taken.get(e.id, 0),
                     left=(_("No limit") if e.capacity is None
                           else str(_places_left(e.capacity, taken.get(e.id, 0)))))
            for e in page.events
        ]
        return organiser_page(request, "events.html", {
            "title": _("Events"), "nav": "events", "events": rows, "can_edit": account.is_editor})

    @get("/events/new", guards=[require_editor])
    async def new_event(self, request: AnyRequest, db_session: DbSession,
                        account: CurrentAccount) -> Response[Any]:
        team_id = new_work_team(account) or account.default_team_id
        values = {**forms.event_values(None), TEAM_FIELD: "" if team_id is None else str(team_id)}
        context = await _event_form_context(db_session, account, values, {}, creating=True)
        return organiser_page(request, "event_new.html", {**context, "nav": "events"})

    @post("/events", guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def create_event(self, request: AnyRequest, db_session: DbSession,
                           account: CurrentAccount) -> Response[Any]:
        raw = await _form(request)
        form = forms.read_event_form(raw, creating=True)
        chose, team_id = await _read_team(db_session, raw, form, account)
        if not form.errors:
            now = utc_now()
            try:
                event = await programme.create_event(db_session, forms.event_create(form),
                                                     now=now)
            except (InvalidInputError, ConflictError) as error:
                form.add_domain_error(error, forms.EVENT_FIELDS)
            else:
                await programme.assign_event_team(
                    db_session, event.id, team_id if chose else new_work_team(account), now=now)
                return _done(event.id, "created")
        await db_session.rollback()
        context = await _event_form_context(db_session, account, form.values, form.errors,
                                            creating=True)
        return organiser_page(request, "event_new.html", {**context, "nav": "events"},
                              status_code=HTTP_422_UNPROCESSABLE_ENTITY)

    # --- an event's page ---

    async def _event_page(
        self, request: AnyRequest, db: AsyncSession, account: SignedInAccount, event_id: int,
        settings: Settings, *, values: Mapping[str, str] | None = None,
        errors: Mapping[str, str] | None = None, status_code: int = 200,
    ) -> Response[Any]:
        event = await programme.get_event(db, event_id)
        _refuse_unseen(account, event)
        if values is None:
            team_id = event_team_id(account, event)
            values = {**forms.event_values(event),
                      TEAM_FIELD: "" if team_id is None else str(team_id)}
        context = await _event_form_context(db, account, values, errors or {}, creating=False)
        done = request.query_params.get("done")
        return organiser_page(request, "event.html", {
            **context, "nav": "events", "event": await _header(db, event, settings),
            "sessions": await _session_rows(db, event), "can_edit": can_edit_event(account, event),
            "done": _(DONE[done]) if isinstance(done, str) and done in DONE else None,
        }, status_code=status_code)

    @get("/events/{event_id:int}")
    async def event_page(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                         account: CurrentAccount, event_id: IdParam) -> Response[Any]:
        return await self._event_page(request, db_session, account, event_id, settings)

    @post("/events/{event_id:int}", guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def update_event(self, request: AnyRequest, db_session: DbSession,
                           settings: SettingsDep, account: CurrentAccount,
                           event_id: IdParam) -> Response[Any]:
        event = await programme.get_event(db_session, event_id)
        _refuse_uneditable(account, event)
        stored_team_id = event.team_id
        raw = await _form(request)
        form = forms.read_event_form(raw, creating=False)
        chose, team_id = await _read_team(db_session, raw, form, account)
        if not form.errors:
            try:
                await programme.update_event(db_session, event_id,
                                             forms.event_changes(form, event), now=utc_now(),
                                             settings=settings)
            except (InvalidInputError, ConflictError) as error:
                form.add_domain_error(error, forms.EVENT_FIELDS)
            else:
                if chose and team_id != stored_team_id:
                    await programme.assign_event_team(db_session, event_id, team_id,
                                                      now=utc_now())
                return _done(event_id, "saved")
        await db_session.rollback()
        return await self._event_page(request, db_session, account, event_id, settings,
                                      values=form.values, errors=form.errors,
                                      status_code=HTTP_422_UNPROCESSABLE_ENTITY)

    # --- publishing, unpublishing, cancelling: who will be told what, then the change ---

    async def _told_page(
        self, request: AnyRequest, db: AsyncSession, event_id: int, told: Preview, *,
        heading: str, what: str, action_url: str, confirm_label: str, is_danger: bool,
        hidden: Sequence[tuple[str, str]] = (), back_url: str | None = None,
        change_line: str | None = None,
    ) -> Response[Any]:
        event = await programme.get_event(db, event_id)  # as it is: the dry run is undone
        return organiser_page(request, "event_told.html", {
            "title": heading, "nav": "events", "event": event, "told": told,
            "notices": _told_view(told, event.timezone), "heading": heading, "what": what,
            "action_url": action_url, "confirm_label": confirm_label, "is_danger": is_danger,
            "hidden": hidden, "back_url": back_url or f"/organiser/events/{event_id}",
            "change_line": change_line,
            "status_labels": {status: _(label) for status, label in TOLD_STATUS_LABELS.items()},
        })

    async def _refused_page(self, request: AnyRequest, db: AsyncSession, event_id: int,
                            heading: str, error: DomainError) -> Response[Any]:
        await db.rollback()
        event = await programme.get_event(db, event_id)
        return organiser_page(request, "event_refused.html", {
            "title": heading, "nav": "events", "event": event, "heading": heading,
            "message": error.message}, status_code=HTTP_409_CONFLICT)

    async def _event_change(
        self, request: AnyRequest, db: AsyncSession, settings: Settings,
        account: SignedInAccount, event_id: int, what: str,
    ) -> Response[Any]:
        event = await programme.get_event(db, event_id)
        _refuse_uneditable(account, event)
        step = EVENT_CHANGES[what]
        heading = _(step.heading)
        now = utc_now()
        try:
            if request.method == "GET":
                told = await step.preview(db, event_id, now=now, settings=settings)
            else:
                await step.make(db, event_id, now, settings)
                return _done(event_id, step.done)
        except (InvalidInputError, ConflictError) as error:
            return await self._refused_page(request, db, event_id, heading, error)
        return await self._told_page(
            request, db, event_id, told, heading=heading, what=_(step.what),
            action_url=f"/organiser/events/{event_id}/{what}", confirm_label=_(step.confirm),
            is_danger=step.is_danger)

    @get("/events/{event_id:int}/publish", guards=[require_editor])
    async def publish_preview(self, request: AnyRequest, db_session: DbSession,
                              settings: SettingsDep, account: CurrentAccount,
                              event_id: IdParam) -> Response[Any]:
        return await self._event_change(request, db_session, settings, account, event_id,
                                         "publish")

    @post("/events/{event_id:int}/publish", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def publish(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                      account: CurrentAccount, event_id: IdParam) -> Response[Any]:
        return await self._event_change(request, db_session, settings, account, event_id,
                                         "publish")

    @get("/events/{event_id:int}/unpublish", guards=[require_editor])
    async def unpublish_preview(self, request: AnyRequest, db_session: DbSession,
                                settings: SettingsDep, account: CurrentAccount,
                                event_id: IdParam) -> Response[Any]:
        return await self._event_change(request, db_session, settings, account, event_id,
                                         "unpublish")

    @post("/events/{event_id:int}/unpublish", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def unpublish(self, request: AnyRequest, db_session: DbSession,
                        settings: SettingsDep, account: CurrentAccount,
                        event_id: IdParam) -> Response[Any]:
        return await self._event_change(request, db_session, settings, account, event_id,
                                         "unpublish")

    @get("/events/{event_id:int}/cancel", guards=[require_editor])
    async def cancel_preview(self, request: AnyRequest, db_session: DbSession,
                             settings: SettingsDep, account: CurrentAccount,
                             event_id: IdParam) -> Response[Any]:
        return await self._event_change(request, db_session, settings, account, event_id,
                                         "cancel")

    @post("/events/{event_id:int}/cancel", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def cancel(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                     account: CurrentAccount, event_id: IdParam) -> Response[Any]:
        return await self._event_change(request, db_session, settings, account, event_id,
                                         "cancel")

    # --- sessions ---

    async def _session_form_page(
        self, request: AnyRequest, template: str, event: Event, session: Session | None,
        values: Mapping[str, str], errors: Mapping[str, str], status_code: int = 200,
    ) -> Response[Any]:
        return organiser_page(request, template, {
            "title": session.title if session else _("Add a session"), "nav": "events",
            "event": event, "zone": event.timezone, "modes": forms.mode_choices(),
            "values": values, "errors": errors,
            "error_links": _error_links(errors, forms.SESSION_FIELDS),
            "session": None if session is None else {
                "id": session.id, "title": session.title,
                "when": period_text(session.starts_at, session.ends_at, event.timezone)},
        }, status_code=status_code)

    @get("/events/{event_id:int}/sessions/new", guards=[require_editor])
    async def new_session(self, request: AnyRequest, db_session: DbSession,
                          account: CurrentAccount, event_id: IdParam) -> Response[Any]:
        event = await programme.get_event(db_session, event_id)
        _refuse_uneditable(account, event)
        return await self._session_form_page(request, "session_new.html", event, None,
                                             forms.session_values(None, event.timezone), {})

    @post("/events/{event_id:int}/sessions", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def add_session(self, request: AnyRequest, db_session: DbSession,
                          settings: SettingsDep, account: CurrentAccount,
                          event_id: IdParam) -> Response[Any]:
        event = await programme.get_event(db_session, event_id)
        _refuse_uneditable(account, event)
        form = forms.read_session_form(await _form(request), event.timezone)
        if not form.errors:
            try:
                session = await programme.add_session(
                    db_session, event_id, forms.session_create(form), now=utc_now(),
                    settings=settings)
            except (InvalidInputError, ConflictError) as error:
                form.add_domain_error(error, forms.SESSION_FIELDS)
            else:
                return _done(event_id, "session-added", f"#session-{session.id}")
        await db_session.rollback()
        event = await programme.get_event(db_session, event_id)
        return await self._session_form_page(request, "session_new.html", event, None,
                                             form.values, form.errors,
                                             HTTP_422_UNPROCESSABLE_ENTITY)

    async def _editable_session(self, db: AsyncSession, account: SignedInAccount,
                                session_id: int) -> tuple[Session, Event]:
        session = await programme.get_session(db, session_id)
        event = await programme.get_event(db, session.event_id)
        _refuse_uneditable(account, event)
        return next(s for s in event.sessions if s.id == session_id), event

    @get("/sessions/{session_id:int}", guards=[require_editor])
    async def session_page(self, request: AnyRequest, db_session: DbSession,
                           account: CurrentAccount, session_id: IdParam) -> Response[Any]:
        session, event = await self._editable_session(db_session, account, session_id)
        return await self._session_form_page(request, "session.html", event, session,
                                             forms.session_values(session, event.timezone), {})

    @post("/sessions/{session_id:int}", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def update_session(self, request: AnyRequest, db_session: DbSession,
                             settings: SettingsDep, account: CurrentAccount,
                             session_id: IdParam) -> Response[Any]:
        session, event = await self._editable_session(db_session, account, session_id)
        raw = await _form(request)
        form = forms.read_session_form(raw, event.timezone)
        changes = None
        if not form.errors:
            changes = forms.session_changes(form, session, event.timezone)
            # Read before a preview, whose rollback expires the loaded objects.
            title, event_id = session.title, event.id
            change_line = forms.move_line(form, session, event.timezone)
            now = utc_now()
            try:
                if forms.tells_people(changes) and raw.get("confirmed") != "yes":
                    told = await previews.preview_update_session(
                        db_session, session_id, changes, now=now, settings=settings)
                    return await self._told_page(
                        request, db_session, event_id, told,
                        heading=(_("Move %(title)s") if _moves(changes)
                                 else _("Change %(title)s")) % {"title": title},
                        what=_("Nothing has changed yet. Check the new details and who will "
                               "be told, then confirm."),
                        action_url=f"/organiser/sessions/{session_id}",
                        confirm_label=_("Confirm the change"), is_danger=False,
                        hidden=[(name, form.values[name]) for name in forms.SESSION_FIELDS],
                        back_url=f"/organiser/sessions/{session_id}", change_line=change_line)
                await programme.update_session(db_session, session_id, changes, now=now,
                                               settings=settings)
            except (InvalidInputError, ConflictError) as error:
                form.add_domain_error(error, forms.SESSION_FIELDS)
            else:
                return _done(event_id, "session-moved" if forms.tells_people(changes)
                             else "session-saved", f"#session-{session_id}")
        await db_session.rollback()
        session, event = await self._editable_session(db_session, account, session_id)
        return await self._session_form_page(request, "session.html", event, session,
                                             form.values, form.errors,
                                             HTTP_422_UNPROCESSABLE_ENTITY)

    @get("/sessions/{session_id:int}/cancel", guards=[require_editor])
    async def cancel_session_preview(self, request: AnyRequest, db_session: DbSession,
                                     settings: SettingsDep, account: CurrentAccount,
                                     session_id: IdParam) -> Response[Any]:
        session, event = await self._editable_session(db_session, account, session_id)
        # Read before the preview's rollback.
        heading, event_id = _("Cancel %(title)s") % {"title": session.title}, event.id
        try:
            told = await previews.preview_cancel_session(db_session, session_id,
                                                         now=utc_now(), settings=settings)
        except (InvalidInputError, ConflictError) as error:
            return await self._refused_page(request, db_session, event_id, heading, error)
        return await self._told_page(
            request, db_session, event_id, told, heading=heading,
            what=_("The session stays in the programme, marked cancelled; its registrants' "
                   "calendars remove it."),
            action_url=f"/organiser/sessions/{session_id}/cancel",
            confirm_label=_("Cancel the session"), is_danger=True)

    @post("/sessions/{session_id:int}/cancel", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def cancel_session(self, request: AnyRequest, db_session: DbSession,
                             settings: SettingsDep, account: CurrentAccount,
                             session_id: IdParam) -> Response[Any]:
        _, event = await self._editable_session(db_session, account, session_id)
        await programme.cancel_session(db_session, session_id, now=utc_now(), settings=settings)
        return _done(event.id, "session-cancelled", f"#session-{session_id}")


def _moves(changes: programme.SessionUpdate) -> bool:
    return changes.starts_at is not UNSET or changes.ends_at is not UNSET


Preview = previews.WhoWillBeTold


@dataclass(frozen=True)
class EventChange:
    """One of the changes of an event's status, with its preview and its words (marked
    here, translated where shown)."""

    preview: Callable[..., Awaitable[Preview]]
    make: Callable[[AsyncSession, int, datetime, Settings], Awaitable[object]]
    heading: str
    what: str
    confirm: str
    done: str
    is_danger: bool = False


EVENT_CHANGES: dict[str, EventChange] = {
    "publish": EventChange(
        previews.preview_publish_event,
        lambda db, event_id, now, _: programme.publish_event(db, event_id, now=now),
        N_("Publish"), N_("The event goes on the public programme and its feeds, and opens to "
                          "registration as its window says."), N_("Publish the event"),
        "published"),
    "unpublish": EventChange(
        previews.preview_unpublish_event,
        lambda db, event_id, now, _: programme.unpublish_event(db, event_id, now=now),
        N_("Unpublish"), N_("The event leaves the public programme and becomes a draft again."),
        N_("Unpublish the event"), "unpublished"),
    "cancel": EventChange(
        previews.preview_cancel_event,
        lambda db, event_id, now, settings: programme.cancel_event(
            db, event_id, now=now, settings=settings),
        N_("Cancel the event"), N_("Every session is cancelled; the event stays on the "
                                   "programme, marked cancelled, and closes to registration. "
                                   "This cannot be undone."),
        N_("Cancel the event"), "cancelled", is_danger=True),
}

"""The agenda editor of a session, and "Paste an agenda".

Pages that work without JavaScript: plain forms, POST-redirect-GET on success, the page sent
again with every error beside its field (and what was typed kept) on failure. Handlers
translate form fields into the programme's typed inputs and call its commands
(`add_agenda_item`, `update_agenda_item`, `delete_agenda_item`, `move_agenda_item`,
`create_pasted_agenda`); the rules live there. Only editors of the event's team get here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import QueryParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_ENTITY
from msgspec import UNSET
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.clock import utc_now
from service.db.models import (
    AgendaItem,
    AgendaItemKind,
    Organisation,
    OrganisationKind,
    Person,
    Session,
)
from service.domain import programme
from service.domain.accounts import SignedInAccount, can_edit_event
from service.domain.errors import FieldError, InvalidInputError
from service.domain.programme.agenda_paste import (
    OrganisationChoice,
    PastedAgenda,
    PersonChoice,
    default_choices,
)
from service.domain.programme.agenda_review import AgendaProblem
from service.domain.wording import AGENDA_KIND_LABELS
from service.i18n import N_
from service.i18n import gettext as _
from service.web.backoffice.guards import BackofficeForbidden, CurrentAccount, require_editor
from service.web.backoffice.htmx import (
    VARY_HX_REQUEST,
    OrganiserRequest,
    organiser_part,
    wants_part,
)
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.page_views import TimeSpan, day_label, time_span
from service.web.params import DbSession, IdParam, SettingsDep

ITEM_FIELDS = ("starts_at", "ends_at", "title", "kind", "description")
# Labels marked here, translated where shown (`_choices`).
KIND_CHOICES = [(kind.value, AGENDA_KIND_LABELS.get(kind) or N_("Other"))
                for kind in AgendaItemKind]
ORGANISATION_KIND_CHOICES = [
    (OrganisationKind.PUBLIC_AUTHORITY.value, N_("Public authority")),
    (OrganisationKind.SUPPLIER.value, N_("Supplier")),
    (OrganisationKind.EXPERT_ORGANISATION.value, N_("Expert organisation")),
    (OrganisationKind.NETWORK.value, N_("Network")),
    (OrganisationKind.OTHER.value, N_("Other")),
]
NEW = "new"
_CLOCK = re.compile(r"^(\d{1,2})[:.h](\d{2})$")
_LIMITS = {"title": 500, "description": 20_000, "text": 20_000, "read_text": 20_000}


def _choices(choices: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Choices with their labels in the language in force."""
    return [(value, _(label)) for value, label in choices]


def _field(form: FormMultiDict, name: str) -> str:
    """A form field, stripped and cut one past its limit (so that a longer text is refused
    by name, not saved cut short); browsers send a textarea's line breaks as CRLF, kept here
    as they are stored, LF."""
    value = form.get(name)
    text = value.replace("\r\n", "\n").strip() if isinstance(value, str) else ""
    return text[: _LIMITS.get(name, 300) + 1]


def _error_links(errors: Mapping[str, str], anchors: Mapping[str, str] | None = None,
                 order: Sequence[str] = ()) -> list[tuple[str, str]]:
    rank = {name: index for index, name in enumerate(order)}
    ordered = sorted(errors.items(), key=lambda pair: rank.get(pair[0], len(rank)))
    return [(f"#{(anchors or {}).get(name, name)}", message) for name, message in ordered]


async def _editable_session(db: AsyncSession, account: SignedInAccount,
                            session_id: int) -> Session:
    """The session, when this account may edit its event (its team's, or any for admins)."""
    session = await programme.get_session(db, session_id)
    if not can_edit_event(account, session.event):
        raise BackofficeForbidden(_("This session belongs to an event of another team."))
    return session


# --- the agenda page -----------------------------------------------------------------------


@dataclass(frozen=True)
class ProblemView:
    field: str
    message: str
    is_warning: bool


@dataclass(frozen=True)
class ItemRow:
    id: int
    when: TimeSpan
    title: str
    kind: str
    speakers: tuple[str, ...]
    problems: tuple[ProblemView, ...]
    is_first: bool
    is_last: bool


def _speaker_label(person_name: str, organisation: Organisation | None) -> str:
    return f"{person_name}, {organisation.name}" if organisation else person_name


def _rows(session: Session, problems: Sequence[AgendaProblem]) -> list[ItemRow]:
    zone = session.event.timezone
    items = sorted(session.agenda_items, key=lambda i: (i.starts_at, i.id))
    by_item: dict[object, list[ProblemView]] = {}
    for problem in problems:
        by_item.setdefault(problem.key, []).append(
            ProblemView(problem.field, problem.message, problem.is_warning))
    return [
        ItemRow(
            id=item.id, when=time_span(item.starts_at, item.ends_at, zone), title=item.title,
            kind=_(AGENDA_KIND_LABELS.get(item.kind) or N_("Other")),
            speakers=tuple(_speaker_label(s.person.name, s.organisation or s.person.organisation)
                           for s in item.speakers),
            problems=tuple(by_item.get(item.id, ())),
            is_first=index == 0, is_last=index == len(items) - 1,
        )
        for index, item in enumerate(items)
    ]


async def _people_choices(db: AsyncSession) -> list[tuple[str, str]]:
    people = await db.scalars(
        select(Person).options(selectinload(Person.organisation)).order_by(Person.name, Person.id))
    return [(str(p.id), _speaker_label(p.name, p.organisation)) for p in people]


def _session_context(session: Session) -> dict[str, Any]:
    event = session.event
    return {
        "event": event,
        "session": session,
        "session_when": time_span(session.starts_at, session.ends_at, event.timezone),
        "session_day": day_label(session.starts_at.astimezone(ZoneInfo(event.timezone))),
    }


def _wall(value: str, field: str, errors: dict[str, str], label: str) -> str:
    """"10.10" or "10h10" as "10:10"; an error beside the field otherwise."""
    match = _CLOCK.match(value)
    is_start = label == "start"
    if not value:
        errors.setdefault(field, _("Enter the start time, for example 10:10.") if is_start
                          else _("Enter the end time, for example 10:10."))
        return value
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        errors.setdefault(field, _("Enter the start time as hours and minutes, for example "
                                   "10:10.") if is_start else
                          _("Enter the end time as hours and minutes, for example 10:10."))
        return value
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _item_form(form: FormMultiDict) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """What was typed, the speakers chosen and the page's own errors, all at once."""
    values = {name: _field(form, name) for name in ITEM_FIELDS}
    errors: dict[str, str] = {}
    values["starts_at"] = _wall(values["starts_at"], "starts_at", errors, "start")
    values["ends_at"] = _wall(values["ends_at"], "ends_at", errors, "end")
    if not values["title"]:
        errors["title"] = _("Enter a title.")
    for problem in programme.agenda_item_text_problems(values["title"], values["description"]):
        errors.setdefault(problem.field or "title", problem.message)
    if values["kind"] not in {value for value, _label in KIND_CHOICES}:
        errors["kind"] = _("Choose a kind from the list.")
    speakers = [raw for raw in form.getall("speakers", []) if isinstance(raw, str)]
    if any(not raw.isdigit() or len(raw) > 9 for raw in speakers):
        errors["speakers"] = _("Choose speakers from the list.")
    return values, list(dict.fromkeys(speakers)), errors


def _stored_values(item: AgendaItem, zone: str) -> dict[str, str]:
    """The item's fields as its form shows them: wall times in the event's zone."""
    local = ZoneInfo(zone)
    return {"starts_at": f"{item.starts_at.astimezone(local):%H:%M}",
            "ends_at": f"{item.ends_at.astimezone(local):%H:%M}", "title": item.title,
            "kind": item.kind.value, "description": item.description}


def _domain_errors(errors: dict[str, str], found: Sequence[FieldError]) -> None:
    for error in found:
        field = (error.field or "title").split(".")[0].split("[")[0]
        errors.setdefault(field if field in (*ITEM_FIELDS, "speakers") else "title",
                          error.message)


class AgendaController(Controller):
    path = "/organiser"
    guards = [require_editor]
    include_in_schema = False
    request_class = OrganiserRequest

    async def _agenda_page(
        self, request: AnyRequest, db: AsyncSession, session: Session, *,
        values: Mapping[str, str] | None = None, speakers: Sequence[str] = (),
        errors: Mapping[str, str] | None = None, status_code: int = 200,
        notice: str | None = None, headers: Mapping[str, str] | None = None,
    ) -> Response[str]:
        errors = errors or {}
        return organiser_page(request, "agenda.html", {
            "title": _("Agenda: %(title)s") % {"title": session.title}, "nav": "events",
            **_session_context(session),
            "rows": _rows(session, programme.review_agenda(session)),
            "values": {"kind": AgendaItemKind.TALK.value, **(values or {})},
            "chosen_speakers": list(speakers),
            "errors": errors,
            "error_links": _error_links(errors, order=(*ITEM_FIELDS, "speakers")),
            "kinds": _choices(KIND_CHOICES),
            "people": await _people_choices(db),
            "notice": notice,
        }, status_code=status_code, headers=headers)

    @get("/sessions/{session_id:int}/agenda")
    async def agenda(self, request: AnyRequest, db_session: DbSession,
                     account: CurrentAccount, session_id: IdParam,
                     done: Annotated[str | None, QueryParameter(max_length=20)] = None,
                     ) -> Response[str]:
        session = await _editable_session(db_session, account, session_id)
        notices = {"added": _("Item added."), "saved": _("Item saved."),
                   "deleted": _("Item deleted."), "moved": _("Item moved."),
                   "pasted": _("Agenda created from the pasted text.")}
        return await self._agenda_page(request, db_session, session, notice=notices.get(done or ""))

    @post("/sessions/{session_id:int}/agenda/items", status_code=200)
    async def add_item(self, request: AnyRequest, db_session: DbSession,
                       settings: SettingsDep, account: CurrentAccount,
                       session_id: IdParam) -> Response[Any]:
        session = await _editable_session(db_session, account, session_id)
        values, speakers, errors = _item_form(await request.form())
        if not errors:
            try:
                await programme.add_agenda_item(db_session, session.id, programme.AgendaItemCreate(
                    starts_at=values["starts_at"], ends_at=values["ends_at"],
                    title=values["title"], kind=AgendaItemKind(values["kind"]),
                    description=values["description"],
                    speakers=[programme.SpeakerRef(person_id=int(p)) for p in speakers],
                ), now=utc_now(), settings=settings)
            except InvalidInputError as error:
                _domain_errors(errors, error.errors)
            else:
                return Redirect(f"/organiser/sessions/{session.id}/agenda?done=added",
                                status_code=HTTP_303_SEE_OTHER)
        await db_session.rollback()
        session = await programme.get_session(db_session, session_id)
        return await self._agenda_page(request, db_session, session, values=values, speakers=speakers,
                                       errors=errors, status_code=HTTP_422_UNPROCESSABLE_ENTITY)

    # --- one item ---

    async def _item_page(
        self, request: AnyRequest, db: AsyncSession, session: Session, agenda_item_id: int, *,
        values: Mapping[str, str], speakers: Sequence[str], errors: Mapping[str, str], status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> Response[str]:
        return organiser_page(request, "agenda_item.html", {
            "title": _("Edit an agenda item: %(title)s") % {
                "title": values.get("title") or session.title},
            "nav": "events",
            **_session_context(session),
            "agenda_item_id": agenda_item_id,
            "values": dict(values),
            "chosen_speakers": list(speakers),
            "errors": dict(errors),
            "error_links": _error_links(errors, order=(*ITEM_FIELDS, "speakers")),
            "kinds": _choices(KIND_CHOICES),
            "people": await _people_choices(db),
        }, status_code=status_code, headers=headers)

    @get("/agenda-items/{agenda_item_id:int}/edit")
    async def edit_item(self, request: OrganiserRequest, db_session: DbSession,
                        account: CurrentAccount, agenda_item_id: IdParam) -> Response[str]:
        """The item's page; asked by htmx, its title and kind to edit in its own row."""
        item = await programme.get_agenda_item(db_session, agenda_item_id)
        session = await _editable_session(db_session, account, item.session_id)
        if wants_part(request):
            return self._row_edit_part(request, session, item.id, errors={},
                                       values={"title": item.title, "kind": item.kind.value})
        return await self._item_page(request, db_session, session, item.id,
                                     values=_stored_values(item, session.event.timezone),
                                     speakers=[str(s.person_id) for s in item.speakers],
                                     errors={}, headers=VARY_HX_REQUEST)

    # --- one item's title and kind, edited in its row (htmx) ---

    def _row_part(self, request: OrganiserRequest, session: Session, agenda_item_id: int, *,
                  notice: str | None) -> Response[str]:
        """The item's row as the agenda shows it, its Edit link taking the focus back, and
        what happened for the status region."""
        row = next(r for r in _rows(session, programme.review_agenda(session)) if r.id == agenda_item_id)
        templates = ("_agenda_row.html", *(("_agenda_status.html",) if notice else ()))
        return organiser_part(request, templates, {
            "row": row, "errors": {}, "focus_on": f"edit-{agenda_item_id}", "notice": notice})

    def _row_edit_part(
        self, request: OrganiserRequest, session: Session, agenda_item_id: int, *,
        values: Mapping[str, str], errors: Mapping[str, str], status_code: int = 200,
    ) -> Response[str]:
        """The row with the item's title and kind to edit, each error beside its field and
        the focus on the first one at fault (else the title); refused, said in the status
        region too."""
        row = next(r for r in _rows(session, programme.review_agenda(session)) if r.id == agenda_item_id)
        notice = (_("Not saved: %(problems)s") % {"problems": " ".join(errors.values())}
                  if errors else None)
        templates = ("_agenda_row_edit.html", *(("_agenda_status.html",) if notice else ()))
        return organiser_part(request, templates, {
            "row": row, "session": session, "values": dict(values), "errors": dict(errors),
            "kinds": _choices(KIND_CHOICES), "focus": next(iter(errors), "title"),
            "notice": notice, "notice_is_error": True,
        }, status_code=status_code)

    @get("/agenda-items/{agenda_item_id:int}/row")
    async def item_row(self, request: OrganiserRequest, db_session: DbSession,
                       account: CurrentAccount, agenda_item_id: IdParam) -> Response[Any]:
        """The row as it stands: what Cancel (or Escape) puts back in place of the row being
        edited. Any other request goes to the agenda, at that item."""
        item = await programme.get_agenda_item(db_session, agenda_item_id)
        session = await _editable_session(db_session, account, item.session_id)
        if not wants_part(request):
            return Redirect(f"/organiser/sessions/{session.id}/agenda#item-{item.id}",
                            status_code=HTTP_303_SEE_OTHER, headers=VARY_HX_REQUEST)
        return self._row_part(request, session, item.id, notice=None)

    @post("/agenda-items/{agenda_item_id:int}/title-and-kind", status_code=200)
    async def save_title_and_kind(self, request: OrganiserRequest, db_session: DbSession,
                                  settings: SettingsDep, account: CurrentAccount,
                                  agenda_item_id: IdParam) -> Response[Any]:
        """The title and kind edited in the item's row (the rest stays as it is): the row
        back as shown, or again with each error beside its field. A request not from htmx
        (a script falling back to the plain form) gets the agenda page, or the item's page
        with the errors."""
        item = await programme.get_agenda_item(db_session, agenda_item_id)
        session = await _editable_session(db_session, account, item.session_id)
        session_id = session.id  # a rollback expires the session: kept to read it again
        form = await request.form()
        values = {"title": _field(form, "title"), "kind": _field(form, "kind")}
        errors: dict[str, str] = {}
        if not values["title"]:
            errors["title"] = _("Enter a title.")
        if values["kind"] not in {value for value, _label in KIND_CHOICES}:
            errors["kind"] = _("Choose a kind from the list.")
        if not errors:
            try:
                await programme.update_agenda_item(db_session, item.id, programme.AgendaItemUpdate(
                    title=values["title"], kind=AgendaItemKind(values["kind"]),
                ), now=utc_now(), settings=settings)
            except InvalidInputError as error:
                found: dict[str, str] = {}
                _domain_errors(found, error.errors)
                for field, message in found.items():
                    errors.setdefault("kind" if field == "kind" else "title", message)
            else:
                if not wants_part(request):
                    return Redirect(
                        f"/organiser/sessions/{session_id}/agenda?done=saved#item-{agenda_item_id}",
                        status_code=HTTP_303_SEE_OTHER, headers=VARY_HX_REQUEST)
                session = await programme.get_session(db_session, session_id)
                return self._row_part(request, session, agenda_item_id,
                                      notice=_("Saved: “%(title)s”.") % {"title": values["title"]})
        await db_session.rollback()
        session = await programme.get_session(db_session, session_id)
        if wants_part(request):
            return self._row_edit_part(request, session, agenda_item_id, values=values, errors=errors,
                                       status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        item = await programme.get_agenda_item(db_session, agenda_item_id)
        return await self._item_page(
            request, db_session, session, agenda_item_id,
            values={**_stored_values(item, session.event.timezone), **values},
            speakers=[str(s.person_id) for s in item.speakers], errors=errors,
            status_code=HTTP_422_UNPROCESSABLE_ENTITY, headers=VARY_HX_REQUEST)

    @post("/agenda-items/{agenda_item_id:int}/edit", status_code=200)
    async def save_item(self, request: AnyRequest, db_session: DbSession,
                        settings: SettingsDep, account: CurrentAccount,
                        agenda_item_id: IdParam) -> Response[Any]:
        item = await programme.get_agenda_item(db_session, agenda_item_id)
        session = await _editable_session(db_session, account, item.session_id)
        values, speakers, errors = _item_form(await request.form())
        if not errors:
            try:
                await programme.update_agenda_item(db_session, item.id, programme.AgendaItemUpdate(
                    starts_at=values["starts_at"], ends_at=values["ends_at"],
                    title=values["title"], kind=AgendaItemKind(values["kind"]),
                    description=values["description"],
                    speakers=[programme.SpeakerRef(person_id=int(p)) for p in speakers]
                    if speakers or item.speakers else UNSET,
                ), now=utc_now(), settings=settings)
            except InvalidInputError as error:
                _domain_errors(errors, error.errors)
            else:
                return Redirect(f"/organiser/sessions/{session.id}/agenda?done=saved",
                                status_code=HTTP_303_SEE_OTHER)
        session_id = session.id  # read before the rollback expires it
        await db_session.rollback()
        session = await programme.get_session(db_session, session_id)
        return await self._item_page(request, db_session, session, agenda_item_id, values=values,
                                     speakers=speakers, errors=errors,
                                     status_code=HTTP_422_UNPROCESSABLE_ENTITY)

    @post("/agenda-items/{agenda_item_id:int}/delete", status_code=200)
    async def delete_item(self, db_session: DbSession, settings: SettingsDep,
                          account: CurrentAccount, agenda_item_id: IdParam) -> Redirect:
        item = await programme.get_agenda_item(db_session, agenda_item_id)
        session = await _editable_session(db_session, account, item.session_id)
        await programme.delete_agenda_item(db_session, item.id, now=utc_now(), settings=settings)
        return Redirect(f"/organiser/sessions/{session.id}/agenda?done=deleted",
                        status_code=HTTP_303_SEE_OTHER)

    @post("/agenda-items/{agenda_item_id:int}/move", status_code=200)
    async def move_item(self, request: OrganiserRequest, db_session: DbSession,
                        settings: SettingsDep, account: CurrentAccount,
                        agenda_item_id: IdParam) -> Response[Any]:
        """One place earlier or later. Sent by htmx, the answer is the list alone (swapped in
        place, the focus on the item's own button, the move announced); otherwise back to
        the page."""
        item = await programme.get_agenda_item(db_session, agenda_item_id)
        session = await _editable_session(db_session, account, item.session_id)
        session_id = session.id  # a rollback expires the session: kept to read it again
        direction = _field(await request.form(), "direction")
        try:
            if direction not in ("up", "down"):
                raise InvalidInputError(_("Choose up or down."), "direction")
            moved = await programme.move_agenda_item(db_session, item.id,
                                                     earlier=direction == "up",
                                                     now=utc_now(), settings=settings)
        except InvalidInputError as error:
            await db_session.rollback()
            session = await programme.get_session(db_session, session_id)
            errors = {f"item-{agenda_item_id}": error.message}
            if wants_part(request):
                return self._items_part(request, session, errors=errors, notice=error.message,
                                        notice_is_error=True,
                                        status_code=HTTP_422_UNPROCESSABLE_ENTITY)
            return await self._agenda_page(
                request, db_session, session, errors=errors,
                status_code=HTTP_422_UNPROCESSABLE_ENTITY, headers=VARY_HX_REQUEST)
        if not wants_part(request):
            return Redirect(f"/organiser/sessions/{session.id}/agenda?done=moved#item-{agenda_item_id}",
                            status_code=HTTP_303_SEE_OTHER, headers=VARY_HX_REQUEST)
        session = await programme.get_session(db_session, session.id)
        rows = _rows(session, programme.review_agenda(session))
        place = next(n for n, row in enumerate(rows, start=1) if row.id == moved.id)
        row = rows[place - 1]
        # The pressed button, or the item's other one where it reached an end of the list.
        focus = direction if not (row.is_first if direction == "up" else row.is_last) else (
            "down" if direction == "up" else "up")
        when = time_span(moved.starts_at, moved.ends_at, session.event.timezone)
        notice = (_("Moved up: “%(title)s” is now item %(place)s of %(count)s, "
                    "%(start)s–%(end)s.") if direction == "up" else
                  _("Moved down: “%(title)s” is now item %(place)s of %(count)s, "
                    "%(start)s–%(end)s."))
        return self._items_part(
            request, session, rows=rows, focus_on=f"{focus}-{moved.id}",
            notice=notice % {"title": moved.title, "place": place, "count": len(rows),
                             "start": when.start, "end": when.end})

    def _items_part(
        self, request: OrganiserRequest, session: Session, *, notice: str,
        rows: Sequence[ItemRow] | None = None, errors: Mapping[str, str] | None = None,
        focus_on: str = "", notice_is_error: bool = False, status_code: int = 200,
    ) -> Response[str]:
        """The agenda list for htmx to swap in, and what changed for the status region."""
        return organiser_part(request, ("_agenda_items.html", "_agenda_status.html"), {
            "session": session,
            "rows": rows if rows is not None else _rows(session, programme.review_agenda(session)),
            "errors": dict(errors or {}), "focus_on": focus_on,
            "notice": notice, "notice_is_error": notice_is_error,
        }, status_code=status_code)

    # --- paste an agenda ---

    async def _paste_page(
        self, request: AnyRequest, db: AsyncSession, session: Session, *, text: str,
        errors: Mapping[str, str], preview: bool, choices: PastedAgenda | None = None, status_code: int = 200,
        item_errors: Mapping[int, list[str]] | None = None,
    ) -> Response[str]:
        agenda = programme.parse_agenda_text(text) if preview else None
        matches = await programme.find_agenda_matches(db, agenda) if agenda else None
        if matches is not None and choices is None:
            choices = default_choices(text, matches)
        return organiser_page(request, "agenda_paste.html", {
            "title": _("Paste an agenda: %(title)s") % {"title": session.title}, "nav": "events",
            **_session_context(session),
            "text": text,
            "agenda": agenda,
            "matches": matches,
            "choices": choices,
            "item_errors": item_errors or {},
            "errors": dict(errors),
            "error_links": _error_links(errors, order=("text",)),
            "kinds": dict(_choices(KIND_CHOICES)),
            "organisation_kinds": _choices(ORGANISATION_KIND_CHOICES),
            "organisations": [(str(o.id), o.name) for o in
                              await db.scalars(select(Organisation).order_by(Organisation.name))],
            "people": await _people_choices(db),
        }, status_code=status_code)

    @get("/sessions/{session_id:int}/agenda/paste")
    async def paste_form(self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
                         session_id: IdParam) -> Response[str]:
        session = await _editable_session(db_session, account, session_id)
        return await self._paste_page(request, db_session, session, text="", errors={}, preview=False)

    @post("/sessions/{session_id:int}/agenda/paste", status_code=200)
    async def paste_preview(self, request: AnyRequest, db_session: DbSession,
                            account: CurrentAccount, session_id: IdParam) -> Response[str]:
        session = await _editable_session(db_session, account, session_id)
        text = _field(await request.form(), "text")
        if not text:
            return await self._paste_page(
                request, db_session, session, text=text, preview=False,
                errors={"text": _("Paste the agenda: one item per line, starting with its "
                                  "time.")},
                status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        if len(text) > _LIMITS["text"]:
            return await self._paste_page(
                request, db_session, session, text=text, preview=False,
                errors={"text": _("Paste at most 20,000 characters: one session's agenda.")},
                status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        return await self._paste_page(request, db_session, session, text=text, errors={}, preview=True)

    @post("/sessions/{session_id:int}/agenda/paste/confirm", status_code=200)
    async def paste_confirm(self, request: AnyRequest, db_session: DbSession,
                            settings: SettingsDep, account: CurrentAccount,
                            session_id: IdParam) -> Response[Any]:
        session = await _editable_session(db_session, account, session_id)
        form = await request.form()
        text = _field(form, "text")
        if text and text != _field(form, "read_text"):
            # Edited after it was read: the matches shown no longer fit it. Read it again.
            return await self._paste_page(
                request, db_session, session, text=text, preview=True,
                errors={"text": _("The text changed since it was read: check what was read "
                                  "from it now, then create the agenda.")},
                status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        choices, errors = _paste_choices(form, text)
        item_errors: dict[int, list[str]] = {}
        if not errors:
            try:
                await programme.create_pasted_agenda(db_session, session.id, choices,
                                                     now=utc_now(), settings=settings)
            except InvalidInputError as error:
                _paste_domain_errors(error.errors, errors, item_errors)
            else:
                return Redirect(f"/organiser/sessions/{session.id}/agenda?done=pasted",
                                status_code=HTTP_303_SEE_OTHER)
        await db_session.rollback()
        session = await programme.get_session(db_session, session_id)
        return await self._paste_page(request, db_session, session, text=text, errors=errors,
                                      preview=bool(text), choices=choices,
                                      item_errors=item_errors,
                                      status_code=HTTP_422_UNPROCESSABLE_ENTITY)


def _paste_choices(form: FormMultiDict, text: str) -> tuple[PastedAgenda, dict[str, str]]:
    """The organiser's choice for each pasted organisation and person, read from the preview
    form (`org-N-...`, `person-N-...`, N in the order the preview listed them)."""
    errors: dict[str, str] = {}
    if not text:
        errors["text"] = _("Paste the agenda: one item per line, starting with its time.")
    organisations: list[OrganisationChoice] = []
    for index in range(_count(form, "org")):
        prefix = f"org-{index}"
        choice = _field(form, f"{prefix}-choice")
        kind = _field(form, f"{prefix}-kind") or OrganisationKind.OTHER.value
        if kind not in {value for value, _label in ORGANISATION_KIND_CHOICES}:
            errors[f"{prefix}-kind"] = _("Choose a type from the list.")
            kind = OrganisationKind.OTHER.value
        existing = _existing_id(choice, f"{prefix}-choice", errors)
        organisations.append(OrganisationChoice(
            written=_field(form, f"{prefix}-written") or "?", existing_id=existing,
            name=_field(form, f"{prefix}-name") or None, kind=OrganisationKind(kind)))
    people: list[PersonChoice] = []
    for index in range(_count(form, "person")):
        prefix = f"person-{index}"
        existing = _existing_id(_field(form, f"{prefix}-choice"), f"{prefix}-choice", errors)
        people.append(PersonChoice(
            written=_field(form, f"{prefix}-written") or "?",
            organisation=_field(form, f"{prefix}-organisation") or None, existing_id=existing,
            name=_field(form, f"{prefix}-name") or None))
    return PastedAgenda(text=text, organisations=organisations, people=people), errors


def _count(form: FormMultiDict, kind: str) -> int:
    raw = _field(form, f"{kind}-count")
    return min(int(raw), 200) if raw.isdigit() and len(raw) < 4 else 0


def _existing_id(choice: str, field: str, errors: dict[str, str]) -> int | None:
    if choice in ("", NEW):
        return None
    if not choice.isdigit() or len(choice) > 9 or int(choice) < 1:
        errors[field] = _("Choose from the list.")
        return None
    return int(choice)


_CHOICE_FIELD = re.compile(r"^(organisations|people)\[(\d+)\]\.(\w+)$")
_ITEM_FIELD = re.compile(r"^items\[(\d+)\]\.\w+$")


def _paste_domain_errors(found: Sequence[FieldError], errors: dict[str, str],
                         item_errors: dict[int, list[str]]) -> None:
    """The domain's paths onto the preview's fields: `people[1].name` is `person-1-name`, an
    item's problem goes beside its row and into the summary, linked to the row."""
    for error in found:
        field = error.field or "text"
        choice = _CHOICE_FIELD.match(field)
        item = _ITEM_FIELD.match(field)
        if choice:
            prefix = "org" if choice.group(1) == "organisations" else "person"
            suffix = "choice" if choice.group(3) == "existing_id" else choice.group(3)
            errors.setdefault(f"{prefix}-{choice.group(2)}-{suffix}", error.message)
        elif item:
            index = int(item.group(1))
            item_errors.setdefault(index, []).append(error.message)
            errors.setdefault(f"item-{index}", error.message)
        else:
            key = "text" if field in ("text", "organisations", "people") else field
            if key in errors:
                errors[key] = f"{errors[key]} {error.message}"
            else:
                errors[key] = error.message


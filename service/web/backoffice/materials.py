"""A session's materials in the back office: the links shared with it (slides, a recording,
a report), written one a line, for everyone or only for the people holding a place in it.

Reading needs an account that sees the event; changing needs an editor of it. Saving goes
through `service.domain.programme.materials` (all or nothing: a refused form comes back with
every problem beside its list and nothing stored). Telling people is the organisers'
message, offered with the session already chosen.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Controller, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER
from sqlalchemy.ext.asyncio import AsyncSession

from service.clock import utc_now
from service.db.models import Event, Session, SessionMaterial
from service.domain.errors import DomainError, FieldError, InvalidInputError
from service.domain.link_lists import read_lines
from service.domain.programme.materials import (
    FOR_REGISTRANTS,
    MAX_MATERIALS,
    PUBLIC,
    check_materials,
    session_materials,
    set_materials,
)
from service.domain.wording import period_text
from service.i18n import gettext as _
from service.web.backoffice.event_pages import heading, local_and_utc, session_for
from service.web.backoffice.forms import refusal_status, text
from service.web.backoffice.guards import (
    BACKOFFICE_PATH,
    CurrentAccount,
    require_account,
    require_editor,
)
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam

# The longest list a box takes: the most materials with the longest titles and addresses.
MATERIALS_TEXT = 40_000
FIELDS = (PUBLIC, FOR_REGISTRANTS)


def _as_lines(materials: list[SessionMaterial], for_registrants: bool) -> str:
    """The stored materials as the form writes them (an untitled one by its address)."""
    return "\n".join(m.url if m.title == m.url else f"{m.title} | {m.url}"
                     for m in materials if m.is_for_registrants == for_registrants)


# A problem's name: a list ("public"), or one of its materials ("public[2].url").
_MATERIAL = re.compile(r"(?P<list>[a-z_]+)(?:\[(?P<index>\d+)\]\.\w+)?")


def _errors(problems: tuple[FieldError, ...]) -> dict[str, str]:
    """Each list's first problem beside it, naming the material ("Material 3: ...")."""
    errors: dict[str, str] = {}
    for problem in problems:
        named = _MATERIAL.fullmatch(problem.field or PUBLIC)
        name = named.group("list") if named else PUBLIC
        message = (_("Material %(number)s: %(problem)s")
                   % {"number": int(named.group("index")) + 1, "problem": problem.message}
                   if named and named.group("index") else problem.message)
        errors.setdefault(name if name in FIELDS else PUBLIC, message)
    return errors


def _read(form: FormMultiDict) -> tuple[dict[str, str], dict[str, str]]:
    """The two lists as typed, and which one is longer than a box takes."""
    values = {name: text(form, name, MATERIALS_TEXT + 1) for name in FIELDS}
    too_long = {name: _("At most %(count)s characters.") % {"count": MATERIALS_TEXT}
                for name, value in values.items() if len(value) > MATERIALS_TEXT}
    return values, too_long


class SessionMaterialsController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False

    async def _page(self, request: AnyRequest, db: AsyncSession, account: CurrentAccount,
                    session: Session, event: Event, *, values: dict[str, str] | None = None,
                    errors: dict[str, str] | None = None, status_code: int = 200
                    ) -> Response[Any]:
        materials = (await session_materials(db, [session.id], for_registrants=True))[session.id]
        if values is None:
            values = {PUBLIC: _as_lines(materials, False),
                      FOR_REGISTRANTS: _as_lines(materials, True)}
        return organiser_page(request, "session_materials.html", {
            "title": _("Materials of %(title)s") % {"title": session.title}, "nav": "events",
            "event": heading(event, account), "session": session,
            "when": period_text(session.starts_at, session.ends_at, event.timezone),
            "materials": [(m, local_and_utc(m.shared_at, event.timezone)[0]) for m in materials],
            "values": values, "errors": errors or {},
            "most": MAX_MATERIALS,
            "done": request.query_params.get("done") == "saved",
        }, status_code=status_code)

    @get("/sessions/{session_id:int}/materials")
    async def materials_page(self, request: AnyRequest, db_session: DbSession,
                             account: CurrentAccount, session_id: IdParam) -> Response[Any]:
        session, event = await session_for(db_session, account, session_id)
        return await self._page(request, db_session, account, session, event)

    @post("/sessions/{session_id:int}/materials", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def save_materials(self, request: AnyRequest, db_session: DbSession,
                             account: CurrentAccount, session_id: IdParam) -> Response[Any]:
        session, event = await session_for(db_session, account, session_id, editing=True)
        values, too_long = _read(await request.form())
        lists = {name: [] if name in too_long else read_lines(values[name]) for name in FIELDS}
        # Every problem at once: a list too long for its box and what is wrong in the other.
        problems = [FieldError(name, message) for name, message in too_long.items()]
        try:
            check_materials(lists[PUBLIC], lists[FOR_REGISTRANTS])
        except InvalidInputError as refused:
            problems.extend(refused.errors)
        try:
            if problems:
                raise InvalidInputError.of(problems)
            await set_materials(db_session, session.id, public=lists[PUBLIC],
                                for_registrants=lists[FOR_REGISTRANTS], now=utc_now())
        except DomainError as error:
            await db_session.rollback()
            session, event = await session_for(db_session, account, session_id)
            return await self._page(request, db_session, account, session, event,
                                    values=values, errors=_errors(error.errors),
                                    status_code=refusal_status(error))
        return Redirect(f"{BACKOFFICE_PATH}/sessions/{session_id}/materials?done=saved",
                        status_code=HTTP_303_SEE_OTHER)

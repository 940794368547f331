"""A session's attendance list in the back office: after a webinar, organisers paste the
attendee report of their webinar tool and each registrant found there counts as having
attended (`registration.attendance_lists`); the page lists who attended so far, each with a
button that takes a mark made by mistake back.

Reading needs an account that sees the event; recording needs an editor of it. The answer
to a pasted report is the page itself, saying who was marked, who already was, and which
addresses belong to no registrant of the session.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from service.clock import utc_now
from service.db.models import Event, Session
from service.domain.errors import DomainError
from service.domain.registration.attendance_lists import (
    MAX_REPORT,
    AttendanceRecorded,
    attendees,
    record_attendance_list,
    take_back_attendance,
)
from service.domain.wording import period_text
from service.i18n import gettext as _
from service.web.backoffice.event_pages import heading, session_for
from service.web.backoffice.forms import field_errors, refusal_status, text
from service.web.backoffice.guards import (
    BACKOFFICE_PATH,
    CurrentAccount,
    require_account,
    require_editor,
)
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam


class AttendanceListController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False

    async def _page(self, request: AnyRequest, db: AsyncSession, account: CurrentAccount,
                    session: Session, event: Event, *, report: str = "",
                    recorded: AttendanceRecorded | None = None, taken_back: str = "",
                    errors: dict[str, str] | None = None, status_code: int = 200
                    ) -> Response[Any]:
        return organiser_page(request, "session_attendance.html", {
            "title": _("Attendance: %(title)s") % {"title": session.title}, "nav": "events",
            "event": heading(event, account), "session": session,
            "when": period_text(session.starts_at, session.ends_at, event.timezone),
            "has_started": session.starts_at <= utc_now(),
            "attended": await attendees(db, session.id),
            "values": {"report": report}, "errors": errors or {},
            "recorded": recorded, "taken_back": taken_back, "limit": MAX_REPORT,
        }, status_code=status_code)

    @get("/sessions/{session_id:int}/attendance")
    async def attendance_page(self, request: AnyRequest, db_session: DbSession,
                              account: CurrentAccount, session_id: IdParam) -> Response[Any]:
        session, event = await session_for(db_session, account, session_id)
        return await self._page(request, db_session, account, session, event)

    @post("/sessions/{session_id:int}/attendance", guards=[require_editor], status_code=200)
    async def record_attendance(self, request: AnyRequest, db_session: DbSession,
                                account: CurrentAccount, session_id: IdParam
                                ) -> Response[Any]:
        session, event = await session_for(db_session, account, session_id, editing=True)
        report = text(await request.form(), "report", MAX_REPORT + 1)
        errors: dict[str, str] = {}
        recorded = None
        if len(report) > MAX_REPORT:
            errors["report"] = _("At most %(count)s characters.") % {"count": MAX_REPORT}
        elif not report:
            errors["report"] = _("Paste the attendee report, or the attendees' addresses.")
        else:
            try:
                recorded = await record_attendance_list(db_session, session.id, report,
                                                        now=utc_now())
            except DomainError as error:
                errors = field_errors(error)
                await db_session.rollback()
                session, event = await session_for(db_session, account, session_id)
                return await self._page(request, db_session, account, session, event,
                                        report=report, errors=errors,
                                        status_code=refusal_status(error))
        if errors:
            return await self._page(request, db_session, account, session, event,
                                    report=report, errors=errors, status_code=422)
        return await self._page(request, db_session, account, session, event,
                                recorded=recorded)

    @post("/sessions/{session_id:int}/attendance/{registration_id:int}/take-back",
          guards=[require_editor], status_code=200)
    async def take_back(self, request: AnyRequest, db_session: DbSession,
                        account: CurrentAccount, session_id: IdParam, registration_id: IdParam
                        ) -> Response[Any]:
        """A mark made by mistake: the page again, saying whose mark was taken back."""
        session, event = await session_for(db_session, account, session_id, editing=True)
        name = await take_back_attendance(db_session, session.id, registration_id,
                                          now=utc_now())
        return await self._page(request, db_session, account, session, event,
                                taken_back=name)

"""The event's reminders in the back office: the schedule (each session and offset, due in
the event's zone and in UTC, how many are scheduled, sent, failed, skipped or cancelled),
the reminders that failed or were skipped, and the policy form (the event kind's default,
or the organiser's own offsets).

Reading needs an account that sees the event; changing the policy needs an editor of it,
and goes through `programme.update_event`, which re-plans every reminder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from service.clock import utc_now
from service.db.models import Event, EventKind
from service.domain import consultation, programme, reminders
from service.domain.reminders.schedule import (
    MAX_OFFSETS,
    offset_text,
    reminder_schedule,
)
from service.i18n import N_
from service.i18n import gettext as _
from service.web.backoffice.event_pages import event_for, heading, local_and_utc
from service.web.backoffice.guards import (
    BACKOFFICE_PATH,
    CurrentAccount,
    require_account,
    require_editor,
)
from service.web.backoffice.reminder_offsets import (
    offset_values,
    offsets_from_form,
    rows_context,
)
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam, SettingsDep

STATE_LABELS = {"scheduled": N_("Scheduled"), "sending": N_("Sending"), "sent": N_("Sent"),
                "failed": N_("Failed"), "skipped": N_("Skipped"), "cancelled": N_("Cancelled")}
LISTED_PROBLEMS = 200
STATE_ORDER = {state: number for number, state in enumerate(STATE_LABELS)}


@dataclass(frozen=True)
class ScheduleLine:
    session_title: str
    offset: str
    due_local: str
    due_utc: str
    is_in_policy: bool
    is_session_cancelled: bool
    counts: list[tuple[str, int]]  # the states with reminders, in order


class RemindersController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False

    async def _page(self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
                    event: Event, *, values: dict[str, str] | None = None,
                    errors: dict[str, str] | None = None, saved: bool = False,
                    status_code: int = 200) -> Response[Any]:
        now = utc_now()
        schedule = await reminder_schedule(db_session, event.id, now=now)
        problems = await reminders.list_reminders_for_event(db_session, event.id, now=now,
                                                             states=("failed", "skipped"))
        lines = []
        for row in schedule.rows:
            due_local, due_utc = local_and_utc(row.due_at, schedule.timezone)
            lines.append(ScheduleLine(
                session_title=row.session_title, offset=offset_text(row.offset_minutes),
                due_local=due_local, due_utc=due_utc, is_in_policy=row.is_in_policy,
                is_session_cancelled=row.is_session_cancelled,
                counts=[(_(STATE_LABELS[state]), count) for state, count in row.counts.items()
                        if count]))
        meeting_lines: list[tuple[str, list[tuple[str, int]]]] = []
        meeting_problems: list[tuple[consultation.MeetingReminderProblem, tuple[str, str]]] = []
        if event.kind == EventKind.MEET_YOUR_BUYER:
            by_offset, failed = await consultation.meeting_reminder_schedule(db_session, event.id)
            meeting_lines = [(offset_text(line.offset_minutes),
                              [(_(STATE_LABELS[state]), count)
                               for state, count in sorted(line.counts.items(),
                                                          key=lambda item: STATE_ORDER[item[0]])])
                             for line in by_offset]
            meeting_problems = [(problem, local_and_utc(problem.due_at, schedule.timezone))
                                for problem in failed[:LISTED_PROBLEMS] if problem.due_at]
        return organiser_page(request, "reminders.html", {
            "has_meetings": event.kind == EventKind.MEET_YOUR_BUYER,
            "meeting_lines": meeting_lines, "meeting_problems": meeting_problems,
            "title": _("Reminders: %(title)s") % {"title": event.title}, "nav": "events",
            "event": heading(event, account), "section": "reminders",
            "policy_text": ", ".join(offset_text(m) for m in schedule.offsets),
            "default_text": ", ".join(offset_text(m) for m in schedule.default_offsets),
            "is_default_policy": schedule.is_default_policy,
            "lines": lines, "totals": [(_(STATE_LABELS[s]), c) for s, c in schedule.totals.items()],
            "state_labels": {state: _(label) for state, label in STATE_LABELS.items()},
            "problems": [(view, local_and_utc(view.due_at, schedule.timezone))
                         for view in problems.reminders[:LISTED_PROBLEMS]],
            "problem_count": len(problems.reminders),
            "values": values or offset_values(schedule.offsets, schedule.is_default_policy,
                                              MAX_OFFSETS),
            "errors": errors or {}, **rows_context(MAX_OFFSETS),
            "saved": saved,
        }, status_code=status_code)

    @get("/events/{event_id:int}/reminders")
    async def show_reminders(
        self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
        event_id: IdParam, saved: Annotated[bool, QueryParameter()] = False,
    ) -> Response[Any]:
        event = await event_for(db_session, account, event_id)
        return await self._page(request, db_session, account, event, saved=saved)

    @post("/events/{event_id:int}/reminders/policy", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def change_policy(self, request: AnyRequest, db_session: DbSession,
                            settings: SettingsDep, account: CurrentAccount,
                            event_id: IdParam) -> Response[Any]:
        """The kind's default, or the offsets typed; every problem named, nothing changed."""
        event = await event_for(db_session, account, event_id, editing=True)
        values, offsets, errors = offsets_from_form(await request.form(), MAX_OFFSETS)
        if errors:
            return await self._page(request, db_session, account, event, values=values,
                                    errors=errors, status_code=422)
        await programme.update_event(db_session, event_id,
                                     programme.EventUpdate(reminder_offsets_minutes=offsets),
                                     now=utc_now(), settings=settings)
        return Redirect(f"{BACKOFFICE_PATH}/events/{event_id}/reminders?saved=true",
                        status_code=HTTP_303_SEE_OTHER)


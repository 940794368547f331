"""The back office's home: the upcoming events the signed-in account may see, with their
places taken and left, people waiting, pending applications, emails failed in the last seven
days and the next reminders due."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Response, get

from service.clock import utc_now
from service.db.models import Event, EventStatus
from service.domain.accounts import visible_event_ids
from service.domain.registration import dashboard
from service.domain.times import local_date
from service.domain.wording import date_range_text, start_text
from service.i18n import N_
from service.i18n import gettext as _
from service.web.backoffice.guards import BACKOFFICE_PATH, CurrentAccount, require_account
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession

STATUS_LABELS = {EventStatus.DRAFT: N_("Draft"), EventStatus.PUBLISHED: N_("Published"),
                 EventStatus.CANCELLED: N_("Cancelled")}


@dataclass(frozen=True)
class EventRow:
    id: int
    title: str
    slug: str
    dates: str
    status: str
    status_label: str


def event_row(event: Event) -> EventRow:
    sessions = event.sessions
    dates = (date_range_text(local_date(min(s.starts_at for s in sessions), event.timezone),
                             local_date(max(s.ends_at for s in sessions), event.timezone))
             if sessions else _("No sessions yet"))
    return EventRow(id=event.id, title=event.title, slug=event.slug, dates=dates,
                    status=event.status.value, status_label=_(STATUS_LABELS[event.status]))


class DashboardController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False

    @get("/")
    async def dashboard(self, request: AnyRequest, db_session: DbSession,
                        account: CurrentAccount) -> Response[Any]:
        now = utc_now()
        scope = None if account.is_admin else await visible_event_ids(db_session, account)
        figures = await dashboard.get_dashboard(db_session, now=now, event_ids=scope)
        return organiser_page(request, "dashboard.html", {
            "title": _("Dashboard"), "nav": "dashboard",
            "events": [(event_row(f.event), f) for f in figures.events],
            "failed_emails": figures.failed_emails,
            "reminders": [(r, start_text(r.due_at, r.event_timezone))
                          for r in figures.next_reminders]})

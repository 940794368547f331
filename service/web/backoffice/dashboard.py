"""The back office's home: the upcoming events the signed-in account may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Response, get

from service.clock import utc_now
from service.db.models import Event, EventStatus
from service.domain.accounts import list_visible_events
from service.domain.times import local_date
from service.domain.wording import date_range_text
from service.web.backoffice.guards import BACKOFFICE_PATH, CurrentAccount, require_account
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession

STATUS_LABELS = {EventStatus.DRAFT: "Draft", EventStatus.PUBLISHED: "Published",
                 EventStatus.CANCELLED: "Cancelled"}


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
             if sessions else "No sessions yet")
    return EventRow(id=event.id, title=event.title, slug=event.slug, dates=dates,
                    status=event.status.value, status_label=STATUS_LABELS[event.status])


class DashboardController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False

    @get("/")
    async def dashboard(self, request: AnyRequest, db_session: DbSession,
                        account: CurrentAccount) -> Response[Any]:
        events = await list_visible_events(db_session, account, now=utc_now())
        return organiser_page(request, "dashboard.html", {
            "title": "Dashboard", "nav": "dashboard",
            "events": [event_row(event) for event in events]})

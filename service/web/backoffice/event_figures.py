"""Participation in figures (`registration.participation_figures`), as organisers report
it to their network and funders, for one event and for a year's programme (the events the
account sees starting that year): registrations by state, how many came, and by
country and kind of organisation, as a page and as a spreadsheet (`figures.csv`). Counts
only, never names. Reading needs an account that sees the events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from litestar import Controller, Response, get
from litestar.params import QueryParameter

from service.clock import utc_now
from service.db.models import Event, RegistrationStatus
from service.domain import registration
from service.domain.accounts import visible_event_ids
from service.domain.registration import feedback
from service.domain.wording import STATUS_LABELS, kind_label, organisation_kind_label
from service.i18n import gettext as _
from service.web.api_registration import spreadsheet_csv
from service.web.backoffice.event_pages import event_for, heading
from service.web.backoffice.guards import BACKOFFICE_PATH, CurrentAccount, require_account
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.countries import country_name
from service.web.params import DbSession, IdParam

YearParam = Annotated[int | None, QueryParameter(ge=2000, le=2100)]


def _rows(shares: list[registration.Share], name: Callable[[str], str]
          ) -> list[tuple[str, int, int]]:
    """Each share as the page and the spreadsheet show it: its name, registered, came."""
    return [(name(share.key) if share.key is not None else _("Not given"), share.registered,
             share.came) for share in shares]


def _tables(figures: registration.ParticipationFigures) -> dict[str, Any]:
    return {
        # In the order of a registration's life (confirmed, waiting, ...).
        "statuses": [(STATUS_LABELS[status], figures.by_status[status])
                     for status in RegistrationStatus if status in figures.by_status],
        "countries": _rows(figures.by_country, country_name),
        "kinds": _rows(figures.by_organisation_kind, organisation_kind_label),
        "registered": figures.registered, "came": figures.came,
    }


def _figure_rows(tables: dict[str, Any]) -> list[list[object]]:
    rows: list[list[object]] = [["group", "value", "registered", "came"],
                                ["total", "", tables["registered"], tables["came"]]]
    rows += [["status", label, count, ""] for label, count in tables["statuses"]]
    rows += [["country", *row] for row in tables["countries"]]
    rows += [["organisation kind", *row] for row in tables["kinds"]]
    return rows


def spreadsheet_response(rows: list[list[object]], file_name: str) -> Response[bytes]:
    """A download of `rows` (`spreadsheet_csv`), never cached."""
    return Response(spreadsheet_csv(rows), media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{file_name}"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


class EventFiguresController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False

    @get("/events/{event_id:int}/figures")
    async def show_figures(self, request: AnyRequest, db_session: DbSession,
                           account: CurrentAccount, event_id: IdParam) -> Response[Any]:
        event = await event_for(db_session, account, event_id)
        figures = await registration.participation_figures(db_session, [event.id])
        return organiser_page(request, "event_figures.html", {
            "title": _("Figures: %(title)s") % {"title": event.title}, "nav": "events",
            "event": heading(event, account), **_tables(figures),
        })

    @get("/events/{event_id:int}/figures.csv")
    async def figures_csv(self, db_session: DbSession, account: CurrentAccount,
                          event_id: IdParam) -> Response[bytes]:
        """One row per figure: (group, value, registered, came)."""
        event = await event_for(db_session, account, event_id)
        tables = _tables(await registration.participation_figures(db_session, [event.id]))
        return spreadsheet_response(_figure_rows(tables), f"figures-{event.slug}.csv")


class YearFiguresController(Controller):
    """A year's programme in figures: each event's, and all of them together."""

    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False

    async def _year(self, db: DbSession, account: CurrentAccount, year: int | None
                    ) -> tuple[int, list[Event], registration.ParticipationFigures]:
        chosen = year if year is not None else utc_now().year
        scope = None if account.is_admin else await visible_event_ids(db, account)
        events = await registration.events_of_year(db, chosen, scope)
        return chosen, events, await registration.participation_figures(
            db, [event.id for event in events])

    @get("/figures")
    async def year_figures(self, request: AnyRequest, db_session: DbSession,
                           account: CurrentAccount, year: YearParam = None) -> Response[Any]:
        chosen, events, figures = await self._year(db_session, account, year)
        ratings = await feedback.ratings_by_event(db_session, [event.id for event in events])
        return organiser_page(request, "year_figures.html", {
            "title": _("Figures of %(year)s") % {"year": chosen}, "nav": "dashboard",
            "year": chosen, "years": (chosen - 1, chosen + 1),
            # Each event: its kind, registered, came, and its feedback (average, answers).
            "events": [(event, kind_label(event.kind), *figures.by_event.get(event.id, (0, 0)),
                        ratings.get(event.id)) for event in events],
            "people": figures.people, "people_came": figures.people_came,
            **_tables(figures),
        })

    @get("/figures.csv")
    async def year_figures_csv(self, db_session: DbSession, account: CurrentAccount,
                               year: YearParam = None) -> Response[bytes]:
        """One row per figure: (group, value, registered, came); different people (each
        address once); each event by its title."""
        chosen, events, figures = await self._year(db_session, account, year)
        rows = _figure_rows(_tables(figures))
        rows.insert(2, ["different people", "", figures.people, figures.people_came])
        rows += [["event", event.title, *figures.by_event.get(event.id, (0, 0))]
                 for event in events]
        return spreadsheet_response(rows, f"figures-{chosen}.csv")

"""An event's participation in figures (`registration.participation_figures`), as organisers
report it to their network and funders: registrations by state, how many came, and by
country and kind of organisation, as a page and as a spreadsheet (`figures.csv`). Counts
only, never names. Reading needs an account that sees the event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Controller, Response, get

from service.db.models import RegistrationStatus
from service.domain import registration
from service.domain.wording import STATUS_LABELS, organisation_kind_label
from service.i18n import gettext as _
from service.web.api_registration import spreadsheet_csv
from service.web.backoffice.event_pages import event_for, heading
from service.web.backoffice.guards import BACKOFFICE_PATH, CurrentAccount, require_account
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.countries import country_name
from service.web.params import DbSession, IdParam


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


class EventFiguresController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False

    @get("/events/{event_id:int}/figures")
    async def show_figures(self, request: AnyRequest, db_session: DbSession,
                           account: CurrentAccount, event_id: IdParam) -> Response[Any]:
        event = await event_for(db_session, account, event_id)
        figures = await registration.participation_figures(db_session, event.id)
        return organiser_page(request, "event_figures.html", {
            "title": _("Figures: %(title)s") % {"title": event.title}, "nav": "events",
            "event": heading(event, account), **_tables(figures),
        })

    @get("/events/{event_id:int}/figures.csv")
    async def figures_csv(self, db_session: DbSession, account: CurrentAccount,
                          event_id: IdParam) -> Response[bytes]:
        """One row per figure: (group, value, registered, came)."""
        event = await event_for(db_session, account, event_id)
        tables = _tables(await registration.participation_figures(db_session, event.id))
        rows: list[list[object]] = [["group", "value", "registered", "came"],
                                    ["total", "", tables["registered"], tables["came"]]]
        rows += [["status", label, count, ""] for label, count in tables["statuses"]]
        rows += [["country", *row] for row in tables["countries"]]
        rows += [["organisation kind", *row] for row in tables["kinds"]]
        return Response(spreadsheet_csv(rows), media_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="figures-{event.slug}.csv"',
            "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})

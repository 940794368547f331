"""What is printed for a session's door: the attendance sheet that people sign as they
arrive (funders of a seminar or a study visit often ask for one as proof of attendance),
and a name badge for each person with a place. Pages for the browser's Print command, no
script: an A4 sheet (number, name, organisation, country, a signature column, blank lines
for who comes without registering) and badges of 90 x 55 mm, to cut along their borders.

Both list the people holding a place in that session (`registration.people_with_a_place`),
by name, as the check-in list does. Reading needs an account that sees the event; like
every back-office page, they are never cached (they name people).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Response, get

from service.db.models import Event, Registration, Session
from service.domain import registration
from service.domain.errors import NotFoundError
from service.domain.wording import clock_range, venue_line
from service.i18n import gettext as _
from service.web.backoffice.check_in import chosen_door, door_label
from service.web.backoffice.event_pages import event_for, heading
from service.web.backoffice.guards import BACKOFFICE_PATH, CurrentAccount, require_account
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.countries import country_name
from service.web.params import DbSession, IdParam, OptionalIdQuery

# Lines left empty at the foot of the sheet, for people who come without registering.
BLANK_LINES = 8


def _door(event: Event, session_id: int | None) -> Session:
    door = chosen_door(event, session_id)
    if door is None:
        raise NotFoundError(_("This event has no session to come to."), "session")
    return door


def _person(person: Registration) -> dict[str, str]:
    return {"name": person.name,
            "organisation": person.company or person.organisation_name or "",
            "country": country_name(person.country) if person.country else ""}


class DoorPrintsController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False

    async def _page(self, request: AnyRequest, db: DbSession, account: CurrentAccount,
                    event_id: int, session_id: int | None, template: str, title: str
                    ) -> Response[Any]:
        event = await event_for(db, account, event_id)
        door = _door(event, session_id)
        zone = ZoneInfo(event.timezone)
        people = await registration.people_with_a_place(db, door.id)
        return organiser_page(request, template, {
            "title": title % {"title": event.title}, "nav": "events",
            "event": heading(event, account), "section": "check-in",
            "door": door, "door_label": door_label(door, event),
            "times": clock_range(door.starts_at.astimezone(zone), door.ends_at.astimezone(zone)),
            "venue": venue_line(event) or "",
            "people": [_person(person) for person in people],
            "blank_lines": BLANK_LINES,
        })

    @get("/events/{event_id:int}/check-in/sheet")
    async def attendance_sheet(self, request: AnyRequest, db_session: DbSession,
                               account: CurrentAccount, event_id: IdParam,
                               session: OptionalIdQuery = None) -> Response[Any]:
        """A session's attendance sheet (without `session`, the one under way)."""
        return await self._page(request, db_session, account, event_id, session,
                                "door_sheet.html", _("Attendance sheet: %(title)s"))

    @get("/events/{event_id:int}/check-in/badges")
    async def name_badges(self, request: AnyRequest, db_session: DbSession,
                          account: CurrentAccount, event_id: IdParam,
                          session: OptionalIdQuery = None) -> Response[Any]:
        """A name badge for each person with a place in the session."""
        return await self._page(request, db_session, account, event_id, session,
                                "door_badges.html", _("Name badges: %(title)s"))

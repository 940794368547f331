"""An event's personal data in the back office: when its registrants' data is anonymised
(and the notes deleted sooner), what happens then, how many rows that will touch, and the
event's own retention period (editors of the event: its team's organisers, administrators).
An Interest Group's page says the same of its members.

Reading needs an account that sees the event (or group). The dates come from
`service.domain.privacy.retention`, which the hourly job follows too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_ENTITY

from service.clock import utc_now
from service.db.models import Event, OrganisationKind
from service.domain import groups, wording
from service.domain.accounts import can_see_group
from service.domain.errors import InvalidInputError, NotFoundError
from service.domain.privacy import retention
from service.i18n import gettext as _
from service.web.backoffice.event_pages import event_for, heading, local_and_utc
from service.web.backoffice.guards import (
    BACKOFFICE_PATH,
    CurrentAccount,
    require_account,
    require_editor,
)
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam, SettingsDep

FIELD = "retention_months"


def _when(instant: datetime | None, zone: str, now: datetime) -> dict[str, Any] | None:
    if instant is None:
        return None
    local, utc = local_and_utc(instant, zone)
    return {"local": local, "utc": utc, "is_past": instant <= now}


def _kind_label(kind: OrganisationKind | None) -> str:
    return _(wording.ORGANISATION_KIND_LABELS[kind]) if kind is not None else _("Not given")


class PersonalDataController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False

    async def _page(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                    account: CurrentAccount, event: Event, *,
                    values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                    saved: bool = False, status_code: int = 200) -> Response[Any]:
        now = utc_now()
        outlook = await retention.get_retention_outlook(db_session, event, settings)
        counts = await retention.participation_counts(db_session, event.id)
        dates = outlook.dates
        zone = event.timezone
        return organiser_page(request, "personal_data.html", {
            "title": _("Personal data: %(title)s") % {"title": event.title}, "nav": "events",
            "event": heading(event, account), "section": "personal-data",
            "dates": dates,
            "ends": _when(dates.ends_at, zone, now),
            "notes_deleted": _when(dates.access_notes_deleted_at, zone, now),
            "contact_erased": _when(dates.contact_erased_at, zone, now),
            "erased": _when(dates.erased_at, zone, now),
            "outlook": outlook,
            "default_months": settings.retention_months,
            "note_days": settings.access_note_days,
            "record_months": retention.MEET_YOUR_BUYER_RECORD_MONTHS,
            "by_kind": sorted((_kind_label(k), n) for k, n in counts.by_organisation_kind.items()),
            "by_country": sorted((c or _("Not given"), n) for c, n in counts.by_country.items()),
            "values": values or {FIELD: "" if event.retention_months is None
                                 else str(event.retention_months)},
            "errors": errors or {}, "saved": saved,
        }, status_code=status_code)

    @get("/events/{event_id:int}/personal-data")
    async def show_personal_data(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
        account: CurrentAccount, event_id: IdParam,
        saved: Annotated[bool, QueryParameter()] = False,
    ) -> Response[Any]:
        event = await event_for(db_session, account, event_id)
        return await self._page(request, db_session, settings, account, event, saved=saved)

    @post("/events/{event_id:int}/personal-data/retention", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def change_retention(self, request: AnyRequest, db_session: DbSession,
                               settings: SettingsDep, account: CurrentAccount,
                               event_id: IdParam) -> Response[Any]:
        """The event's own number of months, or empty for the installation's default."""
        event = await event_for(db_session, account, event_id, editing=True)
        form = await request.form()
        typed = str(form.get(FIELD) or "").strip()
        months: int | None = None
        try:
            if typed:
                if not typed.isdigit():
                    raise InvalidInputError(_("Give a whole number of months, or leave it empty."),
                                            FIELD)
                # Leading zeros read as the number they pad; too many digits for any
                # number of months stands for one out of range (the domain names the range).
                digits = typed.lstrip("0") or "0"
                months = int(digits) if len(digits) <= 6 else 1_000_000
            await retention.set_event_retention(db_session, event, months, now=utc_now())
        except InvalidInputError as refused:
            return await self._page(request, db_session, settings, account, event,
                                    values={FIELD: typed[:20]},
                                    errors={FIELD: refused.message},
                                    status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        return Redirect(f"{BACKOFFICE_PATH}/events/{event_id}/personal-data?saved=true",
                        status_code=HTTP_303_SEE_OTHER)

    @get("/groups/{group_id:int}/personal-data")
    async def show_group_personal_data(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
        account: CurrentAccount, group_id: IdParam,
    ) -> Response[Any]:
        group = await groups.get_group(db_session, group_id)
        if not can_see_group(account, group):  # the guard refuses first; kept as a second lock
            raise NotFoundError(_("No Interest Group with id %(id)s.") % {"id": group_id},
                                "group_id")
        now = utc_now()
        outlook = await retention.get_group_retention_outlook(db_session, group, settings,
                                                              now=now)
        zone = group.timezone
        return organiser_page(request, "groups_personal_data.html", {
            "title": _("Personal data: %(topic)s") % {"topic": group.topic}, "nav": "groups",
            "group": group, "outlook": outlook,
            "ends": _when(outlook.ends_at, zone, now),
            "members_go": _when(outlook.members_go_at, zone, now),
            "next_departed_go": _when(outlook.next_departed_go_at, zone, now),
            "next_guest_go": _when(outlook.next_guest_go_at, zone, now),
        })

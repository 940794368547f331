"""Public JSON API: the published programme, with no private field anywhere in it."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo

from litestar import Controller, get
from litestar.params import PathParameter, QueryParameter

from service.db.models import EventKind
from service.domain import programme
from service.domain.programme.materials import session_materials
from service.domain.times import check_day
from service.i18n import current_language
from service.web import presenters, schemas
from service.web.params import DbSession, SettingsDep

SlugParam = Annotated[str, PathParameter(min_length=1, max_length=120, pattern=r"^[a-z0-9-]+$")]
_BRUSSELS = ZoneInfo("Europe/Brussels")


def _day_start(day: date | None) -> datetime | None:
    return datetime.combine(day, time(0), tzinfo=_BRUSSELS) if day else None


class PublicController(Controller):
    path = "/api"
    tags = ["public"]

    @get("/events")
    async def list_events(
        self, db_session: DbSession, settings: SettingsDep,
        kind: Annotated[list[EventKind] | None, QueryParameter(name="kind",
                        description="Filter by kind; repeat for several.")] = None,
        date_from: Annotated[date | None, QueryParameter(name="from", description=(
            "Events still running on or after this day (Brussels time; 1900-01-01 to "
            "2999-12-31)."))] = None,
        date_to: Annotated[date | None, QueryParameter(name="to", description=(
            "Events starting before the end of this day (Brussels time; 1900-01-01 to "
            "2999-12-31)."))] = None,
        q: Annotated[str | None, QueryParameter(max_length=100, pattern=r"^[^\x00-\x1f\x7f%_\\]*$")]
        = None,
        page: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> schemas.EventPageOut:
        starts_from = _day_start(check_day(date_from, "from")) if date_from else None
        until = (_day_start(date.fromordinal(check_day(date_to, "to").toordinal() + 1))
                 if date_to else None)
        result = await programme.list_events(
            db_session,
            programme.EventFilter(
                kinds=kind or (), starts_from=starts_from, starts_until=until, search=q
            ),
            page=page,
            page_size=page_size,
        )
        return schemas.EventPageOut(
            items=[presenters.event_summary_out(e, settings, current_language())
                   for e in result.events],
            total=result.total,
            page=result.page,
            page_size=result.page_size,
        )

    @get("/events/{slug:str}")
    async def get_event(
        self, db_session: DbSession, settings: SettingsDep, slug: SlugParam
    ) -> schemas.EventOut:
        """The event with its texts in the reader's language where they were translated."""
        event = await programme.get_published_event(db_session, slug)
        materials = await session_materials(db_session, [s.id for s in event.sessions])
        return presenters.event_out(event, settings, current_language(), materials)

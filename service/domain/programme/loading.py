"""Loading the programme: events, sessions and agenda items with what they are shown with.

The one place that knows how an event is loaded with its sessions, agenda items and
speakers; every other package asks here rather than writing its own query. Read-only: no
command lives here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from service.db.models import (
    AgendaItem,
    AgendaItemSpeaker,
    ContentTranslation,
    Event,
    EventKind,
    EventStatus,
    Person,
    Session,
)
from service.domain.errors import NotFoundError
from service.i18n import gettext as _


def title_matches(condition: Any) -> ColumnElement[bool]:
    """Events with a translated title satisfying `condition` (given the text column): the
    programme's searches find an event by any of its titles."""
    return exists().where(and_(
        ContentTranslation.event_id == Event.id,
        ContentTranslation.target == "event",
        ContentTranslation.field == "title",
        condition(ContentTranslation.text),
    ))


def _event_tree_options() -> list[Any]:
    """What pages, invites and emails read of an event: sessions, agenda items, speakers."""
    return [
        selectinload(Event.host_organisation),
        selectinload(Event.content_translations),
        selectinload(Event.sessions)
        .selectinload(Session.agenda_items)
        .selectinload(AgendaItem.speakers)
        .options(
            selectinload(AgendaItemSpeaker.person).selectinload(Person.organisation),
            selectinload(AgendaItemSpeaker.organisation),
        ),
    ]


async def get_event(db: AsyncSession, event_id: int, *, lock: bool = False) -> Event:
    """The one event loader: the event with its sessions, agenda items and speakers, each
    session linked back to it. `lock` holds the event's row until commit on PostgreSQL
    (FOR NO KEY UPDATE: writers of its registrations run one at a time, while inserts that
    merely reference the event are not blocked)."""
    query = (select(Event).where(Event.id == event_id).options(*_event_tree_options())
             .execution_options(populate_existing=True))
    if lock and db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(key_share=True, of=Event)
    event = await db.scalar(query)
    if event is None:
        raise NotFoundError(_("No event with id %(event_id)s.") % {"event_id": event_id}, "event_id")
    for session in event.sessions:
        set_committed_value(session, "event", event)
    return event


async def get_published_event(db: AsyncSession, slug: str) -> Event:
    event = await db.scalar(
        select(Event)
        .where(Event.slug == slug, Event.status != EventStatus.DRAFT)
        .options(*_event_tree_options())
    )
    if event is None:
        raise NotFoundError(_("No published event %(slug)r.") % {"slug": slug}, "slug")
    return event


@dataclass(frozen=True)
class EventFilter:
    kinds: Sequence[EventKind] = ()
    starts_from: datetime | None = None
    starts_until: datetime | None = None
    statuses: Sequence[EventStatus] = (EventStatus.PUBLISHED, EventStatus.CANCELLED)
    search: str | None = None
    # A further condition on Event: the caller's team scope (service.domain.accounts).
    only: ColumnElement[bool] | None = None


@dataclass(frozen=True)
class Page:
    events: list[Event]
    total: int
    page: int
    page_size: int


def _event_bounds() -> Any:
    return (
        select(Session.event_id, func.min(Session.starts_at).label("first_start"),
               func.max(Session.ends_at).label("last_end"))
        .group_by(Session.event_id)
        .subquery()
    )


async def list_events(
    db: AsyncSession, event_filter: EventFilter, *, page: int = 1, page_size: int = 20
) -> Page:
    """Events in date order (by their first session); events without sessions come last."""
    bounds = _event_bounds()
    query: Select[Any] = select(Event).outerjoin(bounds, bounds.c.event_id == Event.id)
    if event_filter.statuses:
        query = query.where(Event.status.in_(list(event_filter.statuses)))
    if event_filter.kinds:
        query = query.where(Event.kind.in_(list(event_filter.kinds)))
    if event_filter.starts_from is not None:
        query = query.where(bounds.c.last_end >= event_filter.starts_from)
    if event_filter.starts_until is not None:
        query = query.where(bounds.c.first_start < event_filter.starts_until)
    if event_filter.search:
        # Any of its titles: the default language's column or a translation.
        pattern = f"%{event_filter.search}%"
        query = query.where(or_(Event.title.ilike(pattern),
                                title_matches(lambda text: text.ilike(pattern))))
    if event_filter.only is not None:
        query = query.where(event_filter.only)
    total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await db.scalars(
        query.order_by(bounds.c.first_start.is_(None), bounds.c.first_start, Event.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
        .options(*_event_tree_options())
    )
    return Page(events=list(rows), total=total, page=page, page_size=page_size)


async def get_session(db: AsyncSession, session_id: int) -> Session:
    session = await db.scalar(
        select(Session)
        .where(Session.id == session_id)
        .options(
            selectinload(Session.event).options(selectinload(Event.host_organisation),
                                                selectinload(Event.content_translations)),
            selectinload(Session.agenda_items)
            .selectinload(AgendaItem.speakers)
            .options(
                selectinload(AgendaItemSpeaker.person).selectinload(Person.organisation),
                selectinload(AgendaItemSpeaker.organisation),
            ),
        )
        .execution_options(populate_existing=True)
    )
    if session is None:
        raise NotFoundError(_("No session with id %(session_id)s.")
                                % {"session_id": session_id}, "session_id")
    return session


async def get_agenda_item(db: AsyncSession, agenda_item_id: int) -> AgendaItem:
    item = await db.scalar(
        select(AgendaItem)
        .where(AgendaItem.id == agenda_item_id)
        .options(
            selectinload(AgendaItem.session).selectinload(Session.event)
            .selectinload(Event.content_translations),
            selectinload(AgendaItem.speakers).options(
                selectinload(AgendaItemSpeaker.person).selectinload(Person.organisation),
                selectinload(AgendaItemSpeaker.organisation),
            ),
        )
        .execution_options(populate_existing=True)
    )
    if item is None:
        raise NotFoundError(_("No agenda item with id %(agenda_item_id)s.")
                                % {"agenda_item_id": agenda_item_id}, "agenda_item_id")
    return item


async def find_speaker_items(db: AsyncSession, person_id: int
                             ) -> tuple[Person | None, list[AgendaItem]]:
    """A speaker and their agenda items in events that are not drafts, in time order, with
    each item's session, event and agenda loaded (the speaker's page)."""
    person = await db.scalar(
        select(Person).where(Person.id == person_id).options(selectinload(Person.organisation))
    )
    if person is None:
        return None, []
    speakers = (selectinload(AgendaItemSpeaker.person).selectinload(Person.organisation),
                selectinload(AgendaItemSpeaker.organisation))
    items = await db.scalars(
        select(AgendaItem)
        .join(AgendaItemSpeaker, AgendaItemSpeaker.agenda_item_id == AgendaItem.id)
        .join(Session, Session.id == AgendaItem.session_id)
        .join(Event, Event.id == Session.event_id)
        .where(AgendaItemSpeaker.person_id == person_id, Event.status != EventStatus.DRAFT)
        .order_by(AgendaItem.starts_at, AgendaItem.id)
        .options(
            selectinload(AgendaItem.speakers).options(*speakers),
            selectinload(AgendaItem.session).options(
                selectinload(Session.event).options(selectinload(Event.sessions),
                                                    selectinload(Event.content_translations)),
                selectinload(Session.agenda_items).selectinload(AgendaItem.speakers)
                .options(*speakers),
            ),
        )
    )
    return person, list(items)

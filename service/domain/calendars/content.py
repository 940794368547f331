"""A session and its event as a calendar shows them in one language (invites, downloads).

`entries.session_entry` reads titles straight from what it is given; these light copies
carry the texts of `service.domain.programme.translations` in the reader's language (the
default language's where nothing is translated), so an invite says what the email says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from service.db.models import (
    AgendaItem,
    AgendaItemSpeaker,
    Event,
    EventKind,
    Session,
    SessionMode,
    SessionStatus,
)
from service.domain.programme.translations import localised


@dataclass(frozen=True)
class ItemText:
    id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    sequence: int
    created_at: datetime
    updated_at: datetime
    speakers: Sequence[AgendaItemSpeaker]


@dataclass(frozen=True)
class SessionText:
    id: int
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    mode: SessionMode
    join_url: str | None
    status: SessionStatus
    sequence: int
    created_at: datetime
    updated_at: datetime
    agenda_items: Sequence[ItemText]


@dataclass(frozen=True)
class EventText:
    title: str
    slug: str
    kind: EventKind
    timezone: str
    contact_email: str | None
    venue_name: str | None
    venue_address: str | None
    venue_city: str | None
    venue_country: str | None


def event_in(event: Event, language: str | None) -> EventText:
    return EventText(
        title=localised(event, "title", language), slug=event.slug, kind=event.kind,
        timezone=event.timezone, contact_email=event.contact_email,
        venue_name=event.venue_name, venue_address=event.venue_address,
        venue_city=event.venue_city, venue_country=event.venue_country,
    )


def _item_in(item: AgendaItem, event: Event, language: str | None) -> ItemText:
    return ItemText(
        id=item.id, title=localised(event, "title", language, item), starts_at=item.starts_at,
        ends_at=item.ends_at, sequence=item.sequence, created_at=item.created_at,
        updated_at=item.updated_at, speakers=item.speakers,
    )


def session_in(session: Session, event: Event, language: str | None) -> SessionText:
    """`session` (agenda loaded) with its title, its description and its agenda's titles in
    `language`."""
    return SessionText(
        id=session.id, title=localised(event, "title", language, session),
        description=localised(event, "description", language, session),
        starts_at=session.starts_at, ends_at=session.ends_at, mode=session.mode,
        join_url=session.join_url, status=session.status, sequence=session.sequence,
        created_at=session.created_at, updated_at=session.updated_at,
        agenda_items=[_item_in(item, event, language) for item in session.agenda_items],
    )

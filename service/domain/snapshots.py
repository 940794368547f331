"""What registrants and speakers were told about a session or an agenda item, kept to compare.

A change is measured against a snapshot taken before it: the difference decides whether the
SEQUENCE of invites rises and what a change notice says. Plain values, no database access.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from service.db.models import AgendaItem, Event, Session
from service.domain.wording import venue_line


@dataclass(frozen=True)
class SessionSnapshot:
    """What registrants were told about a session: the fields whose change they must hear of,
    and the event's fields that its reminders also say."""

    title: str
    starts_at: datetime
    ends_at: datetime
    mode: str
    status: str
    join_url: str | None
    venue: str | None
    event_title: str = ""
    event_slug: str = ""
    timezone: str = ""
    contact_email: str | None = None

    def material_changes(self, other: SessionSnapshot) -> list[str]:
        """Names of the fields that differ in time, place or status (what bumps SEQUENCE)."""
        fields = ("starts_at", "ends_at", "mode", "status", "join_url", "venue")
        return [name for name in fields if getattr(self, name) != getattr(other, name)]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["starts_at"] = self.starts_at.isoformat()
        data["ends_at"] = self.ends_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SessionSnapshot:
        return cls(
            title=data["title"],
            starts_at=datetime.fromisoformat(data["starts_at"]),
            ends_at=datetime.fromisoformat(data["ends_at"]),
            mode=data["mode"],
            status=data["status"],
            join_url=data.get("join_url"),
            venue=data.get("venue"),
            event_title=data.get("event_title", ""),
            event_slug=data.get("event_slug", ""),
            timezone=data.get("timezone", ""),
            contact_email=data.get("contact_email"),
        )


def snapshot_session(session: Session, event: Event) -> SessionSnapshot:
    return SessionSnapshot(
        title=session.title,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        mode=str(session.mode),
        status=str(session.status),
        join_url=session.join_url,
        venue=venue_line(event) if str(session.mode) != "online" else None,
        event_title=event.title,
        event_slug=event.slug,
        timezone=event.timezone,
        contact_email=event.contact_email,
    )


@dataclass(frozen=True)
class AgendaItemSnapshot:
    id: int
    session_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    speaker_ids: tuple[int, ...]
    sequence: int = 0


def snapshot_agenda_item(item: AgendaItem) -> AgendaItemSnapshot:
    return AgendaItemSnapshot(
        id=item.id,
        session_id=item.session_id,
        title=item.title,
        starts_at=item.starts_at,
        ends_at=item.ends_at,
        speaker_ids=tuple(s.person_id for s in item.speakers),
        sequence=item.sequence,
    )

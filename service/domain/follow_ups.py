"""What must follow a change to the programme: SEQUENCE bumps, enrolments, reminders, notices.

The programme functions call these hooks after every edit, inside the same transaction, so
that whatever registrants and speakers are told is written together with the change itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import AgendaItem, Event, Registration, Session
from service.settings import Settings


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


def venue_line(event: Event) -> str | None:
    parts = [event.venue_name, event.venue_address, event.venue_city, event.venue_country]
    text = ", ".join(part for part in parts if part)
    return text or None


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


async def after_session_added(
    db: AsyncSession, session: Session, event: Event, *, now: datetime, settings: Settings
) -> None:
    """A new session of an event: whole-event registrants are enrolled in it."""
    from service.domain.registration import enrol_in_new_session  # registration imports us

    await enrol_in_new_session(db, session, now=now, settings=settings)


async def after_session_changed(
    db: AsyncSession, session: Session, event: Event, before: SessionSnapshot, *,
    now: datetime, settings: Settings,
) -> None:
    """Bump SEQUENCE on a change of time, place or status, and tell whoever must know;
    reminders follow any change of what they say (prepared ones are composed again)."""
    after = snapshot_session(session, event)
    if after == before:
        return
    # Imported here: these modules build on the programme, which imports this one.
    from service.domain import change_notices, reminders, speaker_notices

    material = before.material_changes(after)
    if material:
        session.sequence += 1
        session.updated_at = now
        await db.flush()
    if (before.starts_at, before.status, before.timezone) != (
            after.starts_at, after.status, after.timezone):
        await reminders.retime_reminders_for_session(db, session, event, now=now)
    else:  # due times stay: only what prepared reminders say is out of date
        await reminders.refresh_prepared_reminders(
            db, session.id, now=now, note=reminders.WITHDRAWN_SESSION_CHANGED)
    if material:
        await change_notices.record_session_change(
            db, session, event, before, now=now, settings=settings
        )
        await speaker_notices.notify_session_change(
            db, session, event, before, now=now, settings=settings
        )


async def after_agenda_changed(
    db: AsyncSession, session: Session, *, added: AgendaItem | None,
    removed: AgendaItemSnapshot | None, moved_from: AgendaItemSnapshot | None,
    now: datetime, settings: Settings, item: AgendaItem | None = None,
) -> None:
    """An agenda item was added, edited or removed: its speakers hear of their slots, and
    reminders composed ahead (which show the agenda) are composed again."""
    from service.domain import change_notices, reminders, speaker_notices  # they import us

    await reminders.refresh_prepared_reminders(db, session.id, now=now)
    await change_notices.record_agenda_change(
        db, session, added=added, removed=removed, moved_from=moved_from, item=item, now=now,
        settings=settings,
    )
    await speaker_notices.notify_agenda_change(
        db, session, added=added, removed=removed, moved_from=moved_from, now=now,
        settings=settings,
    )


async def after_speaker_details_changed(
    db: AsyncSession, *, now: datetime, person_id: int | None = None,
    organisation_id: int | None = None,
) -> None:
    """A person's name or organisation, or an organisation's name, changed: agendas show
    them, so reminders composed ahead for their sessions are composed again."""
    from service.domain import reminders  # it imports the programme

    await reminders.refresh_prepared_reminders_for_speakers(
        db, now=now, person_id=person_id, organisation_id=organisation_id)


async def after_places_added(
    db: AsyncSession, event: Event, *, now: datetime, settings: Settings
) -> None:
    """An organiser raised (or lifted) a limit on places: people waiting move up."""
    from service.domain.registration import promote_waiting  # registration imports us

    await promote_waiting(db, event.id, now=now, settings=settings)


async def after_enrolment_confirmed(
    db: AsyncSession, registration: Registration, session: Session, *, now: datetime,
) -> None:
    """A registrant now has a confirmed place in a session: plan their reminders."""
    from service.domain import reminders  # it imports the programme

    event = await db.get(Event, session.event_id)
    assert event is not None
    await reminders.plan_reminders_for_enrolment(db, registration, session, event, now=now)


async def after_registrations_placed(
    db: AsyncSession, placements: Sequence[tuple[int, Event, Sequence[Session]]], *,
    now: datetime,
) -> None:
    """Registrations made in this transaction have confirmed places (registration id, event,
    sessions): their reminders are planned."""
    from service.domain import reminders  # it imports the programme

    await reminders.plan_reminders_for_new_registrations(db, placements, now=now)


async def after_enrolment_ended(
    db: AsyncSession, registration: Registration, session: Session, *, now: datetime,
) -> None:
    """A registrant no longer has a confirmed place (cancelled, declined, moved to waiting)."""
    from service.domain import reminders  # it imports the programme

    await reminders.cancel_reminders(
        db, session_id=session.id, registration_id=registration.id, now=now,
        note=reminders.NOTE_PLACE_ENDED,
    )


async def after_reminder_policy_changed(db: AsyncSession, event: Event, *, now: datetime) -> None:
    """The event's reminder offsets changed: pending reminders are re-planned."""
    from service.domain import reminders  # it imports the programme

    await reminders.replan_reminders_for_event(db, event, now=now)

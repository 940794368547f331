"""Speakers hear of their own slots: assigned, changed, or taken away.

A speaker assigned to an agenda item gets an email with the slot (in the event's local time
and in UTC), the session, the co-speakers, the join link and a link to their private
speaker page, plus an invite for the slot (`calendar_entries.speaker_slot_entry`,
METHOD:REQUEST). When the slot moves, or the session's place changes, they get an update
(the slot's SEQUENCE is the session's plus the item's, both bumped by such changes); when
they are taken off the item, the item is deleted or the session cancelled, a
METHOD:CANCEL. Emails are queued immediately in the transaction of the change (no
coalescing: a speaker is one person, and each email is about a decision already taken).

Speakers without an email address, sample events and sessions already over are skipped.
This module never commits and knows nothing of HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.message import CalendarMethod, EmailMessage, parse_address
from notifications.outbox import OutboxEntry, queue_emails
from service.db.models import (
    AccessPurpose,
    AgendaItem,
    AgendaItemKind,
    Event,
    Person,
    Session,
    SessionStatus,
)
from service.domain import programme
from service.domain.access import current_access_token
from service.domain.calendars.entries import speaker_slot_entry
from service.domain.calendars.ical import build_calendar
from service.domain.snapshots import AgendaItemSnapshot, SessionSnapshot, snapshot_session
from service.domain.urls import event_page_url, speaker_page_url
from service.domain.wording import (
    join_url_for,
    mode_label,
    period_text,
    start_text,
    utc_period_text,
    venue_line,
    venue_text,
)
from service.settings import Settings

ASSIGNED_TEMPLATE = "speaker_slot_to_speaker"
CHANGED_TEMPLATE = "speaker_slot_changed_to_speaker"
CANCELLED_TEMPLATE = "speaker_slot_cancelled_to_speaker"

REASON_REMOVED = "You are no longer listed as a speaker for this agenda item."
REASON_DELETED = "This agenda item has been taken off the programme."
REASON_SESSION_CANCELLED = "The session has been cancelled."


def _co_speakers(item: AgendaItem, person_id: int) -> list[str]:
    names = []
    for speaker in item.speakers:
        if speaker.person_id == person_id:
            continue
        organisation = speaker.organisation or speaker.person.organisation
        names.append(f"{speaker.person.name}, {organisation.name}" if organisation
                     else speaker.person.name)
    return names


async def _notify(
    db: AsyncSession, template: str, item: AgendaItem, session: Session, event: Event,
    person: Person, *, now: datetime, settings: Settings,
    changes: Sequence[tuple[str, str, str]] = (), reason: str | None = None,
) -> int | None:
    """Queue one speaker's email with the slot's invite (REQUEST, or CANCEL with a reason)."""
    if not person.email or event.is_sample_data or session.ends_at <= now:
        return None
    try:
        parse_address(person.email, person.name)
    except ValueError:
        return None
    cancelled = template == CANCELLED_TEMPLATE
    method: CalendarMethod = "CANCEL" if cancelled else "REQUEST"
    token = await current_access_token(
        db, AccessPurpose.SPEAKER_PAGE, secret_key=settings.secret_key, now=now,
        person_id=person.id,
    )
    entry = speaker_slot_entry(item, session, event, person, settings, cancelled=cancelled)
    context: dict[str, object] = {
        "recipient_name": person.name,
        "event_title": event.title,
        "session_title": session.title,
        "item_title": item.title,
        "slot_local": period_text(item.starts_at, item.ends_at, event.timezone),
        "slot_start": start_text(item.starts_at, event.timezone),
        "slot_utc": utc_period_text(item.starts_at, item.ends_at),
        "session_local": period_text(session.starts_at, session.ends_at, event.timezone),
        "co_speakers": [] if cancelled else _co_speakers(item, person.id),
        "join_url": join_url_for(session.mode, session.join_url),
        "venue": venue_text(session.mode, venue_line(event)),
        "changes": [{"label": label, "old": old, "new": new} for label, old, new in changes],
        "reason": reason,
        "speaker_page_url": speaker_page_url(settings, token),
        "event_url": event_page_url(settings, event.slug),
    }
    message = EmailMessage(
        template=template,
        to_address=person.email,
        to_name=person.name,
        context=context,
        calendar=build_calendar([entry], now=now, method=method),
        calendar_method=method,
        reply_to=event.contact_email,
    )
    [email_id] = await queue_emails(
        db, [OutboxEntry(message, event_id=event.id, person_id=person.id)],
        settings=settings, now=now)
    return email_id


@asynccontextmanager
async def _own_view(db: AsyncSession) -> AsyncIterator[AsyncSession]:
    """A second ORM session in the caller's transaction (same connection).

    It sees everything flushed so far and loads it afresh, without refreshing the caller's
    objects: reloading them in `db` (populate_existing) would reset relationships the
    caller loaded, and leave them raising on access.
    """
    async with AsyncSession(bind=await db.connection(), expire_on_commit=False) as view:
        yield view
        await view.flush()


def _removed_item(removed: AgendaItemSnapshot, now: datetime) -> AgendaItem:
    """A stand-in for a deleted item, never added to the database session: enough for a CANCEL.

    Its SEQUENCE is one above the item's last, so the CANCEL outranks every REQUEST sent.
    """
    return AgendaItem(
        id=removed.id, session_id=removed.session_id, title=removed.title,
        starts_at=removed.starts_at, ends_at=removed.ends_at, kind=AgendaItemKind.OTHER,
        description="", sequence=removed.sequence + 1, created_at=None,
        updated_at=now, speakers=[],
    )


async def notify_agenda_change(
    db: AsyncSession, session: Session, *, added: AgendaItem | None,
    removed: AgendaItemSnapshot | None, moved_from: AgendaItemSnapshot | None,
    now: datetime, settings: Settings,
) -> int:
    """An agenda item was added, edited or deleted: its speakers (old and new) hear of it."""
    async with _own_view(db) as view:
        return await _agenda_change(view, session.id, added=added, removed=removed,
                                    moved_from=moved_from, now=now, settings=settings)


async def _agenda_change(
    db: AsyncSession, session_id: int, *, added: AgendaItem | None,
    removed: AgendaItemSnapshot | None, moved_from: AgendaItemSnapshot | None,
    now: datetime, settings: Settings,
) -> int:
    full = await programme.get_session(db, session_id)
    event = full.event
    if full.status == SessionStatus.CANCELLED:
        return 0
    queued: list[int | None] = []
    if removed is not None:
        stand_in = _removed_item(removed, now)
        for person_id in removed.speaker_ids:
            person = await programme.get_person(db, person_id)
            queued.append(await _notify(db, CANCELLED_TEMPLATE, stand_in, full, event, person,
                                        now=now, settings=settings, reason=REASON_DELETED))
        return sum(row is not None for row in queued)
    item_id = added.id if added is not None else moved_from.id if moved_from is not None else None
    current = next((i for i in full.agenda_items if i.id == item_id), None)
    if current is None:
        return 0
    speakers = {s.person_id: s.person for s in current.speakers}
    if moved_from is None:  # a new item: every speaker on it is newly assigned
        for person in speakers.values():
            queued.append(await _notify(db, ASSIGNED_TEMPLATE, current, full, event, person,
                                        now=now, settings=settings))
        return sum(row is not None for row in queued)
    before_ids = set(moved_from.speaker_ids)
    gone = [pid for pid in moved_from.speaker_ids if pid not in speakers]
    if gone:
        # The CANCEL must outrank every REQUEST sent for this slot, and a later invitation
        # must outrank the CANCEL.
        current.sequence += 1
        current.updated_at = now
        await db.flush()
    for person_id in gone:
        person = await programme.get_person(db, person_id)
        queued.append(await _notify(db, CANCELLED_TEMPLATE, current, full, event, person,
                                    now=now, settings=settings, reason=REASON_REMOVED))
    moved = (current.starts_at, current.ends_at) != (moved_from.starts_at, moved_from.ends_at)
    zone = event.timezone
    changes = [("Your slot", period_text(moved_from.starts_at, moved_from.ends_at, zone),
                period_text(current.starts_at, current.ends_at, zone))] if moved else []
    for person_id, person in speakers.items():
        if person_id not in before_ids:
            queued.append(await _notify(db, ASSIGNED_TEMPLATE, current, full, event, person,
                                        now=now, settings=settings))
        elif moved:
            queued.append(await _notify(db, CHANGED_TEMPLATE, current, full, event, person,
                                        now=now, settings=settings, changes=changes))
    return sum(row is not None for row in queued)


async def notify_session_change(
    db: AsyncSession, session: Session, event: Event, before: SessionSnapshot, *,
    now: datetime, settings: Settings,
) -> int:
    """The session moved, changed place or was cancelled: every speaker in it hears of it."""
    after = snapshot_session(session, event)
    async with _own_view(db) as view:
        return await _session_change(view, session.id, before, after, now=now,
                                     settings=settings)


async def _session_change(
    db: AsyncSession, session_id: int, before: SessionSnapshot, after: SessionSnapshot, *,
    now: datetime, settings: Settings,
) -> int:
    fields = before.material_changes(after)
    full = await programme.get_session(db, session_id)
    event = full.event
    zone = event.timezone
    queued: list[int | None] = []
    if "status" in fields and full.status == SessionStatus.CANCELLED:
        for item in full.agenda_items:
            for speaker in item.speakers:
                queued.append(await _notify(
                    db, CANCELLED_TEMPLATE, item, full, event, speaker.person, now=now,
                    settings=settings, reason=REASON_SESSION_CANCELLED))
        return sum(row is not None for row in queued)
    shift = after.starts_at - before.starts_at
    moved_along = shift if shift and after.ends_at - before.ends_at == shift else timedelta(0)
    place: list[tuple[str, str, str]] = []
    if "mode" in fields:
        place.append(("Format", mode_label(before.mode),
                      mode_label(after.mode)))
    if "venue" in fields:
        place.append(("Venue", before.venue or "none", after.venue or "none"))
    if "join_url" in fields:
        place.append(("Join link", before.join_url or "none", after.join_url or "none"))
    if not place and not moved_along:
        return 0  # the session's ends moved around the agenda: no slot changed
    for item in full.agenda_items:
        changes = list(place)
        if moved_along:
            changes.insert(0, ("Your slot",
                               period_text(item.starts_at - moved_along,
                                           item.ends_at - moved_along, zone),
                               period_text(item.starts_at, item.ends_at, zone)))
        for speaker in item.speakers:
            queued.append(await _notify(db, CHANGED_TEMPLATE, item, full, event, speaker.person,
                                        now=now, settings=settings, changes=changes))
    return sum(row is not None for row in queued)

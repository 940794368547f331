"""Speakers hear of their own slots: assigned, changed, or taken away.

A speaker assigned to an agenda item gets an email with the slot (in the event's local time
and in UTC), the session, the co-speakers, the join link and a link to their private
speaker page, plus an invite for the slot (`calendars.entries.speaker_slot_entry`,
METHOD:REQUEST). When the slot moves, or the session's place changes, they get an update
(the slot's SEQUENCE is the session's plus the item's, both bumped by such changes); when
they are taken off the item, the item is deleted or the session cancelled, a
METHOD:CANCEL.

News is gathered like the registrants' (`notices.changes`): every change to a slot records a
pending `SpeakerNotice` for that speaker and slot, holding the slot as the speaker last
heard of it (nothing, for a new assignment). Later changes join it and keep that first
snapshot; it goes out `settings.change_notice_window_seconds` after the first change, and
never later than one window before the session (so at once when that has passed). Then the
slot as it is is compared with what the speaker heard, and ONE email says the outcome:
assigned, changed (old -> new) or cancelled; an assignment taken back or a move undone
within the window sends nothing.

Speakers without an email address, sample events and sessions already over are skipped.
This module never commits and knows nothing of HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.message import CalendarMethod, EmailMessage, parse_address
from notifications.outbox import OutboxEntry, queue_emails
from service.db.engine import is_postgres
from service.db.models import (
    AccessPurpose,
    AgendaItem,
    AgendaItemKind,
    ChangeNoticeStatus,
    Event,
    Person,
    Session,
    SessionStatus,
    SpeakerNotice,
)
from service.domain import programme
from service.domain.access import current_access_token
from service.domain.calendars.content import event_in, session_in
from service.domain.calendars.entries import speaker_slot_entry
from service.domain.calendars.ical import build_calendar
from service.domain.errors import NotFoundError
from service.domain.notices.changes import notice_send_by
from service.domain.programme.translations import localised
from service.domain.snapshots import AgendaItemSnapshot, SessionSnapshot, snapshot_session
from service.domain.urls import event_page_url, speaker_page_url
from service.domain.wording import (
    join_url_for,
    mode_label,
    none_text,
    period_text,
    start_text,
    utc_period_text,
    venue_line,
    venue_text,
)
from service.i18n import N_, use_language
from service.i18n import gettext as _
from service.settings import Settings

ASSIGNED_TEMPLATE = "speaker_slot_to_speaker"
CHANGED_TEMPLATE = "speaker_slot_changed_to_speaker"
CANCELLED_TEMPLATE = "speaker_slot_cancelled_to_speaker"

# Why a speaker's slot was withdrawn (translated when the email is composed).
REASON_REMOVED = N_("You are no longer listed as a speaker for this agenda item.")
REASON_DELETED = N_("This agenda item has been taken off the programme.")
REASON_SESSION_CANCELLED = N_("The session has been cancelled.")


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
    dedupe_key: str | None = None,
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
    # The slot, its invite and its wording in the speaker's own language.
    with use_language(person.language) as language:
        session_text = session_in(session, event, language)
        item_text = next((i for i in session_text.agenda_items if i.id == item.id), None)
        entry = speaker_slot_entry(item_text or item, session_text, event_in(event, language),
                                   person, settings, cancelled=cancelled)
        context: dict[str, object] = {
            "recipient_name": person.name,
            "event_title": str(localised(event, "title", language)),
            "session_title": str(localised(event, "title", language, session)),
            "item_title": str(localised(event, "title", language, item)),
            "slot_local": period_text(item.starts_at, item.ends_at, event.timezone),
            "slot_start": start_text(item.starts_at, event.timezone),
            "slot_utc": utc_period_text(item.starts_at, item.ends_at),
            "session_local": period_text(session.starts_at, session.ends_at, event.timezone),
            "co_speakers": [] if cancelled else _co_speakers(item, person.id),
            "join_url": join_url_for(session.mode, session.join_url),
            "venue": venue_text(session.mode, venue_line(event)),
            "changes": [{"label": label, "old": old, "new": new} for label, old, new in changes],
            "reason": _(reason) if reason else reason,
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
            language=language,
        )
    [email_id] = await queue_emails(
        db, [OutboxEntry(message, event_id=event.id, person_id=person.id, dedupe_key=dedupe_key)],
        settings=settings, now=now)
    return email_id


@asynccontextmanager
async def _own_view(db: AsyncSession) -> AsyncIterator[AsyncSession]:
    """A second ORM session in the caller's transaction (same connection).

    It sees everything flushed so far and loads it afresh, without refreshing the caller's
    objects: reloading them in `db` (populate_existing) would reset relationships the
    caller loaded, and leave them raising on access. It joins the caller's transaction as
    it stands, even inside a savepoint (a preview's dry run): by default a session bound to
    a connection in a savepoint opens one of its own and rolls it back on closing, losing
    what it wrote.
    """
    async with AsyncSession(bind=await db.connection(), expire_on_commit=False,
                            join_transaction_mode="rollback_only") as view:
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


# --- what a speaker heard of a slot ------------------------------------------------------------


@dataclass(frozen=True)
class _Slot:
    """A slot as its speaker was told of it: what a change of which is news to them."""

    title: str
    starts_at: datetime
    ends_at: datetime
    mode: str
    venue: str | None
    join_url: str | None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["starts_at"] = self.starts_at.isoformat()
        data["ends_at"] = self.ends_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _Slot:
        return cls(title=data["title"], starts_at=datetime.fromisoformat(data["starts_at"]),
                   ends_at=datetime.fromisoformat(data["ends_at"]), mode=data["mode"],
                   venue=data.get("venue"), join_url=data.get("join_url"))

    @classmethod
    def of(cls, title: str, starts_at: datetime, ends_at: datetime,
           session: SessionSnapshot) -> _Slot:
        return cls(title=title, starts_at=starts_at, ends_at=ends_at, mode=session.mode,
                   venue=session.venue, join_url=session.join_url)


def _removed_to_json(removed: AgendaItemSnapshot) -> dict[str, Any]:
    return {"id": removed.id, "session_id": removed.session_id, "title": removed.title,
            "starts_at": removed.starts_at.isoformat(), "ends_at": removed.ends_at.isoformat(),
            "speaker_ids": list(removed.speaker_ids), "sequence": removed.sequence}


def _removed_from_json(data: dict[str, Any]) -> AgendaItemSnapshot:
    return AgendaItemSnapshot(
        id=data["id"], session_id=data["session_id"], title=data["title"],
        starts_at=datetime.fromisoformat(data["starts_at"]),
        ends_at=datetime.fromisoformat(data["ends_at"]),
        speaker_ids=tuple(data["speaker_ids"]), sequence=data["sequence"],
    )


def _changes(heard: _Slot, now: _Slot, zone: str) -> list[tuple[str, str, str]]:
    """What changed for the speaker since they heard of the slot, old -> new."""
    changes: list[tuple[str, str, str]] = []
    if (heard.starts_at, heard.ends_at) != (now.starts_at, now.ends_at):
        changes.append((_("Your slot"), period_text(heard.starts_at, heard.ends_at, zone),
                        period_text(now.starts_at, now.ends_at, zone)))
    if heard.mode != now.mode:
        changes.append((_("Format"), mode_label(heard.mode),
                        mode_label(now.mode)))
    if heard.venue != now.venue:
        changes.append((_("Venue"), heard.venue or none_text(), now.venue or none_text()))
    if heard.join_url != now.join_url:
        changes.append((_("Join link"), heard.join_url or none_text(),
                        now.join_url or none_text()))
    return changes


# --- recording -------------------------------------------------------------------------------


async def _pending(db: AsyncSession, agenda_item_id: int, person_id: int) -> SpeakerNotice | None:
    query = (
        select(SpeakerNotice)
        .where(SpeakerNotice.agenda_item_id == agenda_item_id,
               SpeakerNotice.person_id == person_id,
               SpeakerNotice.status == ChangeNoticeStatus.PENDING)
        .order_by(SpeakerNotice.id)
        .limit(1)
    )
    if is_postgres(db):
        # One being sent right now is locked: start a new one (see notices.changes).
        query = query.with_for_update(skip_locked=True)
    return await db.scalar(query)


async def _with_address(db: AsyncSession, person_ids: Sequence[int]) -> list[int]:
    """The people (of `person_ids`, in order) whom an email can reach at all."""
    if not person_ids:
        return []
    reachable = set(await db.scalars(
        select(Person.id).where(Person.id.in_(person_ids), Person.email.is_not(None),
                                Person.email != "")
    ))
    return [person_id for person_id in person_ids if person_id in reachable]


async def _record(
    db: AsyncSession, *, agenda_item_id: int, session_id: int, person_id: int,
    heard: _Slot | None, starts: Sequence[datetime], now: datetime, settings: Settings,
    removed: AgendaItemSnapshot | None = None,
) -> SpeakerNotice:
    """A change to one speaker's slot: join the pending notice, or start one."""
    send_by = notice_send_by(list(starts), now=now, settings=settings)
    notice = await _pending(db, agenda_item_id, person_id)
    if notice is None:
        notice = SpeakerNotice(
            agenda_item_id=agenda_item_id, session_id=session_id, person_id=person_id,
            status=ChangeNoticeStatus.PENDING,
            previous=heard.to_json() if heard is not None else None,
            first_changed_at=now, send_after=send_by, created_at=now,
        )
        db.add(notice)
    else:
        # Later changes never push the notice back, but may bring it forward.
        notice.send_after = min(notice.send_after, send_by)
    if removed is not None:
        notice.removed = _removed_to_json(removed)
    notice.last_changed_at = now
    notice.updated_at = now
    await db.flush()
    return notice


async def notify_agenda_change(
    db: AsyncSession, session: Session, *, added: AgendaItem | None,
    removed: AgendaItemSnapshot | None, moved_from: AgendaItemSnapshot | None,
    now: datetime, settings: Settings,
) -> int:
    """An agenda item was added, edited or deleted: its speakers (old and new) will hear of
    it once the window has passed. Returns the notices recorded or joined."""
    async with _own_view(db) as view:
        return await _agenda_change(view, session.id, added=added, removed=removed,
                                    moved_from=moved_from, now=now, settings=settings)


async def _agenda_change(
    db: AsyncSession, session_id: int, *, added: AgendaItem | None,
    removed: AgendaItemSnapshot | None, moved_from: AgendaItemSnapshot | None,
    now: datetime, settings: Settings,
) -> int:
    full = await programme.get_session(db, session_id)
    if full.status == SessionStatus.CANCELLED:
        return 0  # its speakers were told the whole session is off
    place = snapshot_session(full, full.event)
    starts = [full.starts_at]
    recorded = 0
    if removed is not None:
        heard = _Slot.of(removed.title, removed.starts_at, removed.ends_at, place)
        for person_id in await _with_address(db, removed.speaker_ids):
            await _record(db, agenda_item_id=removed.id, session_id=session_id,
                          person_id=person_id, heard=heard, starts=starts, now=now,
                          settings=settings, removed=removed)
            recorded += 1
        return recorded
    item_id = added.id if added is not None else moved_from.id if moved_from is not None else None
    current = next((i for i in full.agenda_items if i.id == item_id), None)
    if current is None:
        return 0
    speakers = [s.person_id for s in current.speakers if s.person.email]
    if moved_from is None:  # a new item: every speaker on it is newly assigned
        for person_id in speakers:
            await _record(db, agenda_item_id=current.id, session_id=session_id,
                          person_id=person_id, heard=None, starts=starts, now=now,
                          settings=settings)
        return len(speakers)
    heard = _Slot.of(moved_from.title, moved_from.starts_at, moved_from.ends_at, place)
    on_item = {s.person_id for s in current.speakers}
    gone = [pid for pid in moved_from.speaker_ids if pid not in on_item]
    joined = on_item - set(moved_from.speaker_ids)
    if gone or joined:
        # The CANCEL must outrank every REQUEST sent for this slot, and an invitation to
        # someone put back on the item must outrank the CANCEL they had.
        current.sequence += 1
        current.updated_at = now
        await db.flush()
    moved = (current.starts_at, current.ends_at) != (moved_from.starts_at, moved_from.ends_at)
    for person_id in await _with_address(db, gone):
        await _record(db, agenda_item_id=current.id, session_id=session_id,
                      person_id=person_id, heard=heard, starts=starts, now=now,
                      settings=settings)
        recorded += 1
    for person_id in speakers:
        if person_id not in moved_from.speaker_ids:
            await _record(db, agenda_item_id=current.id, session_id=session_id,
                          person_id=person_id, heard=None, starts=starts, now=now,
                          settings=settings)
            recorded += 1
        elif moved:
            await _record(db, agenda_item_id=current.id, session_id=session_id,
                          person_id=person_id, heard=heard, starts=starts, now=now,
                          settings=settings)
            recorded += 1
    return recorded


async def notify_session_change(
    db: AsyncSession, session: Session, event: Event, before: SessionSnapshot, *,
    now: datetime, settings: Settings,
) -> int:
    """The session moved, changed place or was cancelled: every speaker in it will hear of
    it once the window has passed. Returns the notices recorded or joined."""
    after = snapshot_session(session, event)
    async with _own_view(db) as view:
        return await _session_change(view, session.id, before, after, now=now,
                                     settings=settings)


async def _session_change(
    db: AsyncSession, session_id: int, before: SessionSnapshot, after: SessionSnapshot, *,
    now: datetime, settings: Settings,
) -> int:
    fields = before.material_changes(after)
    shift = after.starts_at - before.starts_at
    moved_along = shift if shift and after.ends_at - before.ends_at == shift else timedelta(0)
    cancelled = "status" in fields and after.status == str(SessionStatus.CANCELLED)
    if not cancelled and not moved_along and not {"mode", "venue", "join_url"} & set(fields):
        return 0  # the session's ends moved around the agenda: no slot changed
    full = await programme.get_session(db, session_id)
    recorded = 0
    for item in full.agenda_items:
        # The slot as its speakers knew it: before the session (and its agenda) moved.
        heard = _Slot.of(item.title, item.starts_at - moved_along, item.ends_at - moved_along,
                         before)
        for speaker in item.speakers:
            if not speaker.person.email:
                continue
            await _record(db, agenda_item_id=item.id, session_id=session_id,
                          person_id=speaker.person_id, heard=heard,
                          starts=[before.starts_at, after.starts_at], now=now,
                          settings=settings)
            recorded += 1
    return recorded


# --- sending ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpeakerNoticeReport:
    claimed: int = 0
    sent: int = 0  # notices that queued an email
    reverted: int = 0  # nothing to say after all (undone, or nobody to write to)


async def _send_notice(
    db: AsyncSession, notice: SpeakerNotice, *, now: datetime, settings: Settings
) -> int | None:
    """Compare the slot with what the speaker heard and queue the one email that says so."""
    try:
        session = await programme.get_session(db, notice.session_id)
        person = await programme.get_person(db, notice.person_id)
    except NotFoundError:
        return None
    # What changed is worded in the speaker's language, whoever changed it.
    with use_language(person.language):
        event = session.event
        item = next((i for i in session.agenda_items if i.id == notice.agenda_item_id), None)
        speaks = item is not None and any(s.person_id == person.id for s in item.speakers)
        heard = _Slot.from_json(notice.previous) if notice.previous is not None else None
        key = f"speaker-notice:{notice.id}"
        if session.status == SessionStatus.CANCELLED or not speaks:
            if heard is None:
                return None  # assigned and taken back within the window: they never knew
            if item is None:
                if notice.removed is None:
                    return None
                item, reason = _removed_item(_removed_from_json(notice.removed), now), REASON_DELETED
            else:
                reason = (REASON_SESSION_CANCELLED if session.status == SessionStatus.CANCELLED
                          else REASON_REMOVED)
            return await _notify(db, CANCELLED_TEMPLATE, item, session, event, person, now=now,
                                 settings=settings, reason=reason, dedupe_key=key)
        assert item is not None
        if heard is None:
            return await _notify(db, ASSIGNED_TEMPLATE, item, session, event, person, now=now,
                                 settings=settings, dedupe_key=key)
        current = _Slot.of(item.title, item.starts_at, item.ends_at, snapshot_session(session, event))
        changes = _changes(heard, current, event.timezone)
        if not changes:
            return None  # changed and changed back within the window
        return await _notify(db, CHANGED_TEMPLATE, item, session, event, person, now=now,
                             settings=settings, changes=changes, dedupe_key=key)


async def send_speaker_notice(
    db: AsyncSession, notice: SpeakerNotice, *, now: datetime, settings: Settings
) -> int | None:
    """Queue the one email a notice calls for as it goes out at `now` (None: nothing to say).

    What the sending job does for each due notice, and what a preview of "who will be told
    what" runs ahead of time, inside a savepoint it then rolls back.
    """
    return await _send_notice(db, notice, now=now, settings=settings)


async def process_due_speaker_notices(
    db: AsyncSession, *, now: datetime, settings: Settings, batch_size: int = 20
) -> SpeakerNoticeReport:
    """Send the speaker notices whose window has passed, in the caller's transaction."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    query = (
        select(SpeakerNotice)
        .where(SpeakerNotice.status == ChangeNoticeStatus.PENDING,
               SpeakerNotice.send_after <= now)
        .order_by(SpeakerNotice.send_after, SpeakerNotice.id)
        .limit(batch_size)
    )
    if is_postgres(db):
        query = query.with_for_update(skip_locked=True)
    notices = list(await db.scalars(query))
    sent = 0
    for notice in notices:
        row = await _send_notice(db, notice, now=now, settings=settings)
        notice.updated_at = now
        if row is None:
            notice.status = ChangeNoticeStatus.CANCELLED
        else:
            notice.status, notice.sent_at = ChangeNoticeStatus.SENT, now
            sent += 1
    await db.flush()
    return SpeakerNoticeReport(claimed=len(notices), sent=sent, reverted=len(notices) - sent)

"""News about a session for its registrants: one update per burst of edits.

Every material change (time, place, status, or the agenda: an item added, removed or moved)
is recorded as a pending `ChangeNotice` for its session, holding `previous`: the session as
registrants last heard of it. Edits that follow join the pending notice, which keeps that
first snapshot. The notice goes out a fixed window after the FIRST edit
(`settings.change_notice_window_seconds`): later edits do not push it back, so a busy
organiser can delay news by one window at most; news of a session about to start is held
at most until one window before it (so at once when that has passed). When it goes out,
old and new are compared afresh; an edit that was undone within the window sends nothing.

Each registrant gets ONE email with a readable old -> new summary in the event's local time
and an updated invite (same UID, the session's current SEQUENCE plus the registrant's own
count, `Enrolment.invite_sequence`; METHOD:CANCEL when the session was cancelled). Emails
are queued in the outbox with a dedupe key per notice and registrant, in the transaction
that marks the notice sent. This module never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.message import CalendarMethod, EmailMessage, parse_address
from notifications.outbox import OutboxEntry, queue_emails
from service.db.engine import is_postgres
from service.db.models import (
    AgendaItem,
    ChangeNotice,
    ChangeNoticeStatus,
    Enrolment,
    Event,
    Session,
    SessionStatus,
)
from service.domain import programme
from service.domain.access import manage_links
from service.domain.calendars.content import event_in, session_in
from service.domain.calendars.entries import agenda_text, session_entry
from service.domain.calendars.ical import CalendarAttendee, build_calendar
from service.domain.programme.translations import localised
from service.domain.reminders import confirmed_places, has_confirmed_places
from service.domain.snapshots import AgendaItemSnapshot, SessionSnapshot, snapshot_session
from service.domain.urls import event_page_url
from service.domain.wording import (
    clock_range,
    join_url_for,
    mode_label,
    none_text,
    period_text,
    session_status_label,
    short_date_text,
    start_text,
    utc_period_text,
    venue_line,
    venue_text,
)
from service.i18n import DEFAULT_LANGUAGE, use_language
from service.i18n import gettext as _
from service.settings import Settings

NOTICE_TEMPLATE = "session_changed_to_registrant"


# --- recording -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    """An agenda item as registrants were told of it."""

    id: int
    title: str
    starts_at: datetime
    ends_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "starts_at": self.starts_at.isoformat(),
                "ends_at": self.ends_at.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _Item:
        return cls(id=data["id"], title=data["title"],
                   starts_at=datetime.fromisoformat(data["starts_at"]),
                   ends_at=datetime.fromisoformat(data["ends_at"]))


async def _current_agenda(db: AsyncSession, session_id: int) -> list[_Item]:
    items = await db.scalars(
        select(AgendaItem).where(AgendaItem.session_id == session_id)
        .order_by(AgendaItem.starts_at, AgendaItem.id)
    )
    return [_Item(i.id, i.title, i.starts_at, i.ends_at) for i in items]


def _moved_along(before: SessionSnapshot, after: SessionSnapshot) -> timedelta:
    """The shift the agenda moved by with its session (programme.update_session's rule)."""
    shift = after.starts_at - before.starts_at
    return shift if shift and after.ends_at - before.ends_at == shift else timedelta(0)


async def _pending_notice(db: AsyncSession, session_id: int) -> ChangeNotice | None:
    query = (
        select(ChangeNotice)
        .where(ChangeNotice.session_id == session_id,
               ChangeNotice.status == ChangeNoticeStatus.PENDING)
        .order_by(ChangeNotice.id)
        .limit(1)
    )
    if is_postgres(db):
        # A notice being sent right now is locked: skip it and start a new one, rather than
        # wait for the sender (its email shows the state before this edit).
        query = query.with_for_update(skip_locked=True)
    return await db.scalar(query)


def notice_send_by(starts: list[datetime], *, now: datetime, settings: Settings) -> datetime:
    """The window after the first edit, but news of a session about to start goes out now.

    Held at most until one window before the session's earlier start (old or new), and
    never before `now`.
    """
    window = timedelta(seconds=settings.change_notice_window_seconds)
    return max(now, min(now + window, min(starts) - window))


async def _record(
    db: AsyncSession, session: Session, previous: dict[str, Any], *, now: datetime,
    settings: Settings,
) -> ChangeNotice | None:
    starts = [session.starts_at, datetime.fromisoformat(previous["starts_at"])]
    notice = await _pending_notice(db, session.id)
    if notice is not None:
        notice.last_changed_at = now
        notice.updated_at = now
        # Later edits never push the notice back, but may bring it forward.
        notice.send_after = min(notice.send_after, notice_send_by(starts, now=now, settings=settings))
        await db.flush()
        return notice
    if not await has_confirmed_places(db, session.id):
        return None  # nobody to tell (yet): registrants see the session as it is
    notice = ChangeNotice(
        session_id=session.id,
        status=ChangeNoticeStatus.PENDING,
        previous=previous,
        first_changed_at=now,
        last_changed_at=now,
        send_after=notice_send_by(starts, now=now, settings=settings),
        created_at=now,
        updated_at=now,
    )
    db.add(notice)
    await db.flush()
    return notice


async def record_session_change(
    db: AsyncSession, session: Session, event: Event, before: SessionSnapshot, *,
    now: datetime, settings: Settings,
) -> ChangeNotice | None:
    """The session's time, place or status changed (`before` is the state until now)."""
    shift = _moved_along(before, snapshot_session(session, event))
    agenda = [
        _Item(i.id, i.title, i.starts_at - shift, i.ends_at - shift)
        for i in await _current_agenda(db, session.id)
    ]
    previous = {**before.to_json(), "agenda": [i.to_json() for i in agenda]}
    return await _record(db, session, previous, now=now, settings=settings)


async def record_agenda_change(
    db: AsyncSession, session: Session, *, added: AgendaItem | None,
    removed: AgendaItemSnapshot | None, moved_from: AgendaItemSnapshot | None,
    item: AgendaItem | None, now: datetime, settings: Settings,
) -> ChangeNotice | None:
    """An agenda item was added, removed or edited; only additions, removals and moves count."""
    current = await _current_agenda(db, session.id)
    if added is not None:
        before = [i for i in current if i.id != added.id]
    elif removed is not None:
        before = [*current, _Item(removed.id, removed.title, removed.starts_at, removed.ends_at)]
    elif moved_from is not None:
        now_item = next((i for i in current if i.id == moved_from.id), None)
        if now_item is None or (now_item.starts_at, now_item.ends_at) == (
            moved_from.starts_at, moved_from.ends_at
        ):
            return None  # a new title, kind or speaker: not news for registrants
        before = [
            _Item(i.id, moved_from.title, moved_from.starts_at, moved_from.ends_at)
            if i.id == moved_from.id else i
            for i in current
        ]
    else:
        return None
    event = await db.get(Event, session.event_id)
    assert event is not None
    before.sort(key=lambda i: (i.starts_at, i.id))
    previous = {**snapshot_session(session, event).to_json(),
                "agenda": [i.to_json() for i in before]}
    return await _record(db, session, previous, now=now, settings=settings)


# --- what changed ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One line of the summary: what, as it was, as it is."""

    label: str
    old: str
    new: str
    # Which fact changed ("status", "time", "mode", "venue", "join_url"): the label is
    # written in the reader's language, so code never compares it.
    what: str = ""


def _item_time(item: _Item, zone: ZoneInfo, *, with_date: bool) -> str:
    start, end = item.starts_at.astimezone(zone), item.ends_at.astimezone(zone)
    day = f"{short_date_text(start.date())} " if with_date else ""
    return f"{day}{clock_range(start, end, dash='-')}"


def describe_changes(
    previous: dict[str, Any], session: Session, event: Event
) -> tuple[list[Change], list[str]]:
    """The session's changes (old -> new) and the agenda's, in the event's local time."""
    before = SessionSnapshot.from_json(previous)
    after = snapshot_session(session, event)
    zone_name = event.timezone
    changes: list[Change] = []
    fields = before.material_changes(after)
    if "status" in fields:
        changes.append(Change(_("Status"), session_status_label(before.status),
                              session_status_label(after.status), "status"))
    if "starts_at" in fields or "ends_at" in fields:
        changes.append(Change(
            _("Date and time"),
            period_text(before.starts_at, before.ends_at, zone_name),
            period_text(after.starts_at, after.ends_at, zone_name),
            "time",
        ))
    if "mode" in fields:
        changes.append(Change(_("Format"), mode_label(before.mode),
                              mode_label(after.mode), "mode"))
    if "venue" in fields:
        changes.append(Change(_("Venue"), before.venue or none_text(),
                              after.venue or none_text(), "venue"))
    if "join_url" in fields:
        changes.append(Change(_("Join link"), before.join_url or none_text(),
                              after.join_url or none_text(), "join_url"))

    zone = ZoneInfo(zone_name)
    shift = _moved_along(before, after)
    with_date = any(
        s.astimezone(zone).date() != e.astimezone(zone).date()
        for s, e in ((before.starts_at, before.ends_at), (after.starts_at, after.ends_at))
    )
    old_items = {i.id: i for i in map(_Item.from_json, previous.get("agenda", []))}
    new_items = {i.id: _Item(i.id, i.title, i.starts_at, i.ends_at) for i in session.agenda_items}
    agenda: list[tuple[datetime, str]] = []
    for item_id, old in old_items.items():
        new = new_items.get(item_id)
        if new is None:
            agenda.append((old.starts_at, _("Removed: %(time)s %(title)s") % {
                "time": _item_time(old, zone, with_date=with_date), "title": old.title}))
        elif (new.starts_at, new.ends_at) != (old.starts_at + shift, old.ends_at + shift):
            agenda.append((new.starts_at, _("Moved: %(title)s: %(old)s -> %(new)s") % {
                "title": new.title, "old": _item_time(old, zone, with_date=with_date),
                "new": _item_time(new, zone, with_date=with_date)}))
    for item_id, new in new_items.items():
        if item_id not in old_items:
            agenda.append((new.starts_at, _("Added: %(time)s %(title)s") % {
                "time": _item_time(new, zone, with_date=with_date), "title": new.title}))
    agenda.sort(key=lambda pair: pair[0])
    return changes, [line for _, line in agenda]


# --- sending -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeNoticeReport:
    claimed: int = 0
    sent: int = 0  # notices that went out
    emails: int = 0
    reverted: int = 0  # notices whose edits were undone within the window


def _subject_kind(session: Session, changes: list[Change]) -> str:
    if session.status == SessionStatus.CANCELLED:
        return "cancelled"
    if any(c.what == "time" for c in changes):
        return "new_time"
    return "update"


async def _send_notice(
    db: AsyncSession, notice: ChangeNotice, *, now: datetime, settings: Settings
) -> int | None:
    """Queue the notice's emails; None if nothing changed after all."""
    session_row = await db.get(Session, notice.session_id)
    assert session_row is not None
    event = await programme.get_event(db, session_row.event_id)
    session = next(s for s in event.sessions if s.id == notice.session_id)
    # Whether anything changed, and which subject it calls for, decided once (in English,
    # the language its labels are compared in); each registrant reads it in their own.
    with use_language(DEFAULT_LANGUAGE):
        changes, agenda_changes = describe_changes(notice.previous, session, event)
        kind = _subject_kind(session, changes)
    if not changes and not agenda_changes:
        return None
    cancelled = session.status == SessionStatus.CANCELLED
    before = SessionSnapshot.from_json(notice.previous)
    contexts: dict[str, dict[str, object]] = {}

    def context_in(language: str) -> dict[str, object]:
        """What the notice says, worded in the language in force (once per language)."""
        if language in contexts:
            return contexts[language]
        changes, agenda_changes = describe_changes(notice.previous, session, event)
        agenda = agenda_text(session_in(session, event, language), event)
        contexts[language] = {
            "event_title": str(localised(event, "title", language)),
            "session_title": str(localised(event, "title", language, session)),
            "kind": kind,
            "previous_when": period_text(before.starts_at, before.ends_at, event.timezone),
            "previous_start": start_text(before.starts_at, event.timezone),
            "start": start_text(session.starts_at, event.timezone),
            "changes": [{"label": c.label, "old": c.old, "new": c.new} for c in changes],
            "agenda_changes": agenda_changes,
            "is_cancelled": cancelled,
            "when_local": period_text(session.starts_at, session.ends_at, event.timezone),
            "when_utc": utc_period_text(session.starts_at, session.ends_at),
            "join_url": None if cancelled else join_url_for(session.mode, session.join_url),
            "venue": None if cancelled else venue_text(session.mode, venue_line(event)),
            "agenda": agenda,
            "agenda_heading": agenda.splitlines()[0] if agenda else "",
            "agenda_lines": agenda.splitlines()[1:],
            "event_url": event_page_url(settings, event.slug),
        }
        return contexts[language]

    method: CalendarMethod = "CANCEL" if cancelled else "REQUEST"
    emails = 0
    registrations = await confirmed_places(
        db, session.id, confirmed_before=notice.first_changed_at
    )
    links = await manage_links(db, [r.id for r in registrations], now=now, settings=settings)
    sequences = await _invite_sequences(db, session.id, [r.id for r in registrations])
    for registration in registrations:
        try:
            parse_address(registration.email, registration.name)
        except ValueError:
            continue
        # In the registrant's language, whoever moved the session (and in whichever).
        with use_language(registration.language) as language:
            entry = session_entry(
                session_in(session, event, language), event_in(event, language), settings,
                include_join_url=True,
                attendees=(CalendarAttendee(email=registration.email, name=registration.name),),
                sequence_offset=sequences.get(registration.id, 0),
            )
            message = EmailMessage(
                template=NOTICE_TEMPLATE,
                to_address=registration.email,
                to_name=registration.name,
                context={**context_in(language), "recipient_name": registration.name,
                         "manage_url": links[registration.id]},
                calendar=build_calendar([entry], now=now, method=method),
                calendar_method=method,
                reply_to=event.contact_email,
                language=language,
            )
        [email_id] = await queue_emails(db, [OutboxEntry(
            message, event_id=event.id, registration_id=registration.id,
            dedupe_key=f"change-notice:{notice.id}:{registration.id}",
        )], settings=settings, now=now)
        emails += email_id is not None
    return emails


async def send_change_notice(
    db: AsyncSession, notice: ChangeNotice, *, now: datetime, settings: Settings
) -> int | None:
    """Queue one notice's emails as they go out at `now` (None: nothing changed after all).

    What the sending job does for each due notice, and what a preview of "who will be told
    what" runs ahead of time, inside a savepoint it then rolls back.
    """
    return await _send_notice(db, notice, now=now, settings=settings)


async def _invite_sequences(
    db: AsyncSession, session_id: int, registration_ids: list[int]
) -> dict[int, int]:
    """Each registrant's own count above the session's SEQUENCE (Enrolment.invite_sequence)."""
    if not registration_ids:
        return {}
    rows = await db.execute(
        select(Enrolment.registration_id, Enrolment.invite_sequence)
        .where(Enrolment.session_id == session_id,
               Enrolment.registration_id.in_(registration_ids))
    )
    return {registration_id: sequence for registration_id, sequence in rows}


async def process_due_change_notices(
    db: AsyncSession, *, now: datetime, settings: Settings, batch_size: int = 20
) -> ChangeNoticeReport:
    """Send the notices whose window has passed, in the caller's transaction."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    query = (
        select(ChangeNotice)
        .where(ChangeNotice.status == ChangeNoticeStatus.PENDING, ChangeNotice.send_after <= now)
        .order_by(ChangeNotice.send_after, ChangeNotice.id)
        .limit(batch_size)
    )
    if is_postgres(db):
        query = query.with_for_update(skip_locked=True)
    notices = list(await db.scalars(query))
    sent = emails = reverted = 0
    for notice in notices:
        queued = await _send_notice(db, notice, now=now, settings=settings)
        notice.updated_at = now
        if queued is None:
            notice.status = ChangeNoticeStatus.CANCELLED
            reverted += 1
        else:
            notice.status, notice.sent_at = ChangeNoticeStatus.SENT, now
            sent += 1
            emails += queued
    await db.flush()
    return ChangeNoticeReport(claimed=len(notices), sent=sent, emails=emails, reverted=reverted)

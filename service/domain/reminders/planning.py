"""Planning reminders: a row per (session, registration, offset) with its stored due time.

Written when a registrant gets a confirmed place, recomputed when the session moves or the
event's policy changes, cancelled when the place or the session ends. A prepared email must
never go out once it no longer holds: every change of a reminder's fate or wording takes
its email back and re-arms or cancels the reminder, in the transaction of the change.
These paths first lock the reminders they touch (FOR UPDATE, waiting for a preparation
under way to commit), so a reminder composed from the old state is always seen, and taken
back, here. An email a worker has already claimed is never withdrawn: it was sent before
the change, as it would have been without preparation. Never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.engine import insert_for_each, is_postgres, table_of
from service.db.models import (
    AgendaItem,
    AgendaItemSpeaker,
    Event,
    Person,
    Registration,
    Reminder,
    ReminderStatus,
    Session,
    SessionStatus,
)
from service.domain.reminders.places import confirmed_places
from service.domain.reminders.policy import (
    NOTE_LATE,
    NOTE_POLICY,
    NOTE_SESSION_CANCELLED,
    WITHDRAWN_AGENDA_CHANGED,
    WITHDRAWN_REGISTRANT_CHANGED,
    WITHDRAWN_SESSION_CHANGED,
    WITHDRAWN_SPEAKER_CHANGED,
    reminder_due_at,
    reminder_offsets,
)
from service.domain.reminders.preparation import prepared_of, take_back


def _scope(session_id: int | None, registration_id: int | None) -> list[ColumnElement[bool]]:
    if session_id is None and registration_id is None:
        raise ValueError("name a session, a registration or both")
    scope = []
    if session_id is not None:
        scope.append(Reminder.session_id == session_id)
    if registration_id is not None:
        scope.append(Reminder.registration_id == registration_id)
    return scope


async def _reminders_of(
    db: AsyncSession, *, session_id: int, registration_id: int | None = None
) -> list[Reminder]:
    """The rows, locked until the commit on PostgreSQL (waiting for a preparation under way
    to commit first, so what it composed is seen here and can be taken back)."""
    query = (
        select(Reminder).where(*_scope(session_id, registration_id))
        .order_by(Reminder.id).execution_options(populate_existing=True)
    )
    if is_postgres(db):
        query = query.with_for_update()
    return list(await db.scalars(query))


async def _wait_for_preparation(db: AsyncSession, scope: Sequence[ColumnElement[bool]]) -> None:
    """On PostgreSQL, lock the pending rows in `scope`: a preparation holding some of them
    commits first, and none can start until this transaction ends. (SQLite has one writer.)"""
    if is_postgres(db):
        await db.execute(
            select(Reminder.id).where(*scope, Reminder.status == ReminderStatus.PENDING)
            .order_by(Reminder.id).with_for_update()
        )


def _rearm(reminder: Reminder, now: datetime, due_at: datetime | None = None) -> None:
    """Pending again, to be composed anew (its last email, if any, names the next one's key)."""
    reminder.due_at = due_at or reminder.due_at
    reminder.status, reminder.processed_at, reminder.note = ReminderStatus.PENDING, None, None
    reminder.updated_at = now


def _late(reminder: Reminder, now: datetime) -> None:
    reminder.status = ReminderStatus.SKIPPED
    reminder.processed_at = now
    reminder.note = NOTE_LATE


def _cancel(reminder: Reminder, now: datetime, note: str) -> None:
    reminder.status = ReminderStatus.CANCELLED
    reminder.processed_at = now
    reminder.updated_at = now
    reminder.note = note


async def plan_reminders_for_enrolment(
    db: AsyncSession, registration: Registration, session: Session, event: Event, *,
    now: datetime,
) -> list[Reminder]:
    """Reminders for one confirmed place, by the event's policy; the session's rows returned.

    A reminder whose time has passed when the place is confirmed is recorded as skipped
    rather than sent late; rows of offsets no longer in the policy are cancelled.
    """
    existing = {r.offset_minutes: r for r in await _reminders_of(
        db, session_id=session.id, registration_id=registration.id)}
    if session.status == SessionStatus.CANCELLED or session.starts_at <= now:
        return list(existing.values())
    offsets = reminder_offsets(event)
    for offset in offsets:
        due_at = reminder_due_at(session.starts_at, offset, event.timezone)
        reminder = existing.get(offset)
        if reminder is None:
            reminder = Reminder(
                session_id=session.id, registration_id=registration.id, offset_minutes=offset,
                due_at=due_at, status=ReminderStatus.PENDING, created_at=now, updated_at=now,
            )
            if due_at <= now:
                _late(reminder, now)
            db.add(reminder)
            existing[offset] = reminder
        elif reminder.status == ReminderStatus.PENDING:
            reminder.due_at, reminder.updated_at = due_at, now
        elif reminder.status == ReminderStatus.CANCELLED:
            # A place confirmed again (after a cancellation): plan it as if new.
            reminder.due_at, reminder.updated_at = due_at, now
            reminder.status, reminder.processed_at, reminder.note = (
                ReminderStatus.PENDING, None, None)
            if due_at <= now:
                _late(reminder, now)
    handed_over: list[Reminder] = []
    for offset, reminder in existing.items():
        if offset in offsets:
            continue
        if reminder.status == ReminderStatus.PENDING:
            _cancel(reminder, now, NOTE_POLICY)
        elif reminder.status == ReminderStatus.SENT:
            handed_over.append(reminder)
    for reminder in await take_back(db, handed_over, note=f"reminder cancelled: {NOTE_POLICY}"):
        _cancel(reminder, now, NOTE_POLICY)
    await db.flush()
    return sorted(existing.values(), key=lambda r: -r.offset_minutes)


async def plan_reminders_for_new_registrations(
    db: AsyncSession, placements: Sequence[tuple[int, Event, Sequence[Session]]], *,
    now: datetime,
) -> None:
    """`plan_reminders_for_enrolment` for registrations made in this transaction, each with
    its confirmed sessions: they have no reminders yet, so no query for them. Registrations
    placed in the same sessions get the same reminders, each under its own id: one INSERT
    per such group, of the reminders once and the registrations' ids (`insert_for_each`)."""
    groups: dict[tuple[tuple[int, int, datetime], ...], list[int]] = {}
    due: dict[tuple[int, int], datetime] = {}  # (session, offset): the same for everyone
    for registration_id, event, sessions in placements:
        planned: list[tuple[int, int, datetime]] = []
        for session in sessions:
            if session.status == SessionStatus.CANCELLED or session.starts_at <= now:
                continue
            for offset in dict.fromkeys(reminder_offsets(event)):
                due_at = due.get((session.id, offset))
                if due_at is None:
                    due_at = due[session.id, offset] = reminder_due_at(
                        session.starts_at, offset, event.timezone)
                planned.append((session.id, offset, due_at))
        if planned:
            groups.setdefault(tuple(planned), []).append(registration_id)
    for planned_reminders, registration_ids in groups.items():
        rows = [_new_reminder_row(session_id, offset, due_at, now)
                for session_id, offset, due_at in planned_reminders]
        await insert_for_each(db, table_of(Reminder), rows, "registration_id", registration_ids)


def _new_reminder_row(session_id: int, offset: int, due_at: datetime, now: datetime
                      ) -> dict[str, object]:
    """A new reminder's columns but its registration; one already due is skipped as late."""
    late = due_at <= now
    return {"session_id": session_id, "offset_minutes": offset, "due_at": due_at,
            "status": ReminderStatus.SKIPPED if late else ReminderStatus.PENDING,
            "processed_at": now if late else None, "note": NOTE_LATE if late else None,
            "created_at": now, "updated_at": now}


async def retime_reminders_for_session(
    db: AsyncSession, session: Session, event: Event, *, now: datetime
) -> None:
    """The session changed (its time, or anything its reminders say): reminders follow it.

    Emails prepared ahead and not yet claimed for sending are taken back and their
    reminders re-armed at their (new) due time, to be composed anew. A reminder already
    sent or skipped is armed again when the move puts its new time in the future (a session
    postponed after its reminder went out is reminded again). A pending one whose new time
    has passed stays pending: it goes out at once if the session has not started, and the
    shortest such offset supersedes the longer ones.
    """
    if session.status == SessionStatus.CANCELLED:
        await cancel_reminders(db, session_id=session.id, now=now, note=NOTE_SESSION_CANCELLED)
        return
    reminders = await _reminders_of(db, session_id=session.id)
    taken = {r.id for r in await take_back(
        db, await prepared_of(db, _scope(session.id, None)), note=WITHDRAWN_SESSION_CHANGED)}
    for reminder in reminders:
        due_at = reminder_due_at(session.starts_at, reminder.offset_minutes, event.timezone)
        if reminder.id in taken:
            _rearm(reminder, now, due_at)
        elif due_at == reminder.due_at or reminder.status == ReminderStatus.CANCELLED:
            continue
        elif reminder.status == ReminderStatus.PENDING:
            reminder.due_at, reminder.updated_at = due_at, now
        elif due_at > now and due_at > reminder.due_at:
            _rearm(reminder, now, due_at)
    await db.flush()


async def refresh_prepared_reminders(
    db: AsyncSession, session_id: int, *, now: datetime, note: str = WITHDRAWN_AGENDA_CHANGED
) -> int:
    """What the session's reminders say changed (its agenda): emails prepared ahead and not
    yet claimed are taken back, their reminders armed again to be composed anew; how many."""
    scope = _scope(session_id, None)
    await _wait_for_preparation(db, scope)
    taken = await take_back(db, await prepared_of(db, scope), note=note)
    for reminder in taken:
        _rearm(reminder, now)
    await db.flush()
    return len(taken)


async def refresh_prepared_reminders_for_registration(
    db: AsyncSession, registration_id: int, *, now: datetime,
    note: str = WITHDRAWN_REGISTRANT_CHANGED,
) -> int:
    """What the registration's reminders say changed (the registrant's name): emails prepared
    ahead and not yet claimed are composed again; how many."""
    scope = _scope(None, registration_id)
    await _wait_for_preparation(db, scope)
    taken = await take_back(db, await prepared_of(db, scope), note=note)
    for reminder in taken:
        _rearm(reminder, now)
    await db.flush()
    return len(taken)


async def refresh_prepared_reminders_for_speakers(
    db: AsyncSession, *, now: datetime, person_id: int | None = None,
    organisation_id: int | None = None,
) -> int:
    """A speaker's name or organisation changed (or an organisation's name): reminders
    prepared for the sessions whose agenda shows them are composed again; how many."""
    if person_id is None and organisation_id is None:
        raise ValueError("name a person, an organisation or both")
    shown = []
    if person_id is not None:
        shown.append(AgendaItemSpeaker.person_id == person_id)
    if organisation_id is not None:
        shown += [AgendaItemSpeaker.organisation_id == organisation_id,
                  Person.organisation_id == organisation_id]
    session_ids = list(await db.scalars(
        select(AgendaItem.session_id).distinct()
        .join(AgendaItemSpeaker, AgendaItemSpeaker.agenda_item_id == AgendaItem.id)
        .join(Person, Person.id == AgendaItemSpeaker.person_id)
        .where(or_(*shown))
        .order_by(AgendaItem.session_id)
    ))
    refreshed = 0
    for session_id in session_ids:
        refreshed += await refresh_prepared_reminders(
            db, session_id, now=now, note=WITHDRAWN_SPEAKER_CHANGED)
    return refreshed


async def cancel_reminders(
    db: AsyncSession, *, now: datetime, note: str, session_id: int | None = None,
    registration_id: int | None = None,
) -> int:
    """Reminders of a session, a registration or both are cancelled; how many.

    Pending ones, and those prepared ahead whose email could still be taken back; one a
    worker is sending at this moment went out before the cancellation and stays sent.
    """
    scope = _scope(session_id, registration_id)
    await _wait_for_preparation(db, scope)
    taken = await take_back(db, await prepared_of(db, scope), note=f"reminder cancelled: {note}")
    for reminder in taken:
        _cancel(reminder, now, note)
    await db.flush()
    result = await db.execute(
        update(Reminder).where(*scope, Reminder.status == ReminderStatus.PENDING)
        .values(status=ReminderStatus.CANCELLED, processed_at=now, updated_at=now, note=note)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0) + len(taken)


async def replan_reminders_for_event(db: AsyncSession, event: Event, *, now: datetime) -> None:
    """The event's policy changed: every confirmed place in a coming session is planned again."""
    sessions = list(await db.scalars(
        select(Session).where(Session.event_id == event.id, Session.starts_at > now,
                              Session.status == SessionStatus.SCHEDULED)
    ))
    for session in sessions:
        for registration in await confirmed_places(db, session.id):
            await plan_reminders_for_enrolment(db, registration, session, event, now=now)

"""Reminders before each occurrence of a group's meetings, for each member.

A MeetingReminder row per (series, occurrence, member, offset) with its stored `due_at`,
planned on a rolling horizon (`PLANNING_HORIZON`, by a scheduled job, and at once when a
series is created or a member joins) since a series may run for years. Default offsets:
1 day and 1 hour before for online and hybrid meetings, 7 days and 1 day for meetings in
person (a series' `reminder_offsets_minutes` overrides them). A cancelled occurrence, one
the member declined, or a member who left gets none.

Like the registrants' reminders (service.domain.reminders), they are composed ahead
(`prepare_meeting_reminders`, within PROCURA_REMINDER_PREPARE_MINUTES of their due time)
into the outbox, held until due and withdrawn unsent once the meeting has started; claimed
with SKIP LOCKED on PostgreSQL, marked SENT in the same transaction, and the outbox's
dedupe key is the last guard against composing one twice. A move takes back prepared emails
and plans again. Never commits, never sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.message import EmailMessage
from notifications.outbox import OutboxEntry, queue_emails, withdraw_emails
from service.db.engine import insert_unless_exists, is_postgres, table_of
from service.db.models import (
    GroupMember,
    GroupMemberStatus,
    InterestGroup,
    MeetingDecline,
    MeetingOccurrence,
    MeetingReminder,
    MeetingSeries,
    MeetingStatus,
    OutboxEmail,
    OutboxStatus,
    ReminderStatus,
    SessionMode,
)
from service.domain import wording
from service.domain.groups.erased import is_erased, is_reachable
from service.domain.groups.schedule import Occurrence, apply_override, occurrences, utc
from service.domain.groups.translations import group_text, occurrence_agenda, series_title
from service.domain.urls import group_page_url
from service.i18n import use_language
from service.settings import Settings

PLANNING_HORIZON = timedelta(days=60)
REMINDER_TEMPLATE = "group_meeting_reminder_to_member"
ONLINE_OFFSETS = (24 * 60, 60)
IN_PERSON_OFFSETS = (7 * 24 * 60, 24 * 60)
_WAITING_EMAIL = (OutboxStatus.COMPOSING, OutboxStatus.QUEUED, OutboxStatus.RETRY)


def offsets_for(series: MeetingSeries) -> tuple[int, ...]:
    """Minutes before each occurrence that members are reminded."""
    if series.reminder_offsets_minutes is not None:
        return tuple(series.reminder_offsets_minutes)
    return IN_PERSON_OFFSETS if series.mode == SessionMode.IN_PERSON else ONLINE_OFFSETS


# --- planning ----------------------------------------------------------------------------------


async def plan_reminders(
    db: AsyncSession, *, now: datetime, horizon: timedelta = PLANNING_HORIZON,
    series_ids: Sequence[int] | None = None, member_ids: Sequence[int] | None = None,
) -> int:
    """Rows for every reminder falling due after `now` before an occurrence starting within
    `horizon` (of the given series or members, or all); existing ones are kept. How many
    were added."""
    query = select(MeetingSeries).where(MeetingSeries.status == MeetingStatus.SCHEDULED)
    if series_ids is not None:
        query = query.where(MeetingSeries.id.in_(list(series_ids)))
    if member_ids is not None:
        groups = select(GroupMember.group_id).where(GroupMember.id.in_(list(member_ids)))
        query = query.where(MeetingSeries.group_id.in_(groups))
    all_series = list(await db.scalars(query.order_by(MeetingSeries.id)))
    if not all_series:
        return 0
    group_ids = {s.group_id for s in all_series}
    member_query = select(GroupMember).where(GroupMember.group_id.in_(group_ids),
                                             GroupMember.status == GroupMemberStatus.MEMBER,
                                             is_reachable(GroupMember))
    if member_ids is not None:
        member_query = member_query.where(GroupMember.id.in_(list(member_ids)))
    members: dict[int, list[GroupMember]] = {}
    for member in await db.scalars(member_query.order_by(GroupMember.id)):
        members.setdefault(member.group_id, []).append(member)
    series_by_id = {s.id: s for s in all_series}
    overrides: dict[int, list[MeetingOccurrence]] = {s.id: [] for s in all_series}
    for row in await db.scalars(select(MeetingOccurrence).where(
            MeetingOccurrence.series_id.in_(list(series_by_id)))):
        overrides[row.series_id].append(row)
    declined = {(row.series_id, utc(row.recurrence_id), row.member_id)
                for row in await db.scalars(select(MeetingDecline).where(
                    MeetingDecline.series_id.in_(list(series_by_id))))}
    rows: list[dict[str, object]] = []
    for series in all_series:
        upcoming = [o for o in occurrences(series, overrides[series.id], start=now,
                                           end=now + horizon)
                    if not o.is_cancelled and o.starts_at > now]
        for occurrence in upcoming:
            for member in members.get(series.group_id, []):
                if (series.id, occurrence.recurrence_id, member.id) in declined:
                    continue
                for offset in offsets_for(series):
                    due = occurrence.starts_at - timedelta(minutes=offset)
                    if due <= now:
                        continue
                    rows.append({"series_id": series.id,
                                 "recurrence_id": occurrence.recurrence_id,
                                 "member_id": member.id, "offset_minutes": offset,
                                 "due_at": due, "status": ReminderStatus.PENDING,
                                 "created_at": now, "updated_at": now})
    if not rows:
        return 0
    await db.flush()
    table = table_of(MeetingReminder)
    statement = insert_unless_exists(db, table, [table.c.series_id, table.c.recurrence_id,
                                                 table.c.member_id, table.c.offset_minutes])
    added = 0
    for start in range(0, len(rows), 500):
        result = await db.execute(statement.returning(table.c.id), rows[start:start + 500])
        added += len(result.all())
    return added


async def _take_back(db: AsyncSession, reminders: Sequence[MeetingReminder], note: str) -> None:
    ids = [r.outbox_email_id for r in reminders
           if r.status == ReminderStatus.SENT and r.outbox_email_id is not None]
    if ids:
        await withdraw_emails(db, ids, note=note)


async def _waiting(db: AsyncSession, *where: object) -> list[MeetingReminder]:
    """Rows not yet delivered: pending, or handed to an outbox email not claimed yet."""
    return list(await db.scalars(
        select(MeetingReminder)
        .outerjoin(OutboxEmail, OutboxEmail.id == MeetingReminder.outbox_email_id)
        .where(*where,  # type: ignore[arg-type]
               or_(MeetingReminder.status == ReminderStatus.PENDING,
                   (MeetingReminder.status == ReminderStatus.SENT)
                   & OutboxEmail.status.in_(_WAITING_EMAIL)))
        .execution_options(populate_existing=True)))


async def replan_occurrence(db: AsyncSession, series: MeetingSeries, recurrence_id: datetime, *,
                            now: datetime) -> None:
    """The occurrence moved, was cancelled or changed: its reminders (prepared emails too)
    are taken back and planned again from what it is now."""
    await _replan(db, series, [MeetingReminder.recurrence_id == recurrence_id], now=now)


async def replan_series(db: AsyncSession, series: MeetingSeries, *, now: datetime) -> None:
    """The series changed as a whole (or was split): all its reminders planned again."""
    await _replan(db, series, [], now=now)


async def _replan(db: AsyncSession, series: MeetingSeries, where: list[object], *,
                  now: datetime) -> None:
    rows = await _waiting(db, MeetingReminder.series_id == series.id, *where)
    await _take_back(db, rows, "the meeting changed")
    if rows:
        await db.execute(delete(MeetingReminder).where(
            MeetingReminder.id.in_([r.id for r in rows]))
            .execution_options(synchronize_session="fetch"))
    await _forget_delivered_for_another_time(db, series, where, now=now)
    await plan_reminders(db, now=now, series_ids=[series.id])


async def _forget_delivered_for_another_time(db: AsyncSession, series: MeetingSeries,
                                             where: list[object], *, now: datetime) -> None:
    """A reminder delivered for the time a meeting had before it moved said the wrong time:
    where the same reminder for its new time is still to come, its row goes so that it is
    planned again (the email sent stays in the outbox, with its own record)."""
    delivered = list(await db.scalars(select(MeetingReminder).where(
        MeetingReminder.series_id == series.id, *where,  # type: ignore[arg-type]
        MeetingReminder.status == ReminderStatus.SENT)))
    if not delivered:
        return
    rows = await db.scalars(select(MeetingOccurrence).where(
        MeetingOccurrence.series_id == series.id))
    current = {o.recurrence_id: o for o in occurrences(series, list(rows), start=now,
                                                       end=now + PLANNING_HORIZON)
               if not o.is_cancelled}
    stale = []
    for reminder in delivered:
        occurrence = current.get(utc(reminder.recurrence_id))
        if occurrence is None:
            continue
        due = occurrence.starts_at - timedelta(minutes=reminder.offset_minutes)
        if due != utc(reminder.due_at) and due > now:
            stale.append(reminder.id)
    if stale:
        await db.execute(delete(MeetingReminder).where(MeetingReminder.id.in_(stale))
                         .execution_options(synchronize_session="fetch"))


async def cancel_reminders(
    db: AsyncSession, *, member_id: int, now: datetime, note: str, series_id: int | None = None,
    recurrence_id: datetime | None = None,
) -> int:
    """The member's reminders not delivered yet (of one occurrence, or all) are cancelled."""
    where: list[object] = [MeetingReminder.member_id == member_id]
    if series_id is not None:
        where.append(MeetingReminder.series_id == series_id)
    if recurrence_id is not None:
        where.append(MeetingReminder.recurrence_id == recurrence_id)
    rows = await _waiting(db, *where)
    await _take_back(db, rows, note)
    for row in rows:
        row.status = ReminderStatus.CANCELLED
        row.processed_at = now
        row.updated_at = now
    await db.flush()
    return len(rows)


# --- composing ahead ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingReminderReport:
    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    cancelled: int = 0


def reminder_message(series: MeetingSeries, group: InterestGroup, member: GroupMember,
                     occurrence: Occurrence, *, now: datetime, settings: Settings) -> EmailMessage:
    """The reminder in the member's own language (a job composes it, in no one's)."""
    with use_language(member.language) as language:
        local, when_utc = wording.session_when(occurrence.starts_at, occurrence.ends_at,
                                               series.timezone)
        agenda = occurrence_agenda(series, occurrence, group.default_language, language)
        return EmailMessage(
            template=REMINDER_TEMPLATE, to_address=member.email, to_name=member.name,
            context={
                "recipient_name": member.name,
                "group_topic": group_text(group, "topic", language),
                "title": series_title(series, group.default_language, language),
                "group_url": group_page_url(settings, group.slug),
                "starts": wording.starts_phrase(occurrence.starts_at, now, series.timezone),
                "when_local": local, "when_utc": when_utc,
                "join_url": wording.join_url_for(series.mode, occurrence.join_url),
                "venue": wording.venue_text(series.mode, series.venue),
                "agenda": str(agenda),
                "agenda_language": agenda.language if agenda.language != language else None,
            },
            language=language)


async def prepare_meeting_reminders(
    db: AsyncSession, *, now: datetime, settings: Settings, batch_size: int = 50,
) -> MeetingReminderReport:
    """Reminders due within the preparation window become outbox emails held until their due
    time (overdue ones at once, the nearest only), or are recorded skipped or cancelled."""
    window = timedelta(minutes=max(0, settings.reminder_prepare_minutes))
    query = (select(MeetingReminder)
             .where(MeetingReminder.status == ReminderStatus.PENDING,
                    MeetingReminder.due_at <= now + window)
             .order_by(MeetingReminder.due_at, MeetingReminder.id).limit(batch_size))
    if is_postgres(db):
        query = query.with_for_update(skip_locked=True)
    claimed = list(await db.scalars(query))
    if not claimed:
        return MeetingReminderReport()
    series_ids = {r.series_id for r in claimed}
    series = {s.id: s for s in await db.scalars(
        select(MeetingSeries).where(MeetingSeries.id.in_(series_ids)))}
    groups = {g.id: g for g in await db.scalars(select(InterestGroup).where(
        InterestGroup.id.in_({s.group_id for s in series.values()})))}
    members = {m.id: m for m in await db.scalars(select(GroupMember).where(
        GroupMember.id.in_({r.member_id for r in claimed})))}
    rows = {(o.series_id, utc(o.recurrence_id)): o for o in await db.scalars(
        select(MeetingOccurrence).where(MeetingOccurrence.series_id.in_(series_ids)))}
    declined = {(d.series_id, utc(d.recurrence_id), d.member_id) for d in await db.scalars(
        select(MeetingDecline).where(MeetingDecline.series_id.in_(series_ids)))}
    # The nearest overdue reminder per (occurrence, member) supersedes longer ones.
    nearest: dict[tuple[int, datetime, int], int] = {}
    for r in claimed:
        if utc(r.due_at) <= now:
            key = (r.series_id, utc(r.recurrence_id), r.member_id)
            nearest[key] = min(nearest.get(key, r.offset_minutes), r.offset_minutes)
    entries: list[tuple[MeetingReminder, OutboxEntry]] = []
    sent = skipped = cancelled = 0
    for reminder in claimed:
        rid = utc(reminder.recurrence_id)
        the_series = series[reminder.series_id]
        member = members.get(reminder.member_id)
        occurrence = apply_override(the_series, rid, rows.get((the_series.id, rid)))
        key = (the_series.id, rid, reminder.member_id)
        reminder.processed_at = now
        reminder.updated_at = now
        if (occurrence.is_cancelled or member is None
                or member.status != GroupMemberStatus.MEMBER or key in declined
                or is_erased(member)):
            reminder.status = ReminderStatus.CANCELLED
            cancelled += 1
            continue
        if occurrence.starts_at <= now or (key in nearest
                                           and reminder.offset_minutes > nearest[key]):
            reminder.status = ReminderStatus.SKIPPED
            skipped += 1
            continue
        due = utc(reminder.due_at)
        message = reminder_message(the_series, groups[the_series.group_id], member, occurrence,
                                   now=max(due, now), settings=settings)
        entries.append((reminder, OutboxEntry(
            message, group_member_id=member.id, dedupe_key=f"group-meeting-reminder-{reminder.id}",
            send_at=max(due, now), expires_at=occurrence.starts_at, due_at=due)))
    ids = await queue_emails(db, [entry for _, entry in entries], settings=settings, now=now)
    for (reminder, _), email_id in zip(entries, ids, strict=True):
        reminder.status = ReminderStatus.SENT
        reminder.outbox_email_id = email_id
        sent += 1
    await db.flush()
    return MeetingReminderReport(claimed=len(claimed), sent=sent, skipped=skipped,
                                 cancelled=cancelled)

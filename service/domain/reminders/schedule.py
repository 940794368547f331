"""The organisers' reminder schedule of an event: for each session and each offset of the
policy, when it falls due and how many reminders are in each state; and the policy form's
offsets read from "amount + unit" rows.

Counts are one grouped query, so an event with thousands of registrants shows its
schedule as fast as one with ten. Read-only; the policy itself changes through
`programme.update_event` (which re-plans every reminder).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    EventKind,
    OutboxEmail,
    OutboxStatus,
    Reminder,
    ReminderStatus,
    SessionStatus,
)
from service.domain import programme
from service.domain.errors import FieldError, InvalidInputError
from service.domain.reminders.overview import (
    REMINDER_STATES,
    reminder_state,  # the one folding rule
)
from service.domain.reminders.policy import (
    DAY_MINUTES,
    DEFAULT_OFFSETS_MINUTES,
    reminder_due_at,
    reminder_offsets,
)
from service.i18n import gettext as _
from service.i18n import ngettext

UNIT_MINUTES = {"days": DAY_MINUTES, "hours": 60, "minutes": 1}
MAX_OFFSET_MINUTES = 60 * DAY_MINUTES
MAX_OFFSETS = 6


@dataclass(frozen=True)
class ScheduleRow:
    """One session's reminders at one offset."""

    session_id: int
    session_title: str
    session_starts_at: datetime
    is_session_cancelled: bool
    offset_minutes: int
    due_at: datetime  # by the policy; for an offset no longer in it, when they were due
    is_in_policy: bool
    counts: dict[str, int] = field(default_factory=dict)  # every state of REMINDER_STATES

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class ReminderSchedule:
    timezone: str
    offsets: tuple[int, ...]  # the policy in force, largest first
    is_default_policy: bool
    default_offsets: tuple[int, ...]  # the event kind's
    rows: list[ScheduleRow]  # by due time
    totals: dict[str, int]


async def reminder_schedule(db: AsyncSession, event_id: int, *, now: datetime
                            ) -> ReminderSchedule:
    """The event's reminder schedule (404 for an unknown event)."""
    event = await programme.get_event(db, event_id)
    offsets = reminder_offsets(event)
    sessions = {session.id: session for session in event.sessions}
    later = case((OutboxEmail.next_attempt_at > now, True), else_=False)
    grouped = (await db.execute(
        select(Reminder.session_id, Reminder.offset_minutes, Reminder.status,
               OutboxEmail.status, later, func.min(Reminder.due_at), func.count())
        .outerjoin(OutboxEmail, OutboxEmail.id == Reminder.outbox_email_id)
        .where(Reminder.session_id.in_(list(sessions) or [0]))
        .group_by(Reminder.session_id, Reminder.offset_minutes, Reminder.status,
                  OutboxEmail.status, later)
    )).all()
    counts: dict[tuple[int, int], dict[str, int]] = {}
    stored_due: dict[tuple[int, int], datetime] = {}
    totals = dict.fromkeys(REMINDER_STATES, 0)
    for session_id, offset, status, outbox_status, is_later, due_at, count in grouped:
        key = (session_id, offset)
        # Only whether its email's time is still ahead matters to the state.
        send_at = now + timedelta(seconds=1) if is_later else now
        state = reminder_state(ReminderStatus(status),
                               OutboxStatus(outbox_status) if outbox_status else None,
                               send_at, now)
        counts.setdefault(key, dict.fromkeys(REMINDER_STATES, 0))[state] += count
        totals[state] += count
        stored_due[key] = min(due_at, stored_due.get(key, due_at))
    keys = {(s.id, offset) for s in sessions.values() if s.status == SessionStatus.SCHEDULED
            for offset in offsets} | set(counts)
    rows = []
    for session_id, offset in keys:
        session = sessions[session_id]
        in_policy = offset in offsets
        due = (reminder_due_at(session.starts_at, offset, event.timezone) if in_policy
               else stored_due[(session_id, offset)])
        rows.append(ScheduleRow(
            session_id=session_id, session_title=session.title,
            session_starts_at=session.starts_at,
            is_session_cancelled=session.status == SessionStatus.CANCELLED,
            offset_minutes=offset, due_at=due, is_in_policy=in_policy,
            counts=counts.get((session_id, offset), dict.fromkeys(REMINDER_STATES, 0))))
    rows.sort(key=lambda row: (row.due_at, row.session_starts_at, row.session_id,
                               -row.offset_minutes))
    return ReminderSchedule(
        timezone=event.timezone, offsets=offsets,
        is_default_policy=event.reminder_offsets_minutes is None,
        default_offsets=DEFAULT_OFFSETS_MINUTES[EventKind(event.kind)], rows=rows,
        totals=totals)


def offset_parts(minutes: int) -> tuple[int, str]:
    """An offset as the form shows it: (1, "days"), (90, "minutes")."""
    for unit, size in UNIT_MINUTES.items():
        if minutes % size == 0:
            return minutes // size, unit
    return minutes, "minutes"  # pragma: no cover - minutes always divide


def offset_text(minutes: int) -> str:
    """"1 day", "2 hours", "90 minutes" before."""
    amount, unit = offset_parts(minutes)
    if unit == "days":
        return ngettext("%(count)s day", "%(count)s days", amount) % {"count": amount}
    if unit == "hours":
        return ngettext("%(count)s hour", "%(count)s hours", amount) % {"count": amount}
    return ngettext("%(count)s minute", "%(count)s minutes", amount) % {"count": amount}


def offsets_from_parts(parts: Sequence[tuple[str, str]]) -> list[int]:
    """The offsets typed as (amount, unit) rows, each in minutes; blank rows are skipped.

    Every problem is reported at once, naming the row's field (`offset-N-amount`,
    `offset-N-unit`, N from 1); at least one reminder is needed (to have none, an event
    would need another setting; the default is one choice away).
    """
    problems: list[FieldError] = []
    offsets: list[int] = []
    for number, (amount_text, unit) in enumerate(parts, start=1):
        amount_text = amount_text.strip()
        if not amount_text:
            continue
        if unit not in UNIT_MINUTES:
            problems.append(FieldError(f"offset-{number}-unit",
                                       _("Choose days, hours or minutes.")))
            continue
        if not amount_text.isdigit() or len(amount_text) > 6:
            problems.append(FieldError(f"offset-{number}-amount",
                                       _("Write a whole number, such as 1 or 24.")))
            continue
        minutes = int(amount_text) * UNIT_MINUTES[unit]
        if not 1 <= minutes <= MAX_OFFSET_MINUTES:
            problems.append(FieldError(f"offset-{number}-amount",
                                       _("Each reminder is 1 minute to 60 days before the session.")))
            continue
        offsets.append(minutes)
    if not problems and not offsets:
        problems.append(FieldError("offset-1-amount",
                                   _("Give at least one reminder, or choose the default.")))
    if problems:
        raise InvalidInputError.of(problems)
    return sorted(set(offsets), reverse=True)

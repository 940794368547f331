"""The organisers' view of an event's reminders: what is scheduled, sent, failed or skipped.

A reminder's state folds in its email's delivery status in the outbox. Read-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    OutboxEmail,
    OutboxStatus,
    Registration,
    Reminder,
    ReminderStatus,
    Session,
)
from service.domain import programme
from service.domain.errors import InvalidInputError
from service.domain.reminders.policy import NOTE_EXPIRED
from service.i18n import gettext as _


@dataclass(frozen=True)
class ReminderView:
    """One reminder as organisers see it; `state` folds in the outbox's delivery status."""

    id: int
    session_id: int
    session_title: str
    registration_id: int
    registrant_name: str
    registrant_email: str
    offset_minutes: int
    due_at: datetime
    state: str  # scheduled, sending, sent, failed, skipped, cancelled
    processed_at: datetime | None
    delivered_at: datetime | None
    note: str | None


REMINDER_STATES = ("scheduled", "sending", "sent", "failed", "skipped", "cancelled")


def reminder_state(status: ReminderStatus, outbox_status: OutboxStatus | None,
           send_at: datetime | None, now: datetime) -> str:
    if status == ReminderStatus.PENDING:
        return "scheduled"
    if status != ReminderStatus.SENT:
        return str(status)
    if outbox_status == OutboxStatus.SENT:
        return "sent"
    if outbox_status == OutboxStatus.FAILED:
        return "failed"
    if outbox_status == OutboxStatus.WITHDRAWN:
        # Only delivery withdraws an email whose reminder stays sent: it expired unsent.
        return "skipped"
    if outbox_status == OutboxStatus.QUEUED and send_at is not None and send_at > now:
        return "scheduled"  # composed ahead, waiting for its time
    return "sending"


@dataclass(frozen=True)
class ReminderOverview:
    counts: dict[str, int]  # every state, over all the event's reminders
    reminders: list[ReminderView]  # by due time, only the states asked for


async def list_reminders_for_event(
    db: AsyncSession, event_id: int, *, now: datetime, states: Sequence[str] = ()
) -> ReminderOverview:
    """The reminders of the event's sessions by due time, optionally only in some states.

    A reminder composed ahead is "scheduled" until its due time, then "sending" until the
    mail server accepts it; one whose email expired unsent (the service was down until
    its session had started) is "skipped".
    """
    for index, state in enumerate(states):
        if state not in REMINDER_STATES:
            raise InvalidInputError(
                _("Unknown state %(state)r: use one of %(states)s.")
                    % {"state": state, "states": ", ".join(REMINDER_STATES)},
                f"state[{index}]",
            )
    await programme.get_event(db, event_id)  # 404 for an unknown event
    rows = (await db.execute(
        select(
            Reminder, Session.title, Registration.name, Registration.email,
            OutboxEmail.status, OutboxEmail.next_attempt_at, OutboxEmail.sent_at,
            OutboxEmail.last_error,
        )
        .join(Session, Session.id == Reminder.session_id)
        .join(Registration, Registration.id == Reminder.registration_id)
        .outerjoin(OutboxEmail, OutboxEmail.id == Reminder.outbox_email_id)
        .where(Session.event_id == event_id)
        .order_by(Reminder.due_at, Reminder.session_id, Reminder.registration_id, Reminder.id)
    )).all()
    views = []
    counts = dict.fromkeys(REMINDER_STATES, 0)
    for reminder, title, name, address, outbox_status, send_at, sent_at, last_error in rows:
        state = reminder_state(reminder.status, outbox_status, send_at, now)
        counts[state] += 1
        if states and state not in states:
            continue
        note = reminder.note
        if state == "failed":
            note = last_error
        elif state == "skipped" and reminder.status == ReminderStatus.SENT:
            note = NOTE_EXPIRED
        views.append(ReminderView(
            id=reminder.id, session_id=reminder.session_id, session_title=title,
            registration_id=reminder.registration_id, registrant_name=name,
            registrant_email=address, offset_minutes=reminder.offset_minutes,
            due_at=reminder.due_at, state=state, processed_at=reminder.processed_at,
            delivered_at=sent_at if state == "sent" else None, note=note,
        ))
    return ReminderOverview(counts=counts, reminders=views)

"""Reminders before each session: planned with a stored due time, composed ahead, sent once.

`policy` says when (offsets, due times), `planning` keeps the rows in step with places,
sessions and the policy, `preparation` composes them into the outbox ahead of their time,
`overview` shows organisers what became of them, `places` says who holds a confirmed
place. Reminders never import registration or notices (facts reach them through
`service.operations.consequences`), never commit, never send, and know nothing of HTTP.
"""

from service.domain.reminders.overview import (
    REMINDER_STATES,
    ReminderOverview,
    ReminderView,
    list_reminders_for_event,
)
from service.domain.reminders.places import confirmed_places, has_confirmed_places
from service.domain.reminders.planning import (
    cancel_reminders,
    plan_reminders_for_enrolment,
    plan_reminders_for_new_registrations,
    refresh_prepared_reminders,
    refresh_prepared_reminders_for_registration,
    refresh_prepared_reminders_for_speakers,
    replan_reminders_for_event,
    retime_reminders_for_session,
)
from service.domain.reminders.policy import (
    DAY_MINUTES,
    DEFAULT_OFFSETS_MINUTES,
    NOTE_BAD_ADDRESS,
    NOTE_EXPIRED,
    NOTE_LATE,
    NOTE_PLACE_ENDED,
    NOTE_POLICY,
    NOTE_SESSION_CANCELLED,
    NOTE_STARTED,
    WITHDRAWN_AGENDA_CHANGED,
    WITHDRAWN_REGISTRANT_CHANGED,
    WITHDRAWN_SESSION_CHANGED,
    WITHDRAWN_SPEAKER_CHANGED,
    reminder_due_at,
    reminder_offsets,
)
from service.domain.reminders.preparation import (
    REMINDER_TEMPLATE,
    ReminderReport,
    prepare_reminders,
    prepare_window,
    session_context,
)

__all__ = [
    "DAY_MINUTES",
    "DEFAULT_OFFSETS_MINUTES",
    "NOTE_BAD_ADDRESS",
    "NOTE_EXPIRED",
    "NOTE_LATE",
    "NOTE_PLACE_ENDED",
    "NOTE_POLICY",
    "NOTE_SESSION_CANCELLED",
    "NOTE_STARTED",
    "REMINDER_STATES",
    "REMINDER_TEMPLATE",
    "WITHDRAWN_AGENDA_CHANGED",
    "WITHDRAWN_REGISTRANT_CHANGED",
    "WITHDRAWN_SESSION_CHANGED",
    "WITHDRAWN_SPEAKER_CHANGED",
    "ReminderOverview",
    "ReminderReport",
    "ReminderView",
    "cancel_reminders",
    "confirmed_places",
    "has_confirmed_places",
    "list_reminders_for_event",
    "plan_reminders_for_enrolment",
    "plan_reminders_for_new_registrations",
    "prepare_reminders",
    "prepare_window",
    "refresh_prepared_reminders",
    "refresh_prepared_reminders_for_registration",
    "refresh_prepared_reminders_for_speakers",
    "reminder_due_at",
    "reminder_offsets",
    "replan_reminders_for_event",
    "retime_reminders_for_session",
    "session_context",
]

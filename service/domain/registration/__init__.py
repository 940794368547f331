"""Registrations: who takes part in which sessions, places, waiting lists and approval.

Plain async functions over a database session and an explicit `now`; they `flush()` but never
commit, know nothing of HTTP, and queue every email a registrant must hear of in the same
transaction. New registrations (the hot path) come in batches (`batch`) and only record their
first email, which a job composes after the commit (`welcome`). Places are never overbooked
(`places`); whether an event takes registrations at all is decided in one place (`rules`).
"""

from .batch import RegistrationOutcome, register_participant, register_participants
from .form import RegistrationForm
from .lifecycle import (
    approve_registration,
    cancel_registration,
    change_session_choices,
    decline_registration,
    enrol_in_new_session,
)
from .links import registrant_links
from .loading import find_registration_by_token, get_registration
from .places import promote_waiting
from .queries import (
    list_registration_emails,
    list_registrations,
    registrant_calendar,
    waiting_order,
    waiting_position,
)
from .rules import ACTIVE_STATUSES, ClosedReason, closed_reason
from .welcome import ComposeReport, compose_welcome_emails

__all__ = [
    "ACTIVE_STATUSES",
    "ClosedReason",
    "ComposeReport",
    "RegistrationForm",
    "RegistrationOutcome",
    "approve_registration",
    "cancel_registration",
    "change_session_choices",
    "closed_reason",
    "compose_welcome_emails",
    "decline_registration",
    "enrol_in_new_session",
    "find_registration_by_token",
    "get_registration",
    "list_registration_emails",
    "list_registrations",
    "promote_waiting",
    "register_participant",
    "register_participants",
    "registrant_calendar",
    "registrant_links",
    "waiting_order",
    "waiting_position",
]

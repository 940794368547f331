"""Registrations: who takes part in which sessions, places, waiting lists and approval.

Plain async functions over a database session and an explicit `now`; they `flush()` but never
commit, know nothing of HTTP, and queue every email a registrant must hear of in the same
transaction. New registrations (the hot path) come in batches (`batch`) and only record their
first email, which a job composes after the commit (`welcome`); where the event asks for it,
they count only once the registrant has confirmed their address (`confirmation`). Places are
never overbooked (`places`); whether an event takes registrations at all is decided in one
place (`rules`).
"""

from .attendance import (
    ATTENDEE_STATUSES,
    Arrival,
    attendance_counts,
    attendance_list,
    attended_sessions,
    check_in,
    door_counts,
    door_list,
    door_sessions,
    has_a_place_to_come_to,
    people_with_a_place,
    session_at_the_door,
)
from .batch import (
    RegistrationOutcome,
    full_places,
    register_on_behalf,
    register_participant,
    register_participants,
)
from .confirmation import (
    CONFIRMATION_PERIOD,
    AddressLink,
    ExpiryReport,
    LinkState,
    check_address_link,
    confirm_address,
    expire_unconfirmed_registrations,
)
from .details import DetailsChange, change_registrant_details
from .figures import ParticipationFigures, Share, events_of_year, participation_figures
from .form import MAX_NOTE, RegistrationForm, form_problems
from .lifecycle import (
    approve_registration,
    cancel_registration,
    change_session_choices,
    decline_registration,
    enrol_in_new_session,
    release_registration,
)
from .links import registrant_links
from .listing import (
    RegistrationPage,
    RegistrationQuery,
    RegistrationRow,
    RegistrationSort,
    WaitingRow,
    count_registrations_by_status,
    find_registration_rows,
    get_event_outline,
    list_registration_page,
    list_registrations_to_export,
    list_waiting,
)
from .loading import find_registration_by_token, get_registration
from .lost_link import send_registration_link
from .organiser_actions import (
    Decision,
    DecisionReport,
    Promotion,
    check_decision_message,
    decide_registrations,
    promote_from_waiting_list,
)
from .organiser_messages import MessageDraft as MessageDraft
from .organiser_messages import send_organiser_message as send_organiser_message
from .places import promote_waiting
from .queries import (
    count_confirmed_enrolments,
    count_confirmed_registrations,
    list_enrolments,
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
    "ATTENDEE_STATUSES",
    "CONFIRMATION_PERIOD",
    "MAX_NOTE",
    "AddressLink",
    "Arrival",
    "ClosedReason",
    "ComposeReport",
    "Decision",
    "DecisionReport",
    "DetailsChange",
    "ExpiryReport",
    "LinkState",
    "ParticipationFigures",
    "Promotion",
    "RegistrationForm",
    "RegistrationOutcome",
    "RegistrationPage",
    "RegistrationQuery",
    "RegistrationRow",
    "RegistrationSort",
    "Share",
    "WaitingRow",
    "approve_registration",
    "attendance_counts",
    "attendance_list",
    "attended_sessions",
    "cancel_registration",
    "change_registrant_details",
    "change_session_choices",
    "check_address_link",
    "check_decision_message",
    "check_in",
    "closed_reason",
    "compose_welcome_emails",
    "confirm_address",
    "count_confirmed_enrolments",
    "count_confirmed_registrations",
    "count_registrations_by_status",
    "decide_registrations",
    "decline_registration",
    "door_counts",
    "door_list",
    "door_sessions",
    "enrol_in_new_session",
    "events_of_year",
    "expire_unconfirmed_registrations",
    "find_registration_by_token",
    "find_registration_rows",
    "form_problems",
    "full_places",
    "get_event_outline",
    "get_registration",
    "has_a_place_to_come_to",
    "list_enrolments",
    "list_registration_emails",
    "list_registration_page",
    "list_registrations",
    "list_registrations_to_export",
    "list_waiting",
    "participation_figures",
    "people_with_a_place",
    "promote_from_waiting_list",
    "promote_waiting",
    "register_on_behalf",
    "register_participant",
    "register_participants",
    "registrant_calendar",
    "registrant_links",
    "release_registration",
    "send_registration_link",
    "session_at_the_door",
    "waiting_order",
    "waiting_position",
]

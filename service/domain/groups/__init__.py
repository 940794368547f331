"""Interest Groups: member authorities on one topic, their members and their meetings.

Meetings (series, occurrences, invites, reminders, calendars) live in `meetings` and the
modules it uses; groups and their members in the modules that say so.
"""

from service.domain.groups.meetings import (
    Occurrence,
    cancel_occurrence,
    change_following,
    create_series,
    decline_occurrence,
    edit_occurrence,
    invite_guest,
    invite_member_to_group_meetings,
    move_occurrence,
    occurrences,
    withdraw_member_from_group_meetings,
)
from service.domain.groups.recurrence import RecurrenceRule

__all__ = [
    "Occurrence",
    "RecurrenceRule",
    "cancel_occurrence",
    "change_following",
    "create_series",
    "decline_occurrence",
    "edit_occurrence",
    "invite_guest",
    "invite_member_to_group_meetings",
    "move_occurrence",
    "occurrences",
    "withdraw_member_from_group_meetings",
]

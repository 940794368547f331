"""Interest Groups: member authorities on one topic, their members and their meetings.

Meetings (series, occurrences, invites, reminders, calendars) live in `meetings` and the
modules it uses; groups and their members in the modules that say so.
"""

from service.domain.groups.groups import GroupInput as GroupInput
from service.domain.groups.groups import GroupSummary as GroupSummary
from service.domain.groups.groups import add_facilitator as add_facilitator
from service.domain.groups.groups import assign_group_team as assign_group_team
from service.domain.groups.groups import check_group as check_group
from service.domain.groups.groups import create_group as create_group
from service.domain.groups.groups import get_group as get_group
from service.domain.groups.groups import get_group_by_slug as get_group_by_slug
from service.domain.groups.groups import group_summaries as group_summaries
from service.domain.groups.groups import list_facilitators as list_facilitators
from service.domain.groups.groups import list_groups as list_groups
from service.domain.groups.groups import member_organisation_names as member_organisation_names
from service.domain.groups.groups import remove_facilitator as remove_facilitator
from service.domain.groups.groups import shows_everything as shows_everything
from service.domain.groups.groups import update_group as update_group
from service.domain.groups.meetings import (
    Occurrence,
    cancel_following,
    cancel_occurrence,
    change_following,
    create_series,
    decline_occurrence,
    edit_occurrence,
    invite_guest,
    invite_member_to_group_meetings,
    move_occurrence,
    occurrences,
    set_series_reminders,
    withdraw_member_from_group_meetings,
)
from service.domain.groups.membership import ELIGIBLE_STANDINGS as ELIGIBLE_STANDINGS
from service.domain.groups.membership import InterestForm as InterestForm
from service.domain.groups.membership import MemberLinks as MemberLinks
from service.domain.groups.membership import MemberRow as MemberRow
from service.domain.groups.membership import approve_member as approve_member
from service.domain.groups.membership import current_members as current_members
from service.domain.groups.membership import decline_member as decline_member
from service.domain.groups.membership import express_interest as express_interest
from service.domain.groups.membership import find_member_by_token as find_member_by_token
from service.domain.groups.membership import get_member as get_member
from service.domain.groups.membership import is_eligible as is_eligible
from service.domain.groups.membership import leave_group as leave_group
from service.domain.groups.membership import list_members as list_members
from service.domain.groups.membership import member_links as member_links
from service.domain.groups.minutes import MinutesDocument as MinutesDocument
from service.domain.groups.minutes import PublishedMinutes as PublishedMinutes
from service.domain.groups.minutes import check_minutes as check_minutes
from service.domain.groups.minutes import list_published_minutes as list_published_minutes
from service.domain.groups.minutes import publish_minutes as publish_minutes
from service.domain.groups.recurrence import RecurrenceRule

__all__ = [
    "Occurrence",
    "RecurrenceRule",
    "cancel_following",
    "cancel_occurrence",
    "change_following",
    "create_series",
    "decline_occurrence",
    "edit_occurrence",
    "invite_guest",
    "invite_member_to_group_meetings",
    "move_occurrence",
    "occurrences",
    "set_series_reminders",
    "withdraw_member_from_group_meetings",
]

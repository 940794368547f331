"""The event's reminder policy: how long before each session, and when that falls due.

Offsets are "N days and M minutes before": whole days are calendar days in the event's
zone (the same wall time N days earlier, so "1 day before" a Monday 10:00 session is
Sunday 10:00 even across a daylight-saving change), the rest exact minutes. Also the words
recorded on a reminder (and on an email taken back) that organisers read. Pure: no database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from service.db.models import Event, EventKind

DAY_MINUTES = 24 * 60

# The network's defaults: webinars are short and online, visits and seminars need travel.
DEFAULT_OFFSETS_MINUTES: dict[EventKind, tuple[int, ...]] = {
    EventKind.WEBINAR_SERIES: (DAY_MINUTES, 60),
    EventKind.SEMINAR: (7 * DAY_MINUTES, DAY_MINUTES),
    EventKind.CITYMATCH: (7 * DAY_MINUTES, DAY_MINUTES),
    EventKind.MEET_YOUR_BUYER: (7 * DAY_MINUTES, DAY_MINUTES),
}

NOTE_LATE = "registered after this reminder's time"
NOTE_STARTED = "the session had already started when the reminder fell due"
NOTE_SESSION_CANCELLED = "session cancelled"
NOTE_PLACE_ENDED = "no confirmed place any more"
NOTE_POLICY = "no longer in the event's reminder policy"
NOTE_BAD_ADDRESS = "the registrant's email address cannot be used"
NOTE_EXPIRED = "the session had already started before the email could go out"
# Why a prepared email was taken back (on the outbox row) when its reminder was re-armed.
WITHDRAWN_SESSION_CHANGED = "reminder composed again: the session changed"
WITHDRAWN_AGENDA_CHANGED = "reminder composed again: the agenda changed"
WITHDRAWN_SPEAKER_CHANGED = "reminder composed again: a speaker's details changed"
WITHDRAWN_REGISTRANT_CHANGED = "reminder composed again: the registrant changed their name"


def reminder_offsets(event: Event) -> tuple[int, ...]:
    """Minutes before each session, largest first: the event's own list or its kind's default."""
    if event.reminder_offsets_minutes is not None:
        return tuple(sorted(set(event.reminder_offsets_minutes), reverse=True))
    return DEFAULT_OFFSETS_MINUTES[EventKind(event.kind)]


def reminder_due_at(starts_at: datetime, offset_minutes: int, zone_name: str) -> datetime:
    """When a reminder `offset_minutes` before `starts_at` falls due, as an exact UTC instant.

    Whole days step back over the calendar in the event's zone, keeping the wall time; a
    wall time that does not exist that day is read with the offset before the change.
    """
    days, minutes = divmod(offset_minutes, DAY_MINUTES)
    zone = ZoneInfo(zone_name)
    wall = starts_at.astimezone(zone).replace(tzinfo=None) - timedelta(days=days)
    return wall.replace(tzinfo=zone).astimezone(UTC) - timedelta(minutes=minutes)

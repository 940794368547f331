"""What an organiser should look at in a session's agenda: overlaps, gaps, items outside the
session and clock changes, each naming the item and the field at fault.

The agenda commands (`agenda`) refuse an overlap or an item outside its session when it is
written; this module only reads, so the agenda page can show every problem at once beside
its item, and the paste step can check a whole pasted agenda before anything is stored.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from service.db.models import Session
from service.i18n import gettext as _


@dataclass(frozen=True)
class Slot:
    """An item's place in time: `key` says which item (an id, or a pasted item's index)."""

    key: Hashable
    title: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class AgendaProblem:
    key: Hashable
    field: str  # "starts_at" or "ends_at"
    message: str
    is_warning: bool = False  # a gap or a clock change: worth a look, not wrong


def _wall(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%H:%M")


def _minutes(length: timedelta) -> str:
    minutes = int(length.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"


def _happens_twice(instant: datetime, zone: ZoneInfo) -> bool:
    local = instant.astimezone(zone).replace(tzinfo=None)
    return (local.replace(tzinfo=zone, fold=0).utcoffset()
            != local.replace(tzinfo=zone, fold=1).utcoffset())


def review_slots(
    slots: Sequence[Slot], *, session_starts_at: datetime, session_ends_at: datetime,
    zone_name: str,
) -> list[AgendaProblem]:
    """Every problem of these slots within their session, in time order."""
    zone = ZoneInfo(zone_name)
    problems: list[AgendaProblem] = []
    ordered = sorted(slots, key=lambda s: (s.starts_at, s.ends_at))
    previous: Slot | None = None
    for slot in ordered:
        if slot.starts_at < session_starts_at:
            problems.append(AgendaProblem(
                slot.key, "starts_at",
                _("Starts before the session does (%(time)s).")
                % {"time": _wall(session_starts_at, zone)}))
        if previous is not None and slot.starts_at < previous.ends_at:
            problems.append(AgendaProblem(
                slot.key, "starts_at",
                _("Overlaps %(title)r (%(starts)s–%(ends)s).")
                % {"title": previous.title, "starts": _wall(previous.starts_at, zone),
                   "ends": _wall(previous.ends_at, zone)}))
        elif previous is None and session_starts_at < slot.starts_at < session_ends_at:
            problems.append(AgendaProblem(
                slot.key, "starts_at",
                _("The agenda starts %(length)s after the session (%(time)s).")
                % {"length": _minutes(slot.starts_at - session_starts_at),
                   "time": _wall(session_starts_at, zone)}, is_warning=True))
        elif previous is not None and slot.starts_at > previous.ends_at:
            problems.append(AgendaProblem(
                slot.key, "starts_at",
                _("A gap of %(length)s after %(title)r.")
                % {"length": _minutes(slot.starts_at - previous.ends_at), "title": previous.title},
                is_warning=True))
        if slot.ends_at <= slot.starts_at:
            problems.append(AgendaProblem(slot.key, "ends_at", _("Ends before it starts.")))
        if slot.ends_at > session_ends_at:
            problems.append(AgendaProblem(
                slot.key, "ends_at",
                _("Ends after the session does (%(time)s).")
                % {"time": _wall(session_ends_at, zone)}))
        for field in ("starts_at", "ends_at"):
            if _happens_twice(getattr(slot, field), zone):
                problems.append(AgendaProblem(
                    slot.key, field,
                    _("%(time)s happens twice that day in %(zone)s (clocks go back): readers "
                      "may take the other one.")
                    % {"time": _wall(getattr(slot, field), zone), "zone": zone_name},
                    is_warning=True))
        if slot.starts_at.astimezone(zone).utcoffset() != slot.ends_at.astimezone(zone).utcoffset():
            problems.append(AgendaProblem(
                slot.key, "ends_at",
                _("The clocks change during this item: it lasts %(length)s, not what the wall "
                  "clock says.")
                % {"length": _minutes(slot.ends_at - slot.starts_at)},
                is_warning=True))
        if previous is None or slot.ends_at > previous.ends_at:
            previous = slot
    if ordered and previous is not None and previous.ends_at < session_ends_at:
        problems.append(AgendaProblem(
            previous.key, "ends_at",
            _("The agenda ends %(length)s before the session (%(time)s).")
            % {"length": _minutes(session_ends_at - previous.ends_at),
               "time": _wall(session_ends_at, zone)}, is_warning=True))
    return problems


def review_agenda(session: Session) -> list[AgendaProblem]:
    """The problems of a loaded session's agenda (keys are agenda item ids)."""
    slots = [Slot(item.id, item.title, item.starts_at.astimezone(UTC),
                  item.ends_at.astimezone(UTC)) for item in session.agenda_items]
    return review_slots(slots, session_starts_at=session.starts_at,
                        session_ends_at=session.ends_at, zone_name=session.event.timezone)

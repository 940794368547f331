"""Build every iCalendar (RFC 5545) object the product hands out.

Public feeds, personal feeds, email invites (iTIP REQUEST/CANCEL) and single-session
downloads all go through :func:`build_calendar`, so that escaping, folding, time zones
and UIDs are right in one place. The "add to Google/Outlook" links live here too.

An iTIP object (a calendar with a METHOD) carries exactly one event, as RFC 5546 §3.2
wants (one UID per iTIP message; Outlook and Gmail act on one event per invitation), and a
REQUEST never carries a cancelled event (libical rejects STATUS:CANCELLED there): an
invite for several sessions is several objects, :func:`build_invites`.

This module is pure: it must not touch the database, HTTP, Litestar, the clock or the
environment. Callers pass in everything (including ``now``), which keeps the output
deterministic apart from DTSTAMP and lets callers derive ETags from their inputs.

Time zones are written as classic VTIMEZONEs (one STANDARD/DAYLIGHT block per rule
period, with a yearly RRULE) derived from the zoneinfo transitions. icalendar's
``add_missing_timezones`` is deliberately not used: its multi-value RDATE lists are
misread by ical.js (Thunderbird) and vobject.
"""

from __future__ import annotations

import calendar as _calendar
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import MAXYEAR, UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, cast
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import (
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vDuration,
    vRecur,
    vUri,
)
from icalendar.parser import Contentline

from service.i18n import gettext as _

__all__ = [
    "CalendarAttendee",
    "CalendarEntry",
    "build_calendar",
    "build_invites",
    "calendar_entry_digest",
    "google_calendar_link",
    "outlook_calendar_link",
    "session_uid",
    "speaker_slot_uid",
]

STATUSES = frozenset({"CONFIRMED", "CANCELLED", "TENTATIVE"})
METHODS = frozenset({"PUBLISH", "REQUEST", "CANCEL"})
ROLES = frozenset({"CHAIR", "REQ-PARTICIPANT", "OPT-PARTICIPANT", "NON-PARTICIPANT"})

_UTC = UTC
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Scan zone history from here so that rule periods start where the tz database says,
# which keeps a zone's VTIMEZONE the same whatever years a calendar covers.
_HISTORY_START_YEAR = 1970


@dataclass(frozen=True)
class CalendarAttendee:
    """A person on an invite; speakers are ``CHAIR``, everyone else a participant."""

    email: str
    name: str
    role: str = "REQ-PARTICIPANT"


@dataclass(frozen=True)
class CalendarEntry:
    """One VEVENT, already decided by the caller (including what is private).

    ``conference_url`` is the private join link: callers set it only for personal
    feeds and invites, never for public feeds.
    """

    uid: str
    sequence: int
    summary: str
    description: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    status: str = "CONFIRMED"
    location: str | None = None
    url: str | None = None
    categories: tuple[str, ...] = ()
    organizer_email: str | None = None
    organizer_name: str | None = None
    attendees: tuple[CalendarAttendee, ...] = ()
    conference_url: str | None = None
    created_at: datetime | None = None
    last_modified_at: datetime | None = None
    # The join link's label (CONFERENCE;LABEL=), in the reader's language.
    conference_label: str = "Join online"


# --------------------------------------------------------------------------- UIDs


def session_uid(session_id: int, domain: str) -> str:
    """UID of a session's event; stable so that updates replace the same event."""
    return f"session-{session_id}@{domain}"


def speaker_slot_uid(agenda_item_id: int, person_id: int, domain: str) -> str:
    """UID of a speaker's own slot, distinct from the session so both can coexist."""
    return f"agenda-item-{agenda_item_id}-speaker-{person_id}@{domain}"


# ---------------------------------------------------------------- validation


def _require_aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value!r}")
    return value


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {name!r}") from exc


def _single_line(value: str, what: str) -> str:
    """Reject CR/LF in values written unescaped (URIs, addresses): header injection."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"{what} must not contain line breaks: {value!r}")
    return value.strip()


def _display_name(value: str) -> str:
    """CN parameters cannot carry line breaks; collapse all whitespace."""
    return " ".join(value.split())


def _utc(value: datetime) -> datetime:
    return value.astimezone(_UTC)


def _sort_key(entry: CalendarEntry) -> tuple[datetime, str]:
    return (_utc(_require_aware(entry.starts_at, "starts_at")), entry.uid)


def _validate(entry: CalendarEntry) -> None:
    _require_aware(entry.starts_at, f"{entry.uid}: starts_at")
    _require_aware(entry.ends_at, f"{entry.uid}: ends_at")
    if entry.ends_at < entry.starts_at:
        raise ValueError(f"{entry.uid}: ends_at is before starts_at")
    if entry.status not in STATUSES:
        raise ValueError(f"{entry.uid}: status must be one of {sorted(STATUSES)}")
    if entry.sequence < 0:
        raise ValueError(f"{entry.uid}: sequence must not be negative")
    if not entry.uid or any(c in entry.uid for c in "\r\n"):
        raise ValueError(f"invalid UID {entry.uid!r}")
    for attendee in entry.attendees:
        if attendee.role not in ROLES:
            raise ValueError(f"{entry.uid}: attendee role must be one of {sorted(ROLES)}")


# ------------------------------------------------------------- time zones


@dataclass(frozen=True)
class _Transition:
    """One change of a zone's offset, abbreviation or DST flag, as zoneinfo reports it."""

    at: datetime  # UTC instant
    offset_from: timedelta
    offset_to: timedelta
    dst_from: timedelta
    dst_to: timedelta
    name: str

    @property
    def local_onset(self) -> datetime:
        """Wall time of the change in the old offset, as VTIMEZONE DTSTART wants it."""
        return (self.at + self.offset_from).replace(tzinfo=None)

    @property
    def is_daylight(self) -> bool:
        # Europe/Dublin has negative DST in winter: its summer time is the "daylight" one.
        return self.dst_to > timedelta(0) or (
            self.dst_to == timedelta(0) and self.dst_from < timedelta(0)
        )


_State = tuple[timedelta, timedelta, str]


def _state(zone: ZoneInfo, ts: int) -> _State:
    moment = datetime.fromtimestamp(ts, zone)
    return (
        moment.utcoffset() or timedelta(0),
        moment.dst() or timedelta(0),
        moment.tzname() or "",
    )


@lru_cache(maxsize=8192)
def _transitions_in_year(zone_name: str, year: int) -> tuple[_Transition, ...]:
    """Transitions with a UTC instant in (1 Jan ``year``, 1 Jan ``year + 1``].

    zoneinfo has no public transition list, so sample daily and bisect to the second.
    """
    zone = ZoneInfo(zone_name)
    start = int(datetime(year, 1, 1, tzinfo=_UTC).timestamp())
    end = int(datetime(year + 1, 1, 1, tzinfo=_UTC).timestamp())
    found: list[_Transition] = []
    prev_ts, prev_state = start, _state(zone, start)
    for ts in range(start + 86400, end + 1, 86400):
        state = _state(zone, ts)
        if state == prev_state:
            prev_ts = ts
            continue
        low, low_state = prev_ts, prev_state
        while low_state != state:
            lo, hi = low, ts
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _state(zone, mid) == low_state:
                    lo = mid
                else:
                    hi = mid
            new_state = _state(zone, hi)
            found.append(
                _Transition(
                    at=datetime.fromtimestamp(hi, _UTC),
                    offset_from=low_state[0],
                    offset_to=new_state[0],
                    dst_from=low_state[1],
                    dst_to=new_state[1],
                    name=new_state[2],
                )
            )
            low, low_state = hi, new_state
        prev_ts, prev_state = ts, state
    return tuple(found)


# A way to say which day of the month a transition falls on:
# ("nth", n, weekday) -> BYDAY=nWD (n = -1 for last); ("monthday", d, -1) -> BYMONTHDAY=d;
# ("range", first_day, weekday) -> BYDAY=WD;BYMONTHDAY=first_day..first_day+6.
_DayRule = tuple[str, int, int]


def _day_rules(onset: datetime) -> frozenset[_DayRule]:
    """Every yearly rule that would produce this onset's day; intersected across years."""
    day, weekday = onset.day, onset.weekday()
    days_in_month = _calendar.monthrange(onset.year, onset.month)[1]
    rules: set[_DayRule] = {("nth", (day - 1) // 7 + 1, weekday), ("monthday", day, -1)}
    if day + 7 > days_in_month:
        rules.add(("nth", -1, weekday))
    for first in range(max(1, day - 6), day + 1):
        if first + 6 <= days_in_month:
            rules.add(("range", first, weekday))
    return frozenset(rules)


def _pick_rule(rules: frozenset[_DayRule]) -> _DayRule:
    """Prefer the classic spelling: last weekday, then nth weekday, then fixed date."""

    def key(rule: _DayRule) -> tuple[int, int, int]:
        kind, number, weekday = rule
        if kind == "nth":
            return (0, 0 if number == -1 else number, weekday)
        if kind == "range":
            return (2, -number, weekday)
        return (1, number, weekday)

    return min(rules, key=key)


@dataclass
class _Period:
    """A run of yearly transitions that one STANDARD/DAYLIGHT block with RRULE describes."""

    first: _Transition
    last: _Transition
    count: int
    rules: frozenset[_DayRule]


def _signature(t: _Transition) -> tuple[Any, ...]:
    onset = t.local_onset
    return (t.is_daylight, t.offset_from, t.offset_to, t.name, onset.month, onset.time())


def _periods(transitions: Sequence[_Transition]) -> list[_Period]:
    """Group transitions into yearly-recurring runs, splitting wherever the rule changes."""
    periods: list[_Period] = []
    open_runs: dict[tuple[Any, ...], _Period] = {}
    for t in transitions:
        sig = _signature(t)
        rules = _day_rules(t.local_onset)
        run = open_runs.get(sig)
        if run is not None:
            common = run.rules & rules
            if common and t.local_onset.year == run.last.local_onset.year + 1:
                run.last, run.count, run.rules = t, run.count + 1, common
                continue
        run = _Period(first=t, last=t, count=1, rules=rules)
        open_runs[sig] = run
        periods.append(run)
    return periods


@dataclass(frozen=True)
class _Observance:
    """Plain data for one STANDARD/DAYLIGHT block (cached; components are built fresh)."""

    daylight: bool
    onset: datetime  # local wall time, naive
    offset_from: timedelta
    offset_to: timedelta
    name: str
    rrule: tuple[tuple[str, Any], ...] = ()


def _observance(period: _Period, *, open_ended: bool) -> _Observance:
    first = period.first
    rrule: list[tuple[str, Any]] = []
    if period.count > 1:
        kind, number, weekday = _pick_rule(period.rules)
        rrule = [("FREQ", "YEARLY")]
        if not open_ended:
            # RFC 5545 wants UNTIL in UTC here; dateutil (vobject) and ical.js compare it
            # with the floating local DTSTART, so leave a day's slack. The next
            # occurrence would be a year away, so the set of onsets is unchanged.
            rrule.append(("UNTIL", period.last.at + timedelta(days=1)))
        rrule.append(("BYMONTH", first.local_onset.month))
        if kind == "nth":
            rrule.append(("BYDAY", f"{number}{_WEEKDAYS[weekday]}"))
        elif kind == "monthday":
            rrule.append(("BYMONTHDAY", number))
        else:
            rrule.append(("BYDAY", _WEEKDAYS[weekday]))
            rrule.append(("BYMONTHDAY", tuple(range(number, number + 7))))
    return _Observance(
        daylight=first.is_daylight,
        onset=first.local_onset,
        offset_from=first.offset_from,
        offset_to=first.offset_to,
        name=first.name,
        rrule=tuple(rrule),
    )


def _base_observance(zone_name: str, year: int) -> _Observance:
    """The offset in force before any transition we know of (or forever, for UTC)."""
    start = datetime(year, 1, 1, tzinfo=_UTC)
    offset, dst, name = _state(ZoneInfo(zone_name), int(start.timestamp()))
    return _Observance(
        daylight=dst > timedelta(0),
        onset=(start + offset).replace(tzinfo=None),
        offset_from=offset,
        offset_to=offset,
        name=name,
    )


@lru_cache(maxsize=512)
def _observances(zone_name: str, first_year: int, last_year: int) -> tuple[_Observance, ...]:
    """Observances that fix every offset from ``first_year`` to ``last_year``.

    Rule periods are traced back as far as the tz database keeps them the same (from
    1970), so the blocks look like the classic ones (e.g. Europe/Brussels DAYLIGHT
    from 1981, STANDARD from 1996). Periods superseded before the covered years are
    dropped; periods still running after them get an open-ended RRULE.
    """
    scan_from = min(_HISTORY_START_YEAR, first_year - 1)
    scan_to = min(last_year + 1, MAXYEAR - 1)
    transitions = [
        t for year in range(scan_from, scan_to + 1) for t in _transitions_in_year(zone_name, year)
    ]
    window_start = datetime(first_year, 1, 1, tzinfo=_UTC) - timedelta(days=1)
    before = [t for t in transitions if t.at < window_start]
    result: list[_Observance] = []
    if not before:
        result.append(_base_observance(zone_name, scan_from))
    floor = before[-1].at if before else window_start
    for period in _periods(transitions):
        if period.last.at < floor:
            continue
        open_ended = period.count > 1 and period.last.local_onset.year >= scan_to
        result.append(_observance(period, open_ended=open_ended))
    result.sort(key=lambda o: (o.onset, o.daylight))
    return tuple(result)


def _vtimezone(zone_name: str, first_year: int, last_year: int) -> Timezone:
    """Classic VTIMEZONE covering ``first_year``..``last_year`` for ``zone_name``."""
    vtz = Timezone()
    vtz.add("tzid", zone_name)
    for obs in _observances(zone_name, first_year, last_year):
        block = TimezoneDaylight() if obs.daylight else TimezoneStandard()
        block.add("dtstart", obs.onset)
        block.add("tzoffsetfrom", obs.offset_from)
        block.add("tzoffsetto", obs.offset_to)
        block.add("tzname", obs.name)
        if obs.rrule:
            block.add("rrule", vRecur({key: value for key, value in obs.rrule}))
        vtz.add_component(block)
    return vtz


@lru_cache(maxsize=512)
def _vtimezone_bytes(zone_name: str, first_year: int, last_year: int) -> bytes:
    """The serialised VTIMEZONE: every invite of a zone carries the same block, built once."""
    body: bytes = _vtimezone(zone_name, first_year, last_year).to_ical(sorted=False)
    return body


# ------------------------------------------------------------------ events


def _is_ambiguous(local: datetime) -> bool:
    """True for wall times that occur twice (autumn changeover): never emit those."""
    return local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()


def _event(
    entry: CalendarEntry, *, stamp: datetime, method: str | None, zone: ZoneInfo
) -> tuple[Event, bool]:
    """Build one VEVENT; the flag says whether it references its zone's VTIMEZONE."""
    event = Event()
    event.add("uid", entry.uid)
    event.add("sequence", entry.sequence)
    event.add("dtstamp", stamp)
    start = entry.starts_at.astimezone(zone)
    end = entry.ends_at.astimezone(zone)
    if _is_ambiguous(start) or _is_ambiguous(end):
        # A repeated wall time would be read differently by different clients; an
        # exact UTC instant is read the same by all of them.
        start, end = _utc(start), _utc(end)
    event.add("dtstart", start)
    event.add("dtend", end)
    # icalendar writes UTC-like zones (UTC, Etc/UTC, GMT) as "...Z" without a TZID.
    uses_zone = "TZID" in event["DTSTART"].params
    event.add("summary", entry.summary)
    if entry.description:
        event.add("description", entry.description)
    if entry.location:
        event.add("location", entry.location)
    if entry.url:
        event.add("url", vUri(_single_line(entry.url, "url")))
    if entry.categories:
        event.add("categories", list(entry.categories))
    status = "CANCELLED" if method == "CANCEL" else entry.status
    event.add("status", status)
    if entry.organizer_email:
        organizer = vCalAddress("mailto:" + _single_line(entry.organizer_email, "organizer"))
        if entry.organizer_name:
            organizer.params["CN"] = _display_name(entry.organizer_name)
        event.add("organizer", organizer)
    _add_attendees(event, entry.attendees)
    if entry.conference_url:
        event.add(
            "conference",
            vUri(_single_line(entry.conference_url, "conference_url")),
            parameters={"VALUE": "URI", "FEATURE": "VIDEO",
                        "LABEL": _single_line(entry.conference_label, "conference_label")},
        )
    if entry.created_at is not None:
        event.add("created", _utc(_require_aware(entry.created_at, "created_at")))
    if entry.last_modified_at is not None:
        event.add("last-modified", _utc(_require_aware(entry.last_modified_at, "last_modified_at")))
    return event, uses_zone


def _attendee_address(attendee: CalendarAttendee) -> vCalAddress:
    address = vCalAddress("mailto:" + _single_line(attendee.email, "attendee"))
    if attendee.name:
        address.params["CN"] = _display_name(attendee.name)
    address.params["ROLE"] = attendee.role
    address.params["PARTSTAT"] = "NEEDS-ACTION"
    address.params["RSVP"] = "FALSE"
    return address


def _add_attendees(event: Event, attendees: Sequence[CalendarAttendee]) -> None:
    for attendee in attendees:
        event.add("attendee", _attendee_address(attendee))


# --- serialised events, shared across recipients
#
# Every confirmation of a session carries the same VEVENT apart from its DTSTAMP and
# ATTENDEE lines, and icalendar's serialisation (its line folding above all) costs about a
# millisecond per event. So the lines common to every recipient are serialised once per
# (entry without attendees, method) and the recipient's own lines are serialised alone and
# put where `_event` adds them: the bytes are those `_event(...).to_ical()` gives.

# Where the per-recipient lines go: DTSTAMP after SEQUENCE, the ATTENDEEs after STATUS and
# ORGANIZER, before whatever `_event` adds after them (or END:VEVENT).
_AFTER_ATTENDEES = (b"CONFERENCE", b"CREATED", b"LAST-MODIFIED", b"END:VEVENT")
_PLACEHOLDER_STAMP = datetime(2000, 1, 1, tzinfo=_UTC)


@dataclass(frozen=True)
class _SharedEvent:
    """One VEVENT's serialised lines, split where the per-recipient lines go."""

    head: bytes  # BEGIN:VEVENT, UID, SEQUENCE
    middle: bytes  # DTSTART ... STATUS, ORGANIZER
    tail: bytes  # CONFERENCE, CREATED, LAST-MODIFIED, END:VEVENT
    uses_zone: bool


def _content_lines(body: bytes) -> list[bytes]:
    """A component's serialised content lines, each with its folded continuations (which
    begin with a space, RFC 5545 3.1) and its CRLF."""
    lines: list[bytes] = []
    for physical in body.split(b"\r\n")[:-1]:
        if physical.startswith(b" ") and lines:
            lines[-1] += physical + b"\r\n"
        else:
            lines.append(physical + b"\r\n")
    return lines


def _property_lines(event: Event) -> bytes:
    """The serialised property lines of `event`, without BEGIN/END:VEVENT."""
    body: bytes = event.to_ical(sorted=False)
    begin, end = b"BEGIN:VEVENT\r\n", b"END:VEVENT\r\n"
    assert body.startswith(begin) and body.endswith(end)
    return body[len(begin): -len(end)]


@lru_cache(maxsize=1024)
def _shared_event(entry: CalendarEntry, method: str | None) -> _SharedEvent:
    """`entry` (given without attendees) serialised once: see the section comment.

    The key compares instants, so equal entries written with other tzinfos share it: the
    output depends only on the instants and `entry.timezone`.
    """
    event, uses_zone = _event(entry, stamp=_PLACEHOLDER_STAMP, method=method,
                              zone=_zone(entry.timezone))
    lines = _content_lines(event.to_ical(sorted=False))
    stamp = next(i for i, line in enumerate(lines) if line.startswith(b"DTSTAMP"))
    split = next(i for i, line in enumerate(lines) if line.startswith(_AFTER_ATTENDEES))
    return _SharedEvent(head=b"".join(lines[:stamp]), middle=b"".join(lines[stamp + 1: split]),
                        tail=b"".join(lines[split:]), uses_zone=uses_zone)


@lru_cache(maxsize=64)
def _stamp_line(stamp: datetime) -> bytes:
    """The DTSTAMP line (all of one batch's invites share it)."""
    event = Event()
    event.add("dtstamp", stamp)
    return _property_lines(event)


def _attendee_lines(attendees: Sequence[CalendarAttendee]) -> bytes:
    """The ATTENDEE lines as `Component.to_ical` writes them (one content line each,
    folded), without building a component: a third of the time."""
    return b"".join(_attendee_line(attendee) for attendee in attendees)


@lru_cache(maxsize=256)
def _attendee_line(attendee: CalendarAttendee) -> bytes:
    """One attendee's line: the same in each of a registrant's invites (one per session)."""
    address = _attendee_address(attendee)
    line = Contentline.from_parts("ATTENDEE", address.params, address, sorted=False)
    return _folded(line) + b"\r\n"


# icalendar folds a content line before the octet that would make it 75 long, and keeps a
# backslash or caret (an escape's first character) with what follows it.
_FOLD_AT = 74
_ESCAPE_STARTS = "\\^"


def _folded(line: Contentline) -> bytes:
    """`line.to_ical()`, with ASCII lines (nearly all) folded here: icalendar's folding
    walks the line character by character, which cost as much as building it."""
    if not line.isascii():
        folded: bytes = cast(Any, line).to_ical()  # icalendar leaves it untyped
        return folded
    pieces: list[str] = []
    start = 0
    while len(line) - start > _FOLD_AT:
        end = start + _FOLD_AT
        if line[end - 1] in _ESCAPE_STARTS:
            end -= 1
        pieces.append(line[start:end])
        start = end
    pieces.append(line[start:])
    return "\r\n ".join(pieces).encode("ascii")


def clear_shared_lines() -> None:
    """Forget the lines shared across recipients (tests compare with a build from nothing)."""
    _shared_event.cache_clear()
    _stamp_line.cache_clear()
    _attendee_line.cache_clear()
    _invite_around_attendees.cache_clear()


def _event_bytes(entry: CalendarEntry, *, stamp: datetime, method: str | None) -> tuple[bytes, bool]:
    """The serialised VEVENT of `entry` (as `_event` builds it) and whether it references
    its zone's VTIMEZONE, from the lines shared by every recipient plus its own."""
    shared = _shared_event(replace(entry, attendees=()), method)
    return b"".join([shared.head, _stamp_line(stamp), shared.middle,
                     _attendee_lines(entry.attendees), shared.tail]), shared.uses_zone


@lru_cache(maxsize=64)
def _calendar_head(
    method: str | None, name: str | None, default_timezone: str | None,
    refresh_interval: timedelta | None, prodid: str,
) -> bytes:
    """The VCALENDAR's own lines (without END:VCALENDAR): the same for every invite."""
    cal = Calendar()
    cal.add("version", "2.0")
    cal.add("prodid", prodid)
    cal.add("calscale", "GREGORIAN")
    if method is not None:
        cal.add("method", method)
    if name:
        cal.add("name", name)
        cal.add("x-wr-calname", name)
    if default_timezone:
        cal.add("x-wr-timezone", _zone(default_timezone).key)
    if refresh_interval is not None:
        cal.add("refresh-interval", vDuration(refresh_interval), parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", vDuration(refresh_interval))
    head: bytes = cal.to_ical(sorted=False)
    end = b"END:VCALENDAR\r\n"
    assert head.endswith(end)
    return head[: -len(end)]


def build_calendar(
    entries: Sequence[CalendarEntry],
    *,
    now: datetime,
    name: str | None = None,
    method: str | None = None,
    refresh_interval: timedelta | None = None,
    default_timezone: str | None = None,
    prodid: str = "-//Procura Events//EN",
) -> bytes:
    """Serialise ``entries`` as one VCALENDAR (CRLF, folded at 75 octets, UTF-8).

    ``method`` is for email invites only ("REQUEST"/"CANCEL"); feeds must leave it None.
    Entries come out sorted by start then UID, so equal inputs give equal bytes apart
    from DTSTAMP (= ``now``).
    """
    stamp = _utc(_require_aware(now, "now"))
    if method is not None:
        method = method.upper()
        if method not in METHODS:
            raise ValueError(f"method must be one of {sorted(METHODS)}")
    ordered = sorted(entries, key=_sort_key)
    seen: set[str] = set()
    for entry in ordered:
        _validate(entry)
        if entry.uid in seen:
            raise ValueError(f"duplicate UID {entry.uid!r} in one calendar")
        seen.add(entry.uid)
        if method in {"REQUEST", "CANCEL"} and not entry.organizer_email:
            raise ValueError(f"{entry.uid}: an iTIP {method} needs an organizer_email")
        if method == "REQUEST" and entry.status == "CANCELLED":
            raise ValueError(f"{entry.uid}: a cancelled event cannot be in an iTIP REQUEST "
                             "(send a CANCEL for it)")
    if method in {"REQUEST", "CANCEL"} and len(ordered) != 1:
        raise ValueError(f"an iTIP {method} carries one event (one UID, RFC 5546), not "
                         f"{len(ordered)}: use build_invites for several")

    head = _calendar_head(method, name, default_timezone, refresh_interval, prodid)
    events: list[bytes] = []
    years: dict[str, tuple[int, int]] = {}
    for entry in ordered:
        zone = _zone(entry.timezone)
        event, uses_zone = _event_bytes(entry, stamp=stamp, method=method)
        events.append(event)
        if uses_zone:
            low = entry.starts_at.astimezone(zone).year
            high = entry.ends_at.astimezone(zone).year
            known_low, known_high = years.get(zone.key, (low, high))
            years[zone.key] = (min(known_low, low), max(known_high, high))
    # The same bytes icalendar writes for the whole tree (each component's lines in turn),
    # with the VTIMEZONEs serialised once per zone and years rather than once per calendar,
    # and each event's shared lines once per entry (`_event_bytes`).
    zones = [_vtimezone_bytes(zone_name, *years[zone_name]) for zone_name in sorted(years)]
    return b"".join([head, *zones, *events, b"END:VCALENDAR\r\n"])


def build_invites(
    entries: Sequence[CalendarEntry], *, now: datetime, method: str,
    attendees: Sequence[CalendarAttendee] | None = None,
) -> tuple[bytes, ...]:
    """One iTIP object per entry (each its own VCALENDAR with METHOD), earliest first.

    Several sessions in one email travel as several invites, so that every mail client
    adds each session as a meeting of its own and later updates and cancellations (one
    UID each) find it. `attendees`, when given, are every entry's ATTENDEEs instead of
    the entry's own: a batch's shared entries, sent to each person in turn.
    """
    stamp = _utc(_require_aware(now, "now"))
    invites = []
    for entry in sorted(entries, key=_sort_key):
        own = entry.attendees if attendees is None else tuple(attendees)
        for attendee in own:
            if attendee.role not in ROLES:
                raise ValueError(f"{entry.uid}: attendee role must be one of {sorted(ROLES)}")
        before, after = _invite_around_attendees(
            replace(entry, attendees=()) if entry.attendees else entry, method.upper(), stamp)
        invites.append(before + _attendee_lines(own) + after)
    return tuple(invites)


@lru_cache(maxsize=1024)
def _invite_around_attendees(entry: CalendarEntry, method: str, stamp: datetime
                             ) -> tuple[bytes, bytes]:
    """`build_calendar([entry], method=method, now=stamp)` of `entry` (given without
    attendees), split where its ATTENDEE lines go: the same for every recipient of a batch
    (one DTSTAMP), so each invite is these bytes around its recipient's own line."""
    whole = build_calendar([entry], now=stamp, method=method)
    after = _shared_event(entry, method).tail + b"END:VCALENDAR\r\n"
    assert whole.endswith(after)
    return whole[: -len(after)], after


def calendar_entry_digest(entries: Iterable[CalendarEntry]) -> str:
    """SHA-256 over the entries' content, order-independent: an ETag ingredient.

    Combine it with the calendar name/method/refresh settings the caller uses.
    """

    def _when(value: datetime | None) -> str | None:
        return None if value is None else _utc(_require_aware(value, "datetime")).isoformat()

    canonical = [
        {
            "uid": e.uid,
            "sequence": e.sequence,
            "summary": e.summary,
            "description": e.description,
            "starts_at": _when(e.starts_at),
            "ends_at": _when(e.ends_at),
            "timezone": e.timezone,
            "status": e.status,
            "location": e.location,
            "url": e.url,
            "categories": list(e.categories),
            "organizer_email": e.organizer_email,
            "organizer_name": e.organizer_name,
            "attendees": [[a.email, a.name, a.role] for a in e.attendees],
            "conference_url": e.conference_url,
            "conference_label": e.conference_label,
            "created_at": _when(e.created_at),
            "last_modified_at": _when(e.last_modified_at),
        }
        for e in sorted(entries, key=_sort_key)
    ]
    payload = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# -------------------------------------------------------- add-to-calendar links


def _link_details(entry: CalendarEntry) -> str:
    """Description plus the links a one-off event would otherwise lose."""
    parts = [entry.description.strip()] if entry.description.strip() else []
    if entry.url and entry.url not in entry.description:
        parts.append(entry.url)
    if entry.conference_url and entry.conference_url not in entry.description:
        parts.append(_("Join online: %(url)s") % {"url": entry.conference_url})
    return "\n\n".join(parts)


def _query(params: Sequence[tuple[str, str]]) -> str:
    return urlencode(list(params), quote_via=quote, safe="/:")


def google_calendar_link(entry: CalendarEntry) -> str:
    """Google Calendar "add event" template link, times in UTC plus the display zone."""
    fmt = "%Y%m%dT%H%M%SZ"
    start = _utc(_require_aware(entry.starts_at, "starts_at")).strftime(fmt)
    end = _utc(_require_aware(entry.ends_at, "ends_at")).strftime(fmt)
    params: list[tuple[str, str]] = [
        ("action", "TEMPLATE"),
        ("text", entry.summary),
        ("dates", f"{start}/{end}"),
        ("details", _link_details(entry)),
    ]
    if entry.location:
        params.append(("location", entry.location))
    params.append(("ctz", _zone(entry.timezone).key))
    return "https://calendar.google.com/calendar/render?" + _query(params)


def outlook_calendar_link(entry: CalendarEntry) -> str:
    """Outlook.com compose deeplink; Outlook wants ISO 8601 UTC instants."""

    def iso(value: datetime, what: str) -> str:
        return _utc(_require_aware(value, what)).strftime("%Y-%m-%dT%H:%M:%SZ")

    params: list[tuple[str, str]] = [
        ("subject", entry.summary),
        ("startdt", iso(entry.starts_at, "starts_at")),
        ("enddt", iso(entry.ends_at, "ends_at")),
        ("body", _link_details(entry)),
    ]
    if entry.location:
        params.append(("location", entry.location))
    params += [("path", "/calendar/action/compose"), ("rru", "addevent")]
    return "https://outlook.live.com/calendar/0/deeplink/compose?" + _query(params)

"""Interest Group meeting series as calendars read them: one VEVENT with RRULE per series.

A series is its master VEVENT (DTSTART with the group's TZID, RRULE, one EXDATE per
cancelled occurrence) plus one VEVENT with the same UID and a RECURRENCE-ID per occurrence
that differs (moved, its own agenda or join link), as Outlook, Google and Thunderbird
expect; the zone's VTIMEZONE is ical.py's classic one. Invites are iTIP objects of one UID:
the whole series (REQUEST, or CANCEL to take it back), or one occurrence (REQUEST or CANCEL
with its RECURRENCE-ID).

Built on ical.py's helpers (the VEVENT lines, escaping, the VTIMEZONE, the calendar head),
so UIDs, folding and zones are written the one way. Pure like ical.py: no database, no
clock; the caller decides what is private (join links only for members).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from icalendar import Event, vRecur

from service.domain.calendars.ical import (
    METHODS,
    CalendarEntry,
    _calendar_head,  # the calendar's own lines, shared with every other calendar
    _event,
    _validate,
    _vtimezone_bytes,
    _zone,
)

__all__ = [
    "OccurrenceOverride",
    "SeriesEntry",
    "build_occurrence_invite",
    "build_series_calendar",
    "build_series_invite",
    "series_uid",
]


def series_uid(series_id: int, domain: str) -> str:
    """UID of a meeting series: every occurrence and every update share it."""
    return f"group-meeting-{series_id}@{domain}"


@dataclass(frozen=True)
class OccurrenceOverride:
    """An occurrence that differs from its series: `entry` has the series' UID and its own
    times, text and SEQUENCE; `recurrence_id` is the start the series gives it."""

    recurrence_id: datetime
    entry: CalendarEntry


@dataclass(frozen=True)
class SeriesEntry:
    """One series, already decided by the caller.

    `master` holds the first start the rule gives (DTSTART), the series' text and SEQUENCE;
    `rrule` is None for a one-off meeting; `exdates` are the recurrence ids of cancelled
    occurrences; `last_start` (the last start the rule gives) bounds the VTIMEZONE's years.
    """

    master: CalendarEntry
    rrule: str | None
    exdates: tuple[datetime, ...] = ()
    overrides: tuple[OccurrenceOverride, ...] = ()
    last_start: datetime | None = None


def _local(entry: CalendarEntry, instant: datetime) -> datetime:
    return instant.astimezone(_zone(entry.timezone))


def _master_event(series: SeriesEntry, *, stamp: datetime, method: str | None,
                  with_exdates: bool = True) -> Event:
    event, _ = _event(series.master, stamp=stamp, method=method,
                      zone=_zone(series.master.timezone))
    if series.rrule is not None:
        event.add("rrule", vRecur.from_ical(series.rrule))
        if with_exdates:
            # One EXDATE line per date: every reader takes those (some misread lists).
            for exdate in sorted(series.exdates):
                event.add("exdate", _local(series.master, exdate))
    return event


def _override_event(series: SeriesEntry, override: OccurrenceOverride, *, stamp: datetime,
                    method: str | None) -> Event:
    entry = override.entry
    if entry.uid != series.master.uid:
        raise ValueError(f"{entry.uid}: an occurrence carries its series' UID")
    event, _ = _event(entry, stamp=stamp, method=method, zone=_zone(entry.timezone))
    event.add("recurrence-id", _local(series.master, override.recurrence_id))
    return event


def _years(series: SeriesEntry) -> tuple[int, int]:
    zone = _zone(series.master.timezone)
    instants = [series.master.starts_at, series.master.ends_at]
    if series.last_start is not None:
        instants.append(series.last_start + (series.master.ends_at - series.master.starts_at))
    instants += [o.entry.starts_at for o in series.overrides]
    instants += [o.entry.ends_at for o in series.overrides]
    years = [instant.astimezone(zone).year for instant in instants]
    return min(years), max(years)


@lru_cache(maxsize=2048)
def _feed_events(series: SeriesEntry, stamp: datetime) -> bytes:
    """One series' VEVENTs in a feed, serialised once per content and stamp: icalendar's
    serialisation (its folding above all) costs about a millisecond per VEVENT, and a feed's
    DTSTAMP is its Last-Modified, so polls of an unchanged feed reuse these bytes."""
    events = [_master_event(series, stamp=stamp, method=None)]
    events += [_override_event(series, o, stamp=stamp, method=None)
               for o in sorted(series.overrides, key=lambda o: o.recurrence_id)]
    return b"".join(event.to_ical(sorted=False) for event in events)


def _serialise(events: Sequence[Event], series: Sequence[SeriesEntry], *, method: str | None,
               name: str | None, refresh_interval: timedelta | None,
               default_timezone: str | None, extra: Sequence[bytes] = ()) -> bytes:
    head = _calendar_head(method, name, default_timezone, refresh_interval,
                          "-//Procura Events//EN")
    spans: dict[str, tuple[int, int]] = {}
    for item in series:
        key = _zone(item.master.timezone).key
        if key == "UTC":
            continue
        low, high = _years(item)
        known = spans.get(key, (low, high))
        spans[key] = (min(known[0], low), max(known[1], high))
    zones = [_vtimezone_bytes(zone, *spans[zone]) for zone in sorted(spans)]
    bodies = [event.to_ical(sorted=False) for event in events]
    return b"".join([head, *zones, *bodies, *extra, b"END:VCALENDAR\r\n"])


def _check(series: SeriesEntry) -> None:
    _validate(series.master)
    for override in series.overrides:
        _validate(override.entry)


def build_series_calendar(
    series: Sequence[SeriesEntry], *, now: datetime, name: str | None = None,
    refresh_interval: timedelta | None = None, default_timezone: str | None = None,
) -> bytes:
    """A feed (no METHOD): each series' master VEVENT with its EXDATEs, then its overrides."""
    stamp = now.astimezone(UTC)
    bodies: list[bytes] = []
    seen: set[str] = set()
    for item in sorted(series, key=lambda s: (s.master.starts_at, s.master.uid)):
        _check(item)
        if item.master.uid in seen:
            raise ValueError(f"duplicate UID {item.master.uid!r} in one calendar")
        seen.add(item.master.uid)
        bodies.append(_feed_events(item, stamp))
    return _serialise([], series, method=None, name=name, refresh_interval=refresh_interval,
                      default_timezone=default_timezone, extra=bodies)


def build_series_invite(series: SeriesEntry, *, now: datetime, method: str) -> bytes:
    """The iTIP object for a whole series: REQUEST (master, EXDATEs, overrides) or CANCEL
    (the master alone: every occurrence goes)."""
    if method not in METHODS - {"PUBLISH"}:
        raise ValueError("a series invite is a REQUEST or a CANCEL")
    _check(series)
    if not series.master.organizer_email:
        raise ValueError(f"{series.master.uid}: an iTIP {method} needs an organizer_email")
    stamp = now.astimezone(UTC)
    if method == "CANCEL":
        events = [_master_event(series, stamp=stamp, method=method, with_exdates=False)]
    else:
        if series.master.status == "CANCELLED":
            raise ValueError(f"{series.master.uid}: a cancelled series goes in a CANCEL")
        events = [_master_event(series, stamp=stamp, method=method)]
        events += [_override_event(series, o, stamp=stamp, method=method)
                   for o in sorted(series.overrides, key=lambda o: o.recurrence_id)]
    return _serialise(events, [series], method=method, name=None, refresh_interval=None,
                      default_timezone=None)


def build_occurrence_invite(series: SeriesEntry, override: OccurrenceOverride, *,
                            now: datetime, method: str) -> bytes:
    """The iTIP object for one occurrence: a REQUEST with its RECURRENCE-ID (moved, new
    agenda or join link) or a CANCEL with it (that occurrence only)."""
    if method not in METHODS - {"PUBLISH"}:
        raise ValueError("an occurrence invite is a REQUEST or a CANCEL")
    _check(series)
    if not override.entry.organizer_email:
        raise ValueError(f"{override.entry.uid}: an iTIP {method} needs an organizer_email")
    if method == "REQUEST" and override.entry.status == "CANCELLED":
        raise ValueError(f"{override.entry.uid}: a cancelled occurrence goes in a CANCEL")
    event = _override_event(series, override, stamp=now.astimezone(UTC), method=method)
    only = SeriesEntry(master=series.master, rrule=None, last_start=series.last_start,
                       overrides=(override,))
    return _serialise([event], [only], method=method, name=None, refresh_interval=None,
                      default_timezone=None)

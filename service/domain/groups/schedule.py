"""The service's own list of a series' occurrences: the rule expanded, then what differs.

`occurrences` is what pages, reminders and the tests compare calendars against: every start
the rule gives (UTC, the wall time kept in the series' zone across changes of the clocks),
each replaced by its MeetingOccurrence row where one exists (moved, cancelled, its own
agenda or join link). Pure: it reads only the rows it is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from service.db.models import MeetingOccurrence, MeetingSeries, MeetingStatus
from service.domain.groups.recurrence import recurrence_starts

# How far past `end` the rule is expanded, so an occurrence moved back into the window is seen.
_MOVE_MARGIN = timedelta(days=400)


@dataclass(frozen=True)
class Occurrence:
    """One occurrence as people see it. `recurrence_id` is the start the series gives it
    (its identity in calendars); `starts_at` where it really is. Cancelled ones are listed
    too (status CANCELLED) so pages can say so; calendars leave them out."""

    series_id: int
    recurrence_id: datetime
    starts_at: datetime
    ends_at: datetime
    status: MeetingStatus
    join_url: str | None
    agenda: str
    is_moved: bool
    # Whether calendars need a VEVENT of its own (moved, its own agenda or join link).
    is_changed: bool = False
    sequence: int = 0
    has_minutes: bool = False
    # Its agenda is its own (written for this meeting), not the series'.
    has_own_agenda: bool = False
    # Its own agenda in other languages ({"de": {"agenda": ...}}), as its row keeps them.
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict, hash=False)

    @property
    def is_cancelled(self) -> bool:
        return self.status == MeetingStatus.CANCELLED


def utc(value: datetime) -> datetime:
    """`value` as an aware UTC instant (SQLite gives back what was stored, aware)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def series_starts(series: MeetingSeries, *, until: datetime | None = None) -> list[datetime]:
    """Every recurrence id of the series (UTC), up to `until` for an open-ended rule."""
    return recurrence_starts(series.recurrence, utc(series.starts_at), series.timezone,
                             until=until)


def apply_override(series: MeetingSeries, recurrence_id: datetime,
                   override: MeetingOccurrence | None) -> Occurrence:
    """One occurrence: the series' start and details, unless its row says otherwise."""
    duration = timedelta(minutes=series.duration_minutes)
    series_cancelled = series.status == MeetingStatus.CANCELLED
    if override is None:
        return Occurrence(
            series_id=series.id, recurrence_id=recurrence_id, starts_at=recurrence_id,
            ends_at=recurrence_id + duration,
            status=MeetingStatus.CANCELLED if series_cancelled else MeetingStatus.SCHEDULED,
            join_url=series.join_url, agenda=series.agenda or "", is_moved=False,
            sequence=series.sequence,
        )
    starts_at = utc(override.starts_at)
    if override.duration_minutes is not None:
        duration = timedelta(minutes=override.duration_minutes)
    is_moved = starts_at != recurrence_id or duration != timedelta(minutes=series.duration_minutes)
    cancelled = series_cancelled or override.status == MeetingStatus.CANCELLED
    return Occurrence(
        series_id=series.id, recurrence_id=recurrence_id, starts_at=starts_at,
        ends_at=starts_at + duration,
        status=MeetingStatus.CANCELLED if cancelled else MeetingStatus.SCHEDULED,
        join_url=override.join_url if override.join_url is not None else series.join_url,
        agenda=override.agenda if override.agenda is not None else series.agenda or "",
        is_moved=is_moved,
        is_changed=is_moved or override.join_url is not None or override.agenda is not None,
        sequence=max(series.sequence, override.sequence),
        has_minutes=override.minutes_published_at is not None,
        has_own_agenda=override.agenda is not None,
        translations=override.translations or {},
    )


def occurrences(
    series: MeetingSeries, overrides: Iterable[MeetingOccurrence], *,
    start: datetime | None = None, end: datetime | None = None,
) -> list[Occurrence]:
    """The series' occurrences overlapping [start, end) by their real times, earliest first,
    moves and cancellations applied (cancelled ones included, marked)."""
    by_id = {utc(o.recurrence_id): o for o in overrides if o.series_id == series.id}
    until = None if end is None else utc(end) + _MOVE_MARGIN
    found = [apply_override(series, rid, by_id.get(rid)) for rid in series_starts(series,
                                                                                  until=until)]
    if start is not None:
        found = [o for o in found if o.ends_at > utc(start)]
    if end is not None:
        found = [o for o in found if o.starts_at < utc(end)]
    return sorted(found, key=lambda o: (o.starts_at, o.recurrence_id))


def scheduled(found: Sequence[Occurrence]) -> list[Occurrence]:
    """Those still taking place (what calendars show)."""
    return [o for o in found if not o.is_cancelled]

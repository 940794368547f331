"""Agenda times: wall-clock input in an event's zone becomes an exact UTC instant, and back.

Organisers write "2020-11-09T10:10" meaning that time in the event's zone (Brussels time for
an event in Europe/Brussels). Times that do not exist (the
spring-forward gap) or exist twice (the autumn fold) are refused rather than guessed,
because different calendar apps would each guess differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from service.domain.errors import InvalidInputError
from service.i18n import gettext as _

_HH_MM = re.compile(r"^\d{1,2}:\d{2}$")
_KNOWN_ZONES: frozenset[str] | None = None

# The days the programme can hold, for times given and days asked for alike: any real agenda
# or archive fits, and no move across zones, day boundaries or reminder offsets can leave the
# years 1 to 9999 that dates and both databases are limited to.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)


def check_day(day: date, field: str) -> date:
    """`day` itself, or a 422 naming `field` when it lies outside the programme's span."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise InvalidInputError(
            _("%(day)s is out of range: give a day from %(earliest)s to %(latest)s.")
                % {"day": day.isoformat(), "earliest": EARLIEST_DAY.isoformat(),
                   "latest": LATEST_DAY.isoformat()},
            field,
        )
    return day


def zone_for(name: str, field: str = "timezone") -> ZoneInfo:
    """The IANA zone called `name`, or a 422 naming `field`."""
    global _KNOWN_ZONES
    if _KNOWN_ZONES is None:
        _KNOWN_ZONES = frozenset(available_timezones())
    if name not in _KNOWN_ZONES:
        raise InvalidInputError(_("Unknown time zone %(name)r: use an IANA name such as "
                                      "'Europe/Brussels'.")
                                    % {"name": name}, field)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:  # pragma: no cover - defensive
        raise InvalidInputError(_("Unknown time zone %(name)r.") % {"name": name}, field) from error


def check_wall_time(local: datetime, field: str) -> datetime:
    """Refuse a naive wall time in a DST gap or fold; return it as an aware UTC instant."""
    assert local.tzinfo is not None
    earlier = local.replace(fold=0)
    later = local.replace(fold=1)
    if earlier.utcoffset() != later.utcoffset():
        # Either the hour is repeated (fold) or skipped (gap): tell which.
        round_trip = earlier.astimezone(UTC).astimezone(local.tzinfo)
        if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
            raise InvalidInputError(
                _("%(time)s does not exist in %(zone)s (clocks go forward then); choose "
                      "another time.")
                    % {"time": local.replace(tzinfo=None).isoformat(timespec='minutes'),
                       "zone": local.tzinfo},
                field,
            )
        raise InvalidInputError(
            _("%(time)s happens twice in %(zone)s (clocks go back then); give the time with "
                  "its UTC offset.")
                % {"time": local.replace(tzinfo=None).isoformat(timespec='minutes'),
                   "zone": local.tzinfo},
            field,
        )
    return earlier.astimezone(UTC)


def parse_instant(value: str, zone_name: str, field: str, *, on_date: date | None = None) -> datetime:
    """Parse ISO 8601 with an offset, a wall time in `zone_name`, or "HH:MM" on `on_date`."""
    text = value.strip()
    zone = zone_for(zone_name)
    if _HH_MM.match(text) and on_date is not None:
        try:
            clock = time.fromisoformat(text.zfill(5))
        except ValueError as error:
            raise InvalidInputError(_("%(value)r is not a time of day.") % {"value": value}, field) from error
        return check_wall_time(datetime.combine(on_date, clock, tzinfo=zone), field)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise InvalidInputError(
            _("%(value)r is not a date and time: write e.g. 2020-11-09T10:10 (in %(zone_name)s) or "
                  "2020-11-09T10:10+01:00.")
                % {"value": value, "zone_name": zone_name},
            field,
        ) from error
    check_day(parsed.date(), field)  # before any conversion, which could overflow
    if parsed.tzinfo is None:
        return check_wall_time(parsed.replace(tzinfo=zone), field)
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class LocalTime:
    """An instant as shown to people: UTC, and the wall time in the event's zone."""

    utc: datetime
    local: datetime
    zone: str

    @property
    def abbreviation(self) -> str:
        return self.local.tzname() or ""

    @property
    def utc_offset(self) -> str:
        offset = self.local.utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def in_zone(instant: datetime, zone_name: str) -> LocalTime:
    utc = instant.astimezone(UTC)
    return LocalTime(utc=utc, local=utc.astimezone(ZoneInfo(zone_name)), zone=zone_name)


def local_date(instant: datetime, zone_name: str) -> date:
    return instant.astimezone(ZoneInfo(zone_name)).date()


def iso_utc(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")

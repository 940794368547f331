"""How a meeting series repeats: what the organiser chose, as an RFC 5545 RRULE, and back.

`RecurrenceRule` is plain data (weekly, monthly or yearly; an interval; "the second
Tuesday"; until a local date or a count); `to_rrule` writes the value stored on
`MeetingSeries.recurrence` and sent to calendars, `from_rrule` reads it back, `describe`
says it as people do. `recurrence_starts` expands a rule from its first start in the
series' zone, keeping the wall time across changes of the clocks (10:00 Brussels time is
09:00 UTC in winter and 08:00 UTC in summer), as calendar apps do with a DTSTART that
carries a TZID.

Only rules every calendar app reads alike are offered: one occurrence a day at most, one
weekday (with its ordinal for monthly and yearly rules) or the start's own day. No
database, no clock.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from dateutil import rrule as _rrule  # type: ignore[import-untyped]

from service.domain import wording
from service.domain.errors import InvalidInputError
from service.i18n import N_, ngettext
from service.i18n import gettext as _

Frequency = Literal["weekly", "monthly", "yearly"]
FREQUENCIES: tuple[Frequency, ...] = ("weekly", "monthly", "yearly")
_RRULE_FREQ: dict[Frequency, str] = {"weekly": "WEEKLY", "monthly": "MONTHLY", "yearly": "YEARLY"}
_FREQ_OF = {value: key for key, value in _RRULE_FREQ.items()}
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Whole phrases, marked here and translated where a rule is described (`describe`).
_ORDINAL_PATTERNS = {1: N_("Every first %(weekday)s"), 2: N_("Every second %(weekday)s"),
                     3: N_("Every third %(weekday)s"), 4: N_("Every fourth %(weekday)s"),
                     -1: N_("Every last %(weekday)s")}
_EVERY_PHRASES: dict[str, dict[int, str]] = {
    "weekly": {1: N_("every week"), 2: N_("every other week"), 3: N_("every third week"),
               4: N_("every fourth week"), 6: N_("every sixth week")},
    "monthly": {1: N_("every month"), 2: N_("every other month"), 3: N_("every third month"),
                4: N_("every fourth month"), 6: N_("every sixth month")},
    "yearly": {1: N_("every year"), 2: N_("every other year"), 3: N_("every third year"),
               4: N_("every fourth year"), 6: N_("every sixth year")},
}

# An open-ended series (neither until nor count) is expanded this far at most.
OPEN_ENDED_YEARS = 10
MAX_COUNT = 500


@dataclass(frozen=True)
class RecurrenceRule:
    """What the organiser chose. "Quarterly" is monthly with interval 3.

    `weekday` is 0 (Monday) to 6; `ordinal` (1-4, or -1 for the last) makes it "the second
    Tuesday of the month" (monthly, yearly); without a weekday a monthly or yearly meeting
    falls on its first start's day of the month. `month` is for yearly rules with an ordinal.
    `until` is a date in the series' zone (the last day a meeting may fall on).
    """

    frequency: Frequency
    interval: int = 1
    weekday: int | None = None
    ordinal: int | None = None
    month: int | None = None
    until: date | None = None
    count: int | None = None

    @classmethod
    def quarterly(cls, *, weekday: int | None = None, ordinal: int | None = None,
                  until: date | None = None, count: int | None = None) -> RecurrenceRule:
        return cls("monthly", 3, weekday, ordinal, None, until, count)

    def check(self, field: str = "rule") -> RecurrenceRule:
        """Itself, or a 422 naming the part at fault (`rule.interval`, ...)."""
        if self.frequency not in FREQUENCIES:
            raise InvalidInputError(_("Choose weekly, monthly or yearly."), f"{field}.frequency")
        if not 1 <= self.interval <= 12:
            raise InvalidInputError(_("Give an interval from 1 to 12."), f"{field}.interval")
        if self.weekday is not None and not 0 <= self.weekday <= 6:
            raise InvalidInputError(_("Give a weekday from 0 (Monday) to 6 (Sunday)."),
                                    f"{field}.weekday")
        if self.ordinal is not None:
            if self.ordinal not in _ORDINAL_PATTERNS:
                raise InvalidInputError(_("Give 1, 2, 3, 4 or -1 (the last)."), f"{field}.ordinal")
            if self.weekday is None or self.frequency == "weekly":
                raise InvalidInputError(_("An ordinal goes with a weekday in a monthly or yearly "
                                        "rule."), f"{field}.ordinal")
        if self.month is not None and (self.frequency != "yearly" or not 1 <= self.month <= 12):
            raise InvalidInputError(_("A month (1-12) is only for yearly rules."), f"{field}.month")
        if self.frequency == "yearly" and self.ordinal is not None and self.month is None:
            raise InvalidInputError(_("Say which month."), f"{field}.month")
        if self.until is not None and self.count is not None:
            raise InvalidInputError(_("Give an end date or a number of meetings, not both."),
                                    f"{field}.count")
        if self.count is not None and not 1 <= self.count <= MAX_COUNT:
            raise InvalidInputError(_("Give from 1 to %(max_count)s meetings.")
                                        % {"max_count": MAX_COUNT}, f"{field}.count")
        return self

    # --- RRULE ------------------------------------------------------------------------------

    def to_rrule(self, timezone: str = "UTC") -> str:
        """The RRULE value; UNTIL is the end of the `until` day in `timezone`, in UTC (RFC
        5545 wants UTC with a zoned DTSTART)."""
        parts = [f"FREQ={_RRULE_FREQ[self.frequency]}"]
        if self.until is not None:
            parts.append(f"UNTIL={until_instant(self.until, timezone):%Y%m%dT%H%M%SZ}")
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.month is not None:
            parts.append(f"BYMONTH={self.month}")
        if self.weekday is not None:
            ordinal = "" if self.ordinal is None else str(self.ordinal)
            parts.append(f"BYDAY={ordinal}{_DAYS[self.weekday]}")
        return ";".join(parts)

    @classmethod
    def from_rrule(cls, value: str, timezone: str = "UTC") -> RecurrenceRule:
        """Read back what `to_rrule` wrote (a 422 naming `recurrence` for anything else)."""
        fields: dict[str, str] = {}
        for part in value.strip().removeprefix("RRULE:").split(";"):
            key, sep, item = part.partition("=")
            if not sep or key.upper() in fields:
                raise InvalidInputError(_("Cannot read the rule %(value)r.") % {"value": value}, "recurrence")
            fields[key.upper()] = item.upper()
        try:
            frequency = _FREQ_OF[fields.pop("FREQ", "")]
            interval = int(fields.pop("INTERVAL", "1"))
            count = int(fields["COUNT"]) if "COUNT" in fields else None
            fields.pop("COUNT", None)
            month = int(fields.pop("BYMONTH")) if "BYMONTH" in fields else None
            until: date | None = None
            if "UNTIL" in fields:
                raw = fields.pop("UNTIL")
                if raw.endswith("Z"):
                    instant = datetime.strptime(raw, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
                    until = instant.astimezone(ZoneInfo(timezone)).date()
                else:
                    until = date(int(raw[:4]), int(raw[4:6]), int(raw[6:8]))
            weekday = ordinal = None
            if "BYDAY" in fields:
                byday = fields.pop("BYDAY")
                weekday = _DAYS.index(byday[-2:])
                ordinal = int(byday[:-2]) if byday[:-2] else None
        except (KeyError, ValueError) as error:
            raise InvalidInputError(_("Cannot read the rule %(value)r.")
                                        % {"value": value}, "recurrence") from error
        if fields:
            raise InvalidInputError(_("Unsupported parts in the rule %(value)r: %(parts)s.")
                                        % {"value": value, "parts": ", ".join(sorted(fields))}, "recurrence")
        return cls(frequency, interval, weekday, ordinal, month, until, count).check("recurrence")

    # --- words ------------------------------------------------------------------------------

    def describe(self, *, at: time | None = None, timezone: str | None = None) -> str:
        """"Every second Tuesday of every other month, 10:00 Brussels time, until 30 June 2027",
        in the language in force: each part is one whole message."""
        every = _every(self.frequency, self.interval)
        quarterly = self.frequency == "monthly" and self.interval == 3
        if self.weekday is None:
            words = _("Quarterly") if quarterly else _capitalised(every)
        elif self.ordinal is None:
            day = wording.weekday_name(self.weekday)
            words = (_("Every %(weekday)s") % {"weekday": day} if self.interval == 1
                     else _("%(every)s on %(weekday)s") % {"every": _capitalised(every),
                                                           "weekday": day})
        else:
            words = _(_ORDINAL_PATTERNS[self.ordinal]) % {
                "weekday": wording.weekday_name(self.weekday)}
            if self.month is not None:
                words = _("%(pattern)s of %(month)s") % {
                    "pattern": words, "month": wording.month_name(self.month)}
                if self.interval != 1:
                    words = _("%(pattern)s, %(every)s") % {"pattern": words, "every": every}
            elif quarterly:
                words = _("%(pattern)s of %(every)s (quarterly)") % {"pattern": words,
                                                                     "every": every}
            else:
                words = _("%(pattern)s of %(every)s") % {"pattern": words, "every": every}
        if at is not None:
            words += f", {at:%H:%M}"
            if timezone:
                words += " " + wording.zone_label(timezone)
        if self.until is not None:
            words = _("%(rule)s, until %(date)s") % {
                "rule": words, "date": wording.long_date_text(self.until)}
        elif self.count is not None:
            words = ngettext("%(rule)s, %(count)s time", "%(rule)s, %(count)s times",
                             self.count) % {"rule": words, "count": self.count}
        return words


def _every(frequency: Frequency, interval: int) -> str:
    """"every other month", "every 5 weeks": how often, as one phrase."""
    phrases = _EVERY_PHRASES[frequency]
    if interval in phrases:
        return _(phrases[interval])
    if frequency == "weekly":
        phrase = ngettext("every %(count)s week", "every %(count)s weeks", interval)
    elif frequency == "monthly":
        phrase = ngettext("every %(count)s month", "every %(count)s months", interval)
    else:
        phrase = ngettext("every %(count)s year", "every %(count)s years", interval)
    return phrase % {"count": interval}


def _capitalised(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:]


def until_instant(day: date, timezone: str) -> datetime:
    """The last second of `day` in `timezone`, in UTC: the UNTIL of a rule ending that day."""
    local = datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


def _until_of(value: str) -> datetime | None:
    for part in value.split(";"):
        key, _, item = part.partition("=")
        if key.upper() == "UNTIL" and item.upper().endswith("Z"):
            return datetime.strptime(item.upper(), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return None


def recurrence_starts(
    recurrence: str | None, first_start: datetime, timezone: str, *,
    until: datetime | None = None,
) -> list[datetime]:
    """Every start (UTC) the rule gives from `first_start`, the wall time kept in `timezone`.

    `first_start` is always the first (the product only stores starts that match the rule).
    `until` bounds an open-ended rule (default: OPEN_ENDED_YEARS after the first start).
    Expanded once per rule, start and bound (feeds and pages ask again and again).
    """
    return list(_starts(recurrence, first_start.astimezone(UTC), timezone, until))


@lru_cache(maxsize=4096)
def _starts(recurrence: str | None, first: datetime, timezone: str, until: datetime | None
            ) -> tuple[datetime, ...]:
    if recurrence is None:
        return (first,)
    zone = ZoneInfo(timezone)
    local_first = first.astimezone(zone)
    rule = RecurrenceRule.from_rrule(recurrence, timezone)
    bound = until or first + timedelta(days=366 * OPEN_ENDED_YEARS)
    rule_until = _until_of(recurrence)
    # dateutil steps in naive wall time: the zone is applied to each start afterwards, so
    # an occurrence keeps 10:00 local whichever side of a change of the clocks it is on.
    naive = _rrule.rrule(
        _rrule.FREQNAMES.index(_RRULE_FREQ[rule.frequency]),
        dtstart=local_first.replace(tzinfo=None),
        interval=rule.interval,
        count=rule.count,
        bymonth=rule.month,
        byweekday=_byweekday(rule),
        cache=False,
    )
    starts: list[datetime] = []
    for wall in naive:
        instant = wall.replace(tzinfo=zone).astimezone(UTC)
        if rule_until is not None and instant > rule_until:
            break
        if instant > bound:
            break
        starts.append(instant)
    return tuple(starts)


def _byweekday(rule: RecurrenceRule) -> object:
    if rule.weekday is None:
        return None
    day = _rrule.weekdays[rule.weekday]
    return day if rule.ordinal is None else day(rule.ordinal)


def matches_rule(recurrence: str, first_start: datetime, timezone: str) -> bool:
    """Whether `first_start` is itself an occurrence of the rule (calendar apps disagree on
    a DTSTART that is not: RFC 5545 counts it, dateutil and others do not)."""
    zone = ZoneInfo(timezone)
    local = first_start.astimezone(zone)
    rule = RecurrenceRule.from_rrule(recurrence, timezone)
    if rule.month is not None and local.month != rule.month:
        return False
    if rule.weekday is None:
        return True
    if local.weekday() != rule.weekday:
        return False
    if rule.ordinal is None:
        return True
    if rule.ordinal == -1:
        return local.day + 7 > _calendar.monthrange(local.year, local.month)[1]
    return (local.day - 1) // 7 + 1 == rule.ordinal

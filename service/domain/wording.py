"""Every label, date, time and place phrase that people read, written once.

Pages, emails, invites and feeds all take their wording from here, so the same fact never
reads two ways. Everything is written in the language in force (`service.i18n`): labels are
marked with `N_` and translated when read, dates and times come from Babel's data for that
language. Formatting never depends on the machine's locale (no `%A`/`%B`, no
`locale.setlocale`): English keeps its own explicit spelling ("Monday 9 November 2020").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from babel.dates import (
    format_date,
    format_datetime,
    format_interval,
    format_skeleton,
    get_day_names,
    get_month_names,
    get_timezone,
    get_timezone_location,
)

from service.db.models import (
    AgendaItemKind,
    Attendance,
    EnrolmentStatus,
    EventKind,
    GroupMemberStatus,
    GroupVisibility,
    NetworkStanding,
    OrganisationKind,
    RegistrationStatus,
    SessionMode,
    SessionStatus,
)
from service.i18n import DEFAULT_LANGUAGE, N_, babel_locale, current_language, ngettext, pgettext
from service.i18n import gettext as _

K = TypeVar("K")


class Labels(Mapping[K, str]):
    """A label table written once in English (each value marked with `N_`) and read in the
    language in force: `LABELS[key]`, `.get()` and `.items()` all give translated text, so
    pages and emails that index the table need no change of their own."""

    def __init__(self, source: dict[K, str]) -> None:
        self._source = source

    def __getitem__(self, key: K) -> str:
        text = self._source[key]
        return _(text) if text else text  # gettext("") would be the catalogue's header

    def __iter__(self) -> Iterator[K]:
        return iter(self._source)

    def __len__(self) -> int:
        return len(self._source)

    def english(self, key: K) -> str:
        """The label as written, for records that are not read in a language (logs, notes)."""
        return self._source[key]


KIND_LABELS: Labels[EventKind] = Labels({
    EventKind.SEMINAR: N_("Seminar"),
    EventKind.WEBINAR_SERIES: N_("Webinar series"),
    EventKind.CITYMATCH: N_("CityMatch study visit"),
    EventKind.MEET_YOUR_BUYER: N_("Meet-your-Buyer dialogue"),
})
KIND_PLURALS: Labels[EventKind] = Labels({
    EventKind.SEMINAR: N_("Seminars"),
    EventKind.WEBINAR_SERIES: N_("Webinar series"),
    EventKind.CITYMATCH: N_("CityMatch study visits"),
    EventKind.MEET_YOUR_BUYER: N_("Meet-your-Buyer dialogues"),
})
# The name of a calendar feed of one kind of event.
KIND_FEED_NAMES: Labels[EventKind] = Labels({
    EventKind.SEMINAR: N_("seminars"),
    EventKind.WEBINAR_SERIES: N_("webinars"),
    EventKind.CITYMATCH: N_("CityMatch study visits"),
    EventKind.MEET_YOUR_BUYER: N_("Meet-your-Buyer dialogues"),
})
ORGANISATION_KIND_LABELS: Labels[OrganisationKind] = Labels({
    OrganisationKind.PUBLIC_AUTHORITY: N_("Public authority"),
    OrganisationKind.SUPPLIER: N_("Supplier or company"),
    OrganisationKind.EXPERT_ORGANISATION: N_("Expert organisation or research"),
    OrganisationKind.NETWORK: N_("Network or association"),
    OrganisationKind.OTHER: N_("Other"),
})
AGENDA_KIND_LABELS: Labels[AgendaItemKind] = Labels({
    AgendaItemKind.WELCOME: N_("Welcome"),
    AgendaItemKind.TALK: N_("Talk"),
    AgendaItemKind.PANEL: N_("Panel"),
    AgendaItemKind.BREAK: N_("Break"),
    AgendaItemKind.QA: N_("Q&A"),
    AgendaItemKind.DISCUSSION: N_("Discussion"),
    AgendaItemKind.SITE_VISIT: N_("Site visit"),
    AgendaItemKind.NETWORKING: N_("Networking"),
    AgendaItemKind.CLOSING: N_("Closing"),
    AgendaItemKind.OTHER: "",
})
MODE_LABELS: Labels[SessionMode] = Labels({
    SessionMode.ONLINE: N_("Online"),
    SessionMode.IN_PERSON: N_("In person"),
    SessionMode.HYBRID: N_("In person and online"),
})
STATUS_LABELS: Labels[RegistrationStatus] = Labels({
    RegistrationStatus.PENDING: N_("Awaiting the organisers' approval"),
    RegistrationStatus.CONFIRMED: N_("Confirmed"),
    RegistrationStatus.WAITING: N_("On the waiting list"),
    RegistrationStatus.DECLINED: N_("Not accepted"),
    RegistrationStatus.CANCELLED: N_("Cancelled"),
    RegistrationStatus.UNCONFIRMED: N_("Address not confirmed yet"),
})
ENROLMENT_LABELS: Labels[EnrolmentStatus] = Labels({
    EnrolmentStatus.CONFIRMED: N_("Confirmed"),
    EnrolmentStatus.WAITING: N_("Waiting list"),
    EnrolmentStatus.CANCELLED: N_("Cancelled"),
})
ATTENDANCE_LABELS: Labels[Attendance] = Labels({
    Attendance.IN_PERSON: N_("In person"),
    Attendance.ONLINE: N_("Online"),
})
# How a person takes part in a Meet-your-Buyer dialogue (stored as their organisation's kind).
DIALOGUE_ROLE_LABELS: Labels[OrganisationKind] = Labels({
    OrganisationKind.SUPPLIER: N_("I am a supplier"),
    OrganisationKind.PUBLIC_AUTHORITY: N_("I am a public buyer"),
})
# A session's status, as a change notice names it.
SESSION_STATUS_LABELS: Labels[SessionStatus] = Labels({
    SessionStatus.SCHEDULED: N_("Scheduled"),
    SessionStatus.CANCELLED: N_("Cancelled"),
})
VENUE_TO_BE_CONFIRMED = N_("In person (the organisers will confirm the venue)")

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DAY_MINUTES = 24 * 60
_ABBREVIATION = re.compile(r"^[A-Z]{2,6}$")


def kind_label(kind: EventKind | str) -> str:
    return KIND_LABELS.get(EventKind(kind), str(kind))


def kind_plural(kind: EventKind | str) -> str:
    return KIND_PLURALS.get(EventKind(kind), str(kind))


def kind_feed_name(kind: EventKind | str) -> str:
    """"webinars", "CityMatch study visits": what a feed of one kind of event holds."""
    return KIND_FEED_NAMES.get(EventKind(kind), str(kind))


def mode_label(mode: SessionMode | str) -> str:
    return MODE_LABELS.get(SessionMode(mode), str(mode))


def status_label(status: RegistrationStatus | str) -> str:
    return STATUS_LABELS.get(RegistrationStatus(status), str(status))


def enrolment_label(status: EnrolmentStatus | str) -> str:
    return ENROLMENT_LABELS.get(EnrolmentStatus(status), str(status))


def attendance_label(attendance: Attendance | str) -> str:
    return ATTENDANCE_LABELS.get(Attendance(attendance), str(attendance))


def organisation_kind_label(kind: OrganisationKind | str) -> str:
    return ORGANISATION_KIND_LABELS.get(OrganisationKind(kind), str(kind))


def agenda_kind_label(kind: AgendaItemKind | str) -> str:
    return AGENDA_KIND_LABELS.get(AgendaItemKind(kind), "")


def session_status_label(status: SessionStatus | str) -> str:
    return SESSION_STATUS_LABELS.get(SessionStatus(status), str(status))


def none_text() -> str:
    """What a change notice shows for a value that was not given ("none")."""
    return pgettext("no value", "none")


# --- dates and times ------------------------------------------------------------------------
#
# English is spelled out here, as the programme has always written it; every other language
# takes Babel's data for the language in force. The clock is always 24-hour "10:00".


def _language() -> str:
    return current_language()


def month_name(month: int) -> str:
    language = _language()
    if language == DEFAULT_LANGUAGE:
        return _MONTHS[month - 1]
    return str(get_month_names("wide", "format", locale=babel_locale(language))[month])


def weekday_name(weekday: int) -> str:
    """"Tuesday" ("Dienstag") for 1: Monday is 0, as in `date.weekday()`."""
    language = _language()
    if language == DEFAULT_LANGUAGE:
        return _WEEKDAYS[weekday]
    return str(get_day_names("wide", "format", locale=babel_locale(language))[weekday])


def long_date_text(day: date) -> str:
    """"30 June 2027" ("30. Juni 2027"), without the weekday."""
    language = _language()
    if language == DEFAULT_LANGUAGE:
        return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
    return str(format_date(day, "long", locale=babel_locale(language)))


def date_text(day: date) -> str:
    """"Monday 9 November 2020" ("Montag, 9. November 2020"): unambiguous everywhere."""
    language = _language()
    if language == DEFAULT_LANGUAGE:
        return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"
    return format_date(day, "full", locale=babel_locale(language))


def short_date_text(day: date) -> str:
    """"Mon 09 Nov" ("Mo., 9. Nov."), for lines that already say the year."""
    language = _language()
    if language == DEFAULT_LANGUAGE:
        return f"{_WEEKDAYS[day.weekday()][:3]} {day.day:02d} {_MONTHS[day.month - 1][:3]}"
    return format_skeleton("MMMEd", day, locale=babel_locale(language))


def _day_month_text(day: date) -> str:
    """"09 Nov" ("9. Nov."): a day without its year, for a span of UTC times."""
    language = _language()
    if language == DEFAULT_LANGUAGE:
        return f"{day.day:02d} {_MONTHS[day.month - 1][:3]}"
    return format_skeleton("dMMM", day, locale=babel_locale(language))


def date_range_text(first: date, last: date) -> str:
    """"9-10 November 2020", "30 November - 1 December 2020" (en dashes), or one date."""
    if first == last:
        return date_text(first)
    language = _language()
    if language != DEFAULT_LANGUAGE:
        locale = babel_locale(language)
        if (first.year, first.month) == (last.year, last.month):
            text = format_interval(first, last, "yMMMMd", locale=locale)
            if month_name(last.month) in text:  # Babel may fall back to short month names
                return text
        return f"{format_date(first, 'long', locale=locale)} – {format_date(last, 'long', locale=locale)}"
    if first.year != last.year:
        return f"{first.day} {month_name(first.month)} {first.year} – " \
               f"{last.day} {month_name(last.month)} {last.year}"
    if first.month != last.month:
        return f"{first.day} {month_name(first.month)} – {last.day} {month_name(last.month)} " \
               f"{last.year}"
    return f"{first.day}–{last.day} {month_name(last.month)} {last.year}"


def zone_label(zone_name: str, city: str | None = None) -> str:
    """What an event's times are, named after its city where it has one ("Zurich time",
    "Haarlem time" for Europe/Amsterdam), else after its zone ("Europe/Brussels" →
    "Brussels time"). Never a fixed name: every event is labelled with its own zone."""
    place = " ".join((city or "").split()) or zone_city(zone_name, _language())
    return _("%(place)s time") % {"place": place}


@cache
def zone_city(zone_name: str, language: str) -> str:
    """The city a zone is named after, as the language writes it ("Brüssel" in German, from
    CLDR); in English, or where CLDR has none, the tz database's own ("Brussels")."""
    place = zone_name.rsplit("/", 1)[-1].replace("_", " ")
    if language == DEFAULT_LANGUAGE:
        return place
    try:
        city = get_timezone_location(get_timezone(zone_name), locale=babel_locale(language),
                                     return_city=True)
    except (LookupError, ValueError):
        return place
    return str(city) or place


def zone_abbreviation(local: datetime) -> str:
    """The zone's abbreviation at `local` (an aware wall time) as readers of the language
    in force expect it: CET/CEST in English, MEZ/MESZ in German.

    Babel names the zone from its own data; where it has no letters to offer (it writes
    "+0100" in French) or the tz database itself has none ("+01"), the tz database's
    abbreviation is used, so a time is never labelled with an offset it does not have.
    """
    name = local.tzname() or ""
    language = _language()
    if language == DEFAULT_LANGUAGE or not _ABBREVIATION.match(name):
        return name
    shown = format_datetime(local, "z", tzinfo=local.tzinfo, locale=babel_locale(language))
    return shown if _ABBREVIATION.match(shown) else name


def clock_text(local: datetime) -> str:
    """"10:00 CET" ("10:00 MEZ"): a wall time with its zone's abbreviation."""
    return f"{local:%H:%M} {zone_abbreviation(local)}"


def clock_range(start: datetime, end: datetime, *, dash: str = "–") -> str:
    """Two wall times of one zone, each with its abbreviation where they differ.

    "10:00-11:45 CET", but "01:30 CET - 03:30 CEST" across a change of the clocks: one
    label for both would put one of them an hour off. `start` and `end` are aware wall
    times in the event's zone (`astimezone` of the UTC instants).
    """
    first, last = zone_abbreviation(start), zone_abbreviation(end)
    if first == last:
        return f"{start:%H:%M}{dash}{end:%H:%M} {first}"
    return f"{start:%H:%M} {first} {dash} {end:%H:%M} {last}"


def at_text(day: date, clock: str) -> str:
    """"Monday 26 October 2026 at 10:00 CET": a date and a clock time as one phrase."""
    return _("%(date)s at %(time)s") % {"date": date_text(day), "time": clock}


def start_text(instant: datetime, zone_name: str) -> str:
    """"Monday 26 October 2026 at 10:00 CET": for subjects."""
    local = instant.astimezone(ZoneInfo(zone_name))
    return at_text(local.date(), clock_text(local))


def _local_span(start: datetime, end: datetime) -> str:
    """Two wall times of one zone with their dates: one date if they share it."""
    if start.date() == end.date():  # each time with its label if the clocks change between
        return f"{date_text(start.date())}, {clock_range(start, end)}"
    return f"{date_text(start.date())}, {clock_text(start)} – {date_text(end.date())}, {clock_text(end)}"


def period_text(starts_at: datetime, ends_at: datetime, zone_name: str) -> str:
    """"Monday 26 October 2026, 10:00-11:45 CET (Europe/Brussels)" (en dash), or a span."""
    zone = ZoneInfo(zone_name)
    return f"{_local_span(starts_at.astimezone(zone), ends_at.astimezone(zone))} ({zone_name})"


def utc_period_text(starts_at: datetime, ends_at: datetime) -> str:
    """"2020-11-09 09:00-10:45 UTC" (en dash), or a span: ISO dates read alike everywhere."""
    start, end = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    if start.date() == end.date():
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M} UTC"
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC"


def session_when(starts_at: datetime, ends_at: datetime, zone_name: str) -> tuple[str, str]:
    """A session's time in its zone (with CET/CEST) and in UTC, for email bodies."""
    zone = ZoneInfo(zone_name)
    local = _local_span(starts_at.astimezone(zone), ends_at.astimezone(zone))
    start_utc, end_utc = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    if start_utc.date() == end_utc.date():
        utc = f"{start_utc:%H:%M}–{end_utc:%H:%M} UTC"
    else:
        utc = (f"{_day_month_text(start_utc.date())} {start_utc:%H:%M} – "
               f"{_day_month_text(end_utc.date())} {end_utc:%H:%M} UTC")
    return local, utc


def minutes_text(minutes: int) -> str:
    """"7-day", "1-day", "1-hour", "90-minute": how organisers name a reminder's offset."""
    if minutes % _DAY_MINUTES == 0:
        days = minutes // _DAY_MINUTES
        return ngettext("%(count)s-day", "%(count)s-day", days) % {"count": days}
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)s-hour", "%(count)s-hour", hours) % {"count": hours}
    return ngettext("%(count)s-minute", "%(count)s-minute", minutes) % {"count": minutes}


def duration_text(minutes: int) -> str:
    """"3 hours", "7 hours 30 minutes", "45 minutes": how long someone took part."""
    hours, rest = divmod(minutes, 60)
    parts = [ngettext("%(count)s hour", "%(count)s hours", hours) % {"count": hours}] \
        if hours else []
    if rest or not hours:
        parts.append(ngettext("%(count)s minute", "%(count)s minutes", rest) % {"count": rest})
    return " ".join(parts)


def starts_phrase(starts_at: datetime, now: datetime, zone_name: str) -> str:
    """When the session starts, said from `now`: "in 60 minutes", "tomorrow at 10:00 CET"."""
    zone = ZoneInfo(zone_name)
    start, today = starts_at.astimezone(zone), now.astimezone(zone).date()
    clock = clock_text(start)
    minutes = round((starts_at - now).total_seconds() / 60)
    if minutes < 120:
        count = max(minutes, 1)
        return ngettext("in %(count)s minute, at %(time)s", "in %(count)s minutes, at %(time)s",
                        count) % {"count": count, "time": clock}
    if start.date() == today:
        return _("today at %(time)s") % {"time": clock}
    if start.date() == today + timedelta(days=1):
        return _("tomorrow at %(time)s") % {"time": clock}
    return _("on %(date)s at %(time)s") % {"date": date_text(start.date()), "time": clock}


# --- places ---------------------------------------------------------------------------------


class HasVenue(Protocol):
    @property
    def venue_name(self) -> str | None: ...
    @property
    def venue_address(self) -> str | None: ...
    @property
    def venue_city(self) -> str | None: ...
    @property
    def venue_country(self) -> str | None: ...


def venue_line(event: HasVenue) -> str | None:
    """"Stadhuis, Grote Markt 2, Haarlem, NL", or None when no venue is given."""
    parts = [event.venue_name, event.venue_address, event.venue_city, event.venue_country]
    text = ", ".join(part for part in parts if part)
    return text or None


def place_text(mode: SessionMode | str, venue: str | None) -> str:
    """Where a session happens, as people read it (never the join link)."""
    mode = SessionMode(mode)
    if mode == SessionMode.ONLINE:
        return _("Online")
    if mode == SessionMode.HYBRID:
        return _("%(venue)s and online") % {"venue": venue} if venue else _("In person and online")
    return venue or _(VENUE_TO_BE_CONFIRMED)


def venue_text(mode: SessionMode | str, venue: str | None) -> str | None:
    """The in-person part of a session's place, or None for an online session."""
    if SessionMode(mode) == SessionMode.ONLINE:
        return None
    return venue or _(VENUE_TO_BE_CONFIRMED)


def paragraphs(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\r\n", "\n").split("\n\n") if part.strip()]


def join_url_for(mode: SessionMode | str, join_url: str | None) -> str | None:
    """The join link, for a session that can be joined online."""
    return join_url if SessionMode(mode) != SessionMode.IN_PERSON else None


# --- Interest Groups ---------------------------------------------------------------------------

STANDING_LABELS: Labels[NetworkStanding] = Labels({
    NetworkStanding.PARTICIPANT: N_("Participant"),
    NetworkStanding.STRATEGIC_PARTNER: N_("Strategic Partner"),
    NetworkStanding.INFORMATION_SERVICE: N_("Information service"),
    NetworkStanding.NONE: N_("Not in the network"),
})
GROUP_VISIBILITY_LABELS: Labels[GroupVisibility] = Labels({
    GroupVisibility.PUBLIC: N_("Public: page, member organisations and meeting dates for everyone"),
    GroupVisibility.MEMBERS: N_("Members only: topic and summary public, the rest for members"),
})
GROUP_MEMBER_STATUS_LABELS: Labels[GroupMemberStatus] = Labels({
    GroupMemberStatus.INTERESTED: N_("Interested (waiting for a decision)"),
    GroupMemberStatus.MEMBER: N_("Member"),
    GroupMemberStatus.DECLINED: N_("Declined"),
    GroupMemberStatus.LEFT: N_("Left the group"),
})
# Why an organisation may not join, as its people read it.
GROUP_ELIGIBILITY_RULE = N_("Interest Groups are open to Participants and Strategic Partners "
                            "of the Procura+ Network only.")


def group_eligibility_rule() -> str:
    """Why an organisation may not join, in the language in force."""
    return _(GROUP_ELIGIBILITY_RULE)

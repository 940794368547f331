"""Every label, date, time and place phrase that people read, written once.

Pages, emails, invites and feeds all take their wording from here, so the same fact never
reads two ways. Formatting never depends on the machine's locale (no `%A`/`%B`): this is
where translations plug in.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

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
)

KIND_LABELS: dict[EventKind, str] = {
    EventKind.SEMINAR: "Seminar",
    EventKind.WEBINAR_SERIES: "Webinar series",
    EventKind.CITYMATCH: "CityMatch study visit",
    EventKind.MEET_YOUR_BUYER: "Meet-your-Buyer dialogue",
}
KIND_PLURALS: dict[EventKind, str] = {
    EventKind.SEMINAR: "Seminars",
    EventKind.WEBINAR_SERIES: "Webinar series",
    EventKind.CITYMATCH: "CityMatch study visits",
    EventKind.MEET_YOUR_BUYER: "Meet-your-Buyer dialogues",
}
# The name of a calendar feed of one kind of event.
KIND_FEED_NAMES: dict[EventKind, str] = {
    EventKind.SEMINAR: "seminars",
    EventKind.WEBINAR_SERIES: "webinars",
    EventKind.CITYMATCH: "CityMatch study visits",
    EventKind.MEET_YOUR_BUYER: "Meet-your-Buyer dialogues",
}
ORGANISATION_KIND_LABELS: dict[OrganisationKind, str] = {
    OrganisationKind.PUBLIC_AUTHORITY: "Public authority",
    OrganisationKind.SUPPLIER: "Supplier or company",
    OrganisationKind.EXPERT_ORGANISATION: "Expert organisation or research",
    OrganisationKind.NETWORK: "Network or association",
    OrganisationKind.OTHER: "Other",
}
AGENDA_KIND_LABELS: dict[AgendaItemKind, str] = {
    AgendaItemKind.WELCOME: "Welcome",
    AgendaItemKind.TALK: "Talk",
    AgendaItemKind.PANEL: "Panel",
    AgendaItemKind.BREAK: "Break",
    AgendaItemKind.QA: "Q&A",
    AgendaItemKind.DISCUSSION: "Discussion",
    AgendaItemKind.SITE_VISIT: "Site visit",
    AgendaItemKind.NETWORKING: "Networking",
    AgendaItemKind.CLOSING: "Closing",
    AgendaItemKind.OTHER: "",
}
MODE_LABELS: dict[SessionMode, str] = {
    SessionMode.ONLINE: "Online",
    SessionMode.IN_PERSON: "In person",
    SessionMode.HYBRID: "In person and online",
}
STATUS_LABELS: dict[RegistrationStatus, str] = {
    RegistrationStatus.PENDING: "Awaiting the organisers' approval",
    RegistrationStatus.CONFIRMED: "Confirmed",
    RegistrationStatus.WAITING: "On the waiting list",
    RegistrationStatus.DECLINED: "Not accepted",
    RegistrationStatus.CANCELLED: "Cancelled",
    RegistrationStatus.UNCONFIRMED: "Address not confirmed yet",
}
ENROLMENT_LABELS: dict[EnrolmentStatus, str] = {
    EnrolmentStatus.CONFIRMED: "Confirmed",
    EnrolmentStatus.WAITING: "Waiting list",
    EnrolmentStatus.CANCELLED: "Cancelled",
}
ATTENDANCE_LABELS: dict[Attendance, str] = {
    Attendance.IN_PERSON: "In person",
    Attendance.ONLINE: "Online",
}
# How a person takes part in a Meet-your-Buyer dialogue (stored as their organisation's kind).
DIALOGUE_ROLE_LABELS: dict[OrganisationKind, str] = {
    OrganisationKind.SUPPLIER: "I am a supplier",
    OrganisationKind.PUBLIC_AUTHORITY: "I am a public buyer",
}
VENUE_TO_BE_CONFIRMED = "In person (the organisers will confirm the venue)"

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DAY_MINUTES = 24 * 60


def kind_label(kind: EventKind | str) -> str:
    return KIND_LABELS.get(EventKind(kind), str(kind))


def mode_label(mode: SessionMode | str) -> str:
    return MODE_LABELS.get(SessionMode(mode), str(mode))


# --- dates and times ------------------------------------------------------------------------


def month_name(month: int) -> str:
    return _MONTHS[month - 1]


def date_text(day: date) -> str:
    """"Monday 9 November 2020": unambiguous in every European country."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def short_date_text(day: date) -> str:
    """"Mon 09 Nov", for lines that already say the year."""
    return f"{_WEEKDAYS[day.weekday()][:3]} {day.day:02d} {_MONTHS[day.month - 1][:3]}"


def date_range_text(first: date, last: date) -> str:
    """"9-10 November 2020", "30 November - 1 December 2020" (en dashes), or one date."""
    if first == last:
        return date_text(first)
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
    place = " ".join((city or "").split())
    if place:
        return f"{place} time"
    return zone_name.rsplit("/", 1)[-1].replace("_", " ") + " time"


def clock_range(start: datetime, end: datetime, *, dash: str = "–") -> str:
    """Two wall times of one zone, each with its abbreviation where they differ.

    "10:00-11:45 CET", but "01:30 CET - 03:30 CEST" across a change of the clocks: one
    label for both would put one of them an hour off. `start` and `end` are aware wall
    times in the event's zone (`astimezone` of the UTC instants).
    """
    first, last = start.tzname() or "", end.tzname() or ""
    if first == last:
        return f"{start:%H:%M}{dash}{end:%H:%M} {first}"
    return f"{start:%H:%M} {first} {dash} {end:%H:%M} {last}"


def start_text(instant: datetime, zone_name: str) -> str:
    """"Monday 26 October 2026 at 10:00 CET": plain ASCII, for subjects."""
    local = instant.astimezone(ZoneInfo(zone_name))
    return f"{date_text(local.date())} at {local:%H:%M} {local.tzname()}"


def period_text(starts_at: datetime, ends_at: datetime, zone_name: str) -> str:
    """"Monday 26 October 2026, 10:00-11:45 CET (Europe/Brussels)" (en dash), or a span."""
    zone = ZoneInfo(zone_name)
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    if start.date() == end.date():  # each time with its label if the clocks change between
        return f"{date_text(start.date())}, {clock_range(start, end)} ({zone_name})"
    return (f"{date_text(start.date())}, {start:%H:%M} {start.tzname()} – "
            f"{date_text(end.date())}, {end:%H:%M} {end.tzname()} ({zone_name})")


def utc_period_text(starts_at: datetime, ends_at: datetime) -> str:
    """"2020-11-09 09:00-10:45 UTC" (en dash), or a span."""
    start, end = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    if start.date() == end.date():
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M} UTC"
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC"


def session_when(starts_at: datetime, ends_at: datetime, zone_name: str) -> tuple[str, str]:
    """A session's time in its zone (with CET/CEST) and in UTC, for email bodies."""
    zone = ZoneInfo(zone_name)
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    if start.date() == end.date():
        local = f"{date_text(start.date())}, {clock_range(start, end)}"
    else:
        local = (f"{date_text(start.date())}, {start:%H:%M} {start.tzname()} – "
                 f"{date_text(end.date())}, {end:%H:%M} {end.tzname()}")
    start_utc, end_utc = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    if start_utc.date() == end_utc.date():
        utc = f"{start_utc:%H:%M}–{end_utc:%H:%M} UTC"
    else:
        utc = (f"{start_utc.day:02d} {month_name(start_utc.month)[:3]} {start_utc:%H:%M} – "
               f"{end_utc.day:02d} {month_name(end_utc.month)[:3]} {end_utc:%H:%M} UTC")
    return local, utc


def minutes_text(minutes: int) -> str:
    """"7-day", "1-day", "1-hour", "90-minute": how organisers name an offset."""
    if minutes % _DAY_MINUTES == 0:
        return f"{minutes // _DAY_MINUTES}-day"
    if minutes % 60 == 0:
        return f"{minutes // 60}-hour"
    return f"{minutes}-minute"


def starts_phrase(starts_at: datetime, now: datetime, zone_name: str) -> str:
    """When the session starts, said from `now`: "in 60 minutes", "tomorrow at 10:00 CET"."""
    zone = ZoneInfo(zone_name)
    start, today = starts_at.astimezone(zone), now.astimezone(zone).date()
    clock = f"{start:%H:%M} {start.tzname()}"
    minutes = round((starts_at - now).total_seconds() / 60)
    if minutes < 120:
        return f"in {max(minutes, 1)} minute{'s' if minutes != 1 else ''}, at {clock}"
    if start.date() == today:
        return f"today at {clock}"
    if start.date() == today + timedelta(days=1):
        return f"tomorrow at {clock}"
    return f"on {date_text(start.date())} at {clock}"


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
        return "Online"
    if mode == SessionMode.HYBRID:
        return f"{venue} and online" if venue else "In person and online"
    return venue or VENUE_TO_BE_CONFIRMED


def venue_text(mode: SessionMode | str, venue: str | None) -> str | None:
    """The in-person part of a session's place, or None for an online session."""
    if SessionMode(mode) == SessionMode.ONLINE:
        return None
    return venue or VENUE_TO_BE_CONFIRMED


def paragraphs(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\r\n", "\n").split("\n\n") if part.strip()]


def join_url_for(mode: SessionMode | str, join_url: str | None) -> str | None:
    """The join link, for a session that can be joined online."""
    return join_url if SessionMode(mode) != SessionMode.IN_PERSON else None


# --- Interest Groups ---------------------------------------------------------------------------

STANDING_LABELS: dict[NetworkStanding, str] = {
    NetworkStanding.PARTICIPANT: "Participant",
    NetworkStanding.STRATEGIC_PARTNER: "Strategic Partner",
    NetworkStanding.INFORMATION_SERVICE: "Information service",
    NetworkStanding.NONE: "Not in the network",
}
GROUP_VISIBILITY_LABELS: dict[GroupVisibility, str] = {
    GroupVisibility.PUBLIC: "Public: page, member organisations and meeting dates for everyone",
    GroupVisibility.MEMBERS: "Members only: topic and summary public, the rest for members",
}
GROUP_MEMBER_STATUS_LABELS: dict[GroupMemberStatus, str] = {
    GroupMemberStatus.INTERESTED: "Interested (waiting for a decision)",
    GroupMemberStatus.MEMBER: "Member",
    GroupMemberStatus.DECLINED: "Declined",
    GroupMemberStatus.LEFT: "Left the group",
}
# Why an organisation may not join, as its people read it.
GROUP_ELIGIBILITY_RULE = ("Interest Groups are open to Participants and Strategic Partners of "
                          "the Procura+ Network only.")

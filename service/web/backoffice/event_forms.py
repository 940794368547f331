"""The event and session forms of the back office: what was typed, as the programme's input.

A form is read field by field into the programme's own input shapes
(`programme.EventCreate`/`EventUpdate`, `SessionCreate`/`SessionUpdate`), and each field is
checked against that shape's limits on its own, so that every error is found at once and
shown beside its field; wall times are read in the event's zone by the same function the
programme uses (`times.parse_instant`: gaps and folds refused, naming the field). What is
left (a slug taken, a window in the wrong order, an agenda outside a moved session) is the
programme's to refuse when the handler calls it. An edit sends only what changed, so saving
an untouched form tells nobody anything. Pure: no database, no HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from service.db.models import Event, EventKind, Session, SessionMode
from service.domain import programme
from service.domain.errors import DomainError, FieldError
from service.domain.reminders.policy import DAY_MINUTES, DEFAULT_OFFSETS_MINUTES
from service.domain.times import parse_instant, zone_for
from service.domain.wording import kind_label, mode_label, period_text
from service.i18n import N_, ngettext
from service.i18n import gettext as _
from service.zones import DEFAULT_ZONE

EVENT_FIELDS = (
    "kind", "title", "slug", "summary", "description", "timezone", "registration_opens_at",
    "registration_closes_at", "capacity", "is_approval_required", "allows_session_choice",
    "is_address_confirmation_required", "reminder_offsets_minutes", "venue_name",
    "venue_address", "venue_city", "venue_country", "contact_email", "host_organisation_id",
    "registrant_note",
)
SESSION_FIELDS = ("title", "starts_at", "ends_at", "mode", "join_url", "capacity",
                  "description")
CHECKBOXES = frozenset({"is_approval_required", "allows_session_choice",
                        "is_address_confirmation_required"})
# Optional fields: left empty, they are None (no limit, no venue, the kind's reminders...).
_OPTIONAL = frozenset({
    "slug", "registration_opens_at", "registration_closes_at", "capacity", "venue_name",
    "venue_address", "venue_city", "venue_country", "contact_email", "host_organisation_id",
    "reminder_offsets_minutes", "join_url",
})
_INTEGERS = frozenset({"capacity", "host_organisation_id"})
# Written in several lines (kept as typed, but for the blank lines around them).
_TEXTS = ("summary", "description", "registrant_note")
# What a refused pattern means, in the words of each field (translated where shown).
_PATTERN_HINTS = {
    "slug": N_("Use lower-case letters, digits and single hyphens, e.g. make-ict-fair-2020."),
    "contact_email": N_("Give an email address such as events@city.example.org."),
    "join_url": N_("Give an http or https address."),
    "venue_country": N_("Use a two-letter country code, e.g. BE."),
    "timezone": N_("Choose a time zone from the list."),
    "starts_at": N_("Give a date and a time."),
    "ends_at": N_("Give a date and a time."),
    "registration_opens_at": N_("Give a date and a time."),
    "registration_closes_at": N_("Give a date and a time."),
}
_OFFSET = re.compile(r"^(\d{1,5})\s*(d|days?|h|hours?|m|min|minutes?)?$")
_UNIT_MINUTES = {"d": DAY_MINUTES, "h": 60, "m": 1}
WALL_TIME_FORMAT = "%Y-%m-%dT%H:%M"


@dataclass
class ReadForm:
    """A form as read: what was typed (shown again), the typed input, errors per field."""

    values: dict[str, str]
    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        """The first problem found with a field is the one shown beside it."""
        self.errors.setdefault(name, message)

    def add_domain_error(self, error: DomainError, known: Sequence[str]) -> None:
        for problem in error.errors:
            self.add(field_of(problem, known), problem.message)


FORM_LEVEL = "form"


def field_of(problem: FieldError, known: Sequence[str]) -> str:
    """The form field a domain error names (`reminder_offsets_minutes[1]` is the list's)."""
    name = re.sub(r"\[\d+\]$", "", problem.field or "")
    return name if name in known else FORM_LEVEL


def _friendly(message: str, name: str) -> str:
    """A msgspec refusal in an organiser's words."""
    text = message.split(" - at `", 1)[0]
    if name == "venue_country":
        return _(_PATTERN_HINTS[name])
    if "array" in text and (found := re.search(r"length <= (\d+)", text)):
        return _("Give at most %(count)s reminders.") % {"count": found[1]}
    if found := re.search(r"length <= (\d+)", text):
        return _("Use at most %(count)s characters.") % {"count": found[1]}
    if "length >=" in text:
        return _("Fill this in.")
    if "matching regex" in text:
        return _(_PATTERN_HINTS.get(name, N_("Remove line breaks and control characters.")))
    if found := re.search(r"`int` >= (\d+)", text):
        return _("Give at least %(count)s.") % {"count": found[1]}
    if found := re.search(r"`int` <= (\d+)", text):
        return _("Give at most %(count)s.") % {"count": found[1]}
    if "Invalid enum value" in text:
        return _("Choose one from the list.")
    return text


def _check_against(shape: type[msgspec.Struct], name: str, value: Any, form: ReadForm) -> None:
    """One field against the input shape's limits, alone (so every field is checked)."""
    try:
        msgspec.convert({name: value}, shape)
    except msgspec.ValidationError as error:
        form.add(name, _friendly(str(error), name))


# --- reminders as organisers write them ("7d, 1d" or "1440, 60") ----------------------------


def offsets_text(offsets: Sequence[int] | None) -> str:
    """Minutes before a session as the form shows them: whole days and hours shortened."""
    if offsets is None:
        return ""
    parts = []
    for minutes in offsets:
        if minutes % DAY_MINUTES == 0:
            parts.append(f"{minutes // DAY_MINUTES}d")
        elif minutes % 60 == 0:
            parts.append(f"{minutes // 60}h")
        else:
            parts.append(f"{minutes}m")
    return ", ".join(parts)


def _read_offsets(text: str) -> list[int] | None:
    """"7d, 1d, 90m" (or plain minutes) as minutes, largest first; None if unreadable."""
    minutes: list[int] = []
    for part in (p.strip().lower() for p in re.split(r"[,;]", text)):
        if not part:
            continue
        found = _OFFSET.match(part)
        if found is None:
            return None
        unit = (found[2] or "m")[0]
        minutes.append(int(found[1]) * _UNIT_MINUTES[unit])
    return sorted(set(minutes), reverse=True)


def _duration_words(minutes: int) -> str:
    if minutes % DAY_MINUTES == 0:
        count = minutes // DAY_MINUTES
        return ngettext("%(count)s day", "%(count)s days", count) % {"count": count}
    if minutes % 60 == 0:
        count = minutes // 60
        return ngettext("%(count)s hour", "%(count)s hours", count) % {"count": count}
    return ngettext("%(count)s minute", "%(count)s minutes", minutes) % {"count": minutes}


def _and(first: str, second: str) -> str:
    return _("%(first)s and %(second)s") % {"first": first, "second": second}


def _joined(words: Sequence[str]) -> str:
    """"7 days and 1 day" (nothing for no words)."""
    return reduce(_and, words) if words else ""


def default_reminders_text() -> dict[str, str]:
    """Each kind's default reminders in words, for the form's hint."""
    return {
        kind_label(kind): _joined([_duration_words(m) for m in offsets])
        for kind, offsets in DEFAULT_OFFSETS_MINUTES.items()
    }


# --- the event form ----------------------------------------------------------------------------


def _wall_time(instant: datetime | None, zone_name: str) -> str:
    return "" if instant is None else instant.astimezone(ZoneInfo(zone_name)).strftime(
        WALL_TIME_FORMAT)


def event_values(event: Event | None) -> dict[str, str]:
    """What the event form shows: the event as it stands, or a new event's defaults."""
    if event is None:
        return {"kind": str(EventKind.WEBINAR_SERIES), "timezone": DEFAULT_ZONE}
    return {
        "kind": str(event.kind), "title": event.title, "slug": event.slug,
        "summary": event.summary, "description": event.description,
        "timezone": event.timezone,
        "registration_opens_at": _wall_time(event.registration_opens_at, event.timezone),
        "registration_closes_at": _wall_time(event.registration_closes_at, event.timezone),
        "capacity": "" if event.capacity is None else str(event.capacity),
        **{name: "on" for name in CHECKBOXES if getattr(event, name)},
        "reminder_offsets_minutes": offsets_text(event.reminder_offsets_minutes),
        "venue_name": event.venue_name or "", "venue_address": event.venue_address or "",
        "venue_city": event.venue_city or "", "venue_country": event.venue_country or "",
        "contact_email": event.contact_email or "",
        "registrant_note": event.registrant_note,
        "host_organisation_id": ("" if event.host_organisation_id is None
                                 else str(event.host_organisation_id)),
    }


def _typed(name: str, text: str, form: ReadForm) -> Any:
    """A field's typed value (None for an optional field left empty)."""
    if name in CHECKBOXES:
        return bool(text)
    if not text:
        return "" if name in _TEXTS else None
    if name in _INTEGERS:
        if not re.fullmatch(r"\d{1,9}", text):
            form.add(name, _("Give a whole number.") if name == "capacity" else
                     _("Choose one from the list."))
            return None
        return int(text)
    if name == "reminder_offsets_minutes":
        offsets = _read_offsets(text)
        if offsets is None:
            form.add(name, _("Write each reminder as days, hours or minutes before the "
                             "session, separated by commas: 7d, 1d or 1h, 30m."))
        return offsets
    if name == "venue_country":
        return text.upper()
    return text


def read_event_form(raw: Mapping[str, str], *, creating: bool) -> ReadForm:
    """The event form as `EventCreate` fields (all of them: see `event_changes`)."""
    values = {name: raw.get(name, "").strip() for name in EVENT_FIELDS
              if name not in CHECKBOXES}
    values.update({name: "on" for name in CHECKBOXES if raw.get(name)})
    values.update({name: raw.get(name, "").strip("\r\n ") for name in _TEXTS})
    form = ReadForm(values=values)
    for name in EVENT_FIELDS:
        value = _typed(name, values.get(name, ""), form)
        if name in form.errors:
            continue
        if value is None and name not in _OPTIONAL:
            form.add(name, {"kind": _("Choose the kind of event."),
                            "title": _("Give the event a title."),
                            "timezone": _("Choose a time zone.")}.get(name, _("Fill this in.")))
            continue
        if name == "slug" and value is None and not creating:
            form.add(name, _("Give the event's web address (lower-case words and hyphens)."))
            continue
        if value is not None:
            _check_against(programme.EventUpdate, name, value, form)
        form.data[name] = value
    zone_name = form.data.get("timezone")
    if "timezone" not in form.errors and zone_name:
        try:
            zone_for(zone_name)
        except DomainError as error:
            form.add_domain_error(error, EVENT_FIELDS)
    if "timezone" not in form.errors and zone_name:
        for name in ("registration_opens_at", "registration_closes_at"):
            text = form.data.get(name)
            if text and name not in form.errors:
                try:
                    parse_instant(text, zone_name, name)
                except DomainError as error:
                    form.add_domain_error(error, EVENT_FIELDS)
    return form


def event_create(form: ReadForm) -> programme.EventCreate:
    return msgspec.convert(form.data, programme.EventCreate)


def event_changes(form: ReadForm, event: Event) -> programme.EventUpdate:
    """Only what differs from the event as it stands; with a new zone, the registration
    window is read again in it (the form shows wall times in the event's zone)."""
    current = read_event_form(event_values(event), creating=False).data
    changed = {k: v for k, v in form.data.items() if current.get(k) != v}
    if "timezone" in changed:
        for name in ("registration_opens_at", "registration_closes_at"):
            changed[name] = form.data.get(name)
    return msgspec.convert(changed, programme.EventUpdate)


def kind_choices() -> list[tuple[str, str]]:
    return [(str(kind), kind_label(kind)) for kind in EventKind]


# --- the session form --------------------------------------------------------------------------


def session_values(session: Session | None, zone_name: str) -> dict[str, str]:
    if session is None:
        return {"mode": str(SessionMode.ONLINE)}
    return {
        "title": session.title, "description": session.description,
        "starts_at": _wall_time(session.starts_at, zone_name),
        "ends_at": _wall_time(session.ends_at, zone_name),
        "mode": str(session.mode), "join_url": session.join_url or "",
        "capacity": "" if session.capacity is None else str(session.capacity),
    }


def read_session_form(raw: Mapping[str, str], zone_name: str) -> ReadForm:
    """The session form as `SessionCreate` fields; both wall times are read in the event's
    zone on their own, so a start in a clock change and an end before it show together."""
    values = {name: raw.get(name, "").strip() for name in SESSION_FIELDS}
    values["description"] = raw.get("description", "").strip("\r\n ")
    form = ReadForm(values=values)
    for name in SESSION_FIELDS:
        value = _typed(name, values[name], form)
        if name in form.errors:
            continue
        if value is None and name not in _OPTIONAL:
            form.add(name, {"title": _("Give the session a title."),
                            "starts_at": _("Give the date and time the session starts."),
                            "ends_at": _("Give the date and time the session ends."),
                            "mode": _("Choose online, in person or hybrid.")}.get(
                                name, _("Fill this in.")))
            continue
        if value is not None:
            _check_against(programme.SessionUpdate, name, value, form)
        form.data[name] = value
    instants: dict[str, datetime] = {}
    for name in ("starts_at", "ends_at"):
        if name in form.data and name not in form.errors:
            try:
                instants[name] = parse_instant(form.data[name], zone_name, name)
            except DomainError as error:
                form.add_domain_error(error, SESSION_FIELDS)
    if len(instants) == 2 and instants["ends_at"] <= instants["starts_at"]:
        form.add("ends_at", _("A session must end after it starts."))
    return form


def session_create(form: ReadForm) -> programme.SessionCreate:
    return msgspec.convert(form.data, programme.SessionCreate)


def session_changes(form: ReadForm, session: Session, zone_name: str) -> programme.SessionUpdate:
    """Only what differs from the session as it stands."""
    current = read_session_form(session_values(session, zone_name), zone_name).data
    changed = {k: v for k, v in form.data.items() if current.get(k) != v}
    return msgspec.convert(changed, programme.SessionUpdate)


def move_line(form: ReadForm, session: Session, zone_name: str) -> str | None:
    """"From ... to ..." in the event's zone, for a session whose time the form changes."""
    starts_at = parse_instant(form.data["starts_at"], zone_name, "starts_at")
    ends_at = parse_instant(form.data["ends_at"], zone_name, "ends_at")
    if (starts_at, ends_at) == (session.starts_at, session.ends_at):
        return None
    return _("From %(before)s to %(after)s.") % {
        "before": period_text(session.starts_at, session.ends_at, zone_name),
        "after": period_text(starts_at, ends_at, zone_name)}


def tells_people(changes: programme.SessionUpdate) -> bool:
    """Whether the edit changes what registrants and speakers were told (time or place):
    such an edit is shown as "who will be told what" first."""
    return any(getattr(changes, name) is not msgspec.UNSET
               for name in ("starts_at", "ends_at", "mode", "join_url"))


def mode_choices() -> list[tuple[str, str]]:
    return [(str(mode), mode_label(mode)) for mode in SessionMode]
